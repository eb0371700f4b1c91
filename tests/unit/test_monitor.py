"""Preparing a monitor port: the pure planning (tui/monitor.py), the records file, the in-memory backend, the CLI."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from tests.helpers import run_cli, run_cli_json
from tui import monitor, monitor_ops
from tui.backends.snapshot import SnapshotBackend
from tui.model import Inventory, Severity
from tui.monitor import MonitorRequest, RestoreRecord, VmFacts, plan
from tui.monitor_store import MonitorStore

VM = "MGTSRVR003UX"
NIC = "Network adapter 2"


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVMIRROR_MONITOR_STATE", str(tmp_path / "monitor-ports.json"))


@pytest.fixture
def before() -> Inventory:
    """The demo lab before the walkthrough: no dvPgMirror."""
    return SnapshotBackend(None, lab="walkthrough").load()


@pytest.fixture
def demo() -> Inventory:
    return SnapshotBackend(None).load()


def codes(p: monitor.MonitorPlan) -> list[str]:
    return [x.code for x in p.problems]


def test_the_walkthrough_lab_has_no_mirror_portgroup(before: Inventory) -> None:
    names = {pg.name for pg in before.portgroups.values()}
    assert "dvPgMirror" not in names and "dvPgStaging" in names
    assert all(not s.sessions for s in before.switches.values())
    vm = monitor.find_vm(before, VM)
    assert vm is not None and vm.nics[1].port == "2258" and vm.nics[1].ips == ()


def test_plan_creates_dvpgmirror_and_moves_network_adapter_2(before: Inventory) -> None:
    facts = VmFacts(
        change_version="2026-12-01T10:00:00Z", device_types={4001: "VirtualVmxnet3"}, teaming={"_type": "T"}
    )
    p = plan(before, MonitorRequest(vm=VM, vlan=205), facts)
    assert p.ok and p.problems == ()
    assert p.nic is not None and p.nic.label == NIC  # the one adapter without a guest address
    assert p.template is not None and p.template.name == "dvPgStaging"  # its own portgroup: the same uplinks
    assert p.create_spec is not None
    assert p.create_spec["name"] == "dvPgMirror"
    assert p.create_spec["defaultPortConfig"]["vlan"] == {
        "_type": "VmwareDistributedVirtualSwitchVlanIdSpec",
        "inherited": False,
        "vlanId": 205,
    }
    assert p.create_spec["defaultPortConfig"]["uplinkTeamingPolicy"] == {"_type": "T"}
    spec = p.reconfig_spec
    assert spec is not None and spec["changeVersion"] == "2026-12-01T10:00:00Z"
    change = spec["deviceChange"][0]
    assert change["operation"] == "edit" and change["device"]["key"] == 4001
    assert change["device"]["_type"] == "VirtualVmxnet3"
    assert change["device"]["backing"]["port"]["portgroupKey"] == monitor.NEW_KEY
    assert json.loads(json.dumps(p.to_json()))["createPortgroup"] is True


def test_an_existing_portgroup_on_the_vlan_is_reused(demo: Inventory) -> None:
    p = plan(demo, MonitorRequest(vm="KRBCLIENT01", vlan=205))
    assert p.portgroup is not None and p.portgroup.name == "dvPgMirror" and p.create_spec is None
    assert p.reconfig_spec is not None
    assert p.reconfig_spec["deviceChange"][0]["device"]["backing"]["port"]["portgroupKey"] == p.portgroup.key


def test_nothing_to_do_reports_the_port(demo: Inventory) -> None:
    p = plan(demo, MonitorRequest(vm=VM, vlan=205))
    assert p.nothing_to_do and codes(p) == ["AlreadyThere"] and p.ok
    assert "2258" in p.problems[0].message and p.problems[0].severity is Severity.INFO


@pytest.mark.parametrize(
    ("req", "code", "severity"),
    [
        (MonitorRequest(vm="nobody", vlan=205), "VmNotFound", Severity.ERROR),
        (MonitorRequest(vm=VM, nic="Network adapter 7", vlan=205), "NicNotFound", Severity.ERROR),
        (MonitorRequest(vm="SQL-CLUSTER01", vlan=205), "NicAmbiguous", Severity.ERROR),
        (MonitorRequest(vm=VM, vlan=100), "VlanInUse", Severity.ERROR),
        (MonitorRequest(vm=VM, vlan=299, portgroup="dvPgMirror"), "VlanInUse", Severity.ERROR),
        (MonitorRequest(vm=VM, vlan=205, portgroup="dvPgWeb"), "PortgroupVlanMismatch", Severity.ERROR),
        (MonitorRequest(vm=VM, vlan=205, portgroup="dvSwitchCloud-DVUplinks"), "PortgroupIsUplink", Severity.ERROR),
        (MonitorRequest(vm="KDC01", vlan=205), "OnlyNic", Severity.ERROR),
        (MonitorRequest(vm=VM, nic="Network adapter 1", vlan=205), "ManagementAddress", Severity.ERROR),
        (MonitorRequest(vm=VM, vlan=0), "BadVlan", Severity.ERROR),
        (MonitorRequest(vm=VM, vlan=4095), "BadVlan", Severity.ERROR),
        (MonitorRequest(vm=VM, vlan=205, portgroup="x" * 81), "BadPortgroupName", Severity.ERROR),
        (MonitorRequest(vm=VM, vlan=205, switch="nope"), "SwitchNotFound", Severity.ERROR),
        (MonitorRequest(vm=VM, vlan=205, copy_from="nope"), "TemplateNotFound", Severity.ERROR),
        (MonitorRequest(vm="WEB13", vlan=205), "PoweredOff", Severity.WARNING),
    ],
)
def test_each_check(before: Inventory, req: MonitorRequest, code: str, severity: Severity) -> None:
    p = plan(before, req)
    found = [x for x in p.problems if x.code == code]
    assert found and found[0].severity is severity, p.problems
    assert all(x.message for x in p.problems)


def test_a_trunk_carrying_the_vlan_does_not_use_it(before: Inventory) -> None:
    """dvPgIDS-Trunk and the uplinks carry 1-4094: that is no use of VLAN 205 by another portgroup."""
    assert 205 not in monitor.vlans_in_use(before, next(iter(before.switches)))
    assert plan(before, MonitorRequest(vm=VM, vlan=205)).ok


def test_a_nic_with_some_of_the_addresses_is_a_warning(before: Inventory) -> None:
    vm = monitor.find_vm(before, VM)
    assert vm is not None
    nic2 = replace(vm.nics[1], ips=("192.168.205.5",))
    inv = Inventory.build(
        vcenter=before.vcenter,
        source=before.source,
        datacenters=before.datacenters,
        hosts=list(before.hosts.values()),
        switches=list(before.switches.values()),
        portgroups=list(before.portgroups.values()),
        ports=list(before.ports.values()),
        vms=[replace(v, nics=(v.nics[0], nic2)) if v is vm else v for v in before.vms.values()],
    )
    p = plan(inv, MonitorRequest(vm=VM, nic=NIC, vlan=205))
    assert codes(p) == ["NicHasAddress"] and p.ok and p.problems[0].severity is Severity.WARNING


def test_host_not_a_member(before: Inventory) -> None:
    vm = monitor.find_vm(before, VM)
    assert vm is not None
    inv = replace(before, vms={**before.vms, vm.key: replace(vm, host="host-999")})
    assert "HostNotOnSwitch" in codes(plan(inv, MonitorRequest(vm=VM, vlan=205)))


def test_free_vlan_suggestion(before: Inventory) -> None:
    cloud = next(s.key for s in before.switches.values() if s.name == "dvSwitchCloud")
    assert monitor.free_vlan(before, cloud, 205) == 205
    assert monitor.free_vlan(before, cloud, 100) == 101
    assert monitor.free_vlan(before, cloud, 299, portgroup="dvPgStaging") == 299


def test_record_from_hostile_json() -> None:
    good = RestoreRecord("vc", "vm-1", "A", 4001, "Network adapter 2", "sw", "pg", "2258", "pg2", True, "t")
    assert RestoreRecord.from_json(good.to_json()) == good
    bad: object
    for bad in (None, [], {"vmKey": 1}, {**good.to_json(), "nicKey": "4001"}, {**good.to_json(), "nicKey": True}):
        assert RestoreRecord.from_json(bad) is None


def test_store_file_mode_and_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "d" / "monitor-ports.json"
    store = MonitorStore.open(path)
    rec = RestoreRecord("vc", "vm-1", "A", 4001, "Network adapter 2", "sw", "pg", "2258", "pg2")
    assert store.put(rec) is None
    assert path.stat().st_mode & 0o777 == 0o600
    assert store.put(replace(rec, port="9")) is None  # the first record is kept
    again = MonitorStore.open(path)
    assert again.find("vc", "vm-1") == [rec]
    assert again.drop(rec) is None and MonitorStore.open(path).records == []
    path.write_text("{not json")
    broken = MonitorStore.open(path)
    assert broken.records == [] and "not readable" in broken.message and broken.path is None
    link = tmp_path / "link.json"
    os.symlink(path, link)
    assert "cannot be read" in MonitorStore.open(link).message


def test_offline_prepare_session_restore(tmp_path: Path) -> None:
    backend = SnapshotBackend(None, lab="walkthrough")
    inv = backend.load()
    p = backend.monitor_plan(inv, MonitorRequest(vm=VM, vlan=205))
    out = monitor_ops.prepare(backend, inv, p)
    assert out.result == "ok" and out.done is not None and out.done.created
    after = backend.load()
    port = out.done.port
    nic = monitor.find_vm(after, VM).nics[1]  # type: ignore[union-attr]
    assert nic.port == port and after.portgroups[nic.portgroup].vlan.vlan_id == 205
    assert after.ports[(nic.switch, port)].connectee is not None
    # A stale plan (the VM changed since) is refused.
    stale = monitor_ops.prepare(backend, after, replace(p, request=replace(p.request, portgroup="dvPgMirror")))
    assert stale.result == "refused" and [x.code for x in stale.problems][:1] == ["ConcurrentAccess"]
    back = monitor_ops.restore(backend, backend.load(), VM, remove_portgroup=True)
    assert back.result == "ok" and back.done is not None and back.done.port == "2258" and back.done.removed
    assert "dvPgMirror" not in {pg.name for pg in backend.load().portgroups.values()}
    assert monitor_ops.restore(backend, backend.load(), VM).problems[0].code == "NothingToRestore"
    assert not (tmp_path / "monitor-ports.json").exists()  # the demo lab keeps its records in memory


def test_cli_prepare_dry_run_json_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run_cli_json(
        capsys, "--walkthrough", "monitor", "prepare", "--vm", VM, "--vlan", "205", "--dry-run"
    )
    assert code == 0 and data["result"] == "dry-run" and data["plan"]["createDVPortgroupSpec"]["name"] == "dvPgMirror"
    code, data, _ = run_cli_json(capsys, "--walkthrough", "monitor", "prepare", "--vm", VM, "--vlan", "100")
    assert code == 1 and data["result"] == "refused" and data["plan"]["problems"][0]["code"] == "VlanInUse"
    with pytest.raises(SystemExit) as usage:
        run_cli(capsys, "--walkthrough", "monitor", "prepare", "--vm", VM, "--vlan", "abc")
    assert usage.value.code == 2 and "not a VLAN ID" in capsys.readouterr().err
    code, out, _ = run_cli(capsys, "--walkthrough", "monitor", "prepare", "--vm", VM, "--vlan", "205")
    assert code == 0 and "ready to be the destination: dvmirror session create --dest 3005" in out
    code, data, _ = run_cli_json(capsys, "--demo", "monitor", "restore", "--vm", VM)
    assert code == 1 and data["problems"][0]["code"] == "NothingToRestore"


def test_a_move_whose_answer_is_lost_can_still_be_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """The restore record is written before anything is sent: a lost answer leaves it; a refusal with
    nothing sent takes it away again."""
    from tui.backends import ChangeRefused, ConnectionFailed

    backend = SnapshotBackend(None, lab="walkthrough")
    inv = backend.load()
    p = backend.monitor_plan(inv, MonitorRequest(vm=VM, vlan=205))
    real = backend.monitor_apply

    def lost(inventory: Inventory, the_plan: monitor.MonitorPlan) -> object:
        real(inventory, the_plan)  # the change is made...
        raise ConnectionFailed("the connection was lost")  # ...and its answer lost

    monkeypatch.setattr(backend, "monitor_apply", lost)
    assert monitor_ops.prepare(backend, inv, p).result == "error"
    back = monitor_ops.restore(backend, backend.load(), VM)
    assert back.result == "ok" and back.done is not None and back.done.port == "2258"

    def refused(inventory: Inventory, the_plan: monitor.MonitorPlan) -> object:
        raise ChangeRefused("no", [], sent=False)

    monkeypatch.setattr(backend, "monitor_apply", refused)
    assert monitor_ops.prepare(backend, backend.load(), p).result == "refused"
    assert monitor_ops.restore(backend, backend.load(), VM).problems[0].code == "NothingToRestore"


def test_portgroup_names_are_sent_as_checked() -> None:
    inv = SnapshotBackend(None, lab="walkthrough").load()
    spaced = plan(inv, MonitorRequest(vm=VM, vlan=205, portgroup="  dvPgMirror "))
    assert spaced.create_spec is not None and spaced.create_spec["name"] == "dvPgMirror"
    hostile = plan(inv, MonitorRequest(vm=VM, vlan=205, portgroup="ev\x1b[2Jil"))
    assert "BadPortgroupName" in [x.code for x in hostile.errors]
