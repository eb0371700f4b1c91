"""Prepare a monitor port on vCenter: the facts a plan needs, the specs as pyVmomi objects, the tasks.

:mod:`tui.monitor` plans in the API's shape (dicts whose ``_type`` names the data object); this
module reads what the plan needs beyond the inventory (:func:`read_facts`: the VM's
``config.changeVersion`` and NIC devices, the template portgroup's uplink teaming), turns the
dicts into pyVmomi data objects (:func:`to_vim`, by WSDL name through ``VmomiSupport.GetWsdlType``)
and back (:func:`to_api`), and runs ``CreateDVPortgroup_Task``, ``ReconfigVM_Task`` and a portgroup's
``Destroy_Task``, reading back what they did. Called by :class:`~tui.backends.vsphere.VsphereBackend`
inside its error mapping.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tui.backends import ChangeRefused
from tui.backends._convert import _support, _vim, _vmodl
from tui.backends._faults import _problem_from_fault
from tui.backends._tasks import wait
from tui.model import Problem
from tui.monitor import VmFacts

_SKIP = {"dynamicType", "dynamicProperty"}


def to_api(obj: Any) -> Any:
    """A pyVmomi value as plain JSON: data objects as dicts with ``_type`` (unset properties left out)."""
    support = _support()
    if isinstance(obj, support.ManagedObject):
        return {"_type": "ManagedObjectReference", "type": obj._wsdlName, "value": obj._moId}
    if isinstance(obj, support.DataObject):
        out: dict[str, Any] = {"_type": obj._wsdlName}
        for prop in obj._GetPropertyList():
            if prop.name in _SKIP:
                continue
            value = getattr(obj, prop.name, None)
            if value is None or (isinstance(value, list) and not value):
                continue
            out[prop.name] = to_api(value)
        return out
    if isinstance(obj, list):
        return [to_api(v) for v in obj]
    if isinstance(obj, bool):
        return bool(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    return str(obj)


def to_vim(value: Any, stub: Any = None) -> Any:
    """:func:`to_api`'s shape back to pyVmomi objects (``ValueError`` for an unknown ``_type``)."""
    support = _support()
    if isinstance(value, list):
        return [to_vim(v, stub) for v in value]
    if not isinstance(value, dict):
        return value
    name = value.get("_type")
    if name == "ManagedObjectReference":
        cls = support.GetWsdlType("urn:vim25", str(value["type"]))
        return cls(str(value["value"]), stub)
    try:
        cls = support.GetWsdlType("urn:vim25", str(name))
    except KeyError:
        raise ValueError(f"unknown data object type {name!r}") from None
    args = {k: to_vim(v, stub) for k, v in value.items() if k != "_type"}
    return cls(**args)


def _props(pc: Any, obj: Any, paths: list[str]) -> dict[str, Any]:
    vmodl = _vmodl()
    PC = vmodl.query.PropertyCollector
    spec = PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=obj, skip=False)],
        propSet=[PC.PropertySpec(type=type(obj), pathSet=paths)],
    )
    result = pc.RetrievePropertiesEx([spec], PC.RetrieveOptions())
    out: dict[str, Any] = {}
    for oc in (result.objects if result is not None else None) or ():
        for p in oc.propSet or ():
            out[p.name] = p.val
    return out


def vm_ref(stub: Any, key: str) -> Any:
    return _vim().VirtualMachine(key, stub)


def portgroup_ref(stub: Any, key: str) -> Any:
    return _vim().dvs.DistributedVirtualPortgroup(key, stub)


def read_vm(pc: Any, vm: Any) -> tuple[str, dict[int, Any]]:
    """The VM's ``config.changeVersion`` and its network adapters by device key (pyVmomi objects)."""
    vim = _vim()
    props = _props(pc, vm, ["config.changeVersion", "config.hardware.device"])
    devices = {
        int(d.key): d
        for d in props.get("config.hardware.device") or ()
        if isinstance(d, vim.vm.device.VirtualEthernetCard)
    }
    return str(props.get("config.changeVersion") or ""), devices


def read_teaming(pc: Any, pg: Any) -> dict[str, Any] | None:
    """The portgroup's ``config.defaultPortConfig.uplinkTeamingPolicy`` in API shape (None if unset)."""
    props = _props(pc, pg, ["config.defaultPortConfig"])
    setting = props.get("config.defaultPortConfig")
    teaming = getattr(setting, "uplinkTeamingPolicy", None)
    return to_api(teaming) if teaming is not None else None


def read_facts(pc: Any, stub: Any, vm_key: str, template_key: str) -> VmFacts:
    """What :func:`tui.monitor.plan` needs beyond the inventory, read now."""
    version, devices = read_vm(pc, vm_ref(stub, vm_key))
    teaming = read_teaming(pc, portgroup_ref(stub, template_key)) if template_key else None
    return VmFacts(
        change_version=version,
        device_types={k: d._wsdlName for k, d in devices.items()},
        devices={k: to_api(d) for k, d in devices.items()},
        teaming=teaming,
    )


def refusal(what: str, host_names: dict[str, str]) -> Callable[[Any], ChangeRefused]:
    """vCenter's fault for ``what`` as a :class:`ChangeRefused` (sent): ConcurrentAccess in the VM's terms."""
    vim = _vim()

    def refuse(fault: Any) -> ChangeRefused:
        if isinstance(fault, vim.fault.NotAuthenticated | vim.fault.InvalidLogin):
            raise fault
        if isinstance(fault, vim.fault.ConcurrentAccess):
            problem = Problem(
                "ConcurrentAccess",
                "The VM changed since it was read (its changeVersion differs): nothing was changed. Review and retry.",
            )
        else:
            problem = _problem_from_fault(fault, host_names)
        return ChangeRefused(f"vCenter refused {what}: {problem.message}", [problem], sent=True)

    return refuse


def run_task(start: Callable[[], Any], what: str, host_names: dict[str, str], closing: Callable[[], bool]) -> Any:
    """Start a task and wait for it; its ``info.result``. A fault (at once or in the task) is a refusal."""
    vmodl = _vmodl()
    refuse = refusal(what, host_names)
    try:
        task = start()
    except vmodl.MethodFault as fault:
        raise refuse(fault) from None
    wait(task, refuse, closing)
    return task.info.result


def nic_backing(pc: Any, vm: Any, nic_key: int) -> tuple[str, str, str] | None:
    """(switch UUID, portgroup key, port key) of the NIC's distributed port backing now; None if not on one."""
    vim = _vim()
    _version, devices = read_vm(pc, vm)
    dev = devices.get(nic_key)
    backing = getattr(dev, "backing", None)
    if not isinstance(backing, vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo):
        return None
    port = backing.port
    return str(port.switchUuid or ""), str(port.portgroupKey or ""), str(port.portKey or "")


def portgroup_config(pc: Any, pg: Any) -> dict[str, Any]:
    """A portgroup's name, key and VLAN ID as read back (``vlan`` None for a trunk or private VLAN)."""
    props = _props(pc, pg, ["name", "key", "config.defaultPortConfig"])
    vlan = getattr(props.get("config.defaultPortConfig"), "vlan", None)
    vid = getattr(vlan, "vlanId", None)
    return {
        "name": str(props.get("name") or ""),
        "key": str(props.get("key") or pg._moId),
        "vlan": vid if isinstance(vid, int) and not isinstance(vid, bool) else None,
    }


def connected_ports(dvs: Any, portgroup_key: str) -> list[str]:
    """Keys of the portgroup's ports that something is connected to (``FetchDVPorts`` by portgroup)."""
    vim = _vim()
    criteria = vim.dvs.PortCriteria(portgroupKey=[portgroup_key], inside=True)
    return [str(p.key) for p in dvs.FetchDVPorts(criteria) or () if p.connectee is not None]
