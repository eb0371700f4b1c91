"""Contexts: the vCenters an operator can switch between (the profiles of ``config.toml``).

Each ``[profiles.NAME]`` of the profile file is a context. A context's settings are those of
``dvmirror --profile NAME``, with one difference: the flags and variables that name a server
(``--server``, ``DVMIRROR_SERVER``, ``GOVC_URL``, ``VMWARE_HOST``/``VMWARE_PORT``) never replace
a profile's ``url``, and those that name a user (``--user``, ``DVMIRROR_USER``,
``GOVC_USERNAME``, ``VMWARE_USER``) do not replace a profile's ``user``. Every other setting
(``--insecure``, ``--timeout``, ``--read-only``, a password given by ``--password`` or a
``*_PASSWORD`` variable) follows the usual precedence, so a password given that way is offered to
every context: store each vCenter's own password in the OS keyring when they differ.

When the command line (or a variable) names a server itself, or asks for ``--demo`` or
``--snapshot``, that source is one more context, *ad hoc*, listed first and current; otherwise
the current context is the chosen profile (``--profile``, ``DVMIRROR_PROFILE`` or
``default_profile``), or none.

Nothing here imports Textual or pyVmomi, and nothing here touches the network.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.config import ConfigError, Settings, _read_config, resolve_settings
from tui.lookup import LookupIndex
from tui.model import Inventory
from tui.setting_table import SETTINGS, URL, parse_server

_SERVER_VARIABLES = tuple(
    v for s in SETTINGS if s.kind == URL for v in (s.dvmirror, s.govc, s.vmware, s.vmware_port) if v
)
_USER_VARIABLES = tuple(v for s in SETTINGS if s.name == "user" for v in (s.dvmirror, s.govc, s.vmware) if v)


@dataclass(frozen=True)
class Context:
    """One vCenter (or the demo lab, or a snapshot) that dvmirror can show."""

    name: str
    settings: Settings | None = None
    """How to reach it (``None`` when its settings could not be resolved: see ``error``)."""
    error: str = ""
    """Why its settings could not be resolved (a :class:`ConfigError` message)."""
    current: bool = False
    """The context the command line chose (the TUI starts on it)."""
    default: bool = False
    """The ``default_profile`` of the file."""
    adhoc: bool = False
    """Named by the command line or the variables, not by a profile."""
    offline: str = ""
    """``demo`` or the snapshot file, for an ad hoc context that needs no vCenter."""

    @property
    def vcenter(self) -> str:
        """The host of its vCenter ('' for the demo lab and snapshots)."""
        return self.settings.server if self.settings is not None and not self.offline else ""

    @property
    def where(self) -> str:
        """What it shows, for a list: the SDK URL, ``demo lab`` or ``snapshot FILE``."""
        if self.offline == "demo":
            return "demo lab"
        if self.offline:
            return f"snapshot {self.offline}"
        if self.settings is None or not self.settings.server:
            return ""
        return self.settings.url

    def row(self) -> dict[str, Any]:
        """The JSON row of ``dvmirror contexts --json``."""
        settings = self.settings
        return {
            "name": self.name,
            "vcenter": self.vcenter,
            "url": self.where,
            "user": settings.user if settings is not None and not self.offline else "",
            "read_only": bool(settings.read_only) if settings is not None else False,
            "current": self.current,
            "default": self.default,
            "adhoc": self.adhoc,
            "error": self.error,
        }


def _namespace(args: argparse.Namespace, **changes: Any) -> argparse.Namespace:
    values = dict(vars(args))
    values.update(changes)
    return argparse.Namespace(**values)


def profile_settings(name: str, args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    """The settings of profile ``name`` as a context (see the module docstring). Raises ConfigError
    for its own problems only: another profile's bad value is that profile's."""
    errors: dict[str, str] = {}
    _, _, data = _read_config(args, environ, errors)
    if name in errors:
        raise ConfigError(errors[name])
    profile: dict[str, Any] = data.get("profiles", {}).get(name, {})
    url = profile.get("url", "")
    names_user = bool(profile.get("user")) or bool(isinstance(url, str) and url and parse_server(url, name).user)
    dropped = set(_SERVER_VARIABLES) | {"DVMIRROR_PROFILE"}
    changes: dict[str, Any] = {"profile": name, "server": None, "demo": False, "snapshot": None}
    if names_user:
        dropped |= set(_USER_VARIABLES)
        changes["user"] = None
    env = {k: v for k, v in environ.items() if k not in dropped}
    settings = resolve_settings(_namespace(args, **changes), env, lenient=True)
    if not settings.server:
        raise ConfigError(f"profile {name!r} has no url")
    return settings


def list_contexts(args: argparse.Namespace, environ: Mapping[str, str]) -> list[Context]:
    """Every context: the ad hoc one first (if any), then the profiles in the file's order.

    Raises :class:`ConfigError` for a bad profile file or an unknown chosen profile (as
    ``dvmirror`` itself would); a profile whose settings are bad (a bad value in the file, no
    url) is listed with its ``error``, the chosen one too, and the others are not held up.
    """
    errors: dict[str, str] = {}
    _, _, data = _read_config(args, environ, errors)
    profiles: dict[str, Any] = data.get("profiles", {})
    default = str(data.get("default_profile", ""))
    contexts: list[Context] = []
    current = ""
    if getattr(args, "demo", False) or getattr(args, "snapshot", None):
        snapshot = getattr(args, "snapshot", None)
        offline = str(snapshot) if snapshot else "demo"
        name = Path(offline).name if snapshot else "demo"
        contexts.append(Context(_unique(name, profiles), Settings(), current=True, adhoc=True, offline=offline))
    else:
        try:
            chosen: Settings | None = resolve_settings(args, environ, lenient=True)
        except ConfigError as e:
            # The chosen profile's own bad value: listed (current) with it, as the others are.
            current = next((name for name, message in errors.items() if message == str(e)), "")
            if not current:
                raise
            chosen = None
        if chosen is not None and chosen.server and not chosen.source("server").startswith("profile"):
            contexts.append(Context(_unique(chosen.server, profiles), chosen, current=True, adhoc=True))
        elif chosen is not None:
            current = chosen.profile
    for name in profiles:
        try:
            settings: Settings | None = profile_settings(name, args, environ)
            error = ""
        except ConfigError as e:
            settings, error = None, str(e)
        contexts.append(Context(name, settings, error, current=name == current, default=name == default))
    return contexts


def _unique(name: str, profiles: Mapping[str, Any]) -> str:
    """An ad hoc context's name, never one of a profile."""
    shown = name or "ad hoc"
    while shown in profiles:
        shown += "*"
    return shown


@dataclass(frozen=True)
class ContextScope:
    """What the TUI knows of one context, for the finder's search of every context."""

    name: str
    where: str
    """Its vCenter URL, ``demo lab`` or ``snapshot FILE``."""
    inventory: Inventory | None = None
    index: LookupIndex | None = None
    """Its search index (``None`` until loaded and indexed)."""
    state: str = "not loaded"
    """``current``, ``loaded``, ``loading``, ``failed``, ``needs a password`` or ``not loaded``."""
    error: str = ""
    """Why it failed (as the backend said it)."""
