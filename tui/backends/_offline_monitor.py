"""Prepare and restore a monitor port in memory, for the demo lab and snapshots (no pyVmomi).

The same outcome vCenter (and the vcsim test server, tests/vcsim/pgcreate.go and vmops.go) gives:
a created portgroup gets the next ``dvportgroup-N`` key and ``numPorts`` ports keyed from the switch's
highest numeric port key plus one; a moved NIC leaves its old port (connectee cleared, link down) and
takes the first free port of the portgroup (its own old port key when restoring and it is free); the
VM's ``changeVersion`` counts up; a portgroup with a connected port cannot be removed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tui.backends import ChangeRefused
from tui.model import Binding, Connectee, ConnecteeType, Inventory, Nic, Port, Portgroup, Problem, Vlan, Vm
from tui.text import ascii_digits

TEAMING: dict[str, Any] = {
    "_type": "VmwareUplinkPortTeamingPolicy",
    "policy": {"_type": "StringPolicy", "inherited": False, "value": "loadbalance_srcid"},
    "reversePolicy": {"_type": "BoolPolicy", "inherited": False, "value": True},
    "notifySwitches": {"_type": "BoolPolicy", "inherited": False, "value": True},
    "rollingOrder": {"_type": "BoolPolicy", "inherited": False, "value": False},
}
"""The uplink teaming every portgroup of the demo lab has (a snapshot records none; the vcsim server
serves this one, tests/vcsim/build.go ``portSetting``), with :func:`teaming`'s uplink order."""


def teaming(uplinks: tuple[str, ...]) -> dict[str, Any]:
    """:data:`TEAMING` with the switch's uplinks active in order, none standby (tests/vcsim ``withUplinkOrder``)."""
    out = dict(TEAMING)
    if uplinks:
        out["uplinkPortOrder"] = {
            "_type": "VMwareUplinkPortOrderPolicy",
            "inherited": False,
            "activeUplinkPort": list(uplinks),
        }
    return out


def _rebuilt(inv: Inventory, portgroups: list[Portgroup], ports: list[Port], vms: list[Vm]) -> Inventory:
    return Inventory.build(
        vcenter=inv.vcenter,
        source=inv.source,
        datacenters=inv.datacenters,
        hosts=list(inv.hosts.values()),
        switches=list(inv.switches.values()),
        portgroups=portgroups,
        ports=ports,
        vms=vms,
        warnings=inv.warnings,
    )


def create_portgroup(inv: Inventory, switch: str, spec: dict[str, Any]) -> tuple[Inventory, Portgroup]:
    """``CreateDVPortgroup_Task`` on ``switch`` with a :func:`tui.monitor.create_spec` spec."""
    name = str(spec.get("name", ""))
    if any(pg.name == name for pg in inv.portgroups.values()):
        raise ChangeRefused(
            f"vCenter refused creating {name}: a network of that name exists",
            [Problem("DuplicateName", f"A network named {name} already exists.")],
            sent=True,
        )
    vlan = int(spec["defaultPortConfig"]["vlan"]["vlanId"])
    numbers = [
        int(k.removeprefix("dvportgroup-")) for k in inv.portgroups if ascii_digits(k.removeprefix("dvportgroup-"))
    ]
    key = f"dvportgroup-{max(numbers, default=0) + 1}"
    first = max((int(p.key) for p in inv.ports_by_switch.get(switch, ()) if ascii_digits(p.key)), default=-1) + 1
    count = int(spec.get("numPorts", 0))
    pg = Portgroup(key=key, name=name, switch=switch, vlan=Vlan(vlan), binding=Binding.EARLY, num_ports=count)
    ports = [*inv.ports.values(), *(Port(key=str(first + i), switch=switch, portgroup=key) for i in range(count))]
    return _rebuilt(inv, [*inv.portgroups.values(), pg], ports, list(inv.vms.values())), pg


def move_nic(inv: Inventory, vm_key: str, nic_key: int, portgroup: str, port_key: str = "") -> tuple[Inventory, str]:
    """``ReconfigVM_Task`` moving the NIC to ``portgroup`` (``port_key`` if given and free); the new port key."""
    vm = inv.vms[vm_key]
    nic = next(n for n in vm.nics if n.key == nic_key)
    pg = inv.portgroups[portgroup]
    if not any(p.host == vm.host for p in inv.ports_by_switch.get(pg.switch, ())):
        raise ChangeRefused(
            f"vCenter refused moving {nic.label}: the host of {vm.name} is not a member of the switch",
            [Problem("InvalidArgument", "The VM's host is not a member of the distributed switch.")],
            sent=True,
        )
    free = [p for p in inv.ports_by_portgroup.get(portgroup, ()) if p.connectee is None]
    chosen = next((p for p in free if p.key == port_key), None) if port_key else None
    if chosen is None and free:
        chosen = free[0]
    ports = dict(inv.ports)
    if chosen is None:  # autoExpand: a new port, keyed after the switch's highest
        nxt = max((int(p.key) for p in inv.ports_by_switch.get(pg.switch, ()) if ascii_digits(p.key)), default=-1) + 1
        chosen = Port(key=str(nxt), switch=pg.switch, portgroup=portgroup)
    old = inv.ports.get((nic.switch, nic.port)) if nic.port else None
    if old is not None:
        ports[(old.switch, old.key)] = replace(old, connectee=None, link_up=False, mac="", host="")
    ports[(chosen.switch, chosen.key)] = replace(
        chosen,
        connectee=Connectee(ConnecteeType.VM_VNIC, vm.key, str(nic.key)),
        host=vm.host,
        link_up=vm.power == "poweredOn" and nic.connected,
        mac=nic.mac,
    )
    moved: Nic = replace(nic, switch=pg.switch, portgroup=portgroup, port=chosen.key)
    vms = [replace(v, nics=tuple(moved if n is nic else n for n in v.nics)) if v is vm else v for v in inv.vms.values()]
    return _rebuilt(inv, list(inv.portgroups.values()), list(ports.values()), vms), chosen.key


def remove_portgroup(inv: Inventory, portgroup: str) -> Inventory:
    """A portgroup's ``Destroy_Task``: refused (``ResourceInUse``) while a port of it is connected."""
    pg = inv.portgroups[portgroup]
    busy = [p.key for p in inv.ports_by_portgroup.get(portgroup, ()) if p.connectee is not None]
    if busy:
        raise ChangeRefused(
            f"vCenter refused removing {pg.name}: port {busy[0]} is in use",
            [Problem("ResourceInUse", f"Port {busy[0]} of {pg.name} is in use.")],
            sent=True,
        )
    ports = [p for p in inv.ports.values() if p.portgroup != portgroup]
    return _rebuilt(inv, [p for p in inv.portgroups.values() if p.key != portgroup], ports, list(inv.vms.values()))
