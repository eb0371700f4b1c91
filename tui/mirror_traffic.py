"""What mirror sessions forward to their destination ports, for labs whose traffic moves (the demo).

The same model as the vcsim test server's (tests/vcsim/README.md, "Port traffic"): an enabled
session of a type that mirrors to distributed ports on the source's host (``dvPortMirror``, and
legacy ``mixedDestMirror`` to port destinations: vspan.md §2.1, §8 "to distributed ports on the
same host", V28) adds to each destination port's *out* counters, when the destination is connected
with link up, the traffic of each source port on the same host that carries traffic: the *in*
counters of ``sourcePortReceived`` ports, the *out* counters of ``sourcePortTransmitted`` ones.
One packet in ``samplingRate`` is mirrored, and a mirrored frame counts at most
``mirroredPacketLength`` bytes (applied to the mean frame size of each kind). Pure Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tui.inventory import Inventory
from tui.session_types import SessionType

LOCAL_TYPES = frozenset({SessionType.DV_PORT_MIRROR.value, SessionType.MIXED_DEST_MIRROR.value})
"""Session types that deliver to destination ports on the source's host."""

_KINDS = ("unicast", "multicast", "broadcast")


def _cut(packets: float, size_bytes: float, length: int | None) -> float:
    """Bytes of ``packets`` frames of ``size_bytes`` in total, each cut to ``length`` when set."""
    if length is None or length <= 0 or packets <= 0:
        return size_bytes
    return min(size_bytes, packets * length)


def mirrored_rates(
    inv: Inventory, switch: str, port: str, rates_of: Callable[[str], Mapping[str, float] | None]
) -> dict[str, float]:
    """Per-second growth that the sessions of ``inv`` add to ``port``'s counters (attribute names).

    ``rates_of(key)`` gives a port's own per-second rates (``None`` or empty: it carries nothing).
    """
    sw = inv.switches.get(switch)
    dest = inv.port(switch, port)
    out: dict[str, float] = {}
    if sw is None or dest is None or dest.connectee is None or not dest.link_up or not dest.host:
        return out
    for session in sw.sessions:
        if not session.enabled or session.session_type not in LOCAL_TYPES or port not in session.destination.port_keys:
            continue
        every = session.sampling_rate if session.sampling_rate and session.sampling_rate > 1 else 1
        for keys, side in ((session.source_rx.port_keys, "in"), (session.source_tx.port_keys, "out")):
            for key in keys:
                src = inv.port(switch, key)
                if key == port or src is None or src.connectee is None or not src.link_up or src.host != dest.host:
                    continue
                rates = rates_of(key)
                if not rates:
                    continue
                for kind in _KINDS:
                    packets = rates.get(f"packets_{side}_{kind}", 0.0) / every
                    size = rates.get(f"bytes_{side}_{kind}", 0.0) / every
                    for name, value in (
                        (f"packets_out_{kind}", packets),
                        (f"bytes_out_{kind}", _cut(packets, size, session.mirrored_packet_length)),
                    ):
                        if value:
                            out[name] = out.get(name, 0.0) + value
    return out
