"""Round-trip material shared by the unit, TUI and vcsim tests (issue 7, "edits never drop").

One session per session type with every field its type can carry set to a value that is not
the default (wildcard sources and ``netstack`` included), plus values the type ignores but
vCenter stores, an unusual list order, repeated and Unicode text: whatever the form does not
show must come back unchanged after an edit of the name, enable/disable and a clone.
"""

from __future__ import annotations

import copy
from dataclasses import fields, replace
from typing import Any

from tests import labgen
from tui.model import MirrorSession, VspanPorts

DPM, RMS, RMD, ERS, MIX = (
    "dvPortMirror",
    "remoteMirrorSource",
    "remoteMirrorDest",
    "encapsulatedRemoteMirrorSource",
    "mixedDestMirror",
)

FULL: dict[str, MirrorSession] = {
    DPM: MirrorSession(
        key="11",
        name="rt dvPortMirror ü",
        description="  every field, spaces kept  ",
        enabled=False,
        session_type=DPM,
        source_rx=VspanPorts(port_keys=("449", "448"), wildcard_types=("vmVnic", "hostVmkVnic")),
        source_tx=VspanPorts(port_keys=("448",)),
        destination=VspanPorts(port_keys=("2258",)),
        encapsulation_vlan_id=7,  # ignored by the type (FieldIgnored), stored by vCenter
        strip_original_vlan=True,
        mirrored_packet_length=1500,
        normal_traffic_allowed=True,
        sampling_rate=4,
        netstack="mirrorStack",
    ),
    RMS: MirrorSession(
        key="12",
        name="rt RSPAN source",
        description="",
        enabled=True,
        session_type=RMS,
        source_rx=VspanPorts(port_keys=("448",), wildcard_types=("pnic",)),
        source_tx=VspanPorts(port_keys=("449", "448")),
        destination=VspanPorts(uplink_names=("dvUplink2", "dvUplink1")),
        encapsulation_vlan_id=3001,
        strip_original_vlan=False,
        mirrored_packet_length=60,
        normal_traffic_allowed=True,
        sampling_rate=65535,
        netstack="ns-rms",
    ),
    RMD: MirrorSession(
        key="13",
        name="rt RSPAN destination",
        description="VLANs out of order",
        enabled=False,
        session_type=RMD,
        source_rx=VspanPorts(vlans=(3003, 0, 4094)),
        destination=VspanPorts(port_keys=("2240",)),
        strip_original_vlan=True,
        mirrored_packet_length=9000,
        normal_traffic_allowed=True,
        sampling_rate=2,
        netstack="ns-rmd",
    ),
    ERS: MirrorSession(
        key="14",
        name="rt ERSPAN",
        description="hidden normal I/O",
        enabled=True,
        session_type=ERS,
        source_rx=VspanPorts(port_keys=("448",), wildcard_types=("vmVnic",)),
        source_tx=VspanPorts(port_keys=("449",)),
        destination=VspanPorts(ip_addresses=("2001:db8::9", "192.0.2.9")),
        strip_original_vlan=True,
        mirrored_packet_length=200,
        normal_traffic_allowed=True,  # the form has no field for it on this type
        sampling_rate=3,
        encap_type="erspan3",
        erspan_id=77,
        erspan_cos=5,
        erspan_gra_nanosec=True,
        netstack="mirror",
    ),
    MIX: MirrorSession(
        key="15",
        name="rt legacy",
        description="ports and uplinks",
        enabled=True,
        session_type=MIX,
        source_rx=VspanPorts(port_keys=("104",), wildcard_types=("hostConsoleVnic",)),
        source_tx=VspanPorts(port_keys=("104",)),
        destination=VspanPorts(port_keys=("2242",), uplink_names=("dvUplink3",)),
        encapsulation_vlan_id=205,
        strip_original_vlan=False,
        mirrored_packet_length=61,
        normal_traffic_allowed=True,
        netstack="ns-mix",
    ),
}
"""Every session type, every field set (keys as stored in :func:`lab`)."""

TYPES = list(FULL)

CLONE_DEST: dict[str, str | None] = {DPM: "2243", RMS: None, RMD: "2259", ERS: None, MIX: "2260"}
"""A free destination port for a clone (one destination port serves one session); None: no port."""

FIELD_NAMES = [f.name for f in fields(MirrorSession)]


def lab() -> dict[str, Any]:
    """The demo lab with the sessions of :data:`FULL` added to dvSwitchCloud."""
    data = labgen.demo_lab()
    cloud = next(s for s in data["switches"] if s["name"] == "dvSwitchCloud")
    cloud["sessions"] = [*cloud["sessions"], *(copy.deepcopy(s.to_api()) for s in FULL.values())]
    return data


def differences(a: MirrorSession, b: MirrorSession, *, ignore: tuple[str, ...] = ()) -> dict[str, tuple[Any, Any]]:
    """The fields (besides ``ignore``) in which ``a`` and ``b`` differ, with both values."""
    return {
        n: (getattr(a, n), getattr(b, n)) for n in FIELD_NAMES if n not in ignore and getattr(a, n) != getattr(b, n)
    }


def renamed(s: MirrorSession) -> MirrorSession:
    return replace(s, name=f"{s.name} renamed")
