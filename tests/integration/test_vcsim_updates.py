"""The vcsim test server's live side, checked with pyVmomi clients only (no dvmirror code, except the
last test): PropertyCollector updates (CreateFilter + WaitForUpdatesEx), a session changed by a second
client, vMotion, NIC reconnect and events. Every test starts a server of its own (``start_vcsim``).
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("pyVmomi")

from pyVim.task import WaitForTask  # noqa: E402
from pyVmomi import vim, vmodl  # noqa: E402

from tests.integration.test_vsphere_backend import settings_for  # noqa: E402
from tui.backends.vsphere import VsphereBackend  # noqa: E402

pytestmark = pytest.mark.vcsim

PC = vmodl.query.PropertyCollector
CLOUD = "50 36 4e 6c 5b 8f 2e 3d-1a 2b 3c 4d 5e 6f 70 81"
F5 = "vm-1000"  # F5-LTM01 on esx-03 (host-21): NIC 4000 on port 100 (dvPgWeb), NIC 4001 on port 448 (dvPgDMZ)
DMZ_IDS = "1"  # the demo lab's dvPortMirror session on dvSwitchCloud


def watch(si: Any, obj: Any, kind: type, paths: list[str]) -> tuple[Any, Any]:
    """A private collector with one filter on ``obj``'s ``paths``; returns (collector, filter)."""
    pc = si.content.propertyCollector.CreatePropertyCollector()
    spec = PC.FilterSpec(objectSet=[PC.ObjectSpec(obj=obj)], propSet=[PC.PropertySpec(type=kind, pathSet=paths)])
    return pc, pc.CreateFilter(spec, partialUpdates=False)


def changes_of(update: Any) -> list[tuple[str, str, Any]]:
    """(object id, property, value) of every change in an update set."""
    out = []
    for fs in update.filterSet or []:
        for ou in fs.objectSet or []:
            for c in ou.changeSet or []:
                out.append((ou.obj._moId, c.name, c.val))
    return out


def initial(pc: Any) -> str:
    update = pc.WaitForUpdatesEx("", PC.WaitOptions(maxWaitSeconds=0))
    assert update is not None and update.filterSet, "the first call reports the current state"
    assert all(ou.kind == "enter" for fs in update.filterSet for ou in fs.objectSet)
    return str(update.version)


def wait_for(
    pc: Any, version: str, done: Callable[[list[tuple[str, str, Any]]], bool], seconds: float = 10
) -> tuple[str, list[tuple[str, str, Any]]]:
    """Collect changes with bounded waits until ``done(changes)``; fails after ``seconds``."""
    seen: list[tuple[str, str, Any]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        update = pc.WaitForUpdatesEx(version, PC.WaitOptions(maxWaitSeconds=1))
        if update is not None:
            assert str(update.version) != version
            version = str(update.version)
            seen += changes_of(update)
            if done(seen):
                return version, seen
    raise AssertionError(f"no matching update within {seconds} s; saw {seen!r}")


def find(si: Any, kind: type, moid: str) -> Any:
    obj = kind(moid)
    obj._stub = si._stub
    return obj


def switch(si: Any) -> Any:
    return find(si, vim.dvs.VmwareDistributedVirtualSwitch, "dvs-21")


def ports(dvs: Any, **criteria: Any) -> list[Any]:
    return list(dvs.FetchDVPorts(vim.dvs.PortCriteria(**criteria)))


def add_session(dvs: Any, name: str) -> None:
    spec = vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(
        configVersion=dvs.config.configVersion,
        vspanConfigSpec=[
            vim.dvs.VmwareDistributedVirtualSwitch.VspanConfigSpec(
                operation="add",
                vspanSession=vim.dvs.VmwareDistributedVirtualSwitch.VspanSession(
                    name=name,
                    enabled=True,
                    sessionType="dvPortMirror",
                    sourcePortReceived=vim.dvs.VmwareDistributedVirtualSwitch.VspanPorts(portKey=["100"]),
                    destinationPort=vim.dvs.VmwareDistributedVirtualSwitch.VspanPorts(portKey=["101"]),
                ),
            )
        ],
    )
    WaitForTask(dvs.ReconfigureDvs_Task(spec))


def nic_spec(vm: Any, key: int, portgroup: str = "", port: str = "", switch_uuid: str = CLOUD) -> Any:
    nic = next(d for d in vm.config.hardware.device if d.key == key)
    nic.backing = vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(
        port=vim.dvs.PortConnection(switchUuid=switch_uuid, portgroupKey=portgroup or None, portKey=port or None)
    )
    return vim.vm.ConfigSpec(deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="edit", device=nic)])


def backing(vm: Any, key: int) -> Any:
    return next(d for d in vm.config.hardware.device if d.key == key).backing.port


# -- updates --------------------------------------------------------------------------------


def test_first_wait_reports_state_and_max_wait_bounds_the_next(start_vcsim: Any) -> None:
    si = start_vcsim().connect()
    pc, _ = watch(si, find(si, vim.VirtualMachine, F5), vim.VirtualMachine, ["name", "runtime.host"])
    update = pc.WaitForUpdatesEx("", PC.WaitOptions(maxWaitSeconds=0))
    assert sorted((n, str(getattr(v, "_moId", v))) for _, n, v in changes_of(update)) == [
        ("name", "F5-LTM01"),
        ("runtime.host", "host-21"),
    ]
    assert [ou.kind for fs in update.filterSet for ou in fs.objectSet] == ["enter"]
    started = time.monotonic()
    assert pc.WaitForUpdatesEx(update.version, PC.WaitOptions(maxWaitSeconds=1)) is None
    assert 0.9 <= time.monotonic() - started < 3
    started = time.monotonic()
    assert pc.WaitForUpdatesEx(update.version, PC.WaitOptions(maxWaitSeconds=0)) is None
    assert time.monotonic() - started < 1
    with pytest.raises(vmodl.query.InvalidCollectorVersion):
        pc.WaitForUpdatesEx("not-a-version", PC.WaitOptions(maxWaitSeconds=0))


def test_second_clients_session_change_reaches_a_waiting_filter(start_vcsim: Any) -> None:
    server = start_vcsim()
    a, b = server.connect(), server.connect()
    before = switch(a).config.configVersion
    pc, _ = watch(a, switch(a), vim.dvs.VmwareDistributedVirtualSwitch, ["config.vspanSession", "config.configVersion"])
    version = initial(pc)
    add_session(switch(b), "from-b")

    def both(seen: list[tuple[str, str, Any]]) -> bool:
        names = {n for _, n, _ in seen}
        return {"config.vspanSession", "config.configVersion"} <= names

    _, seen = wait_for(pc, version, both)
    values = {n: v for _, n, v in seen}
    assert values["config.configVersion"] == str(int(before) + 1)
    assert "from-b" in [s.name for s in values["config.vspanSession"]]


def test_every_waiting_session_gets_the_update(start_vcsim: Any) -> None:
    """Two sessions waiting on their default collectors (same moref) both see a change."""
    server = start_vcsim()
    a, c, b = server.connect(), server.connect(), server.connect()
    waiting = []
    for si in (a, c):
        pc = si.content.propertyCollector
        spec = PC.FilterSpec(
            objectSet=[PC.ObjectSpec(obj=switch(si))],
            propSet=[PC.PropertySpec(type=vim.dvs.VmwareDistributedVirtualSwitch, pathSet=["config.configVersion"])],
        )
        pc.CreateFilter(spec, partialUpdates=False)
        waiting.append((pc, initial(pc)))
    add_session(switch(b), "seen-twice")
    for pc, version in waiting:
        wait_for(pc, version, lambda seen: any(n == "config.configVersion" for _, n, _ in seen))


def test_rename_and_destroyed_filter(start_vcsim: Any) -> None:
    si = start_vcsim().connect()
    vm = find(si, vim.VirtualMachine, F5)
    pc, filt = watch(si, vm, vim.VirtualMachine, ["name"])
    version = initial(pc)
    WaitForTask(vm.Rename_Task("F5-LTM01-renamed"))
    version, seen = wait_for(pc, version, lambda s: ("vm-1000", "name", "F5-LTM01-renamed") in s)
    filt.DestroyPropertyFilter()
    WaitForTask(vm.Rename_Task("F5-LTM01-again"))
    assert pc.WaitForUpdatesEx(version, PC.WaitOptions(maxWaitSeconds=1)) is None


def test_cancel_wait_for_updates(start_vcsim: Any) -> None:
    server = start_vcsim()
    si = server.connect()
    pc, _ = watch(si, find(si, vim.VirtualMachine, F5), vim.VirtualMachine, ["name"])
    version = initial(pc)
    outcome: list[BaseException | None] = []

    def waiter() -> None:
        try:
            pc.WaitForUpdatesEx(version, PC.WaitOptions(maxWaitSeconds=30))
            outcome.append(None)
        except BaseException as e:  # noqa: BLE001 - the fault is the result
            outcome.append(e)

    t = threading.Thread(target=waiter)
    started = time.monotonic()
    t.start()
    time.sleep(0.5)
    pc.CancelWaitForUpdates()
    t.join(10)
    assert not t.is_alive() and time.monotonic() - started < 10
    assert isinstance(outcome[0], vmodl.fault.RequestCanceled)


def test_portgroup_reconfigure_reaches_a_filter_and_its_ports(start_vcsim: Any) -> None:
    si = start_vcsim().connect()
    pg = find(si, vim.dvs.DistributedVirtualPortgroup, "dvportgroup-44")
    pc, _ = watch(si, pg, vim.dvs.DistributedVirtualPortgroup, ["name", "config.defaultPortConfig"])
    version = initial(pc)
    config = pg.config
    spec = vim.dvs.DistributedVirtualPortgroup.ConfigSpec(
        configVersion=config.configVersion,
        name="dvPgApp2",
        defaultPortConfig=vim.dvs.VmwareDistributedVirtualSwitch.VmwarePortConfigPolicy(
            vlan=vim.dvs.VmwareDistributedVirtualSwitch.VlanIdSpec(vlanId=77, inherited=False)
        ),
    )
    WaitForTask(pg.ReconfigureDVPortgroup_Task(spec))
    _, seen = wait_for(pc, version, lambda s: {"name", "config.defaultPortConfig"} <= {n for _, n, _ in s})
    values = {n: v for _, n, v in seen}
    assert values["name"] == "dvPgApp2"
    assert values["config.defaultPortConfig"].vlan.vlanId == 77
    after = pg.config
    assert (after.name, after.numPorts, after.configVersion) == (
        "dvPgApp2",
        config.numPorts,
        str(int(config.configVersion) + 1),
    )
    assert after.defaultPortConfig.securityPolicy.allowPromiscuous.value is False, "what the spec leaves unset stays"
    assert {p.config.setting.vlan.vlanId for p in ports(switch(si), portgroupKey=["dvportgroup-44"])} == {77}
    with pytest.raises(vim.fault.ConcurrentAccess):
        WaitForTask(pg.ReconfigureDVPortgroup_Task(vim.dvs.DistributedVirtualPortgroup.ConfigSpec(
            configVersion=config.configVersion, name="stale")))  # fmt: skip
    with pytest.raises(vim.fault.DuplicateName):
        WaitForTask(pg.ReconfigureDVPortgroup_Task(vim.dvs.DistributedVirtualPortgroup.ConfigSpec(
            configVersion=after.configVersion, name="dvPgWeb")))  # fmt: skip
    assert pg.name == "dvPgApp2"


def test_a_container_view_filter_reports_only_the_moved_vm(start_vcsim: Any) -> None:
    """As a live client watches: every VM through a container view; one vMotion is one modify."""
    si = start_vcsim().connect()
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    pc = content.propertyCollector.CreatePropertyCollector()
    pc.CreateFilter(
        PC.FilterSpec(
            objectSet=[
                PC.ObjectSpec(
                    obj=view,
                    skip=True,
                    selectSet=[PC.TraversalSpec(name="v", type=vim.view.ContainerView, path="view", skip=False)],
                )
            ],
            propSet=[
                PC.PropertySpec(type=vim.VirtualMachine, pathSet=["name", "runtime.host", "config.hardware.device"])
            ],
        ),
        partialUpdates=False,
    )
    first = pc.WaitForUpdatesEx("", PC.WaitOptions(maxWaitSeconds=0))
    assert len([ou for fs in first.filterSet for ou in fs.objectSet]) == 61
    vm = find(si, vim.VirtualMachine, F5)
    WaitForTask(vm.RelocateVM_Task(vim.vm.RelocateSpec(host=find(si, vim.HostSystem, "host-26"))))
    update = pc.WaitForUpdatesEx(first.version, PC.WaitOptions(maxWaitSeconds=5))
    objects = [ou for fs in update.filterSet for ou in fs.objectSet]
    assert [(ou.obj._moId, ou.kind) for ou in objects] == [(F5, "modify")]
    assert [(c.name, c.val._moId) for c in objects[0].changeSet] == [("runtime.host", "host-26")]


# -- vMotion --------------------------------------------------------------------------------


def test_vmotion_moves_host_and_the_ports_follow(start_vcsim: Any) -> None:
    server = start_vcsim()
    si = server.connect()
    vm = find(si, vim.VirtualMachine, F5)
    dvs = switch(si)
    mine = {p.key: p for p in ports(dvs, portKey=["100", "448"])}
    assert {p.proxyHost._moId for p in mine.values()} == {"host-21"}
    pc, _ = watch(si, vm, vim.VirtualMachine, ["runtime.host"])
    version = initial(pc)
    target = find(si, vim.HostSystem, "host-11")
    started = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
    WaitForTask(vm.RelocateVM_Task(vim.vm.RelocateSpec(host=target)))
    _, seen = wait_for(pc, version, lambda s: any(n == "runtime.host" for _, n, _ in s))
    assert [v._moId for _, n, v in seen if n == "runtime.host"] == ["host-11"]
    moved = {p.key: p for p in ports(dvs, portKey=["100", "448"])}
    assert set(moved) == {"100", "448"}, "vMotion keeps the ports"
    assert {p.proxyHost._moId for p in moved.values()} == {"host-11"}
    assert all(p.connectee.connectedEntity._moId == F5 for p in moved.values())
    assert {p.key for p in ports(dvs, host=[target], connected=True)} >= {"100", "448"}
    assert vm in target.vm and vm not in find(si, vim.HostSystem, "host-21").vm
    events = si.content.eventManager.QueryEvents(
        vim.event.EventFilterSpec(
            entity=vim.event.EventFilterSpec.ByEntity(entity=vm, recursion="self"),
            eventTypeId=["VmMigratedEvent"],
            time=vim.event.EventFilterSpec.ByTime(beginTime=started),
        )
    )
    assert len(events) == 1
    assert (events[0].sourceHost.host._moId, events[0].host.host._moId) == ("host-21", "host-11")
    assert events[0].userName == server.user
    assert events[0].fullFormattedMessage == "Migration of virtual machine F5-LTM01 from esx-03 to esx-01 completed"


def test_vmotion_to_a_host_off_the_switch_is_refused(start_vcsim: Any) -> None:
    lab = {
        "format": "dvmirror-snapshot",
        "version": 2,
        "vcenter": "vc",
        "datacenters": ["DC"],
        "hosts": [{"key": "host-1", "name": "a"}, {"key": "host-2", "name": "b"}],
        "switches": [{"key": "sw-1", "name": "S", "datacenter": "DC", "moid": "dvs-1"}],
        "portgroups": [{"key": "dvportgroup-1", "name": "PG", "switch": "sw-1", "numPorts": 2}],
        "ports": [
            {"key": "0", "switch": "sw-1", "portgroup": "dvportgroup-1", "host": "host-1",
             "connectee": {"entity": "vm-1", "nicKey": "4000"}, "linkUp": True},
        ],
        "vms": [{"key": "vm-1", "name": "v", "host": "host-1", "nics": [
            {"key": 4000, "mac": "00:50:56:00:00:01", "switch": "sw-1", "portgroup": "dvportgroup-1", "port": "0"}]}],
    }  # fmt: skip
    si = start_vcsim(lab=lab).connect()
    vm = find(si, vim.VirtualMachine, "vm-1")
    with pytest.raises(vim.fault.MigrationFault):
        WaitForTask(vm.RelocateVM_Task(vim.vm.RelocateSpec(host=find(si, vim.HostSystem, "host-2"))))
    assert vm.runtime.host._moId == "host-1"


def test_vmotion_splitting_a_port_mirroring_pair_stops_its_delivery(start_vcsim: Any) -> None:
    """DMZ-IDS mirrors ports 448 (F5-LTM01, esx-03) and 449 (esx-01) to 2241 (esx-03): Distributed Port
    Mirroring is local to a host, so only 448 delivers; after F5-LTM01 moves to esx-01 nothing does."""
    si = start_vcsim().connect()
    dvs = switch(si)
    keys = ["448", "2241"]

    def rates(seconds: float = 1.5) -> dict[str, tuple[float, float]]:
        """Per port: (packetsInUnicast, packetsOutUnicast) per second over ``seconds``."""

        def read() -> tuple[float, dict[str, Any]]:
            dvs.RefreshDVPortState(keys)
            return time.monotonic(), {p.key: p.state.stats for p in ports(dvs, portKey=keys)}

        t0, a = read()
        time.sleep(seconds)
        t1, b = read()
        dt = t1 - t0
        return {
            k: (
                (b[k].packetsInUnicast - a[k].packetsInUnicast) / dt,
                (b[k].packetsOutUnicast - a[k].packetsOutUnicast) / dt,
            )
            for k in keys
        }

    before = rates()
    WaitForTask(
        find(si, vim.VirtualMachine, F5).RelocateVM_Task(vim.vm.RelocateSpec(host=find(si, vim.HostSystem, "host-11")))
    )
    after = rates()
    source = sum(before["448"])  # what 448 received and sent: Rx and Tx sources, samplingRate 1
    lost = before["2241"][1] - after["2241"][1]
    assert abs(lost - source) < 0.1 * source, (before, after)
    assert abs(sum(after["448"]) - source) < 0.1 * source, "the moved port's own traffic goes on"


# -- NIC reconnect --------------------------------------------------------------------------


def test_reconnect_moves_the_connectee_to_a_free_port(start_vcsim: Any) -> None:
    si = start_vcsim().connect()
    vm = find(si, vim.VirtualMachine, F5)
    dvs = switch(si)
    pc, _ = watch(si, vm, vim.VirtualMachine, ["config.hardware.device", "guest.net"])
    version = initial(pc)
    free = [p.key for p in ports(dvs, portgroupKey=["dvportgroup-44"], connected=False)]
    WaitForTask(vm.ReconfigVM_Task(nic_spec(vm, 4001, portgroup="dvportgroup-44")))
    _, seen = wait_for(pc, version, lambda s: {"config.hardware.device", "guest.net"} <= {n for _, n, _ in s})
    new = backing(vm, 4001)
    assert (new.portgroupKey, new.switchUuid) == ("dvportgroup-44", CLOUD)
    assert new.portKey in free and new.portKey != "448"
    devices = next(v for _, n, v in seen if n == "config.hardware.device")
    assert next(d for d in devices if d.key == 4001).backing.port.portKey == new.portKey
    net = next(v for _, n, v in seen if n == "guest.net")
    assert next(n for n in net if n.deviceConfigId == 4001).network == "dvPgApp"
    (old,) = ports(dvs, portKey=["448"])
    assert old.connectee is None
    (port,) = ports(dvs, portKey=[new.portKey])
    assert (port.connectee.connectedEntity._moId, port.connectee.nicKey) == (F5, "4001")
    assert port.proxyHost._moId == "host-21" and port.state.runtimeInfo.linkUp
    assert backing(vm, 4000).portKey == "100", "the other NIC stays"


def test_reconnect_to_an_explicit_port_and_refusals(start_vcsim: Any) -> None:
    si = start_vcsim().connect()
    vm = find(si, vim.VirtualMachine, F5)
    dvs = switch(si)
    free = ports(dvs, portgroupKey=["dvportgroup-43"], connected=False)[0].key
    version = vm.config.changeVersion
    spec = nic_spec(vm, 4000, portgroup="dvportgroup-43", port=free)
    spec.changeVersion = version
    WaitForTask(vm.ReconfigVM_Task(spec))
    assert backing(vm, 4000).portKey == free
    assert vm.config.changeVersion != version
    with pytest.raises(vmodl.fault.InvalidArgument):
        WaitForTask(vm.ReconfigVM_Task(nic_spec(vm, 4000, portgroup="dvportgroup-999")))
    with pytest.raises(vim.fault.InvalidDeviceBacking):
        WaitForTask(vm.ReconfigVM_Task(nic_spec(vm, 4000, portgroup="dvportgroup-46", port="449")))
    with pytest.raises(vmodl.fault.InvalidArgument):
        WaitForTask(vm.ReconfigVM_Task(nic_spec(vm, 4000, portgroup="dvportgroup-43", switch_uuid="00 11")))
    stale = nic_spec(vm, 4000, portgroup="dvportgroup-43")
    stale.changeVersion = "2001-01-01T00:00:00Z"
    with pytest.raises(vim.fault.ConcurrentAccess):
        WaitForTask(vm.ReconfigVM_Task(stale))
    assert backing(vm, 4000).portKey == free, "a refused change changes nothing"
    (p,) = ports(dvs, portKey=["449"])
    assert p.connectee is not None and p.connectee.connectedEntity._moId != F5


# -- events ---------------------------------------------------------------------------------


def test_reconfigure_records_a_dvs_reconfigured_event(start_vcsim: Any) -> None:
    server = start_vcsim()
    a, b = server.connect(), server.connect()
    begin = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
    add_session(switch(b), "evented")
    end = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=1)
    dvs = switch(a)

    def query(**time_range: Any) -> list[Any]:
        return list(
            a.content.eventManager.QueryEvents(
                vim.event.EventFilterSpec(
                    entity=vim.event.EventFilterSpec.ByEntity(entity=dvs, recursion="self"),
                    eventTypeId=["DvsReconfiguredEvent"],
                    time=vim.event.EventFilterSpec.ByTime(**time_range),
                )
            )
        )

    (found,) = query(beginTime=begin, endTime=end)
    assert isinstance(found, vim.event.DvsReconfiguredEvent)
    event: Any = found  # pyVmomi's stubs type configSpec as the base ConfigSpec
    assert event.userName == server.user
    assert begin <= event.createdTime <= end
    assert event.dvs.dvs._moId == "dvs-21" and event.dvs.name == "dvSwitchCloud"
    assert [c.vspanSession.name for c in event.configSpec.vspanConfigSpec] == ["evented"]
    assert "dvSwitchCloud" in event.fullFormattedMessage
    assert query(beginTime=end) == []
    assert query(endTime=begin) == []
    others = a.content.eventManager.QueryEvents(
        vim.event.EventFilterSpec(
            eventTypeId=["DvsReconfiguredEvent"],
            userName=vim.event.EventFilterSpec.ByUsername(userList=["someone-else"], systemUser=False),
        )
    )
    assert list(others) == []
    collector = a.content.eventManager.CreateCollectorForEvents(
        vim.event.EventFilterSpec(
            entity=vim.event.EventFilterSpec.ByEntity(entity=dvs, recursion="self"),
            eventTypeId=["DvsReconfiguredEvent"],
        )
    )
    try:
        assert [e.key for e in collector.ReadNextEvents(10)] == [event.key]
    finally:
        collector.DestroyCollector()


# -- both load paths see the same server ----------------------------------------------------


def test_inventory_load_sees_the_moved_vm(start_vcsim: Any) -> None:
    server = start_vcsim()
    backend = VsphereBackend(settings_for(server))
    try:
        before = backend.load()
        assert before.vms[F5].host == "host-21"
        si = server.connect()
        vm = find(si, vim.VirtualMachine, F5)
        WaitForTask(vm.RelocateVM_Task(vim.vm.RelocateSpec(host=find(si, vim.HostSystem, "host-16"))))
        after = backend.load()
    finally:
        backend.close()
    assert after.vms[F5].host == "host-16"
    assert after.ports[(CLOUD, "448")].host == "host-16"
    assert after.ports[(CLOUD, "100")].host == "host-16"
