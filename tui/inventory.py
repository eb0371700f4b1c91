"""One vCenter's inventory, immutable, with its indexes and the queries every layer asks of it.

:meth:`Inventory.build` assembles the objects of :mod:`tui.inventory_objects` and fills the
lookup dictionaries (ports by portgroup and switch, the NIC on each port, the NICs on no port);
the methods answer "what is on this port", "which sessions use it" and give the JSON rows of
DESIGN.md §10. Pure Python: no Textual, no pyVmomi.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from tui.inventory_objects import Host, Nic, Port, Portgroup, Switch, Vm
from tui.mirror_session import MirrorSession


def _holds(port: Port | None, vm: Vm, nic: Nic) -> bool:
    """Whether ``port``'s connectee is ``vm``'s ``nic``."""
    c = port.connectee if port is not None else None
    return c is not None and c.entity == vm.key and c.nic_key == str(nic.key)


class PortlessNic(NamedTuple):
    """A VM NIC that is on no port of the inventory, or a VM without any NIC (``nic`` is ``None``).

    Its backing is a standard or opaque network, or none; or a distributed portgroup with no
    port assigned (no ``portKey``: ephemeral before power-on, govmomi's stock vcsim); or a port
    that the inventory does not hold. Nothing pyVmomi returns is dropped: such a NIC is still
    found by VM name, NIC, MAC and IP, with no port. (A named tuple: a partial inventory, read
    before the ports, has one per NIC, and these are made fast.)
    """

    vm: Vm
    nic: Nic | None = None


@dataclass(frozen=True, slots=True)
class Inventory:
    """Everything dvmirror knows about one vCenter, immutable.

    Build it with :meth:`build`, which also fills the lookup dictionaries. The large ones (VMs,
    ports and their indexes) are read-only mappings: a live update shares them with the inventory
    it was applied to and holds only what changed (:mod:`tui.patched`).
    """

    vcenter: str
    source: str
    """Where this came from: ``demo lab``, ``snapshot FILE`` or ``vCenter``."""
    datacenters: tuple[str, ...]
    hosts: dict[str, Host]
    switches: dict[str, Switch]
    portgroups: dict[str, Portgroup]
    ports: Mapping[tuple[str, str], Port]
    """Keyed by ``(switch key, port key)``: port keys are unique per switch only."""
    vms: Mapping[str, Vm]
    # Derived indexes (filled by build()).
    ports_by_portgroup: Mapping[str, tuple[Port, ...]] = field(default_factory=dict)
    ports_by_switch: Mapping[str, tuple[Port, ...]] = field(default_factory=dict)
    portgroups_by_switch: dict[str, tuple[Portgroup, ...]] = field(default_factory=dict)
    nic_by_port: Mapping[tuple[str, str], tuple[Vm, Nic]] = field(default_factory=dict)
    portless: tuple[PortlessNic, ...] = ()
    """Every VM NIC that no port holds, and every VM without a NIC, in VM order."""
    warnings: tuple[str, ...] = ()
    """What the load could not show as vCenter has it (two switches with one UUID...), for people."""
    details: bool = True
    """False for the port map of a load still running: its ports, VMs and the NIC on each port (key,
    MAC) are known, but not yet the NIC labels, the NICs on no distributed port, VMs without a NIC
    and guest IPs (so a search by IP cannot find anything yet). The complete inventory follows."""

    @classmethod
    def build(
        cls,
        *,
        vcenter: str,
        source: str,
        datacenters: tuple[str, ...] | list[str],
        hosts: list[Host] | tuple[Host, ...],
        switches: list[Switch] | tuple[Switch, ...],
        portgroups: list[Portgroup] | tuple[Portgroup, ...],
        ports: list[Port] | tuple[Port, ...],
        vms: list[Vm] | tuple[Vm, ...],
        warnings: tuple[str, ...] | list[str] = (),
        ports_read: bool = True,
        details: bool = True,
    ) -> Inventory:
        """Assemble an inventory and its indexes. Port order is preserved per portgroup.

        ``ports_read=False`` marks a partial inventory shown while the ports are still being read:
        a NIC whose backing names a port is not listed in ``portless`` (every one would be, for a
        moment); those naming none are. ``details=False`` marks the port map read before the device
        lists (:attr:`details`): a VM without NICs is not listed in ``portless`` (its NICs are not known).
        """
        by_pg: dict[str, list[Port]] = {}
        by_sw: dict[str, list[Port]] = {}
        for p in ports:
            by_sw.setdefault(p.switch, []).append(p)
            if p.portgroup:
                by_pg.setdefault(p.portgroup, []).append(p)
        pg_by_sw: dict[str, list[Portgroup]] = {}
        for pg in portgroups:
            pg_by_sw.setdefault(pg.switch, []).append(pg)
        by_key = {(p.switch, p.key): p for p in ports}
        nic_by_port: dict[tuple[str, str], tuple[Vm, Nic]] = {}
        claim = nic_by_port.setdefault
        portless: list[PortlessNic] = []
        contested: list[tuple[Vm, Nic]] = []
        for vm in vms:
            if not vm.nics and details:
                portless.append(PortlessNic(vm))
            for nic in vm.nics:
                if nic.switch and nic.port:
                    pair = (vm, nic)
                    if claim((nic.switch, nic.port), pair) is not pair:
                        contested.append(pair)
                else:
                    portless.append(PortlessNic(vm, nic))
        for vm, nic in contested:
            # Two NICs name one port: the port's connectee decides, else the first.
            if _holds(by_key.get((nic.switch, nic.port)), vm, nic):
                nic_by_port[(nic.switch, nic.port)] = (vm, nic)
        if ports_read and (contested or not nic_by_port.keys() <= by_key.keys()):
            # Rare: some NIC lost its port to another, or names a port not read. List them all again.
            owners = nic_by_port.get
            portless = [
                PortlessNic(vm, nic)
                for vm in vms
                for nic in (vm.nics or ((None,) if details else ()))
                if nic is None
                or (owner := owners((nic.switch, nic.port))) is None
                or owner[1] is not nic
                or (nic.switch, nic.port) not in by_key
            ]
        return cls(
            vcenter=vcenter,
            source=source,
            datacenters=tuple(datacenters),
            hosts={h.key: h for h in hosts},
            switches={s.key: s for s in switches},
            portgroups={pg.key: pg for pg in portgroups},
            ports=by_key,
            vms={vm.key: vm for vm in vms},
            ports_by_portgroup={k: tuple(v) for k, v in by_pg.items()},
            ports_by_switch={k: tuple(v) for k, v in by_sw.items()},
            portgroups_by_switch={k: tuple(v) for k, v in pg_by_sw.items()},
            nic_by_port=nic_by_port,
            portless=tuple(portless),
            warnings=tuple(warnings),
            details=details,
        )

    # -- convenience lookups -------------------------------------------------------------

    def switch_by_name(self, name: str) -> Switch | None:
        """The switch called ``name`` (case-insensitive), or ``None``."""
        low = name.lower()
        return next((s for s in self.switches.values() if s.name.lower() == low or s.key == name), None)

    def port(self, switch: str, key: str) -> Port | None:
        """Port ``key`` on switch ``switch``."""
        return self.ports.get((switch, key))

    def vm_nic(self, port: Port) -> tuple[Vm, Nic] | None:
        """The VM and NIC connected to ``port``, if any."""
        return self.nic_by_port.get((port.switch, port.key))

    def host_name(self, key: str) -> str:
        """Host name for a host key ('' if unknown)."""
        h = self.hosts.get(key)
        return h.name if h else ""

    def port_row(self, port: Port) -> dict[str, Any]:
        """The JSON row of DESIGN.md §10 for ``port``."""
        sw = self.switches.get(port.switch)
        pg = self.portgroups.get(port.portgroup)
        vmnic = self.vm_nic(port)
        vm, nic = vmnic if vmnic else (None, None)
        return {
            "switch": sw.name if sw else port.switch,
            "portgroup": pg.name if pg else "",
            "port": port.key,
            "vm": vm.name if vm else "",
            "nic": nic.label if nic else (port.connectee.nic_key if port.connectee else ""),
            "mac": (nic.mac if nic else "") or port.mac,
            "ips": list(nic.ips) if nic else [],
            "host": self.host_name(port.host),
            "vlan": str(pg.vlan) if pg else "",
            "connected": port.connected,
        }

    def nic_row(self, item: PortlessNic) -> dict[str, Any]:
        """The JSON row of DESIGN.md §10 for a NIC on no port: ``port`` is ``None``.

        ``switch``, ``portgroup`` and ``vlan`` name the distributed portgroup the backing names,
        when there is one; ``portgroup`` is the network's name for a standard or opaque backing.
        ``connected`` is the NIC's own state (``connectable.connected``); ``nic`` is ``None``
        for a VM without a NIC.
        """
        vm, nic = item.vm, item.nic
        sw = self.switches.get(nic.switch) if nic else None
        pg = self.portgroups.get(nic.portgroup) if nic else None
        return {
            "switch": sw.name if sw else "",
            "portgroup": pg.name if pg else (nic.network if nic else ""),
            "port": None,
            "vm": vm.name,
            "nic": nic.label if nic else None,
            "mac": nic.mac if nic else "",
            "ips": list(nic.ips) if nic else [],
            "host": self.host_name(vm.host),
            "vlan": str(pg.vlan) if pg else "",
            "connected": nic.connected if nic else False,
        }

    def row(self, target: Port | PortlessNic) -> dict[str, Any]:
        """:meth:`port_row` or :meth:`nic_row`, whichever ``target`` is."""
        return self.port_row(target) if isinstance(target, Port) else self.nic_row(target)

    def nic_place(self, item: PortlessNic) -> str:
        """Why a NIC has no port, and where it is instead, in plain words."""
        nic = item.nic
        if nic is None:
            return "the VM has no network adapter"
        sw = self.switches.get(nic.switch)
        pg = self.portgroups.get(nic.portgroup)
        if nic.switch and nic.port:
            where = sw.name if sw else f"switch {nic.switch}"
            if (nic.switch, nic.port) in self.ports:
                owner = self.nic_by_port.get((nic.switch, nic.port))
                other = f"{owner[0].name} / {owner[1].label}" if owner else "another NIC"
                return f"backing names port {nic.port} on {where}, which {other} holds"
            return f"backing names port {nic.port} on {where}, which is not in the inventory"
        if nic.switch:
            on = f"portgroup {pg.name}" if pg else (sw.name if sw else f"switch {nic.switch}")
            return f"on {on} with no port assigned (no portKey)"
        if nic.network:
            return f"on {nic.network}: not on a distributed port"
        return "no network backing: not on a distributed port"

    def port_owner(self, port: Port) -> str:
        """What uses the port: ``F5-LTM01 / Network adapter 2``, ``esx-01 vmk0``, or ``(free)``."""
        vmnic = self.vm_nic(port)
        if vmnic:
            return f"{vmnic[0].name} / {vmnic[1].label}"
        if port.connectee is not None:
            who = self.host_name(port.connectee.entity) or port.connectee.entity
            return f"{who} {port.connectee.nic_key}".rstrip()
        return port.name or "(free)"

    def port_label(self, port: Port) -> str:
        """Short human description: ``448 · F5-LTM01 / Network adapter 2``."""
        return f"{port.key} · {self.port_owner(port)}"

    def sessions_of_port(self, port: Port) -> list[tuple[MirrorSession, str]]:
        """``(session, role)`` for every session on the port's switch that uses the port."""
        sw = self.switches.get(port.switch)
        out: list[tuple[MirrorSession, str]] = []
        for s in sw.sessions if sw else ():
            role = s.role_of(port.key)
            if role:
                out.append((s, role))
        return out

    def with_switch(self, switch: Switch) -> Inventory:
        """A copy with ``switch`` replaced (used after a session change)."""
        switches = dict(self.switches)
        switches[switch.key] = switch
        return replace(self, switches=switches)
