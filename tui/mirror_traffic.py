"""What mirror sessions forward to the ports they deliver to, for labs whose traffic moves (the demo).

The same model as the vcsim test server's (``tests/vcsim/mirror.go``, README there, "Port
traffic"); the two must agree, and tests run one lab on both. Per session type (vspan.md):

- ``dvPortMirror`` (§2.1, V28): to destination ports on the source's host; VLANs play no part
  (vCenter ignores the encapsulation VLAN of this type, §2.2).
- ``mixedDestMirror``, legacy (§2.1, §8.1): to destination ports on the source's host, and out of
  the uplink ports of the source's host named in ``uplinkPortName``. "A frame whose VLAN is not
  equal to, or trunked by, the destination port is not mirrored" (§8.1 step 3): with an
  encapsulation VLAN the destination's portgroup must carry it (rule ``EncapVlanNotCarried``),
  without one it must carry the source's access VLAN (``SourceVlanNotCarried``); out of an uplink
  with an encapsulation VLAN the uplink portgroup must trunk it (``EncapVlanNotOnUplinks``).
- ``remoteMirrorSource``, RSPAN (§2.1; §5.7 "the uplink is picked by name"): out of the uplink port
  of each source's host with a name in ``uplinkPortName``, tagged with the (required)
  encapsulation VLAN, when the switch's uplink portgroup trunks it (``EncapVlanNotOnUplinks``).
- ``remoteMirrorDest`` (§1.2 "VLAN IDs for ingress source"): the physical network is *assumed* to
  carry every VLAN between all uplinks of the lab (a real one may not). The session delivers to
  its destination ports what RSPAN sources, and legacy sessions to uplinks with an encapsulation
  VLAN, anywhere in the lab sent out on a VLAN of ``source_rx.vlans``, when its own switch's uplink
  portgroup trunks that VLAN (``SourceVlanNotOnUplinks``).
- ``encapsulatedRemoteMirrorSource`` (ERSPAN/GRE to an IP address) is not modelled: no source says
  which uplink carries the encapsulated frames, or how the counters show them.

A delivery needs a source that carries traffic and a destination that carries (connected, link
up). Sources' received traffic is their *in* counters, transmitted their *out* ones; it lands in
the destination's *out* counters (and ``bytesOutToPnic`` when the destination is an uplink). One
packet in ``samplingRate`` is mirrored and each frame is cut to ``mirroredPacketLength`` (applied
to the mean frame size of each kind); a ``remoteMirrorDest`` session's own sampling and length
apply again to what it receives. No 802.1Q tag bytes are added: vspan.md says mirrored frames are
tagged (§1.1, §8.1), but nothing says whether a port's byte counters count the tag. Pure Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tui.inventory import Inventory
from tui.inventory_objects import Port
from tui.mirror_session import MirrorSession
from tui.session_types import SessionType

VLAN_MAX = 4094

MIRRORING_TYPES = frozenset(
    {
        SessionType.DV_PORT_MIRROR.value,
        SessionType.MIXED_DEST_MIRROR.value,
        SessionType.REMOTE_MIRROR_SOURCE.value,
        SessionType.REMOTE_MIRROR_DEST.value,
    }
)
"""Session types whose delivery is modelled (ERSPAN is not)."""
_KINDS = ("unicast", "multicast", "broadcast")

RatesOf = Callable[[str, str], Mapping[str, float] | None]
"""``rates_of(switch, port)``: a port's own per-second rates by counter attribute (``None`` or
empty: it carries nothing)."""


@dataclass(frozen=True, slots=True)
class _Flow:
    """Mirrored traffic per second: packets and bytes per kind (unicast, multicast, broadcast)."""

    packets: tuple[float, float, float]
    bytes: tuple[float, float, float]

    def sampled(self, session: MirrorSession) -> _Flow:
        """One packet in the session's sampling rate, each frame cut to its mirrored length."""
        every = session.sampling_rate if session.sampling_rate and session.sampling_rate > 1 else 1
        length = session.mirrored_packet_length
        packets = tuple(p / every for p in self.packets)
        sizes = tuple(b / every for b in self.bytes)
        if length is not None and length > 0:
            sizes = tuple(min(b, p * length) for p, b in zip(packets, sizes, strict=True))
        return _Flow(packets, sizes)  # type: ignore[arg-type]

    def counters(self, uplink: bool) -> dict[str, float]:
        out: dict[str, float] = {}
        for kind, p, b in zip(_KINDS, self.packets, self.bytes, strict=True):
            out[f"packets_out_{kind}"] = p
            out[f"bytes_out_{kind}"] = b
        if uplink:
            out["bytes_out_to_pnic"] = sum(self.bytes)
        return out


def _carries(port: Port | None) -> bool:
    return port is not None and port.connectee is not None and port.link_up


class _Lab:
    """The lab's ports and VLANs as the model needs them."""

    def __init__(self, inv: Inventory, rates_of: RatesOf) -> None:
        self.inv = inv
        self.rates_of = rates_of
        self.out: dict[tuple[str, str], dict[str, float]] = {}
        self.on_vlan: dict[int, list[_Flow]] = {}
        self._uplinks: dict[str, dict[tuple[str, str], str]] = {}

    def is_uplink(self, port: Port) -> bool:
        """``isUplinkPort`` of the server: in an uplink portgroup, or connected to a physical NIC."""
        pg = self.inv.portgroups.get(port.portgroup) if port.portgroup else None
        return port.is_uplink or (pg is not None and pg.uplink)

    def trunked(self, switch: str, vlan: int) -> bool:
        """The condition of the rules EncapVlanNotOnUplinks / SourceVlanNotOnUplinks, kept the same."""
        uplink_pgs = [pg for pg in self.inv.portgroups_by_switch.get(switch, ()) if pg.uplink]
        return not uplink_pgs or any(pg.vlan.carries(vlan) for pg in uplink_pgs)

    def uplink_on(self, switch: str, host: str, name: str) -> str | None:
        table = self._uplinks.get(switch)
        if table is None:
            table = {}
            for p in self.inv.ports_by_switch.get(switch, ()):
                if p.host and self.is_uplink(p):
                    table.setdefault((p.host, p.name), p.key)
            self._uplinks[switch] = table
        return table.get((host, name)) if host else None

    def legacy_passes(self, src: Port, dst: Port, encap: int) -> bool:
        """§8.1's VLAN condition for a legacy frame to a non-uplink port; an unknown VLAN passes."""
        dpg = self.inv.portgroups.get(dst.portgroup) if dst.portgroup else None
        if dpg is None:
            return True
        if encap:
            return dpg.vlan.carries(encap)
        spg = self.inv.portgroups.get(src.portgroup) if src.portgroup else None
        if spg is None or spg.vlan.is_trunk or spg.vlan.pvlan is not None or spg.vlan.vlan_id is None:
            return True
        return dpg.vlan.carries(spg.vlan.vlan_id)

    def flow_of(self, switch: str, key: str, rx: bool) -> _Flow | None:
        rates = self.rates_of(switch, key)
        if not rates:
            return None
        side = "in" if rx else "out"
        packets = tuple(rates.get(f"packets_{side}_{kind}", 0.0) for kind in _KINDS)
        sizes = tuple(rates.get(f"bytes_{side}_{kind}", 0.0) for kind in _KINDS)
        return _Flow(packets, sizes)  # type: ignore[arg-type]

    def add(self, switch: str, port: Port, flow: _Flow) -> None:
        total = self.out.setdefault((switch, port.key), {})
        for name, value in flow.counters(self.is_uplink(port)).items():
            if value:
                total[name] = total.get(name, 0.0) + value

    def from_sources(self, switch: str, s: MirrorSession) -> None:
        """``dvPortMirror``, ``mixedDestMirror`` and ``remoteMirrorSource``: sources are ports here."""
        kind = s.session_type
        legacy = kind == SessionType.MIXED_DEST_MIRROR.value
        encap = s.encapsulation_vlan_id if s.encapsulation_vlan_id and s.encapsulation_vlan_id > 0 else 0
        dests = [p for k in s.destination.port_keys if (p := self.inv.port(switch, k)) is not None]

        def to_uplink(flow: _Flow, uplink: Port) -> None:
            if not _carries(uplink) or (encap and not self.trunked(switch, encap)):
                return
            sent = flow.sampled(s)
            self.add(switch, uplink, sent)
            if encap:
                self.on_vlan.setdefault(encap, []).append(sent)

        sources = [(k, True) for k in s.source_rx.port_keys] + [(k, False) for k in s.source_tx.port_keys]
        for key, rx in sources:
            src = self.inv.port(switch, key)
            if not _carries(src):
                continue
            assert src is not None
            flow = self.flow_of(switch, key, rx)
            if flow is None:
                continue
            seen: set[str] = set()
            if kind in (SessionType.DV_PORT_MIRROR.value, SessionType.MIXED_DEST_MIRROR.value):
                for dst in dests:
                    if dst.key == key or dst.key in seen or not _carries(dst) or not dst.host:
                        continue
                    if dst.host != src.host:
                        continue
                    seen.add(dst.key)
                    if legacy and self.is_uplink(dst):
                        to_uplink(flow, dst)  # an uplink port named by key (§2.1: only legacy allows it)
                    elif not legacy or self.legacy_passes(src, dst, encap):
                        self.add(switch, dst, flow.sampled(s))
                if not legacy:
                    continue
            elif not encap:
                continue  # remoteMirrorSource needs the VLAN to tag with (§2.1); vCenter requires it
            for name in s.destination.uplink_names:
                ukey = self.uplink_on(switch, src.host, name)
                if ukey is not None and ukey not in seen and ukey != key:
                    seen.add(ukey)
                    uplink = self.inv.port(switch, ukey)
                    assert uplink is not None
                    to_uplink(flow, uplink)

    def from_vlans(self, switch: str, s: MirrorSession) -> None:
        """``remoteMirrorDest``: what reached the VLANs it listens to, from anywhere in the lab."""
        done: set[str] = set()
        for key in s.destination.port_keys:
            dst = self.inv.port(switch, key)
            if key in done or dst is None or not _carries(dst):
                continue
            done.add(key)
            for vlan in dict.fromkeys(s.source_rx.vlans):
                if not 0 <= vlan <= VLAN_MAX or not self.trunked(switch, vlan):
                    continue
                for flow in self.on_vlan.get(vlan, ()):
                    self.add(switch, dst, flow.sampled(s))


def lab_mirrored_rates(inv: Inventory, rates_of: RatesOf) -> dict[tuple[str, str], dict[str, float]]:
    """(switch, port) → the per-second growth (counter attribute → rate) that the enabled sessions
    of every switch of ``inv`` add to that port's counters. Ports that get nothing are left out."""
    lab = _Lab(inv, rates_of)
    for sw in inv.switches.values():
        for s in sw.sessions:
            if s.enabled and s.session_type in MIRRORING_TYPES - {SessionType.REMOTE_MIRROR_DEST.value}:
                lab.from_sources(sw.key, s)
    for sw in inv.switches.values():
        for s in sw.sessions:
            if s.enabled and s.session_type == SessionType.REMOTE_MIRROR_DEST.value:
                lab.from_vlans(sw.key, s)
    return lab.out
