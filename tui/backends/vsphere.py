"""The vCenter backend: pyVmomi for the session and small calls, a streaming parser for bulk.

Importing this module is cheap: pyVmomi is imported when :meth:`VsphereBackend.connect` runs.
No pyVmomi object leaves this module; everything is converted to :mod:`tui.model` objects.

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
import hashlib
import os
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields, replace
from typing import Any, TypeVar

from tui.backends import (
    EXIT_USAGE,
    ApplyResult,
    BackendError,
    CertificateError,
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
from tui.config import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from tui.config import ConfigError, Settings, read_known_hosts, read_only_hint
from tui.model import (
    Binding,
    ChangeOperation,
    Host,
    Inventory,
    MirrorSession,
    Portgroup,
    Problem,
    SessionChange,
    SessionType,
    Severity,
    Switch,
    SwitchCapability,
    Vlan,
    VspanPorts,
)

T = TypeVar("T")

PAGE_SIZE = 1000
"""``maxObjects`` per page (performance.md §4: 500-1000 is the sweet spot)."""
TASK_TIMEOUT = 300.0
CLOSE_TIMEOUT = 1.0
"""Seconds a log-out may take when close() cut a running call (quitting never waits longer)."""
MAX_CA_FILE = 10 * 1024 * 1024

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


def _dropped() -> tuple[type[BaseException], ...]:
    """What a dropped or stale connection raises (``ConnectionRefusedError`` is a ``ConnectionError``)."""
    import http.client
    from xml.etree.ElementTree import ParseError

    return (ConnectionError, http.client.HTTPException, ParseError, EOFError)


class _NotSent(ConnectionFailed):
    """The connection for a change was refused: the request never left dvmirror."""


# OpenSSL's X509_V_ERR_* codes (``SSLCertVerificationError.verify_code``).
_UNTRUSTED_CHAIN = frozenset({2, 18, 19, 20, 21})
"""Unable to get the issuer (locally), self-signed (in the chain), unable to verify the leaf."""
_NOT_YET_VALID, _EXPIRED, _HOSTNAME_MISMATCH = 9, 10, 62


def _read_ca_file(path: str) -> str:
    """The PEM text of a CA file, checked: a regular, readable file holding at least one certificate."""
    import stat

    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise CertificateError(f"CA file {path} does not exist") from None
    except OSError as e:
        raise CertificateError(f"cannot read CA file {path}: {e.strerror or e}") from None
    if not stat.S_ISREG(info.st_mode):
        raise CertificateError(f"CA file {path} is not a regular file")
    if info.st_size > MAX_CA_FILE:
        raise CertificateError(f"CA file {path} is too large for a PEM certificate file ({info.st_size} bytes)")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CA_FILE + 1)
    except OSError as e:
        raise CertificateError(f"cannot read CA file {path}: {e.strerror or e}") from None
    text = data.decode("ascii", errors="replace")
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise CertificateError(
            f"CA file {path} is not a PEM certificate file (no -----BEGIN CERTIFICATE----- block)",
            hint="Give the CA certificate in PEM form (text starting with -----BEGIN CERTIFICATE-----); "
            "convert a DER file with: openssl x509 -inform der -in FILE -out ca.pem",
        )
    try:
        ssl.create_default_context(cadata=text)
    except (ssl.SSLError, ValueError) as e:
        raise CertificateError(
            f"CA file {path} holds a damaged PEM certificate ({getattr(e, 'reason', None) or e})"
        ) from None
    return text


class NoSuchDatacenter(BackendError):
    """``--datacenter`` names a datacenter that does not exist."""

    exit_code = EXIT_USAGE
    title = "Unknown datacenter"


# -- TLS ----------------------------------------------------------------------------------


def server_thumbprint(host: str, port: int, timeout: float = 10.0) -> str:
    """The SHA-1 thumbprint (``AB:CD:...``) of the certificate ``host:port`` presents, or ''."""
    try:
        pem = ssl.get_server_certificate((host, port), timeout=timeout)
    except (OSError, ssl.SSLError, ValueError):
        return ""
    return _sha1(ssl.PEM_cert_to_DER_cert(pem))


def _sha1(der: bytes) -> str:
    digest = hashlib.sha1(der).hexdigest().upper()  # noqa: S324 - the thumbprint format vSphere uses
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def _sha256(der: bytes) -> str:
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


class ThumbprintMismatch(ssl.SSLError):
    """The server's certificate is not the pinned one."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"certificate thumbprint {actual} does not match the pinned {expected}")
        self.expected = expected
        self.actual = actual


def _pinned_connection_class(thumbprint: str) -> type:
    """An ``HTTPSConnection`` that accepts exactly the certificate with ``thumbprint``."""
    from http.client import HTTPSConnection

    want = thumbprint.upper()

    class PinnedHTTPSConnection(HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            sock: Any = self.sock
            der = sock.getpeercert(binary_form=True) or b""
            actual = _sha1(der) if len(want) == 59 else _sha256(der)
            if actual != want:
                self.close()
                raise ThumbprintMismatch(want, actual)

    return PinnedHTTPSConnection


class _Connections:
    """Every HTTP connection a backend opens, so that close() can cut one a call is blocked on.

    pyVmomi's ``DropConnections`` closes only idle pooled connections; a call waiting for a
    silent vCenter holds its connection outside the pool. Once ``closing`` is set, new
    connections get :data:`CLOSE_TIMEOUT`, so a last log-out cannot hang either.
    """

    def __init__(self) -> None:
        self._all: weakref.WeakSet[Any] = weakref.WeakSet()
        self._lock = threading.Lock()
        self.closing = False

    def add(self, conn: Any) -> Any:
        with self._lock:
            self._all.add(conn)
        return conn

    def factory(self, cls: Any) -> Callable[..., Any]:
        """A drop-in for pyVmomi's ``stub.scheme`` that records each connection."""

        def make(*args: Any, **kwargs: Any) -> Any:
            if self.closing:
                kwargs["timeout"] = min(float(kwargs.get("timeout") or CLOSE_TIMEOUT), CLOSE_TIMEOUT)
            return self.add(cls(*args, **kwargs))

        return make

    def cut(self) -> None:
        """Shut down every open connection's socket (a blocked read then fails at once)."""
        with self._lock:
            conns = list(self._all)
        for conn in conns:
            sock = getattr(conn, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


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
                with self._errors("connecting"):
                    self._connect()

    def _ssl_context(self) -> tuple[ssl.SSLContext, str]:
        """The TLS context and the pinned thumbprint ('' = verify with CAs)."""
        s = self.settings
        thumbprint = s.thumbprint
        if not thumbprint and s.known_hosts:
            try:
                thumbprint = read_known_hosts(s.known_hosts, s.host_port)
            except ConfigError as e:
                raise CertificateError(str(e)) from None
        if s.insecure or thumbprint:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx, ("" if s.insecure else thumbprint)
        ctx = ssl.create_default_context()
        for ca in filter(None, s.ca_file.split(os.pathsep)):
            ctx.load_verify_locations(cadata=_read_ca_file(ca))
        return ctx, ""

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
        ctx, thumbprint = self._ssl_context() if s.scheme == "https" else (None, "")
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
        logs out within :data:`CLOSE_TIMEOUT`, so quitting never waits for a load or a timeout.
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

    # -- error mapping ------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Turn socket, TLS, HTTP and vCenter failures into BackendErrors with plain messages."""
        import http.client
        from xml.etree.ElementTree import ParseError

        vim, vmodl = _vim(), _vmodl()

        from tui.backends._soap import NotAuthenticatedError

        s = self.settings
        where = f"{s.server}:{s.port}"
        try:
            yield
        except BackendError:
            raise
        except ThumbprintMismatch as e:
            raise CertificateError(
                f"the certificate of {where} is not the pinned one",
                hint=f"Pinned: {e.expected}\nServer: {e.actual}\n"
                "If the certificate was replaced on purpose, pin the new thumbprint with --thumbprint.",
            ) from None
        except ssl.SSLCertVerificationError as e:
            raise self._certificate_error(e) from None
        except (vim.fault.NotAuthenticated, NotAuthenticatedError):
            raise SessionExpired(f"the vCenter session ended while {doing}", hint="Connect again.") from None
        except vim.fault.InvalidLogin:
            raise LoginFailed(f"vCenter {s.server} refused the login for {s.user}") from None
        except vim.fault.NoPermission as e:
            priv = getattr(e, "privilegeId", "") or "a read privilege"
            raise BackendError(
                f"{s.user} may not read this (missing {priv}) while {doing}",
                hint="Ask the vCenter administrator for read access to the networking inventory.",
            ) from None
        except vmodl.MethodFault as e:
            raise BackendError(f"vCenter refused a request while {doing}: {_fault_name(e)}: {_fault_msg(e)}") from None
        except socket.gaierror:
            raise ConnectionFailed(
                f"cannot resolve the host name {s.server!r}", hint="Check the server name or use its address."
            ) from None
        except ConnectionRefusedError:
            raise ConnectionFailed(
                f"nothing is listening on {where}",
                hint="Check the server address and port, and that vCenter is running.",
            ) from None
        except TimeoutError:
            raise ConnectionFailed(
                f"{where} did not answer within {self.timeout:g} s while {doing}",
                hint="Check the network path (VPN, firewall) to vCenter.",
            ) from None
        except ssl.SSLError as e:
            raise ConnectionFailed(f"TLS with {where} failed: {e.reason or e}") from None
        except (ConnectionError, http.client.HTTPException, ParseError, EOFError):
            raise ConnectionFailed(
                f"the connection to {where} dropped while {doing}",
                hint="vCenter may have restarted or the network failed; try again (r).",
            ) from None
        except OSError as e:
            raise ConnectionFailed(f"cannot talk to {where} while {doing}: {e.strerror or e}") from None

    def _certificate_error(self, e: ssl.SSLCertVerificationError) -> CertificateError:
        """Why the certificate was refused, in the operator's terms, with the ways forward.

        With ``--ca-file`` an untrusted chain means the CA in that file did not sign vCenter's
        certificate (OpenSSL then says "self-signed certificate", which misleads).
        """
        s = self.settings
        actual = server_thumbprint(s.server, s.port, timeout=min(self.timeout, 10.0))
        shown = actual or "(could not be read)"
        reason = getattr(e, "verify_message", "") or str(e)
        code = getattr(e, "verify_code", 0)
        cas = [c for c in s.ca_file.split(os.pathsep) if c]
        ways = (
            "Three ways forward:\n"
            "  1. trust its CA: --ca-file FILE (or GOVC_TLS_CA_CERTS / DVMIRROR_CA_FILE);\n"
            f"  2. pin this certificate: --thumbprint {shown}\n"
            "     (compare it with the one vCenter shows first);\n"
            "  3. skip verification: --insecure (not recommended; shown on screen)."
        )
        if code in _UNTRUSTED_CHAIN and cas:
            files = " or ".join(cas)
            which = "the CA" if len(cas) == 1 else "any CA"
            return CertificateError(
                f"the TLS certificate of {s.server} is not signed by {which} in {files}",
                hint=f"OpenSSL says: {reason}.\n"
                f"Give the CA that issued vCenter's certificate (for VMCA: https://{s.server}/certs/download.zip), "
                f"or pin this certificate: --thumbprint {shown}\n(compare it with the one vCenter shows first).",
            )
        if code == _HOSTNAME_MISMATCH:
            return CertificateError(
                f"the TLS certificate of {s.server} is trusted but made out for another name ({reason})",
                hint="Connect with the name the certificate carries, or pin it: "
                f"--thumbprint {shown} (compare it with the one vCenter shows first).",
            )
        if code in (_EXPIRED, _NOT_YET_VALID):
            return CertificateError(f"the TLS certificate of {s.server} {reason}", hint=ways)
        return CertificateError(f"the TLS certificate of {s.server} is not trusted ({reason})", hint=ways)

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
            with self._errors(doing):
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
        return self._result(current, after, changes, warnings)

    def _result(
        self, current: Switch, after: Switch, changes: Sequence[SessionChange], warnings: Sequence[Problem]
    ) -> ApplyResult:
        """The ApplyResult of a change found applied: ``after`` and the keys of added sessions."""
        before_keys = {s.key for s in current.sessions}
        added = [s.key for s in after.sessions if s.key not in before_keys and s.key]
        keys: list[str] = []
        for change in changes:
            if change.operation is ChangeOperation.ADD:
                if added:
                    keys.append(str(added.pop(0)))
            elif change.session.key:
                keys.append(change.session.key)
        return ApplyResult(
            switch=after, keys=tuple(keys), warnings=tuple(w for w in warnings if w.severity is Severity.WARNING)
        )

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
            return self._judge(switch, current, after, changes, warnings, lost, done, look)
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

    def _judge(
        self,
        switch: Switch,
        current: Switch,
        after: Switch,
        changes: Sequence[SessionChange],
        warnings: Sequence[Problem],
        lost: str,
        done: bool,
        look: str,
    ) -> ApplyResult:
        """Compare the switch re-read after a lost connection with the change as sent."""
        name = switch.name
        moved = after.config_version != current.config_version
        if moved and _changes_found(current, after, changes):
            note = (
                f"{lost} after the change to {name} was sent; dvmirror reconnected and read {name} again: "
                "the change was applied."
            )
            result = self._result(current, after, changes, warnings)
            lost_warning = Problem("ConnectionLost", note, severity=Severity.WARNING)
            return replace(result, warnings=(lost_warning, *result.warnings), recovered=note)
        if not moved and not done:
            raise ChangeInterrupted(
                f"{lost} while the change to {name} was being sent; dvmirror reconnected and read {name} again: "
                f"the change was not applied (configVersion is still {after.config_version})",
                applied=False,
                switch=after,
                hint=f"Nothing changed on {name}; the change can be sent again.",
            )
        listing = "\n".join(
            f"  {s.key}  {s.name}  ({s.session_type or 'untyped'}, {'enabled' if s.enabled else 'disabled'})"
            for s in after.sessions
        )
        raise ChangeInterrupted(
            f"{lost} while the change to {name} was being sent; read again, {name} has configVersion "
            f"{after.config_version} (it was {current.config_version}) but does not hold the change as sent: "
            "dvmirror cannot tell whether it was applied",
            applied=None,
            switch=after,
            hint=f"{name} now has {len(after.sessions)} session(s):\n{listing or '  (none)'}\n{look}",
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


# -- pyVmomi, lazily and untyped (its stubs lack the VMware DVS types) --------------------


def _vim() -> Any:
    from pyVmomi import vim

    return vim


def _vmodl() -> Any:
    from pyVmomi import vmodl

    return vmodl


def _support() -> Any:
    from pyVmomi import VmomiSupport

    return VmomiSupport


# -- conversions --------------------------------------------------------------------------


def _version_tuple(text: str) -> tuple[int, ...]:
    """``"7.0"`` → ``(7, 0, 0, 0)``; ASCII digits only (``ValueError`` otherwise)."""
    from tui.backends._versions import version_tuple

    return version_tuple(text)


def _is_address(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _unescape(name: str) -> str:
    from tui.backends._soap import unescape_name

    return unescape_name(name)


def _filter_spec(view: Any, paths: dict[Any, list[str]]) -> Any:
    vmodl = _vmodl()

    PC = vmodl.query.PropertyCollector
    traverse = PC.TraversalSpec(name="view", type=type(view), path="view", skip=False)
    return PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
        propSet=[PC.PropertySpec(type=t, all=False, pathSet=list(p)) for t, p in paths.items()],
    )


_CAPABILITY_FLAGS = (
    ("dvportSupported", SessionType.DV_PORT_MIRROR),
    ("remoteSourceSupported", SessionType.REMOTE_MIRROR_SOURCE),
    ("remoteDestSupported", SessionType.REMOTE_MIRROR_DEST),
    ("encapRemoteSourceSupported", SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE),
    ("mixedDestSupported", SessionType.MIXED_DEST_MIRROR),
)


def _capability(features: Any) -> SwitchCapability:
    """VSPAN capability of a switch (vspan.md §1.5); what vCenter leaves unset is unknown: offered, vCenter decides.

    ``featuresSupported`` missing, ``vspanSupported`` unset, ``vspanCapability`` unset (a 5.0
    switch, or a server that does not say) or a flag unset give ``None`` (unknown) rather than
    ``False``. pyVmomi reads an unset *required* flag (the five session-type flags) as ``False``
    (``VmomiSupport.DataObject.__init__``), so one missing flag cannot be told from ``False``;
    all five ``False`` with port mirroring supported is a switch that reported nothing usable,
    and is read as unknown too.
    """
    if features is None:
        return SwitchCapability.unknown()
    vspan = getattr(features, "vspanSupported", None)
    vspan = None if vspan is None else bool(vspan)
    if vspan is False:
        return SwitchCapability(vspan=False, session_types=(), erspan=False)
    cap = getattr(features, "vspanCapability", None)
    if cap is None:
        return SwitchCapability.unknown(vspan)
    flags = [(t.value, getattr(cap, attr, None)) for attr, t in _CAPABILITY_FLAGS]
    if all(v is False for _, v in flags):
        flags = [(t, None) for t, _ in flags]
    erspan = getattr(cap, "erspanProtocolSupported", None)
    return SwitchCapability(
        vspan=vspan,
        session_types=tuple(t for t, v in flags if v),
        erspan=None if erspan is None else bool(erspan),
        unknown_types=tuple(t for t, v in flags if v is None),
    )


def _ports_from_vim(p: Any) -> VspanPorts:
    if p is None:
        return VspanPorts()
    return VspanPorts(
        port_keys=tuple(str(k) for k in p.portKey or ()),
        uplink_names=tuple(str(u) for u in p.uplinkPortName or ()),
        vlans=tuple(int(v) for v in getattr(p, "vlans", None) or ()),
        ip_addresses=tuple(str(i) for i in getattr(p, "ipAddress", None) or ()),
        wildcard_types=tuple(str(w) for w in p.wildcardPortConnecteeType or ()),
    )


def session_from_vim(s: Any) -> MirrorSession:
    """A :class:`MirrorSession` from a pyVmomi ``VspanSession`` (every field of vspan.md §1.1)."""
    length = s.mirroredPacketLength
    return MirrorSession(
        key=str(s.key) if s.key is not None else None,
        name=s.name or "",
        description=s.description or "",
        enabled=bool(s.enabled),
        session_type=getattr(s, "sessionType", None),
        source_tx=_ports_from_vim(s.sourcePortTransmitted),
        source_rx=_ports_from_vim(s.sourcePortReceived),
        destination=_ports_from_vim(s.destinationPort),
        encapsulation_vlan_id=s.encapsulationVlanId,
        strip_original_vlan=bool(s.stripOriginalVlan),
        mirrored_packet_length=length if length is not None and length > 0 else None,
        normal_traffic_allowed=bool(s.normalTrafficAllowed),
        sampling_rate=getattr(s, "samplingRate", None),
        encap_type=getattr(s, "encapType", None),
        erspan_id=getattr(s, "erspanId", None),
        erspan_cos=getattr(s, "erspanCOS", None),
        erspan_gra_nanosec=getattr(s, "erspanGraNanosec", None),
        netstack=getattr(s, "netstack", None),
    )


def _switch_from_props(moid: str, props: dict[str, Any], datacenter: str) -> Switch:
    policy = props.get("config.uplinkPortPolicy")
    uplinks = tuple(str(u) for u in getattr(policy, "uplinkPortName", None) or ())
    return Switch(
        key=str(props.get("uuid", "")),
        name=_unescape(str(props.get("name", moid))),
        moid=moid,
        datacenter=datacenter,
        version=str(props.get("config.productInfo.version") or ""),
        uplink_names=uplinks,
        config_version=str(props.get("config.configVersion") or ""),
        capability=_capability(props.get("capability.featuresSupported")),
        sessions=tuple(session_from_vim(s) for s in props.get("config.vspanSession") or ()),
    )


def _vlan_from_vim(spec: Any) -> Vlan:
    vim = _vim()

    VS = vim.dvs.VmwareDistributedVirtualSwitch
    if isinstance(spec, VS.TrunkVlanSpec):
        return Vlan(vlan_id=None, trunk=tuple((int(r.start), int(r.end)) for r in spec.vlanId or ()))
    if isinstance(spec, VS.PvlanSpec):
        return Vlan(vlan_id=None, pvlan=int(spec.pvlanId))
    if isinstance(spec, VS.VlanIdSpec):
        return Vlan(vlan_id=int(spec.vlanId or 0))
    return Vlan()


def _promiscuous(setting: Any) -> bool:
    mac = getattr(setting, "macManagementPolicy", None)
    if mac is not None and mac.allowPromiscuous is not None:
        return bool(mac.allowPromiscuous)
    sec = getattr(setting, "securityPolicy", None)
    allow = getattr(sec, "allowPromiscuous", None)
    return bool(getattr(allow, "value", False))


def _portgroup_from_props(obj: Any, props: dict[str, Any], uuid_of: dict[str, str], uplink_pgs: set[str]) -> Portgroup:
    setting = props.get("config.defaultPortConfig")
    dvs = props.get("config.distributedVirtualSwitch")
    try:
        binding = Binding(str(props.get("config.type") or "earlyBinding"))
    except ValueError:
        binding = Binding.EARLY
    return Portgroup(
        key=str(props.get("key") or obj._moId),
        name=_unescape(str(props.get("name", obj._moId))),
        switch=uuid_of.get(dvs._moId, "") if dvs is not None else "",
        vlan=_vlan_from_vim(getattr(setting, "vlan", None)),
        binding=binding,
        promiscuous=_promiscuous(setting),
        uplink=bool(props.get("config.uplink")) or obj._moId in uplink_pgs,
        num_ports=int(props.get("config.numPorts") or 0),
    )


def _ports_to_vim(ports: VspanPorts, previous: VspanPorts | None) -> Any:
    """A ``VspanPorts``; ``None`` when empty, unless an edit must clear a stored list."""
    vim = _vim()

    if not ports:
        return vim.dvs.VmwareDistributedVirtualSwitch.VspanPorts() if previous else None
    # Lists, never bare strings (vspan.md §1.8 pitfall 2).
    return vim.dvs.VmwareDistributedVirtualSwitch.VspanPorts(
        portKey=list(ports.port_keys),
        uplinkPortName=list(ports.uplink_names),
        vlans=list(ports.vlans),
        ipAddress=list(ports.ip_addresses),
        wildcardPortConnecteeType=list(ports.wildcard_types),
    )


def session_to_vim(session: MirrorSession, previous: MirrorSession | None = None) -> Any:
    """A pyVmomi ``VspanSession`` carrying every set field of ``session``.

    ``previous`` is the stored session for an edit: vCenter merges an edit into it, so a list
    that became empty is sent empty, a packet length that was removed is sent as -1 (mirror
    whole frames), and a removed sampling rate or ERSPAN value is sent as its documented default
    (1 packet in 1, ERSPAN ID and COS 0, microsecond timestamps, GRE). An encapsulation VLAN has
    no such value: the rules warn that an edit cannot remove it (``EditCannotClear``).
    """
    vim = _vim()

    s = vim.dvs.VmwareDistributedVirtualSwitch.VspanSession()
    if session.key is not None:
        s.key = session.key
    # An empty name or description is sent only to clear a stored one: unset and "" mean the same.
    if session.name or (previous is not None and previous.name):
        s.name = session.name
    if session.description or (previous is not None and previous.description):
        s.description = session.description
    s.enabled = session.enabled
    s.stripOriginalVlan = session.strip_original_vlan
    s.normalTrafficAllowed = session.normal_traffic_allowed
    if session.session_type is not None:
        s.sessionType = session.session_type
    s.sourcePortTransmitted = _ports_to_vim(session.source_tx, previous.source_tx if previous else None)
    s.sourcePortReceived = _ports_to_vim(session.source_rx, previous.source_rx if previous else None)
    s.destinationPort = _ports_to_vim(session.destination, previous.destination if previous else None)
    if session.encapsulation_vlan_id is not None:
        s.encapsulationVlanId = session.encapsulation_vlan_id
    if session.mirrored_packet_length is not None:
        s.mirroredPacketLength = session.mirrored_packet_length
    elif previous is not None and previous.mirrored_packet_length is not None:
        s.mirroredPacketLength = -1
    for attr, api, default in (
        ("sampling_rate", "samplingRate", 1),
        ("encap_type", "encapType", "gre"),
        ("erspan_id", "erspanId", 0),
        ("erspan_cos", "erspanCOS", 0),
        ("erspan_gra_nanosec", "erspanGraNanosec", False),
        ("netstack", "netstack", None),
    ):
        value = getattr(session, attr)
        if value is None and previous is not None and getattr(previous, attr) is not None:
            value = default  # cleared in an edit: the default, since vCenter merges edits
            if attr == "sampling_rate" and session.type is SessionType.MIXED_DEST_MIRROR:
                value = None  # the legacy type cannot carry a sampling rate at all (V12)
        if value is not None:
            setattr(s, api, value)
    return s


def _config_spec(current: Switch, changes: Sequence[SessionChange]) -> Any:
    """One ``VMwareDVSConfigSpec`` with the current ``configVersion`` and every change."""
    vim = _vim()

    VS = vim.dvs.VmwareDistributedVirtualSwitch
    specs = []
    for change in changes:
        if change.operation is ChangeOperation.ADD:
            session = session_to_vim(change.session.with_changes(key=None))
        elif change.operation is ChangeOperation.EDIT:
            session = session_to_vim(change.session, current.session(change.session.key or ""))
        else:
            session = VS.VspanSession(key=change.session.key)
        specs.append(VS.VspanConfigSpec(operation=change.operation.value, vspanSession=session))
    return VS.ConfigSpec(configVersion=current.config_version, vspanConfigSpec=specs)


# -- after a lost connection: is the change on the switch? ----------------------------------

_UNSET_AS = {"sampling_rate": 1, "encap_type": "gre", "erspan_id": 0, "erspan_cos": 0, "erspan_gra_nanosec": False}
"""What vCenter stores for an optional field that was not sent (its documented defaults)."""
_IF_SENT = ("session_type", "netstack")
"""Fields vCenter may fill in itself when they are not sent: compared only when sent."""


def _holds(stored: MirrorSession, sent: MirrorSession) -> bool:
    """True when ``stored`` (re-read) carries every field of ``sent`` (key aside)."""
    for f in fields(MirrorSession):
        name = f.name
        if name == "key":
            continue
        want, have = getattr(sent, name), getattr(stored, name)
        if name in _IF_SENT and want is None:
            continue
        if isinstance(want, VspanPorts):
            if any(sorted(map(str, getattr(want, a))) != sorted(map(str, getattr(have, a))) for a in _PORT_LISTS):
                return False
            continue
        default = _UNSET_AS.get(name)
        if (default if want is None else want) != (default if have is None else have):
            return False
    return True


_PORT_LISTS = ("port_keys", "uplink_names", "vlans", "ip_addresses", "wildcard_types")


def _changes_found(before: Switch, after: Switch, changes: Sequence[SessionChange]) -> bool:
    """True when ``after`` shows every change applied to ``before``."""
    old = {s.key for s in before.sessions}
    new = [s for s in after.sessions if s.key not in old]
    for change in changes:
        key = change.session.key or ""
        if change.operation is ChangeOperation.ADD:
            match = next((s for s in new if _holds(s, change.session)), None)
            if match is None:
                return False
            new.remove(match)
        elif change.operation is ChangeOperation.EDIT:
            stored = after.session(key)
            if stored is None or not _holds(stored, change.session):
                return False
        elif after.session(key) is not None:
            return False
    return True


def _not_applied(before: Switch, after: Switch, changes: Sequence[SessionChange]) -> list[Problem]:
    """What the re-read switch ``after`` does not show of ``changes`` (sent to ``before``)."""
    before_keys = {s.key for s in before.sessions}
    after_keys = {s.key for s in after.sessions}
    new = len(after_keys - before_keys)
    problems: list[Problem] = []
    adds = 0
    for change in changes:
        s = change.session
        name = f" {s.name!r}" if s.name else ""
        if change.operation is ChangeOperation.ADD:
            adds += 1
            if adds > new:
                problems.append(
                    Problem(
                        "NotApplied",
                        f"Session{name} is not on {after.name}: the switch has no new session "
                        f"({len(after.sessions)} in all).",
                    )
                )
        elif change.operation is ChangeOperation.EDIT and s.key not in after_keys:
            problems.append(Problem("NotApplied", f"Session {s.key}{name} is not on {after.name} any more."))
        elif change.operation is ChangeOperation.REMOVE and s.key in after_keys:
            problems.append(
                Problem("NotApplied", f"Session {s.key}{name} is still on {after.name}: it was not removed.")
            )
    return problems


# -- faults -------------------------------------------------------------------------------

_API_TO_FIELD = {
    "sourcePortTransmitted": "source_tx",
    "sourcePortReceived": "source_rx",
    "destinationPort": "destination",
    "encapsulationVlanId": "encapsulation_vlan_id",
    "mirroredPacketLength": "mirrored_packet_length",
    "samplingRate": "sampling_rate",
    "sessionType": "session_type",
    "encapType": "encap_type",
    "erspanId": "erspan_id",
    "erspanCOS": "erspan_cos",
    "erspanGraNanosec": "erspan_gra_nanosec",
    "stripOriginalVlan": "strip_original_vlan",
    "normalTrafficAllowed": "normal_traffic_allowed",
    "name": "name",
    "key": "key",
    "vlans": "source_rx",
    "ipAddress": "destination",
    "uplinkPortName": "destination",
}


def _fault_name(fault: Any) -> str:
    return str(getattr(fault, "_wsdlName", "") or type(fault).__name__.rsplit(".", 1)[-1])


def _fault_msg(fault: Any) -> str:
    msg = str(getattr(fault, "msg", "") or "")
    if not msg:
        for lm in getattr(fault, "faultMessage", None) or ():
            msg = str(getattr(lm, "message", "") or "")
            if msg:
                break
    return msg.strip()


def _problem_from_fault(fault: Any, host_names: dict[str, str] | None = None) -> Problem:
    """A vCenter fault as a :class:`Problem` whose code is the fault's name (vspan.md §4)."""
    name = _fault_name(fault)
    msg = _fault_msg(fault)
    port = str(getattr(fault, "portKey", "") or "")
    key = str(getattr(fault, "vspanSessionKey", "") or "")
    k1 = str(getattr(fault, "vspanSessionKey1", "") or "")
    k2 = str(getattr(fault, "vspanSessionKey2", "") or "")
    field = ""
    if name == "VspanSameSessionPortConflict":
        text = f"Port {port} is both a source and the destination of session {key}; a port can be only one of them."
        field = "destination"
    elif name == "VspanPortConflict":
        text = (
            f"Port {port} is an egress (transmitted) source in session {k1} and the destination of session {k2}; "
            "that would mirror a mirror."
        )
        field = "destination"
    elif name == "VspanDestPortConflict":
        text = (
            f"Port {port} is already the destination of another session ({k1}, {k2}); a destination serves one session."
        )
        field = "destination"
    elif name == "VspanPromiscuousPortNotSupported":
        text = f"Port {port} is promiscuous; it cannot be an egress source or a destination of session {key}."
    elif name in ("VspanPortPromiscChangeFault", "VspanPortMoveFault", "VspanPortgroupPromiscChangeFault"):
        text = f"A mirrored port or portgroup cannot become promiscuous ({name})."
    elif name == "VspanPortgroupTypeChangeFault":
        text = "A portgroup whose ports are mirrored cannot become ephemeral."
    elif name == "NotFound":
        text = "vCenter could not find a port, uplink or session the change refers to" + (f": {msg}" if msg else ".")
    elif name == "InvalidArgument":
        prop = str(getattr(fault, "invalidProperty", "") or "")
        field = _API_TO_FIELD.get(prop.rsplit(".", 1)[-1], "") if prop else ""
        text = "vCenter rejected a value" + (f" ({prop})" if prop else "") + (f": {msg}" if msg else ".")
    elif name in ("NoPermission", "DvsNotAuthorized"):
        priv = str(getattr(fault, "privilegeId", "") or "DVSwitch.Vspan")
        text = (
            f"You lack the {priv} privilege on this switch; mirror sessions need DVSwitch.Vspan. "
            "Ask your vCenter administrator."
        )
    elif name == "DvsOperationBulkFault":
        names = host_names or {}
        hosts = []
        for h in getattr(fault, "hostFault", None) or ():
            moid = str(getattr(h.host, "_moId", h.host))
            hosts.append(f"{names.get(moid, moid)}: {_fault_msg(h.fault) or _fault_name(h.fault)}")
        text = "Hosts refused the change" + (": " + "; ".join(hosts) if hosts else (f": {msg}" if msg else "."))
    else:
        text = f"vCenter refused the change ({name})" + (f": {msg}" if msg else ".")
    return Problem(code=name, message=text, field=field)


# -- snapshots ----------------------------------------------------------------------------
