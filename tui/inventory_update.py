"""Applying what vCenter reported as changed to an :class:`~tui.inventory.Inventory`, giving a new one.

A live update (DESIGN.md: the PropertyCollector's ``WaitForUpdatesEx``) names the objects that
changed; the backend reads just those again and hands them here as a :class:`Change`. The old
inventory is never modified. A change to switches or portgroups only keeps every port and VM
index as it is (shared, they are immutable). The common changes to VMs and ports (renamed,
moved to another host, a NIC on another port) patch the large mappings
(:mod:`tui.patched`: they share the old dictionaries and hold only what changed), so they cost
the size of the change; anything structural (a VM or port removed or new, a portgroup changed)
re-derives the indexes with :meth:`Inventory.build` over the merged objects (linear in the
inventory, no I/O). Also the :class:`LiveState` the backend reports to the app. Pure Python: no
Textual, no pyVmomi.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Literal

from tui.inventory import Inventory
from tui.inventory_objects import Nic, Port, Portgroup, Switch, Vm
from tui.patched import patch, regroup


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
    quick = _incremental(inv, change, switches, portgroups, portgroups_by_switch)
    if quick is not None:
        return quick
    vms = inv.vms
    if change.vms or change.vms_gone:
        vms = dict(inv.vms.items())
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
        ports = dict(inv.ports.items())
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


def _lower(vm: Vm) -> str:
    return vm.name.lower()


def _claims(vm: Vm) -> list[tuple[str, str]]:
    return [(n.switch, n.port) for n in vm.nics if n.switch and n.port]


def _port_ident(port: Port) -> tuple[str, str]:
    return (port.switch, port.key)


def _listed_portless(inv: Inventory, vm: Vm) -> bool:
    """Whether ``inv.portless`` may list ``vm`` (without reading it): no NIC, a NIC on no port, a NIC
    that does not hold the port it names or whose port was not read. (Errs towards yes: a full build.)"""
    if not vm.nics:
        return True
    for nic in vm.nics:
        if not (nic.switch and nic.port):
            return True
        owner = inv.nic_by_port.get((nic.switch, nic.port))
        if owner is None or owner[0] is not vm or owner[1] is not nic or (nic.switch, nic.port) not in inv.ports:
            return True
    return False


def _incremental(
    inv: Inventory,
    change: Change,
    switches: dict[str, Switch],
    portgroups: dict[str, Portgroup],
    portgroups_by_switch: dict[str, tuple[Portgroup, ...]],
) -> Inventory | None:
    """``change`` applied touching only what it names, or ``None`` when that cannot be done simply.

    The common live changes (a VM renamed, moved, its NIC on another port; ports whose connectee or
    host changed; nothing removed) keep every VM with a NIC on a port of its own, so ``portless``
    and the ownership of every other port stay as they were: the NIC ↔ port index is patched for
    the changed VMs only. Anything else (a VM or port removed, a NIC on no port, two NICs on one
    port, a port new to its switch or moved to another portgroup) returns ``None``: a full build.

    Costs the size of the change: the large mappings are patched (:func:`tui.patched.patch`), not
    copied; a renamed VM is put at its place by name when ``vms`` is next iterated.
    """
    if change.vms_gone or change.ports_gone or change.portgroups:
        return None
    ports = inv.ports
    given_up: set[tuple[str, str]] = set()
    released: set[tuple[str, str]] = set()
    for vm in change.vms:
        old = inv.vms.get(vm.key)
        if old is None or not vm.nics or _listed_portless(inv, old):
            return None
        now = set(_claims(vm))
        for claim in _claims(old):
            released.add(claim)
            if claim not in now:
                given_up.add(claim)
    if given_up:
        waiting = {(i.nic.switch, i.nic.port) for i in inv.portless if i.nic is not None and i.nic.port}
        if given_up & waiting:
            return None  # another NIC names the port given up: a build decides who holds it
    claimed: dict[tuple[str, str], tuple[Vm, Nic]] = {}
    for vm in change.vms:
        claims = _claims(vm)
        if len(claims) != len(vm.nics):
            return None  # a NIC on no port: it would be listed in ``portless``
        for claim, nic in zip(claims, vm.nics, strict=True):
            if claim in claimed or (claim in inv.nic_by_port and claim not in released) or claim not in ports:
                return None  # contested, or a port not read
            claimed[claim] = (vm, nic)
    nic_by_port = patch(inv.nic_by_port, claimed, released) if change.vms else inv.nic_by_port
    by_pg = inv.ports_by_portgroup
    by_sw = inv.ports_by_switch
    if change.ports:
        replaced: dict[tuple[str, str], tuple[Port, Port]] = {}
        for port in change.ports:
            old_port = ports.get((port.switch, port.key))
            if old_port is None or old_port.portgroup != port.portgroup:
                return None
            replaced[(port.switch, port.key)] = (old_port, port)
        ports = patch(ports, {k: new for k, (_, new) in replaced.items()})
        by_pg = regroup(by_pg, [(p.portgroup, o, p) for o, p in replaced.values() if p.portgroup], _port_ident)
        by_sw = regroup(by_sw, [(p.switch, o, p) for o, p in replaced.values()], _port_ident)
    vms = inv.vms
    if change.vms:
        updates = {vm.key: vm for vm in change.vms}
        renamed = [vm.key for vm in updates.values() if inv.vms[vm.key].name != vm.name]
        vms = patch(inv.vms, updates, moved=renamed, order=_lower)
    # A NIC some port names as its connectee may now be another VM's: the owner of a port stays
    # the NIC that claims it, as in a build (contested claims were excluded above).
    return replace(
        inv,
        switches=switches,
        portgroups=portgroups,
        portgroups_by_switch=portgroups_by_switch,
        ports=ports,
        vms=vms,
        ports_by_portgroup=by_pg,
        ports_by_switch=by_sw,
        nic_by_port=nic_by_port,
    )


@dataclass(frozen=True, slots=True)
class Delta:
    """``inventory`` is ``change`` applied to ``base``: screens showing ``base`` may update just what changed."""

    base: Inventory
    change: Change
    inventory: Inventory


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
    delta: Delta | None = None
    """What the update changed, from which inventory (``None``: a full read, or no new inventory)."""
    at: float = field(default_factory=time.time)
    """When this was true (seconds since the epoch)."""
