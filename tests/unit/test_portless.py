"""VM NICs on no distributed port, and VMs without a NIC: nothing pyVmomi returns is dropped.

The lab (tests/labgen.py ``portless_lab``) has one VM of each kind: a standard network, an opaque
(NSX) network, no backing, a distributed portgroup with no port key (govmomi's stock vcsim gives
every NIC that shape), the same disconnected, a port key the switch lacks, a port another NIC
holds, a NIC without a MAC, and a VM with no NIC. ``find`` returns each with ``port: null``.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests import labgen
from tests.helpers import run_cli as run
from tui.backends.snapshot import dump_inventory, parse_inventory
from tui.lookup import Field, LookupIndex, Match
from tui.model import Inventory, PortlessNic

ROW_KEYS = {"switch", "portgroup", "port", "vm", "nic", "mac", "ips", "host", "vlan", "connected"}


@pytest.fixture
def lab() -> Inventory:
    return parse_inventory(labgen.portless_lab(), "snapshot portless.json")


@pytest.fixture
def lab_file(tmp_path: Path) -> Path:
    path = tmp_path / "portless.json"
    labgen.write(labgen.portless_lab(), path)
    return path


def names(items: tuple[PortlessNic, ...] | list[PortlessNic]) -> list[tuple[str, str | None]]:
    return [(i.vm.name, i.nic.label if i.nic else None) for i in items]


# -- the model -------------------------------------------------------------------------------


def test_every_nic_is_on_a_port_or_listed_as_portless(lab: Inventory) -> None:
    on_port = [(vm.name, nic.label) for p in lab.ports.values() if (vmnic := lab.vm_nic(p)) for vm, nic in [vmnic]]
    assert on_port == [("EDGE01", "Network adapter 1")]
    assert names(lab.portless) == [
        ("EDGE01", "Network adapter 2"),
        ("STD-ONLY01", "Network adapter 1"),
        ("NSX-APP01", "Network adapter 1"),
        ("NOBACKING01", "Network adapter 1"),
        ("STOCKLIKE01", "Network adapter 1"),
        ("DISCO01", "Network adapter 1"),
        ("GHOST01", "Network adapter 1"),
        ("CLAIM01", "Network adapter 1"),
        ("NONIC01", None),
        ("NOMAC01", "Network adapter 1"),
    ]
    # Every NIC of every VM is accounted for exactly once, and every VM appears.
    nics = sum(max(1, len(vm.nics)) for vm in lab.vms.values())
    assert len(on_port) + len(lab.portless) == nics


def test_the_demo_lab_has_no_portless_nic(demo: Inventory) -> None:
    assert demo.portless == ()


def test_two_nics_naming_one_port_the_connectee_decides(lab: Inventory) -> None:
    """CLAIM01's backing names port 1 too, after EDGE01; the port's connectee is EDGE01's NIC."""
    port = lab.port(labgen.EDGE, "1")
    assert port is not None and port.connectee is not None and port.connectee.entity == "vm-1000"
    vmnic = lab.vm_nic(port)
    assert vmnic is not None and vmnic[0].name == "EDGE01"
    claim = next(i for i in lab.portless if i.vm.name == "CLAIM01")
    assert lab.nic_place(claim) == "backing names port 1 on dvSwitchEdge, which EDGE01 / Network adapter 1 holds"


def test_nic_rows_keep_the_contract_keys(lab: Inventory) -> None:
    rows = {(i.vm.name, i.nic.label if i.nic else None): lab.nic_row(i) for i in lab.portless}
    assert all(set(r) == ROW_KEYS and r["port"] is None for r in rows.values())
    assert rows[("STD-ONLY01", "Network adapter 1")] == {
        "switch": "",
        "portgroup": "VM Network",
        "port": None,
        "vm": "STD-ONLY01",
        "nic": "Network adapter 1",
        "mac": "00:50:56:ab:01:01",
        "ips": ["10.60.0.5"],
        "host": "esx-e1",
        "vlan": "",
        "connected": True,
    }
    stock = rows[("STOCKLIKE01", "Network adapter 1")]
    assert (stock["switch"], stock["portgroup"], stock["vlan"], stock["connected"]) == (
        "dvSwitchEdge",
        "dvPgEdge",
        "50",
        True,
    )
    assert rows[("DISCO01", "Network adapter 1")]["connected"] is False
    assert rows[("NONIC01", None)] == {
        "switch": "",
        "portgroup": "",
        "port": None,
        "vm": "NONIC01",
        "nic": None,
        "mac": "",
        "ips": [],
        "host": "esx-e2",
        "vlan": "",
        "connected": False,
    }


def test_nic_place_says_why(lab: Inventory) -> None:
    place = {i.vm.name: lab.nic_place(i) for i in lab.portless if i.vm.name != "EDGE01"}
    assert place == {
        "STD-ONLY01": "on VM Network: not on a distributed port",
        "NSX-APP01": "on nsx.LogicalSwitch 2d4f-77aa: not on a distributed port",
        "NOBACKING01": "no network backing: not on a distributed port",
        "STOCKLIKE01": "on portgroup dvPgEdge with no port assigned (no portKey)",
        "DISCO01": "on portgroup dvPgEdge with no port assigned (no portKey)",
        "GHOST01": "backing names port 99 on dvSwitchEdge, which is not in the inventory",
        "CLAIM01": "backing names port 1 on dvSwitchEdge, which EDGE01 / Network adapter 1 holds",
        "NONIC01": "the VM has no network adapter",
        "NOMAC01": "on portgroup dvPgEdge with no port assigned (no portKey)",
    }


def test_snapshot_round_trip_keeps_the_network(lab: Inventory) -> None:
    back = parse_inventory(json.loads(json.dumps(dump_inventory(lab))), "again")
    assert back.vms == lab.vms
    assert names(back.portless) == names(lab.portless)
    std = next(n for vm in back.vms.values() if vm.name == "STD-ONLY01" for n in vm.nics)
    assert std.network == "VM Network"


def test_pyvmomi_serialized_backings_parse_to_the_network() -> None:
    """Standard, opaque, no backing and a DVS backing without portKey, written by pyVmomi's serializer."""
    from pyVmomi import VmomiSupport, vim, vmodl
    from pyVmomi.SoapAdapter import Serialize

    from tui.backends._soap import parse_vm

    def card(key: int, backing: object) -> object:
        return vim.vm.device.VirtualVmxnet3(
            key=key,
            deviceInfo=vim.Description(label=f"Network adapter {key - 3999}", summary=""),
            backing=backing,
            macAddress=f"00:50:56:AA:00:{key - 4000:02X}",
            connectable=vim.vm.device.VirtualDevice.ConnectInfo(connected=key != 4003),
        )

    devices = [
        card(4000, vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName="VM %2f Net")),
        card(
            4001,
            vim.vm.device.VirtualEthernetCard.OpaqueNetworkBackingInfo(
                opaqueNetworkId="2d4f-77aa", opaqueNetworkType="nsx.LogicalSwitch"
            ),
        ),
        card(4002, None),
        card(
            4003,
            vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(
                port=vim.dvs.PortConnection(switchUuid="50 36", portgroupKey="dvportgroup-9")
            ),
        ),
    ]
    content = vmodl.query.PropertyCollector.ObjectContent(
        obj=vim.VirtualMachine("vm-7"),
        propSet=[
            # pyVmomi's stubs omit the .Array types it makes at run time.
            vmodl.DynamicProperty(name="config.hardware.device", val=vim.vm.device.VirtualDevice.Array(devices)),  # type: ignore[attr-defined]
            vmodl.DynamicProperty(name="name", val="mixed"),
        ],
    )
    version = "vim.version.version13"
    info = VmomiSupport.Object(name="objects", type=type(content), version=version, flags=0)
    vm = parse_vm(ET.fromstring(Serialize(content, info, version)))
    got = [(n.key, n.network, n.switch, n.portgroup, n.port, n.connected) for n in vm.nics]
    assert got == [
        (4000, "VM / Net", "", "", "", True),
        (4001, "nsx.LogicalSwitch 2d4f-77aa", "", "", "", True),
        (4002, "", "", "", "", True),
        (4003, "", "50 36", "dvportgroup-9", "", False),
    ]


# -- the search index ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "vm", "field"),
    [
        ("STD-ONLY01", "STD-ONLY01", Field.VM),
        ("std-only01/network adapter 1", "STD-ONLY01", Field.VM_NIC),
        ("10.70.0.5", "NSX-APP01", Field.IP),
        ("00-50-56-AB-04-01", "STOCKLIKE01", Field.MAC),
        ("0050.56ab.0501", "DISCO01", Field.MAC),
        ("NONIC01", "NONIC01", Field.VM),
        ("NOMAC01", "NOMAC01", Field.VM),
    ],
)
def test_portless_nics_are_found(lab: Inventory, query: str, vm: str, field: Field) -> None:
    hits = LookupIndex(lab).search(query)
    assert hits and hits[0].port is None and hits[0].portless is not None
    assert hits[0].portless.vm.name == vm and hits[0].field is field and hits[0].match is Match.EXACT


def test_a_port_ranks_before_a_portless_nic_of_the_same_vm(lab: Inventory) -> None:
    hits = LookupIndex(lab).search("EDGE01")
    assert [(h.port.key if h.port else None) for h in hits] == ["1", None]
    assert hits[1].portless is not None and hits[1].portless.nic is not None
    assert hits[1].portless.nic.label == "Network adapter 2"


def test_network_names_are_searchable(lab: Inventory) -> None:
    hits = LookupIndex(lab).search("VM Network")
    assert {h.portless.vm.name for h in hits if h.portless} == {"EDGE01", "STD-ONLY01"}
    assert all(h.field is Field.PORTGROUP for h in hits)
    # A distributed portgroup finds its ports and the NICs on it without a port.
    pg = LookupIndex(lab).search("dvPgEdge", limit=None)
    assert {h.portless.vm.name for h in pg if h.portless} == {"STOCKLIKE01", "DISCO01", "GHOST01", "CLAIM01", "NOMAC01"}
    assert len([h for h in pg if h.port]) == 8


# -- the CLI ---------------------------------------------------------------------------------


def test_find_vm_without_a_port_json(capsys: pytest.CaptureFixture[str], lab_file: Path) -> None:
    code, out, err = run(capsys, "find", "STOCKLIKE01", "--snapshot", str(lab_file), "--json")
    assert code == 0 and "Traceback" not in err
    assert json.loads(out) == [
        {
            "switch": "dvSwitchEdge",
            "portgroup": "dvPgEdge",
            "port": None,
            "vm": "STOCKLIKE01",
            "nic": "Network adapter 1",
            "mac": "00:50:56:ab:04:01",
            "ips": ["10.50.1.40"],
            "host": "esx-e1",
            "vlan": "50",
            "connected": True,
            "matched": "vm: STOCKLIKE01",
            "matched_field": "vm",
            "matched_value": "STOCKLIKE01",
            "match": "exact",
        }
    ]


def test_find_vm_without_a_nic(capsys: pytest.CaptureFixture[str], lab_file: Path) -> None:
    code, out, _ = run(capsys, "find", "NONIC01", "--snapshot", str(lab_file), "--json")
    (row,) = json.loads(out)
    assert code == 0 and row["vm"] == "NONIC01" and row["nic"] is None and row["port"] is None
    code, out, _ = run(capsys, "find", "NONIC01", "--snapshot", str(lab_file))
    assert code == 0
    assert "(no NIC)" in out and "1 VM without a NIC on no distributed port" in out
    assert "NONIC01 / (no NIC): the VM has no network adapter" in out


def test_find_table_says_not_on_a_distributed_port(capsys: pytest.CaptureFixture[str], lab_file: Path) -> None:
    code, out, _ = run(capsys, "find", "EDGE01", "--snapshot", str(lab_file))
    assert code == 0
    lines = out.splitlines()
    on_port = next(line for line in lines if "Network adapter 1" in line)
    off_port = next(line for line in lines if "Network adapter 2" in line and "EDGE01 /" not in line)
    assert " 1 " in on_port and "connected" in on_port
    assert "none" in off_port and "no port" in off_port and "VM Network" in off_port
    assert "1 VM NIC on no distributed port (Port: none; such a NIC cannot be mirrored):" in out
    assert "EDGE01 / Network adapter 2: on VM Network: not on a distributed port" in out


def test_find_by_mac_and_ip_of_a_portless_nic(capsys: pytest.CaptureFixture[str], lab_file: Path) -> None:
    for term, vm in (("00:50:56:ab:02:01", "NSX-APP01"), ("10.60.0.5", "STD-ONLY01")):
        code, out, _ = run(capsys, "find", term, "--snapshot", str(lab_file), "--json")
        rows = json.loads(out)
        assert code == 0 and [(r["vm"], r["port"]) for r in rows] == [(vm, None)]


def test_ports_lists_ports_only_and_says_what_it_leaves_out(capsys: pytest.CaptureFixture[str], lab_file: Path) -> None:
    code, out, _ = run(capsys, "ports", "--snapshot", str(lab_file), "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 8 and all(isinstance(r["port"], str) for r in rows)
    code, out, _ = run(capsys, "ports", "--snapshot", str(lab_file), "--vm", "STD-ONLY01", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = run(capsys, "ports", "--snapshot", str(lab_file), "--vm", "STD-ONLY01")
    assert code == 0 and "0 ports" in out
    assert "Not listed (ports lists ports; `dvmirror find VM` shows them): 1 VM NIC on no distributed port:" in out
    assert "STD-ONLY01 / Network adapter 1: on VM Network: not on a distributed port" in out
    code, out, _ = run(capsys, "ports", "--snapshot", str(lab_file), "--portgroup", "dvPgEdge")
    assert "5 VM NICs on no distributed port" in out and "STD-ONLY01" not in out
    code, out, _ = run(capsys, "ports", "--snapshot", str(lab_file))
    assert "9 VM NICs and 1 VM without a NIC on no distributed port" in out


def test_labgen_writes_the_portless_lab(tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    assert labgen.main(["portless", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == labgen.portless_lab()


def test_a_partial_inventory_lists_only_nics_that_name_no_port(lab: Inventory) -> None:
    """While the ports are still being read (the TUI shows the tree early), a NIC whose backing
    names a port is not reported as portless; one that names none already is."""
    partial = Inventory.build(
        vcenter=lab.vcenter,
        source=lab.source,
        datacenters=lab.datacenters,
        hosts=list(lab.hosts.values()),
        switches=list(lab.switches.values()),
        portgroups=list(lab.portgroups.values()),
        ports=[],
        vms=list(lab.vms.values()),
        ports_read=False,
    )
    assert names(partial.portless) == [item for item in names(lab.portless) if item[0] not in ("GHOST01", "CLAIM01")]
