"""Prepare and restore a monitor port against the vcsim test server (CreateDVPortgroup_Task, ReconfigVM_Task).

The lab is the demo lab before the walkthrough (:func:`tui.backends.labs.walkthrough`: no dvPgMirror,
MGTSRVR003UX's Network adapter 2 on port 2258 of dvPgStaging). Each test starts its own server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import helpers
from tests.integration.test_vsphere_backend import settings_for
from tui import monitor_ops
from tui.backends import ChangeRefused
from tui.backends.labs import walkthrough
from tui.backends.vsphere import VsphereBackend
from tui.model import Inventory
from tui.monitor import MonitorRequest

pytestmark = pytest.mark.vcsim

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "tui" / "backends" / "labs" / "demo.json"
VM = "MGTSRVR003UX"
NIC = "Network adapter 2"


def walkthrough_lab() -> dict[str, Any]:
    return walkthrough(json.loads(DEMO.read_text(encoding="utf-8")))


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVMIRROR_MONITOR_STATE", str(tmp_path / "monitor-ports.json"))
    monkeypatch.setenv("DVMIRROR_AUDIT_LOG", str(tmp_path / "audit.jsonl"))


@pytest.fixture
def lab_backend(start_vcsim: Any) -> Iterator[tuple[Any, VsphereBackend]]:
    server = start_vcsim(walkthrough_lab())
    backend = VsphereBackend(settings_for(server))
    try:
        yield server, backend
    finally:
        backend.close()


def nic_of(inv: Inventory, vm: str = VM, label: str = NIC) -> Any:
    v = next(x for x in inv.vms.values() if x.name == vm)
    return next(n for n in v.nics if n.label == label)


def test_prepare_creates_the_portgroup_moves_the_nic_and_restore_puts_it_back(
    lab_backend: tuple[Any, VsphereBackend], tmp_path: Path
) -> None:
    _server, backend = lab_backend
    inv = backend.load()
    assert "dvPgMirror" not in {pg.name for pg in inv.portgroups.values()}
    before = nic_of(inv)
    assert before.port == "2258"
    plan = backend.monitor_plan(inv, MonitorRequest(vm=VM, nic=NIC, vlan=205))
    assert plan.errors == ()
    assert plan.create_spec is not None and plan.reconfig_spec is not None
    assert plan.reconfig_spec["changeVersion"]  # the VM's, read from the server
    assert plan.reconfig_spec["deviceChange"][0]["device"]["_type"] == "VirtualVmxnet3"
    teaming = plan.create_spec["defaultPortConfig"]["uplinkTeamingPolicy"]
    assert teaming["policy"]["value"] == "loadbalance_srcid"  # copied from the template, as the server has it
    order = ["dvUplink1", "dvUplink2", "dvUplink3", "dvUplink4"]
    assert teaming["uplinkPortOrder"]["activeUplinkPort"] == order

    outcome = monitor_ops.prepare(backend, inv, plan)
    assert outcome.result == "ok", outcome
    assert outcome.done is not None and outcome.done.created
    port = outcome.done.port
    after = backend.load()
    mirror = next(pg for pg in after.portgroups.values() if pg.name == "dvPgMirror")
    assert mirror.vlan.vlan_id == 205 and mirror.key == outcome.done.portgroup_key
    from tui.backends._monitor import portgroup_ref, read_teaming

    created = read_teaming(backend._content.propertyCollector, portgroup_ref(backend._stub, mirror.key))
    assert created is not None and created["uplinkPortOrder"]["activeUplinkPort"] == order  # as sent
    nic = nic_of(after)
    assert (nic.portgroup, nic.port) == (mirror.key, port)
    assert after.ports[(nic.switch, port)].connectee is not None
    assert after.ports[(nic.switch, "2258")].connectee is None
    # Recorded for restore (0600) and audited.
    state = tmp_path / "monitor-ports.json"
    assert state.stat().st_mode & 0o777 == 0o600
    audited = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert audited[-1]["result"] == "ok" and audited[-1]["changes"][0]["operation"] == "monitorPrepare"
    assert audited[-1]["changes"][0]["port"] == port

    # Nothing to do the second time.
    again = backend.monitor_plan(after, MonitorRequest(vm=VM, vlan=205))
    assert again.nothing_to_do and [p.code for p in again.problems] == ["AlreadyThere"]

    back = monitor_ops.restore(backend, after, VM, remove_portgroup=True)
    assert back.result == "ok", back
    assert back.done is not None and back.done.port == "2258" and back.done.removed
    final = backend.load()
    assert nic_of(final).port == "2258" and nic_of(final).portgroup == before.portgroup
    assert "dvPgMirror" not in {pg.name for pg in final.portgroups.values()}
    assert json.loads(state.read_text())["records"] == []


def test_a_change_to_the_vm_after_the_plan_is_refused(lab_backend: tuple[Any, VsphereBackend]) -> None:
    server, backend = lab_backend
    inv = backend.load()
    plan = backend.monitor_plan(inv, MonitorRequest(vm=VM, vlan=205, portgroup="dvPgStaging2"))
    # Another client changes the VM: its changeVersion moves on.
    other = VsphereBackend(settings_for(server))
    try:
        moved = other.monitor_plan(other.load(), MonitorRequest(vm=VM, nic=NIC, vlan=120, portgroup="dvPgServers"))
        assert monitor_ops.prepare(other, other.load(), moved).result == "ok"
    finally:
        other.close()
    outcome = monitor_ops.prepare(backend, inv, plan)
    assert outcome.result == "refused" and outcome.exit_code == 1
    assert [p.code for p in outcome.problems][:1] == ["ConcurrentAccess"]
    names = {pg.name for pg in backend.load().portgroups.values()}
    assert "dvPgStaging2" not in names  # nothing was created


def test_vcsim_refuses_a_stale_change_version_itself(lab_backend: tuple[Any, VsphereBackend]) -> None:
    """The plan's changeVersion is what the server checks (ConcurrentAccess from ReconfigVM_Task)."""
    _server, backend = lab_backend
    inv = backend.load()
    plan = backend.monitor_plan(inv, MonitorRequest(vm=VM, nic=NIC, vlan=120, portgroup="dvPgServers"))
    assert plan.reconfig_spec is not None
    stale = dict(plan.reconfig_spec, changeVersion="2001-01-01T00:00:00Z")
    from tui.backends._monitor import run_task, to_vim, vm_ref

    assert plan.vm is not None
    ref = vm_ref(backend._stub, plan.vm.key)
    with pytest.raises(ChangeRefused) as e:
        backend._session("test", lambda: run_task(lambda: ref.ReconfigVM_Task(to_vim(stale)), "x", {}, lambda: False))
    assert e.value.sent and [p.code for p in e.value.problems] == ["ConcurrentAccess"]
    assert nic_of(backend.load()).port == "2258"


def test_vcsim_create_faults(lab_backend: tuple[Any, VsphereBackend]) -> None:
    """DuplicateName and InvalidArgument from CreateDVPortgroup_Task, as vCenter declares them."""
    _server, backend = lab_backend
    inv = backend.load()
    switch = inv.switch_by_name("dvSwitchCloud")
    assert switch is not None
    plan = backend.monitor_plan(inv, MonitorRequest(vm=VM, vlan=205))
    assert plan.create_spec is not None
    dup = dict(plan.create_spec, name="dvPgWeb")
    with pytest.raises(ChangeRefused) as e:
        backend._monitor_create(switch, dup, 205)
    assert [p.code for p in e.value.problems] == ["DuplicateName"]
    bad = json.loads(json.dumps(plan.create_spec))
    bad["defaultPortConfig"]["vlan"]["vlanId"] = 5000
    with pytest.raises(ChangeRefused) as e:
        backend._monitor_create(switch, bad, 5000)
    assert [p.code for p in e.value.problems] == ["InvalidArgument"]


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (MonitorRequest(vm="NOPE", vlan=205), "VmNotFound"),
        (MonitorRequest(vm=VM, nic="Network adapter 9", vlan=205), "NicNotFound"),
        (MonitorRequest(vm="SQL-CLUSTER01", vlan=205), "NicAmbiguous"),
        (MonitorRequest(vm=VM, vlan=100), "VlanInUse"),
        (MonitorRequest(vm=VM, vlan=205, portgroup="dvPgWeb"), "PortgroupVlanMismatch"),
        (MonitorRequest(vm="KDC01", vlan=205), "OnlyNic"),
        (MonitorRequest(vm=VM, nic="Network adapter 1", vlan=205), "ManagementAddress"),
        (MonitorRequest(vm=VM, vlan=0), "BadVlan"),
    ],
)
def test_refusals_send_nothing(lab_backend: tuple[Any, VsphereBackend], request_: MonitorRequest, code: str) -> None:
    _server, backend = lab_backend
    inv = backend.load()
    plan = backend.monitor_plan(inv, request_)
    assert code in [p.code for p in plan.errors]
    outcome = monitor_ops.prepare(backend, inv, plan)
    assert outcome.result == "refused" and outcome.exit_code == 1
    assert nic_of(backend.load()).port == "2258"


def test_host_not_on_the_switch(start_vcsim: Any) -> None:
    """A VM on a host that is no member of the switch: refused by the check (and by the server)."""
    lab = walkthrough_lab()
    lab["hosts"].append({"key": "host-99", "name": "esx-99"})
    mgmt = next(s for s in lab["switches"] if s["name"] == "dvSwitchMgmt")
    oob = next(pg for pg in lab["portgroups"] if pg["name"] == "dvPgOOB")
    lab["vms"].append(
        {
            "key": "vm-9999",
            "name": "LONER",
            "host": "host-99",
            "power": "poweredOff",
            "nics": [
                {"key": 4000, "label": "Network adapter 1", "mac": "00:50:56:9a:99:01", "switch": mgmt["key"],
                 "portgroup": oob["key"], "port": "", "connected": False, "ips": []},
                {"key": 4001, "label": "Network adapter 2", "mac": "00:50:56:9a:99:02", "switch": "",
                 "portgroup": "", "port": "", "connected": False, "ips": []},
            ],
        }
    )  # fmt: skip
    server = start_vcsim(lab)
    backend = VsphereBackend(settings_for(server))
    try:
        inv = backend.load()
        plan = backend.monitor_plan(inv, MonitorRequest(vm="LONER", nic="Network adapter 2", vlan=205,
                                                        switch="dvSwitchCloud"))  # fmt: skip
        assert "HostNotOnSwitch" in [p.code for p in plan.errors]
        # Sent anyway (the checks skipped): the server refuses the move after creating the portgroup, and the
        # refusal says what was done.
        from dataclasses import replace

        with pytest.raises(ChangeRefused) as e:
            backend.monitor_apply(inv, replace(plan, problems=()))
        assert e.value.sent and [p.code for p in e.value.problems] == ["InvalidArgument"]
        assert e.value.message.startswith("the portgroup dvPgMirror (dvportgroup-")
        assert "was created" in e.value.message
        after = backend.load()
        assert "dvPgMirror" in {pg.name for pg in after.portgroups.values()}
        loner = next(v for v in after.vms.values() if v.name == "LONER")
        assert loner.nics[1].portgroup == ""  # not moved
    finally:
        backend.close()


def test_cli_walkthrough_from_nothing(
    lab_backend: tuple[Any, VsphereBackend], capsys: pytest.CaptureFixture[str]
) -> None:
    """Prepare dvPgMirror on VLAN 205 for MGTSRVR003UX, then the session from 448 to its new port, then verify."""
    server, _backend = lab_backend
    conn = ["--server", server.url, "--user", server.user, "--password", server.password]
    code, out, err = helpers.run_cli(capsys, "monitor", "prepare", "--vm", VM, "--nic", NIC, "--vlan", "205", *conn)
    assert code == 0, err + out
    assert "CreateDVPortgroup_Task" in out and "ReconfigVM_Task" in out
    port = out.split("dvmirror session create --dest ")[1].split()[0]
    assert port.isdigit() and port != "2258"
    code, data, err = helpers.run_cli_json(capsys, "monitor", "prepare", "--vm", VM, "--vlan", "205", *conn)
    assert code == 0 and data["plan"]["nothingToDo"] and data["port"] == port, (data, err)
    code, data, err = helpers.run_cli_json(
        capsys, "session", "create", "--switch", "dvSwitchCloud", "--name", "F5 DMZ to monitor",
        "--type", "mixedDestMirror", "--source", "448", "--dest", port, "--encap-vlan", "205", "--length", "60", *conn,
    )  # fmt: skip
    assert code == 0 and data["ok"], (data, err)
    key = str(data["change"]["session"]["key"])
    code, data, err = helpers.run_cli_json(capsys, "session", "verify", "--session", key, "--seconds", "2", *conn)
    assert code == 0 and data["verdict"] == "mirroring", (data, err)


def test_vcsim_refuses_a_bad_backing(lab_backend: tuple[Any, VsphereBackend]) -> None:
    """ReconfigVM_Task to a portgroup the switch does not have: InvalidArgument, nothing moved."""
    _server, backend = lab_backend
    inv = backend.load()
    plan = backend.monitor_plan(inv, MonitorRequest(vm=VM, nic=NIC, vlan=120, portgroup="dvPgServers"))
    assert plan.reconfig_spec is not None and plan.vm is not None
    bad = json.loads(json.dumps(plan.reconfig_spec))
    bad["deviceChange"][0]["device"]["backing"]["port"]["portgroupKey"] = "dvportgroup-999"
    from tui.backends._monitor import run_task, to_vim, vm_ref

    ref = vm_ref(backend._stub, plan.vm.key)
    with pytest.raises(ChangeRefused) as e:
        backend._session("test", lambda: run_task(lambda: ref.ReconfigVM_Task(to_vim(bad)), "x", {}, lambda: False))
    assert e.value.sent and [p.code for p in e.value.problems] == ["InvalidArgument"]
    assert nic_of(backend.load()).port == "2258"
