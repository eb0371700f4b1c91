"""Snapshot files: the demo lab's fixed facts, the format's errors, saving, in-memory changes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests import labgen
from tests.conftest import CLOUD, MGMT, port
from tests.helpers import WALKTHROUGH
from tui.backends import ChangeRefused, ReadOnlyError, SnapshotError, StaleSwitch
from tui.backends.snapshot import DEMO_LAB, SnapshotBackend, dump_inventory, parse_inventory, save_inventory
from tui.model import Binding, ChangeOperation, ConnecteeType, Inventory, MirrorSession, SessionChange, VspanPorts


def test_committed_demo_lab_is_the_generator_output() -> None:
    committed = json.loads((labgen.DEMO_PATH).read_text(encoding="utf-8"))
    assert committed == labgen.demo_lab(), "run `python -m tests.labgen demo` after changing the generator"
    assert labgen.DEMO_PATH.name == DEMO_LAB


def test_demo_lab_fixed_facts(demo: Inventory) -> None:
    """DESIGN.md §6: tests, screenshots and docs rely on these."""
    assert demo.vcenter == "vcsa01.lab.local"
    assert demo.datacenters == ("DC-Cloud",)
    assert sorted(h.name for h in demo.hosts.values()) == ["esx-01", "esx-02", "esx-03", "esx-04"]
    cloud = demo.switches[CLOUD]
    assert cloud.name == "dvSwitchCloud"
    assert cloud.uplink_names == ("dvUplink1", "dvUplink2", "dvUplink3", "dvUplink4")
    assert demo.switches[MGMT].name == "dvSwitchMgmt"
    uplink_pg = next(pg for pg in demo.portgroups_by_switch[CLOUD] if pg.uplink)
    assert uplink_pg.vlan.trunk == ((0, 4094),)
    for key, pg, vm, host, vlan in (
        ("448", "dvPgDMZ", "F5-LTM01", "esx-03", 204),
        ("2258", "dvPgMirror", "MGTSRVR003UX", "esx-03", 205),
    ):
        p = port(demo, key)
        assert demo.portgroups[p.portgroup].name == pg
        assert demo.portgroups[p.portgroup].vlan.vlan_id == vlan
        vmnic = demo.vm_nic(p)
        assert vmnic is not None and vmnic[0].name == vm and vmnic[1].label == "Network adapter 2"
        assert demo.host_name(p.host) == host
    krb = next(v for v in demo.vms.values() if v.name == "KRBCLIENT01")
    assert "172.24.4.52" in krb.ips
    assert demo.portgroups[krb.nics[0].portgroup].switch == CLOUD
    assert len(demo.vms) >= 40 and len(demo.ports) >= 300
    pgs = list(demo.portgroups.values())
    assert any(pg.promiscuous for pg in pgs)
    assert any(pg.binding is Binding.EPHEMERAL for pg in pgs)
    assert any(len(vm.nics) > 1 for vm in demo.vms.values())
    kinds = {p.connectee.type for p in demo.ports.values() if p.connectee}
    assert {ConnecteeType.HOST_VMK_VNIC, ConnecteeType.PNIC, ConnecteeType.VM_VNIC} <= kinds
    assert any(p.connectee is None for p in demo.ports.values())
    names = {vm.name for vm in demo.vms.values()}
    assert {"vm[prod]", "[/x]"} <= names and any(not n.isascii() for n in names)
    assert sum(len(s.sessions) for s in demo.switches.values()) == 2


def test_round_trip(demo: Inventory, tmp_path: Path) -> None:
    path = tmp_path / "lab.json"
    save_inventory(demo, path)
    again = SnapshotBackend(path).load()
    assert dump_inventory(again) | {"saved": ""} == dump_inventory(demo) | {"saved": ""}
    assert again.ports == demo.ports and again.vms == demo.vms and again.switches == demo.switches


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "snap.json"
    path.write_text(text, encoding="utf-8")
    return path


def _demo_json() -> dict[str, Any]:
    return labgen.demo_lab()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format="something-else"), r"\$\.format: expected 'dvmirror-snapshot'"),
        (lambda d: d.update(version=99), r"\$\.version: version 99 is not supported"),
        (lambda d: d.pop("vcenter"), r"\$\.vcenter: missing"),
        (lambda d: d["ports"][3].pop("key"), r"\$\.ports\[3\]\.key: missing"),
        (lambda d: d["ports"][0].update(linkUp="yes"), r"\$\.ports\[0\]\.linkUp: expected a boolean, found text"),
        (lambda d: d["vms"][1]["nics"][0].update(key="x"), r"\$\.vms\[1\]\.nics\[0\]\.key: expected a whole number"),
        (lambda d: d["portgroups"][0].update(binding="sticky"), r"binding: 'sticky' is not one of"),
        (lambda d: d["portgroups"][0].update(vlan={"trunk": [[1]]}), r"vlan\.trunk\[0\]: expected \[start, end\]"),
        (lambda d: d.update(hosts={"a": 1}), r"\$\.hosts: expected a list, found an object"),
        (lambda d: d["portgroups"][2].update(switch="nope"), r"refers to unknown switch 'nope'"),
        (lambda d: d["ports"][20].update(portgroup="dvportgroup-999"), r"unknown portgroup 'dvportgroup-999'"),
        (lambda d: d["ports"].append(dict(d["ports"][0])), r"a port key appears twice"),
        (lambda d: d["switches"][0]["sessions"].append("oops"), r"sessions\[2\]: expected an object"),
        (
            lambda d: d["switches"][0]["sessions"][0].update(sourcePortReceived=["448"]),
            r"sessions\[0\]\.sourcePortReceived: expected an object, found a list",
        ),
        (
            lambda d: d["switches"][0]["sessions"][1].update(encapsulationVlanId="310"),
            r"sessions\[1\]\.encapsulationVlanId: expected a whole number, found text",
        ),
        (
            lambda d: d["switches"][0]["sessions"][1].update(enabled=1),
            r"sessions\[1\]\.enabled: expected a boolean, found a number",
        ),
        (lambda d: d["switches"][0]["sessions"][1].update(key="1"), r"two mirror sessions with the same key"),
    ],
)
def test_malformed_snapshots_name_the_problem(tmp_path: Path, mutate: Any, message: str) -> None:
    data = _demo_json()
    mutate(data)
    path = _write(tmp_path, json.dumps(data))
    with pytest.raises(SnapshotError, match=message) as err:
        SnapshotBackend(path).load()
    assert str(path.name) in str(err.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("   \n", "the file is empty"),
        ('{"format": "dvmirror-snapshot", "version": 1, "ports": [', "ends too early"),
        ("{not json}", "not valid JSON at line 1, column 2"),
        ("[1, 2]", r"\$: expected an object, found a list"),
    ],
)
def test_unreadable_snapshots(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SnapshotError, match=message):
        SnapshotBackend(_write(tmp_path, text)).load()


def test_truncated_real_snapshot(tmp_path: Path, demo: Inventory) -> None:
    full = tmp_path / "full.json"
    save_inventory(demo, full)
    cut = _write(tmp_path, full.read_text(encoding="utf-8")[:5000])
    with pytest.raises(SnapshotError, match="truncated"):
        SnapshotBackend(cut).load()


def test_missing_directory_and_binary(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="no such file") as err:
        SnapshotBackend(tmp_path / "nope.json").load()
    assert "snapshot save" in err.value.hint
    with pytest.raises(SnapshotError, match="is a directory"):
        SnapshotBackend(tmp_path).load()
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SnapshotError, match="not a text file"):
        SnapshotBackend(binary).load()


def test_save_refuses_unwritable(tmp_path: Path, demo: Inventory) -> None:
    with pytest.raises(SnapshotError, match="cannot write"):
        save_inventory(demo, tmp_path / "no" / "such" / "dir.json")


def test_parse_inventory_direct() -> None:
    inv = parse_inventory(_demo_json(), "demo")
    assert inv.source == "demo" and len(inv.switches) == 2


# -- changes in memory --------------------------------------------------------------------


def test_apply_add_edit_remove_in_memory() -> None:
    backend = SnapshotBackend()
    inv = backend.load()
    result = backend.apply(inv, CLOUD, [SessionChange(ChangeOperation.ADD, WALKTHROUGH)])
    assert result.keys == ("3",)
    created = result.switch.session("3")
    assert created is not None and created == replace(WALKTHROUGH, key="3")
    assert result.switch.config_version == "13"
    inv2 = backend.load()
    assert inv2.switches[CLOUD].session("3") == created
    edited = replace(created, enabled=False)
    result = backend.apply(inv2, CLOUD, [SessionChange(ChangeOperation.EDIT, edited)])
    assert result.switch.session("3") == edited
    assert result.switch.session("1") == inv.switches[CLOUD].session("1")
    result = backend.apply(backend.load(), CLOUD, [SessionChange(ChangeOperation.REMOVE, MirrorSession(key="3"))])
    assert [s.key for s in result.switch.sessions] == ["1", "2"]


def test_apply_refuses_stale_and_broken_and_read_only() -> None:
    backend = SnapshotBackend()
    stale = backend.load()
    backend.apply(stale, CLOUD, [SessionChange(ChangeOperation.ADD, WALKTHROUGH)])
    with pytest.raises(StaleSwitch) as err:
        backend.apply(stale, CLOUD, [SessionChange(ChangeOperation.REMOVE, MirrorSession(key="1"))])
    assert err.value.switch is not None and err.value.switch.config_version == "13"
    assert err.value.problems[0].code == "ConcurrentAccess"
    assert backend.load().switches[CLOUD].session("1") is not None  # nothing was removed
    bad = replace(WALKTHROUGH, destination=VspanPorts(port_keys=("2241",)))  # DMZ-IDS's destination
    with pytest.raises(ChangeRefused) as refused:
        backend.apply(backend.load(), CLOUD, [SessionChange(ChangeOperation.ADD, bad)])
    assert refused.value.sent is False and refused.value.exit_code == 1
    assert "VspanDestPortConflict" in [p.code for p in refused.value.problems]
    before = backend.load()
    ro = SnapshotBackend(read_only=True)
    with pytest.raises(ReadOnlyError):
        ro.apply(ro.load(), CLOUD, [SessionChange(ChangeOperation.ADD, WALKTHROUGH)])
    assert backend.load() is before
