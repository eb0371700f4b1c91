"""Connection settings: command-line flags, environment variables and the profile file.

Each setting is taken from the first of these places that has it:

1. command-line flags: ``--server``, ``--user``, ``--password``, ``--insecure``, ``--ca-file``,
   ``--thumbprint``, ``--known-hosts``, ``--datacenter``, ``--read-only``, ``--timeout``
   (``--profile`` and ``--config`` choose the profile and the file);
2. ``DVMIRROR_*`` variables: ``DVMIRROR_SERVER``, ``DVMIRROR_USER``, ``DVMIRROR_PASSWORD``,
   ``DVMIRROR_INSECURE``, ``DVMIRROR_CA_FILE``, ``DVMIRROR_THUMBPRINT``, ``DVMIRROR_KNOWN_HOSTS``,
   ``DVMIRROR_DATACENTER``, ``DVMIRROR_READ_ONLY``, ``DVMIRROR_TIMEOUT`` (``DVMIRROR_PROFILE``,
   ``DVMIRROR_CONFIG``);
3. govc's variables: ``GOVC_URL`` (``user:password@host`` allowed; the scheme defaults to https
   and the path to ``/sdk``), ``GOVC_USERNAME``, ``GOVC_PASSWORD``, ``GOVC_INSECURE`` (1/true),
   ``GOVC_TLS_CA_CERTS``, ``GOVC_TLS_KNOWN_HOSTS``, ``GOVC_DATACENTER``;
4. the VMware Ansible/SDK variables: ``VMWARE_HOST``, ``VMWARE_PORT``, ``VMWARE_USER``,
   ``VMWARE_PASSWORD``, ``VMWARE_VALIDATE_CERTS`` (false means insecure);
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

    [keymap]
    mark_source = "s"

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

PROFILE_KEYS = (
    "url",
    "user",
    "datacenter",
    "read_only",
    "insecure",
    "ca_file",
    "thumbprint",
    "known_hosts",
    "timeout",
)
TOP_LEVEL_KEYS = ("default_profile", "theme", "keymap", "profiles")
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
        rows: list[tuple[str, str, str]] = [
            ("server", self.url if self.server else "(none)", self.source("server")),
            ("user", self.user or "(none)", self.source("user")),
            ("password", "(set)" if self.password else "(not set)", self.source("password")),
            ("insecure", _yes(self.insecure), self.source("insecure")),
            ("ca_file", self.ca_file or "(none)", self.source("ca_file")),
            ("thumbprint", self.thumbprint or "(none)", self.source("thumbprint")),
            ("known_hosts", self.known_hosts or "(none)", self.source("known_hosts")),
            ("datacenter", self.datacenter or "(all)", self.source("datacenter")),
            ("read_only", _yes(self.read_only), self.source("read_only")),
            ("timeout", f"{self.timeout:g} s", self.source("timeout")),
            ("profile", self.profile or "(none)", self.source("profile")),
            ("config_file", self.config_file or "(none)", self.source("config_file")),
            ("theme", self.theme or "(default)", self.source("theme")),
        ]
        rows.extend((f"keymap.{action}", key, self.source("keymap")) for action, key in sorted(self.keymap.items()))
        return rows

    def with_password(self, password: str, source: str = "prompt") -> Settings:
        """A copy with ``password`` set (after a prompt)."""
        return replace(self, password=password, sources={**self.sources, "password": source})


def _yes(value: bool) -> str:
    return "yes" if value else "no"


# -- argparse ------------------------------------------------------------------------------


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the connection flags to ``parser`` (all default to ``None`` = not given)."""
    g = parser.add_argument_group("vCenter connection (flags beat DVMIRROR_*, GOVC_*, VMWARE_* and the profile)")
    g.add_argument(
        "--server",
        metavar="URL",
        help="vCenter: host, host:port or https://host/sdk; user[:password]@ inside is allowed as in GOVC_URL",
    )
    g.add_argument("--user", metavar="NAME", help="user name, e.g. administrator@vsphere.local")
    g.add_argument(
        "--password",
        metavar="TEXT",
        help="password (discouraged: visible to other users and kept in shell history; "
        "prefer DVMIRROR_PASSWORD or the prompt)",
    )
    g.add_argument(
        "--insecure",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="do not verify the server's TLS certificate (shown on screen)",
    )
    g.add_argument("--ca-file", metavar="PEM", help="trust the CA certificate(s) in this PEM file")
    g.add_argument("--thumbprint", metavar="AB:CD:...", help="trust a certificate with this SHA-1 thumbprint")
    g.add_argument("--known-hosts", metavar="FILE", help="govc-style known-hosts file of pinned thumbprints")
    g.add_argument("--datacenter", metavar="NAME", help="only this datacenter")
    g.add_argument("--profile", metavar="NAME", help="profile of the config file to use")
    g.add_argument("--config", metavar="FILE", help="config file (default: config.toml in the user config directory)")
    g.add_argument(
        "--read-only",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="never change anything on vCenter",
    )
    g.add_argument(
        "--timeout",
        metavar="SECONDS",
        help=f"give up when vCenter does not answer for this long: to connect, to start an answer, or in the "
        f"middle of one (default {DEFAULT_TIMEOUT:g}; DVMIRROR_TIMEOUT, profile key timeout)",
    )


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


def _check_config(data: dict[str, Any], path: Path) -> None:
    """Refuse passwords on disk and unknown or mistyped keys."""
    _refuse_passwords(data, path, "")
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise ConfigError(f"{path}: unknown setting {key!r} (known: {', '.join(TOP_LEVEL_KEYS)})")
    for key in ("default_profile", "theme"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError(f"{path}: {key} must be text")
    keymap = data.get("keymap", {})
    if not isinstance(keymap, dict):
        raise ConfigError(f'{path}: [keymap] must be a table of action = "key"')
    for action, key in keymap.items():
        if not isinstance(key, str) or not key or visible(key) != key:  # no control characters
            raise ConfigError(f'{path}: keymap.{visible(action)} must be a key name such as "s" or "ctrl+f"')
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError(f"{path}: profiles must be tables such as [profiles.lab]")
    for name, prof in profiles.items():
        where = f"{path}: [profiles.{name}]"
        if not isinstance(prof, dict):
            raise ConfigError(f"{where} must be a table")
        for key, value in prof.items():
            if key not in PROFILE_KEYS:
                raise ConfigError(f"{where}: unknown setting {key!r} (known: {', '.join(PROFILE_KEYS)})")
            if key == "timeout":
                _profile_timeout(value, f"{where}: timeout")
                continue
            want = bool if key in ("read_only", "insecure") else str
            if not isinstance(value, want):
                raise ConfigError(f"{where}: {key} must be {'true or false' if want is bool else 'text'}")
        if "url" in prof:
            url = parse_server(prof["url"], f"{where} url")
            if url.password:
                raise ConfigError(
                    f"{where}: the url contains a password. dvmirror never keeps passwords on disk; "
                    "remove it and use DVMIRROR_PASSWORD, the OS keyring or the prompt"
                )


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


def _parsed(text: str, source: str, parse: Callable[[str, str], T]) -> Callable[[], T]:
    return lambda: parse(text, source)


class _Layer:
    """One level of the precedence: for each setting, a deferred value and its source."""

    def __init__(self) -> None:
        self.entries: dict[str, list[tuple[_Thunk, str]]] = {}

    def put(self, name: str, thunk: _Thunk | None, source: str) -> None:
        if thunk is not None:
            self.entries.setdefault(name, []).append((thunk, source))

    def server(self, text: str | None, source: str, *, port: tuple[str, str] | None = None) -> None:
        """A URL-ish setting; its user and password rank after the level's own variables."""
        if text is None:
            return
        cache: list[ServerUrl] = []

        def url() -> ServerUrl:
            if not cache:
                parsed = parse_server(text, source)
                if port is not None:
                    parsed = replace(parsed, port=parse_port(*port))
                cache.append(parsed)
            return cache[0]

        self.put("server", url, source)
        self.put("user", lambda: url().user, source)
        self.put("password", lambda: url().password, source)


def _resolve(layers: list[_Layer], name: str) -> tuple[Any, str] | None:
    for layer in layers:
        for thunk, source in layer.entries.get(name, ()):
            value = thunk()
            if value is not None and value != "":
                return value, source
    return None


def resolve_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    """Combine flags, environment and the profile file (see the module docstring for the order).

    ``args`` is a namespace from a parser given :func:`add_connection_arguments` (missing
    attributes count as not given); ``environ`` is usually ``os.environ``. Raises
    :class:`ConfigError`.
    """

    def arg(name: str) -> Any:
        value = getattr(args, name, None)
        return None if value == "" else value

    # The profile file and the profile name.
    cfg_text = arg("config") or _env(environ, "DVMIRROR_CONFIG")
    cfg_path = Path(os.path.expanduser(cfg_text)) if cfg_text else default_config_path()
    data = load_config_file(cfg_path, required=cfg_text is not None)

    profile_name, profile_source = "", ""
    if arg("profile"):
        profile_name, profile_source = str(arg("profile")), "--profile"
    elif _env(environ, "DVMIRROR_PROFILE"):
        profile_name, profile_source = str(environ["DVMIRROR_PROFILE"]), "DVMIRROR_PROFILE"
    elif data.get("default_profile"):
        profile_name, profile_source = str(data["default_profile"]), f"default_profile in {cfg_path}"
    profiles: dict[str, Any] = data.get("profiles", {})
    profile: dict[str, Any] = {}
    if profile_name:
        if profile_name not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            where = str(cfg_path) if data else f"{cfg_path} (missing or empty)"
            raise ConfigError(f"unknown profile {profile_name!r} (from {profile_source}); profiles in {where}: {known}")
        profile = profiles[profile_name]

    flags, dvm, govc, vmw, prof = _Layer(), _Layer(), _Layer(), _Layer(), _Layer()

    def env(layer: _Layer, setting: str, var: str, parse: Callable[[str, str], Any] | None = None) -> None:
        text = _env(environ, var)
        if text is not None:
            layer.put(setting, _parsed(text, var, parse) if parse else _const(text), var)

    def flag(setting: str, name: str, option: str, parse: Callable[[str, str], Any] | None = None) -> None:
        value = arg(name)
        if value is not None:
            flags.put(setting, _parsed(value, option, parse) if parse else _const(value), option)

    # 1. flags (an explicit --user beats the user inside --server, as in govc)
    flag("user", "user", "--user")
    flag("password", "password", "--password")
    flags.server(arg("server"), "--server")
    flag("insecure", "insecure", "--insecure")
    flag("ca_file", "ca_file", "--ca-file")
    flag("thumbprint", "thumbprint", "--thumbprint", normalize_thumbprint)
    flag("known_hosts", "known_hosts", "--known-hosts")
    flag("datacenter", "datacenter", "--datacenter")
    flag("read_only", "read_only", "--read-only")
    flag("timeout", "timeout", "--timeout", parse_timeout)

    # 2. DVMIRROR_*
    env(dvm, "user", "DVMIRROR_USER")
    env(dvm, "password", "DVMIRROR_PASSWORD")
    dvm.server(_env(environ, "DVMIRROR_SERVER"), "DVMIRROR_SERVER")
    env(dvm, "insecure", "DVMIRROR_INSECURE", parse_bool)
    env(dvm, "ca_file", "DVMIRROR_CA_FILE")
    env(dvm, "thumbprint", "DVMIRROR_THUMBPRINT", normalize_thumbprint)
    env(dvm, "known_hosts", "DVMIRROR_KNOWN_HOSTS")
    env(dvm, "datacenter", "DVMIRROR_DATACENTER")
    env(dvm, "read_only", "DVMIRROR_READ_ONLY", parse_bool)
    env(dvm, "timeout", "DVMIRROR_TIMEOUT", parse_timeout)

    # 3. GOVC_*
    env(govc, "user", "GOVC_USERNAME")
    env(govc, "password", "GOVC_PASSWORD")
    govc.server(_env(environ, "GOVC_URL"), "GOVC_URL")
    env(govc, "insecure", "GOVC_INSECURE", parse_bool)
    env(govc, "ca_file", "GOVC_TLS_CA_CERTS")
    env(govc, "known_hosts", "GOVC_TLS_KNOWN_HOSTS")
    env(govc, "datacenter", "GOVC_DATACENTER")

    # 4. VMWARE_*
    env(vmw, "user", "VMWARE_USER")
    env(vmw, "password", "VMWARE_PASSWORD")
    vm_port = _env(environ, "VMWARE_PORT")
    vmw.server(_env(environ, "VMWARE_HOST"), "VMWARE_HOST", port=(vm_port, "VMWARE_PORT") if vm_port else None)
    env(vmw, "insecure", "VMWARE_VALIDATE_CERTS", lambda text, src: not parse_bool(text, src))

    # 5. the profile (never a password: load_config_file refused it)
    if profile:
        psrc = f"profile {profile_name!r} ({cfg_path})"
        for key in ("user", "datacenter", "ca_file", "known_hosts", "insecure", "read_only"):
            if key in profile:
                prof.put(key, _const(profile[key]), psrc)
        if "timeout" in profile:
            prof.put("timeout", _parsed(profile["timeout"], f"{psrc} timeout", _profile_timeout), psrc)
        if "thumbprint" in profile:
            prof.put("thumbprint", _parsed(profile["thumbprint"], f"{psrc} thumbprint", normalize_thumbprint), psrc)
        if "url" in profile:
            prof.server(profile["url"], psrc)

    layers = [flags, dvm, govc, vmw, prof]
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in (
        "server",
        "user",
        "password",
        "insecure",
        "ca_file",
        "thumbprint",
        "known_hosts",
        "datacenter",
        "read_only",
        "timeout",
    ):
        found = _resolve(layers, name)
        if found is not None:
            values[name], sources[name] = found
    if profile_name:
        sources["profile"] = profile_source
    if data:
        sources["config_file"] = "--config" if arg("config") else "DVMIRROR_CONFIG" if cfg_text else "default"
    if data.get("keymap"):
        sources["keymap"] = str(cfg_path)
    if data.get("theme"):
        sources["theme"] = str(cfg_path)

    ca_files = _expand_list(str(values.get("ca_file", "")))
    for ca in filter(None, ca_files.split(os.pathsep)):
        _check_not_special(Path(ca), f"CA file (from {sources.get('ca_file', 'default')})")

    server: ServerUrl | None = values.get("server")
    return Settings(
        server=server.host if server else "",
        port=server.port if server else DEFAULT_PORT,
        scheme=server.scheme if server else "https",
        path=server.path if server else DEFAULT_PATH,
        user=str(values.get("user", "")),
        password=str(values.get("password", "")),
        insecure=bool(values.get("insecure", False)),
        ca_file=ca_files,
        known_hosts=_expand_list(str(values.get("known_hosts", ""))),
        thumbprint=str(values.get("thumbprint", "")),
        datacenter=str(values.get("datacenter", "")),
        read_only=bool(values.get("read_only", False)),
        timeout=float(values.get("timeout", DEFAULT_TIMEOUT)),
        profile=profile_name,
        keymap=dict(data.get("keymap", {})),
        theme=str(data.get("theme", "")),
        config_file=str(cfg_path) if data else "",
        sources=sources,
    )


def preferences(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[dict[str, str], str]:
    """``(keymap, theme)`` of the config file, without resolving any connection setting.

    The demo lab and snapshots need only these; a bad ``GOVC_URL`` must not stop them.
    """
    cfg_text = getattr(args, "config", None) or _env(environ, "DVMIRROR_CONFIG")
    cfg_path = Path(os.path.expanduser(cfg_text)) if cfg_text else default_config_path()
    data = load_config_file(cfg_path, required=cfg_text is not None)
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
    setting: a bad ``GOVC_URL`` must not stop the demo lab.
    """
    flag = getattr(args, "read_only", None)
    if flag is not None:
        return bool(flag), "--read-only" if flag else "--no-read-only"
    text = _env(environ, "DVMIRROR_READ_ONLY")
    if text is not None:
        return parse_bool(text, "DVMIRROR_READ_ONLY"), "DVMIRROR_READ_ONLY"
    cfg_text = getattr(args, "config", None) or _env(environ, "DVMIRROR_CONFIG")
    cfg_path = Path(os.path.expanduser(cfg_text)) if cfg_text else default_config_path()
    data = load_config_file(cfg_path, required=cfg_text is not None)
    name = getattr(args, "profile", None) or _env(environ, "DVMIRROR_PROFILE") or data.get("default_profile")
    profiles: dict[str, Any] = data.get("profiles", {})
    if name and name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigError(f"unknown profile {name!r}; profiles in {cfg_path}: {known}")
    if name and "read_only" in profiles[name]:
        return bool(profiles[name]["read_only"]), f"profile {name!r} ({cfg_path})"
    return False, "default"


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
