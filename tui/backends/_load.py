"""Reading a vCenter inventory: what to ask the PropertyCollector for, page by page, and what comes back.

The tree (datacenters, folders, switches, portgroups, hosts) is a few hundred objects and goes
through pyVmomi, paged (:func:`retrieve`, :func:`read_tree`); the VMs and the ports are the bulk
and are streamed page by page through :class:`._soap.RawSoap` and parsed by :mod:`._parse`
(:func:`read_vm_pages`, the next page read ahead while one is parsed; :func:`read_ports`). A load
reads the VMs twice: :data:`VM_MAP_PATHS` for the port map (:func:`port_map_vms` gives each VM the
NICs its ports' connectees name), then :data:`VM_DETAIL_PATHS` (:func:`with_details`).
:func:`read_switch` reads one switch again (before and after a change). Nothing here holds a
connection or a lock: the backend passes in its PropertyCollector, its stub's streaming reader,
its switch references and the threads that read ahead, and runs these inside its error mapping
and retries.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from typing import Any

from tui.backends import EXIT_USAGE, BackendError, ChangeRefused, LoadProgress, ProgressCallback
from tui.backends._convert import _portgroup_from_props, _support, _switch_from_props, _unescape, _vim, _vmodl
from tui.model import ConnecteeType, Host, Nic, Port, Portgroup, PortStatistics, Problem, Switch, Vm
from tui.text import visible

SWITCH_PATHS = [
    "name",
    "uuid",
    "parent",
    "config.configVersion",
    "config.uplinkPortPolicy",
    "config.uplinkPortgroup",
    "config.productInfo.version",
    "capability.featuresSupported",
]
VMWARE_SWITCH_PATHS = [*SWITCH_PATHS, "config.vspanSession"]
"""Only ``VmwareDistributedVirtualSwitch`` has sessions; vCenter refuses the path on the base type."""
PORTGROUP_PATHS = [
    "name",
    "key",
    "config.distributedVirtualSwitch",
    "config.defaultPortConfig",
    "config.type",
    "config.numPorts",
]
VM_PATHS = ["name", "runtime.host", "runtime.powerState", "config.hardware.device", "guest.net"]
"""Everything a VM is read for (the live channel's filter, a VM read again): :data:`VM_MAP_PATHS`
and :data:`VM_DETAIL_PATHS` together."""
VM_MAP_PATHS = ["name", "runtime.host", "runtime.powerState"]
"""What the port map needs of a VM (its name for the ports its connectees name, its host and power
state for the tree): about 0.4 KB per VM, against about 5 KB more for the device list of a VM with
12 devices (bench_load.py). A port's NIC key and MAC come with the port."""
VM_DETAIL_PATHS = ["config.hardware.device", "guest.net"]
"""What only the device list and the guest have: NIC labels, the backings of NICs on no
distributed port, each NIC's connected flag, and the guest IPs. The PropertyCollector cannot
filter the device list by type, so the whole list is read; it is read after the port map."""


class NoSuchDatacenter(BackendError, title="Unknown datacenter", exit_code=EXIT_USAGE):
    """``--datacenter`` names a datacenter that does not exist."""


@dataclass
class Tree:
    """What :func:`read_tree` found: the switches, portgroups and hosts, and what the load needs of them."""

    switches: list[Switch]
    portgroups: list[Portgroup]
    hosts: list[Host]
    datacenters: dict[str, str]
    """Datacenter moid → name."""
    switch_refs: dict[str, Any] = field(default_factory=dict)
    """Switch key (UUID) → its pyVmomi object, for reading its ports and changing it."""
    warnings: list[str] = field(default_factory=list)
    """What cannot be shown as vCenter has it (two switches with one UUID), for people."""


def filter_spec(view: Any, paths: dict[Any, list[str]]) -> Any:
    """A ``FilterSpec`` for ``paths`` (type → property paths) of every object of a container ``view``."""
    vmodl = _vmodl()

    PC = vmodl.query.PropertyCollector
    traverse = PC.TraversalSpec(name="view", type=type(view), path="view", skip=False)
    return PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
        propSet=[PC.PropertySpec(type=t, all=False, pathSet=list(p)) for t, p in paths.items()],
    )


def retrieve(pc: Any, view: Any, paths: dict[Any, list[str]], page_size: int) -> Iterator[tuple[Any, dict[str, Any]]]:
    """``(object, {path: value})`` for every object of ``view``, via pyVmomi, paged."""
    from tui.backends._parse import NotAuthenticatedError

    spec = filter_spec(view, paths)
    vmodl = _vmodl()

    result = pc.RetrievePropertiesEx([spec], vmodl.query.PropertyCollector.RetrieveOptions(maxObjects=page_size))
    while result is not None:
        for oc in result.objects or ():
            for missing in oc.missingSet or ():
                if type(missing.fault).__name__.endswith("NotAuthenticated"):
                    raise NotAuthenticatedError(str(oc.obj))
            yield oc.obj, {p.name: p.val for p in oc.propSet or ()}
        if not result.token:
            break
        result = pc.ContinueRetrievePropertiesEx(result.token)


def portgroup_paths(version: str) -> list[str]:
    """:data:`PORTGROUP_PATHS` and those the API ``version`` the stub speaks has: ``config.uplink``
    (6.5, API version 11) and ``config.backingType`` (7.0); an older vCenter refuses a path it does not know."""
    VmomiSupport = _support()
    paths = list(PORTGROUP_PATHS)
    if VmomiSupport.IsChildVersion(version, "vim.version.version11"):
        paths.append("config.uplink")
    if VmomiSupport.IsChildVersion(version, "vim.version.v7_0"):
        paths.append("config.backingType")
    return paths


def read_tree(pc: Any, version: str, view: Any, root: Any, datacenter: str, page_size: int) -> Tree:
    """Phase 1: datacenters, switches, portgroups and hosts (pyVmomi: a few hundred objects).

    ``version`` is the API version the stub speaks; ``datacenter`` the name of ``root`` when
    the load is limited to one datacenter.
    """
    vim = _vim()

    pg_paths = portgroup_paths(version)
    paths = {
        vim.Datacenter: ["name"],
        vim.Folder: ["parent"],
        vim.DistributedVirtualSwitch: SWITCH_PATHS,
        vim.VmwareDistributedVirtualSwitch: VMWARE_SWITCH_PATHS,
        vim.dvs.DistributedVirtualPortgroup: pg_paths,
        vim.HostSystem: ["name"],
    }
    parents: dict[str, str] = {}
    dc_names: dict[str, str] = {}
    if isinstance(root, vim.Datacenter):
        dc_names[root._moId] = datacenter
    raw_switches: list[tuple[Any, dict[str, Any]]] = []
    raw_pgs: list[tuple[Any, dict[str, Any]]] = []
    hosts: list[Host] = []
    for obj, props in retrieve(pc, view, paths, page_size):
        if isinstance(obj, vim.Datacenter):
            dc_names[obj._moId] = _unescape(str(props.get("name", "")))
        elif isinstance(obj, vim.Folder):
            parent = props.get("parent")
            if parent is not None:
                parents[obj._moId] = parent._moId
        elif isinstance(obj, vim.DistributedVirtualSwitch):
            raw_switches.append((obj, props))
        elif isinstance(obj, vim.dvs.DistributedVirtualPortgroup):
            raw_pgs.append((obj, props))
        elif isinstance(obj, vim.HostSystem):
            hosts.append(Host(key=obj._moId, name=_unescape(str(props.get("name", obj._moId)))))

    def datacenter_of(moid: str) -> str:
        seen = 0
        while moid and moid not in dc_names and seen < 64:
            moid = parents.get(moid, "")
            seen += 1
        return dc_names.get(moid, "")

    tree = Tree([], [], hosts, dc_names)
    switches = tree.switches
    uuid_of: dict[str, str] = {}
    uplink_pgs: set[str] = set()
    kept: dict[str, Switch] = {}
    # Lowest moid first, so that which of two switches with one UUID is shown does not vary.
    for obj, props in sorted(raw_switches, key=lambda op: (len(op[0]._moId), op[0]._moId)):
        parent = props.get("parent")
        sw = _switch_from_props(obj._moId, props, datacenter_of(parent._moId) if parent is not None else "")
        first = kept.get(sw.key)
        if first is not None:
            # Ports and NIC backings name a switch by UUID only: two switches with one UUID cannot
            # be told apart, and reading both would show one switch's ports twice.
            tree.warnings.append(
                f"switches {first.name} ({first.moid}) and {sw.name} ({sw.moid}) have the same UUID "
                f"{sw.key!r}; ports and NICs name a switch by its UUID, so only {first.name} ({first.moid}) "
                f"is shown. vCenter gives each switch its own UUID (a simulator may not)."
            )
            continue
        kept[sw.key] = sw
        switches.append(sw)
        uuid_of[obj._moId] = sw.key
        tree.switch_refs[sw.key] = obj
        uplink_pgs.update(pg._moId for pg in props.get("config.uplinkPortgroup") or ())
    portgroups = [_portgroup_from_props(obj, props, uuid_of, uplink_pgs) for obj, props in raw_pgs]
    tree.portgroups = [pg for pg in portgroups if pg.switch in {s.key for s in switches}]
    switches.sort(key=lambda s: s.name.lower())
    tree.portgroups.sort(key=lambda p: (p.switch, not p.uplink, p.name.lower()))
    hosts.sort(key=lambda h: h.name.lower())
    return tree


def read_vms(raw: Any, pc: Any, view: Any, page_size: int, report: ProgressCallback) -> list[Vm]:
    """Phase 2: VMs with their NICs and guest IPs, streamed page by page (``raw`` is a :class:`._soap.RawSoap`)."""
    vim = _vim()
    spec = filter_spec(view, {vim.VirtualMachine: VM_PATHS})
    vms = stream_vms(raw, pc, spec, page_size, lambda n: report(LoadProgress(f"Reading VMs: {n}", done=n)))
    vms.sort(key=lambda v: v.name.lower())
    return vms


def stream_vms(
    raw: Any, pc: Any, spec: Any, page_size: int, page_read: Callable[[int], None] | None = None
) -> list[Vm]:
    """The VMs of ``spec`` (paths :data:`VM_PATHS`), page by page, each parsed as it streams in;
    ``page_read(VMs so far)`` after each page."""
    vmodl = _vmodl()

    from tui.backends._parse import OBJECTS, TOKEN, parse_vm

    options = vmodl.query.PropertyCollector.RetrieveOptions(maxObjects=page_size)
    vms: list[Vm] = []
    items = frozenset({OBJECTS, TOKEN})
    elements = raw.stream(pc, "RetrievePropertiesEx", [[spec], options], items)
    while True:
        token = ""
        for elem in elements:
            if elem.tag == TOKEN:
                token = elem.text or ""
            else:
                vms.append(parse_vm(elem))
        if page_read is not None:
            page_read(len(vms))
        if not token:
            return vms
        elements = raw.stream(pc, "ContinueRetrievePropertiesEx", [token], items)


def read_vm_pages(
    raw: Any,
    pc: Any,
    spec: Any,
    page_size: int,
    ahead: Executor,
    cancel: Any = None,
    page_read: Callable[[int], None] | None = None,
) -> list[Vm]:
    """:func:`stream_vms`, with the network overlapped: as soon as a page's token has been parsed
    (vCenter writes it first), ``ahead`` (one thread) sends ``ContinueRetrievePropertiesEx`` and
    reads the next page whole while this thread parses the rest of the current one. The first
    page is parsed as it streams in. ``cancel`` (a :class:`._soap.Cancel`) stops both."""
    vmodl = _vmodl()

    from tui.backends._parse import OBJECTS, TOKEN, parse_vm
    from tui.backends._soap import elements

    options = vmodl.query.PropertyCollector.RetrieveOptions(maxObjects=page_size)
    vms: list[Vm] = []
    items = frozenset({OBJECTS, TOKEN})
    pages: Iterator[Any] = raw.stream(pc, "RetrievePropertiesEx", [[spec], options], items, cancel)
    pending: Future[Any] | None = None
    try:
        while True:
            for elem in pages:
                if elem.tag == TOKEN:
                    token = elem.text or ""
                    if token and pending is None:
                        pending = ahead.submit(raw.fetch, pc, "ContinueRetrievePropertiesEx", [token], cancel)
                else:
                    vms.append(parse_vm(elem))
            if page_read is not None:
                page_read(len(vms))
            if pending is None:
                return vms
            reply, pending = pending.result(), None
            pages = elements(reply, items)
    finally:
        if pending is not None:  # this thread failed: the page read ahead is not wanted
            if cancel is not None:
                cancel()
            with contextlib.suppress(BaseException):
                pending.result()


def port_map_vms(vms: list[Vm], ports: Iterable[Port]) -> list[Vm]:
    """``vms`` (read with :data:`VM_MAP_PATHS`: no NICs) with a NIC for each port whose connectee
    names one of them: the connectee's NIC key, the port's runtime MAC and the port itself. Labels,
    guest IPs and NICs on no distributed port are not known yet (:data:`VM_DETAIL_PATHS`)."""
    nics: dict[str, list[Nic]] = {}
    for port in ports:
        c = port.connectee
        if c is None or c.type is not ConnecteeType.VM_VNIC:
            continue
        key = c.nic_key
        nics.setdefault(c.entity, []).append(
            Nic(
                key=int(key) if key.isascii() and key.isdigit() else 0,
                label="",
                mac=port.mac,
                switch=port.switch,
                portgroup=port.portgroup,
                port=port.key,
            )
        )
    out = []
    for vm in vms:
        found = nics.get(vm.key)
        out.append(replace(vm, nics=tuple(sorted(found, key=lambda n: n.key))) if found else vm)
    return out


def with_details(vms: list[Vm], details: list[Vm]) -> list[Vm]:
    """The VMs of the port map (``vms``: name, host, power) with the NICs of ``details`` (read
    with :data:`VM_DETAIL_PATHS`), in ``vms``' order. A VM in only one of them was created or
    removed between the two reads and is left out (the live channel, or a reload, shows it)."""
    nics = {vm.key: vm.nics for vm in details}
    return [replace(vm, nics=nics[vm.key]) for vm in vms if vm.key in nics]


def read_ports(raw: Any, dvs: Any, switch_key: str, cancel: Any = None) -> list[Port]:
    """Phase 3: every port of one switch (``FetchDVPorts`` without criteria), streamed."""
    from tui.backends._parse import RETURNVAL, parse_port

    return [parse_port(e, switch_key) for e in raw.stream(dvs, "FetchPorts", [None], frozenset({RETURNVAL}), cancel)]


def read_ports_and_counters(
    raw: Any, dvs: Any, switch_key: str, read_at: float, cancel: Any = None
) -> tuple[list[Port], dict[str, PortStatistics]]:
    """:func:`read_ports`, keeping each port's ``state.stats`` too (read at ``read_at``): the same
    one streamed ``FetchDVPorts``, so counters for a snapshot cost no second fetch."""
    from tui.backends._parse import RETURNVAL, parse_port, parse_port_counters

    ports: list[Port] = []
    counters: dict[str, PortStatistics] = {}
    for e in raw.stream(dvs, "FetchPorts", [None], frozenset({RETURNVAL}), cancel):
        port = parse_port(e, switch_key)
        ports.append(port)
        try:
            api = parse_port_counters(e)
            if api is not None and port.key not in counters:
                counters[port.key] = PortStatistics.from_api(api, read_at)
        except ValueError as err:
            raise BackendError(
                f"vCenter sent a traffic counter of port {visible(port.key)} that cannot be read ({visible(str(err))})"
            ) from None
    return ports, counters


def read_switch(pc: Any, dvs: Any, switch: Switch) -> Switch:
    """``switch`` read again from vCenter (``dvs`` is its pyVmomi object), sessions included."""
    vmodl = _vmodl()

    def read(paths: list[str]) -> Any:
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=dvs, skip=False)],
            propSet=[vmodl.query.PropertyCollector.PropertySpec(type=type(dvs), pathSet=paths)],
        )
        return pc.RetrievePropertiesEx([spec], vmodl.query.PropertyCollector.RetrieveOptions())

    if isinstance(dvs, _vim().VmwareDistributedVirtualSwitch):
        result = read(VMWARE_SWITCH_PATHS)
    else:
        # A switch typed as the base DistributedVirtualSwitch may still hold a VMwareDVSConfigInfo
        # (govmomi's stock vcsim does): ask for its sessions too, so what an apply reports about
        # them is read, not assumed. vCenter refuses the path on a truly base-typed switch.
        try:
            result = read(VMWARE_SWITCH_PATHS)
        except vmodl.query.InvalidProperty:
            result = read(SWITCH_PATHS)
    objects = result.objects if result is not None else []
    if not objects:
        raise ChangeRefused(
            f"switch {switch.name} no longer exists",
            [Problem("NotFound", f"{switch.name} was removed.")],
            sent=False,
        )
    from tui.backends._parse import NotAuthenticatedError

    found = objects[0]
    missing = found.missingSet or ()
    for m in missing:
        if type(m.fault).__name__.endswith("NotAuthenticated"):  # an expired session: nothing was read
            raise NotAuthenticatedError(str(found.obj))
    props = {p.name: p.val for p in found.propSet or ()}
    # The uuid names the switch; without it nothing was read (a configVersion may be unset:
    # govmomi's stock vcsim keeps none, and then the staleness check compares "" with "").
    if not props.get("uuid"):
        gone = ", ".join(sorted({str(m.path) for m in missing})) or "uuid"
        raise BackendError(
            f"vCenter did not return the configuration of {switch.name} (missing: {gone})",
            hint="Check that the user may read the switch; nothing was changed.",
        )
    return _switch_from_props(dvs._moId, props, switch.datacenter)


def vcenter_name(content: Any, dialled: str) -> str:
    """vCenter's own name (``VirtualCenter.FQDN`` / ``InstanceName``), else ``dialled`` (the server address)."""
    try:
        values = {o.key: o.value for o in content.setting.QueryOptions("VirtualCenter.") or ()}
    except _vim().fault.NotAuthenticated:
        raise
    except Exception:  # no such setting or no right to read it: fall back to the address dialled
        values = {}
    for key in ("VirtualCenter.FQDN", "VirtualCenter.InstanceName"):
        value = str(values.get(key) or "")
        if value and not _is_address(value):
            return value
    return dialled


def find_datacenter(content: Any, name: str, page_size: int) -> Any:
    """The datacenter called ``name`` (an inventory path); :class:`NoSuchDatacenter` listing the others."""
    vim = _vim()

    dc = content.searchIndex.FindByInventoryPath(name)
    if isinstance(dc, vim.Datacenter):
        return dc
    known = sorted(_datacenter_names(content, page_size))
    raise NoSuchDatacenter(
        f"vCenter has no datacenter {name!r}",
        hint=f"Datacenters: {', '.join(known) or 'none'}. Fix --datacenter, DVMIRROR_DATACENTER or GOVC_DATACENTER.",
    )


def _datacenter_names(content: Any, page_size: int) -> list[str]:
    vim = _vim()

    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.Datacenter], True)
    try:
        return [
            _unescape(str(props.get("name", "")))
            for _obj, props in retrieve(content.propertyCollector, view, {vim.Datacenter: ["name"]}, page_size)
        ]
    finally:
        with contextlib.suppress(Exception):
            view.DestroyView()


def _is_address(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
