"""tui.capture: tcpdump filters for mirror sessions of the demo lab."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace

import pytest

from tests.helpers import WALKTHROUGH
from tui.backends.snapshot import SnapshotBackend
from tui.capture import capture_command, capture_filter
from tui.model import MirrorSession, VspanPorts

INV = SnapshotBackend().load()
_cloud = INV.switch_by_name("dvSwitchCloud")
assert _cloud is not None
SW = _cloud.key
DMZ_IDS = _cloud.session("1")
RSPAN_CORE = _cloud.session("2")
assert DMZ_IDS is not None and RSPAN_CORE is not None


def P(*keys: str, uplinks: tuple[str, ...] = (), vlans: tuple[int, ...] = (), ips: tuple[str, ...] = ()) -> VspanPorts:
    return VspanPorts(port_keys=keys, uplink_names=uplinks, vlans=vlans, ip_addresses=ips)


# The walkthrough's session: legacy type, 448 → 2258 (dvPgMirror, access VLAN 205), encapsulation VLAN 205.
# The old client's "Preserve original VLAN" was off by default: strip the original tag.
WALK = replace(WALKTHROUGH, strip_original_vlan=True)
PRESERVE = replace(WALK, strip_original_vlan=False)
TO_TRUNK = replace(WALK, source_rx=P("448"), source_tx=P(), destination=P("2300"))  # dvPgIDS-Trunk (VGT)
ids02_mac = next(n.mac for vm in INV.vms.values() if vm.name == "IDS-SENSOR02" for n in vm.nics)
web04_ip = next(ip for vm in INV.vms.values() if vm.name == "WEB04" for n in vm.nics for ip in n.ips)

CASES: list[tuple[str, MirrorSession, dict[str, object], str]] = [
    # Host of interest, as in the walkthrough's Network Monitor filter.
    ("walkthrough, tag removed by the access port", WALK, {"host": "172.24.4.52"}, "host 172.24.4.52"),
    (
        "walkthrough, capture sees the tag",
        WALK,
        {"host": "172.24.4.52", "tagged": True},
        "vlan 205 and host 172.24.4.52",
    ),
    ("walkthrough, preserved VLAN 204 inside", PRESERVE, {"host": "172.24.4.52"}, "vlan 204 and host 172.24.4.52"),
    (
        "walkthrough, preserved, tagged",
        PRESERVE,
        {"host": "172.24.4.52", "tagged": True},
        "vlan 205 and vlan 204 and host 172.24.4.52",
    ),
    ("destination on a trunk portgroup sees the tag", TO_TRUNK, {}, "vlan 205 and host 10.20.4.10"),
    ("trunk, told untagged", TO_TRUNK, {"tagged": False}, "host 10.20.4.10"),
    # No host of interest: the sources' IPs.
    ("walkthrough, source IP", WALK, {}, "host 10.20.4.10"),
    ("DMZ-IDS, two sources", DMZ_IDS, {}, "(host 10.20.4.10 or host 10.20.4.12)"),
    (
        "source without IP: its MAC",
        MirrorSession(source_rx=P("2300"), destination=P("2258")),
        {},
        f"ether host {ids02_mac}",
    ),
    (
        "IP and MAC sources together",
        MirrorSession(source_rx=P("448", "2300"), destination=P("2258")),
        {},
        f"(host 10.20.4.10 or ether host {ids02_mac})",
    ),
    ("host given as a MAC", WALK, {"host": "00-50-56-9A-1B-2C"}, "ether host 00:50:56:9a:1b:2c"),
    ("host given as a network", WALK, {"host": "172.24.4.0/24"}, "net 172.24.4.0/24"),
    ("host given as IPv6", WALK, {"host": "FE80::1"}, "host fe80::1"),
    ("host given as a name", WALK, {"host": "krbclient01.lab.local"}, "host krbclient01.lab.local"),
    # RSPAN source: the remote collector sees the encapsulation tag (and the preserved one).
    ("RSPAN source, preserved VLAN 100", RSPAN_CORE, {}, f"vlan 310 and vlan 100 and host {web04_ip}"),
    ("RSPAN source, stripped", replace(RSPAN_CORE, strip_original_vlan=True), {}, f"vlan 310 and host {web04_ip}"),
    # RSPAN destination: the VLANs, seen on a trunk portgroup only.
    (
        "RSPAN destination on a trunk",
        MirrorSession(session_type="remoteMirrorDest", source_rx=P(vlans=(310,)), destination=P("2300")),
        {},
        "vlan 310",
    ),
    (
        "RSPAN destination, several VLANs",
        MirrorSession(session_type="remoteMirrorDest", source_rx=P(vlans=(310, 311)), destination=P("2300")),
        {},
        "vlan",
    ),
    (
        "RSPAN destination on an access port",
        MirrorSession(session_type="remoteMirrorDest", source_rx=P(vlans=(310,)), destination=P("2258")),
        {},
        "",
    ),
    (
        "RSPAN destination, host",
        MirrorSession(session_type="remoteMirrorDest", source_rx=P(vlans=(310,)), destination=P("2300")),
        {"host": "10.1.1.1"},
        "vlan 310 and host 10.1.1.1",
    ),
    # ERSPAN: GRE to the collector.
    (
        "ERSPAN to one collector",
        MirrorSession(
            session_type="encapsulatedRemoteMirrorSource", source_rx=P("448"), destination=P(ips=("10.0.0.1",))
        ),
        {"host": "172.24.4.52"},
        "proto gre and dst host 10.0.0.1",
    ),
    (
        "ERSPAN to two collectors",
        MirrorSession(
            session_type="encapsulatedRemoteMirrorSource",
            source_rx=P("448"),
            destination=P(ips=("10.0.0.1", "2001:db8::1")),
        ),
        {},
        "proto gre and (dst host 10.0.0.1 or dst host 2001:db8::1)",
    ),
    ("nothing to filter on", MirrorSession(destination=P("2258")), {}, ""),
]


@pytest.mark.parametrize(("session", "kwargs", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_capture_filter(session: MirrorSession, kwargs: dict[str, object], expected: str) -> None:
    assert capture_filter(INV, SW, session, **kwargs) == expected  # type: ignore[arg-type]


# A host name needs DNS to compile (there is none here): those cases are checked as text above.
COMPILABLE = [c for c in CASES if not str(c[2].get("host", "")).endswith(".lab.local")]


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump is not installed")
@pytest.mark.parametrize(("session", "kwargs", "expected"), [c[1:] for c in COMPILABLE], ids=[c[0] for c in COMPILABLE])
def test_filters_compile_with_tcpdump(session: MirrorSession, kwargs: dict[str, object], expected: str) -> None:
    flt = capture_filter(INV, SW, session, **kwargs)  # type: ignore[arg-type]
    done = subprocess.run(["tcpdump", "-y", "EN10MB", "-d", flt], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("bad", ["1.2.3.4 or 1=1", "host", "'x'", "10.0.0.1; rm -rf /", "999.1.1.1"])
def test_host_of_interest_is_validated(bad: str) -> None:
    with pytest.raises(ValueError):
        capture_filter(INV, SW, WALK, host=bad)


def test_capture_command_names_the_destination_nic() -> None:
    mac = INV.port(SW, "2258")
    assert mac is not None
    assert capture_command(INV, SW, WALK, host="172.24.4.52") == (
        "tcpdump -i IFACE -nn -e 'host 172.24.4.52'"
        f"  # IFACE: the NIC with MAC {mac.mac} (MGTSRVR003UX / Network adapter 2)"
    )


def test_capture_command_with_interface() -> None:
    assert (
        capture_command(INV, SW, WALK, host="172.24.4.52", tagged=True, iface="eth1")
        == "tcpdump -i eth1 -nn -e 'vlan 205 and host 172.24.4.52'"
    )


def test_capture_command_without_filter_and_for_collectors() -> None:
    assert capture_command(INV, SW, MirrorSession(destination=P("2258")), iface="ens224") == "tcpdump -i ens224 -nn -e"
    erspan = MirrorSession(session_type="encapsulatedRemoteMirrorSource", destination=P(ips=("10.0.0.1",)))
    assert capture_command(INV, SW, erspan).endswith("# IFACE: the collector's interface with address 10.0.0.1")
    assert RSPAN_CORE is not None
    assert capture_command(INV, SW, RSPAN_CORE).endswith(
        "# IFACE: the RSPAN collector's interface that receives VLAN 310"
    )


def test_interface_name_is_shell_quoted() -> None:
    assert capture_command(INV, SW, WALK, iface="eth0; reboot").startswith("tcpdump -i 'eth0; reboot' -nn -e ")
