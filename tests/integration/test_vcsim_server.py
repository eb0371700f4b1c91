"""The vcsim test server itself, checked with pyVmomi directly (no dvmirror code).

What must match the lab exactly (DESIGN.md §7): names, switch UUIDs, port keys, NIC labels and
keys, MACs, IPs, VLANs, port hosts, connectees, link state, promiscuous flags and sessions.
Tests that change switch state start a server of their own (``start_vcsim``).
"""

from __future__ import annotations

import hashlib
import json
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyVmomi")

from pyVim.task import WaitForTask  # noqa: E402
from pyVmomi import vim, vmodl  # noqa: E402

pytestmark = pytest.mark.vcsim

REPO = Path(__file__).resolve().parents[2]
DEMO_LAB = REPO / "tui" / "backends" / "labs" / "demo.json"
VcsimServer = Any  # conftest.VcsimServer

LAB: dict[str, Any] = json.loads(DEMO_LAB.read_text(encoding="utf-8"))
CLOUD = "50 36 4e 6c 5b 8f 2e 3d-1a 2b 3c 4d 5e 6f 70 81"
MGMT = "50 36 77 02 9c 41 d0 0e-8b 13 55 e2 07 6a 4c 90"
V = vim.dvs.VmwareDistributedVirtualSwitch
PC = vmodl.query.PropertyCollector


# -- helpers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def si(vcsim: VcsimServer) -> Any:
    return vcsim.connect()


def objects(si: Any, kind: type) -> dict[str, Any]:
    """Managed objects of ``kind`` by name (one container view, one retrieval)."""
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [kind], True)
    try:
        spec = PC.FilterSpec(
            objectSet=[
                PC.ObjectSpec(
                    obj=view,
                    skip=True,
                    selectSet=[PC.TraversalSpec(name="v", type=vim.view.ContainerView, path="view", skip=False)],
                )
            ],
            propSet=[PC.PropertySpec(type=kind, pathSet=["name"])],
        )
        result = content.propertyCollector.RetrievePropertiesEx([spec], PC.RetrieveOptions())
        out = {}
        while result is not None:
            for o in result.objects:
                out[o.propSet[0].val] = o.obj
            if not result.token:
                break
            result = content.propertyCollector.ContinueRetrievePropertiesEx(result.token)
        return out
    finally:
        view.DestroyView()


def switch(si: Any, name: str = "dvSwitchCloud") -> Any:
    return objects(si, vim.DistributedVirtualSwitch)[name]


def retrieve(
    si: Any, props: dict[type, list[str]], max_objects: int | None = None
) -> tuple[dict[Any, dict[str, Any]], list[int]]:
    """All ``props`` of all objects of the given types, paged; returns (values, page sizes)."""
    content = si.RetrieveContent()
    pc = content.propertyCollector
    view = content.viewManager.CreateContainerView(content.rootFolder, list(props), True)
    try:
        spec = PC.FilterSpec(
            objectSet=[
                PC.ObjectSpec(
                    obj=view,
                    skip=True,
                    selectSet=[PC.TraversalSpec(name="v", type=vim.view.ContainerView, path="view", skip=False)],
                )
            ],
            propSet=[PC.PropertySpec(type=k, pathSet=v) for k, v in props.items()],
        )
        result = pc.RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=max_objects))
        values: dict[Any, dict[str, Any]] = {}
        pages: list[int] = []
        while result is not None:
            pages.append(len(result.objects))
            for o in result.objects:
                assert o.obj._moId not in {k._moId for k in values}, f"{o.obj} returned twice"
                assert not o.missingSet, f"{o.obj}: missing {[m.path for m in o.missingSet]}"
                values[o.obj] = {p.name: p.val for p in o.propSet}
            if not result.token:
                break
            result = pc.ContinueRetrievePropertiesEx(result.token)
        return values, pages
    finally:
        view.DestroyView()


def lab_ports(switch_key: str) -> dict[str, dict[str, Any]]:
    return {p["key"]: p for p in LAB["ports"] if p["switch"] == switch_key}


def lab_names(kind: str) -> dict[str, str]:
    return {x["key"]: x["name"] for x in LAB[kind]}


def vspan_ports(
    keys: tuple[str, ...] = (), uplinks: tuple[str, ...] = (), vlans: tuple[int, ...] = (), ips: tuple[str, ...] = ()
) -> Any:
    return V.VspanPorts(portKey=list(keys), uplinkPortName=list(uplinks), vlans=list(vlans), ipAddress=list(ips))


def session(**kw: Any) -> Any:
    """A complete dvPortMirror session 2258 (esx-03) → 2259 unless overridden."""
    args: dict[str, Any] = {
        "name": "test session",
        "description": "made by test_vcsim_server",
        "enabled": True,
        "sessionType": "dvPortMirror",
        "sourcePortTransmitted": vspan_ports(),
        "sourcePortReceived": vspan_ports(("2258",)),
        "destinationPort": vspan_ports(("2259",)),
        "stripOriginalVlan": False,
        "normalTrafficAllowed": False,
        "samplingRate": 1,
    }
    args.update(kw)
    return V.VspanSession(**args)


def reconfigure(dvs: Any, *changes: tuple[str, Any], version: str | None = None) -> None:
    """One ReconfigureDvs_Task with the given (operation, session) pairs; raises the task's fault."""
    spec = V.ConfigSpec(
        configVersion=dvs.config.configVersion if version is None else version,
        vspanConfigSpec=[V.VspanConfigSpec(operation=op, vspanSession=s) for op, s in changes],
    )
    WaitForTask(dvs.ReconfigureDvs_Task(spec))


def sessions(dvs: Any) -> dict[str, Any]:
    return {s.key: s for s in dvs.config.vspanSession}


def api(s: Any) -> dict[str, Any]:
    """A pyVmomi session in the lab's JSON shape (MirrorSession.to_api)."""

    def lists(p: Any) -> dict[str, list[Any]]:
        if p is None:
            return {"portKey": [], "uplinkPortName": [], "vlans": [], "ipAddress": []}
        return {
            "portKey": list(p.portKey),
            "uplinkPortName": list(p.uplinkPortName),
            "vlans": list(p.vlans),
            "ipAddress": list(p.ipAddress),
        }

    return {
        "key": s.key,
        "name": s.name or "",
        "description": s.description or "",
        "enabled": s.enabled,
        "sessionType": s.sessionType,
        "sourcePortTransmitted": lists(s.sourcePortTransmitted),
        "sourcePortReceived": lists(s.sourcePortReceived),
        "destinationPort": lists(s.destinationPort),
        "encapsulationVlanId": s.encapsulationVlanId,
        "stripOriginalVlan": s.stripOriginalVlan,
        "mirroredPacketLength": s.mirroredPacketLength,
        "normalTrafficAllowed": s.normalTrafficAllowed,
        "samplingRate": s.samplingRate,
        "encapType": s.encapType,
        "erspanId": s.erspanId,
        "erspanCOS": s.erspanCOS,
        "erspanGraNanosec": s.erspanGraNanosec,
        "netstack": s.netstack,
    }


@pytest.fixture
def own(start_vcsim: Any) -> Iterator[tuple[VcsimServer, Any, Any]]:
    """A server of this test's own: (server, service instance, dvSwitchCloud)."""
    server = start_vcsim()
    si = server.connect()
    yield server, si, switch(si)


# -- inventory ------------------------------------------------------------------------------


def test_fetch_dvports_port_448(si: Any) -> None:
    dvs = switch(si)
    ports = dvs.FetchDVPorts(vim.dvs.PortCriteria(portKey=["448"]))
    assert [p.key for p in ports] == ["448"]
    p = ports[0]
    assert p.dvsUuid == CLOUD
    assert p.connectee.type == "vmVnic"
    assert p.connectee.nicKey == "4001"
    assert isinstance(p.connectee.connectedEntity, vim.VirtualMachine)
    assert p.connectee.connectedEntity.name == "F5-LTM01"
    assert p.proxyHost.name == "esx-03"
    pg = objects(si, vim.dvs.DistributedVirtualPortgroup)["dvPgDMZ"]
    assert p.portgroupKey == pg.key
    setting = p.config.setting
    assert isinstance(setting, V.VmwarePortConfigPolicy)
    assert setting.vlan is not None and setting.securityPolicy is not None and setting.macManagementPolicy is not None
    assert setting.vlan.vlanId == 204
    assert setting.securityPolicy.allowPromiscuous.value is False
    assert setting.macManagementPolicy.allowPromiscuous is False
    assert p.state.runtimeInfo.linkUp is True
    assert p.state.runtimeInfo.blocked is False
    assert p.state.runtimeInfo.macAddress == "00:50:56:9a:1b:2c"


@pytest.mark.parametrize("switch_name, switch_key", [("dvSwitchCloud", CLOUD), ("dvSwitchMgmt", MGMT)])
def test_fetch_dvports_match_the_lab(si: Any, switch_name: str, switch_key: str) -> None:
    dvs = switch(si, switch_name)
    hosts = lab_names("hosts")
    vms = lab_names("vms")
    pg_names = {pg["key"]: pg["name"] for pg in LAB["portgroups"]}
    pg_by_key = {pg.key: pg.name for pg in objects(si, vim.dvs.DistributedVirtualPortgroup).values()}
    got = {p.key: p for p in dvs.FetchDVPorts()}
    want = lab_ports(switch_key)
    assert list(got) == list(want)
    for key, lp in want.items():
        p = got[key]
        assert p.dvsUuid == switch_key
        assert pg_by_key.get(p.portgroupKey, "") == pg_names.get(lp["portgroup"], ""), key
        assert (p.config.name or "") == lp["name"], key
        assert (p.proxyHost.name if p.proxyHost else "") == hosts.get(lp["host"], ""), key
        assert p.state.runtimeInfo.linkUp == lp["linkUp"], key
        assert (p.state.runtimeInfo.macAddress or "") == lp["mac"], key
        assert p.config.setting.securityPolicy.allowPromiscuous.value == lp["promiscuous"], key
        assert p.config.setting.macManagementPolicy.allowPromiscuous == lp["promiscuous"], key
        c = lp["connectee"]
        if c is None:
            assert p.connectee is None, key
            continue
        assert p.connectee.type == c["type"], key
        assert p.connectee.nicKey == c["nicKey"], key
        entity = p.connectee.connectedEntity
        if c["type"] == "vmVnic":
            assert isinstance(entity, vim.VirtualMachine)
            assert entity.name == vms[c["entity"]], key
        else:
            assert isinstance(entity, vim.HostSystem)
            assert entity.name == hosts[c["entity"]], key


def test_fetch_dvports_criteria(si: Any) -> None:
    dvs = switch(si)
    want = lab_ports(CLOUD)
    pgs = objects(si, vim.dvs.DistributedVirtualPortgroup)
    dmz, mirror = pgs["dvPgDMZ"].key, pgs["dvPgMirror"].key
    lab_pg = {pg["name"]: pg["key"] for pg in LAB["portgroups"]}
    uplink_pgs = {pg["key"] for pg in LAB["portgroups"] if pg["uplink"]}

    def keys(**criteria: Any) -> list[str]:
        return [p.key for p in dvs.FetchDVPorts(vim.dvs.PortCriteria(**criteria))]

    def lab(pred: Any) -> list[str]:
        return [k for k, p in want.items() if pred(p)]

    assert keys() == list(want)
    assert keys(portKey=["2258", "448", "nope"]) == ["2258", "448"]
    assert keys(portgroupKey=[dmz]) == lab(lambda p: p["portgroup"] == lab_pg["dvPgDMZ"])
    assert keys(portgroupKey=[dmz], inside=True) == keys(portgroupKey=[dmz])
    assert keys(portgroupKey=[dmz, mirror], inside=False) == lab(
        lambda p: p["portgroup"] not in (lab_pg["dvPgDMZ"], lab_pg["dvPgMirror"])
    )
    assert keys(connected=True) == lab(lambda p: p["connectee"] is not None)
    assert keys(connected=False) == lab(lambda p: p["connectee"] is None)
    assert keys(uplinkPort=True) == lab(lambda p: p["portgroup"] in uplink_pgs)
    assert keys(uplinkPort=False, connected=True) == lab(
        lambda p: p["portgroup"] not in uplink_pgs and p["connectee"] is not None
    )
    assert keys(active=True) == lab(lambda p: p["connectee"] is not None and p["linkUp"])
    assert keys(portgroupKey=[dmz], connected=True) == lab(
        lambda p: p["portgroup"] == lab_pg["dvPgDMZ"] and p["connectee"] is not None
    )
    assert "448" in keys(portgroupKey=[dmz], connected=True, uplinkPort=False)
    assert keys(portKey=["448"], portgroupKey=[mirror]) == []
    assert list(dvs.FetchDVPortKeys(vim.dvs.PortCriteria(portgroupKey=[dmz], connected=True))) == keys(
        portgroupKey=[dmz], connected=True
    )


def test_switches_are_vmware_dvs_with_lab_config(si: Any) -> None:
    values, _ = retrieve(
        si,
        {
            vim.DistributedVirtualSwitch: [
                "name",
                "uuid",
                "config",
                "config.vspanSession",
                "config.configVersion",
                "config.uplinkPortPolicy",
                "capability.featuresSupported",
                "summary.productInfo",
                "portgroup",
            ]
        },
    )
    by_name = {v["name"]: (obj, v) for obj, v in values.items()}
    assert set(by_name) == {s["name"] for s in LAB["switches"]}
    for ls in LAB["switches"]:
        obj, v = by_name[ls["name"]]
        assert isinstance(obj, V)
        assert v["uuid"] == ls["key"]
        assert isinstance(v["config"], V.ConfigInfo)
        assert v["config.configVersion"] == ls["configVersion"]
        assert list(v["config.uplinkPortPolicy"].uplinkPortName) == ls["uplinkNames"]
        assert v["config"].productInfo.version == ls["version"]
        assert v["summary.productInfo"].version == ls["version"]
        assert [api(s) for s in v.get("config.vspanSession", [])] == ls["sessions"]
        features = v["capability.featuresSupported"]
        assert features.vspanSupported is ls["capability"]["vspan"]
        cap = features.vspanCapability
        types = set(ls["capability"]["sessionTypes"])
        assert cap.dvportSupported == ("dvPortMirror" in types)
        assert cap.mixedDestSupported == ("mixedDestMirror" in types)
        assert cap.remoteSourceSupported == ("remoteMirrorSource" in types)
        assert cap.remoteDestSupported == ("remoteMirrorDest" in types)
        assert cap.encapRemoteSourceSupported == ("encapsulatedRemoteMirrorSource" in types)
        assert cap.erspanProtocolSupported is ls["capability"]["erspan"]
        uplinks = {pg.name for pg in v["config"].uplinkPortgroup}
        assert uplinks == {pg["name"] for pg in LAB["portgroups"] if pg["switch"] == ls["key"] and pg["uplink"]}
        assert [pg.name for pg in v["portgroup"]] == [
            pg["name"] for pg in LAB["portgroups"] if pg["switch"] == ls["key"]
        ]


def test_portgroups_match_the_lab(si: Any) -> None:
    values, _ = retrieve(
        si,
        {
            vim.dvs.DistributedVirtualPortgroup: [
                "name",
                "key",
                "config.distributedVirtualSwitch",
                "config.defaultPortConfig",
                "config.uplink",
                "config.type",
                "config.numPorts",
                "vm",
            ]
        },
    )
    by_name = {v["name"]: v for v in values.values()}
    switch_names = {s["key"]: s["name"] for s in LAB["switches"]}
    vms = lab_names("vms")
    assert set(by_name) == {pg["name"] for pg in LAB["portgroups"]}
    for lpg in LAB["portgroups"]:
        v = by_name[lpg["name"]]
        assert v["config.distributedVirtualSwitch"].name == switch_names[lpg["switch"]]
        setting = v["config.defaultPortConfig"]
        vlan = setting.vlan
        if "trunk" in lpg["vlan"]:
            assert isinstance(vlan, V.TrunkVlanSpec)
            assert [[r.start, r.end] for r in vlan.vlanId] == lpg["vlan"]["trunk"]
        elif "pvlan" in lpg["vlan"]:
            assert isinstance(vlan, V.PvlanSpec)
            assert vlan.pvlanId == lpg["vlan"]["pvlan"]
        else:
            assert isinstance(vlan, V.VlanIdSpec)
            assert vlan.vlanId == lpg["vlan"]["id"]
        assert setting.securityPolicy.allowPromiscuous.value is lpg["promiscuous"]
        assert setting.macManagementPolicy.allowPromiscuous is lpg["promiscuous"]
        assert v["config.uplink"] is lpg["uplink"]
        assert v["config.type"] == lpg["binding"]
        assert v["config.numPorts"] == lpg["numPorts"]
        want_vms = {vms[vm["key"]] for vm in LAB["vms"] for nic in vm["nics"] if nic["portgroup"] == lpg["key"]}
        assert {vm.name for vm in v.get("vm", [])} == want_vms, lpg["name"]
    promiscuous = [pg["name"] for pg in LAB["portgroups"] if pg["promiscuous"]]
    ephemeral = [pg["name"] for pg in LAB["portgroups"] if pg["binding"] == "ephemeral"]
    assert promiscuous and ephemeral  # the demo lab has both, so the loop above checked them


def test_hosts_and_datacenter(si: Any) -> None:
    assert set(objects(si, vim.HostSystem)) == {h["name"] for h in LAB["hosts"]}
    assert set(objects(si, vim.Datacenter)) == set(LAB["datacenters"])


def test_vms_match_the_lab(si: Any) -> None:
    values, _ = retrieve(
        si, {vim.VirtualMachine: ["name", "runtime.host", "runtime.powerState", "config.hardware.device", "guest.net"]}
    )
    by_name = {v["name"]: v for v in values.values()}
    hosts = lab_names("hosts")
    pgs = {pg.key: pg.name for pg in objects(si, vim.dvs.DistributedVirtualPortgroup).values()}
    lab_pg = {pg["key"]: pg["name"] for pg in LAB["portgroups"]}
    assert set(by_name) == {vm["name"] for vm in LAB["vms"]}
    assert len(by_name) == len(LAB["vms"])
    for lvm in LAB["vms"]:
        v = by_name[lvm["name"]]
        assert v["runtime.host"].name == hosts[lvm["host"]]
        assert v["runtime.powerState"] == lvm["power"]
        nics = [d for d in v["config.hardware.device"] if isinstance(d, vim.vm.device.VirtualEthernetCard)]
        assert [n.key for n in nics] == [n["key"] for n in lvm["nics"]]
        for nic, ln in zip(nics, lvm["nics"], strict=True):
            assert isinstance(nic, vim.vm.device.VirtualVmxnet3)
            assert nic.deviceInfo is not None and nic.connectable is not None
            assert nic.deviceInfo.label == ln["label"]
            assert nic.macAddress == ln["mac"]
            assert nic.connectable.connected is ln["connected"]
            assert isinstance(nic.backing, vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo)
            port = nic.backing.port
            assert port.switchUuid == ln["switch"]
            assert pgs[port.portgroupKey] == lab_pg[ln["portgroup"]]
            assert (port.portKey or "") == ln["port"]
        net = {n.deviceConfigId: n for n in v.get("guest.net", [])}
        assert sorted(net) == sorted(n["key"] for n in lvm["nics"])
        for ln in lvm["nics"]:
            assert list(net[ln["key"]].ipAddress) == ln["ips"]
            assert net[ln["key"]].macAddress == ln["mac"]
            assert net[ln["key"]].network == lab_pg[ln["portgroup"]]
    # Each VM has NIC objects of its own (stock vcsim shares one between VMs).
    macs = [n.macAddress for v in by_name.values() for n in v["config.hardware.device"] if hasattr(n, "macAddress")]
    assert len(macs) == len(set(macs))


def test_guest_ip_of_krbclient01(si: Any) -> None:
    vm = objects(si, vim.VirtualMachine)["KRBCLIENT01"]
    assert "172.24.4.52" in [ip for n in vm.guest.net for ip in n.ipAddress]
    assert vm.guest.ipAddress == "172.24.4.52"


def test_nic_backing_and_port_agree(si: Any) -> None:
    dvs = switch(si)
    ports = {p.key: p for p in dvs.FetchDVPorts(vim.dvs.PortCriteria(connected=True))}
    vm = objects(si, vim.VirtualMachine)["MGTSRVR003UX"]
    nic = next(
        d
        for d in vm.config.hardware.device
        if getattr(d, "deviceInfo", None) and d.deviceInfo.label == "Network adapter 2"
    )
    assert nic.backing.port.portKey == "2258"
    port = ports["2258"]
    assert port.connectee.connectedEntity == vm
    assert port.connectee.nicKey == str(nic.key)
    assert port.proxyHost == vm.runtime.host
    assert port.proxyHost.name == "esx-03"


# -- PropertyCollector ----------------------------------------------------------------------

LOADER_PROPS: dict[type, list[str]] = {
    vim.DistributedVirtualSwitch: [
        "name",
        "uuid",
        "config.vspanSession",
        "config.configVersion",
        "config.uplinkPortPolicy",
        "capability.featuresSupported",
    ],
    vim.dvs.DistributedVirtualPortgroup: [
        "name",
        "key",
        "config.distributedVirtualSwitch",
        "config.defaultPortConfig",
        "config.uplink",
    ],
    vim.VirtualMachine: ["name", "runtime.host", "config.hardware.device", "guest.net"],
    vim.HostSystem: ["name"],
}


def test_nested_property_paths(si: Any) -> None:
    values, pages = retrieve(si, LOADER_PROPS)
    assert len(pages) == 1
    expected = len(LAB["switches"]) + len(LAB["portgroups"]) + len(LAB["vms"]) + len(LAB["hosts"])
    assert len(values) == expected
    for obj, props in values.items():
        kind = next(k for k in LOADER_PROPS if isinstance(obj, k))
        assert set(LOADER_PROPS[kind]) <= set(props), f"{obj}: missing {set(LOADER_PROPS[kind]) - set(props)}"


@pytest.mark.parametrize("max_objects", [1, 7, 50, 1000])
def test_max_objects_pages_through_everything(si: Any, max_objects: int) -> None:
    whole, _ = retrieve(si, LOADER_PROPS)
    paged, pages = retrieve(si, LOADER_PROPS, max_objects=max_objects)
    assert {o._moId for o in paged} == {o._moId for o in whole}
    assert all(0 < n <= max_objects for n in pages)
    assert sum(pages) == len(whole)
    assert len(pages) == -(-len(whole) // max_objects)
    assert {o._moId: v["name"] for o, v in paged.items()} == {o._moId: v["name"] for o, v in whole.items()}


def test_cancel_retrieve_properties(si: Any) -> None:
    content = si.RetrieveContent()
    pc = content.propertyCollector
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    spec = PC.FilterSpec(
        objectSet=[
            PC.ObjectSpec(obj=view, skip=True, selectSet=[PC.TraversalSpec(type=vim.view.ContainerView, path="view")])
        ],
        propSet=[PC.PropertySpec(type=vim.VirtualMachine, pathSet=["name"])],
    )
    result = pc.RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=5))
    assert len(result.objects) == 5 and result.token
    pc.CancelRetrievePropertiesEx(result.token)
    with pytest.raises(vmodl.fault.InvalidArgument):
        pc.ContinueRetrievePropertiesEx(result.token)
    view.DestroyView()


def test_private_property_collectors_page_too(si: Any) -> None:
    content = si.RetrieveContent()
    pc = content.propertyCollector.CreatePropertyCollector()
    try:
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        spec = PC.FilterSpec(
            objectSet=[
                PC.ObjectSpec(
                    obj=view, skip=True, selectSet=[PC.TraversalSpec(type=vim.view.ContainerView, path="view")]
                )
            ],
            propSet=[PC.PropertySpec(type=vim.VirtualMachine, pathSet=["name"])],
        )
        result = pc.RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=40))
        names = [o.propSet[0].val for o in result.objects]
        assert len(names) == 40 and result.token
        rest = pc.ContinueRetrievePropertiesEx(result.token)
        names += [o.propSet[0].val for o in rest.objects]
        assert rest.token is None
        assert sorted(names) == sorted(vm["name"] for vm in LAB["vms"])
        view.DestroyView()
    finally:
        pc.DestroyPropertyCollector()


def test_nothing_matched_is_no_result(si: Any) -> None:
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.Datastore], True)
    spec = PC.FilterSpec(
        objectSet=[
            PC.ObjectSpec(obj=view, skip=True, selectSet=[PC.TraversalSpec(type=vim.view.ContainerView, path="view")])
        ],
        propSet=[PC.PropertySpec(type=vim.Datastore, pathSet=["name"])],
    )
    assert content.propertyCollector.RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=10)) is None
    view.DestroyView()


def test_vcenter_name_setting(si: Any) -> None:
    options = si.RetrieveContent().setting.QueryOptions("VirtualCenter.FQDN")
    assert [o.value for o in options] == [LAB["vcenter"]]
    assert si.RetrieveContent().about.apiVersion == "7.0.3.0"


# -- VSPAN ------------------------------------------------------------------------------------


def test_vspan_add_edit_remove_round_trip(own: tuple[VcsimServer, Any, Any]) -> None:
    _, _, dvs = own
    assert dvs.config.configVersion == "12"
    assert sorted(sessions(dvs)) == ["1", "2"]

    new = session(name="F5 to monitor", mirroredPacketLength=128, samplingRate=10)
    reconfigure(dvs, ("add", new))
    assert dvs.config.configVersion == "13"
    got = sessions(dvs)
    assert sorted(got) == ["1", "2", "3"]
    added = got["3"]
    assert added.name == "F5 to monitor"
    assert list(added.sourcePortReceived.portKey) == ["2258"]
    assert list(added.destinationPort.portKey) == ["2259"]
    assert added.mirroredPacketLength == 128
    assert added.samplingRate == 10
    assert added.enabled is True

    added.name = "renamed"
    added.enabled = False
    added.sourcePortTransmitted = vspan_ports(("2258",))
    reconfigure(dvs, ("edit", added))
    assert dvs.config.configVersion == "14"
    edited = sessions(dvs)["3"]
    assert edited.name == "renamed"
    assert edited.enabled is False
    assert list(edited.sourcePortTransmitted.portKey) == ["2258"]
    assert api(sessions(dvs)["1"]) == LAB["switches"][0]["sessions"][0]  # untouched

    # -1 = mirror whole frames: the length becomes unset (vspan.md §3).
    edited.mirroredPacketLength = -1
    reconfigure(dvs, ("edit", edited))
    assert sessions(dvs)["3"].mirroredPacketLength is None
    assert dvs.config.configVersion == "15"

    reconfigure(dvs, ("remove", V.VspanSession(key="3")))
    assert dvs.config.configVersion == "16"
    assert sorted(sessions(dvs)) == ["1", "2"]

    # Keys keep increasing: a removed key is never reused.
    reconfigure(dvs, ("add", session()), ("add", session(destinationPort=vspan_ports(("2260",)))))
    assert sorted(sessions(dvs)) == ["1", "2", "4", "5"]
    assert dvs.config.configVersion == "17"


def test_vspan_batch_and_session_types(own: tuple[VcsimServer, Any, Any]) -> None:
    _, _, dvs = own
    reconfigure(
        dvs,
        (
            "add",
            session(
                sessionType="remoteMirrorSource",
                destinationPort=vspan_ports(uplinks=("dvUplink1", "dvUplink2")),
                encapsulationVlanId=205,
            ),
        ),
        (
            "add",
            session(
                sessionType="remoteMirrorDest",
                sourcePortReceived=vspan_ports(vlans=(0, 205, 4094)),
                destinationPort=vspan_ports(("2262",)),
            ),
        ),
        (
            "add",
            session(
                sessionType="encapsulatedRemoteMirrorSource",
                destinationPort=vspan_ports(ips=("192.0.2.10", "2001:db8::1")),
                encapType="erspan3",
                erspanId=0,
                erspanCOS=0,
                erspanGraNanosec=True,
            ),
        ),
        (
            "add",
            session(
                sessionType="mixedDestMirror",
                samplingRate=None,
                destinationPort=vspan_ports(("2263",), uplinks=("dvUplink3",)),
            ),
        ),
        ("add", V.VspanSession(name="", enabled=False, sessionType="dvPortMirror")),
        ("add", session(name="x" * 80, destinationPort=vspan_ports(("2264",)))),
        ("add", session(name="Überwachung 📡 [prod]", destinationPort=vspan_ports(("2265",)))),
        ("edit", sessions(dvs)["2"]),
        ("remove", V.VspanSession(key="1")),
    )
    got = sessions(dvs)
    assert sorted(got, key=int) == ["2", "3", "4", "5", "6", "7", "8", "9"]
    assert dvs.config.configVersion == "13"
    assert got["3"].encapsulationVlanId == 205
    assert list(got["4"].sourcePortReceived.vlans) == [0, 205, 4094]
    erspan = got["5"]
    assert list(erspan.destinationPort.ipAddress) == ["192.0.2.10", "2001:db8::1"]
    assert (erspan.encapType, erspan.erspanId, erspan.erspanCOS, erspan.erspanGraNanosec) == ("erspan3", 0, 0, True)
    assert got["6"].samplingRate is None
    assert got["8"].name == "x" * 80
    assert got["9"].name == "Überwachung 📡 [prod]"


def test_vspan_stale_config_version(own: tuple[VcsimServer, Any, Any]) -> None:
    _, _, dvs = own
    with pytest.raises(vim.fault.ConcurrentAccess):
        reconfigure(dvs, ("add", session()), version="11")
    with pytest.raises(vim.fault.ConcurrentAccess):
        reconfigure(dvs, ("add", session()), version="garbled")
    reconfigure(dvs, ("add", session()))
    with pytest.raises(vim.fault.ConcurrentAccess):
        reconfigure(dvs, ("remove", V.VspanSession(key="3")), version="12")
    assert dvs.config.configVersion == "13"
    assert sorted(sessions(dvs)) == ["1", "2", "3"]


def test_vspan_batch_is_all_or_nothing(own: tuple[VcsimServer, Any, Any]) -> None:
    _, _, dvs = own
    before = [api(s) for s in dvs.config.vspanSession]
    with pytest.raises(vim.fault.NotFound):
        reconfigure(
            dvs,
            ("remove", V.VspanSession(key="1")),
            ("add", session()),
            ("add", session(destinationPort=vspan_ports(("99999",)))),
        )
    assert [api(s) for s in dvs.config.vspanSession] == before
    assert dvs.config.configVersion == "12"
    # The failed call used no key: the next add gets 3.
    reconfigure(dvs, ("add", session()))
    assert sorted(sessions(dvs)) == ["1", "2", "3"]


SESSION_1_DEST = "2241"  # destination of the lab's DMZ-IDS session (key 1), whose Tx sources are 448, 449


def _conflict_cases() -> list[Any]:
    P = vspan_ports
    return [
        pytest.param(
            [
                (
                    "add",
                    session(sourcePortTransmitted=P(("2258",)), sourcePortReceived=P(), destinationPort=P(("2258",))),
                )
            ],
            vim.fault.VspanSameSessionPortConflict,
            {"vspanSessionKey": "3", "portKey": "2258"},
            id="same-session-tx",
        ),
        pytest.param(
            [("add", session(sourcePortReceived=P(("2258",)), destinationPort=P(("2258",))))],
            vim.fault.VspanSameSessionPortConflict,
            {"vspanSessionKey": "3", "portKey": "2258"},
            id="same-session-rx",
        ),
        pytest.param(
            [("add", session(destinationPort=P(("448",))))],
            vim.fault.VspanPortConflict,
            {"vspanSessionKey1": "1", "vspanSessionKey2": "3", "portKey": "448"},
            id="tx-source-of-another-is-dest",
        ),
        pytest.param(
            [("add", session(sourcePortTransmitted=P((SESSION_1_DEST,)), destinationPort=P(("2259",))))],
            vim.fault.VspanPortConflict,
            {"vspanSessionKey1": "3", "vspanSessionKey2": "1", "portKey": SESSION_1_DEST},
            id="dest-of-another-is-tx-source",
        ),
        pytest.param(
            [("add", session(destinationPort=P((SESSION_1_DEST,))))],
            vim.fault.VspanDestPortConflict,
            {"vspanSessionKey1": "1", "vspanSessionKey2": "3", "portKey": SESSION_1_DEST},
            id="dest-in-two-sessions",
        ),
        pytest.param(
            [("add", session()), ("add", session(sourcePortReceived=P(("2260",))))],
            vim.fault.VspanDestPortConflict,
            {"vspanSessionKey1": "3", "vspanSessionKey2": "4", "portKey": "2259"},
            id="dest-in-two-new-sessions",
        ),
    ]


@pytest.mark.parametrize("changes, fault, props", _conflict_cases())
def test_vspan_conflict_faults(
    own: tuple[VcsimServer, Any, Any], changes: list[Any], fault: type, props: dict[str, str]
) -> None:
    _, _, dvs = own
    with pytest.raises(fault) as raised:
        reconfigure(dvs, *changes)
    for name, value in props.items():
        assert getattr(raised.value, name) == value, name
    assert dvs.config.configVersion == "12"
    assert sorted(sessions(dvs)) == ["1", "2"]


def test_vspan_shared_sources_are_fine(own: tuple[VcsimServer, Any, Any]) -> None:
    _, _, dvs = own
    # 448 is a Tx+Rx source of session 1 already; sharing sources is legal (V5).
    reconfigure(
        dvs, ("add", session(sourcePortTransmitted=vspan_ports(("448",)), sourcePortReceived=vspan_ports(("448",))))
    )
    assert sorted(sessions(dvs)) == ["1", "2", "3"]


def _invalid_cases() -> list[Any]:
    P = vspan_ports
    rms = {
        "sessionType": "remoteMirrorSource",
        "destinationPort": P(uplinks=("dvUplink1",)),
        "encapsulationVlanId": 205,
    }
    rmd = {"sessionType": "remoteMirrorDest", "sourcePortReceived": P(vlans=(205,)), "destinationPort": P(("2259",))}
    ers = {"sessionType": "encapsulatedRemoteMirrorSource", "destinationPort": P(ips=("192.0.2.1",))}
    cases: list[tuple[str, str, dict[str, Any]]] = [
        (
            "uplink-as-tx-source",
            "vspanSession.sourcePortTransmitted.uplinkPortName",
            {"sourcePortTransmitted": P(uplinks=("dvUplink1",))},
        ),
        (
            "uplink-as-rx-source",
            "vspanSession.sourcePortReceived.uplinkPortName",
            {"sourcePortReceived": P(("2258",), uplinks=("dvUplink1",))},
        ),
        (
            "vlans-in-dvportmirror",
            "vspanSession.sourcePortReceived.vlans",
            {"sourcePortReceived": P(("2258",), vlans=(205,))},
        ),
        (
            "vlans-in-rmd-tx",
            "vspanSession.sourcePortTransmitted.vlans",
            {**rmd, "sourcePortTransmitted": P(vlans=(205,))},
        ),
        (
            "vlans-as-destination",
            "vspanSession.destinationPort.vlans",
            {**rmd, "destinationPort": P(("2259",), vlans=(205,))},
        ),
        ("tx-ports-in-rmd", "vspanSession.sourcePortTransmitted", {**rmd, "sourcePortTransmitted": P(("2258",))}),
        (
            "ip-in-a-source",
            "vspanSession.sourcePortReceived.ipAddress",
            {**ers, "sourcePortReceived": P(("2258",), ips=("192.0.2.2",))},
        ),
        (
            "ip-destination-of-dvportmirror",
            "vspanSession.destinationPort.ipAddress",
            {"destinationPort": P(ips=("192.0.2.1",))},
        ),
        (
            "uplink-destination-of-dvportmirror",
            "vspanSession.destinationPort.uplinkPortName",
            {"destinationPort": P(uplinks=("dvUplink1",))},
        ),
        (
            "uplink-destination-of-rmd",
            "vspanSession.destinationPort.uplinkPortName",
            {**rmd, "destinationPort": P(uplinks=("dvUplink1",))},
        ),
        (
            "port-destination-of-erspan",
            "vspanSession.destinationPort.portKey",
            {**ers, "destinationPort": P(("2259",), ips=("192.0.2.1",))},
        ),
        ("port-destination-of-rms", "vspanSession.destinationPort.portKey", {**rms, "destinationPort": P(("2259",))}),
        ("rx-ports-in-rmd", "vspanSession.sourcePortReceived.portKey", {**rmd, "sourcePortReceived": P(("2258",))}),
        ("unknown-session-type", "vspanSession.sessionType", {"sessionType": "aaa"}),
        ("sampling-rate-0", "vspanSession.samplingRate", {"samplingRate": 0}),
        ("sampling-rate-65536", "vspanSession.samplingRate", {"samplingRate": 65536}),
        ("sampling-rate-on-mixed", "vspanSession.samplingRate", {"sessionType": "mixedDestMirror", "samplingRate": 1}),
        ("packet-length-59", "vspanSession.mirroredPacketLength", {"mirroredPacketLength": 59}),
        ("packet-length-0", "vspanSession.mirroredPacketLength", {"mirroredPacketLength": 0}),
        ("packet-length-minus-2", "vspanSession.mirroredPacketLength", {"mirroredPacketLength": -2}),
        ("rms-without-encap-vlan", "vspanSession.encapsulationVlanId", {**rms, "encapsulationVlanId": None}),
        ("rms-encap-vlan-0", "vspanSession.encapsulationVlanId", {**rms, "encapsulationVlanId": 0}),
        ("rms-encap-vlan-4095", "vspanSession.encapsulationVlanId", {**rms, "encapsulationVlanId": 4095}),
        ("encap-vlan-on-erspan", "vspanSession.encapsulationVlanId", {**ers, "encapsulationVlanId": 1}),
        ("rmd-vlan-4095", "vspanSession.sourcePortReceived.vlans", {**rmd, "sourcePortReceived": P(vlans=(4095,))}),
        ("rmd-vlan-negative", "vspanSession.sourcePortReceived.vlans", {**rmd, "sourcePortReceived": P(vlans=(-1,))}),
        ("erspan-id-1024", "vspanSession.erspanId", {**ers, "encapType": "erspan2", "erspanId": 1024}),
        ("erspan-cos-8", "vspanSession.erspanCOS", {**ers, "encapType": "erspan2", "erspanCOS": 8}),
        ("name-81-characters", "vspanSession.name", {"name": "x" * 81}),
        ("malformed-ip", "vspanSession.destinationPort.ipAddress", {**ers, "destinationPort": P(ips=("10.1.1.1.1",))}),
        ("short-ip", "vspanSession.destinationPort.ipAddress", {**ers, "destinationPort": P(ips=("10.111",))}),
        ("add-with-a-key", "vspanSession.key", {"key": "77"}),
    ]
    return [pytest.param([("add", session(**kw))], prop, id=name) for name, prop, kw in cases]


@pytest.mark.parametrize("changes, prop", _invalid_cases())
def test_vspan_invalid_argument(own: tuple[VcsimServer, Any, Any], changes: list[Any], prop: str) -> None:
    _, _, dvs = own
    with pytest.raises(vmodl.fault.InvalidArgument) as raised:
        reconfigure(dvs, *changes)
    assert raised.value.invalidProperty == prop
    assert dvs.config.configVersion == "12"
    assert sorted(sessions(dvs)) == ["1", "2"]


def test_vspan_key_rules(own: tuple[VcsimServer, Any, Any]) -> None:
    _, _, dvs = own
    s1 = sessions(dvs)["1"]
    no_key = session()
    with pytest.raises(vmodl.fault.InvalidArgument):
        reconfigure(dvs, ("edit", no_key))
    with pytest.raises(vmodl.fault.InvalidArgument):
        reconfigure(dvs, ("remove", no_key))
    with pytest.raises(vim.fault.NotFound):
        reconfigure(dvs, ("edit", session(key="42")))
    with pytest.raises(vim.fault.NotFound):
        reconfigure(dvs, ("remove", V.VspanSession(key="")))
    with pytest.raises(vim.fault.NotFound):
        reconfigure(dvs, ("remove", V.VspanSession(key="#$%^")))
    with pytest.raises(vmodl.fault.InvalidArgument):
        reconfigure(dvs, ("edit", s1), ("remove", V.VspanSession(key="1")))
    with pytest.raises(vmodl.fault.InvalidArgument):
        reconfigure(dvs, ("frobnicate", session()))
    assert dvs.config.configVersion == "12"
    assert [api(s) for s in dvs.config.vspanSession] == LAB["switches"][0]["sessions"]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(("add", session(destinationPort=vspan_ports(("99999",)))), id="unknown-dest-port"),
        pytest.param(("add", session(sourcePortTransmitted=vspan_ports(("nope",)))), id="unknown-tx-port"),
        pytest.param(("add", session(sourcePortReceived=vspan_ports(("123456",)))), id="unknown-rx-port"),
        pytest.param(
            (
                "add",
                session(
                    sessionType="remoteMirrorSource",
                    destinationPort=vspan_ports(uplinks=("dvUplink9",)),
                    encapsulationVlanId=205,
                ),
            ),
            id="unknown-uplink",
        ),
    ],
)
def test_vspan_not_found(own: tuple[VcsimServer, Any, Any], change: Any) -> None:
    _, _, dvs = own
    with pytest.raises(vim.fault.NotFound):
        reconfigure(dvs, change)
    assert dvs.config.configVersion == "12"


def test_vspan_ports_of_the_other_switch_are_unknown(own: tuple[VcsimServer, Any, Any]) -> None:
    _, si, _ = own
    mgmt = switch(si, "dvSwitchMgmt")
    assert mgmt.config.vspanSession == []
    with pytest.raises(vim.fault.NotFound):
        reconfigure(
            mgmt, ("add", session(sourcePortReceived=vspan_ports(("448",)), destinationPort=vspan_ports(("90",))))
        )
    reconfigure(mgmt, ("add", session(sourcePortReceived=vspan_ports(("64",)), destinationPort=vspan_ports(("90",)))))
    assert list(sessions(mgmt)) == ["1"]
    assert mgmt.config.configVersion == "13"
    assert switch(si).config.configVersion == "12"


def test_fault_message_is_readable(own: tuple[VcsimServer, Any, Any]) -> None:
    _, _, dvs = own
    with pytest.raises(vim.fault.VspanDestPortConflict) as raised:
        reconfigure(dvs, ("add", session(destinationPort=vspan_ports((SESSION_1_DEST,)))))
    # pyVmomi's stubs omit MethodFault.msg, which every fault has at run time.
    assert "2241" in raised.value.msg  # type: ignore[attr-defined]


# -- server options -----------------------------------------------------------------------------


def test_tls_serves_https_with_the_printed_thumbprint(vcsim_tls: VcsimServer) -> None:
    server = vcsim_tls
    assert server.url.startswith("https://127.0.0.1:")
    pem = ssl.get_server_certificate((server.host, server.port))
    der = ssl.PEM_cert_to_DER_cert(pem)
    sha1 = hashlib.sha1(der).hexdigest().upper()
    assert server.thumbprint == ":".join(sha1[i : i + 2] for i in range(0, 40, 2))
    with open(server.cert) as f:
        assert ssl.PEM_cert_to_DER_cert(f.read()) == der
    si = server.connect()  # verifies against the printed certificate as CA
    assert switch(si).FetchDVPorts(vim.dvs.PortCriteria(portKey=["448"]))[0].connectee.nicKey == "4001"
    with pytest.raises(ssl.SSLError):
        server.connect(sslContext=ssl.create_default_context())


def test_credentials(start_vcsim: Any) -> None:
    server = start_vcsim(user="administrator@vsphere.local", password="s3cret!")
    assert server.connect().content.sessionManager.currentSession.userName == "administrator@vsphere.local"
    with pytest.raises(vim.fault.InvalidLogin):
        server.connect(password="wrong")
    with pytest.raises(vim.fault.InvalidLogin):
        server.connect(user="user", password="pass")


def test_terminate_session_from_another_session(start_vcsim: Any) -> None:
    server = start_vcsim()
    victim, admin = server.connect(), server.connect()
    key = victim.content.sessionManager.currentSession.key
    admin.content.sessionManager.TerminateSession([key])
    with pytest.raises(vim.fault.NotAuthenticated):
        switch(victim)
    assert switch(admin).name == "dvSwitchCloud"


def test_idle_sessions_expire(start_vcsim: Any) -> None:
    server = start_vcsim(session_idle=1)
    si = server.connect()
    assert switch(si).name == "dvSwitchCloud"
    time.sleep(2.5)
    with pytest.raises(vim.fault.NotAuthenticated):
        switch(si)


def test_delay(start_vcsim: Any) -> None:
    server = start_vcsim(delay=150)
    started = time.monotonic()
    si = server.connect()
    dvs = switch(si)
    calls_started = time.monotonic()
    dvs.FetchDVPorts(vim.dvs.PortCriteria(portKey=["448"]))
    assert time.monotonic() - calls_started >= 0.15
    assert calls_started - started >= 0.3  # login and lookups paid the delay too
    assert server.startup_seconds < 30  # the delay does not slow down building


def test_refuses_a_non_loopback_address(start_vcsim: Any) -> None:
    # The later -listen wins; the server exits with an error before printing its start line.
    with pytest.raises(RuntimeError, match=r"did not start \(exit [1-9][0-9]*\)") as err:
        start_vcsim(args=("-listen", "0.0.0.0:0"))
    assert "loopback" in str(err.value).partition("\n")[2]  # what it wrote to standard error


def test_exits_when_stdin_closes(start_vcsim: Any) -> None:
    server = start_vcsim()
    server.proc.stdin.close()
    assert server.proc.wait(timeout=10) == 0


def test_exits_on_sigterm(start_vcsim: Any) -> None:
    server = start_vcsim()
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=10) == 0


def test_bad_lab_is_reported(start_vcsim: Any, tmp_path: Any) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something-else", "version": 1}')
    with pytest.raises(RuntimeError, match="dvmirror-snapshot"):
        start_vcsim(bad)


def test_scaled_lab(start_vcsim: Any, tmp_path: Path) -> None:
    lab = tmp_path / "scaled.json"
    subprocess.run([sys.executable, "-m", "tests.labgen", "scaled", "--vms", "2000", str(lab)], cwd=REPO, check=True)
    data = json.loads(lab.read_text(encoding="utf-8"))
    server = start_vcsim(lab)
    si = server.connect()
    values, pages = retrieve(si, {vim.VirtualMachine: ["name", "runtime.host"]}, max_objects=500)
    assert len(values) == len(data["vms"]) and len(pages) == -(-len(data["vms"]) // 500)
    total = sum(len(switch(si, s["name"]).FetchDVPorts()) for s in data["switches"])
    assert total == len(data["ports"])
