"""Applying what vCenter reported as changed to an :class:`~tui.inventory.Inventory`, giving a new one.

A live update (DESIGN.md: the PropertyCollector's ``WaitForUpdatesEx``) names the objects that
changed; the backend reads just those again and hands them here as a :class:`Change`. The old
inventory is never modified. A change to switches or portgroups only keeps every port and VM
index as it is (shared, they are immutable); a change to VMs or ports re-derives the NIC ↔ port
indexes with :meth:`Inventory.build` over the merged objects (linear in the inventory, no I/O).
Also the :class:`LiveState` the backend reports to the app. Pure Python: no Textual, no pyVmomi.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Literal

from tui.inventory import Inventory
from tui.inventory_objects import Port, Portgroup, Switch, Vm


@dataclass(frozen=True, slots=True)
class Change:
    """Objects read again after an update: new or changed ones, and the keys of removed ones."""

    vms: tuple[Vm, ...] = ()
    vms_gone: frozenset[str] = frozenset()
    switches: tuple[Switch, ...] = ()
    portgroups: tuple[Portgroup, ...] = ()
    ports: tuple[Port, ...] = ()
    ports_gone: frozenset[tuple[str, str]] = frozenset()
    """``(switch key, port key)`` of ports no longer on their switch."""

    def __bool__(self) -> bool:
        return bool(self.vms or self.vms_gone or self.switches or self.portgroups or self.ports or self.ports_gone)

    @property
    def size(self) -> int:
        """How many objects changed."""
        return (
            len(self.vms)
            + len(self.vms_gone)
            + len(self.switches)
            + len(self.portgroups)
            + len(self.ports)
            + len(self.ports_gone)
        )


def _pg_order(pg: Portgroup) -> tuple[str, bool, str]:
    return (pg.switch, not pg.uplink, pg.name.lower())


def apply_change(inv: Inventory, change: Change) -> Inventory:
    """``inv`` with ``change`` applied (``inv`` itself when nothing changed).

    Orders stay as a load gives them: VMs by name, portgroups by switch, uplink first, name;
    ports in the order their switch returned them, a new port last.
    """
    if not change:
        return inv
    switches = inv.switches
    if change.switches:
        switches = dict(inv.switches)
        for sw in change.switches:
            switches[sw.key] = sw
    portgroups = inv.portgroups
    portgroups_by_switch = inv.portgroups_by_switch
    if change.portgroups:
        merged = dict(inv.portgroups)
        for pg in change.portgroups:
            merged[pg.key] = pg
        portgroups = {pg.key: pg for pg in sorted(merged.values(), key=_pg_order)}
        by_sw: dict[str, list[Portgroup]] = {}
        for pg in portgroups.values():
            by_sw.setdefault(pg.switch, []).append(pg)
        portgroups_by_switch = {k: tuple(v) for k, v in by_sw.items()}
    if not (change.vms or change.vms_gone or change.ports or change.ports_gone):
        return replace(inv, switches=switches, portgroups=portgroups, portgroups_by_switch=portgroups_by_switch)
    vms = inv.vms
    if change.vms or change.vms_gone:
        vms = dict(inv.vms)
        renamed = False
        for key in change.vms_gone:
            vms.pop(key, None)
        for vm in change.vms:
            old = vms.get(vm.key)
            renamed = renamed or old is None or old.name != vm.name
            vms[vm.key] = vm
        if renamed:
            vms = {vm.key: vm for vm in sorted(vms.values(), key=lambda v: v.name.lower())}
    ports = inv.ports
    if change.ports or change.ports_gone:
        ports = dict(inv.ports)
        for gone in change.ports_gone:
            ports.pop(gone, None)
        for port in change.ports:
            ports[(port.switch, port.key)] = port
    return Inventory.build(
        vcenter=inv.vcenter,
        source=inv.source,
        datacenters=inv.datacenters,
        hosts=tuple(inv.hosts.values()),
        switches=tuple(switches.values()),
        portgroups=tuple(portgroups.values()),
        ports=tuple(ports.values()),
        vms=tuple(vms.values()),
        warnings=inv.warnings,
    )


LiveStatus = Literal["live", "reconnecting", "lost"]


@dataclass(frozen=True, slots=True)
class LiveState:
    """What the update channel reports to the app: its state, and a new inventory when there is one."""

    status: LiveStatus
    inventory: Inventory | None = None
    """A new inventory (after an update or a full re-read), else ``None``."""
    reason: str = ""
    """Why the channel is reconnecting or lost, in plain words."""
    resync: bool = False
    """The inventory was read again in full (after the channel was re-established)."""
    changed: int = 0
    """How many objects the update changed."""
    at: float = field(default_factory=time.time)
    """When this was true (seconds since the epoch)."""
