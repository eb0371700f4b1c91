"""The vCenter backend: pyVmomi for the session and small calls, a streaming parser for bulk.

Importing this module is cheap: pyVmomi is imported when :meth:`VsphereBackend.connect` runs.
No pyVmomi object leaves the backend; everything is converted to :mod:`tui.model` objects.
This module holds the backend's connect, load and apply; its helpers each hold one idea:
:mod:`._tls` (trust and pinning, connections close() can cut), :mod:`._convert` (vim objects ↔
model), :mod:`._faults` (failures in the operator's terms), :mod:`._recovery` (what a re-read switch says
about a change sent), :mod:`._versions` (API version negotiation), :mod:`._load` (what a load asks the
PropertyCollector for, page by page), :mod:`._tasks` (a reconfigure task sent and waited for), and
:mod:`._soap` with :mod:`._parse` (the streaming reader for bulk replies).

How a load goes (DESIGN.md §9, performance.md §8, issue 12):

1. one container view over datacenters, folders, switches, portgroups, hosts and VMs;
2. one ``RetrievePropertiesEx`` (pyVmomi, paged) for the switches, portgroups and hosts with a
   minimal ``pathSet`` → a partial inventory is reported at once so the tree can appear;
3. the port map, without the device lists: the VMs' name, host and power state
   (``RetrievePropertiesEx`` + ``ContinueRetrievePropertiesEx``, ``maxObjects`` 1000, parsed as a
   stream by :mod:`._soap`, the next page read ahead on another connection while one is parsed)
   while one ``FetchDVPorts`` per switch (criteria unset: explicit false flags are ambiguous,
   peers.md §2.0) is read on connections of its own (at most :data:`PORT_FETCHERS`). A port's
   connectee names its VM and NIC key, its runtime state the MAC: the port map is reported as a
   partial inventory with ``details`` False (tree, port table and search work; no NIC labels,
   NICs on no distributed port or guest IPs yet);
4. the VMs' ``config.hardware.device`` and ``guest.net`` (the same paging): the complete
   inventory, whose rows are those of a one-pass load.

So the number of SOAP calls grows only with pages of 1000 VMs: 3 to log in (service versions,
``RetrieveServiceContent``, ``Login``), then ``4 + 2 × ceil(VMs / 1000) + switches`` per load
(``QueryOptions`` for vCenter's name, the view, the tree, the two passes over the VMs, the ports,
``DestroyView``): 26 at 10,000 VMs on 2 switches. Changes go through pyVmomi: read ``configVersion``, one
``ReconfigureDvs_Task``, wait, re-read (vspan.md §5).

Saving a live inventory for offline use (``dvmirror snapshot save``) is ``snapshot.save_inventory(load())``.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from tui.backends import (
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
from tui.backends._convert import _config_spec, _support, _vim, _vmodl
from tui.backends._faults import _dropped, mapped_errors
from tui.backends._load import (
    VM_DETAIL_PATHS,
    VM_MAP_PATHS,
    VM_PATHS,
    filter_spec,
    find_datacenter,
    port_map_vms,
    read_ports,
    read_switch,
    read_tree,
    read_vm_pages,
    read_vms,
    vcenter_name,
    with_details,
)
from tui.backends._load import NoSuchDatacenter as NoSuchDatacenter
from tui.backends._recovery import _not_applied, applied_result, judge
from tui.backends._tasks import TASK_TIMEOUT as TASK_TIMEOUT
from tui.backends._tasks import NotSent as _NotSent
from tui.backends._tasks import refusal, send, settle, wait
from tui.backends._tls import _Connections, _pinned_connection_class, ssl_context
from tui.config import Settings, read_only_hint
from tui.inventory_update import LiveState
from tui.model import Host, Inventory, Portgroup, PortStatistics, Problem, SessionChange, Severity, Switch, Vm
from tui.monitor import MonitorPlan, MonitorRequest, MonitorResult, RestoreRecord

if TYPE_CHECKING:
    from tui.backends._soap import Cancel
    from tui.history import SessionHistoryEntry
    from tui.warm import InventoryCache, SessionCache

T = TypeVar("T")
log = logging.getLogger("dvmirror.warm")

PAGE_SIZE = 1000
"""``maxObjects`` per page (performance.md §4: 500-1000 is the sweet spot)."""
PORT_FETCHERS = 3
"""Connections (threads) reading switches' ports at once during a load, besides the VM pages'."""
_VM_PATHS = VM_PATHS
"""The VM properties a load reads (:data:`._load.VM_PATHS`), under the name this module gave them."""


def _same_user(session_user: str, user: str) -> bool:
    """Whether vCenter's ``currentSession.userName`` is the user dvmirror logs in as: vCenter
    writes ``VSPHERE.LOCAL\\Administrator`` for ``administrator@vsphere.local``."""

    def norm(name: str) -> tuple[str, str]:
        domain, sep, rest = name.partition("\\")
        if sep:
            return rest.lower(), domain.lower()
        rest, _, domain = name.partition("@")
        return rest.lower(), domain.lower()

    (a, ad), (b, bd) = norm(session_user), norm(user)
    return a == b and (ad == bd or not ad or not bd)


# -- the backend --------------------------------------------------------------------------


class VsphereBackend:
    """A live vCenter, through pyVmomi. Thread-safe: one call at a time."""

    def __init__(
        self,
        settings: Settings,
        *,
        page_size: int = PAGE_SIZE,
        timeout: float | None = None,
        session_cache: SessionCache | None = None,
        inventory_cache: InventoryCache | None = None,
        ask_password: Callable[[], str] | None = None,
    ) -> None:
        self.settings = settings
        self.session_cache = session_cache
        """Where the session is kept between runs (the CLI's; None: log in, and out on close)."""
        self.inventory_cache = inventory_cache
        """Where the CLI keeps the last inventory (:func:`tui.cli.load_or_cached`); None: not kept."""
        self.ask_password = ask_password
        """Asked for the password when a login needs one and none is set (after a saved session failed)."""
        self.reused_session = False
        """True when the session of a previous run was verified and used instead of a login."""
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
        self._load_counters: dict[tuple[str, str], PortStatistics] | None = None
        """Set by :meth:`load_with_counters` while it loads: the counters read with the ports."""
        self._load_counters_missing = ""
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
        saved = self.session_cache.load(s) if self.session_cache is not None else None
        if saved is not None and saved.api in VmomiSupport.versionIdMap:
            try:
                if self._resume(ctx, thumbprint, saved.api, saved.session):
                    return
            except vim.fault.NotAuthenticated:  # what vcsim says of a session id it never gave out
                log.debug("saved session of %s@%s not used: vCenter no longer has it (NotAuthenticated)", s.user, s.url)
            except _vmodl().MethodFault as e:  # e.g. ManagedObjectNotFound: another server now answers there
                log.debug("saved session of %s not used: %s", s.url, type(e).__name__)
            self._drop_stub()
        version = self._negotiate_version(ctx, thumbprint)
        stub, si, content = self._stub_for(ctx, thumbprint, version)
        self._login(content)
        self._connected(si, content, stub, version)

    def _stub_for(self, ctx: ssl.SSLContext | None, thumbprint: str, version: str) -> tuple[Any, Any, Any]:
        """A pyVmomi stub speaking ``version`` (trust and pinning as the settings say), its
        ServiceInstance and its ServiceContent (one ``RetrieveServiceContent``)."""
        vim = _vim()
        from pyVmomi import SoapStubAdapter

        s = self.settings
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
        self._stub = stub  # close() can drop its connections from here on
        si = vim.ServiceInstance("ServiceInstance", stub)
        content: Any = si.RetrieveContent()
        return stub, si, content

    def _resume(self, ctx: ssl.SSLContext | None, thumbprint: str, version: str, session: str) -> bool:
        """Use the session a previous run saved, if vCenter still has it for this user.

        Two calls instead of three: ``RetrieveServiceContent`` and ``currentSession`` (unset when
        the session is not valid, as govc's session cache checks it), no version negotiation and no
        ``Login``. False (and the file forgotten) when the session is stale."""
        s = self.settings
        stub, si, content = self._stub_for(ctx, thumbprint, version)
        stub.SetSessionId(session)
        current = content.sessionManager.currentSession
        user = getattr(current, "userName", None) if current is not None else None
        if not isinstance(user, str) or not _same_user(user, s.user):
            why = "vCenter no longer has it (expired or ended)" if current is None else "it is another user's"
            log.debug("saved session of %s@%s not used: %s; logging in", s.user, s.url, why)
            if self.session_cache is not None:
                self.session_cache.forget(s)
            return False
        log.debug("reusing the saved session of %s@%s", s.user, s.url)
        self.reused_session = True
        self._connected(si, content, stub, version)
        return True

    def _drop_stub(self) -> None:
        stub, self._stub = self._stub, None
        if stub is not None:
            with contextlib.suppress(Exception):
                stub.DropConnections()

    def _password(self) -> str:
        """The password to log in with: the settings', else asked for (once) if a prompt is set."""
        s = self.settings
        if not s.password and self.ask_password is not None:
            self.settings = s = s.with_password(self.ask_password())
        return s.password

    def _login(self, content: Any) -> None:
        vim = _vim()
        s = self.settings
        try:
            content.sessionManager.Login(s.user, self._password(), None)
        except vim.fault.InvalidLogin:
            s = self.settings
            where = f"from {s.source('password')}" if s.password else "none was given"
            raise LoginFailed(
                f"vCenter {s.server} refused the user name or password for {s.user}",
                hint=f"Check the user (e.g. administrator@vsphere.local) and the password ({where}).",
            ) from None

    def _connected(self, si: Any, content: Any, stub: Any, version: str) -> None:
        VmomiSupport = _support()
        from tui.backends._soap import RawSoap

        self._si, self._content, self._stub = si, content, stub
        self._raw = RawSoap(stub, self.stats)
        self.api_version = VmomiSupport.versionIdMap.get(version, version)
        self._save_session()

    def _save_session(self) -> None:
        """Keep the session for the next run (only with a session cache: the CLI's)."""
        if self.session_cache is not None and self._stub is not None:
            session = self._stub.GetSessionId()
            if isinstance(session, str) and session:
                self.session_cache.save(self.settings, session, self._stub.version)

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
            self._content.sessionManager.Login(s.user, self._password(), None)
        except vim.fault.InvalidLogin:
            if self.session_cache is not None:
                self.session_cache.forget(s)
            raise SessionExpired(
                f"the vCenter session expired and logging in again as {s.user} was refused",
                hint="Connect again with the current password.",
            ) from None
        self._save_session()

    def close(self) -> None:
        """Log out (not with a session cache: the CLI keeps its session, see :meth:`_logout`) and
        drop connections, quietly.

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
        """Log out, unless the session is kept for the next run (a session cache): then only
        the connections are dropped, and the session stays valid until vCenter expires it."""
        si, self._si = self._si, None
        self._closing = False
        if si is None:
            return
        if self.session_cache is None:
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

        from tui.backends._parse import NotAuthenticatedError

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
        from tui.gcpause import gc_paused

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

            def build(vms: list[Any], ports: list[Any] | None, details: bool = True) -> Inventory:
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
                    details=details and ports is not None,
                )

            report(LoadProgress(f"{len(switches)} switches, {len(portgroups)} portgroups", partial=build([], None)))
            # The port map first: the VMs' names and hosts (small pages) here while every switch's
            # ports are read on connections of their own; the device lists and guest IPs after it.
            from tui.backends._soap import Cancel

            cancel = Cancel()
            ahead = ThreadPoolExecutor(1, thread_name_prefix="dvmirror-page")
            fetchers = ThreadPoolExecutor(
                min(PORT_FETCHERS, max(1, len(switches))), thread_name_prefix="dvmirror-ports"
            )
            try:
                port_reads = [fetchers.submit(self._read_ports, sw, cancel) for sw in switches]
                vms = self._read_vm_pages(view, VM_MAP_PATHS, ahead, cancel, "Reading VMs", report)
                ports = []
                for i, (sw, read) in enumerate(zip(switches, port_reads, strict=True)):
                    report(LoadProgress(f"Reading ports of {sw.name}", done=i, total=len(switches)))
                    ports.extend(read.result())
                mapped = port_map_vms(vms, ports)
                report(LoadProgress(f"{len(ports)} ports; reading NICs and IPs", partial=build(mapped, ports, False)))
                details = self._read_vm_pages(view, VM_DETAIL_PATHS, ahead, cancel, "Reading NICs and IPs", report)
            except BaseException:
                cancel()
                raise
            finally:
                ahead.shutdown(wait=True, cancel_futures=True)
                fetchers.shutdown(wait=True, cancel_futures=True)
            report(LoadProgress(f"{len(vms)} VMs, {len(ports)} ports", done=len(switches), total=len(switches)))
            return build(with_details(vms, details), ports)
        finally:
            with contextlib.suppress(Exception):
                view.DestroyView()

    def follow(
        self,
        inventory: Inventory,
        on_update: Callable[[LiveState], None],
        stop: threading.Event,
        *,
        resync: bool = False,
    ) -> None:
        """Follow changes after ``inventory`` was loaded until ``stop`` is set (blocking; run it in a
        thread); ``resync``: read the inventory again once the channel is set up (it may be old).

        Each update read is a new inventory in a :class:`~tui.inventory_update.LiveState` passed to
        ``on_update`` (from this thread); so are the channel's states (:mod:`._updates`). ``stop`` is
        noticed within :data:`._updates.MAX_WAIT` seconds.
        """
        from tui.backends._updates import Follower

        Follower(self, inventory, on_update, stop, resync=resync).run()

    def _vcenter(self) -> str:
        """vCenter's own name (``VirtualCenter.FQDN`` / ``InstanceName``), else the server we dialled."""
        if not self._vcenter_name:
            self._vcenter_name = vcenter_name(self._content, self.settings.server)
        return self._vcenter_name

    def _find_datacenter(self, name: str) -> Any:
        return find_datacenter(self._content, name, self.page_size)

    def _read_tree(self, view: Any, root: Any) -> tuple[list[Switch], list[Portgroup], list[Host]]:
        """Phase 1: datacenters, switches, portgroups and hosts (:func:`._load.read_tree`)."""
        tree = read_tree(
            self._content.propertyCollector, self._stub.version, view, root, self.settings.datacenter, self.page_size
        )
        self._dc_names = tree.datacenters
        self._host_names = {h.key: h.name for h in tree.hosts}
        self._tree_warnings = tree.warnings
        self._switch_refs.update(tree.switch_refs)
        return tree.switches, tree.portgroups, tree.hosts

    def _read_vms(self, view: Any, report: ProgressCallback) -> list[Vm]:
        """VMs with everything a load reads of them (:data:`._load.VM_PATHS`) in one pass, streamed page by page."""
        return read_vms(self._raw, self._content.propertyCollector, view, self.page_size, report)

    def _read_vm_pages(
        self, view: Any, paths: list[str], ahead: Executor, cancel: Cancel, doing: str, report: ProgressCallback
    ) -> list[Vm]:
        """The VMs of ``view`` with ``paths``, page by page, the next page read ahead (:func:`._load.read_vm_pages`)."""
        vim = _vim()

        spec = filter_spec(view, {vim.VirtualMachine: paths})
        vms = read_vm_pages(
            self._raw,
            self._content.propertyCollector,
            spec,
            self.page_size,
            ahead,
            cancel,
            lambda n: report(LoadProgress(f"{doing}: {n}", done=n)),
        )
        vms.sort(key=lambda v: v.name.lower())
        return vms

    def _read_ports(self, switch: Switch, cancel: Cancel | None = None) -> list[Any]:
        """Phase 3: every port of one switch (``FetchDVPorts`` without criteria), streamed.

        During :meth:`load_with_counters` the switch's port states are refreshed first
        (``RefreshDVPortState`` with ``portKeys`` unset: "If not specified, all port states are
        refreshed", API reference; optional in pyVmomi's type table) and the same reply's
        ``state.stats`` are kept."""
        dvs = self._switch_ref(switch)
        if self._load_counters is None:
            return read_ports(self._raw, dvs, switch.key, cancel)
        from tui.backends._load import read_ports_and_counters

        vmodl = _vmodl()
        start = time.time()
        try:
            dvs.RefreshDVPortState()
        except vmodl.fault.MethodNotFound:  # govmomi's stock vcsim: held counters would never move
            self._load_counters_missing = (
                "this server does not implement RefreshDVPortState, so port counters cannot be read fresh"
            )
            return read_ports(self._raw, dvs, switch.key, cancel)
        ports, counters = read_ports_and_counters(self._raw, dvs, switch.key, (start + time.time()) / 2, cancel)
        self._load_counters.update(((switch.key, k), v) for k, v in counters.items())
        return ports

    def load_with_counters(
        self, progress: ProgressCallback | None = None
    ) -> tuple[Inventory, dict[tuple[str, str], PortStatistics], str]:
        """:meth:`load`, with every port's counters as vCenter has them now (for ``snapshot save``).

        Per switch one request more than a load (``RefreshDVPortState``, all ports); the counters
        come from the load's own ``FetchDVPorts``. Returns the inventory, (switch key, port key) →
        counters, and why there are none ("" when there are)."""
        self._load_counters, self._load_counters_missing = {}, ""
        try:
            inv = self.load(progress)
            counters, missing = self._load_counters, self._load_counters_missing
        finally:
            self._load_counters = None
        return inv, ({} if missing else counters), missing

    def _switch_ref(self, switch: Switch) -> Any:
        vim = _vim()

        ref = self._switch_refs.get(switch.key)
        if ref is None:
            ref = vim.VmwareDistributedVirtualSwitch(switch.moid, self._stub)
            self._switch_refs[switch.key] = ref
        return ref

    def _read_switch(self, switch: Switch) -> Switch:
        return read_switch(self._content.propertyCollector, self._switch_ref(switch), switch)

    # -- port statistics ----------------------------------------------------------------

    def port_statistics(self, switch_key: str, port_keys: Sequence[str]) -> dict[str, PortStatistics]:
        """``RefreshDVPortState`` + ``FetchDVPorts`` by key for these ports only (:mod:`._stats`).

        The switch must have been seen by a load (its key is its UUID); an unknown one gives ``{}``.
        """
        from tui.backends._stats import read_port_statistics

        keys = list(port_keys)
        if not keys:
            return {}
        with self._lock:
            dvs = self._switch_refs.get(switch_key)
        if dvs is None:
            return {}
        return self._session("reading port counters", lambda: read_port_statistics(dvs, keys))

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
        """Wait for tasks on ``switch`` that vCenter has queued or is running (:func:`._tasks.settle`)."""
        settle(self._content, switch, lambda: self._closing)

    @staticmethod
    def _check_rules(inventory: Inventory, switch_key: str, changes: Sequence[SessionChange]) -> tuple[Problem, ...]:
        return check_or_refuse(inventory, switch_key, changes)

    def _send(self, current: Switch, spec: Any) -> Any:
        """``ReconfigureDvs_Task`` (:func:`._tasks.send`): a refused connection is :class:`_NotSent`."""
        return send(self._switch_ref(current), spec, current, self.settings, lambda f: self._refusal(f, current))

    def _refusal(self, fault: Any, switch: Switch) -> ChangeRefused:
        """A vCenter fault as ChangeRefused, or StaleSwitch (with the switch re-read) for ConcurrentAccess."""
        return refusal(fault, switch, self._read_switch, self._host_names)

    def _wait(self, task: Any, switch: Switch) -> None:
        """Wait for a vCenter task (polling is idempotent); raise its fault as a refusal."""
        wait(task, lambda f: self._refusal(f, switch), lambda: self._closing)

    # -- history ------------------------------------------------------------------------

    def session_history(self, switch: Switch, since: datetime | None) -> list[SessionHistoryEntry]:
        """The switch's session changes from vCenter's ``DvsReconfiguredEvent`` events (:mod:`._events`),
        with dvmirror's audit entries of this vCenter and switch matched (:func:`tui.history.entries`)."""
        from tui import audit, history
        from tui.backends._events import read_changes

        changes = self._session(
            f"reading the events of {switch.name}",
            lambda: read_changes(self._content, self._switch_ref(switch), since, lambda: self._closing),
        )
        return history.entries(
            switch.name,
            changes,
            current=switch.sessions,
            audit=audit.AuditLog().entries(),
            vcenter=self._vcenter(),
            since=since,
        )

    # -- monitor port (tui.monitor; helper tui.backends._monitor) --------------------------------

    def monitor_plan(self, inventory: Inventory, request: MonitorRequest) -> MonitorPlan:
        """:func:`tui.monitor.plan` with what vCenter says now: the VM's ``changeVersion`` and NIC devices,
        and the uplink teaming of the portgroup the new one copies (nothing is changed)."""
        from tui import monitor
        from tui.backends._monitor import read_facts

        draft = monitor.plan(inventory, request)
        if draft.vm is None or draft.nic is None or draft.nothing_to_do:
            return draft
        vm_key, template = draft.vm.key, draft.template.key if draft.template else ""
        facts = self._session(
            f"reading {draft.vm.name}",
            lambda: read_facts(self._content.propertyCollector, self._stub, vm_key, template),
        )
        return monitor.plan(inventory, request, facts)

    def monitor_apply(self, inventory: Inventory, plan: MonitorPlan) -> MonitorResult:
        """Create the mirror portgroup if the plan says so (read back), then move the NIC with
        ``ReconfigVM_Task`` and the plan's ``changeVersion``; the NIC's port read back. A refusal or a
        failure says what the server shows afterwards (:func:`tui.backends._monitor`)."""
        from tui.backends._monitor import nic_backing, read_vm, run_task, to_vim, vm_ref

        if self.read_only:
            raise ReadOnlyError(
                "read-only mode: nothing was sent to vCenter", hint=read_only_hint(self.settings.source("read_only"))
            )
        vm, nic, switch, spec_vm = plan.vm, plan.nic, plan.switch, plan.reconfig_spec
        if plan.errors or vm is None or nic is None or switch is None or spec_vm is None:
            raise ChangeRefused("the plan has problems; nothing was sent", plan.errors, sent=False)
        pc = self._content.propertyCollector
        ref = vm_ref(self._stub, vm.key)
        doing = f"preparing {vm.name} / {nic.label}"
        version, _devices = self._session(doing, lambda: read_vm(pc, ref))
        if spec_vm.get("changeVersion", version) != version:
            raise ChangeRefused(
                f"{vm.name} changed since the plan was made; nothing was sent",
                [Problem("ConcurrentAccess", "The VM's changeVersion differs from the one reviewed: plan again.")],
                sent=False,
            )
        created_key = ""
        if plan.create_spec is not None:
            created_key = self._monitor_create(switch, plan.create_spec, plan.request.vlan)
        pg_key = created_key or (plan.portgroup.key if plan.portgroup else "")
        spec = copy.deepcopy(spec_vm)
        spec["deviceChange"][0]["device"]["backing"]["port"]["portgroupKey"] = pg_key
        made = f"the portgroup {plan.request.portgroup} ({created_key}) was created; " if created_key else ""
        try:
            self._session(
                doing,
                lambda: run_task(
                    lambda: ref.ReconfigVM_Task(to_vim(spec, self._stub)),
                    f"moving {nic.label}",
                    self._host_names,
                    lambda: self._closing,
                ),
                idempotent=False,
            )
        except ChangeRefused as e:
            e.message = made + e.message
            e.args = (e.message,)
            raise
        except ConnectionFailed as e:
            where = self._monitor_where(ref, nic.key)
            raise ConnectionFailed(
                f"{made}{e.message}; "
                + (f"the adapter is now on {where}" if where else "where the adapter is now could not be read"),
                hint="Refresh (r) and look at the VM's adapter before trying again.",
            ) from None
        backing = self._session(doing, lambda: nic_backing(pc, ref, nic.key))
        port = backing[2] if backing and backing[1] == pg_key else ""
        if backing is None or backing[1] != pg_key:
            raise ChangeRefused(
                f"{made}vCenter accepted the reconfigure of {vm.name}, but its adapter {nic.label} read back "
                f"afterwards is not on that portgroup",
                [Problem("NotApplied", "The adapter is not where the change put it: look at the VM in vCenter.")],
                sent=True,
            )
        if not port:
            port = self._monitor_port_of(switch, pg_key, vm.key, nic.key)
        return MonitorResult(
            vm=vm.name,
            nic=nic.label,
            portgroup=plan.portgroup_name,
            portgroup_key=pg_key,
            port=port,
            created=bool(created_key),
        )

    def _monitor_create(self, switch: Switch, create_spec: dict[str, Any], vlan: int) -> str:
        from tui.backends._monitor import portgroup_config, portgroup_ref, run_task, to_vim

        dvs = self._switch_ref(switch)
        name = str(create_spec.get("name", ""))
        doing = f"creating {name} on {switch.name}"
        result = self._session(
            doing,
            lambda: run_task(
                lambda: dvs.CreateDVPortgroup_Task(to_vim(create_spec, self._stub)),
                f"creating {name}",
                self._host_names,
                lambda: self._closing,
            ),
            idempotent=False,
        )
        key = str(getattr(result, "_moId", "") or "")
        if not key:  # the task's result is not the portgroup: find it by name
            key = self._monitor_find_portgroup(switch, name)
        got = self._session(
            doing, lambda: portgroup_config(self._content.propertyCollector, portgroup_ref(self._stub, key))
        )
        if got["vlan"] != vlan or got["name"] != name:
            raise ChangeRefused(
                f"vCenter created a portgroup ({key}), but it reads back as {got['name']} on VLAN {got['vlan']}, "
                f"not {name} on VLAN {vlan}; the adapter was not moved",
                [Problem("NotApplied", "Look at the new portgroup in vCenter before trying again.")],
                sent=True,
            )
        return key

    def _monitor_find_portgroup(self, switch: Switch, name: str) -> str:
        from tui.backends._monitor import _props

        dvs = self._switch_ref(switch)
        pc = self._content.propertyCollector

        def find() -> str:
            for pg in _props(pc, dvs, ["portgroup"]).get("portgroup") or ():
                if _props(pc, pg, ["name"]).get("name") == name:
                    return str(pg._moId)
            return ""

        key = self._session("reading portgroups", find)
        if key:
            return key
        raise ChangeRefused(
            f"vCenter's task to create {name} succeeded, but {switch.name} has no portgroup of that name",
            [Problem("NotApplied", "Refresh (r) and look at the switch's portgroups.")],
            sent=True,
        )

    def _monitor_where(self, ref: Any, nic_key: int) -> str:
        from tui.backends._monitor import nic_backing

        try:
            with self._lock, contextlib.suppress(Exception):
                self._stub.DropConnections()
            got = self._session(
                "reading the VM again", lambda: nic_backing(self._content.propertyCollector, ref, nic_key)
            )
        except BackendError:
            return ""
        return f"portgroup {got[1]}, port {got[2] or '(none yet)'}" if got else "no distributed port"

    def _monitor_port_of(self, switch: Switch, pg_key: str, vm_key: str, nic_key: int) -> str:
        vim = _vim()
        dvs = self._switch_ref(switch)

        def fetch() -> str:
            criteria = vim.dvs.PortCriteria(portgroupKey=[pg_key], inside=True, connected=True)
            for p in dvs.FetchDVPorts(criteria) or ():
                c = p.connectee
                if (
                    c is not None
                    and getattr(c.connectedEntity, "_moId", "") == vm_key
                    and str(c.nicKey) == str(nic_key)
                ):
                    return str(p.key)
            return ""

        return self._session("reading the new port", fetch)

    def monitor_restore(
        self, inventory: Inventory, record: RestoreRecord, *, remove_portgroup: bool = False, dry_run: bool = False
    ) -> tuple[dict[str, Any] | None, Problem, MonitorResult | None]:
        """Put the NIC of ``record`` back (``ReconfigVM_Task`` with the VM's ``changeVersion``); with
        ``remove_portgroup``, remove the portgroup dvmirror created if no port of it is connected
        (``Destroy_Task``). Returns the spec, a note, and what was done (None on a dry run or nothing to do)."""
        from tui import monitor
        from tui.backends._monitor import (
            connected_ports,
            nic_backing,
            portgroup_ref,
            read_facts,
            run_task,
            to_vim,
            vm_ref,
        )

        facts = self._session(
            f"reading {record.vm_name}",
            lambda: read_facts(self._content.propertyCollector, self._stub, record.vm_key, ""),
        )
        spec, note = monitor.restore_spec(inventory, record, facts)
        if spec is None or dry_run:
            return spec, note, None
        if self.read_only:
            raise ReadOnlyError(
                "read-only mode: nothing was sent to vCenter", hint=read_only_hint(self.settings.source("read_only"))
            )
        ref = vm_ref(self._stub, record.vm_key)
        doing = f"restoring {record.vm_name} / {record.nic_label}"
        self._session(
            doing,
            lambda: run_task(
                lambda: ref.ReconfigVM_Task(to_vim(spec, self._stub)),
                f"moving {record.nic_label} back",
                self._host_names,
                lambda: self._closing,
            ),
            idempotent=False,
        )
        backing = self._session(doing, lambda: nic_backing(self._content.propertyCollector, ref, record.nic_key))
        if backing is None or backing[1] != record.portgroup:
            raise ChangeRefused(
                f"vCenter accepted the reconfigure of {record.vm_name}, but {record.nic_label} read back is not on "
                "its old portgroup",
                [Problem("NotApplied", "Look at the VM's adapter in vCenter.")],
                sent=True,
            )
        port = backing[2]
        pg = inventory.portgroups.get(record.portgroup)
        removed = False
        warnings: list[Problem] = []
        switch = inventory.switches.get(record.switch)
        created = inventory.portgroups.get(record.to_portgroup)
        if remove_portgroup and record.created_portgroup and switch is not None and created is not None:
            dvs = self._switch_ref(switch)
            busy = self._session("reading the mirror portgroup", lambda: connected_ports(dvs, record.to_portgroup))
            if busy:
                warnings.append(monitor.kept_in_use(created.name, busy))
            else:
                pg_ref = portgroup_ref(self._stub, record.to_portgroup)
                try:
                    self._session(
                        f"removing {created.name}",
                        lambda: run_task(
                            pg_ref.Destroy_Task, f"removing {created.name}", self._host_names, lambda: self._closing
                        ),
                        idempotent=False,
                    )
                    removed = True
                except BackendError as e:  # the adapter is back all the same: say both
                    warnings.append(
                        Problem(
                            "PortgroupNotRemoved",
                            f"{record.nic_label} is back on its portgroup, but removing {created.name} failed: "
                            f"{e.message}. Remove it in vCenter once nothing uses it.",
                            severity=Severity.WARNING,
                        )
                    )
        return (
            spec,
            note,
            MonitorResult(
                vm=record.vm_name,
                nic=record.nic_label,
                portgroup=pg.name if pg else record.portgroup,
                portgroup_key=record.portgroup,
                port=port,
                removed=removed,
                warnings=tuple(warnings),
            ),
        )
