"""Backends: where an :class:`~tui.model.Inventory` comes from and where changes go.

A backend is anything with ``load``, ``apply``, ``port_statistics``, ``close`` and ``settings``
(:class:`Backend`). One whose inventory changes under it (vCenter) can also follow the changes:
:class:`Followable`, found with :func:`followable`. The
snapshot backend reads a JSON file; the vsphere backend talks to vCenter through pyVmomi
and is imported lazily so that ``--demo`` never loads pyVmomi.

Errors are :class:`BackendError` subclasses carrying a plain-language message and the CLI
exit code of DESIGN.md §10.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from tui.model import Inventory, PortStatistics, Problem, SessionChange, Switch

if TYPE_CHECKING:
    import threading
    from datetime import datetime

    from tui.config import Settings
    from tui.history import SessionHistoryEntry
    from tui.inventory_update import LiveState

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_CONNECTION = 3
EXIT_FAULT = 4


class BackendError(Exception):
    """A failure to show to the user as it is: ``str(error)`` is the whole message.

    A subclass names its ``title`` (the heading people see) and, where it differs from its
    parent's, its ``exit_code`` in the class statement: ``class X(BackendError, title="...")``.
    """

    exit_code = EXIT_CONNECTION
    title = "Error"

    def __init_subclass__(cls, *, title: str = "", exit_code: int | None = None, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if title:
            cls.title = title
        if exit_code is not None:
            cls.exit_code = exit_code

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        """What the user can do about it (may be several lines)."""

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class SnapshotError(BackendError, title="Cannot read snapshot", exit_code=EXIT_USAGE):
    """A snapshot file is missing, unreadable or malformed."""


class ConnectionFailed(BackendError, title="Cannot reach vCenter"):
    """vCenter could not be reached, or the connection dropped."""


class LoginFailed(BackendError, title="Login failed"):
    """vCenter refused the credentials."""


class CertificateError(ConnectionFailed, title="Certificate not trusted"):
    """The server's TLS certificate is not trusted."""


class SessionExpired(ConnectionFailed, title="Session expired"):
    """The vCenter session is no longer valid."""


class LoadInterrupted(ConnectionFailed, title="Load interrupted"):
    """The connection failed in the middle of a load: what was read so far is incomplete."""


class ChangeInterrupted(ConnectionFailed):
    """The connection failed after a change was sent; the switch was re-read to find out what happened.

    ``applied`` is False when the switch shows the change did not happen (``configVersion`` as
    before), None when dvmirror cannot tell (the switch changed but does not hold the change as
    sent, or it could not be read again), True when vCenter's task reported success but the
    switch could not be read again. ``switch`` is the switch as re-read (None if it could not
    be). A change found applied on the re-read switch is no error: ``apply`` returns it with a
    ``ConnectionLost`` warning. The problem code is ``NotApplied``, ``OutcomeUnknown`` or
    ``AppliedNotReread``.
    """

    def __init__(self, message: str, *, applied: bool | None, switch: Switch | None, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.applied = applied
        self.switch = switch
        self.sent = True
        """The request left dvmirror (vCenter may or may not have received it)."""
        self.title, code, text = {
            False: (
                "Change not applied",
                "NotApplied",
                "The connection failed while sending; read again, the switch is as before.",
            ),
            True: (
                "Change applied, switch not re-read",
                "AppliedNotReread",
                "vCenter's task reports the change applied; the switch could not be read again.",
            ),
            None: (
                "Change outcome unknown",
                "OutcomeUnknown",
                "The connection failed after sending; whether the change was applied cannot be told.",
            ),
        }[applied]
        self.problems = [Problem(code, text)]


class StatisticsUnsupported(BackendError, title="Port counters not available", exit_code=EXIT_FAULT):
    """The server cannot give fresh port counters (no ``RefreshDVPortState``): asking again will not help."""


class ReadOnlyError(BackendError, title="Read-only", exit_code=EXIT_PROBLEMS):
    """A write was attempted in read-only mode."""


class ChangeRefused(BackendError, title="Change refused"):
    """A change was not sent (our rules) or was refused by vCenter (a fault)."""

    def __init__(self, message: str, problems: Sequence[Problem], *, sent: bool, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.problems = list(problems)
        self.sent = sent
        """True when vCenter refused it (exit 4); False when our rules stopped it (exit 1)."""
        self.exit_code = EXIT_FAULT if sent else EXIT_PROBLEMS


class StaleSwitch(ChangeRefused, title="Switch changed meanwhile"):
    """The switch changed since it was read (``ConcurrentAccess``); the fresh one is attached.

    ``sent`` is False when the backend saw the new ``configVersion`` before sending (nothing was
    sent), True when vCenter itself answered ``ConcurrentAccess``. Either way nothing changed and
    the exit code is 4, as for vCenter's own ``ConcurrentAccess``.
    """

    def __init__(self, message: str, problems: Sequence[Problem], switch: Switch | None, *, sent: bool = False) -> None:
        super().__init__(message, problems, sent=sent)
        self.switch = switch
        self.exit_code = EXIT_FAULT


def check_or_refuse(inventory: Inventory, switch_key: str, changes: Sequence[SessionChange]) -> tuple[Problem, ...]:
    """Run the rules; raise :class:`ChangeRefused` (nothing sent) on an error, else return the warnings."""
    from tui import rules
    from tui.model import Severity

    problems = rules.check(inventory, switch_key, changes)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors:
        raise ChangeRefused("the change breaks vCenter's rules; nothing was sent", errors, sent=False)
    return tuple(problems)


@dataclass(frozen=True, slots=True)
class LoadProgress:
    """A step of a load, for the progress bar.

    ``partial`` carries an inventory that is already useful (switches and portgroups,
    ports still missing) so the tree can appear before the load ends.
    """

    message: str
    done: int = 0
    total: int | None = None
    partial: Inventory | None = None


ProgressCallback = Callable[[LoadProgress], None]


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What ``Backend.apply`` did."""

    switch: Switch
    """The switch as re-read after the change."""
    keys: tuple[str, ...] = ()
    """Session keys the change created or touched, in change order."""
    warnings: tuple[Problem, ...] = field(default_factory=tuple)
    recovered: str = ""
    """Set when the connection failed after sending and re-reading the switch found the change
    applied: what happened, in plain words (also a ``ConnectionLost`` warning in ``warnings``)."""


class Backend(Protocol):
    """Where the inventory comes from and where session changes are applied."""

    label: str
    """Shown in the header: ``demo lab``, ``snapshot lab.json``, ``vCenter vcsa01``."""
    read_only: bool
    offline: bool
    """True for the demo lab and snapshots: changes last for the run only."""
    insecure: bool
    """True when the server's certificate is not verified (shown loudly)."""
    settings: Settings
    """How to reach and log in to vCenter, and where each value came from (``settings.source``,
    e.g. of ``read_only``). Offline backends hold settings without a server: nothing to log in to.
    The TUI puts the password it asked for here (``settings.with_password``) before loading."""

    def load(self, progress: ProgressCallback | None = None) -> Inventory:
        """Read the whole inventory (blocking; call it from a worker thread)."""
        ...

    def apply(self, inventory: Inventory, switch_key: str, changes: Sequence[SessionChange]) -> ApplyResult:
        """Send ``changes`` to one switch as one all-or-nothing reconfigure.

        Raises :class:`ReadOnlyError`, :class:`ChangeRefused` (rules or fault),
        :class:`StaleSwitch`, or a connection error. Never half-applies.
        """
        ...

    def port_statistics(self, switch_key: str, port_keys: Sequence[str]) -> dict[str, PortStatistics]:
        """The traffic counters of ``port_keys`` on one switch, read now (blocking).

        Only those ports are read, never the whole switch: the vsphere backend asks vCenter to
        refresh their state from the hosts (``RefreshDVPortState``), then fetches them by key
        (``FetchDVPorts``). A key the switch does not have is left out of the result (as a port that
        vanished); an unknown switch gives an empty result. Raises a connection error, a
        :class:`BackendError` for a vCenter fault, or :class:`StatisticsUnsupported` when the server
        cannot refresh port state at all.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...

    def session_history(self, switch: Switch, since: datetime | None) -> list[SessionHistoryEntry]:
        """The changes of ``switch``'s mirror sessions since ``since`` (all kept when None), oldest
        first (blocking), :func:`tui.history.entries` of them: on vCenter its ``DvsReconfiguredEvent`` events
        with dvmirror's audit entries matched (``ours``); on the demo lab and snapshots the changes
        made in this run. Raises a connection error or a :class:`BackendError`.
        """
        ...


@runtime_checkable
class Followable(Protocol):
    """An optional capability of a :class:`Backend`: following the changes of its inventory after a
    load (the vsphere backend: the PropertyCollector's ``WaitForUpdatesEx``). The demo lab and
    snapshots do not change under dvmirror and do not have it."""

    def follow(
        self,
        inventory: Inventory,
        on_update: Callable[[LiveState], None],
        stop: threading.Event,
        *,
        resync: bool = False,
    ) -> None:
        """Follow changes after ``inventory`` was loaded until ``stop`` is set (blocking; run it in a
        thread; ``stop`` is noticed within a second or so). ``resync``: read the inventory again once
        the channel is set up (it may be old). Every update (a new inventory) and every state of the
        channel (live, reconnecting, lost) is a :class:`~tui.inventory_update.LiveState` passed to
        ``on_update``, from that thread. Never raises for a failure of the channel: it is reported."""
        ...


def followable(backend: object) -> Followable | None:
    """``backend`` if it can follow its inventory's changes (:class:`Followable`), else ``None``."""
    return backend if isinstance(backend, Followable) else None
