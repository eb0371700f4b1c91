"""vCenter's failures in the operator's terms: SOAP faults as :class:`Problem`, and exceptions as BackendErrors.

Nothing here holds a connection: :func:`mapped_errors` needs only the settings (where, who) and the timeout.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator
from typing import Any

from tui.backends import BackendError, CertificateError, ConnectionFailed, LoginFailed, SessionExpired
from tui.backends._convert import _vim, _vmodl
from tui.backends._tls import ThumbprintMismatch, certificate_error
from tui.config import Settings
from tui.model import API_NAMES, Problem


def _dropped() -> tuple[type[BaseException], ...]:
    """What a dropped or stale connection raises (``ConnectionRefusedError`` is a ``ConnectionError``)."""
    import http.client
    from xml.etree.ElementTree import ParseError

    return (ConnectionError, http.client.HTTPException, ParseError, EOFError)


_API_TO_FIELD: dict[str, str] = {api: attr for attr, api in API_NAMES.items()} | {
    "vlans": "source_rx",
    "ipAddress": "destination",
    "uplinkPortName": "destination",
}
"""The last segment of a fault's ``invalidProperty`` → the session attribute a problem names.

Derived from :data:`tui.model.API_NAMES`; the three lists inside ``VspanPorts`` are added by hand,
each naming the one port set that carries it (RMD VLANs are sources, ERSPAN IPs and RMS uplinks
destinations); ``portKey`` and ``wildcardPortConnecteeType`` occur in every set and name none.
"""


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


@contextlib.contextmanager
def mapped_errors(settings: Settings, timeout: float, doing: str) -> Iterator[None]:
    """Turn socket, TLS, HTTP and vCenter failures into BackendErrors with plain messages."""
    vim, vmodl = _vim(), _vmodl()

    from tui.backends._parse import NotAuthenticatedError

    s = settings
    where = f"{s.server}:{s.port}"
    unreachable: tuple[type[BaseException], ...] = (OSError, *_dropped())
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
        raise certificate_error(e, s, timeout) from None
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
    except unreachable as e:
        raise _unreachable(e, s, where, doing, timeout) from None


def _unreachable(e: BaseException, s: Settings, where: str, doing: str, timeout: float) -> ConnectionFailed:
    """A socket, TLS or HTTP failure in the operator's terms: the first row whose kind ``e`` is."""
    rows: list[tuple[type[BaseException] | tuple[type[BaseException], ...], str, str]] = [
        (socket.gaierror, f"cannot resolve the host name {s.server!r}", "Check the server name or use its address."),
        (
            ConnectionRefusedError,
            f"nothing is listening on {where}",
            "Check the server address and port, and that vCenter is running.",
        ),
        (
            TimeoutError,
            f"{where} did not answer within {timeout:g} s while {doing}",
            "Check the network path (VPN, firewall) to vCenter.",
        ),
        (ssl.SSLError, f"TLS with {where} failed: {getattr(e, 'reason', None) or e}", ""),
        (
            _dropped(),
            f"the connection to {where} dropped while {doing}",
            "vCenter may have restarted or the network failed; try again (r).",
        ),
    ]
    for kinds, message, hint in rows:
        if isinstance(e, kinds):
            return ConnectionFailed(message, hint=hint)
    return ConnectionFailed(f"cannot talk to {where} while {doing}: {getattr(e, 'strerror', None) or e}")
