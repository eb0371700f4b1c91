"""What became of a session change handed to ``backend.apply``: one answer for the TUI and the CLI.

:func:`outcome_of` is pure: from the changes and what ``apply`` returned or raised, it says the
audit result (``ok``, ``refused``, ``fault``, ``error``, ``unknown``; see :mod:`tui.audit`),
whether the request left dvmirror (``sent``), the problems to show (errors first, then
warnings), the changes with the keys vCenter assigned, the switch as re-read, a message and the
CLI exit code (DESIGN.md §10). :func:`apply_and_audit` is the one place that calls
``backend.apply``, turns its answer into an :class:`Outcome` and writes the audit entry. The
surfaces only render the outcome: the CLI prints it (``tui/cli_sessions``), the app posts it
as ``ChangeApplied`` or ``ChangeFailed``.

Pure Python: no Textual, no pyVmomi.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from tui import audit, rules
from tui.backends import (
    EXIT_FAULT,
    EXIT_OK,
    ApplyResult,
    Backend,
    BackendError,
    ChangeInterrupted,
    ChangeRefused,
    ReadOnlyError,
)
from tui.model import ChangeOperation, Inventory, MirrorSession, Problem, SessionChange, Severity, Switch


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one batch of changes to one switch."""

    result: str
    """The audit result: ``ok``, ``refused``, ``fault``, ``error`` or ``unknown``."""
    sent: bool
    """The request left dvmirror (applied, refused by vCenter with a fault, or lost after sending)."""
    problems: tuple[Problem, ...]
    """Errors first (the refusal, the fault, the failure), then warnings (the rules', the backend's)."""
    changes: tuple[SessionChange, ...]
    """The changes; when applied, added sessions carry the key vCenter assigned."""
    exit_code: int
    """The CLI exit code (DESIGN.md §10)."""
    message: str = ""
    """Why the change was refused or failed (the backend's words); ``""`` when applied."""
    error: BackendError | None = None
    """The failure as the backend raised it (an unexpected exception wrapped in a BackendError)."""
    applied: ApplyResult | None = None
    """What ``apply`` returned when it succeeded."""
    audit_error: str | None = None
    """Why the audit entry could not be written (set by :func:`apply_and_audit`)."""

    @property
    def switch(self) -> Switch | None:
        """The switch as re-read after the change, or after a stale or interrupted one (else None)."""
        if self.applied is not None:
            return self.applied.switch
        return getattr(self.error, "switch", None)

    @property
    def recovered(self) -> str:
        """The connection failed after sending and the re-read switch showed the change applied."""
        return self.applied.recovered if self.applied is not None else ""

    def stored(self, index: int = 0) -> MirrorSession | None:
        """The session of change ``index`` as the switch holds it after the change (None for a
        remove, a failure, or a session whose key is not known)."""
        if self.applied is None or not 0 <= index < len(self.changes):
            return None
        change = self.changes[index]
        if change.operation is ChangeOperation.REMOVE or not change.session.key:
            return None
        return self.applied.switch.session(change.session.key)


def with_keys(changes: Sequence[SessionChange], keys: Sequence[str]) -> tuple[SessionChange, ...]:
    """``changes`` with each added session given its key from ``keys`` (:attr:`ApplyResult.keys`).

    The keys pair with the changes by position only when there is one per change: a backend
    that could not tell a new session's key leaves it out, and then no key is claimed.
    """
    if len(keys) != len(changes):
        return tuple(changes)
    return tuple(
        SessionChange(c.operation, c.session.with_changes(key=k)) if c.operation is ChangeOperation.ADD and k else c
        for c, k in zip(changes, keys, strict=True)
    )


def outcome_of(
    changes: Sequence[SessionChange],
    answer: ApplyResult | BackendError,
    warnings: Sequence[Problem] = (),
) -> Outcome:
    """The outcome of ``changes`` given what ``apply`` returned or raised (``answer``).

    ``warnings`` are the rules' warnings shown before sending; they follow the errors, and the
    backend's own warnings follow them (each problem once).
    """
    warned = tuple(p for p in warnings if p.severity is not Severity.ERROR)
    if isinstance(answer, ApplyResult):
        known = {(p.code, p.message) for p in warned}
        extra = tuple(w for w in answer.warnings if (w.code, w.message) not in known)
        return Outcome("ok", True, (*warned, *extra), with_keys(changes, answer.keys), EXIT_OK, applied=answer)
    e = answer
    problems: list[Problem]
    if isinstance(e, ReadOnlyError):
        hint = f" {e.hint}" if e.hint else ""
        result, sent = "refused", False
        problems = [Problem("ReadOnly", f"{e.message[:1].upper()}{e.message[1:]}.{hint}")]
    elif isinstance(e, ChangeRefused):  # includes StaleSwitch (ConcurrentAccess)
        result, sent = ("fault" if e.sent else "refused"), e.sent
        problems = [p for p in e.problems if p.severity is Severity.ERROR] or [Problem(type(e).__name__, str(e))]
        problems += [p for p in e.problems if p.severity is not Severity.ERROR]
    elif isinstance(e, ChangeInterrupted):  # sent, then lost: as the re-read switch shows it
        result, sent = {False: "error", True: "ok", None: "unknown"}[e.applied], True
        problems = list(e.problems)
    else:  # the connection or the session failed before sending
        result, sent = "error", False
        problems = [Problem(type(e).__name__, str(e))]
    code = EXIT_FAULT if result == "fault" else e.exit_code
    return Outcome(result, sent, (*problems, *warned), tuple(changes), code, message=e.message, error=e)


def apply_and_audit(
    backend: Backend,
    inventory: Inventory,
    switch_key: str,
    changes: Sequence[SessionChange],
    warnings: Sequence[Problem] | None = None,
) -> Outcome:
    """Send ``changes`` with ``backend.apply``, record the attempt in the audit log, return the outcome.

    ``warnings`` (the rules' warnings already shown) default to those :func:`tui.rules.check`
    finds. Never raises for a failure of ``apply``: an unexpected exception becomes an ``error``
    outcome, so the user gets a message, not a traceback. Blocking: call it from a worker thread
    in the app.
    """
    if warnings is None:
        warnings = [p for p in rules.check(inventory, switch_key, changes) if p.severity is not Severity.ERROR]
    answer: ApplyResult | BackendError
    try:
        answer = backend.apply(inventory, switch_key, changes)
    except BackendError as e:
        answer = e
    except Exception as e:  # never a traceback: reported like any other failure
        answer = BackendError(f"The change failed unexpectedly: {e.__class__.__name__}: {e}")
    outcome = outcome_of(changes, answer, warnings)
    cache = getattr(backend, "inventory_cache", None)
    if cache is not None and outcome.sent:  # the cached inventory may no longer be so (tui.warm)
        cache.forget(backend.settings)
    switch = inventory.switches.get(switch_key)
    failure = audit.record_change(
        backend, inventory, switch.name if switch else switch_key, outcome.changes, outcome.result, outcome.problems
    )
    return outcome if failure is None else replace(outcome, audit_error=failure)
