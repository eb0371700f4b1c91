"""The connection settings: one table of where each comes from, and how its text is read.

:data:`SETTINGS` names, for every setting, its flag, its ``DVMIRROR_*``, ``GOVC_*`` and
``VMWARE_*`` variables and its profile key, in order of precedence, and its kind (text, boolean,
seconds, thumbprint or URL). The kind picks the parser of a flag's or variable's text
(:data:`TEXT_PARSERS`) and the TOML type of the profile key. :mod:`tui.config` resolves and
explains settings from this table, and :mod:`tui.configfile` checks config.toml against it.

Every parser raises :class:`ConfigError` with a message naming where the bad value came from.
Nothing here imports Textual or pyVmomi, reads a file or touches the network.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from tui.text import ascii_digits

DEFAULT_PORT = 443
DEFAULT_PATH = "/sdk"

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")
_HEX = re.compile(r"^[0-9A-Fa-f]+$")
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")
"""ASCII digits only (``\\d`` would also take ``²`` or ``٣``)."""

DEFAULT_TIMEOUT = 20.0
"""Seconds dvmirror waits on the network before it gives up: to connect, for the first byte of
an answer, and through any silence in the middle of one.

vCenter starts answering every call dvmirror makes within a few seconds: the pages are capped at
1000 objects and the port lists are streamed as vCenter writes them (the test server answers a
whole 10,000-VM load in 1.3 s). Twenty seconds of silence is a stuck server or a dead network
path, not a busy vCenter, and an operator learns that within half a minute instead of after a
TCP timeout of several minutes. ``--timeout`` raises it for a slow link."""
MAX_TIMEOUT = 3600.0


class ConfigError(ValueError):
    """A setting is missing or wrong; ``str(error)`` names its source and what to do."""


# -- the table of settings -----------------------------------------------------------------

TEXT, BOOL, SECONDS, THUMBPRINT, URL = "text", "bool", "seconds", "thumbprint", "url"
"""What a setting holds; it picks the parser of text sources and the TOML type of the profile key."""


@dataclass(frozen=True)
class Setting:
    """One connection setting and every place it can come from, in order of precedence.

    Resolution (:func:`resolve_settings`), ``--show-config`` (:meth:`Settings.explain`), the
    connection flags (:func:`add_connection_arguments`) and the check of a profile in
    ``config.toml`` are all derived from :data:`SETTINGS`.
    """

    name: str
    """The :class:`Settings` field (and the argparse destination of the flag)."""
    flag: str
    dvmirror: str
    govc: str = ""
    vmware: str = ""
    profile: str = ""
    """The key of a ``[profiles.NAME]`` table ('' when a profile may not set it)."""
    kind: str = TEXT
    vmware_negated: bool = False
    """The VMware variable means the opposite (``VMWARE_VALIDATE_CERTS=false`` means insecure)."""
    vmware_port: str = ""
    """A VMware variable that gives the port of this URL setting (``VMWARE_PORT``)."""
    path_list: bool = False
    """An ``os.pathsep`` list of files (``~`` expanded in each)."""
    unset: str = "(none)"
    """How ``--show-config`` shows an empty value."""
    metavar: str | None = None
    help: str = ""


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "server", "--server", "DVMIRROR_SERVER", "GOVC_URL", "VMWARE_HOST", "url", URL, vmware_port="VMWARE_PORT",
        metavar="URL",
        help="vCenter: host, host:port or https://host/sdk; user[:password]@ inside is allowed as in GOVC_URL",
    ),
    Setting(
        "user", "--user", "DVMIRROR_USER", "GOVC_USERNAME", "VMWARE_USER", "user",
        metavar="NAME", help="user name, e.g. administrator@vsphere.local",
    ),
    Setting(
        "password", "--password", "DVMIRROR_PASSWORD", "GOVC_PASSWORD", "VMWARE_PASSWORD",
        metavar="TEXT",
        help="password (discouraged: visible to other users and kept in shell history; "
        "prefer DVMIRROR_PASSWORD or the prompt)",
    ),
    Setting(
        "insecure", "--insecure", "DVMIRROR_INSECURE", "GOVC_INSECURE", "VMWARE_VALIDATE_CERTS", "insecure", BOOL,
        vmware_negated=True, help="do not verify the server's TLS certificate (shown on screen)",
    ),
    Setting(
        "ca_file", "--ca-file", "DVMIRROR_CA_FILE", "GOVC_TLS_CA_CERTS", "", "ca_file", path_list=True,
        metavar="PEM", help="trust the CA certificate(s) in this PEM file",
    ),
    Setting(
        "thumbprint", "--thumbprint", "DVMIRROR_THUMBPRINT", "", "", "thumbprint", THUMBPRINT,
        metavar="AB:CD:...", help="trust a certificate with this SHA-1 thumbprint",
    ),
    Setting(
        "known_hosts", "--known-hosts", "DVMIRROR_KNOWN_HOSTS", "GOVC_TLS_KNOWN_HOSTS", "", "known_hosts",
        path_list=True, metavar="FILE", help="govc-style known-hosts file of pinned thumbprints",
    ),
    Setting(
        "datacenter", "--datacenter", "DVMIRROR_DATACENTER", "GOVC_DATACENTER", "", "datacenter",
        unset="(all)", metavar="NAME", help="only this datacenter",
    ),
    Setting(
        "read_only", "--read-only", "DVMIRROR_READ_ONLY", "", "", "read_only", BOOL,
        help="never change anything on vCenter",
    ),
    Setting(
        "live", "--live", "DVMIRROR_LIVE", "", "", "live", BOOL,
        help="follow changes after the load, as they happen (default; --no-live loads once, r reloads)",
    ),
    Setting(
        "timeout", "--timeout", "DVMIRROR_TIMEOUT", "", "", "timeout", SECONDS,
        metavar="SECONDS",
        help=f"give up when vCenter does not answer for this long: to connect, to start an answer, or in the "
        f"middle of one (default {DEFAULT_TIMEOUT:g}; DVMIRROR_TIMEOUT, profile key timeout)",
    ),
)  # fmt: skip
"""Every connection setting, in the order ``--show-config`` lists them."""

ALLOWED_SESSIONS = "allowed_sessions"
"""The session names a hardening allow-list keeps (top level, or per profile): :mod:`tui.rules_guards`."""
PROFILE_KEYS = (*(s.profile for s in SETTINGS if s.profile), ALLOWED_SESSIONS)
"""The keys a ``[profiles.NAME]`` table may hold."""
TOP_LEVEL_KEYS = ("default_profile", "theme", "keymap", ALLOWED_SESSIONS, "profiles")


# -- reading values -----------------------------------------------------------------------


def parse_bool(text: str, source: str) -> bool:
    """``1/0``, ``true/false``, ``yes/no``, ``on/off`` (any case)."""
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ConfigError(f"{source}={text!r} is not a boolean (use 1/0, true/false)")


def parse_port(text: str, source: str) -> int:
    """A TCP port 1-65535, in ASCII digits (``int()`` would also take ``٤٤٣`` or ``４４３``)."""
    digits = text.strip()
    if not ascii_digits(digits) or len(digits) > 5:
        raise ConfigError(f"{source}={text!r} is not a port number (1-65535, digits 0-9)")
    port = int(digits)
    if not 1 <= port <= 65535:
        raise ConfigError(f"{source}={text!r} is not a port number (1-65535)")
    return port


def parse_timeout(text: str, source: str) -> float:
    """Seconds, as ASCII digits with an optional decimal part (``20``, ``2.5``), more than 0."""
    raw = text.strip()
    if not _DECIMAL.fullmatch(raw):
        raise ConfigError(f"{source}={text!r} is not a number of seconds (use digits 0-9, e.g. 20 or 2.5)")
    value = float(raw)
    if not 0 < value <= MAX_TIMEOUT:
        raise ConfigError(f"{source}={text!r} is out of range (more than 0, at most {MAX_TIMEOUT:g} seconds)")
    return value


def profile_timeout(value: Any, source: str) -> float:
    """A profile's ``timeout``: a TOML number or a string of digits."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(f"{source} must be a number of seconds, e.g. timeout = 30")
    text = value if isinstance(value, str) else repr(value)
    return parse_timeout(text, source)


def normalize_thumbprint(text: str, source: str) -> str:
    """``ab:cd...`` / ``abcd...`` → ``AB:CD:...``; SHA-1 (40 hex digits) or SHA-256 (64)."""
    raw = text.strip().replace(":", "").replace(" ", "")
    if not _HEX.match(raw) or len(raw) not in (40, 64):
        raise ConfigError(
            f"{source}={text!r} is not a certificate thumbprint "
            "(expected 20 or 32 hex bytes, e.g. AB:CD:...; `govc about.cert -k -thumbprint` prints it)"
        )
    raw = raw.upper()
    return ":".join(raw[i : i + 2] for i in range(0, len(raw), 2))


@dataclass(frozen=True)
class ServerUrl:
    """A parsed ``--server`` / ``GOVC_URL`` value."""

    scheme: str
    host: str
    port: int
    path: str
    user: str = ""
    password: str = field(default="", repr=False)


def parse_server(text: str, source: str) -> ServerUrl:
    """Parse ``host``, ``host:port``, ``[v6]:port``, ``https://user:pw@host:port/sdk`` like govc.

    The scheme defaults to https, the path to ``/sdk``; user and password are percent-decoded.
    """
    raw = text.strip()
    if not raw:
        raise ConfigError(f"{source} is empty")
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", raw):
        raw = "https://" + raw
    try:
        parts = urlsplit(raw)
        port_value = parts.port
    except ValueError:
        # urlsplit's own message may quote part of the password: say it in our words.
        raise ConfigError(f"{source}={redact_url(text)!r} is not a valid URL (check the port number)") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise ConfigError(f"{source}={redact_url(text)!r}: the scheme must be https (or http), not {parts.scheme!r}")
    host = parts.hostname or ""
    if not host:
        raise ConfigError(f"{source}={redact_url(text)!r} has no host name")
    port = port_value or (443 if scheme == "https" else 80)
    path = parts.path if parts.path not in ("", "/") else DEFAULT_PATH
    user = unquote(parts.username) if parts.username else ""
    password = unquote(parts.password) if parts.password else ""
    return ServerUrl(scheme=scheme, host=host, port=port, path=path, user=user, password=password)


def redact_url(text: str) -> str:
    """``text`` with the password of any ``user:password@`` part removed.

    ``https://admin:s3cret@vcsa01/sdk`` → ``https://admin@vcsa01/sdk``;
    ``admin:s3cret@vcsa01`` → ``admin@vcsa01``; text without a ``user:password@`` part is
    returned unchanged.
    """
    if "@" not in text:
        return text
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    # The last '@' ends the user info: a password may itself hold '@', '/' or ':' unencoded.
    userinfo, _, hostpart = rest.rpartition("@")
    if ":" not in userinfo:
        return text
    user = userinfo.split(":", 1)[0]
    prefix = f"{scheme}://" if sep else ""
    return f"{prefix}{user}@{hostpart}" if user else f"{prefix}{hostpart}"


def not_utf8(text: str) -> bool:
    """True when ``text`` holds bytes that were not UTF-8 (Python's surrogate escapes in
    ``sys.argv`` and ``os.environ``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def not_bool(text: str, source: str) -> bool:
    """The opposite of :func:`parse_bool` (``VMWARE_VALIDATE_CERTS=false`` means insecure)."""
    return not parse_bool(text, source)


TEXT_PARSERS: dict[str, Callable[[str, str], Any]] = {
    BOOL: parse_bool,
    SECONDS: parse_timeout,
    THUMBPRINT: normalize_thumbprint,
}
"""How a flag's or a variable's text becomes the value of each kind of setting."""
PROFILE_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    SECONDS: profile_timeout,
    THUMBPRINT: normalize_thumbprint,
}
"""How a profile's TOML value (its type checked by :func:`load_config_file`) becomes one."""
