"""Following a vCenter inventory after its load: the PropertyCollector's ``WaitForUpdatesEx``.

A dedicated collector (``CreatePropertyCollector``) holds one filter: a container view over the
switches, portgroups and VMs of the load's root, with exactly the property paths the load reads
(:mod:`._load`). Each ``WaitForUpdatesEx`` waits at most :data:`MAX_WAIT` seconds, so a stop is
noticed within that. Its reply is streamed (:mod:`._soap`): only the version and which object
changed, and how, are kept; the objects concerned are then read again with the load's own
requests and parsers (:func:`._parse.parse_vm`, :func:`._parse.parse_port`,
:func:`._convert._switch_from_props` / ``_portgroup_from_props``), so an updated object is exactly
what a load would have read. Ports are not properties: when a VM's NIC backings or host change,
its old and new ports are fetched again by key (``FetchDVPorts`` with ``portKey``); when a
portgroup changes, its ports (``portgroupKey``). A switch or portgroup created or removed reads
the whole inventory again.

When the channel fails (a dropped connection, an expired session: the collector is gone with
it), the backend reconnects through its own session handling, creates the filter again and reads
the whole inventory (reported as a re-read), with a growing pause between attempts.
"""

from __future__ import annotations

import contextlib
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tui.backends import BackendError
from tui.backends._convert import _portgroup_from_props, _vim, _vmodl
from tui.backends._load import SWITCH_PATHS, VM_PATHS, VMWARE_SWITCH_PATHS, filter_spec, portgroup_paths
from tui.inventory import Inventory
from tui.inventory_objects import Port, Portgroup, Switch, Vm
from tui.inventory_update import Change, Delta, LiveState, apply_change
from tui.text import visible

if TYPE_CHECKING:
    from tui.backends.vsphere import VsphereBackend

MAX_WAIT = 1
"""Seconds one ``WaitForUpdatesEx`` may wait for a change (``maxWaitSeconds``): a stop waits no longer."""
BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Pauses between attempts to re-establish a lost channel."""


def _q(tag: str) -> str:
    return "{urn:vim25}" + tag


_VERSION = _q("version")
_OBJECTSET = _q("objectSet")
_KIND = _q("kind")
_OBJ = _q("obj")
_CHANGESET = _q("changeSet")
_NAME = _q("name")


@dataclass
class Updated:
    """Which objects one update set names, by type: moid → ``enter`` / ``modify`` / ``leave``."""

    version: str = ""
    vms: dict[str, str] = field(default_factory=dict)
    switches: dict[str, str] = field(default_factory=dict)
    portgroups: dict[str, str] = field(default_factory=dict)
    vm_paths: dict[str, set[str]] = field(default_factory=dict)
    """VM moid → the property paths that changed."""


def parse_update_set(elements: Iterable[ET.Element]) -> Updated:
    """What the streamed ``WaitForUpdatesEx`` reply names (``version`` and ``objectSet`` elements).

    The update set's own ``version`` precedes its ``filterSet`` (the WSDL's sequence), so it is
    the first ``version`` element; others are inside changed values and are not read.
    """
    out = Updated()
    seen_version = False
    for elem in elements:
        if elem.tag == _VERSION:
            if not seen_version:
                out.version = elem.text or ""
                seen_version = True
            continue
        obj = elem.find(_OBJ)
        if obj is None:
            continue
        moid, kind_type = obj.text or "", (obj.get("type") or "").rsplit(":", 1)[-1]
        kind = elem.findtext(_KIND) or "modify"
        if kind_type == "VirtualMachine":
            target = out.vms
            paths = out.vm_paths.setdefault(moid, set())
            paths.update(c.findtext(_NAME) or "" for c in elem.findall(_CHANGESET))
        elif kind_type.endswith("DistributedVirtualSwitch"):
            target = out.switches
        elif kind_type == "DistributedVirtualPortgroup":
            target = out.portgroups
        else:
            continue
        target[moid] = "leave" if kind == "leave" else ("enter" if target.get(moid) == "enter" else kind)
    return out


class Follower:
    """One backend's update channel; :meth:`run` until ``stop`` is set (run it in a thread)."""

    def __init__(
        self,
        backend: VsphereBackend,
        inventory: Inventory,
        on_update: Callable[[LiveState], None],
        stop: threading.Event,
        *,
        resync: bool = False,
    ) -> None:
        self.resync_first = resync
        """Read the inventory again once the first filter is set up (it was loaded a while ago)."""
        self.backend = backend
        self.inventory = inventory
        self.on_update = on_update
        self.stop = stop
        self.pc: Any = None
        self.view: Any = None
        self.raw: Any = None
        self.version = ""
        self.waits = 0
        """``WaitForUpdatesEx`` calls made (tests and benchmarks)."""

    # -- the loop --------------------------------------------------------------------------

    def run(self) -> None:
        attempt = 0
        resync = self.resync_first
        try:
            while not self.stop.is_set():
                try:
                    self._start()
                    if resync:
                        self.inventory = self.backend.load()
                        self.on_update(LiveState("live", self.inventory, resync=True))
                    else:
                        self.on_update(LiveState("live"))
                    attempt = 0
                    while not self.stop.is_set():
                        self._step()
                except Exception as e:  # every failure of the channel: say it, re-establish it
                    if self.stop.is_set():
                        return
                    reason = e.message if isinstance(e, BackendError) else _reason(e)
                    self._drop()
                    pause = BACKOFF[min(attempt, len(BACKOFF) - 1)]
                    attempt += 1
                    lost = attempt > len(BACKOFF)
                    self.on_update(LiveState("lost" if lost else "reconnecting", reason=reason))
                    resync = True
                    if self.stop.wait(pause):
                        return
        finally:
            self._drop()

    def _step(self) -> None:
        """One bounded wait; an update read and applied."""
        updated = self._wait()
        if updated is None:
            return
        if (
            any(k != "modify" for k in updated.switches.values())
            or any(k != "modify" for k in updated.portgroups.values())
            or any(m not in self.inventory.portgroups for m in updated.portgroups)
        ):
            self.inventory = self.backend.load()
            self.on_update(LiveState("live", self.inventory, resync=True))
            return
        change = self.backend._session("following updates", lambda: self._read(updated))
        if change:
            base, self.inventory = self.inventory, apply_change(self.inventory, change)
            delta = Delta(base, change, self.inventory)
            self.on_update(LiveState("live", self.inventory, changed=change.size, delta=delta))

    # -- the collector -----------------------------------------------------------------------

    def _start(self) -> None:
        """A collector with the filter, and its first version (the current state, not read)."""
        self.backend._session("starting live updates", self._create)
        with self._mapped("starting live updates"):
            first = parse_update_set(self._stream(self.raw, "", 0))
        if not first.version:
            raise BackendError("vCenter's first update set has no version")
        self.version = first.version

    def _create(self) -> None:
        vim = _vim()
        from tui.backends._soap import RawSoap

        b = self.backend
        content = b._content
        root = b._find_datacenter(b.settings.datacenter) if b.settings.datacenter else content.rootFolder
        self.view = content.viewManager.CreateContainerView(
            root, [vim.DistributedVirtualSwitch, vim.dvs.DistributedVirtualPortgroup, vim.VirtualMachine], True
        )
        pg_paths = portgroup_paths(b._stub.version)
        paths = {
            vim.DistributedVirtualSwitch: SWITCH_PATHS,
            vim.VmwareDistributedVirtualSwitch: VMWARE_SWITCH_PATHS,
            vim.dvs.DistributedVirtualPortgroup: pg_paths,
            vim.VirtualMachine: VM_PATHS,
        }
        self.pg_paths = pg_paths
        self.pc = content.propertyCollector.CreatePropertyCollector()
        self.pc.CreateFilter(filter_spec(self.view, paths), partialUpdates=False)
        self.raw = RawSoap(b._stub, b.stats)

    def _stream(self, raw: Any, version: str, wait: int) -> Iterable[ET.Element]:
        vmodl = _vmodl()

        self.waits += 1
        options = vmodl.query.PropertyCollector.WaitOptions(maxWaitSeconds=wait)
        return raw.stream(self.pc, "WaitForUpdatesEx", [version, options], frozenset({_VERSION, _OBJECTSET}))

    def _wait(self) -> Updated | None:
        with self._mapped("waiting for updates"):
            updated = parse_update_set(self._stream(self.raw, self.version, MAX_WAIT))
        if not updated.version:
            return None  # maxWaitSeconds passed without a change
        self.version = updated.version
        return updated

    def _mapped(self, doing: str) -> Any:
        from tui.backends._faults import mapped_errors

        b = self.backend
        return mapped_errors(b.settings, b.timeout, doing)

    def _drop(self) -> None:
        """Destroy the collector and the view, quietly (they die with the session anyway)."""
        pc, view, self.pc, self.view = self.pc, self.view, None, None
        if pc is not None:
            with contextlib.suppress(Exception):
                pc.DestroyPropertyCollector()
        if view is not None:
            with contextlib.suppress(Exception):
                view.DestroyView()

    # -- reading what changed ------------------------------------------------------------

    def _read(self, updated: Updated) -> Change:
        """The objects ``updated`` names, read again (under the backend's lock and retries)."""
        vim = _vim()
        from tui.backends._load import read_switch

        b, inv = self.backend, self.inventory
        pc = b._content.propertyCollector
        by_moid = {sw.moid: sw for sw in inv.switches.values()}
        switches = []
        for moid in updated.switches:
            old = by_moid.get(moid)
            if old is not None:
                switches.append(read_switch(pc, b._switch_ref(old), old))
        portgroups: list[Portgroup] = []
        if updated.portgroups:
            uuid_of = {sw.moid: sw.key for sw in inv.switches.values()}
            uplinks = {pg.key for pg in inv.portgroups.values() if pg.uplink}
            refs = [vim.dvs.DistributedVirtualPortgroup(m, b._stub) for m in updated.portgroups]
            for obj, props in _retrieve_objects(pc, refs, vim.dvs.DistributedVirtualPortgroup, self.pg_paths):
                portgroups.append(_portgroup_from_props(obj, props, uuid_of, uplinks))
        vms: list[Vm] = []
        gone = {m for m, k in updated.vms.items() if k == "leave"}
        wanted = [m for m, k in updated.vms.items() if k != "leave"]
        if wanted:
            vms = self._read_vms(wanted)
            gone |= set(wanted) - {vm.key for vm in vms}
        # Ports whose connectee or host may have changed: the old and new ports of every VM
        # whose NICs or host changed, and every port of a changed portgroup.
        keys: dict[str, set[str]] = {}
        for vm in [*(inv.vms[m] for m in updated.vms if m in inv.vms), *vms]:
            paths = updated.vm_paths.get(vm.key, set())
            if updated.vms.get(vm.key) == "modify" and not paths & {"config.hardware.device", "runtime.host"}:
                continue
            for nic in vm.nics:
                if nic.switch and nic.port:
                    keys.setdefault(nic.switch, set()).add(nic.port)
        ports: list[Port] = []
        ports_gone: set[tuple[str, str]] = set()
        for switch_key, port_keys in keys.items():
            sw = inv.switches.get(switch_key)
            if sw is None:
                continue
            found = self._read_ports(sw, vim.dvs.PortCriteria(portKey=sorted(port_keys)))
            ports += found
            ports_gone |= {(switch_key, k) for k in port_keys} - {(p.switch, p.key) for p in found}
            ports_gone = {k for k in ports_gone if k in inv.ports}  # not .keys(): that flattens the mapping
        for pg in portgroups:
            sw = inv.switches.get(pg.switch)
            if sw is None:
                continue
            found = self._read_ports(sw, vim.dvs.PortCriteria(portgroupKey=[pg.key]))
            ports += found
            ports_gone |= {(p.switch, p.key) for p in inv.ports_by_portgroup.get(pg.key, ())} - {
                (p.switch, p.key) for p in found
            }
        return Change(
            vms=tuple(vms),
            vms_gone=frozenset(m for m in gone if m in inv.vms),
            switches=tuple(switches),
            portgroups=tuple(portgroups),
            ports=tuple(ports),
            ports_gone=frozenset(ports_gone),
        )

    def _read_vms(self, moids: list[str]) -> list[Vm]:
        """These VMs with the load's paths and parser (one ``RetrievePropertiesEx``, streamed)."""
        vim, vmodl = _vim(), _vmodl()
        from tui.backends._load import stream_vms

        b = self.backend
        PC = vmodl.query.PropertyCollector
        spec = PC.FilterSpec(
            objectSet=[PC.ObjectSpec(obj=vim.VirtualMachine(m, b._stub), skip=False) for m in moids],
            propSet=[PC.PropertySpec(type=vim.VirtualMachine, all=False, pathSet=list(VM_PATHS))],
        )
        return stream_vms(b._raw, b._content.propertyCollector, spec, b.page_size)

    def _read_ports(self, switch: Switch, criteria: Any) -> list[Port]:
        """The ports ``criteria`` selects on ``switch``, with the load's parser."""
        from tui.backends._parse import RETURNVAL, parse_port

        dvs = self.backend._switch_ref(switch)
        elements = self.backend._raw.stream(dvs, "FetchPorts", [criteria], frozenset({RETURNVAL}))
        return [parse_port(e, switch.key) for e in elements]


def _retrieve_objects(pc: Any, refs: list[Any], kind: Any, paths: list[str]) -> list[tuple[Any, dict[str, Any]]]:
    """``(object, {path: value})`` of ``refs`` (all of type ``kind``), through pyVmomi."""
    vmodl = _vmodl()
    from tui.backends._parse import NotAuthenticatedError

    PC = vmodl.query.PropertyCollector
    spec = PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=r, skip=False) for r in refs],
        propSet=[PC.PropertySpec(type=kind, all=False, pathSet=list(paths))],
    )
    result = pc.RetrievePropertiesEx([spec], PC.RetrieveOptions())
    out = []
    for oc in (result.objects if result is not None else None) or ():
        for missing in oc.missingSet or ():
            if type(missing.fault).__name__.endswith("NotAuthenticated"):
                raise NotAuthenticatedError(str(oc.obj))
        out.append((oc.obj, {p.name: p.val for p in oc.propSet or ()}))
    return out


def _reason(e: BaseException) -> str:
    text = visible(str(e)).strip()
    return f"{type(e).__name__}: {text}" if text else type(e).__name__
