"""The model: VLAN policies, sessions in the API's shape, inventory indexes."""

from __future__ import annotations

import msgspec
import pytest

from tests.conftest import CLOUD, port
from tests.helpers import WALKTHROUGH
from tui.backends.snapshot_format import session_from_api
from tui.model import Direction, Inventory, MirrorSession, SessionType, Vlan, VspanPorts


@pytest.mark.parametrize(
    ("vlan", "tag", "carried"),
    [
        (Vlan(205), 205, True),
        (Vlan(205), 204, False),
        (Vlan(0), 205, False),
        (Vlan(None, trunk=((0, 4094),)), 205, True),
        (Vlan(None, trunk=((1, 100), (200, 300))), 150, False),
        (Vlan(None, trunk=((1, 100), (200, 300))), 300, True),
        (Vlan(None, pvlan=999), 999, True),
    ],
)
def test_vlan_carries(vlan: Vlan, tag: int, carried: bool) -> None:
    assert vlan.carries(tag) is carried


def test_vlan_text() -> None:
    assert str(Vlan(204)) == "204"
    assert str(Vlan(0)) == "none"
    assert str(Vlan(None, trunk=((0, 4094),))) == "trunk 0-4094"
    assert str(Vlan(None, trunk=((5, 5), (7, 9)))) == "trunk 5,7-9"
    assert str(Vlan(None, pvlan=12)) == "PVLAN 12"


def test_session_api_shape_round_trips() -> None:
    s = WALKTHROUGH
    api = s.to_api()
    assert api["sessionType"] == "mixedDestMirror"
    assert api["sourcePortReceived"] == {"portKey": ["448"], "uplinkPortName": [], "vlans": [], "ipAddress": []}
    assert api["destinationPort"]["portKey"] == ["2258"]
    assert api["encapsulationVlanId"] == 205 and api["mirroredPacketLength"] == 60
    assert api["stripOriginalVlan"] is False and api["normalTrafficAllowed"] is False and api["enabled"] is True
    assert set(api) >= {"key", "erspanCOS", "erspanGraNanosec", "samplingRate", "encapType", "erspanId"}
    assert session_from_api(api) == s


def test_session_from_api_defaults_and_errors() -> None:
    s = session_from_api({"key": 7, "name": "x"})
    assert s.key == "7" and s.enabled is True and s.strip_original_vlan is False
    assert s.source_rx == VspanPorts()
    with pytest.raises(msgspec.ValidationError, match="Expected `object`"):
        session_from_api(["not", "a", "dict"])
    with pytest.raises(msgspec.ValidationError, match=r"\$\.encapsulationVlanId"):
        session_from_api({"encapsulationVlanId": "205"})


def test_directions_follow_rx_and_tx() -> None:
    s = MirrorSession(
        source_rx=VspanPorts(port_keys=("1", "2")),
        source_tx=VspanPorts(port_keys=("2", "3")),
        destination=VspanPorts(port_keys=("9",)),
    )
    assert s.sources() == {"1": Direction.INGRESS, "2": Direction.BOTH, "3": Direction.EGRESS}
    assert s.role_of("2") == "source (ingress+egress)"
    assert s.role_of("9") == "destination"
    assert s.role_of("4") is None
    assert s.port_keys() == {"1", "2", "3", "9"}


def test_session_type_labels() -> None:
    assert MirrorSession(session_type="mixedDestMirror").type_label == "Distributed Port Mirroring (legacy)"
    assert MirrorSession(session_type="bogus").type is None
    assert SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE.label.startswith("Encapsulated Remote Mirroring (L3)")


def test_inventory_indexes(demo: Inventory) -> None:
    p448 = port(demo, "448")
    vm, nic = demo.vm_nic(p448) or (None, None)
    assert vm is not None and nic is not None
    assert (vm.name, nic.label) == ("F5-LTM01", "Network adapter 2")
    dmz = demo.portgroups[p448.portgroup]
    assert p448 in demo.ports_by_portgroup[dmz.key]
    assert dmz in demo.portgroups_by_switch[CLOUD]
    assert demo.switch_by_name("DVSWITCHCLOUD") is demo.switches[CLOUD]
    assert demo.port_label(p448) == "448 · F5-LTM01 / Network adapter 2"


def test_port_row_is_the_cli_contract(demo: Inventory) -> None:
    row = demo.port_row(port(demo, "448"))
    assert list(row) == ["switch", "portgroup", "port", "vm", "nic", "mac", "ips", "host", "vlan", "connected"]
    assert row == {
        "switch": "dvSwitchCloud",
        "portgroup": "dvPgDMZ",
        "port": "448",
        "vm": "F5-LTM01",
        "nic": "Network adapter 2",
        "mac": "00:50:56:9a:1b:2c",
        "ips": ["10.20.4.10"],
        "host": "esx-03",
        "vlan": "204",
        "connected": True,
    }


def test_sessions_of_port(demo: Inventory) -> None:
    roles = {s.name: role for s, role in demo.sessions_of_port(port(demo, "448"))}
    assert roles == {"DMZ-IDS": "source (ingress+egress)"}
    assert [s.name for s, _ in demo.sessions_of_port(port(demo, "2241"))] == ["DMZ-IDS"]
    assert demo.sessions_of_port(port(demo, "2258")) == []
