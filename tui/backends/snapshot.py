"""The snapshot backend: an inventory from a versioned JSON file.

The format (README "Snapshot format") is one object::

    {"format": "dvmirror-snapshot", "version": 2, "vcenter": ..., "datacenters": [...],
     "hosts": [...], "switches": [...], "portgroups": [...], "ports": [...], "vms": [...],
     "portStatistics": [...]}

Version 2 added the optional ``portStatistics``; version 1 files are read as before. A port's
recorded counters with rates move on with the clock (the demo lab's traffic); without rates they
stand as recorded.

The format itself is declared once, in :mod:`tui.backends.snapshot_format`; this module reads
files safely (a regular file, a size limit, UTF-8), says what is wrong with a bad one, writes
them atomically, and is the backend. ``--demo`` is this backend on the bundled
``labs/demo.json``. Changes are applied in memory with the same rules as vCenter's and last for
the run.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from tui.backends import (
    ApplyResult,
    ChangeRefused,
    LoadProgress,
    ProgressCallback,
    ReadOnlyError,
    SnapshotError,
    StaleSwitch,
    check_or_refuse,
    labs,
    snapshot_format,
)
from tui.config import FileProblem, Settings, read_only_hint, read_regular_file
from tui.gcpause import gc_paused
from tui.mirror_traffic import lab_mirrored_rates
from tui.model import (
    ChangeOperation,
    Inventory,
    PortStatistics,
    Problem,
    SessionChange,
    Switch,
    projected,
)
from tui.port_stats import added
from tui.text import ascii_digits, json_safe, visible

if TYPE_CHECKING:
    from tui.history import SessionHistoryEntry
    from tui.monitor import MonitorPlan, MonitorRequest, MonitorResult, RestoreRecord, VmFacts

FORMAT = snapshot_format.FORMAT
VERSION = snapshot_format.VERSION
READABLE_VERSIONS = snapshot_format.READABLE_VERSIONS
DEMO_LAB = "demo.json"


class _Bad(Exception):
    """A malformed value at a JSON path."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


def _check_header(fmt: Any, version: Any, has_version: bool = True) -> None:
    """The format's name and version come first: another file, or a later version of this one,
    is said to be so instead of failing on its first unexpected field."""
    if fmt != FORMAT:
        found = visible(repr(fmt)) if isinstance(fmt, str) else _kind(fmt)
        raise _Bad("$.format", f"expected {FORMAT!r}, found {found}: this is not a dvmirror snapshot")
    if not has_version or version is None:
        raise _Bad("$.version", "missing")
    if type(version) is not int:
        raise _Bad("$.version", f"expected a whole number, found {_kind(version)}")
    if version not in READABLE_VERSIONS:
        readable = " and ".join(str(v) for v in READABLE_VERSIONS)
        raise _Bad("$.version", f"version {version} is not supported (this dvmirror reads versions {readable})")


def parse_inventory(data: Any, source: str) -> Inventory:
    """Build an :class:`Inventory` from parsed snapshot JSON (``json.loads``).

    Raises :class:`SnapshotError` naming the JSON path of the first problem.
    """
    return parse_snapshot(data, source)[0]


def parse_snapshot(data: Any, source: str) -> tuple[Inventory, snapshot_format.RecordedStatistics]:
    """:func:`parse_inventory`, with the recorded port statistics."""
    try:
        if not isinstance(data, dict):
            raise _Bad("$", f"expected an object, found {_kind(data)}")
        _check_header(data.get("format", ""), data.get("version"), "version" in data)
        snapshot = snapshot_format.convert(data)
    except _Bad as e:
        raise SnapshotError(f"{source}: {e}") from None
    except msgspec.ValidationError as e:
        raise SnapshotError(f"{source}: {snapshot_format.problem(e)}") from None
    return _inventory(snapshot, source)


def _inventory(
    snapshot: snapshot_format.SnapshotJson, source: str
) -> tuple[Inventory, snapshot_format.RecordedStatistics]:
    if snapshot.version == 1 and not isinstance(snapshot.port_statistics, msgspec.UnsetType):
        raise SnapshotError(f"{source}: $.portStatistics: not part of version 1 (it came with version 2)")
    inv = snapshot_format.to_inventory(snapshot, source)
    _check_references(inv, source)
    try:
        recorded = snapshot_format.port_statistics(snapshot)
    except ValueError as e:
        raise SnapshotError(f"{source}: {e}") from None
    for i, (switch, port) in enumerate(recorded):
        if (switch, port) not in inv.ports:
            raise SnapshotError(
                f"{source}: $.portStatistics[{i}]: no port {visible(repr(port))} on switch {visible(repr(switch))}"
            )
    return inv, recorded


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


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dump_inventory(inv: Inventory) -> dict[str, Any]:
    """The snapshot JSON object for ``inv`` (inverse of :func:`parse_inventory`)."""
    return snapshot_format.to_builtins(snapshot_format.from_inventory(inv, _now()))


def save_inventory(
    inv: Inventory, path: Path, counters: Mapping[tuple[str, str], PortStatistics] | None = None
) -> None:
    """Write ``inv`` to ``path`` atomically: a fresh temporary file, then a rename.

    ``counters`` ((switch key, port key) → the port's counters) become the ``portStatistics``
    section, in the inventory's port order, without rates: one reading has none, so a replay
    shows them as recorded. Counters of ports the inventory does not have are left out.

    The temporary file is created exclusively (``tempfile.mkstemp``: ``O_EXCL``, a random name,
    mode 0600) in the target's folder, so a file or symlink planted at a predictable name
    (``FILE.tmp``) is never followed or reused. The snapshot keeps mode 0600 (it names every VM,
    MAC and IP address). Names are written as JSON escapes where they hold control, C1 or bidi
    characters (:func:`tui.text.json_safe`), so ``cat FILE`` is harmless too.
    """
    folder = path.parent
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            records = None
            if counters:
                records = [
                    snapshot_format.port_statistics_json(p.switch, p.key, stats)
                    for p in inv.ports.values()
                    if (stats := counters.get((p.switch, p.key))) is not None
                ]
            snap = snapshot_format.from_inventory(inv, _now(), records)
            f.write(json_safe(snapshot_format.encode(snap).decode("utf-8")))
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


def _read_bytes(path: Path) -> bytes:
    try:
        return read_regular_file(path, SNAPSHOT_SIZE_LIMIT)
    except FileNotFoundError:
        raise SnapshotError(f"{path}: no such file", hint="Save one with `dvmirror snapshot save FILE`.") from None
    except FileProblem as e:
        raise SnapshotError(f"{path}: {e}") from None


def _parse_json(raw: bytes, path: Path | str) -> Any:
    """``raw`` as JSON with Python's parser, whose messages say where the text goes wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SnapshotError(
            f"{path}: not a text file (a dvmirror snapshot is UTF-8 JSON; byte {e.start} is not UTF-8)"
        ) from None
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


def read_snapshot(path: Path) -> Any:
    """Parse ``path`` as JSON, turning every failure into a :class:`SnapshotError`.

    Only a regular file (no FIFO, device or directory: refused before reading, never a hang)
    of at most :data:`SNAPSHOT_SIZE_LIMIT` bytes of UTF-8 JSON, nested no deeper than Python's
    recursion limit, with whole numbers of at most 20 digits.
    """
    return _parse_json(_read_bytes(path), path)


def decode_inventory(raw: bytes, path: Path | str, source: str) -> Inventory:
    """The inventory in snapshot bytes ``raw`` (:func:`decode_snapshot` without the statistics)."""
    return decode_snapshot(raw, path, source)[0]


def decode_snapshot(raw: bytes, path: Path | str, source: str) -> tuple[Inventory, snapshot_format.RecordedStatistics]:
    """The inventory in snapshot bytes ``raw`` read from ``path`` (:class:`SnapshotError` if not).

    msgspec parses and checks the file in one pass (:mod:`tui.backends.snapshot_format`). When it
    refuses the file, Python's parser and :func:`parse_inventory` read it again to say what is wrong
    in the same words as for any parsed JSON: the line and column of bad JSON, the format and
    version first, then the JSON path of the first problem.

    The cyclic garbage collector is paused meanwhile (:func:`tui.gcpause.gc_paused`): its scans of
    the growing inventory cost more than the decoding (bench_snapshot.py, last row).
    """
    with gc_paused():
        try:
            snapshot = snapshot_format.decode(raw)
        except msgspec.MsgspecError:
            return parse_snapshot(_parse_json(raw, path), source)
        if snapshot.format != FORMAT or snapshot.version not in READABLE_VERSIONS:
            return parse_snapshot(_parse_json(raw, path), source)
        return _inventory(snapshot, source)


class SnapshotBackend:
    """An inventory from a JSON snapshot; session changes apply in memory for this run."""

    offline = True
    insecure = False

    def __init__(
        self, path: Path | None = None, *, read_only: bool = False, read_only_source: str = "", lab: str = ""
    ) -> None:
        """Use ``path``, or the bundled demo lab when ``path`` is ``None`` (``lab="walkthrough"``: the demo
        lab before the walkthrough, :func:`tui.backends.labs.walkthrough`).

        ``read_only_source`` says where read-only mode was set (``Settings.source`` style:
        ``"DVMIRROR_READ_ONLY"``, ``"profile 'lab' (…)"``); the refusal names it.
        """
        self.path = path
        self.read_only = read_only
        self.settings = Settings(read_only=read_only, sources={"read_only": read_only_source or "--read-only"})
        """No vCenter to log in to: only where read-only mode was set."""
        self.label = "demo lab" if path is None else f"snapshot {path.name}"
        self.lab = lab if path is None else ""
        if self.lab:
            self.label = f"demo lab ({self.lab})"
        self._vm_versions: dict[str, int] = {}
        """VM key → its ``changeVersion`` in this run (each NIC move counts one up)."""
        self._inventory: Inventory | None = None
        self._recorded: snapshot_format.RecordedStatistics = {}
        self._moving = False
        self._lock = threading.Lock()
        self.clock = time.time
        """Where "now" comes from for moving counters (tests set it)."""
        self._mirrored: dict[tuple[str, str], dict[str, float]] = {}
        """(switch, port) → what mirror sessions forwarded to the port until ``_mirrored_at``."""
        self._mirrored_at: float | None = None
        self._lab_rates_for: tuple[Inventory, dict[tuple[str, str], dict[str, float]]] | None = None
        self._history: list[SessionHistoryEntry] = []
        """The changes applied in this run (:meth:`session_history`)."""

    def load(self, progress: ProgressCallback | None = None) -> Inventory:
        """Read and parse the snapshot (or return the in-memory copy with this run's changes)."""
        if self._inventory is not None:
            return self._inventory
        if progress:
            progress(LoadProgress(f"Reading {self.label}"))
        if self.path is None:
            raw = resources.files("tui.backends.labs").joinpath(DEMO_LAB).read_bytes()
            if self.lab == labs.WALKTHROUGH:
                raw = json.dumps(labs.walkthrough(json.loads(raw))).encode()
            inv, recorded = decode_snapshot(raw, DEMO_LAB, self.label)
        else:
            inv, recorded = decode_snapshot(_read_bytes(self.path), self.path, self.label)
        if progress:
            progress(LoadProgress("Loaded", len(inv.ports), len(inv.ports)))
        self._inventory = inv
        self._recorded = recorded
        self._moving = any(rates for _, rates in recorded.values())
        self._mirrored, self._mirrored_at = {}, None
        return inv

    def _rates_of(self, switch: str, key: str) -> dict[str, float] | None:
        rec = self._recorded.get((switch, key))
        return rec[1] if rec is not None else None

    def _lab_rates(self, inv: Inventory) -> dict[tuple[str, str], dict[str, float]]:
        """What ``inv``'s sessions forward to each port per second (the whole lab: a remote mirror
        destination receives from every switch), computed once per inventory."""
        cached = self._lab_rates_for
        if cached is None or cached[0] is not inv:
            cached = (inv, lab_mirrored_rates(inv, self._rates_of))
            self._lab_rates_for = cached
        return cached[1]

    def _fold_mirrored(self, inv: Inventory, now: float) -> None:
        """Add what ``inv``'s sessions forwarded since the last fold to each port's total (before they change)."""
        since, self._mirrored_at = self._mirrored_at, now
        if since is None or now <= since:
            return
        for where, rates in self._lab_rates(inv).items():
            total = self._mirrored.setdefault(where, {})
            for name, rate in rates.items():
                total[name] = total.get(name, 0.0) + rate * (now - since)

    def port_statistics(self, switch_key: str, port_keys: Sequence[str]) -> dict[str, PortStatistics]:
        """The recorded counters of these ports, moved on to now in a lab whose traffic moves (one
        with rates, such as the demo: a port without rates is read now and has not moved), else as
        recorded (``read_at`` their recorded time). Ports with no record are left out."""
        inv = self.load()
        with self._lock:  # not while a change folds the mirrored totals (that would count them twice)
            inv = self._inventory or inv  # the latest, with a change applied meanwhile
            now = self.clock()
            if self._mirrored_at is None:
                self._mirrored_at = now  # mirrored traffic counts from the first reading
            elapsed = max(0.0, now - self._mirrored_at)
            out: dict[str, PortStatistics] = {}
            for key in port_keys:
                rec = self._recorded.get((switch_key, key))
                if rec is not None and key not in out:
                    base, rates = rec
                    stats = projected(base, rates, now) if self._moving else base
                    total = dict(self._mirrored.get((switch_key, key), {}))
                    for name, rate in self._lab_rates(inv).get((switch_key, key), {}).items():
                        total[name] = total.get(name, 0.0) + rate * elapsed
                    out[key] = added(stats, total) if total else stats
            return out

    def load_with_counters(
        self, progress: ProgressCallback | None = None
    ) -> tuple[Inventory, dict[tuple[str, str], PortStatistics], str]:
        """:meth:`load`, with the counters of every port that has them, as :meth:`port_statistics`
        gives them now (for ``snapshot save``), and why there are none ("" when there are)."""
        inv = self.load(progress)
        out: dict[tuple[str, str], PortStatistics] = {}
        for sw in inv.switches:
            keys = [p.key for p in inv.ports_by_switch.get(sw, ())]
            out.update(((sw, k), stats) for k, stats in self.port_statistics(sw, keys).items())
        return inv, out, "" if out else f"the {self.label} records no port counters"

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
            self._fold_mirrored(current, self.clock())
            self._inventory = current.with_switch(new_switch)
            self._record_history(switch, changes, keys)
            return ApplyResult(switch=new_switch, keys=tuple(keys), warnings=warnings)

    def close(self) -> None:
        """Nothing to release."""

    def _record_history(self, switch: Switch, changes: Sequence[SessionChange], keys: Sequence[str]) -> None:
        from tui.history import SessionHistoryEntry

        now = datetime.fromtimestamp(time.time(), UTC)
        try:
            user = getpass.getuser()
        except Exception:  # no passwd entry, no USER variable
            user = ""
        for change, key in zip(changes, keys, strict=True):
            before = switch.session(key) if change.operation is not ChangeOperation.ADD else None
            after = None if change.operation is ChangeOperation.REMOVE else replace(change.session, key=key)
            self._history.append(
                SessionHistoryEntry(
                    time=now,
                    user=user,
                    operation=change.operation,
                    switch=switch.name,
                    key=key,
                    name=(after or before or change.session).name,
                    session=after,
                    previous=before,
                    ours=True,
                    source="run",
                )
            )

    def session_history(self, switch: Switch, since: datetime | None) -> list[SessionHistoryEntry]:
        """The changes applied to ``switch`` in this run (a demo lab or snapshot keeps no other
        history), oldest first, every one ``ours`` with ``source`` ``run``."""
        with self._lock:
            return [e for e in self._history if e.switch == switch.name and (since is None or e.time >= since)]

    # -- monitor port (tui.monitor), in memory: tui.backends._offline_monitor ----------------------

    def _facts(self, inv: Inventory, vm_key: str, switch: str = "") -> VmFacts:
        from tui.backends._offline_monitor import teaming
        from tui.monitor import VmFacts

        vm = inv.vms.get(vm_key)
        sw = inv.switches.get(switch)
        return VmFacts(
            change_version=str(self._vm_versions.get(vm_key, 1)),
            device_types={n.key: "VirtualVmxnet3" for n in vm.nics} if vm else {},
            teaming=teaming(sw.uplink_names if sw else ()),
        )

    def monitor_plan(self, inventory: Inventory, request: MonitorRequest) -> MonitorPlan:
        """:func:`tui.monitor.plan` with the VM's ``changeVersion`` of this run and the lab's teaming."""
        from tui import monitor

        draft = monitor.plan(inventory, request)
        if draft.vm is None or draft.nic is None or draft.nothing_to_do:
            return draft
        switch = draft.template.switch if draft.template else ""
        return monitor.plan(inventory, request, self._facts(inventory, draft.vm.key, switch))

    def _move_counters(self, switch: str, old: str, new: str) -> None:
        """A NIC moved from port ``old`` to ``new``: ``old`` keeps its counters as they are now and stops
        moving; ``new`` carries the VM's traffic from now on (from zero, or from where it stood)."""
        if old == new or (switch, old) not in self._recorded:
            return
        now = self.clock()
        base, rates = self._recorded[(switch, old)]
        self._recorded[(switch, old)] = (projected(base, rates, now) if self._moving else base, {})
        prev = self._recorded.get((switch, new))
        start = (projected(prev[0], prev[1], now) if self._moving else prev[0]) if prev else None
        self._recorded[(switch, new)] = (replace(start, read_at=now) if start else PortStatistics(read_at=now), rates)

    def _refuse_read_only(self) -> None:
        if self.read_only:
            raise ReadOnlyError(
                "read-only mode: no change was made", hint=read_only_hint(self.settings.source("read_only"))
            )

    def monitor_apply(self, inventory: Inventory, plan: MonitorPlan) -> MonitorResult:
        """Create the portgroup and move the NIC in memory, refusing what vCenter would refuse."""
        from tui.backends import _offline_monitor as om
        from tui.monitor import MonitorResult

        self._refuse_read_only()
        vm, nic, switch, spec = plan.vm, plan.nic, plan.switch, plan.reconfig_spec
        if plan.errors or vm is None or nic is None or switch is None or spec is None:
            raise ChangeRefused("the plan has problems; nothing was sent", plan.errors, sent=False)
        with self._lock:
            current = self.load()
            if spec.get("changeVersion") != str(self._vm_versions.get(vm.key, 1)):
                raise ChangeRefused(
                    f"{vm.name} changed since the plan was made; nothing was sent",
                    [Problem("ConcurrentAccess", "The VM's changeVersion differs from the one reviewed: plan again.")],
                    sent=False,
                )
            self._fold_mirrored(current, self.clock())
            pg_key = plan.portgroup.key if plan.portgroup else ""
            if plan.create_spec is not None:
                current, pg = om.create_portgroup(current, switch.key, plan.create_spec)
                pg_key = pg.key
                self._inventory = current
            current, port = om.move_nic(current, vm.key, nic.key, pg_key)
            self._move_counters(switch.key, nic.port, port)
            self._vm_versions[vm.key] = self._vm_versions.get(vm.key, 1) + 1
            self._inventory = current
            return MonitorResult(
                vm=vm.name,
                nic=nic.label,
                portgroup=plan.portgroup_name,
                portgroup_key=pg_key,
                port=port,
                created=plan.create_spec is not None,
            )

    def monitor_restore(
        self, inventory: Inventory, record: RestoreRecord, *, remove_portgroup: bool = False, dry_run: bool = False
    ) -> tuple[dict[str, Any] | None, Problem, MonitorResult | None]:
        """Put the NIC back in memory (see :meth:`tui.backends.vsphere.VsphereBackend.monitor_restore`)."""
        from tui import monitor
        from tui.backends import _offline_monitor as om

        current = self.load()
        spec, note = monitor.restore_spec(current, record, self._facts(current, record.vm_key))
        if spec is None or dry_run:
            return spec, note, None
        self._refuse_read_only()
        with self._lock:
            current = self.load()
            self._fold_mirrored(current, self.clock())
            port_key = str(spec["deviceChange"][0]["device"]["backing"]["port"].get("portKey", ""))
            moved_from = next((n.port for v in current.vms.values() if v.key == record.vm_key for n in v.nics
                               if n.key == record.nic_key), "")  # fmt: skip
            current, port = om.move_nic(current, record.vm_key, record.nic_key, record.portgroup, port_key)
            self._move_counters(record.switch, moved_from, port)
            self._vm_versions[record.vm_key] = self._vm_versions.get(record.vm_key, 1) + 1
            self._inventory = current
            removed = False
            warnings: list[Problem] = []
            created = current.portgroups.get(record.to_portgroup)
            if remove_portgroup and record.created_portgroup and created is not None:
                busy = [p.key for p in current.ports_by_portgroup.get(created.key, ()) if p.connectee is not None]
                if busy:
                    warnings.append(monitor.kept_in_use(created.name, busy))
                else:
                    self._inventory = current = om.remove_portgroup(current, created.key)
                    removed = True
            pg = current.portgroups.get(record.portgroup)
            return (
                spec,
                note,
                monitor.MonitorResult(
                    vm=record.vm_name,
                    nic=record.nic_label,
                    portgroup=pg.name if pg else record.portgroup,
                    portgroup_key=record.portgroup,
                    port=port,
                    removed=removed,
                    warnings=tuple(warnings),
                ),
            )


def _next_version(version: str) -> int:
    return int(version) + 1 if ascii_digits(version) and len(version) < 19 else 1
