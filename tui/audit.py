"""The audit log: one JSON line per change sent (or tried) to vCenter (DESIGN.md §8).

Pure Python: no Textual, no pyVmomi. The log is append-only JSON lines at
``platformdirs.user_state_path("dvmirror") / "audit.jsonl"``; ``$DVMIRROR_AUDIT_LOG`` or the
``path`` argument moves it. Each line holds::

    {"time": "2026-11-28T06:09:07Z", "user": "administrator@vsphere.local", "local_user": "ops",
     "client": "jump01", "vcenter": "vcsa01.lab.local", "switch": "dvSwitchCloud", "dry_run": false,
     "result": "ok", "changes": [{"operation": "add", "switch": ..., "session": {...}}],
     "problems": [{"code": ..., "severity": ..., "field": ..., "message": ...}]}

``result`` is ``ok`` (applied), ``refused`` (stopped before sending: our rules, read-only mode,
or the switch found changed meanwhile), ``fault`` (vCenter refused it), ``error`` (the connection
or the task failed; when the change had been sent, re-reading the switch found it not applied:
problem ``NotApplied``) or ``unknown`` (the connection failed after sending and the re-read
switch cannot tell: ``OutcomeUnknown``). A change found applied after a lost connection is
``ok`` with a ``ConnectionLost`` problem. :mod:`tui.outcome` decides which.

Security: passwords never reach the log. The caller passes a user name, never a password, and
a password embedded in the vCenter URL (``GOVC_URL=https://user:secret@vc/sdk``) is removed.
The directory is created with mode 0700 and the file with 0600 (both narrowed further by the
umask, never widened).

The log is opened with ``O_NOFOLLOW`` and ``O_NONBLOCK``: a symbolic link at its path (or a
FIFO, a device) is refused with a warning and nothing is written through it. Names are written
with control, C1 and bidi characters as JSON escapes (:func:`tui.text.json_text`), so
``tail audit.jsonl`` in a terminal is harmless.

Practice runs: changes to the demo lab or a snapshot change no vCenter (they live in memory
for one run), so :func:`record_change` does not write them to the audit log. They are written
only to a log named by ``$DVMIRROR_PRACTICE_LOG`` (unset: nowhere), labelled with their
source (``vcsa01.lab.local (demo lab)``).

Robustness: writing never raises. :meth:`AuditLog.record` returns ``None`` on success or a
plain-language error message for the UI to show; the change itself is not undone.
"""

from __future__ import annotations

import errno
import getpass
import json
import os
import socket
import stat
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from tui.backends import Backend
from tui.config import redact_url
from tui.model import Inventory, Problem, SessionChange
from tui.text import json_text

ENV_PATH = "DVMIRROR_AUDIT_LOG"
"""Environment variable that moves the log."""
ENV_PRACTICE_PATH = "DVMIRROR_PRACTICE_LOG"
"""Environment variable naming a log for demo-lab and snapshot changes (unset: not recorded)."""
RESULTS = ("ok", "refused", "fault", "error", "unknown")
"""The values of an entry's ``result``."""


def default_path() -> Path:
    """``$DVMIRROR_AUDIT_LOG``, or ``audit.jsonl`` in the platformdirs user state directory."""
    env = os.environ.get(ENV_PATH, "").strip()
    if env:
        return Path(env).expanduser()
    return platformdirs.user_state_path("dvmirror") / "audit.jsonl"


def _local_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry, no USER variable: not worth failing an audit line
        return ""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AuditLog:
    """An append-only JSON-lines audit log."""

    def __init__(self, path: Path | str | None = None, *, clock: Callable[[], datetime] | None = None) -> None:
        """Log to ``path``, or to :func:`default_path` (``$DVMIRROR_AUDIT_LOG`` or the state dir)."""
        self.path = Path(path).expanduser() if path is not None else default_path()
        self._clock = clock or _utc_now

    def entry(
        self,
        *,
        user: str,
        vcenter: str,
        switch: str,
        changes: Iterable[SessionChange],
        result: str,
        problems: Iterable[Problem] = (),
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """The JSON object :meth:`record` writes (``ValueError`` for an unknown ``result``)."""
        if result not in RESULTS:
            raise ValueError(f"audit result must be one of {', '.join(RESULTS)}, not {result!r}")
        now = self._clock().astimezone(UTC)
        return {
            "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "user": user,
            "local_user": _local_user(),
            "client": socket.gethostname(),
            "vcenter": redact_url(vcenter),
            "switch": switch,
            "dry_run": bool(dry_run),
            "result": result,
            "changes": [c.to_api(switch) for c in changes],
            "problems": [p.to_json() for p in problems],
        }

    def record(self, **fields: Any) -> str | None:
        """Append one line of :meth:`entry`'s ``fields``; ``None`` when written, else a message
        saying why not (never raises OSError)."""
        entry = self.entry(**fields)
        try:
            line = json_text(entry, separators=(",", ":"), default=str) + "\n"
        except (TypeError, ValueError, RecursionError) as e:
            return f"The audit log entry could not be written: {e}"
        try:
            self._append(line.encode("utf-8", "backslashreplace"))
        except _NotAFile as e:
            return f"The change was not recorded in the audit log {self.path}: {e}."
        except OSError as e:
            if e.errno == errno.ELOOP:
                reason = "it is a symbolic link, and dvmirror does not write through one"
            else:
                reason = e.strerror or str(e)
            return f"The change was not recorded in the audit log {self.path}: {reason}."
        except Exception as e:  # never into the app: the change itself has happened
            return f"The change was not recorded in the audit log {self.path}: {e.__class__.__name__}: {e}."
        return None

    def _append(self, data: bytes) -> None:
        parent = self.path.parent
        if not parent.is_dir():
            parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        flags = (
            os.O_WRONLY
            | os.O_APPEND
            | os.O_CREAT
            | getattr(os, "O_CLOEXEC", 0)
            | getattr(os, "O_NOFOLLOW", 0)  # a planted symlink is refused (ELOOP), never followed
            | getattr(os, "O_NONBLOCK", 0)  # a FIFO without a reader fails at once instead of hanging
        )
        fd = os.open(self.path, flags, 0o600)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise _NotAFile("it is not a regular file")
            # One write per line: with O_APPEND, concurrent writers do not interleave within it.
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        finally:
            os.close(fd)

    def entries(self) -> list[dict[str, Any]]:
        """Every entry in the log, oldest first; unreadable lines (a torn last line) are skipped."""
        try:
            if not self.path.is_file():  # missing, or a FIFO or device (reading a FIFO would wait for ever)
                return []
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError:  # unreadable: no entries to match (the history still lists vCenter's events)
            return []
        out: list[dict[str, Any]] = []
        for line in text.splitlines():
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                out.append(value)
        return out


class _NotAFile(Exception):
    """The log path is a FIFO, a device or a socket."""


def record(*, path: Path | str | None = None, **fields: Any) -> str | None:
    """Append one entry to the log at ``path`` (default :func:`default_path`); see :meth:`AuditLog.entry`."""
    return AuditLog(path).record(**fields)


def record_change(
    backend: Backend,
    inventory: Inventory,
    switch: str,
    changes: Iterable[SessionChange],
    result: str,
    problems: Iterable[Problem] = (),
) -> str | None:
    """Record a change handed to ``backend.apply`` (by :func:`tui.outcome.apply_and_audit`, for
    the CLI and the TUI alike).

    The user is the vCenter user of the backend's settings, else the OS user. Changes to the
    demo lab or a snapshot (``backend.offline``) change no vCenter: they are recorded only in
    the log named by ``$DVMIRROR_PRACTICE_LOG`` (else not at all, and ``None`` is returned),
    with their source after the vCenter (``vcsa01 (demo lab)``), so practice runs never reach
    the operator's audit log.
    """
    path: str | None = None
    if backend.offline:
        path = os.environ.get(ENV_PRACTICE_PATH, "").strip()
        if not path:
            return None
    user = backend.settings.user or _local_user()
    vcenter = inventory.vcenter + (f" ({backend.label})" if backend.offline else "")
    return record(
        path=path, user=user, vcenter=vcenter, switch=switch, changes=changes, result=result, problems=problems
    )


def record_monitor(
    backend: Backend,
    inventory: Inventory,
    switch: str,
    change: dict[str, Any],
    result: str,
    problems: Iterable[Problem] = (),
) -> str | None:
    """Record a monitor-port change (:mod:`tui.monitor_ops`) like :func:`record_change` does a session change.

    ``change`` is ``{"operation": "monitorPrepare" | "monitorRestore", "vm", "nic", ..., the specs sent}``;
    it is the entry's one element of ``changes`` (the history of sessions skips it: no ``session``).
    """
    path: str | None = None
    if backend.offline:
        path = os.environ.get(ENV_PRACTICE_PATH, "").strip()
        if not path:
            return None
    log = AuditLog(path)
    user = backend.settings.user or _local_user()
    vcenter = inventory.vcenter + (f" ({backend.label})" if backend.offline else "")
    entry = log.entry(user=user, vcenter=vcenter, switch=switch, changes=(), result=result, problems=problems)
    entry["changes"] = [change]
    try:
        line = json_text(entry, separators=(",", ":"), default=str) + "\n"
        log._append(line.encode("utf-8", "backslashreplace"))
    except (TypeError, ValueError, RecursionError, OSError, _NotAFile) as e:
        return f"The change was not recorded in the audit log {log.path}: {e}."
    return None
