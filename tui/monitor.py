"""Prepare a monitor port: the mirror portgroup and the monitor VM's NIC on it, planned and checked.

The walkthrough's first steps (port-mirroring-walkthrough.txt, "Port Mirroring – VMware dvSwitch
Configuration" 1-3): choose a mirroring VLAN (205), create a portgroup for it (dvPgMirror) on the
uplinks the other portgroups use, and attach the monitor VM's NIC (MGTSRVR003UX's "Network adapter 2")
to it. :func:`plan` turns a :class:`MonitorRequest` and the inventory into a :class:`MonitorPlan`:
the checks (each a :class:`~tui.model.Problem` with its own code), whether an existing portgroup is
reused or one is created, and the exact specs a backend will send, in the API's shape
(``CreateDVPortgroup_Task`` with a ``DVPortgroupConfigSpec``, ``ReconfigVM_Task`` with a
``VirtualMachineConfigSpec``: vSphere API reference, *Data Object - DVPortgroupConfigSpec*,
*VirtualMachineConfigSpec*, *VirtualDeviceConfigSpec*).

What the inventory does not hold is given by the backend, read just before planning
(:class:`VmFacts`): the VM's ``config.changeVersion`` (sent in the spec: the API reference says a
``changeVersion`` given in an update makes the change apply only while the current one matches, and
lists ``ConcurrentAccess`` among ``ReconfigVM_Task``'s faults), the NIC's device (sent whole, with the
new backing), and the uplink teaming policy of the portgroup whose uplinks the new one copies.

Guest addresses, decided here: moving the VM's **only** NIC is refused (``OnlyNic``: the VM would
leave its network); moving a NIC that carries **every** guest IP the VM reports is refused
(``ManagementAddress``: that is how the VM is reached); moving a NIC that carries some of them is a
warning (``NicHasAddress``): the walkthrough's adapter has a non-routable address on purpose.

Pure Python: no Textual, no pyVmomi.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

from tui.model import Inventory, Nic, Portgroup, Problem, Severity, Switch, Vm
from tui.text import has_unsafe

DEFAULT_PORTGROUP = "dvPgMirror"
DEFAULT_VLAN = 205
"""The walkthrough's mirroring VLAN."""
NEW_PORTS = 8
"""``numPorts`` of a created portgroup; ``autoExpand`` lets it grow (API: elastic portgroups)."""
CREATED_BY = "Mirror destination VLAN, created by dvmirror monitor prepare"
"""The created portgroup's description: how people (and ``monitor restore``) tell it was dvmirror's."""
NEW_KEY = "(the key of the new portgroup)"
"""Shown in a reconfigure spec in place of a portgroup key that exists only once the portgroup is created."""


@dataclass(frozen=True, slots=True)
class MonitorRequest:
    """What the operator asked for (CLI flags or the TUI screen)."""

    vm: str
    """VM name (case-insensitive) or managed object ID."""
    vlan: int = DEFAULT_VLAN
    nic: str = ""
    """NIC label (``Network adapter 2``) or device key; empty: the one NIC that fits."""
    portgroup: str = DEFAULT_PORTGROUP
    switch: str = ""
    """Switch name or UUID; empty: the NIC's switch."""
    copy_from: str = ""
    """Portgroup whose uplink teaming the new portgroup copies; empty: the NIC's portgroup, else the first."""


@dataclass(frozen=True, slots=True)
class VmFacts:
    """What the backend read just before planning, beyond the inventory."""

    change_version: str = ""
    """The VM's ``config.changeVersion``; empty when not known (the spec then omits it)."""
    device_types: dict[int, str] = field(default_factory=dict)
    """NIC device key → vSphere type (``VirtualVmxnet3``)."""
    devices: dict[int, dict[str, Any]] = field(default_factory=dict)
    """NIC device key → the device as read (API shape): the edit sends it whole, with the new backing."""
    teaming: dict[str, Any] | None = None
    """The template portgroup's ``defaultPortConfig.uplinkTeamingPolicy``, API shape; None: not read."""


@dataclass(frozen=True, slots=True)
class MonitorPlan:
    """The checked plan: problems first, then what would be sent."""

    request: MonitorRequest
    problems: tuple[Problem, ...] = ()
    vm: Vm | None = None
    nic: Nic | None = None
    switch: Switch | None = None
    portgroup: Portgroup | None = None
    """The existing mirror portgroup that is reused (None when one is created)."""
    template: Portgroup | None = None
    """The portgroup whose uplink teaming a created one copies."""
    create_spec: dict[str, Any] | None = None
    """``CreateDVPortgroup_Task(spec)``, API shape; None when the portgroup exists."""
    reconfig_spec: dict[str, Any] | None = None
    """``ReconfigVM_Task(spec)``, API shape; None when there is nothing to do."""
    nothing_to_do: bool = False
    """The NIC is already on the portgroup (``AlreadyThere``)."""

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def ok(self) -> bool:
        """No error: the plan may be applied (or there is nothing to do)."""
        return not self.errors

    @property
    def portgroup_name(self) -> str:
        return self.portgroup.name if self.portgroup else self.request.portgroup

    def to_json(self) -> dict[str, Any]:
        """The CLI's ``--json`` shape (and ``--dry-run``'s review)."""
        nic = self.nic
        return {
            "vm": self.vm.name if self.vm else self.request.vm,
            "nic": nic.label if nic else self.request.nic,
            "switch": self.switch.name if self.switch else self.request.switch,
            "portgroup": self.portgroup_name,
            "vlan": self.request.vlan,
            "createPortgroup": self.create_spec is not None,
            "teamingFrom": self.template.name if self.template else None,
            "nothingToDo": self.nothing_to_do,
            "currentPort": nic.port if nic else None,
            "problems": [p.to_json() for p in self.problems],
            "createDVPortgroupSpec": self.create_spec,
            "reconfigVMSpec": self.reconfig_spec,
        }


def _problem(code: str, message: str, severity: Severity = Severity.ERROR, fld: str = "") -> Problem:
    return Problem(code, message, field=fld, severity=severity)


def find_vm(inventory: Inventory, name: str) -> Vm | None:
    """The VM called ``name`` (case-insensitive) or with that key."""
    vm = inventory.vms.get(name)
    if vm is not None:
        return vm
    low = name.lower()
    return next((v for v in inventory.vms.values() if v.name.lower() == low), None)


def vlans_in_use(inventory: Inventory, switch_key: str) -> dict[int, Portgroup]:
    """Access and private VLAN IDs of the switch's portgroups (trunks carry, they do not use)."""
    used: dict[int, Portgroup] = {}
    for pg in inventory.portgroups_by_switch.get(switch_key, ()):
        if pg.uplink or pg.vlan.is_trunk:
            continue
        vid = pg.vlan.pvlan if pg.vlan.pvlan is not None else pg.vlan.vlan_id
        if vid:
            used.setdefault(vid, pg)
    return used


def free_vlan(inventory: Inventory, switch_key: str, preferred: int = DEFAULT_VLAN, portgroup: str = "") -> int:
    """``preferred`` if no portgroup but ``portgroup`` uses it on the switch, else the next free VLAN above it
    (wrapping to 1), for the TUI's suggestion."""
    used = vlans_in_use(inventory, switch_key)
    start = preferred if 1 <= preferred <= 4094 else DEFAULT_VLAN
    for i in range(4094):
        vid = (start - 1 + i) % 4094 + 1
        holder = used.get(vid)
        if holder is None or holder.name == portgroup:
            return vid
    return start


def host_is_member(inventory: Inventory, switch_key: str, host_key: str, but: str = "") -> bool:
    """Whether ``host_key`` is a member of the switch, as the inventory shows it: vCenter gives each member
    host its uplink ports (``proxyHost``), and VMs of member hosts (other than ``but``) have ports there."""
    if any(p.host == host_key for p in inventory.ports_by_switch.get(switch_key, ())):
        return True
    return any(
        vm.key != but and vm.host == host_key and any(n.switch == switch_key for n in vm.nics)
        for vm in inventory.vms.values()
    )


def _pick_nic(vm: Vm, wanted: str, mirror_pgs: set[str]) -> tuple[Nic | None, Problem | None]:
    labels = ", ".join(f'"{n.label}"' for n in vm.nics) or "none"
    if not vm.nics:
        return None, _problem("NicNotFound", f"{vm.name} has no network adapter.", fld="nic")
    if wanted:
        low = wanted.strip().lower()
        hits = [n for n in vm.nics if n.label.lower() == low or str(n.key) == low]
        if len(hits) == 1:
            return hits[0], None
        if not hits:
            return None, _problem(
                "NicNotFound", f'{vm.name} has no network adapter "{wanted}" (it has {labels}).', fld="nic"
            )
        return None, _problem(
            "NicAmbiguous", f'{vm.name} has {len(hits)} adapters labelled "{wanted}": give the device key.', fld="nic"
        )
    if len(vm.nics) == 1:
        return vm.nics[0], None
    on_mirror = [n for n in vm.nics if n.portgroup in mirror_pgs]
    if len(on_mirror) == 1:
        return on_mirror[0], None
    quiet = [n for n in vm.nics if not n.ips]
    if len(quiet) == 1:
        return quiet[0], None
    return None, _problem(
        "NicAmbiguous",
        f"{vm.name} has {len(vm.nics)} network adapters ({labels}) and more than one could be the monitor "
        'adapter: choose one (--nic "Network adapter 2").',
        fld="nic",
    )


def _pick_switch(
    inventory: Inventory, request: MonitorRequest, nic: Nic | None
) -> tuple[Switch | None, Problem | None]:
    if request.switch:
        sw = inventory.switch_by_name(request.switch)
        if sw is None:
            names = ", ".join(sorted(s.name for s in inventory.switches.values())) or "none"
            return None, _problem("SwitchNotFound", f"No switch {request.switch} (there are: {names}).", fld="switch")
        return sw, None
    if nic is not None and nic.switch in inventory.switches:
        return inventory.switches[nic.switch], None
    holders = [
        inventory.switches[pg.switch]
        for pg in inventory.portgroups.values()
        if pg.name == request.portgroup and pg.switch in inventory.switches
    ]
    if len(holders) == 1:
        return holders[0], None
    if len(inventory.switches) == 1:
        return next(iter(inventory.switches.values())), None
    return None, _problem(
        "SwitchAmbiguous",
        "The adapter is not on a distributed switch: choose the switch (--switch NAME).",
        fld="switch",
    )


def _template(
    inventory: Inventory, switch: Switch, nic: Nic | None, copy_from: str, exclude: str
) -> tuple[Portgroup | None, Problem | None]:
    pgs = [pg for pg in inventory.portgroups_by_switch.get(switch.key, ()) if not pg.uplink and pg.name != exclude]
    if copy_from:
        hit = next((pg for pg in pgs if pg.name.lower() == copy_from.lower() or pg.key == copy_from), None)
        if hit is None:
            return None, _problem(
                "TemplateNotFound",
                f"{switch.name} has no portgroup {copy_from} to copy the uplink teaming from.",
                fld="copy_from",
            )
        return hit, None
    if nic is not None:
        own = next((pg for pg in pgs if pg.key == nic.portgroup), None)
        if own is not None:
            return own, None
    access = sorted((pg for pg in pgs if not pg.vlan.is_trunk), key=lambda p: p.name.lower())
    return (access[0] if access else (pgs[0] if pgs else None)), None


def create_spec(request: MonitorRequest, teaming: dict[str, Any] | None) -> dict[str, Any]:
    """The ``DVPortgroupConfigSpec`` of the mirror portgroup, API shape (``_type`` names the data object)."""
    setting: dict[str, Any] = {
        "_type": "VMwareDVSPortSetting",
        "vlan": {"_type": "VmwareDistributedVirtualSwitchVlanIdSpec", "inherited": False, "vlanId": request.vlan},
    }
    if teaming is not None:
        setting["uplinkTeamingPolicy"] = copy.deepcopy(teaming)
    return {
        "_type": "DVPortgroupConfigSpec",
        "name": request.portgroup,
        "type": "earlyBinding",
        "numPorts": NEW_PORTS,
        "autoExpand": True,
        "description": CREATED_BY,
        "defaultPortConfig": setting,
    }


def reconfig_spec(nic: Nic, switch_uuid: str, portgroup_key: str, facts: VmFacts, port_key: str = "") -> dict[str, Any]:
    """The ``VirtualMachineConfigSpec`` moving ``nic`` to ``portgroup_key`` (a port vCenter picks, or ``port_key``),
    API shape: one ``edit`` of the device with a distributed port backing, and the VM's ``changeVersion``."""
    port: dict[str, Any] = {
        "_type": "DistributedVirtualSwitchPortConnection",
        "switchUuid": switch_uuid,
        "portgroupKey": portgroup_key,
    }
    if port_key:
        port["portKey"] = port_key
    spec: dict[str, Any] = {"_type": "VirtualMachineConfigSpec"}
    if facts.change_version:
        spec["changeVersion"] = facts.change_version
    device = copy.deepcopy(facts.devices.get(nic.key)) or {
        "_type": facts.device_types.get(nic.key, "VirtualEthernetCard"),
        "key": nic.key,
        "deviceInfo": {"_type": "Description", "label": nic.label, "summary": ""},
        "connectable": {
            "_type": "VirtualDeviceConnectInfo",
            "connected": nic.connected,
            "startConnected": True,
            "allowGuestControl": True,
        },
    }
    device["backing"] = {"_type": "VirtualEthernetCardDistributedVirtualPortBackingInfo", "port": port}
    spec["deviceChange"] = [{"_type": "VirtualDeviceConfigSpec", "operation": "edit", "device": device}]
    return spec


def plan(inventory: Inventory, request: MonitorRequest, facts: VmFacts | None = None) -> MonitorPlan:
    """Check ``request`` against ``inventory`` and say what would be sent. Never raises on bad input."""
    facts = facts or VmFacts()
    problems: list[Problem] = []
    if not 1 <= request.vlan <= 4094:
        problems.append(_problem("BadVlan", f"VLAN {request.vlan} cannot be a mirroring VLAN: use 1-4094.", fld="vlan"))
    name = request.portgroup.strip()
    request = replace(request, portgroup=name)  # as checked, so as sent
    if not name or len(name) > 80 or has_unsafe(name):
        problems.append(
            _problem(
                "BadPortgroupName",
                "A portgroup name has 1 to 80 characters, none of them control characters.",
                fld="portgroup",
            )
        )
    vm = find_vm(inventory, request.vm)
    if vm is None:
        problems.append(_problem("VmNotFound", f"No VM called {request.vm} in {inventory.vcenter}.", fld="vm"))
        return MonitorPlan(request, tuple(problems))
    mirror_pgs = {pg.key for pg in inventory.portgroups.values() if pg.name == request.portgroup}
    nic, trouble = _pick_nic(vm, request.nic, mirror_pgs)
    if trouble:
        problems.append(trouble)
    switch, trouble = _pick_switch(inventory, request, nic)
    if trouble:
        problems.append(trouble)
    if switch is None or nic is None:
        return MonitorPlan(request, tuple(problems), vm=vm, nic=nic, switch=switch)

    existing = next(
        (pg for pg in inventory.portgroups_by_switch.get(switch.key, ()) if pg.name == request.portgroup), None
    )
    if existing is not None and existing.uplink:
        problems.append(
            _problem("PortgroupIsUplink", f"{existing.name} is the uplink portgroup of {switch.name}.", fld="portgroup")
        )
    elif existing is not None and not (existing.vlan.vlan_id == request.vlan and not existing.vlan.is_trunk):
        problems.append(
            _problem(
                "PortgroupVlanMismatch",
                f"{switch.name} already has a portgroup {existing.name}, on {existing.vlan.label}, not VLAN "
                f"{request.vlan}: ask for {existing.vlan.label} or give another portgroup name (--portgroup).",
                fld="vlan",
            )
        )
    holder = vlans_in_use(inventory, switch.key).get(request.vlan)
    if holder is not None and holder.name != request.portgroup:
        problems.append(
            _problem(
                "VlanInUse",
                f"VLAN {request.vlan} is already in use on {switch.name} by portgroup {holder.name}: mirrored frames "
                f"would reach its VMs. Choose a free VLAN (e.g. {free_vlan(inventory, switch.key, request.vlan)}).",
                fld="vlan",
            )
        )
    if vm.host and not host_is_member(inventory, switch.key, vm.host, but=vm.key):
        problems.append(
            _problem(
                "HostNotOnSwitch",
                f"{vm.name} runs on {inventory.host_name(vm.host) or vm.host}, which is not a member of {switch.name}: "
                "its adapter cannot connect to that switch. Add the host to the switch or move the VM first.",
                fld="vm",
            )
        )

    errors_so_far = any(p.severity is Severity.ERROR for p in problems)
    if existing is not None and nic.switch == switch.key and nic.portgroup == existing.key and not errors_so_far:
        port = nic.port or "(none yet)"
        problems.append(
            _problem(
                "AlreadyThere",
                f"{vm.name} / {nic.label} is already on {existing.name} (port {port}): nothing to do.",
                Severity.INFO,
            )
        )
        return MonitorPlan(
            request, tuple(problems), vm=vm, nic=nic, switch=switch, portgroup=existing, nothing_to_do=True
        )

    if len(vm.nics) == 1:
        problems.append(
            _problem(
                "OnlyNic",
                f"{nic.label} is the only network adapter of {vm.name}: moving it to the mirror VLAN takes the VM "
                "off its network. Add a second adapter for monitoring first.",
                fld="nic",
            )
        )
    elif nic.ips and set(nic.ips) >= set(vm.ips):
        problems.append(
            _problem(
                "ManagementAddress",
                f"{nic.label} carries every guest address of {vm.name} ({', '.join(nic.ips)}): it is how the VM is "
                "reached. Choose its other adapter (--nic).",
                fld="nic",
            )
        )
    elif nic.ips:
        problems.append(
            _problem(
                "NicHasAddress",
                f"{nic.label} of {vm.name} has the guest address {', '.join(nic.ips)}, which stops working on the "
                "mirror VLAN (the walkthrough gives the monitor adapter a non-routable address, no gateway).",
                Severity.WARNING,
                fld="nic",
            )
        )
    if vm.power != "poweredOn":
        problems.append(
            _problem(
                "PoweredOff",
                f"{vm.name} is {vm.power}: its port's link is down until it is powered on, and a session delivers "
                "nothing to it until then.",
                Severity.WARNING,
                fld="vm",
            )
        )

    template: Portgroup | None = None
    spec_create: dict[str, Any] | None = None
    if existing is None:
        template, trouble = _template(inventory, switch, nic, request.copy_from, request.portgroup)
        if trouble:
            problems.append(trouble)
        spec_create = create_spec(request, facts.teaming)
    spec_vm = reconfig_spec(nic, switch.key, existing.key if existing else NEW_KEY, facts)
    return MonitorPlan(
        request,
        tuple(problems),
        vm=vm,
        nic=nic,
        switch=switch,
        portgroup=existing,
        template=template,
        create_spec=spec_create,
        reconfig_spec=spec_vm,
    )


@dataclass(frozen=True, slots=True)
class MonitorResult:
    """What applying a plan (or a restore) did, as read back."""

    vm: str
    nic: str
    portgroup: str
    """Name of the portgroup the NIC is on now."""
    portgroup_key: str
    port: str
    """The NIC's port key now (the new destination); empty when vCenter has assigned none yet."""
    created: bool = False
    """The portgroup was created by this change."""
    removed: bool = False
    """(restore) the portgroup dvmirror had created was removed."""
    warnings: tuple[Problem, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "vm": self.vm,
            "nic": self.nic,
            "portgroup": self.portgroup,
            "portgroupKey": self.portgroup_key,
            "port": self.port,
            "created": self.created,
            "removed": self.removed,
            "warnings": [p.to_json() for p in self.warnings],
        }


@dataclass(frozen=True, slots=True)
class RestoreRecord:
    """Where a NIC was before ``monitor prepare`` moved it (kept in :mod:`tui.monitor_store`)."""

    vcenter: str
    vm_key: str
    vm_name: str
    nic_key: int
    nic_label: str
    switch: str
    """Switch UUID the NIC was on (empty: not on a distributed switch)."""
    portgroup: str
    port: str
    to_portgroup: str
    """Key of the mirror portgroup it was moved to."""
    created_portgroup: bool = False
    at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "vcenter": self.vcenter,
            "vmKey": self.vm_key,
            "vm": self.vm_name,
            "nicKey": self.nic_key,
            "nic": self.nic_label,
            "switch": self.switch,
            "portgroup": self.portgroup,
            "port": self.port,
            "toPortgroup": self.to_portgroup,
            "createdPortgroup": self.created_portgroup,
            "at": self.at,
        }

    @classmethod
    def from_json(cls, data: object) -> RestoreRecord | None:
        """A record from the state file, or None when it is not one (hostile input is skipped)."""
        if not isinstance(data, dict):
            return None
        try:
            text = {k: data[k] for k in ("vcenter", "vmKey", "vm", "nic", "switch", "portgroup", "port", "toPortgroup")}
            nic_key = data["nicKey"]
        except KeyError:
            return None
        if not all(isinstance(v, str) and len(v) < 1000 for v in text.values()):
            return None
        if not isinstance(nic_key, int) or isinstance(nic_key, bool):
            return None
        at = data.get("at", "")
        return cls(
            vcenter=text["vcenter"],
            vm_key=text["vmKey"],
            vm_name=text["vm"],
            nic_key=nic_key,
            nic_label=text["nic"],
            switch=text["switch"],
            portgroup=text["portgroup"],
            port=text["port"],
            to_portgroup=text["toPortgroup"],
            created_portgroup=data.get("createdPortgroup") is True,
            at=at if isinstance(at, str) else "",
        )


def restore_spec(inventory: Inventory, record: RestoreRecord, facts: VmFacts) -> tuple[dict[str, Any] | None, Problem]:
    """The ``VirtualMachineConfigSpec`` putting the NIC back (its old port when that is free), or None and why not."""
    vm = inventory.vms.get(record.vm_key)
    if vm is None:
        return None, _problem("VmNotFound", f"{record.vm_name} ({record.vm_key}) is no longer in {inventory.vcenter}.")
    nic = next((n for n in vm.nics if n.key == record.nic_key), None)
    if nic is None:
        return None, _problem("NicNotFound", f"{vm.name} no longer has the adapter {record.nic_label}.")
    if not record.switch or record.portgroup not in inventory.portgroups:
        return None, _problem(
            "PortgroupGone",
            f"{nic.label} was on a portgroup ({record.portgroup or 'not a distributed one'}) that {inventory.vcenter} "
            "no longer has: reconnect it by hand.",
        )
    if nic.switch == record.switch and nic.portgroup == record.portgroup:
        return None, _problem(
            "AlreadyThere", f"{vm.name} / {nic.label} is already back on its portgroup.", Severity.INFO
        )
    old = inventory.port(record.switch, record.port) if record.port else None
    keep = old is not None and old.portgroup == record.portgroup and old.connectee is None
    note = (
        _problem("SamePort", f"back to port {record.port}.", Severity.INFO)
        if keep
        else _problem(
            "OtherPort",
            f"port {record.port or '(none)'} is taken or gone: vCenter picks a free port of the portgroup.",
            Severity.WARNING,
        )
    )
    return reconfig_spec(nic, record.switch, record.portgroup, facts, record.port if keep else ""), note


def kept_in_use(portgroup: str, busy: list[str]) -> Problem:
    """The warning of a restore that keeps the mirror portgroup: ports of it are still connected."""
    return Problem(
        "PortgroupInUse",
        f"{portgroup} was kept: ports {', '.join(busy)} are still connected.",
        severity=Severity.WARNING,
    )
