"""Connection settings: command-line flags, environment variables and the profile file.

Each setting is taken from the first of these places that has it; :data:`SETTINGS` is the one
table of which flag, variable and profile key gives each setting:

1. command-line flags (``--server``, ``--user``, …; ``--profile`` and ``--config`` choose the
   profile and the file);
2. ``DVMIRROR_*`` variables (``DVMIRROR_SERVER``, …; ``DVMIRROR_PROFILE``, ``DVMIRROR_CONFIG``);
3. govc's variables: ``GOVC_URL`` (``user:password@host`` allowed; the scheme defaults to https
   and the path to ``/sdk``), ``GOVC_USERNAME``, …, ``GOVC_INSECURE`` (1/true);
4. the VMware Ansible/SDK variables: ``VMWARE_HOST`` with ``VMWARE_PORT``, …,
   ``VMWARE_VALIDATE_CERTS`` (false means insecure);
5. the chosen profile of ``config.toml`` (the file given by ``--config`` or ``DVMIRROR_CONFIG``,
   else ``config.toml`` in the user config directory, e.g. ``~/.config/dvmirror/config.toml``);
6. the defaults: TLS verified, read-write, port 443, path ``/sdk``, a timeout of 20 seconds.

The timeout (:data:`DEFAULT_TIMEOUT`) bounds every wait on the network: connecting, the first
byte of each answer, and any silence in the middle of one. It is not a limit on a whole load or
on a vCenter task (a task is polled; each poll is bounded).

Within one level an explicit user or password variable beats one embedded in that level's URL
(as in govc: ``GOVC_USERNAME`` beats the user inside ``GOVC_URL``).

The profile file::

    default_profile = "lab"
    theme = "textual-dark"

    [profiles.lab]
    url = "vcsa01.lab.local"          # host, host:port or https://host/sdk; user@ allowed
    user = "administrator@vsphere.local"
    datacenter = "DC-Cloud"
    read_only = true
    timeout = 30                      # seconds
    ca_file = "~/certs/lab-ca.pem"    # or thumbprint = "AB:CD:...", known_hosts = "...", insecure = true

    [keymap]                          # binding id = keys (tui/keymap.py)
    explorer.mark_source = "s"

Passwords are never read from a file: a ``password`` key, or a password inside a profile URL, is
refused. A password comes from ``--password`` (visible in the process list and shell history:
prefer the variables), ``DVMIRROR_PASSWORD`` / ``GOVC_PASSWORD`` / ``VMWARE_PASSWORD``, the OS
keyring (:func:`keyring_password`, only when the ``keyring`` module is installed), or a prompt.

Nothing here imports Textual or pyVmomi, and nothing here touches the network. Bad values raise
:class:`ConfigError` with a message naming where the value came from.
"""

from __future__ import annotations

import argparse
import os
import re
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from tui.text import ascii_digits, visible

T = TypeVar("T")

DEFAULT_PORT = 443
DEFAULT_PATH = "/sdk"
KEYRING_SERVICE = "dvmirror"

_PASSWORD_KEYS = ("password", "passwd", "pwd", "pass", "secret")

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

CONFIG_SIZE_LIMIT = 1 << 20
"""config.toml and known-hosts files larger than this (1 MiB) are refused."""


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
        "timeout", "--timeout", "DVMIRROR_TIMEOUT", "", "", "timeout", SECONDS,
        metavar="SECONDS",
        help=f"give up when vCenter does not answer for this long: to connect, to start an answer, or in the "
        f"middle of one (default {DEFAULT_TIMEOUT:g}; DVMIRROR_TIMEOUT, profile key timeout)",
    ),
)  # fmt: skip
"""Every connection setting, in the order ``--show-config`` lists them."""

PROFILE_KEYS = tuple(s.profile for s in SETTINGS if s.profile)
"""The keys a ``[profiles.NAME]`` table may hold."""
TOP_LEVEL_KEYS = ("default_profile", "theme", "keymap", "profiles")


@dataclass(frozen=True)
class Settings:
    """Everything needed to reach one vCenter, plus UI preferences.

    ``sources`` says where each value came from (``"--server"``, ``"GOVC_URL"``,
    ``"profile 'lab' (/home/me/.config/dvmirror/config.toml)"``, ``"default"``);
    :meth:`explain` turns that into rows for ``--show-config``. The password is never part
    of ``repr()`` or :meth:`explain`.
    """

    server: str = ""
    """Host name or address (no port, no brackets)."""
    port: int = DEFAULT_PORT
    scheme: str = "https"
    path: str = DEFAULT_PATH
    user: str = ""
    password: str = field(default="", repr=False)
    insecure: bool = False
    ca_file: str = ""
    """One or more PEM files, separated by ``os.pathsep`` (like ``GOVC_TLS_CA_CERTS``)."""
    known_hosts: str = ""
    """govc known-hosts file(s): lines of ``host[:port] THUMBPRINT``."""
    thumbprint: str = ""
    """Pinned SHA-1 (or SHA-256) certificate thumbprint, ``AB:CD:...``."""
    datacenter: str = ""
    read_only: bool = False
    timeout: float = DEFAULT_TIMEOUT
    """Seconds to wait on the network (see :data:`DEFAULT_TIMEOUT`)."""
    profile: str = ""
    keymap: dict[str, str] = field(default_factory=dict, hash=False)
    theme: str = ""
    config_file: str = ""
    """The profile file that was read ('' if none)."""
    sources: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def url(self) -> str:
        """The SDK URL, without credentials: ``https://vcsa01.lab.local/sdk``."""
        host = f"[{self.server}]" if ":" in self.server else self.server
        default = 443 if self.scheme == "https" else 80
        port = "" if self.port == default else f":{self.port}"
        return f"{self.scheme}://{host}{port}{self.path}"

    @property
    def host_port(self) -> str:
        """``host:port`` as govc's known-hosts file keys it."""
        host = f"[{self.server}]" if ":" in self.server else self.server
        return f"{host}:{self.port}"

    @property
    def needs_password(self) -> bool:
        """True when a server and user are known but no password is: prompt for one."""
        return bool(self.server and self.user and not self.password)

    def source(self, name: str) -> str:
        """Where setting ``name`` came from (``"default"`` if nowhere)."""
        return self.sources.get(name, "default")

    def explain(self) -> list[tuple[str, str, str]]:
        """``(setting, value, source)`` rows for ``--show-config``; the password is masked."""
        rows = [(s.name, self._shown(s), self.source(s.name)) for s in SETTINGS]
        rows += [
            ("profile", self.profile or "(none)", self.source("profile")),
            ("config_file", self.config_file or "(none)", self.source("config_file")),
            ("theme", self.theme or "(default)", self.source("theme")),
        ]
        rows.extend((f"keymap.{action}", key, self.source("keymap")) for action, key in sorted(self.keymap.items()))
        return rows

    def _shown(self, setting: Setting) -> str:
        value = getattr(self, setting.name)
        if setting.name == "server":
            return self.url if self.server else setting.unset
        if setting.name == "password":
            return "(set)" if value else "(not set)"
        if setting.kind == BOOL:
            return _yes(value)
        if setting.kind == SECONDS:
            return f"{value:g} s"
        return str(value) or setting.unset

    def with_password(self, password: str, source: str = "prompt") -> Settings:
        """A copy with ``password`` set (after a prompt)."""
        return replace(self, password=password, sources={**self.sources, "password": source})


def _yes(value: bool) -> str:
    return "yes" if value else "no"


# -- argparse ------------------------------------------------------------------------------


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the connection flags of :data:`SETTINGS` to ``parser`` (all default to ``None`` = not
    given), and ``--profile`` and ``--config``."""
    g = parser.add_argument_group("vCenter connection (flags beat DVMIRROR_*, GOVC_*, VMWARE_* and the profile)")
    for s in SETTINGS:
        if s.kind == BOOL:
            g.add_argument(s.flag, action=argparse.BooleanOptionalAction, default=None, help=s.help)
        else:
            g.add_argument(s.flag, metavar=s.metavar, help=s.help)
    g.add_argument("--profile", metavar="NAME", help="profile of the config file to use")
    g.add_argument("--config", metavar="FILE", help="config file (default: config.toml in the user config directory)")


# -- parsing helpers -----------------------------------------------------------------------


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


def _profile_timeout(value: Any, source: str) -> float:
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


# -- the profile file ----------------------------------------------------------------------


def default_config_path() -> Path:
    """``config.toml`` in the platform's user config directory (``~/.config/dvmirror`` on Linux)."""
    from platformdirs import user_config_path

    return user_config_path("dvmirror", appauthor=False) / "config.toml"


class FileProblem(Exception):
    """A file that must not be read: ``str(error)`` says why (without the file name)."""


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``limit`` bytes.

    Opened with ``O_NONBLOCK`` and checked with ``fstat`` before reading, so a FIFO, a device
    (``/dev/zero``, ``/dev/urandom``), a socket or a directory is refused at once instead of
    hanging or reading forever. Raises :class:`FileProblem` (and ``FileNotFoundError`` for a
    missing file, so that callers can treat that case on its own).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as e:
        raise FileProblem(f"cannot be opened ({e.strerror or e})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileProblem("is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem("is not a regular file (a FIFO, a device or a socket): refused")
        if info.st_size > limit:
            raise FileProblem(f"is too large ({info.st_size:,} bytes; the limit is {limit:,})")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew while being read
            raise FileProblem(f"is too large (more than {limit:,} bytes)")
        return b"".join(chunks)
    except OSError as e:
        raise FileProblem(f"cannot be read ({e.strerror or e})") from None
    finally:
        os.close(fd)


def load_config_file(path: Path, *, required: bool) -> dict[str, Any]:
    """Read and check the TOML profile file. A missing default file is an empty config.

    Only a regular file of at most :data:`CONFIG_SIZE_LIMIT` bytes of UTF-8 TOML is read;
    anything else is a :class:`ConfigError` naming the file.
    """
    try:
        raw = read_regular_file(path, CONFIG_SIZE_LIMIT)
    except FileNotFoundError:
        if required:
            raise ConfigError(f"config file {path} does not exist") from None
        return {}
    except FileProblem as e:
        raise ConfigError(f"config file {path} {e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {e.start} cannot be decoded)") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from None
    except RecursionError:
        raise ConfigError(f"config file {path} is nested too deeply") from None
    except ValueError as e:  # e.g. an integer of more than 4,300 digits
        raise ConfigError(f"config file {path} has a value that cannot be read: {e}") from None
    _check_config(data, path)
    return data


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _dotted(*keys: str) -> str:
    """A TOML key path as it would be written: ``profiles.lab.url``, ``profiles."my lab".url``."""
    return ".".join(k if _BARE_KEY.fullmatch(k) else '"' + visible(k).replace('"', '\\"') + '"' for k in keys)


_PROFILE_TYPES: dict[str, str] = {s.profile: s.kind for s in SETTINGS if s.profile}


def _check_config(data: dict[str, Any], path: Path) -> None:
    """Refuse passwords on disk and unknown or mistyped keys; flatten ``[keymap.SCREEN]`` tables."""
    _refuse_passwords(data, path, "")
    _known_keys(data, TOP_LEVEL_KEYS, path)
    for key in ("default_profile", "theme"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError(f"{path}: {key} must be text")
    if "keymap" in data:
        data["keymap"] = _flat_keymap(data["keymap"], path)
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError(f"{path}: profiles must be tables such as [profiles.lab]")
    for name, prof in profiles.items():
        if not isinstance(prof, dict):
            raise ConfigError(f"{path}: [{_dotted('profiles', name)}] must be a table")
        _known_keys(prof, PROFILE_KEYS, path, "profiles", name)
        for key, value in prof.items():
            _check_profile_value(_PROFILE_TYPES[key], value, path, _dotted("profiles", name, key))


def _known_keys(table: dict[str, Any], known: tuple[str, ...], path: Path, *where: str) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(
                f"{path}: {_dotted(*where, key)}: unknown setting {visible(key)!r} (known: {', '.join(known)})"
            )


def _check_profile_value(kind: str, value: Any, path: Path, where: str) -> None:
    if kind == SECONDS:
        _profile_timeout(value, f"{path}: {where}")
        return
    if not isinstance(value, bool if kind == BOOL else str):
        raise ConfigError(f"{path}: {where} must be {'true or false' if kind == BOOL else 'text'}")
    if kind == URL and isinstance(value, str) and parse_server(value, f"{path}: {where}").password:
        raise ConfigError(
            f"{path}: {where} contains a password. dvmirror never keeps passwords on disk; "
            "remove it and use DVMIRROR_PASSWORD, the OS keyring or the prompt"
        )


def _flat_keymap(keymap: Any, path: Path) -> dict[str, str]:
    """``[keymap]`` as binding id → keys; ``explorer.find = "f"`` (a TOML dotted key) and a
    ``[keymap.explorer]`` table both give the id ``explorer.find``."""
    if not isinstance(keymap, dict):
        raise ConfigError(f'{path}: [keymap] must be a table of binding id = "keys"')
    flat: dict[str, str] = {}
    for name, value in keymap.items():
        items = value.items() if isinstance(value, dict) else [("", value)]
        for action, key in items:
            binding_id = f"{name}.{action}" if action else name
            if not isinstance(key, str) or not key or visible(key) != key:  # no control characters
                raise ConfigError(f'{path}: keymap.{visible(binding_id)} must be a key name such as "s" or "ctrl+f"')
            flat[binding_id] = key
    return flat


def _refuse_passwords(data: dict[str, Any], path: Path, prefix: str) -> None:
    for key, value in data.items():
        if key.lower() in _PASSWORD_KEYS:
            where = f"[{prefix}] " if prefix else ""
            raise ConfigError(
                f"{path}: {where}has a {key!r} key. dvmirror never reads passwords from files; remove it "
                "and use DVMIRROR_PASSWORD (or GOVC_PASSWORD), the OS keyring or the prompt"
            )
        if isinstance(value, dict):
            _refuse_passwords(value, path, f"{prefix}.{key}" if prefix else key)


# -- resolution ----------------------------------------------------------------------------

_Thunk = Callable[[], Any]
"""A deferred value: parsed only if it is the one used, so an overridden bad value is harmless."""


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value and not_utf8(value):
        raise ConfigError(f"{name} is not valid UTF-8 text")
    return value if value not in (None, "") else None


def not_utf8(text: str) -> bool:
    """True when ``text`` holds bytes that were not UTF-8 (Python's surrogate escapes in
    ``sys.argv`` and ``os.environ``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _const(value: Any) -> _Thunk:
    return lambda: value


def _parsed(text: Any, source: str, parse: Callable[[Any, str], T]) -> Callable[[], T]:
    return lambda: parse(text, source)


def _not_bool(text: str, source: str) -> bool:
    return not parse_bool(text, source)


_TEXT_PARSERS: dict[str, Callable[[str, str], Any]] = {
    BOOL: parse_bool,
    SECONDS: parse_timeout,
    THUMBPRINT: normalize_thumbprint,
}
"""How a flag's or a variable's text becomes the value of each kind of setting."""
_PROFILE_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    SECONDS: _profile_timeout,
    THUMBPRINT: normalize_thumbprint,
}
"""How a profile's TOML value (its type checked by :func:`load_config_file`) becomes one."""


class _Layer:
    """One level of the precedence: for each setting, a deferred value and its source.

    The user and password inside a URL setting rank after the level's own user and password
    (as in govc: ``GOVC_USERNAME`` beats the user inside ``GOVC_URL``).
    """

    def __init__(self) -> None:
        self.entries: dict[str, list[tuple[_Thunk, str]]] = {}
        self.fallbacks: dict[str, list[tuple[_Thunk, str]]] = {}

    def put(self, name: str, thunk: _Thunk, source: str) -> None:
        self.entries.setdefault(name, []).append((thunk, source))

    def server(self, text: str, source: str, *, port: tuple[str, str] | None = None) -> None:
        """A URL-ish setting: the server, and a user and password of lower rank."""
        cache: list[ServerUrl] = []

        def url() -> ServerUrl:
            if not cache:
                parsed = parse_server(text, source)
                if port is not None:
                    parsed = replace(parsed, port=parse_port(*port))
                cache.append(parsed)
            return cache[0]

        self.put("server", url, source)
        self.fallbacks.setdefault("user", []).append((lambda: url().user, source))
        self.fallbacks.setdefault("password", []).append((lambda: url().password, source))

    def resolve(self, name: str) -> tuple[Any, str] | None:
        for thunk, source in (*self.entries.get(name, ()), *self.fallbacks.get(name, ())):
            value = thunk()
            if value is not None and value != "":
                return value, source
        return None


def _resolve(layers: list[_Layer], name: str) -> tuple[Any, str] | None:
    for layer in layers:
        found = layer.resolve(name)
        if found is not None:
            return found
    return None


def _flag_layer(args: argparse.Namespace, settings: tuple[Setting, ...]) -> _Layer:
    layer = _Layer()
    for s in settings:
        value = _arg(args, s.name)
        if value is None:
            continue
        if s.kind == URL:
            layer.server(value, s.flag)
        elif s.kind in _TEXT_PARSERS and isinstance(value, str):  # booleans arrive parsed by argparse
            layer.put(s.name, _parsed(value, s.flag, _TEXT_PARSERS[s.kind]), s.flag)
        else:
            layer.put(s.name, _const(value), s.flag)
    return layer


def _variable_layer(environ: Mapping[str, str], settings: tuple[Setting, ...], column: str) -> _Layer:
    """The layer of one family of variables: ``column`` is ``dvmirror``, ``govc`` or ``vmware``."""
    layer = _Layer()
    for s in settings:
        var = str(getattr(s, column))
        text = _env(environ, var) if var else None
        if text is None:
            continue
        if s.kind == URL:
            port_var = s.vmware_port if column == "vmware" else ""
            port = _env(environ, port_var) if port_var else None
            layer.server(text, var, port=(port, port_var) if port else None)
            continue
        parse = _not_bool if column == "vmware" and s.vmware_negated else _TEXT_PARSERS.get(s.kind)
        layer.put(s.name, _parsed(text, var, parse) if parse else _const(text), var)
    return layer


def _profile_layer(profile: Mapping[str, Any], source: str, settings: tuple[Setting, ...]) -> _Layer:
    """The chosen profile (never a password: :func:`load_config_file` refused it)."""
    layer = _Layer()
    for s in settings:
        if not s.profile or s.profile not in profile:
            continue
        value = profile[s.profile]
        if s.kind == URL:
            layer.server(value, source)
        elif s.kind in _PROFILE_PARSERS:
            layer.put(s.name, _parsed(value, f"{source} {s.profile}", _PROFILE_PARSERS[s.kind]), source)
        else:
            layer.put(s.name, _const(value), source)
    return layer


def _environment_layers(
    args: argparse.Namespace, environ: Mapping[str, str], settings: tuple[Setting, ...] = SETTINGS
) -> list[_Layer]:
    """Levels 1-4 of the precedence: the flags, then DVMIRROR_*, GOVC_* and VMWARE_*."""
    return [
        _flag_layer(args, settings),
        _variable_layer(environ, settings, "dvmirror"),
        _variable_layer(environ, settings, "govc"),
        _variable_layer(environ, settings, "vmware"),
    ]


def _arg(args: argparse.Namespace, name: str) -> Any:
    """A flag's value; missing, ``None`` and '' all mean not given."""
    value = getattr(args, name, None)
    return None if value == "" else value


@dataclass(frozen=True)
class _ConfigFile:
    """The profile file and the chosen profile."""

    path: Path
    path_source: str
    """``--config``, ``DVMIRROR_CONFIG`` or ``default``."""
    data: dict[str, Any]
    profile_name: str = ""
    profile_source: str = ""
    profile: dict[str, Any] = field(default_factory=dict)


def _read_config(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[Path, str, dict[str, Any]]:
    """``(path, where the path came from, checked contents)`` of the profile file.

    The file given by ``--config`` or ``DVMIRROR_CONFIG`` must exist; the default one
    (:func:`default_config_path`) is read if present, else the contents are empty.
    """
    if _arg(args, "config"):
        text, path_source = str(_arg(args, "config")), "--config"
    else:
        text, path_source = _env(environ, "DVMIRROR_CONFIG") or "", "DVMIRROR_CONFIG"
    if not text:
        default = default_config_path()
        return default, "default", load_config_file(default, required=False)
    path = Path(os.path.expanduser(text))
    return path, path_source, load_config_file(path, required=True)


def _config_file(args: argparse.Namespace, environ: Mapping[str, str]) -> _ConfigFile:
    """The profile file (:func:`_read_config`) and its profile chosen by ``--profile``,
    ``DVMIRROR_PROFILE`` or ``default_profile``."""
    path, path_source, data = _read_config(args, environ)
    name, source = "", ""
    if _arg(args, "profile"):
        name, source = str(_arg(args, "profile")), "--profile"
    elif _env(environ, "DVMIRROR_PROFILE"):
        name, source = str(environ["DVMIRROR_PROFILE"]), "DVMIRROR_PROFILE"
    elif data.get("default_profile"):
        name, source = str(data["default_profile"]), f"default_profile in {path}"
    profiles: dict[str, Any] = data.get("profiles", {})
    if name and name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        where = str(path) if data else f"{path} (missing or empty)"
        raise ConfigError(f"unknown profile {name!r} (from {source}); profiles in {where}: {known}")
    return _ConfigFile(path, path_source, data, name, source, profiles[name] if name else {})


def _profile_source(cfg: _ConfigFile) -> str:
    return f"profile {cfg.profile_name!r} ({cfg.path})"


def resolve_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    """Combine flags, environment and the profile file (see the module docstring for the order).

    ``args`` is a namespace from a parser given :func:`add_connection_arguments` (missing
    attributes count as not given); ``environ`` is usually ``os.environ``. Raises
    :class:`ConfigError`.
    """
    cfg = _config_file(args, environ)
    layers = _environment_layers(args, environ)
    if cfg.profile:
        layers.append(_profile_layer(cfg.profile, _profile_source(cfg), SETTINGS))
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for s in SETTINGS:
        found = _resolve(layers, s.name)
        if found is not None:
            values[s.name], sources[s.name] = found
    if cfg.profile_name:
        sources["profile"] = cfg.profile_source
    if cfg.data:
        sources["config_file"] = cfg.path_source
    for key in ("keymap", "theme"):
        if cfg.data.get(key):
            sources[key] = str(cfg.path)

    fields: dict[str, Any] = {}
    for s in SETTINGS:
        if s.kind == URL or s.name not in values:
            continue
        value = values[s.name]
        fields[s.name] = bool(value) if s.kind == BOOL else float(value) if s.kind == SECONDS else str(value)
        if s.path_list:
            fields[s.name] = _expand_list(fields[s.name])
    for ca in filter(None, str(fields.get("ca_file", "")).split(os.pathsep)):
        _check_not_special(Path(ca), f"CA file (from {sources.get('ca_file', 'default')})")
    server: ServerUrl | None = values.get("server")
    if server is not None:
        fields.update(server=server.host, port=server.port, scheme=server.scheme, path=server.path)
    return Settings(
        **fields,
        profile=cfg.profile_name,
        keymap=dict(cfg.data.get("keymap", {})),
        theme=str(cfg.data.get("theme", "")),
        config_file=str(cfg.path) if cfg.data else "",
        sources=sources,
    )


def preferences(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[dict[str, str], str]:
    """``(keymap, theme)`` of the config file, without resolving any connection setting.

    The demo lab and snapshots need only these; a bad ``GOVC_URL`` must not stop them.
    """
    _, _, data = _read_config(args, environ)
    return dict(data.get("keymap", {})), str(data.get("theme", ""))


def _check_not_special(path: Path, what: str) -> None:
    """Refuse a FIFO, device, socket or directory where a file is expected (reading it would
    hang or fail obscurely); a missing file is left to the code that opens it."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if stat.S_ISDIR(mode):
        raise ConfigError(f"{what} {path} is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise ConfigError(f"{what} {path} is not a regular file (a FIFO, a device or a socket): refused")


def read_only_hint(source: str) -> str:
    """What to do about read-only mode, naming where it was set (``Settings.source``)."""
    if source.startswith("--"):
        return f"Read-only mode comes from {source}; start without it to make changes."
    if source.startswith("profile"):
        return f"Read-only mode comes from read_only = true in {source}; use --no-read-only to make changes."
    if source == "default":
        return "Read-only mode is on; start without --read-only to make changes."
    return f"Read-only mode comes from {source}; unset it (or use --no-read-only) to make changes."


def resolve_read_only(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[bool, str]:
    """``(read_only, source)`` for the demo lab and snapshots, which need no connection.

    The same precedence as :func:`resolve_settings` (``--read-only``/``--no-read-only``,
    ``DVMIRROR_READ_ONLY``, the chosen profile's ``read_only``), without parsing any other
    setting: a bad ``GOVC_URL`` must not stop the demo lab. The profile file is read only when
    neither the flag nor the variable decides.
    """
    read_only = tuple(s for s in SETTINGS if s.name == "read_only")
    found = _resolve(_environment_layers(args, environ, read_only), "read_only")
    if found is None:
        cfg = _config_file(args, environ)
        found = _profile_layer(cfg.profile, _profile_source(cfg), read_only).resolve("read_only")
    return (bool(found[0]), found[1]) if found else (False, "default")


def _expand_list(text: str) -> str:
    """``~`` expansion in each element of an ``os.pathsep`` list."""
    return os.pathsep.join(os.path.expanduser(p) for p in text.split(os.pathsep)) if text else ""


def keyring_password(settings: Settings) -> Settings:
    """Fill a missing password from the OS keyring, if the ``keyring`` module is installed.

    The entry is service ``dvmirror``, user name ``USER@HOST`` (store one with
    ``keyring set dvmirror administrator@vsphere.local@vcsa01.lab.local``). Any keyring
    failure is ignored: the caller then prompts.
    """
    if settings.password or not settings.user or not settings.server:
        return settings
    try:
        import keyring  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return settings
    try:
        password = keyring.get_password(KEYRING_SERVICE, f"{settings.user}@{settings.server}")
    except Exception:  # a locked or absent keyring backend is not an error here
        return settings
    return settings.with_password(password, "OS keyring") if password else settings


def read_known_hosts(files: str, host_port: str) -> str:
    """The thumbprint pinned for ``host_port`` in govc known-hosts file(s).

    ``files`` is a list separated by ``os.pathsep``; missing files are skipped as govc does.
    Returns '' when there is no entry. Raises :class:`ConfigError` for an unreadable file or
    a malformed thumbprint.
    """
    found = ""
    for name in files.split(os.pathsep):
        if not name:
            continue
        path = Path(os.path.expanduser(name))
        try:
            lines = read_regular_file(path, CONFIG_SIZE_LIMIT).decode("utf-8").splitlines()
        except FileNotFoundError:
            continue
        except FileProblem as e:
            raise ConfigError(f"known-hosts file {path} {e}") from None
        except UnicodeDecodeError as e:
            raise ConfigError(f"known-hosts file {path} is not UTF-8 text (byte {e.start} cannot be decoded)") from None
        for n, line in enumerate(lines, 1):
            parts = line.strip().split(" ", 1)
            if len(parts) != 2 or line.lstrip().startswith("#"):
                continue
            key = parts[0] if re.search(r":\d+$", parts[0]) else f"{parts[0]}:443"
            if key == host_port:
                found = normalize_thumbprint(parts[1], f"{path}:{n}")
    return found
