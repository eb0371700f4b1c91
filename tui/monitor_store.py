"""Where ``monitor prepare`` remembers where each NIC was, so ``monitor restore`` can put it back.

One JSON file, ``platformdirs.user_state_path("dvmirror") / "monitor-ports.json"``;
``$DVMIRROR_MONITOR_STATE`` moves it. Its shape::

    {"version": 1, "records": [{"vcenter", "vmKey", "vm", "nicKey", "nic", "switch", "portgroup",
      "port", "toPortgroup", "createdPortgroup", "at"}]}

(:class:`tui.monitor.RestoreRecord`). ``vcenter`` is the SDK URL dvmirror connects to (without
credentials; :func:`tui.drift_store.scope`). One record per (vCenter, VM, NIC): a second prepare of
the same NIC keeps the first record (where it was before dvmirror moved it). The demo lab and
snapshots keep theirs in memory (``path=None``). Written with mode 0600 (directory 0700) through
a temporary file renamed over it, re-read just before writing. A file that is not this shape (or
larger than :data:`MAX_BYTES`), a symbolic link or a FIFO is not used: :attr:`MonitorStore.message`
says so and nothing is kept. Never raises ``OSError``.

Pure Python: no Textual, no pyVmomi.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path

import platformdirs

from tui.monitor import RestoreRecord
from tui.privatefile import write_private

ENV_PATH = "DVMIRROR_MONITOR_STATE"
VERSION = 1
MAX_BYTES = 4 * 1024 * 1024


def default_path() -> Path:
    """``$DVMIRROR_MONITOR_STATE``, or ``monitor-ports.json`` in the platformdirs user state directory."""
    env = os.environ.get(ENV_PATH, "").strip()
    if env:
        return Path(env).expanduser()
    return platformdirs.user_state_path("dvmirror") / "monitor-ports.json"


def parse(text: str) -> list[RestoreRecord]:
    """The records of a file's text (``ValueError`` when it is not the shape above)."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("records"), list):
        raise ValueError("not a dvmirror monitor-ports file (version 1)")
    out = []
    for i, raw in enumerate(data["records"]):
        rec = RestoreRecord.from_json(raw)
        if rec is None:
            raise ValueError(f"records[{i}] is not a record")
        out.append(rec)
    return out


def dump(records: list[RestoreRecord]) -> str:
    return json.dumps({"version": VERSION, "records": [r.to_json() for r in records]}, indent=1) + "\n"


def _same(a: RestoreRecord, b: RestoreRecord) -> bool:
    return (a.vcenter, a.vm_key, a.nic_key) == (b.vcenter, b.vm_key, b.nic_key)


@dataclass
class MonitorStore:
    """The restore records; ``path=None`` keeps them in memory (the demo lab, snapshots)."""

    path: Path | None = None
    records: list[RestoreRecord] = field(default_factory=list)
    message: str = ""
    """Why the file is not used (unreadable, not a regular file, not this shape), for people; "" if fine."""

    @classmethod
    def open(cls, path: Path | None) -> MonitorStore:
        store = cls(path)
        if path is not None:
            store.records = store._read()
        return store

    def _read(self) -> list[RestoreRecord]:
        assert self.path is not None
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(self.path, flags)
        except FileNotFoundError:
            return []
        except OSError as e:
            return self._unusable(f"cannot be read ({e.strerror or e})")
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return self._unusable("is not a regular file")
            if info.st_size > MAX_BYTES:
                return self._unusable(f"is larger than {MAX_BYTES} bytes")
            data = os.read(fd, MAX_BYTES + 1)
        except OSError as e:
            return self._unusable(f"cannot be read ({e.strerror or e})")
        finally:
            os.close(fd)
        try:
            return parse(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            return self._unusable(f"is not readable ({str(e)[:200]})")

    def _unusable(self, why: str) -> list[RestoreRecord]:
        self.message = f"The monitor port records {self.path} {why}; nothing is kept there."
        self.path = None
        return []

    def find(self, vcenter: str, vm_key: str, nic_key: int | None = None) -> list[RestoreRecord]:
        """The records of a VM (and NIC) on a vCenter, oldest first."""
        return [r for r in self.records if r.vcenter == vcenter and r.vm_key == vm_key and nic_key in (None, r.nic_key)]

    def put(self, record: RestoreRecord) -> str | None:
        """Remember ``record``; write. A NIC that already has one keeps where it was first, and takes
        where it was moved to now (and whether dvmirror created that portgroup)."""
        old = next((r for r in self.records if _same(r, record)), None)
        if old is not None:
            if (old.to_portgroup, old.created_portgroup) == (record.to_portgroup, record.created_portgroup):
                return None
            record = replace(old, to_portgroup=record.to_portgroup, created_portgroup=record.created_portgroup)
            self.records = [record if _same(r, record) else r for r in self.records]
            return self._write(drop=old, add=record)
        self.records.append(record)
        return self._write(add=record)

    def drop(self, record: RestoreRecord) -> str | None:
        """Forget ``record`` (the NIC is back); write."""
        self.records = [r for r in self.records if not _same(r, record)]
        return self._write(drop=record)

    def _write(self, add: RestoreRecord | None = None, drop: RestoreRecord | None = None) -> str | None:
        if self.path is None:
            return None
        path = self.path
        ondisk = self._read()
        if self.path is None:
            return self.message
        if drop is not None:
            ondisk = [r for r in ondisk if not _same(r, drop)]
        if add is not None and not any(_same(r, add) for r in ondisk):
            ondisk.append(add)
        try:
            write_private(path, dump(ondisk))
        except OSError as e:
            return f"The monitor port record was not saved to {path}: {e.strerror or e}."
        self.records = ondisk
        return None
