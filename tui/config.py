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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from tui.configfile import FileProblem as FileProblem
from tui.configfile import check_not_special
from tui.configfile import default_config_path as default_config_path
from tui.configfile import load_config_file as load_config_file
from tui.configfile import read_known_hosts as read_known_hosts
from tui.configfile import read_regular_file as read_regular_file
from tui.setting_table import (
    ALLOWED_SESSIONS,
    BOOL,
    DEFAULT_PATH,
    DEFAULT_PORT,
    PROFILE_PARSERS,
    SECONDS,
    SETTINGS,
    TEXT_PARSERS,
    URL,
    ServerUrl,
    Setting,
    not_bool,
    parse_port,
)
from tui.setting_table import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from tui.setting_table import ConfigError as ConfigError
from tui.setting_table import not_utf8 as not_utf8
from tui.setting_table import parse_server as parse_server
from tui.setting_table import redact_url as redact_url

T = TypeVar("T")

KEYRING_SERVICE = "dvmirror"


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
    live: bool = True
    """Follow changes after the load (``WaitForUpdatesEx``); ``--no-live`` loads once."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds to wait on the network (see :data:`DEFAULT_TIMEOUT`)."""
    profile: str = ""
    keymap: dict[str, str] = field(default_factory=dict, hash=False)
    theme: str = ""
    config_file: str = ""
    """The profile file that was read ('' if none)."""
    allowed_sessions: tuple[str, ...] | None = None
    """config.toml's ``allowed_sessions`` (the profile's, else the top level's); ``None``: not set."""
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


# -- resolution ----------------------------------------------------------------------------

_Thunk = Callable[[], Any]
"""A deferred value: parsed only if it is the one used, so an overridden bad value is harmless."""


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value and not_utf8(value):
        raise ConfigError(f"{name} is not valid UTF-8 text")
    return value if value not in (None, "") else None


def _const(value: Any) -> _Thunk:
    return lambda: value


def _parsed(text: Any, source: str, parse: Callable[[Any, str], T]) -> Callable[[], T]:
    return lambda: parse(text, source)


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
        elif s.kind in TEXT_PARSERS and isinstance(value, str):  # booleans arrive parsed by argparse
            layer.put(s.name, _parsed(value, s.flag, TEXT_PARSERS[s.kind]), s.flag)
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
        parse = not_bool if column == "vmware" and s.vmware_negated else TEXT_PARSERS.get(s.kind)
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
        elif s.kind in PROFILE_PARSERS:
            layer.put(s.name, _parsed(value, f"{source} {s.profile}", PROFILE_PARSERS[s.kind]), source)
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


def _read_config(
    args: argparse.Namespace, environ: Mapping[str, str], profile_errors: dict[str, str] | None = None
) -> tuple[Path, str, dict[str, Any]]:
    """``(path, where the path came from, checked contents)`` of the profile file.

    The file given by ``--config`` or ``DVMIRROR_CONFIG`` must exist; the default one
    (:func:`default_config_path`) is read if present, else the contents are empty. With
    ``profile_errors``, bad profiles are put there instead of failing (:func:`load_config_file`).
    """
    if _arg(args, "config"):
        text, path_source = str(_arg(args, "config")), "--config"
    else:
        text, path_source = _env(environ, "DVMIRROR_CONFIG") or "", "DVMIRROR_CONFIG"
    if not text:
        default = default_config_path()
        return default, "default", load_config_file(default, required=False, profile_errors=profile_errors)
    path = Path(os.path.expanduser(text))
    return path, path_source, load_config_file(path, required=True, profile_errors=profile_errors)


def _config_file(args: argparse.Namespace, environ: Mapping[str, str], *, lenient: bool = False) -> _ConfigFile:
    """The profile file (:func:`_read_config`) and its profile chosen by ``--profile``,
    ``DVMIRROR_PROFILE`` or ``default_profile``. ``lenient``: only the chosen profile's own
    problems fail (the others' are for whoever chooses them)."""
    errors: dict[str, str] | None = {} if lenient else None
    path, path_source, data = _read_config(args, environ, errors)
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
    if errors and name in errors:
        raise ConfigError(errors[name])
    return _ConfigFile(path, path_source, data, name, source, profiles[name] if name else {})


def _profile_source(cfg: _ConfigFile) -> str:
    return f"profile {cfg.profile_name!r} ({cfg.path})"


def resolve_settings(args: argparse.Namespace, environ: Mapping[str, str], *, lenient: bool = False) -> Settings:
    """Combine flags, environment and the profile file (see the module docstring for the order).

    ``args`` is a namespace from a parser given :func:`add_connection_arguments` (missing
    attributes count as not given); ``environ`` is usually ``os.environ``. Raises
    :class:`ConfigError`: for a bad value of any profile, or with ``lenient`` (contexts, where
    each profile is judged on its own) only of the chosen one.
    """
    cfg = _config_file(args, environ, lenient=lenient)
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
        check_not_special(Path(ca), f"CA file (from {sources.get('ca_file', 'default')})")
    server: ServerUrl | None = values.get("server")
    if server is not None:
        fields.update(server=server.host, port=server.port, scheme=server.scheme, path=server.path)
    return Settings(
        **fields,
        profile=cfg.profile_name,
        keymap=dict(cfg.data.get("keymap", {})),
        theme=str(cfg.data.get("theme", "")),
        allowed_sessions=cfg.profile.get(ALLOWED_SESSIONS, cfg.data.get(ALLOWED_SESSIONS)),
        config_file=str(cfg.path) if cfg.data else "",
        sources=sources,
    )


def preferences(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[dict[str, str], str]:
    """``(keymap, theme)`` of the config file, without resolving any connection setting.

    The demo lab and snapshots need only these; a bad ``GOVC_URL`` must not stop them.
    """
    _, _, data = _read_config(args, environ)
    return dict(data.get("keymap", {})), str(data.get("theme", ""))


def allowed_sessions(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[str, ...] | None:
    """config.toml's ``allowed_sessions`` for the demo lab and snapshots (the chosen profile's, else
    the top level's), without resolving any connection setting; ``None`` when not set."""
    cfg = _config_file(args, environ, lenient=True)
    found: tuple[str, ...] | None = cfg.profile.get(ALLOWED_SESSIONS, cfg.data.get(ALLOWED_SESSIONS))
    return found


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
