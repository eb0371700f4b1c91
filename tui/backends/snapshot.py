"""The snapshot backend: an inventory from a versioned JSON file.

The format (README "Snapshot format") is one object::

    {"format": "dvmirror-snapshot", "version": 1, "vcenter": ..., "datacenters": [...],
     "hosts": [...], "switches": [...], "portgroups": [...], "ports": [...], "vms": [...]}

``--demo`` is this backend on the bundled ``labs/demo.json``. Changes are applied in memory
with the same rules as vCenter's and last for the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from tui.backends import (
    ApplyResult,
    ChangeRefused,
    LoadProgress,
    ProgressCallback,
    ReadOnlyError,
    SnapshotError,
    StaleSwitch,
    check_or_refuse,
)
from tui.config import FileProblem, Settings, read_only_hint, read_regular_file
from tui.model import (
    Binding,
    ChangeOperation,
    Connectee,
    ConnecteeType,
    Host,
    Inventory,
    MirrorSession,
    Nic,
    Port,
    Portgroup,
    Problem,
    SessionChange,
    Switch,
    SwitchCapability,
    Vlan,
    Vm,
)
from tui.text import ascii_digits, json_text

FORMAT = "dvmirror-snapshot"
VERSION = 1
DEMO_LAB = "demo.json"

T = TypeVar("T")


class _Bad(Exception):
    """A malformed value at a JSON path."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")


class _Reader:
    """Typed access to a JSON object that names the path of whatever is wrong."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise _Bad(path, f"expected an object, found {_kind(data)}")
        self.data = data
        self.path = path

    def _get(self, name: str, kinds: type | tuple[type, ...], default: Any, required: bool) -> Any:
        if name not in self.data or self.data[name] is None:
            if required:
                raise _Bad(f"{self.path}.{name}", "missing")
            return default
        value = self.data[name]
        if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
            raise _Bad(f"{self.path}.{name}", f"expected {_names(kinds)}, found a boolean")
        if not isinstance(value, kinds):
            raise _Bad(f"{self.path}.{name}", f"expected {_names(kinds)}, found {_kind(value)}")
        return value

    def text(self, name: str, default: str = "", *, required: bool = False) -> str:
        return str(self._get(name, str, default, required))

    def integer(self, name: str, default: int | None = None, *, required: bool = False) -> int | None:
        value = self._get(name, int, default, required)
        return None if value is None else int(value)

    def flag(self, name: str, default: bool = False) -> bool:
        return bool(self._get(name, bool, default, False))

    def items(self, name: str, *, required: bool = False) -> list[Any]:
        return list(self._get(name, list, [], required))

    def obj(self, name: str) -> _Reader | None:
        value = self._get(name, dict, None, False)
        return None if value is None else _Reader(value, f"{self.path}.{name}")

    def each(self, name: str, parse: Callable[[_Reader], T], *, required: bool = True) -> Iterator[T]:
        for i, item in enumerate(self.items(name, required=required)):
            yield parse(_Reader(item, f"{self.path}.{name}[{i}]"))


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


def _names(kinds: type | tuple[type, ...]) -> str:
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    return " or ".join(
        {str: "text", int: "a whole number", bool: "a boolean", list: "a list", dict: "an object"}[k] for k in kinds
    )


def _enum(r: _Reader, name: str, enum: type[Any], default: Any) -> Any:
    raw = r.text(name, default.value)
    try:
        return enum(raw)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise _Bad(f"{r.path}.{name}", f"{raw!r} is not one of {allowed}") from None


def _vlan(r: _Reader | None) -> Vlan:
    if r is None:
        return Vlan()
    if "trunk" in r.data:
        ranges = []
        for i, pair in enumerate(r.items("trunk")):
            if not (isinstance(pair, list) and len(pair) == 2 and all(type(v) is int for v in pair)):
                raise _Bad(f"{r.path}.trunk[{i}]", "expected [start, end]")
            ranges.append((pair[0], pair[1]))
        return Vlan(vlan_id=None, trunk=tuple(ranges))
    if "pvlan" in r.data:
        return Vlan(vlan_id=None, pvlan=r.integer("pvlan"))
    return Vlan(vlan_id=r.integer("id", 0))


def _host(r: _Reader) -> Host:
    return Host(key=r.text("key", required=True), name=r.text("name", required=True))


def _session(r: _Reader) -> MirrorSession:
    try:
        return MirrorSession.from_api(r.data)
    except (TypeError, ValueError, AttributeError, KeyError) as e:
        raise _Bad(r.path, f"not a valid session ({e})") from None


def _maybe_flag(r: _Reader, name: str) -> bool | None:
    """``true``/``false``; ``null`` = unknown; missing = ``true`` (the meaning before unknown existed)."""
    if name not in r.data:
        return True
    return None if r.data[name] is None else r.flag(name)


def _capability_json(cap: SwitchCapability) -> dict[str, Any]:
    out: dict[str, Any] = {"vspan": cap.vspan, "sessionTypes": list(cap.session_types), "erspan": cap.erspan}
    if cap.unknown_types or not cap.session_types:
        out["unknownSessionTypes"] = list(cap.unknown_types)
    return out


def _switch(r: _Reader) -> Switch:
    cap = r.obj("capability")
    capability = SwitchCapability()
    if cap is not None:
        # null = not reported by vCenter (unknown); a missing key keeps the old default (true).
        # Without "unknownSessionTypes" (older snapshots) an empty "sessionTypes" means every type.
        unknown = cap.data.get("unknownSessionTypes")
        types = tuple(str(t) for t in cap.items("sessionTypes"))
        capability = SwitchCapability(
            vspan=_maybe_flag(cap, "vspan"),
            session_types=types if unknown is not None else types or capability.session_types,
            erspan=_maybe_flag(cap, "erspan"),
            unknown_types=tuple(str(t) for t in cap.items("unknownSessionTypes")),
        )
    return Switch(
        key=r.text("key", required=True),
        name=r.text("name", required=True),
        moid=r.text("moid"),
        datacenter=r.text("datacenter"),
        version=r.text("version"),
        uplink_names=tuple(str(u) for u in r.items("uplinkNames")),
        config_version=r.text("configVersion", "1"),
        capability=capability,
        sessions=tuple(r.each("sessions", _session, required=False)),
    )


def _portgroup(r: _Reader) -> Portgroup:
    return Portgroup(
        key=r.text("key", required=True),
        name=r.text("name", required=True),
        switch=r.text("switch", required=True),
        vlan=_vlan(r.obj("vlan")),
        binding=_enum(r, "binding", Binding, Binding.EARLY),
        promiscuous=r.flag("promiscuous"),
        uplink=r.flag("uplink"),
        num_ports=r.integer("numPorts", 0) or 0,
    )


def _port(r: _Reader) -> Port:
    c = r.obj("connectee")
    connectee = None
    if c is not None:
        connectee = Connectee(
            type=_enum(c, "type", ConnecteeType, ConnecteeType.VM_VNIC),
            entity=c.text("entity", required=True),
            nic_key=c.text("nicKey"),
        )
    return Port(
        key=r.text("key", required=True),
        switch=r.text("switch", required=True),
        portgroup=r.text("portgroup"),
        name=r.text("name"),
        connectee=connectee,
        host=r.text("host"),
        link_up=r.flag("linkUp"),
        mac=r.text("mac").lower(),
        promiscuous=r.flag("promiscuous"),
    )


def _nic(r: _Reader) -> Nic:
    return Nic(
        key=r.integer("key", required=True) or 0,
        label=r.text("label", required=True),
        mac=r.text("mac").lower(),
        switch=r.text("switch"),
        portgroup=r.text("portgroup"),
        port=r.text("port"),
        connected=r.flag("connected", True),
        ips=tuple(str(ip) for ip in r.items("ips")),
        network=r.text("network"),
    )


def _vm(r: _Reader) -> Vm:
    return Vm(
        key=r.text("key", required=True),
        name=r.text("name", required=True),
        host=r.text("host"),
        power=r.text("power", "poweredOn"),
        nics=tuple(r.each("nics", _nic, required=False)),
    )


def parse_inventory(data: Any, source: str) -> Inventory:
    """Build an :class:`Inventory` from parsed snapshot JSON.

    Raises :class:`SnapshotError` naming the JSON path of the first problem.
    """
    try:
        root = _Reader(data, "$")
        fmt = root.text("format")
        if fmt != FORMAT:
            raise _Bad("$.format", f"expected {FORMAT!r}, found {fmt!r}: this is not a dvmirror snapshot")
        version = root.integer("version", required=True)
        if version != VERSION:
            raise _Bad("$.version", f"version {version} is not supported (this dvmirror reads version {VERSION})")
        inv = Inventory.build(
            vcenter=root.text("vcenter", required=True),
            source=source,
            datacenters=tuple(str(d) for d in root.items("datacenters")),
            hosts=list(root.each("hosts", _host)),
            switches=list(root.each("switches", _switch)),
            portgroups=list(root.each("portgroups", _portgroup)),
            ports=list(root.each("ports", _port)),
            vms=list(root.each("vms", _vm)),
        )
    except _Bad as e:
        raise SnapshotError(f"{source}: {e}") from None
    _check_references(inv, source)
    return inv


def _check_references(inv: Inventory, source: str) -> None:
    """Refuse dangling references: they would show as blanks or crash lookups later."""
    for pg in inv.portgroups.values():
        if pg.switch not in inv.switches:
            raise SnapshotError(f"{source}: portgroup {pg.name!r} refers to unknown switch {pg.switch!r}")
    for p in inv.ports.values():
        if p.switch not in inv.switches:
            raise SnapshotError(f"{source}: port {p.key!r} refers to unknown switch {p.switch!r}")
        if p.portgroup and p.portgroup not in inv.portgroups:
            raise SnapshotError(f"{source}: port {p.key!r} refers to unknown portgroup {p.portgroup!r}")
    if len(inv.ports) != sum(len(v) for v in inv.ports_by_switch.values()):
        raise SnapshotError(f"{source}: a port key appears twice on one switch")
    for sw in inv.switches.values():
        keys = [s.key for s in sw.sessions if s.key is not None]
        if len(keys) != len(set(keys)):
            raise SnapshotError(f"{source}: switch {sw.name!r} has two mirror sessions with the same key")


# -- writing ------------------------------------------------------------------------------


def _vlan_json(v: Vlan) -> dict[str, Any]:
    if v.trunk:
        return {"trunk": [list(r) for r in v.trunk]}
    if v.pvlan is not None:
        return {"pvlan": v.pvlan}
    return {"id": v.vlan_id or 0}


def dump_inventory(inv: Inventory) -> dict[str, Any]:
    """The snapshot JSON object for ``inv`` (inverse of :func:`parse_inventory`)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "saved": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "vcenter": inv.vcenter,
        "datacenters": list(inv.datacenters),
        "hosts": [{"key": h.key, "name": h.name} for h in inv.hosts.values()],
        "switches": [
            {
                "key": s.key,
                "name": s.name,
                "moid": s.moid,
                "datacenter": s.datacenter,
                "version": s.version,
                "uplinkNames": list(s.uplink_names),
                "configVersion": s.config_version,
                "capability": _capability_json(s.capability),
                "sessions": [x.to_api() for x in s.sessions],
            }
            for s in inv.switches.values()
        ],
        "portgroups": [
            {
                "key": pg.key,
                "name": pg.name,
                "switch": pg.switch,
                "vlan": _vlan_json(pg.vlan),
                "binding": pg.binding.value,
                "promiscuous": pg.promiscuous,
                "uplink": pg.uplink,
                "numPorts": pg.num_ports,
            }
            for pg in inv.portgroups.values()
        ],
        "ports": [
            {
                "key": p.key,
                "switch": p.switch,
                "portgroup": p.portgroup,
                "name": p.name,
                "connectee": None
                if p.connectee is None
                else {"type": p.connectee.type.value, "entity": p.connectee.entity, "nicKey": p.connectee.nic_key},
                "host": p.host,
                "linkUp": p.link_up,
                "mac": p.mac,
                "promiscuous": p.promiscuous,
            }
            for p in inv.ports.values()
        ],
        "vms": [
            {
                "key": vm.key,
                "name": vm.name,
                "host": vm.host,
                "power": vm.power,
                "nics": [
                    {
                        "key": n.key,
                        "label": n.label,
                        "mac": n.mac,
                        "switch": n.switch,
                        "portgroup": n.portgroup,
                        "port": n.port,
                        "connected": n.connected,
                        "ips": list(n.ips),
                    }
                    | ({"network": n.network} if n.network else {})
                    for n in vm.nics
                ],
            }
            for vm in inv.vms.values()
        ],
    }


def save_inventory(inv: Inventory, path: Path) -> None:
    """Write ``inv`` to ``path`` atomically: a fresh temporary file, then a rename.

    The temporary file is created exclusively (``tempfile.mkstemp``: ``O_EXCL``, a random name,
    mode 0600) in the target's folder, so a file or symlink planted at a predictable name
    (``FILE.tmp``) is never followed or reused. The snapshot keeps mode 0600 (it names every VM,
    MAC and IP address). Names are written as JSON escapes where they hold control, C1 or bidi
    characters (:func:`tui.text.json_text`), so ``cat FILE`` is harmless too.
    """
    folder = path.parent
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json_text(dump_inventory(inv), indent=1))
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = ""
    except OSError as e:
        raise SnapshotError(f"cannot write {path}: {e.strerror or e}") from None
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


# -- the backend --------------------------------------------------------------------------


SNAPSHOT_SIZE_LIMIT = 512 << 20
"""Snapshots larger than this (512 MiB) are refused: a 40,000-VM lab is far smaller (README)."""
_MAX_DIGITS = 20
"""The longest whole number a snapshot may hold (a port key or VLAN needs far fewer digits)."""


def _small_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_DIGITS:
        raise _Bad("$", f"a number of {len(text):,} digits (at most {_MAX_DIGITS} are allowed)")
    return int(text)


def _no_constant(name: str) -> Any:
    raise _Bad("$", f"{name} is not a number JSON allows")


def read_snapshot(path: Path) -> Any:
    """Parse ``path`` as JSON, turning every failure into a :class:`SnapshotError`.

    Only a regular file (no FIFO, device or directory: refused before reading, never a hang)
    of at most :data:`SNAPSHOT_SIZE_LIMIT` bytes of UTF-8 JSON, nested no deeper than Python's
    recursion limit, with whole numbers of at most 20 digits.
    """
    try:
        raw = read_regular_file(path, SNAPSHOT_SIZE_LIMIT)
    except FileNotFoundError:
        raise SnapshotError(f"{path}: no such file", hint="Save one with `dvmirror snapshot save FILE`.") from None
    except FileProblem as e:
        raise SnapshotError(f"{path}: {e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SnapshotError(
            f"{path}: not a text file (a dvmirror snapshot is UTF-8 JSON; byte {e.start} is not UTF-8)"
        ) from None
    del raw
    if not text.strip():
        raise SnapshotError(f"{path}: the file is empty")
    try:
        return json.loads(text, parse_int=_small_int, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        where = "the file ends too early (truncated?)" if e.pos >= len(text.rstrip()) else e.msg
        raise SnapshotError(f"{path}: not valid JSON at line {e.lineno}, column {e.colno}: {where}") from None
    except _Bad as e:
        raise SnapshotError(f"{path}: {str(e).removeprefix('$: ')}") from None
    except RecursionError:
        raise SnapshotError(f"{path}: the JSON is nested too deeply to be a dvmirror snapshot") from None
    except ValueError as e:  # anything else json refuses
        raise SnapshotError(f"{path}: not valid JSON ({e})") from None


class SnapshotBackend:
    """An inventory from a JSON snapshot; session changes apply in memory for this run."""

    offline = True
    insecure = False

    def __init__(self, path: Path | None = None, *, read_only: bool = False, read_only_source: str = "") -> None:
        """Use ``path``, or the bundled demo lab when ``path`` is ``None``.

        ``read_only_source`` says where read-only mode was set (``Settings.source`` style:
        ``"DVMIRROR_READ_ONLY"``, ``"profile 'lab' (…)"``); the refusal names it.
        """
        self.path = path
        self.read_only = read_only
        self.settings = Settings(read_only=read_only, sources={"read_only": read_only_source or "--read-only"})
        """No vCenter to log in to: only where read-only mode was set."""
        self.label = "demo lab" if path is None else f"snapshot {path.name}"
        self._inventory: Inventory | None = None
        self._lock = threading.Lock()

    def load(self, progress: ProgressCallback | None = None) -> Inventory:
        """Read and parse the snapshot (or return the in-memory copy with this run's changes)."""
        if self._inventory is not None:
            return self._inventory
        if progress:
            progress(LoadProgress(f"Reading {self.label}"))
        if self.path is None:
            text = resources.files("tui.backends.labs").joinpath(DEMO_LAB).read_text(encoding="utf-8")
            data = json.loads(text)
        else:
            data = read_snapshot(self.path)
        inv = parse_inventory(data, self.label)
        if progress:
            progress(LoadProgress("Loaded", len(inv.ports), len(inv.ports)))
        self._inventory = inv
        return inv

    def apply(self, inventory: Inventory, switch_key: str, changes: Sequence[SessionChange]) -> ApplyResult:
        """Apply ``changes`` in memory, refusing exactly what vCenter would refuse."""
        if self.read_only:
            raise ReadOnlyError(
                "read-only mode: no change was made", hint=read_only_hint(self.settings.source("read_only"))
            )
        with self._lock:
            current = self.load()
            switch = current.switches.get(switch_key)
            if switch is None:
                raise ChangeRefused(
                    "the switch is gone", [Problem("NotFound", f"No switch with key {switch_key}.")], sent=False
                )
            seen = inventory.switches.get(switch_key)
            if seen is not None and seen.config_version != switch.config_version:
                raise StaleSwitch(
                    f"{switch.name} was changed since it was read (configVersion "
                    f"{seen.config_version} → {switch.config_version}); nothing was sent",
                    [Problem("ConcurrentAccess", "The switch changed meanwhile; review it and try again.")],
                    switch,
                )
            warnings = check_or_refuse(current, switch_key, changes)
            sessions = list(switch.sessions)
            keys: list[str] = []
            next_key = max((int(s.key) for s in sessions if s.key and ascii_digits(s.key)), default=0) + 1
            for change in changes:
                if change.operation is ChangeOperation.ADD:
                    new = replace(change.session, key=str(next_key))
                    next_key += 1
                    sessions.append(new)
                    keys.append(str(new.key))
                elif change.operation is ChangeOperation.EDIT:
                    sessions = [change.session if s.key == change.session.key else s for s in sessions]
                    keys.append(str(change.session.key))
                else:
                    sessions = [s for s in sessions if s.key != change.session.key]
                    keys.append(str(change.session.key))
            new_switch = replace(
                switch, sessions=tuple(sessions), config_version=str(_next_version(switch.config_version))
            )
            self._inventory = current.with_switch(new_switch)
            return ApplyResult(switch=new_switch, keys=tuple(keys), warnings=warnings)

    def close(self) -> None:
        """Nothing to release."""


def _next_version(version: str) -> int:
    return int(version) + 1 if ascii_digits(version) and len(version) < 19 else 1
