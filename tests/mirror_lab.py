"""A lab for the mirror traffic model: every modelled session type, each delivering and not.

Used by ``tests/unit/test_mirror_traffic.py`` (the demo/snapshot backend, ``tui/mirror_traffic.py``) and
``tests/integration/test_mirror_traffic_vcsim.py`` (the vcsim server, ``tests/vcsim/mirror.go``) with the
same expectations, so the two implementations agree. The expectations are written from the model's rules
(tests/vcsim/README.md, "Port traffic"; reference/vspan.md), not from either implementation: each
destination's *gain* (its rates with the sessions enabled minus its rates with every session disabled) is
a sum of its sources' rates, sampled and cut.

The demo lab, with the uplink trunks narrowed: dvSwitchCloud's uplinks trunk VLANs 0-400 (so 310, 320 and
330 pass, 3100 and 3300 do not), dvSwitchMgmt's 0-315 (310 passes, 320 and 330 do not).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests import labgen
from tui.backends import snapshot_format
from tui.backends.snapshot import SnapshotBackend
from tui.mirror_session import MirrorSession, VspanPorts
from tui.model import rates_between

CLOUD = labgen.CLOUD
MGMT = "50 36 77 02 9c 41 d0 0e-8b 13 55 e2 07 6a 4c 90"

# Ports of the demo lab (tests/labgen.py demo_lab): host-11 = esx-01, host-21 = esx-03.
F5_DMZ = "448"  # F5-LTM01, dvPgDMZ (VLAN 204), esx-03
WEB_DMZ02 = "449"  # dvPgDMZ, esx-01
APP05_APP = "204"  # dvPgApp (VLAN 110), esx-03
APP09_APP = "208"  # dvPgApp, esx-03
APP01_SRV = "305"  # dvPgServers (VLAN 120), esx-03
WEB02_WEB = "102"  # dvPgWeb (VLAN 100), esx-03
WEB06_WEB = "106"  # dvPgWeb, esx-03
WEB_DMZ06 = "419"  # dvPgDMZ, esx-03
IDS = "2241"  # IDS-SENSOR01, dvPgMirror (VLAN 205), esx-03
MONITOR = "2258"  # MGTSRVR003UX, dvPgMirror, esx-03
# dvSwitchCloud uplink ports: key = 4 * host index + uplink index (dvUplink1..4)
UP_ESX01 = {"dvUplink1": "0", "dvUplink2": "1", "dvUplink3": "2", "dvUplink4": "3"}
UP_ESX03 = {"dvUplink1": "8", "dvUplink2": "9", "dvUplink3": "10", "dvUplink4": "11"}
JUMP01, JUMP02, JUMP03, JUMP04 = "10", "11", "12", "13"  # dvSwitchMgmt, dvPgOOB (VLAN 900)

BOTH, RX, TX = ("in", "out"), ("in",), ("out",)


def _s(key: str, name: str, stype: str, **fields: Any) -> dict[str, Any]:
    return MirrorSession(key=key, name=name, session_type=stype, **fields).to_api()


def _ports(*keys: str) -> VspanPorts:
    return VspanPorts(port_keys=keys)


CLOUD_SESSIONS = [
    _s("10", "RSPAN-310", "remoteMirrorSource", source_rx=_ports(F5_DMZ), source_tx=_ports(F5_DMZ),
       destination=VspanPorts(uplink_names=("dvUplink4",)), encapsulation_vlan_id=310, mirrored_packet_length=60),
    _s("11", "RSPAN-3100-not-trunked", "remoteMirrorSource", source_rx=_ports(WEB_DMZ02),
       destination=VspanPorts(uplink_names=("dvUplink3",)), encapsulation_vlan_id=3100),
    _s("12", "RSPAN-320-two-uplinks", "remoteMirrorSource", source_tx=_ports(WEB_DMZ02),
       destination=VspanPorts(uplink_names=("dvUplink1", "dvUplink2")), encapsulation_vlan_id=320, sampling_rate=2),
    _s("13", "Legacy-to-uplink-330", "mixedDestMirror", source_rx=_ports(APP05_APP),
       destination=VspanPorts(uplink_names=("dvUplink3",)), encapsulation_vlan_id=330),
    _s("14", "Legacy-to-uplink-3300-not-trunked", "mixedDestMirror", source_rx=_ports(APP09_APP),
       destination=VspanPorts(uplink_names=("dvUplink1",)), encapsulation_vlan_id=3300),
    _s("15", "Legacy-encap-not-carried", "mixedDestMirror", source_rx=_ports(F5_DMZ), source_tx=_ports(F5_DMZ),
       destination=_ports(APP01_SRV), encapsulation_vlan_id=205),
    _s("16", "Legacy-source-vlan-not-carried", "mixedDestMirror", source_rx=_ports(F5_DMZ),
       destination=_ports(WEB02_WEB)),
    _s("17", "Legacy-same-vlan", "mixedDestMirror", source_tx=_ports(F5_DMZ), destination=_ports(WEB_DMZ06)),
    _s("18", "Walkthrough", "mixedDestMirror", source_rx=_ports(F5_DMZ), source_tx=_ports(F5_DMZ),
       destination=_ports(MONITOR), encapsulation_vlan_id=205, mirrored_packet_length=60),
    _s("19", "RMD-320-same-switch", "remoteMirrorDest", source_rx=VspanPorts(vlans=(320,)),
       destination=_ports(WEB06_WEB), sampling_rate=4, mirrored_packet_length=100),
]  # fmt: skip
MGMT_SESSIONS = [
    _s("1", "RMD-310-330-other-switch", "remoteMirrorDest", source_rx=VspanPorts(vlans=(310, 330)),
       destination=_ports(JUMP01)),
    _s("2", "RMD-320-not-trunked-here", "remoteMirrorDest", source_rx=VspanPorts(vlans=(320,)),
       destination=_ports(JUMP02)),
    _s("3", "RMD-311-nothing-sent", "remoteMirrorDest", source_rx=VspanPorts(vlans=(311,)),
       destination=_ports(JUMP03)),
]  # fmt: skip


@dataclass(frozen=True)
class Part:
    """Of a destination's gain: source ``port`` (on ``switch``) in ``directions``, one packet in ``every``,
    each frame cut to ``length`` bytes (then to ``length2``: a remote destination's own length)."""

    switch: str
    port: str
    directions: tuple[str, ...]
    every: float = 1.0
    length: int | None = None
    length2: int | None = None


@dataclass(frozen=True)
class Case:
    name: str
    switch: str
    port: str
    parts: tuple[Part, ...]
    uplink: bool = False
    """Frames go out of a physical NIC: ``bytesOutToPnic`` grows by the same bytes."""


CASES = (
    Case("dvPortMirror, same host", CLOUD, IDS, (Part(CLOUD, F5_DMZ, BOTH),)),
    Case("RSPAN source out of the named uplink", CLOUD, UP_ESX03["dvUplink4"],
         (Part(CLOUD, F5_DMZ, BOTH, length=60),), uplink=True),
    Case("RSPAN source, VLAN not trunked", CLOUD, UP_ESX01["dvUplink3"], (), uplink=True),
    Case("RSPAN source, first of two uplinks", CLOUD, UP_ESX01["dvUplink1"],
         (Part(CLOUD, WEB_DMZ02, TX, every=2),), uplink=True),
    Case("RSPAN source, second of two uplinks", CLOUD, UP_ESX01["dvUplink2"],
         (Part(CLOUD, WEB_DMZ02, TX, every=2),), uplink=True),
    Case("legacy to an uplink", CLOUD, UP_ESX03["dvUplink3"], (Part(CLOUD, APP05_APP, RX),), uplink=True),
    Case("legacy to an uplink, VLAN not trunked", CLOUD, UP_ESX03["dvUplink1"], (), uplink=True),
    Case("legacy, encapsulation VLAN not carried", CLOUD, APP01_SRV, ()),
    Case("legacy, source VLAN not carried", CLOUD, WEB02_WEB, ()),
    Case("legacy, same VLAN", CLOUD, WEB_DMZ06, (Part(CLOUD, F5_DMZ, TX),)),
    Case("the walkthrough's legacy session", CLOUD, MONITOR, (Part(CLOUD, F5_DMZ, BOTH, length=60),)),
    # Two copies of 449's egress went out on VLAN 320 (one per uplink), each sampled 1 in 2, then 1 in 4 here.
    Case("RSPAN destination, same switch", CLOUD, WEB06_WEB,
         (Part(CLOUD, WEB_DMZ02, TX, every=8, length2=100), Part(CLOUD, WEB_DMZ02, TX, every=8, length2=100))),
    # VLAN 310 arrives; VLAN 330 (APP05's legacy session) is not trunked by dvSwitchMgmt's uplinks.
    Case("RSPAN destination, other switch", MGMT, JUMP01, (Part(CLOUD, F5_DMZ, BOTH, length=60),)),
    Case("RSPAN destination, VLAN not trunked here", MGMT, JUMP02, ()),
    Case("RSPAN destination, nothing sent on the VLAN", MGMT, JUMP03, ()),
)  # fmt: skip
REFERENCE = {CLOUD: F5_DMZ, MGMT: JUMP04}
"""A port per switch that no session delivers to: its rates calibrate a window's timing."""


def mirror_lab(*, enabled: bool = True) -> dict[str, Any]:
    """The demo lab with :data:`CLOUD_SESSIONS` and :data:`MGMT_SESSIONS` (all disabled unless ``enabled``)."""
    data = copy.deepcopy(labgen.demo_lab())
    for pg in data["portgroups"]:
        if pg["uplink"]:
            pg["vlan"] = {"trunk": [[0, 400]] if pg["switch"] == CLOUD else [[0, 315]]}
    for sw in data["switches"]:
        sessions = [*(sw.get("sessions") or ()), *(CLOUD_SESSIONS if sw["key"] == CLOUD else MGMT_SESSIONS)]
        sw["sessions"] = [{**copy.deepcopy(s), "enabled": s["enabled"] and enabled} for s in sessions]
    # The demo's DMZ-IDS stays; the demo's disabled RSPAN-Core stays disabled.
    data["portStatistics"] = labgen.demo_traffic(data)
    return data


def ports_of(switch: str) -> list[str]:
    """Every port the checks read on ``switch``: destinations, sources and the reference port."""
    keys = {REFERENCE[switch]}
    for case in CASES:
        if case.switch == switch:
            keys.add(case.port)
        keys.update(p.port for p in case.parts if p.switch == switch)
    return sorted(keys, key=int)


def _part(part: Part, rates: Any) -> tuple[float, float]:
    """(packets/s, bytes/s) that ``part`` adds, from its source's measured rates."""
    packets = nbytes = 0.0
    for direction in part.directions:
        for kind in ("unicast", "multicast", "broadcast"):
            p = float(rates.rate(f"packets_{direction}_{kind}")) / part.every
            b = float(rates.rate(f"bytes_{direction}_{kind}")) / part.every
            for length in (part.length, part.length2):
                if length is not None:
                    b = min(b, p * length)
            packets += p
            nbytes += b
    return packets, nbytes


def expected(case: Case, rates: dict[tuple[str, str], Any]) -> tuple[float, float]:
    """What ``case``'s destination gains (packets/s, bytes/s out), given every port's measured rates."""
    packets = nbytes = 0.0
    for part in case.parts:
        p, b = _part(part, rates[(part.switch, part.port)])
        packets += p
        nbytes += b
    return packets, nbytes


def gain(
    case: Case, on: dict[tuple[str, str], Any], off: dict[tuple[str, str], Any], scale: float = 1.0
) -> dict[str, float]:
    """The destination's measured gain: its rates with the sessions enabled minus with them disabled
    (``scale`` corrects the second window's timing to the first's, for a server on real time)."""
    a, b = on[(case.switch, case.port)], off[(case.switch, case.port)]
    out = {name: float(getattr(a, name)) - float(getattr(b, name)) * scale for name in TOTALS}
    out["bytes_out_to_pnic"] = float(a.rate("bytes_out_to_pnic")) - float(b.rate("bytes_out_to_pnic")) * scale
    return out


TOTALS = ("packets_out", "bytes_out", "packets_in", "bytes_in")


Windows = dict[tuple[str, str], Any]
"""(switch, port) → the port's :class:`tui.model.PortRates` over one window."""


def measure(backend: Any, wait: Callable[[], None]) -> Windows:
    """Every port of :func:`ports_of` on both switches: rates over one window (``wait`` lets time pass)."""
    switches = (CLOUD, MGMT)
    first = {sw: backend.port_statistics(sw, ports_of(sw)) for sw in switches}
    wait()
    second = {sw: backend.port_statistics(sw, ports_of(sw)) for sw in switches}
    out: Windows = {}
    for sw in switches:
        for key, r in rates_between(first[sw], second[sw]).items():
            assert r.ok, (sw, key, r.status)
            out[(sw, key)] = r
    assert set(out) == {(sw, k) for sw in switches for k in ports_of(sw)}
    return out


class Clock:
    """A settable clock for the snapshot backend (``backend.clock``)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def snapshot_backend(folder: Path, data: dict[str, Any], name: str) -> tuple[SnapshotBackend, Clock]:
    """A snapshot backend on ``data`` (written to ``folder/name``), its clock well after the demo's reading."""
    path = folder / name
    path.write_text(json.dumps(data), encoding="utf-8")
    backend = SnapshotBackend(path)
    clock = Clock(snapshot_format.parse_time(labgen.DEMO_READ) + 1000.0)
    backend.clock = clock
    backend.load()
    return backend, clock


def demo_windows(folder: Path) -> tuple[Windows, Windows]:
    """Ten-second windows of the snapshot backend on :func:`mirror_lab`, enabled and disabled."""
    results = []
    for enabled in (True, False):
        backend, clock = snapshot_backend(folder, mirror_lab(enabled=enabled), f"mirror-lab-{enabled}.json")

        def wait(clock: Clock = clock) -> None:
            clock.now += 10.0

        results.append(measure(backend, wait))
    return results[0], results[1]
