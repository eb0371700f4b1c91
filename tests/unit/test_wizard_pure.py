"""The wizard's pure helpers: an incomplete session, an edit's changes per field, the capture step's
host of interest, interface and ERSPAN receiver recipe (demo lab)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tui import capture, sessionform
from tui.backends.snapshot import SnapshotBackend
from tui.model import MirrorSession, VspanPorts, new_session

INV = SnapshotBackend().load()
_cloud = INV.switch_by_name("dvSwitchCloud")
assert _cloud is not None
SW = _cloud.key
WALK = MirrorSession(
    name="F5 DMZ to monitor",
    session_type="mixedDestMirror",
    source_rx=VspanPorts(port_keys=("448",)),
    source_tx=VspanPorts(port_keys=("448",)),
    destination=VspanPorts(port_keys=("2258",)),
    encapsulation_vlan_id=205,
    strip_original_vlan=True,
    mirrored_packet_length=60,
)
L3 = MirrorSession(
    session_type="encapsulatedRemoteMirrorSource",
    source_rx=VspanPorts(port_keys=("448",)),
    destination=VspanPorts(ip_addresses=("192.0.2.10",)),
)


@pytest.mark.parametrize(
    ("session", "message"),
    [
        (WALK, ""),
        (replace(WALK, destination=VspanPorts()), "The session has no destination: it would mirror nothing."),
        (replace(WALK, source_rx=VspanPorts(), source_tx=VspanPorts()), "The session has no source: it would"),
        (MirrorSession(), "The session has no source and no destination"),
        (replace(MirrorSession(), source_rx=VspanPorts(vlans=(300,)), destination=WALK.destination), ""),  # RMD
        (replace(MirrorSession(), source_rx=VspanPorts(wildcard_types=("vm",)), destination=WALK.destination), ""),
        (L3, ""),
        (replace(L3, destination=VspanPorts(uplink_names=("dvUplink1",))), ""),
    ],
)
def test_incomplete(session: MirrorSession, message: str) -> None:
    got = sessionform.incomplete(session)
    assert got.startswith(message) and bool(got) == bool(message)


def test_new_session_ticks_neither_length_nor_normal_io() -> None:
    """vspan.md §8.3: an unchecked packet length = unset; VCF9: normal I/O is Disallowed by default."""
    s = new_session(INV.switches[SW])
    form = sessionform.from_session(s)
    assert (s.mirrored_packet_length, s.normal_traffic_allowed) == (None, False)
    assert (form.length_on, form.length, form.normal_io) == (False, "", False)


def test_field_changes_old_to_new_in_api_order() -> None:
    new = replace(
        WALK,
        key="7",
        name="renamed",
        mirrored_packet_length=None,
        destination=VspanPorts(port_keys=("2258", "2300")),
        sampling_rate=None,
        normal_traffic_allowed=True,
    )
    old = replace(WALK, key="7")
    changes = sessionform.field_changes(INV, SW, old, new)
    assert [c.field for c in changes] == [
        "name",
        "destinationPort.portKey",
        "mirroredPacketLength",
        "normalTrafficAllowed",
    ]
    by = {c.field: c for c in changes}
    assert (by["name"].old, by["name"].new) == ("F5 DMZ to monitor", "renamed")
    assert by["mirroredPacketLength"].old == "60" and by["mirroredPacketLength"].new == ""
    assert by["destinationPort.portKey"].old == "2258 · MGTSRVR003UX / Network adapter 2"
    assert by["destinationPort.portKey"].new.splitlines()[1].startswith("2300 · ")
    assert sessionform.field_changes(INV, SW, old, old) == []


@pytest.mark.parametrize(
    ("text", "addresses"),
    [
        ("KRBCLIENT01", ["172.24.4.52"]),
        ("krbclient01", ["172.24.4.52"]),  # any case
        ("KDC02", ["172.24.4.11", "fe80::250:56ff:fe9a:1"]),
        ("IDS-SENSOR01", ["172.24.4.21"]),
        ("172.24.4.52", ["172.24.4.52"]),
        ("10.20.4.0/24", ["10.20.4.0/24"]),
        ("00:50:56:9a:00:1d", ["00:50:56:9a:00:1d"]),
        ("", []),
    ],
)
def test_interest(text: str, addresses: list[str]) -> None:
    assert capture.interest(INV, text)[0] == addresses


@pytest.mark.parametrize("text", ["no such thing!", "host", "'; rm -rf /"])
def test_interest_refuses_what_is_no_host(text: str) -> None:
    with pytest.raises(ValueError, match="is not a VM name, IP address"):
        capture.interest(INV, text)


def test_filter_for_a_vm_of_interest() -> None:
    hosts, said = capture.interest(INV, "KDC02")
    assert said == "VM KDC02: 172.24.4.11, fe80::250:56ff:fe9a:1"
    assert capture.capture_filter(INV, SW, WALK, host=hosts) == "(host 172.24.4.11 or host fe80::250:56ff:fe9a:1)"
    assert capture.capture_filter(INV, SW, WALK, host="172.24.4.52") == "host 172.24.4.52"
    assert "KRBCLIENT01" in capture.vm_names(INV)


def test_interface_lines_name_the_nic_by_mac() -> None:
    lines = capture.interface_lines(INV, SW, WALK)
    assert lines[0] == (
        "MGTSRVR003UX / Network adapter 2, MAC 00:50:56:9a:00:1a, guest IP 192.168.205.5 on dvPgMirror (port 2258)"
    )
    assert lines[1].strip() == "Linux:   ip -br link | grep -i 00:50:56:9a:00:1a"
    assert lines[2].strip() == "Windows: Get-NetAdapter | Where-Object MacAddress -eq 00-50-56-9A-00-1A"
    assert capture.interface_lines(INV, SW, L3) == ["The collector's interface with address 192.0.2.10"]


ERS = "ip link add erspan1 type erspan"


@pytest.mark.parametrize(
    ("encap", "erspan_id", "line"),
    [
        (None, None, "ip link add gretap1 type gretap local 192.0.2.10 remote ESXI_VMK_IP"),
        ("gre", None, "ip link add gretap1 type gretap local 192.0.2.10 remote ESXI_VMK_IP"),
        ("erspan2", 100, f"{ERS} local 192.0.2.10 remote ESXI_VMK_IP erspan_ver 1 seq key 100"),
        ("erspan3", 7, f"{ERS} local 192.0.2.10 remote ESXI_VMK_IP erspan_ver 2 seq key 7"),
    ],
)
def test_receiver_recipe(encap: str | None, erspan_id: int | None, line: str) -> None:
    s = replace(L3, encap_type=encap, erspan_id=erspan_id)
    lines = capture.receiver_recipe(INV, SW, s, ["172.24.4.52"])
    outer = "tcpdump -i IFACE -nn 'proto gre and dst host 192.0.2.10'"
    assert lines[0] == f"On the collector 192.0.2.10: {outer}  # the tunnelled frames"
    assert lines[1] == line
    assert lines[2].endswith("-nn -e 'host 172.24.4.52'")
    assert "of host esx-" in lines[3]
    assert capture.receiver_recipe(INV, SW, WALK) == []
    assert capture.receiver_recipe(INV, SW, replace(L3, destination=VspanPorts(ip_addresses=("not an ip",)))) == []
