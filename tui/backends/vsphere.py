"""The vCenter backend: pyVmomi for the session and small calls, a streaming parser for bulk.

Importing this module is cheap: pyVmomi is imported when :meth:`VsphereBackend.connect` runs.
No pyVmomi object leaves the backend; everything is converted to :mod:`tui.model` objects.
This module holds the backend's connect, load and apply; its helpers each hold one idea:
:mod:`._tls` (trust and pinning, connections close() can cut), :mod:`._convert` (vim objects ↔
model), :mod:`._faults` (failures in the operator's terms), :mod:`._recovery` (what a re-read switch says
about a change sent), :mod:`._versions` (API version negotiation) and :mod:`._soap` (the streaming
reader for bulk replies).

How a load goes (DESIGN.md §9, performance.md §8):

1. one container view over datacenters, folders, switches, portgroups, hosts and VMs;
2. one ``RetrievePropertiesEx`` (pyVmomi, paged) for the switches, portgroups and hosts with a
   minimal ``pathSet`` → a partial inventory is reported at once so the tree can appear;
3. the VMs (name, host, power state, NIC devices, guest IPs) with ``RetrievePropertiesEx`` +
   ``ContinueRetrievePropertiesEx``, ``maxObjects`` 1000, parsed as a stream (:mod:`._soap`);
4. one ``FetchDVPorts`` per switch (criteria unset: explicit false flags are ambiguous,
   peers.md §2.0), parsed as a stream, with progress per switch.

So the number of SOAP calls grows only with pages of 1000 VMs: 3 to log in (service versions,
``RetrieveServiceContent``, ``Login``), then ``4 + ceil(VMs / 1000) + switches`` per load
(``QueryOptions`` for vCenter's name, the view, the tree, the VM pages, the ports, ``DestroyView``):
16 at 10,000 VMs on 2 switches. Changes go through pyVmomi: read ``configVersion``, one
``ReconfigureDvs_Task``, wait, re-read (vspan.md §5).

Saving a live inventory for offline use (``dvmirror snapshot save``) is ``snapshot.save_inventory(load())``.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from tui.backends import (
    EXIT_USAGE,
    ApplyResult,
    BackendError,
    ChangeInterrupted,
    ChangeRefused,
    ConnectionFailed,
    LoadInterrupted,
    LoadProgress,
    LoginFailed,
    ProgressCallback,
    ReadOnlyError,
    SessionExpired,
    StaleSwitch,
    check_or_refuse,
)
from tui.backends._convert import (
    _config_spec,
    _portgroup_from_props,
    _support,
    _switch_from_props,
    _unescape,
    _vim,
    _vmodl,
)
from tui.backends._faults import _dropped, _problem_from_fault, mapped_errors
from tui.backends._recovery import _not_applied, applied_result, judge
from tui.backends._tls import _Connections, _pinned_connection_class, ssl_context
from tui.config import Settings, read_only_hint
from tui.model import (
    Host,
    Inventory,
    Portgroup,
    Problem,
    SessionChange,
    Switch,
)

T = TypeVar("T")

PAGE_SIZE = 1000
"""``maxObjects`` per page (performance.md §4: 500-1000 is the sweet spot)."""
TASK_TIMEOUT = 300.0

_SWITCH_PATHS = [
    "name",
    "uuid",
    "parent",
    "config.configVersion",
    "config.uplinkPortPolicy",
    "config.uplinkPortgroup",
    "config.productInfo.version",
    "capability.featuresSupported",
]
_VMWARE_SWITCH_PATHS = [*_SWITCH_PATHS, "config.vspanSession"]
"""Only ``VmwareDistributedVirtualSwitch`` has sessions; vCenter refuses the path on the base type."""
_PORTGROUP_PATHS = [
    "name",
    "key",
    "config.distributedVirtualSwitch",
    "config.defaultPortConfig",
    "config.type",
    "config.numPorts",
]
_VM_PATHS = ["name", "runtime.host", "runtime.powerState", "config.hardware.device", "guest.net"]


class _NotSent(ConnectionFailed):
    """The connection for a change was refused: the request never left dvmirror."""


class NoSuchDatacenter(BackendError):
    """``--datacenter`` names a datacenter that does not exist."""

    exit_code = EXIT_USAGE
    title = "Unknown datacenter"


# -- the backend --------------------------------------------------------------------------


class VsphereBackend:
    """A live vCenter, through pyVmomi. Thread-safe: one call at a time."""

    def __init__(self, settings: Settings, *, page_size: int = PAGE_SIZE, timeout: float | None = None) -> None:
        self.settings = settings
        self.read_only = settings.read_only
        self.label = f"vCenter {settings.server}"
        self.offline = False
        self.insecure = settings.insecure
        self.page_size = page_size
        self.timeout = settings.timeout if timeout is None else timeout
        """Seconds any network wait may last (``--timeout``; :data:`tui.config.DEFAULT_TIMEOUT`)."""
        self._conns = _Connections()
        from tui.backends._soap import WireStats

        self.stats = WireStats()
        """Raw (streamed) requests and bytes, for benchmarks and ``--debug``."""
        self.api_version = ""
        """The vSphere API version the session speaks, e.g. ``8.0.3.0``."""
        self._lock = threading.RLock()
        self._si: Any = None
        self._content: Any = None
        self._stub: Any = None
        self._vcenter_name = ""
        self._switch_refs: dict[str, Any] = {}
        self._dc_names: dict[str, str] = {}
        self._host_names: dict[str, str] = {}
        self._raw: Any = None
        self._closing = False
        """Set by close() while another thread is loading: that thread logs out when it stops."""

    # -- connection ---------------------------------------------------------------------

    def connect(self) -> None:
        """Log in (idempotent). Raises ConnectionFailed, CertificateError or LoginFailed."""
        with self._lock:
            if self._si is None:
                with mapped_errors(self.settings, self.timeout, "connecting"):
                    self._connect()

    def _connect(self) -> None:
        vim, VmomiSupport = _vim(), _support()
        from pyVmomi import SoapStubAdapter

        s = self.settings
        if not s.server:
            raise ConnectionFailed(
                "no vCenter given",
                hint="Use --server HOST, DVMIRROR_SERVER or GOVC_URL, a profile, or --demo to try the demo lab.",
            )
        if not s.user:
            raise LoginFailed(
                f"no user name for {s.server}",
                hint="Use --user, DVMIRROR_USER or GOVC_USERNAME (or user@host in GOVC_URL).",
            )
        self._conns.closing = False
        ctx, thumbprint = ssl_context(s) if s.scheme == "https" else (None, "")
        version = self._negotiate_version(ctx, thumbprint)
        port = s.port if s.scheme == "https" else -s.port
        stub: Any = SoapStubAdapter(
            host=s.server,
            port=port,
            path=s.path,
            version=version,
            sslContext=ctx,
            httpConnectionTimeout=self.timeout,
            connectionPoolTimeout=-1,
        )
        if thumbprint:
            stub.scheme = _pinned_connection_class(thumbprint)
        stub.scheme = self._conns.factory(stub.scheme)
        si = vim.ServiceInstance("ServiceInstance", stub)
        content: Any = si.RetrieveContent()
        try:
            content.sessionManager.Login(s.user, s.password, None)
        except vim.fault.InvalidLogin:
            where = f"from {s.source('password')}" if s.password else "none was given"
            raise LoginFailed(
                f"vCenter {s.server} refused the user name or password for {s.user}",
                hint=f"Check the user (e.g. administrator@vsphere.local) and the password ({where}).",
            ) from None
        from tui.backends._soap import RawSoap

        self._si, self._content, self._stub = si, content, stub
        self._raw = RawSoap(stub, self.stats)
        self.api_version = VmomiSupport.versionIdMap.get(version, version)

    def _negotiate_version(self, ctx: ssl.SSLContext | None, thumbprint: str) -> str:
        """The pyVmomi version to speak: its newest that ``vimServiceVersions.xml`` lists (:mod:`._versions`)."""
        from http.client import HTTPConnection, HTTPSConnection

        from tui.backends._versions import MAX_BYTES, BadServiceVersions, choose, decode, listed_versions

        s = self.settings
        path = s.path.rstrip("/") + "/vimServiceVersions.xml"
        where = f"{s.url.rstrip('/')}/vimServiceVersions.xml"
        conn: HTTPConnection
        if s.scheme == "https":
            cls = _pinned_connection_class(thumbprint) if thumbprint else HTTPSConnection
            conn = cls(s.server, s.port, context=ctx, timeout=self.timeout)
        else:
            conn = HTTPConnection(s.server, s.port, timeout=self.timeout)
        self._conns.add(conn)  # close() can cut it
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read(MAX_BYTES + 1)
        finally:
            conn.close()
        if resp.status != 200:
            raise BadServiceVersions(
                f"{s.url} does not look like vCenter: {where} gave HTTP {resp.status}",
                hint="Check the server address and path (the default path is /sdk); "
                "dvmirror, like pyVmomi, reads this file to choose the API version.",
            )
        body = decode(body, resp.getheader("Content-Encoding", ""), where)
        return choose(listed_versions(body, where), where)

    def _relogin(self) -> None:
        s = self.settings
        vim = _vim()

        try:
            self._content.sessionManager.Login(s.user, s.password, None)
        except vim.fault.InvalidLogin:
            raise SessionExpired(
                f"the vCenter session expired and logging in again as {s.user} was refused",
                hint="Connect again with the current password.",
            ) from None

    def close(self) -> None:
        """Log out and drop connections, quietly.

        If a call is running in another thread (a long load, or a vCenter that stopped
        answering), every connection is cut: that thread fails with ConnectionFailed at once and
        logs out within :data:`._tls.CLOSE_TIMEOUT`, so quitting never waits for a load or a timeout.
        """
        if self._lock.acquire(timeout=0.5):
            try:
                self._logout()
            finally:
                self._lock.release()
            return
        self._closing = True
        self._conns.closing = True
        raw = self._raw
        if raw is not None:
            raw.abort()
        self._conns.cut()
        with contextlib.suppress(Exception):
            self._stub.DropConnections()

    def _logout(self) -> None:
        si, self._si = self._si, None
        self._closing = False
        if si is None:
            return
        with contextlib.suppress(Exception):
            self._content.sessionManager.Logout()
        with contextlib.suppress(Exception):
            self._stub.DropConnections()
        self._switch_refs.clear()

    def _session(self, doing: str, fn: Callable[[], T], *, idempotent: bool = True) -> T:
        """Run ``fn`` with errors mapped, retrying once where that is safe.

        A ``NotAuthenticated`` fault means vCenter did nothing: log in again and call ``fn``
        once more. A dropped connection (a keep-alive connection vCenter closed while idle, or
        a restart) is retried once on fresh connections only when ``fn`` is ``idempotent``.
        """
        vim = _vim()

        from tui.backends._soap import NotAuthenticatedError

        with self._lock:
            self.connect()
            with mapped_errors(self.settings, self.timeout, doing):
                try:
                    return fn()
                except (vim.fault.NotAuthenticated, NotAuthenticatedError):
                    self._relogin()
                    return fn()
                except _dropped():
                    if not idempotent or self._closing:
                        raise
                    with contextlib.suppress(Exception):
                        self._stub.DropConnections()
                    return fn()
                finally:
                    if self._closing:
                        self._logout()

    # -- load ---------------------------------------------------------------------------

    def load(self, progress: ProgressCallback | None = None) -> Inventory:
        """Read switches, portgroups, hosts, VMs and ports (blocking; run it in a worker)."""
        report: ProgressCallback = progress or (lambda _p: None)
        report(LoadProgress(f"Connecting to {self.settings.server}"))
        self.connect()
        from tui.backends._soap import gc_paused

        try:
            with gc_paused():
                return self._session("loading the inventory", lambda: self._load(report))
        except ConnectionFailed as e:
            if type(e) is not ConnectionFailed or self._closing:
                raise
            s = self.settings
            where = f"{s.server}:{s.port}"
            reason = e.message
            if reason.startswith("nothing is listening"):  # it was, a moment ago: vCenter went away
                reason = f"the connection was lost and {where} no longer accepts connections"
            raise LoadInterrupted(
                f"loading the inventory from {where} was interrupted: {reason}",
                hint="Nothing was changed on vCenter, and what was read so far is not shown as if complete. "
                "Retry (r) when vCenter answers again.",
            ) from None

    def _load(self, report: ProgressCallback) -> Inventory:
        vim = _vim()

        content = self._content
        vcenter = self._vcenter()
        root = content.rootFolder
        datacenters: tuple[str, ...] = ()
        if self.settings.datacenter:
            root = self._find_datacenter(self.settings.datacenter)
            datacenters = (self.settings.datacenter,)
        view = content.viewManager.CreateContainerView(
            root,
            [
                vim.Datacenter,
                vim.Folder,
                vim.DistributedVirtualSwitch,
                vim.dvs.DistributedVirtualPortgroup,
                vim.HostSystem,
                vim.VirtualMachine,
            ],
            True,
        )
        try:
            report(LoadProgress("Reading switches and portgroups"))
            tree = self._read_tree(view, root)
            warnings = tuple(self._tree_warnings)
            for warning in warnings:
                report(LoadProgress(f"Warning: {warning}"))
            if not datacenters:
                datacenters = tuple(sorted(set(self._dc_names.values())))
            switches, portgroups, hosts = tree

            def build(vms: list[Any], ports: list[Any] | None) -> Inventory:
                return Inventory.build(
                    vcenter=vcenter,
                    source="vCenter",
                    datacenters=datacenters,
                    hosts=hosts,
                    switches=switches,
                    portgroups=portgroups,
                    ports=ports or [],
                    vms=vms,
                    warnings=warnings,
                    ports_read=ports is not None,
                )

            report(LoadProgress(f"{len(switches)} switches, {len(portgroups)} portgroups", partial=build([], None)))
            vms = self._read_vms(view, report)
            report(LoadProgress(f"{len(vms)} VMs", partial=build(vms, None)))
            ports = []
            for i, sw in enumerate(switches):
                report(LoadProgress(f"Reading ports of {sw.name}", done=i, total=len(switches)))
                ports.extend(self._read_ports(sw))
            report(LoadProgress(f"{len(ports)} ports", done=len(switches), total=len(switches)))
            return build(vms, ports)
        finally:
            with contextlib.suppress(Exception):
                view.DestroyView()

    def _vcenter(self) -> str:
        """vCenter's own name (``VirtualCenter.FQDN`` / ``InstanceName``), else the server we dialled."""
        if self._vcenter_name:
            return self._vcenter_name
        name = ""
        try:
            values = {o.key: o.value for o in self._content.setting.QueryOptions("VirtualCenter.") or ()}
        except _vim().fault.NotAuthenticated:
            raise
        except Exception:  # no such setting or no right to read it: fall back to the address dialled
            values = {}
        for key in ("VirtualCenter.FQDN", "VirtualCenter.InstanceName"):
            value = str(values.get(key) or "")
            if value and not _is_address(value):
                name = value
                break
        self._vcenter_name = name or self.settings.server
        return self._vcenter_name

    def _find_datacenter(self, name: str) -> Any:
        vim = _vim()

        dc = self._content.searchIndex.FindByInventoryPath(name)
        if isinstance(dc, vim.Datacenter):
            return dc
        known = sorted(self._datacenter_names())
        raise NoSuchDatacenter(
            f"vCenter has no datacenter {name!r}",
            hint=f"Datacenters: {', '.join(known) or 'none'}. "
            "Fix --datacenter, DVMIRROR_DATACENTER or GOVC_DATACENTER.",
        )

    def _datacenter_names(self) -> list[str]:
        vim = _vim()

        view = self._content.viewManager.CreateContainerView(self._content.rootFolder, [vim.Datacenter], True)
        try:
            return [
                _unescape(str(props.get("name", "")))
                for _obj, props in self._retrieve(view, {vim.Datacenter: ["name"]})
            ]
        finally:
            with contextlib.suppress(Exception):
                view.DestroyView()

    def _retrieve(self, view: Any, paths: dict[Any, list[str]]) -> Iterator[tuple[Any, dict[str, Any]]]:
        """``(object, {path: value})`` for every object of ``view``, via pyVmomi, paged."""
        from tui.backends._soap import NotAuthenticatedError

        pc = self._content.propertyCollector
        spec = _filter_spec(view, paths)
        vmodl = _vmodl()

        result = pc.RetrievePropertiesEx(
            [spec], vmodl.query.PropertyCollector.RetrieveOptions(maxObjects=self.page_size)
        )
        while result is not None:
            for oc in result.objects or ():
                for missing in oc.missingSet or ():
                    if type(missing.fault).__name__.endswith("NotAuthenticated"):
                        raise NotAuthenticatedError(str(oc.obj))
                yield oc.obj, {p.name: p.val for p in oc.propSet or ()}
            if not result.token:
                break
            result = pc.ContinueRetrievePropertiesEx(result.token)

    def _read_tree(self, view: Any, root: Any) -> tuple[list[Switch], list[Portgroup], list[Host]]:
        """Phase 1: datacenters, switches, portgroups and hosts (pyVmomi: a few hundred objects)."""
        vim, VmomiSupport = _vim(), _support()

        pg_paths = list(_PORTGROUP_PATHS)
        if VmomiSupport.IsChildVersion(self._stub.version, "vim.version.version11"):
            pg_paths.append("config.uplink")
        paths = {
            vim.Datacenter: ["name"],
            vim.Folder: ["parent"],
            vim.DistributedVirtualSwitch: _SWITCH_PATHS,
            vim.VmwareDistributedVirtualSwitch: _VMWARE_SWITCH_PATHS,
            vim.dvs.DistributedVirtualPortgroup: pg_paths,
            vim.HostSystem: ["name"],
        }
        parents: dict[str, str] = {}
        dc_names: dict[str, str] = {}
        if isinstance(root, vim.Datacenter):
            dc_names[root._moId] = self.settings.datacenter
        raw_switches: list[tuple[Any, dict[str, Any]]] = []
        raw_pgs: list[tuple[Any, dict[str, Any]]] = []
        hosts: list[Host] = []
        for obj, props in self._retrieve(view, paths):
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
        self._dc_names = dc_names
        self._host_names = {h.key: h.name for h in hosts}

        def datacenter_of(moid: str) -> str:
            seen = 0
            while moid and moid not in dc_names and seen < 64:
                moid = parents.get(moid, "")
                seen += 1
            return dc_names.get(moid, "")

        switches: list[Switch] = []
        uuid_of: dict[str, str] = {}
        uplink_pgs: set[str] = set()
        self._tree_warnings: list[str] = []
        kept: dict[str, Switch] = {}
        # Lowest moid first, so that which of two switches with one UUID is shown does not vary.
        for obj, props in sorted(raw_switches, key=lambda op: (len(op[0]._moId), op[0]._moId)):
            parent = props.get("parent")
            sw = _switch_from_props(obj._moId, props, datacenter_of(parent._moId) if parent is not None else "")
            first = kept.get(sw.key)
            if first is not None:
                # Ports and NIC backings name a switch by UUID only: two switches with one UUID cannot
                # be told apart, and reading both would show one switch's ports twice.
                self._tree_warnings.append(
                    f"switches {first.name} ({first.moid}) and {sw.name} ({sw.moid}) have the same UUID "
                    f"{sw.key!r}; ports and NICs name a switch by its UUID, so only {first.name} ({first.moid}) "
                    f"is shown. vCenter gives each switch its own UUID (a simulator may not)."
                )
                continue
            kept[sw.key] = sw
            switches.append(sw)
            uuid_of[obj._moId] = sw.key
            self._switch_refs[sw.key] = obj
            uplink_pgs.update(pg._moId for pg in props.get("config.uplinkPortgroup") or ())
        portgroups = [_portgroup_from_props(obj, props, uuid_of, uplink_pgs) for obj, props in raw_pgs]
        portgroups = [pg for pg in portgroups if pg.switch in {s.key for s in switches}]
        switches.sort(key=lambda s: s.name.lower())
        portgroups.sort(key=lambda p: (p.switch, not p.uplink, p.name.lower()))
        hosts.sort(key=lambda h: h.name.lower())
        return switches, portgroups, hosts

    def _read_vms(self, view: Any, report: ProgressCallback) -> list[Any]:
        """Phase 2: VMs with their NICs and guest IPs, streamed page by page."""
        vim, vmodl = _vim(), _vmodl()

        from tui.backends._soap import OBJECTS, TOKEN, parse_vm

        raw = self._raw
        pc = self._content.propertyCollector
        spec = _filter_spec(view, {vim.VirtualMachine: _VM_PATHS})
        options = vmodl.query.PropertyCollector.RetrieveOptions(maxObjects=self.page_size)
        vms = []
        items = frozenset({OBJECTS, TOKEN})
        token = ""
        elements = raw.stream(pc, "RetrievePropertiesEx", [[spec], options], items)
        while True:
            token = ""
            for elem in elements:
                if elem.tag == TOKEN:
                    token = elem.text or ""
                else:
                    vms.append(parse_vm(elem))
            report(LoadProgress(f"Reading VMs: {len(vms)}", done=len(vms)))
            if not token:
                break
            elements = raw.stream(pc, "ContinueRetrievePropertiesEx", [token], items)
        vms.sort(key=lambda v: v.name.lower())
        return vms

    def _read_ports(self, switch: Switch) -> list[Any]:
        """Phase 3: every port of one switch (``FetchDVPorts`` without criteria), streamed."""
        from tui.backends._soap import RETURNVAL, parse_port

        raw = self._raw
        dvs = self._switch_ref(switch)
        return [parse_port(e, switch.key) for e in raw.stream(dvs, "FetchPorts", [None], frozenset({RETURNVAL}))]

    def _switch_ref(self, switch: Switch) -> Any:
        vim = _vim()

        ref = self._switch_refs.get(switch.key)
        if ref is None:
            ref = vim.VmwareDistributedVirtualSwitch(switch.moid, self._stub)
            self._switch_refs[switch.key] = ref
        return ref

    def _read_switch(self, switch: Switch) -> Switch:
        vmodl = _vmodl()

        dvs = self._switch_ref(switch)
        pc = self._content.propertyCollector

        def read(paths: list[str]) -> Any:
            spec = vmodl.query.PropertyCollector.FilterSpec(
                objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=dvs, skip=False)],
                propSet=[vmodl.query.PropertyCollector.PropertySpec(type=type(dvs), pathSet=paths)],
            )
            return pc.RetrievePropertiesEx([spec], vmodl.query.PropertyCollector.RetrieveOptions())

        if isinstance(dvs, _vim().VmwareDistributedVirtualSwitch):
            result = read(_VMWARE_SWITCH_PATHS)
        else:
            # A switch typed as the base DistributedVirtualSwitch may still hold a VMwareDVSConfigInfo
            # (govmomi's stock vcsim does): ask for its sessions too, so what an apply reports about
            # them is read, not assumed. vCenter refuses the path on a truly base-typed switch.
            try:
                result = read(_VMWARE_SWITCH_PATHS)
            except vmodl.query.InvalidProperty:
                result = read(_SWITCH_PATHS)
        objects = result.objects if result is not None else []
        if not objects:
            raise ChangeRefused(
                f"switch {switch.name} no longer exists",
                [Problem("NotFound", f"{switch.name} was removed.")],
                sent=False,
            )
        from tui.backends._soap import NotAuthenticatedError

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

    # -- apply --------------------------------------------------------------------------

    def apply(self, inventory: Inventory, switch_key: str, changes: Sequence[SessionChange]) -> ApplyResult:
        """Send ``changes`` as one ``ReconfigureDvs_Task`` (see :class:`tui.backends.Backend`)."""
        if self.read_only:
            raise ReadOnlyError(
                "read-only mode: nothing was sent to vCenter", hint=read_only_hint(self.settings.source("read_only"))
            )
        switch = inventory.switches.get(switch_key)
        if switch is None:
            raise ChangeRefused(
                "unknown switch; nothing was sent",
                [Problem("NotFound", f"No switch with key {switch_key}.")],
                sent=False,
            )
        if not changes:
            return ApplyResult(switch=switch)
        warnings = self._check_rules(inventory, switch_key, changes)
        doing = f"changing {switch.name}"
        try:
            current = self._session(doing, lambda: self._read_switch(switch))
        except ConnectionFailed as e:  # includes SessionExpired: nothing has been sent yet
            raise type(e)(f"{e.message}; nothing was sent", hint=e.hint) from None
        if current.config_version != switch.config_version:
            raise StaleSwitch(
                f"{current.name} was changed by someone else since it was read (configVersion "
                f"{switch.config_version} → {current.config_version}); nothing was sent",
                [Problem("ConcurrentAccess", "The switch changed meanwhile: review its sessions and try again.")],
                current,
                sent=False,
            )
        spec = _config_spec(current, changes)
        task: Any = None
        done = False
        try:
            task = self._session(doing, lambda: self._send(current, spec), idempotent=False)
            self._session(doing, lambda: self._wait(task, switch))
            done = True
            after = self._session(doing, lambda: self._read_switch(switch))
        except _NotSent as e:
            raise ConnectionFailed(e.message, hint=e.hint) from None
        except SessionExpired as e:
            if task is None:  # NotAuthenticated, and logging in again was refused: vCenter did nothing
                raise SessionExpired(f"{e.message}; nothing was sent", hint=e.hint) from None
            return self._after_loss(switch, current, changes, warnings, e, task, done)
        except ConnectionFailed as e:  # dropped or silent after the request left: find out what happened
            return self._after_loss(switch, current, changes, warnings, e, task, done)
        missing = _not_applied(current, after, changes)
        if missing:
            # The task succeeded, yet the switch does not show the change (govmomi's stock vcsim
            # accepts and ignores vspanConfigSpec): say exactly that, never "created".
            shown = "does not show it" if len(missing) == len(changes) else "shows only part of it"
            not_applied = ChangeRefused(
                f"vCenter accepted the change to {after.name} (the task succeeded), but the switch "
                f"read back afterwards {shown}",
                missing,
                sent=True,
                hint="The problems say which sessions are not as sent. Look at the switch's sessions in vCenter "
                "before trying again.",
            )
            not_applied.title = "Change not applied"
            raise not_applied
        return applied_result(current, after, changes, warnings)

    def _after_loss(
        self,
        switch: Switch,
        current: Switch,
        changes: Sequence[SessionChange],
        warnings: Sequence[Problem],
        cause: ConnectionFailed,
        task: Any,
        done: bool,
    ) -> ApplyResult:
        """The connection failed after the change left: reconnect, re-read, and say what is there.

        ``task`` is vCenter's task if its answer arrived (polled again first: its result is the
        best evidence), ``done`` whether it had already succeeded. Without a task, any reconfigure
        still queued or running on the switch is waited for. Then the switch is read again and
        compared with the change as sent: applied (returned, with a ``ConnectionLost`` warning),
        not applied (``configVersion`` unchanged), or cannot tell; each of the latter two is a
        :class:`ChangeInterrupted` carrying the switch as it is now.
        """
        doing = f"changing {switch.name}"
        lost = cause.message.removesuffix(f" while {doing}")
        if isinstance(cause, SessionExpired):
            lost = "the vCenter session ended"
        name = switch.name
        look = (
            f"Look at the sessions of {name} (r in the explorer, or `dvmirror sessions --switch {name}`) "
            "before sending the change again."
        )
        if self._closing:
            raise ChangeInterrupted(
                f"dvmirror was closed while the change to {name} was being sent; whether it was applied is not known",
                applied=None,
                switch=None,
                hint=look,
            )
        with self._lock, contextlib.suppress(Exception):
            self._stub.DropConnections()  # fresh connections for what follows
        try:
            if task is not None and not done:
                try:
                    self._session(doing, lambda: self._wait(task, switch))
                    done = True
                except ChangeRefused:
                    raise  # vCenter's task failed: that is the truth, nothing was changed
                except BackendError:
                    pass  # the task cannot be read: judge by the switch
            elif task is None:
                self._session(doing, lambda: self._settle(switch))
            after = self._session(doing, lambda: self._read_switch(switch))
        except ChangeRefused as e:
            if e.sent:
                raise
            after_error: BackendError = e
        except BackendError as e:
            after_error = e
            after_error.message = e.message.removesuffix(f" while {doing}")
        else:
            return judge(switch, current, after, changes, warnings, lost, done, look)
        if done:
            raise ChangeInterrupted(
                f"{lost} after the change to {name} was sent; vCenter's task reports it applied, "
                f"but {name} could not be read again ({after_error.message})",
                applied=True,
                switch=None,
                hint=f"Refresh (r) to see {name} as it is now; do not send the change again.",
            )
        raise ChangeInterrupted(
            f"{lost} after the change to {name} was sent, and {name} could not be read again "
            f"({after_error.message}): dvmirror cannot tell whether the change was applied",
            applied=None,
            switch=None,
            hint=look,
        )

    def _settle(self, switch: Switch) -> None:
        """Wait (up to :data:`TASK_TIMEOUT`) for tasks on ``switch`` that vCenter has queued or is running.

        After a lost answer to ``ReconfigureDvs_Task`` the task may still be queued on a busy
        vCenter: reading the switch before it ends would report "not applied" too early.
        """
        vmodl = _vmodl()

        PC = vmodl.query.PropertyCollector
        recent = list(self._content.taskManager.recentTask or ())
        if not recent:
            return
        spec = PC.FilterSpec(
            objectSet=[PC.ObjectSpec(obj=t, skip=False) for t in recent[-50:]],
            propSet=[PC.PropertySpec(type=type(recent[0]), pathSet=["info.entity", "info.state"])],
        )
        deadline = time.monotonic() + TASK_TIMEOUT
        delay = 0.1
        while True:
            result = self._content.propertyCollector.RetrievePropertiesEx([spec], PC.RetrieveOptions())
            busy = False
            for oc in (result.objects if result is not None else None) or ():
                props = {p.name: p.val for p in oc.propSet or ()}
                entity = props.get("info.entity")
                if getattr(entity, "_moId", None) == switch.moid and props.get("info.state") in ("queued", "running"):
                    busy = True
            if not busy or time.monotonic() > deadline or self._closing:
                return
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    @staticmethod
    def _check_rules(inventory: Inventory, switch_key: str, changes: Sequence[SessionChange]) -> tuple[Problem, ...]:
        return check_or_refuse(inventory, switch_key, changes)

    def _send(self, current: Switch, spec: Any) -> Any:
        """``ReconfigureDvs_Task``; a fault raised at once (nothing changed) becomes a refusal.

        A refused TCP connection means the request never left: :class:`_NotSent`.
        """
        vmodl = _vmodl()
        try:
            return self._switch_ref(current).ReconfigureDvs_Task(spec)
        except vmodl.MethodFault as fault:
            raise self._refusal(fault, current) from None
        except ConnectionRefusedError:
            s = self.settings
            raise _NotSent(
                f"nothing is listening on {s.server}:{s.port} any more; the change to {current.name} was not sent",
                hint="Check that vCenter is running, then refresh (r) and send the change again.",
            ) from None

    def _refusal(self, fault: Any, switch: Switch) -> ChangeRefused:
        """A vCenter fault as ChangeRefused, or StaleSwitch (with the switch re-read) for ConcurrentAccess."""
        vim = _vim()
        if isinstance(fault, (vim.fault.NotAuthenticated, vim.fault.InvalidLogin)):
            raise fault
        if isinstance(fault, vim.fault.ConcurrentAccess):
            fresh = self._read_switch(switch)
            return StaleSwitch(
                f"{fresh.name} changed while the change was being sent (ConcurrentAccess); nothing was applied",
                [Problem("ConcurrentAccess", "Someone else changed the switch at the same moment; review and retry.")],
                fresh,
                sent=True,
            )
        problems = [_problem_from_fault(fault, self._host_names)]
        return ChangeRefused(f"vCenter refused the change: {problems[0].message}", problems, sent=True)

    def _wait(self, task: Any, switch: Switch) -> None:
        """Wait for a vCenter task (polling is idempotent); raise its fault as a refusal."""
        delay = 0.05
        deadline = time.monotonic() + TASK_TIMEOUT
        while True:
            info = task.info
            if info.state == "success":
                return
            if info.state == "error":
                raise self._refusal(info.error, switch)
            if self._closing:
                raise ConnectionFailed("closed while waiting for vCenter to apply the change")
            if time.monotonic() > deadline:
                raise ChangeRefused(
                    f"vCenter did not finish the change within {TASK_TIMEOUT:g} s",
                    [Problem("Timeout", "The task is still running; check the switch in vCenter before retrying.")],
                    sent=True,
                )
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


# -- helpers ------------------------------------------------------------------------------


def _is_address(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _filter_spec(view: Any, paths: dict[Any, list[str]]) -> Any:
    vmodl = _vmodl()

    PC = vmodl.query.PropertyCollector
    traverse = PC.TraversalSpec(name="view", type=type(view), path="view", skip=False)
    return PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
        propSet=[PC.PropertySpec(type=t, all=False, pathSet=list(p)) for t, p in paths.items()],
    )
