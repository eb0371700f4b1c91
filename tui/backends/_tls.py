"""TLS towards vCenter: which certificate is trusted (CA files, a pinned thumbprint, or none) and why one was refused.

Pinning is ours, not pyVmomi's ``SoapStubAdapter(thumbprint=...)``: pyVmomi 9.1.1.0 checks the pin only
when the context's own verification failed (``SoapAdapter._Connect``), so a CA-trusted certificate
or an unverifying context skips the pin, and on that first failure it turns verification off in the
shared ``SSLContext``, so every later pooled connection is accepted unpinned. Here every connection
is compared with the pin (SHA-1 or SHA-256) and a mismatch is :class:`ThumbprintMismatch`.
:class:`Connections` records every connection so that ``close()`` can cut a call blocked on one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import ssl
import threading
import weakref
from collections.abc import Callable
from typing import Any

from tui.backends import CertificateError
from tui.config import ConfigError, Settings, read_known_hosts

CLOSE_TIMEOUT = 1.0
"""Seconds a log-out may take when close() cut a running call (quitting never waits longer)."""
MAX_CA_FILE = 10 * 1024 * 1024

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


def ssl_context(settings: Settings) -> tuple[ssl.SSLContext, str]:
    """The TLS context for ``settings`` and the pinned thumbprint ('' = verify with CAs)."""
    s = settings
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


def certificate_error(e: ssl.SSLCertVerificationError, settings: Settings, timeout: float) -> CertificateError:
    """Why the certificate was refused, in the operator's terms, with the ways forward.

    With ``--ca-file`` an untrusted chain means the CA in that file did not sign vCenter's
    certificate (OpenSSL then says "self-signed certificate", which misleads).
    """
    s = settings
    actual = server_thumbprint(s.server, s.port, timeout=min(timeout, 10.0))
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
