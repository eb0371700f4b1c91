"""Where the sessions' baselines (:mod:`tui.drift`) are kept between runs, so that a cron
``dvmirror sessions --check`` compares with what it saw the first time.

One JSON file, ``platformdirs.user_state_path("dvmirror") / "session-baselines.json"``
(``$XDG_STATE_HOME/dvmirror/…`` on Linux); ``$DVMIRROR_BASELINES`` moves it. Its shape::

    {"version": 1, "vcenters": {VCENTER: {SWITCH KEY: {SESSION KEY:
        {"fingerprint": str, "seen": "2026-12-01T15:00:00Z", "endpoints": [{"port", "vm", "vmKey",
         "nicKey", "nic", "mac", "host", "hostName", "owner", "entity"}]}}}}}

``VCENTER`` is the server dvmirror connects to (:func:`scope`: its SDK URL, without credentials,
else vCenter's own name); baselines do not depend on the switch's ``configVersion``. The demo lab and
snapshots keep their baselines in memory only (:class:`BaselineStore` without a path): they
change nothing outside the run, so each run starts from the lab as it is.

Rules: a session seen for the first time is recorded as it is; a session whose configuration
differs from its baseline is recorded again (with one ``SessionChanged`` note); a session no
longer on a switch that was read loses its baseline. The file is written with mode 0600 (its
directory 0700) through a temporary file renamed over it, and re-read just before writing, so
that two dvmirror processes only replace each other's entries for the same sessions.

Hostile content: a file that is not the shape above (not JSON, another version, a wrong type
anywhere, larger than :data:`MAX_BYTES`) is set aside as ``session-baselines.json.corrupt-TIME``
and a new one is started; :attr:`BaselineStore.message` says so. A symbolic link or a FIFO at
the path is neither read nor written through (said so too). Never raises ``OSError``.

Pure Python: no Textual, no pyVmomi.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from tui.config import Settings, redact_url
from tui.drift import Baseline, Endpoint, baseline_of, check_session, fingerprint, session_port_keys
from tui.inventory_update import Delta
from tui.model import Inventory, MirrorSession, Problem
from tui.privatefile import write_private

ENV_PATH = "DVMIRROR_BASELINES"
"""Environment variable that moves the baselines file."""
VERSION = 1
MAX_BYTES = 16 * 1024 * 1024
"""A larger file is not read (set aside as corrupt)."""

SessionId = tuple[str, str]
"""(switch key, session key)."""


def default_path() -> Path:
    """``$DVMIRROR_BASELINES``, or ``session-baselines.json`` in the platformdirs user state directory."""
    env = os.environ.get(ENV_PATH, "").strip()
    if env:
        return Path(env).expanduser()
    return platformdirs.user_state_path("dvmirror") / "session-baselines.json"


def scope(settings: Settings, inventory: Inventory) -> str:
    """The key of one vCenter in the file: the SDK URL dvmirror connects to (scheme, host, port and
    path; never credentials), else vCenter's own name."""
    return redact_url(settings.url) if settings.server else inventory.vcenter


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _baseline_from_json(data: object) -> Baseline:
    if not isinstance(data, dict):
        raise ValueError("a baseline is not an object")
    fp, seen, ends = data.get("fingerprint"), data.get("seen", ""), data.get("endpoints")
    if not isinstance(fp, str) or not isinstance(seen, str) or not isinstance(ends, list):
        raise ValueError("a baseline lacks its fingerprint, time or endpoints")
    return Baseline(fp, tuple(Endpoint.from_json(e) for e in ends), seen[:40])


def _baseline_json(b: Baseline) -> dict[str, Any]:
    return {"fingerprint": b.fingerprint, "seen": b.seen, "endpoints": [e.to_json() for e in b.endpoints]}


def parse(text: str) -> dict[str, dict[SessionId, Baseline]]:
    """The baselines of a file's text, by vCenter; ``ValueError`` for anything but the documented shape."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"not JSON ({e})") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("vcenters"), dict):
        raise ValueError(f'not a dvmirror baselines file of version {VERSION} ({{"version": 1, "vcenters": ...}})')
    out: dict[str, dict[SessionId, Baseline]] = {}
    for vc, switches in data["vcenters"].items():
        if not isinstance(switches, dict):
            raise ValueError("a vCenter's entry is not an object")
        mine = out.setdefault(vc, {})
        for sw, sessions in switches.items():
            if not isinstance(sessions, dict):
                raise ValueError("a switch's entry is not an object")
            for key, b in sessions.items():
                mine[(sw, key)] = _baseline_from_json(b)
    return out


def dump(baselines: Mapping[str, Mapping[SessionId, Baseline]]) -> str:
    """The file's text."""
    vcenters: dict[str, dict[str, dict[str, Any]]] = {}
    for vc, sessions in sorted(baselines.items()):
        switches = vcenters.setdefault(vc, {})
        for (sw, key), b in sorted(sessions.items()):
            switches.setdefault(sw, {})[key] = _baseline_json(b)
    return json.dumps({"version": VERSION, "vcenters": vcenters}, indent=1, ensure_ascii=True) + "\n"


@dataclass
class BaselineStore:
    """The baselines of every vCenter; ``path=None`` keeps them in memory (the demo lab, snapshots)."""

    path: Path | None = None
    baselines: dict[str, dict[SessionId, Baseline]] = field(default_factory=dict)
    message: str = ""
    """What went wrong reading or writing the file (set aside, not written), for people; "" if nothing."""
    _changed: dict[str, dict[SessionId, Baseline | None]] = field(default_factory=dict)
    """What this process recorded (``None``: forgotten) since the last :meth:`save`."""

    @classmethod
    def open(cls, path: Path | None) -> BaselineStore:
        """The store of ``path`` read now (``None``: in memory)."""
        store = cls(path)
        if path is not None:
            store.baselines = store._read()
        return store

    def _read(self) -> dict[str, dict[SessionId, Baseline]]:
        assert self.path is not None
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(self.path, flags)
        except FileNotFoundError:
            return {}
        except OSError as e:
            self.message = f"The session baselines {self.path} cannot be read ({e.strerror or e}); nothing is kept."
            self.path = None
            return {}
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                self.message = f"The session baselines {self.path} is not a regular file; nothing is kept."
                self.path = None
                return {}
            data = os.read(fd, MAX_BYTES + 1) if info.st_size <= MAX_BYTES else b""
            too_big = info.st_size > MAX_BYTES or len(data) > MAX_BYTES
        except OSError as e:
            self.message = f"The session baselines {self.path} cannot be read ({e.strerror or e}); nothing is kept."
            self.path = None
            return {}
        finally:
            os.close(fd)
        try:
            if too_big:
                raise ValueError(f"larger than {MAX_BYTES} bytes")
            return parse(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            self._set_aside(str(e))
            return {}

    def _set_aside(self, why: str) -> None:
        assert self.path is not None
        aside = self.path.with_name(f"{self.path.name}.corrupt-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}")
        try:
            os.replace(self.path, aside)
        except OSError as e:
            self.message = (
                f"The session baselines {self.path} are unreadable ({why[:200]}) and could not be set aside "
                f"({e.strerror or e}); nothing is kept."
            )
            self.path = None
            return
        self.message = (
            f"The session baselines {self.path} were unreadable ({why[:200]}); set aside as {aside.name} "
            "and started again: every session is compared from now on."
        )

    def get(self, vcenter: str, switch_key: str, session_key: str) -> Baseline | None:
        return self.baselines.get(vcenter, {}).get((switch_key, session_key))

    def put(self, vcenter: str, ident: SessionId, baseline: Baseline | None) -> None:
        """Record (``None``: forget) one session's baseline; written by :meth:`save`."""
        mine = self.baselines.setdefault(vcenter, {})
        if baseline is None:
            mine.pop(ident, None)
        else:
            mine[ident] = baseline
        self._changed.setdefault(vcenter, {})[ident] = baseline

    def check(
        self,
        vcenter: str,
        inventory: Inventory,
        switch_keys: Iterable[str] | None = None,
        *,
        since: tuple[Delta, Mapping[SessionId, Sequence[Problem]]] | None = None,
    ) -> dict[SessionId, list[Problem]]:
        """Every session's problems (:func:`tui.drift.check_session`) on the switches ``switch_keys``
        (default: all), recording the baselines of sessions new or changed and forgetting those of
        sessions no longer there. Call :meth:`save` to write them.

        ``since``: ``inventory`` is a live update (the delta) of the inventory checked last, whose
        problems are given: a session the change cannot touch (:meth:`touched`) keeps its problems,
        so an update costs the sessions it touches, not all of them."""
        keys = list(inventory.switches) if switch_keys is None else list(switch_keys)
        out: dict[SessionId, list[Problem]] = {}
        now = _now()
        touched = self.touched(vcenter, since[0]) if since is not None and since[0].inventory is inventory else None
        for sw_key in keys:
            switch = inventory.switches.get(sw_key)
            if switch is None:
                continue
            present: set[str] = set()
            for s in switch.sessions:
                if not s.key:
                    continue
                present.add(s.key)
                ident = (sw_key, s.key)
                if touched is not None and since is not None and ident not in touched and ident in since[1]:
                    out[ident] = list(since[1][ident])  # nothing it depends on changed
                    continue
                before = self.get(vcenter, sw_key, s.key)
                out[(sw_key, s.key)] = check_session(before, inventory, sw_key, s)
                if before is None or before.fingerprint != fingerprint(s):
                    self.put(vcenter, (sw_key, s.key), baseline_of(inventory, sw_key, s, now))
            for ident in [i for i in self.baselines.get(vcenter, {}) if i[0] == sw_key and i[1] not in present]:
                self.put(vcenter, ident, None)
        return out

    def touched(self, vcenter: str, delta: Delta) -> set[SessionId] | None:
        """The sessions whose problems ``delta`` may change (``None``: any of them).

        A session depends on its switch (its own configuration and the others', compared by the
        rules), on its ports (what holds them, where they run, how they are named), on the VMs
        of its baseline (a NIC reconnected elsewhere is found by its VM) and on the portgroups
        (VLANs, uplinks). So: every session of a changed switch, every session naming a port
        that changed or that a changed VM held or holds, every session whose baseline names a
        changed VM, and all of them when a portgroup changed."""
        change, base, inv = delta.change, delta.base, delta.inventory
        if change.portgroups:
            return None
        out: set[SessionId] = set()
        for sw in change.switches:
            for switch in (base.switches.get(sw.key), inv.switches.get(sw.key)):
                out.update((sw.key, s.key) for s in (switch.sessions if switch else ()) if s.key)
        ports = {(p.switch, p.key) for p in change.ports} | set(change.ports_gone)
        vms = {vm.key for vm in change.vms} | set(change.vms_gone)
        names: set[str] = set()  # a VM gone from its baseline is looked for by name
        for key in vms:
            for vm in (base.vms.get(key), inv.vms.get(key)):
                ports.update((n.switch, n.port) for n in (vm.nics if vm else ()) if n.switch and n.port)
                names.update([vm.name] if vm else [])
        for sw_key, switch in inv.switches.items():
            for s in switch.sessions:
                if not s.key or (sw_key, s.key) in out:
                    continue
                if any((sw_key, k) in ports for k in session_port_keys(s)):
                    out.add((sw_key, s.key))
                    continue
                baseline = self.get(vcenter, sw_key, s.key)
                if baseline is not None and any(
                    e.vm_key in vms or e.vm in names for e in baseline.endpoints if e.vm_key
                ):
                    out.add((sw_key, s.key))
        return out

    def reset(self, vcenter: str, inventory: Inventory, switch_key: str, session: MirrorSession) -> None:
        """Record ``session`` as it is now as its baseline (after dvmirror changed it)."""
        if session.key:
            self.put(vcenter, (switch_key, session.key), baseline_of(inventory, switch_key, session, _now()))

    def save(self) -> str | None:
        """Write what changed since the last save (re-reading the file first); ``None`` when written or
        nothing to write, else a message saying why not (never raises ``OSError``)."""
        if self.path is None or not self._changed:
            self._changed.clear()
            return None
        path = self.path
        before = self.message
        ondisk = self._read()
        if self.path is None:  # it became unreadable meanwhile: said in self.message
            return self.message
        if self.message != before:
            ondisk = {}
        for vc, changes in self._changed.items():
            mine = ondisk.setdefault(vc, {})
            for ident, b in changes.items():
                if b is None:
                    mine.pop(ident, None)
                else:
                    mine[ident] = b
        text = dump({vc: s for vc, s in ondisk.items() if s})
        try:
            write_private(path, text)
        except OSError as e:
            return f"The session baselines were not saved to {path}: {e.strerror or e}."
        self._changed.clear()
        self.baselines = ondisk
        return None
