"""After a change left dvmirror: what the switch, read again, says about it (applied, not applied, cannot tell).

Pure: compares model objects only. :func:`applied_result` is the result of a change found applied;
:func:`judge` the verdict on one whose connection was lost after it was sent (vspan.md §5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace

from tui.backends import ApplyResult, ChangeInterrupted
from tui.backends._convert import _UNSET_AS
from tui.model import ChangeOperation, MirrorSession, Problem, SessionChange, Severity, Switch, VspanPorts

_IF_SENT = ("session_type", "netstack")
"""Fields vCenter may fill in itself when they are not sent: compared only when sent."""


def _holds(stored: MirrorSession, sent: MirrorSession) -> bool:
    """True when ``stored`` (re-read) carries every field of ``sent`` (key aside)."""
    for f in fields(MirrorSession):
        name = f.name
        if name == "key":
            continue
        want, have = getattr(sent, name), getattr(stored, name)
        if name in _IF_SENT and want is None:
            continue
        if isinstance(want, VspanPorts):
            if any(sorted(map(str, getattr(want, a))) != sorted(map(str, getattr(have, a))) for a in _PORT_LISTS):
                return False
            continue
        default = _UNSET_AS.get(name)
        if (default if want is None else want) != (default if have is None else have):
            return False
    return True


_PORT_LISTS = ("port_keys", "uplink_names", "vlans", "ip_addresses", "wildcard_types")


def _changes_found(before: Switch, after: Switch, changes: Sequence[SessionChange]) -> bool:
    """True when ``after`` shows every change applied to ``before``."""
    old = {s.key for s in before.sessions}
    new = [s for s in after.sessions if s.key not in old]
    for change in changes:
        key = change.session.key or ""
        if change.operation is ChangeOperation.ADD:
            match = next((s for s in new if _holds(s, change.session)), None)
            if match is None:
                return False
            new.remove(match)
        elif change.operation is ChangeOperation.EDIT:
            stored = after.session(key)
            if stored is None or not _holds(stored, change.session):
                return False
        elif after.session(key) is not None:
            return False
    return True


def applied_result(
    current: Switch, after: Switch, changes: Sequence[SessionChange], warnings: Sequence[Problem]
) -> ApplyResult:
    """The ApplyResult of a change found applied: ``after`` and the keys of added sessions."""
    before_keys = {s.key for s in current.sessions}
    added = [s.key for s in after.sessions if s.key not in before_keys and s.key]
    keys: list[str] = []
    for change in changes:
        if change.operation is ChangeOperation.ADD:
            if added:
                keys.append(str(added.pop(0)))
        elif change.session.key:
            keys.append(change.session.key)
    return ApplyResult(
        switch=after, keys=tuple(keys), warnings=tuple(w for w in warnings if w.severity is Severity.WARNING)
    )


def judge(
    switch: Switch,
    current: Switch,
    after: Switch,
    changes: Sequence[SessionChange],
    warnings: Sequence[Problem],
    lost: str,
    done: bool,
    look: str,
) -> ApplyResult:
    """Compare the switch re-read after a lost connection with the change as sent."""
    name = switch.name
    moved = after.config_version != current.config_version
    if moved and _changes_found(current, after, changes):
        note = (
            f"{lost} after the change to {name} was sent; dvmirror reconnected and read {name} again: "
            "the change was applied."
        )
        result = applied_result(current, after, changes, warnings)
        lost_warning = Problem("ConnectionLost", note, severity=Severity.WARNING)
        return replace(result, warnings=(lost_warning, *result.warnings), recovered=note)
    if not moved and not done:
        raise ChangeInterrupted(
            f"{lost} while the change to {name} was being sent; dvmirror reconnected and read {name} again: "
            f"the change was not applied (configVersion is still {after.config_version})",
            applied=False,
            switch=after,
            hint=f"Nothing changed on {name}; the change can be sent again.",
        )
    listing = "\n".join(
        f"  {s.key}  {s.name}  ({s.session_type or 'untyped'}, {'enabled' if s.enabled else 'disabled'})"
        for s in after.sessions
    )
    raise ChangeInterrupted(
        f"{lost} while the change to {name} was being sent; read again, {name} has configVersion "
        f"{after.config_version} (it was {current.config_version}) but does not hold the change as sent: "
        "dvmirror cannot tell whether it was applied",
        applied=None,
        switch=after,
        hint=f"{name} now has {len(after.sessions)} session(s):\n{listing or '  (none)'}\n{look}",
    )


def _not_applied(before: Switch, after: Switch, changes: Sequence[SessionChange]) -> list[Problem]:
    """What the re-read switch ``after`` does not show of ``changes`` (sent to ``before``)."""
    before_keys = {s.key for s in before.sessions}
    after_keys = {s.key for s in after.sessions}
    new = len(after_keys - before_keys)
    problems: list[Problem] = []
    adds = 0
    for change in changes:
        s = change.session
        name = f" {s.name!r}" if s.name else ""
        if change.operation is ChangeOperation.ADD:
            adds += 1
            if adds > new:
                problems.append(
                    Problem(
                        "NotApplied",
                        f"Session{name} is not on {after.name}: the switch has no new session "
                        f"({len(after.sessions)} in all).",
                    )
                )
        elif change.operation is ChangeOperation.EDIT and s.key not in after_keys:
            problems.append(Problem("NotApplied", f"Session {s.key}{name} is not on {after.name} any more."))
        elif change.operation is ChangeOperation.REMOVE and s.key in after_keys:
            problems.append(
                Problem("NotApplied", f"Session {s.key}{name} is still on {after.name}: it was not removed.")
            )
    return problems
