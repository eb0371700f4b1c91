"""The change history of a switch's mirror sessions: vCenter's events, dvmirror's audit log, one list.

Pure Python: no Textual, no pyVmomi. A backend turns each mirror-session change it finds (on
vCenter: a ``vspanConfigSpec`` entry of a ``DvsReconfiguredEvent``'s ``configSpec``) into a
:class:`SentChange`; :func:`entries` makes them :class:`SessionHistoryEntry` rows, oldest first:

- **Keys and names.** An ``add`` spec carries no key (vCenter assigns it) and a ``remove`` spec
  only the key. An add's key is taken from dvmirror's audit entry it matches (which holds the key
  vCenter returned), else from a later edit of a session of that name in the history, else from
  the switch's current session of that name when exactly one has it; a remove's name from what
  the history (or the audit entry) knew of that key. Unresolved: ``None`` / ``""``.
- **What changed.** The sessions are followed through the history: an add gives the whole
  session, an edit is merged into what was known of it (vCenter merges edits: the fields the spec
  sets replace the stored ones). An edit of a session known from earlier in the history is
  summarised as the fields it changed (:func:`tui.sessionform.field_changes`: ``enabled: true →
  false``); one whose earlier state is not in the history as the fields it set.
- **Ours.** An audit entry of dvmirror (:mod:`tui.audit`, result ``ok`` or ``unknown``) matches an
  event's change when the vCenter and switch are the same, the operation and session key (for an
  add: the name) are the same, the user is the same (``DOMAIN\\user`` and ``user@domain`` compare
  equal, ignoring case), the name, enabled flag and ports sent agree, and the audit entry was
  written from :data:`MATCH_BEFORE` s before to :data:`MATCH_AFTER` s after the event (dvmirror writes
  it after vCenter's task finished and the switch was re-read). Each audit change matches at most one
  event change. A matched entry is ``ours``. Audit entries that match no event (refused, failed,
  or an event vCenter no longer keeps) are listed too, ``source`` ``audit`` with their ``result``:
  what dvmirror tried, in the same window.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tui.mirror_session import API_NAMES, ChangeOperation, MirrorSession, VspanPorts

DEFAULT_SINCE = timedelta(days=7)
"""How far back the history goes when no ``--since`` is given."""
MATCH_BEFORE = timedelta(seconds=2)
"""An audit entry may be stamped this long before its event (it is floored to the second)."""
MATCH_AFTER = timedelta(seconds=30)
"""… or this long after it (the task's end, the re-read of the switch, then the audit line)."""

_PORT_FIELDS = {api: attr for attr, api in API_NAMES.items() if attr in ("source_tx", "source_rx", "destination")}


@dataclass(frozen=True, slots=True)
class SentChange:
    """One ``VspanConfigSpec`` of a reconfigure event, as the backend read it."""

    time: datetime
    """When vCenter recorded the event (aware)."""
    user: str
    operation: ChangeOperation
    session: MirrorSession
    """The session as sent: only the fields in ``sent`` mean anything."""
    sent: frozenset[str] = frozenset()
    """The vSphere API names of the fields the spec set (``key``, ``enabled``, ``sourcePortReceived``…)."""
    event: str = ""
    """The event's key (several changes may share one event)."""
    message: str = ""
    """The event's ``fullFormattedMessage``."""


@dataclass(frozen=True, slots=True)
class SessionHistoryEntry:
    """One change of one mirror session: from vCenter's events, or an attempt in dvmirror's audit log."""

    time: datetime
    """Aware, UTC."""
    user: str
    operation: ChangeOperation
    switch: str
    """The switch's name."""
    key: str | None
    name: str
    sent: frozenset[str] = frozenset()
    """The API fields the change set (for an edit: what was sent)."""
    session: MirrorSession | None = None
    """The session after the change as far as the history knows it (None for a remove)."""
    previous: MirrorSession | None = None
    """The session before the change, when the history knows it."""
    ours: bool = False
    """Made by dvmirror: an audit entry of this user matches it."""
    source: str = "event"
    """``event`` (vCenter's events), ``audit`` (only in dvmirror's audit log) or ``run`` (this run of
    the demo lab or a snapshot)."""
    result: str = "ok"
    """``ok`` for an event; for an audit-only entry the audit ``result`` (``refused``, ``fault``…)."""
    event: str = ""
    message: str = ""


def utc(when: datetime) -> datetime:
    """``when`` as aware UTC (a naive time is taken as UTC)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def local_time(when: datetime) -> str:
    """``2026-11-28 07:09:07 +0100``: local time with its UTC offset (the CLI's and the screen's tables)."""
    return utc(when).astimezone().strftime("%Y-%m-%d %H:%M:%S %z")


def session_label(entry: SessionHistoryEntry) -> str:
    """``3 · DMZ-IDS``; the key or the name alone when only one is known."""
    key = entry.key or "?"
    return f"{key} · {entry.name}" if entry.name else key


def by_label(entry: SessionHistoryEntry) -> str:
    """Who made it: ``dvmirror`` (matched in the audit log), ``dvmirror (refused)`` (audit only), or ``""``."""
    if entry.source == "audit":
        return f"dvmirror ({entry.result})"
    return "dvmirror" if entry.ours else ""


def _merged(old: MirrorSession, new: MirrorSession, sent: frozenset[str]) -> MirrorSession:
    """``old`` with the fields ``sent`` taken from ``new`` (how vCenter merges an edit)."""
    changes: dict[str, Any] = {}
    for attr, api in API_NAMES.items():
        if api in sent and api != "key":
            changes[attr] = getattr(new, attr)
    return old.with_changes(**changes)


def _same_user(a: str, b: str) -> bool:
    def norm(u: str) -> str:
        u = u.strip().lower()
        if "\\" in u:
            domain, _, name = u.partition("\\")
            return name
        return u.partition("@")[0]

    return bool(a.strip()) and norm(a) == norm(b)


def _same_content(change: SentChange, audited: MirrorSession) -> bool:
    """The name, enabled flag and ports sent agree with the session dvmirror recorded."""
    s = change.session
    if "name" in change.sent and s.name != audited.name:
        return False
    if change.operation is not ChangeOperation.REMOVE:
        if "enabled" in change.sent and s.enabled != audited.enabled:
            return False
        for api, attr in _PORT_FIELDS.items():
            if api in change.sent and getattr(s, attr).port_keys != getattr(audited, attr).port_keys:
                return False
    return True


@dataclass
class _Audited:
    time: datetime
    user: str
    result: str
    operation: ChangeOperation
    session: MirrorSession
    used: bool = False


_TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def audited_changes(audit: Iterable[Mapping[str, Any]], vcenter: str, switch: str) -> list[_Audited]:
    """The changes of ``audit`` entries (:meth:`tui.audit.AuditLog.entries`) for ``switch`` on
    ``vcenter`` (not dry runs); anything malformed is skipped."""
    from tui.backends.snapshot_format import session_from_api

    out: list[_Audited] = []
    for entry in audit:
        if entry.get("switch") != switch or entry.get("vcenter") != vcenter or entry.get("dry_run"):
            continue
        stamp = entry.get("time")
        if not isinstance(stamp, str) or not _TIME_RE.fullmatch(stamp):
            continue
        when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        result = str(entry.get("result", ""))
        changes = entry.get("changes")
        for change in changes if isinstance(changes, list) else ():
            try:
                operation = ChangeOperation(change["operation"])
                session = session_from_api(change["session"])
            except Exception:  # hostile or old lines: not ours to judge
                continue
            out.append(_Audited(when, str(entry.get("user", "")), result, operation, session))
    return out


def entries(
    switch: str,
    changes: Sequence[SentChange],
    *,
    current: Sequence[MirrorSession] = (),
    audit: Sequence[Mapping[str, Any]] = (),
    vcenter: str = "",
    since: datetime | None = None,
) -> list[SessionHistoryEntry]:
    """The history of ``switch`` (its name) from ``changes`` (any order), oldest first.

    ``current`` are the switch's sessions now (for the keys of adds); ``audit`` dvmirror's audit
    entries (all of them: those of other switches and vCenters are left out here), matched as the
    module docstring says; audit entries older than ``since`` are left out.
    """
    ordered = sorted(changes, key=lambda c: (utc(c.time), c.event))
    audited = audited_changes(audit, vcenter, switch)
    known: dict[str, MirrorSession] = {}
    out: list[SessionHistoryEntry] = []
    for i, change in enumerate(ordered):
        when = utc(change.time)
        match = _match(change, when, audited)
        key = change.session.key
        name = change.session.name if "name" in change.sent else ""
        if change.operation is ChangeOperation.ADD:
            key = None
            if match is not None and match.session.key:
                key = match.session.key
            else:
                key = _later_key(ordered[i + 1 :], name) or _current_key(current, name)
        elif change.operation is ChangeOperation.REMOVE:
            before = known.get(key or "")
            name = before.name if before is not None else match.session.name if match is not None else ""
        previous = known.get(key or "") if change.operation is not ChangeOperation.ADD else None
        session: MirrorSession | None
        if change.operation is ChangeOperation.ADD:
            session = change.session.with_changes(key=key)
        elif change.operation is ChangeOperation.EDIT:
            session = _merged(previous, change.session, change.sent) if previous is not None else change.session
            name = name or session.name
        else:
            session = None
        if key:
            if session is None:
                known.pop(key, None)
            else:
                known[key] = session
        out.append(
            SessionHistoryEntry(
                time=when,
                user=change.user,
                operation=change.operation,
                switch=switch,
                key=key,
                name=name,
                sent=change.sent,
                session=session,
                previous=previous,
                ours=match is not None,
                event=change.event,
                message=change.message,
            )
        )
    bound = utc(since) if since is not None else None
    for a in audited:
        if a.used or (bound is not None and a.time < bound):
            continue
        out.append(
            SessionHistoryEntry(
                time=a.time,
                user=a.user,
                operation=a.operation,
                switch=switch,
                key=a.session.key,
                name=a.session.name,
                session=a.session,
                ours=True,
                source="audit",
                result=a.result,
            )
        )
    out.sort(key=lambda e: e.time)
    return out


def _match(change: SentChange, when: datetime, audited: list[_Audited]) -> _Audited | None:
    for a in audited:
        if a.used or a.result not in ("ok", "unknown") or a.operation is not change.operation:
            continue
        if not when - MATCH_BEFORE <= a.time <= when + MATCH_AFTER or not _same_user(change.user, a.user):
            continue
        if change.operation is ChangeOperation.ADD:
            if a.session.name != change.session.name:
                continue
        elif a.session.key != change.session.key:
            continue
        if not _same_content(change, a.session):
            continue
        a.used = True
        return a
    return None


def _later_key(later: Sequence[SentChange], name: str) -> str | None:
    if not name:
        return None
    for c in later:
        if c.operation is ChangeOperation.EDIT and "name" in c.sent and c.session.name == name and c.session.key:
            return c.session.key
    return None


def _current_key(current: Sequence[MirrorSession], name: str) -> str | None:
    named = [s for s in current if name and s.name == name]
    return named[0].key if len(named) == 1 else None


# -- presentation (pure text) -----------------------------------------------------------------


def _ports_text(ports: VspanPorts) -> str:
    parts = [*ports.port_keys, *(f"uplink {u}" for u in ports.uplink_names)]
    parts += [f"VLAN {v}" for v in ports.vlans]
    parts += [f"IP {ip}" for ip in ports.ip_addresses]
    return ", ".join(parts) or "none"


def summary(entry: SessionHistoryEntry, inventory: Any = None, switch_key: str = "") -> str:
    """One line saying what the change did: ``created (Distributed Port Mirroring): 100 in → 101``,
    ``enabled: true → false; name: "a" → "b"``, ``set enabled=false``, ``removed``.

    With an ``inventory`` (and the switch's key) port keys are named ``448 F5-LTM01``; an audit-only
    entry says its result (``refused: …``).
    """
    prefix = "" if entry.source != "audit" or entry.result == "ok" else f"{entry.result} (dvmirror only): "
    s = entry.session
    if entry.operation is ChangeOperation.REMOVE:
        return prefix + "removed"
    if s is None:
        return prefix
    if entry.operation is ChangeOperation.ADD or entry.source == "audit":
        verb = "created" if entry.operation is ChangeOperation.ADD else "edited"
        if inventory is not None and switch_key:
            from tui.describe import endpoint_labels

            sources, dests = endpoint_labels(inventory, switch_key, s, short=True)
            src, dst = ", ".join(sources) or "none", ", ".join(dests) or "none"
        else:
            src = ", ".join(f"{k} {d.value}" for k, d in s.sources().items()) or _ports_text(s.source_rx)
            dst = _ports_text(s.destination)
        state = "" if s.enabled else ", disabled"
        return f"{prefix}{verb} ({s.type_label}{state}): {src} → {dst}"
    if entry.previous is not None and inventory is not None and switch_key:
        from tui.sessionform import field_changes

        diffs = field_changes(inventory, switch_key, entry.previous, s)
        if not diffs:
            return "no field changed"
        return "; ".join(f"{d.field}: {_one(d.old)} → {_one(d.new)}" for d in diffs)
    if entry.previous is not None:
        old, new = entry.previous.to_api(), s.to_api()
        diffs2 = [n for n in old if n != "key" and old[n] != new[n]]
        if not diffs2:
            return "no field changed"
        return "; ".join(f"{n}: {_api_value(old[n])} → {_api_value(new[n])}" for n in diffs2)
    api = s.to_api()
    shown = [f"{n}={_api_value(api[n])}" for n in api if n in entry.sent and n != "key"]
    return "set " + ", ".join(shown) if shown else "edited"


def _one(text: str) -> str:
    return text.replace("\n", ", ") if text else "(unset)"


def _api_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "(unset)"
    if isinstance(value, dict):
        parts = [f"{k} {','.join(map(str, v))}" for k, v in value.items() if v]
        return "[" + "; ".join(parts) + "]"
    return f'"{value}"' if isinstance(value, str) else str(value)


def to_json(entry: SessionHistoryEntry, inventory: Any = None, switch_key: str = "") -> dict[str, Any]:
    """The entry for ``sessions --history --json`` (times ISO 8601 in UTC, ``Z``)."""
    return {
        "time": utc(entry.time).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "user": entry.user,
        "operation": entry.operation.value,
        "switch": entry.switch,
        "key": entry.key,
        "name": entry.name,
        "change": summary(entry, inventory, switch_key),
        "fields": sorted(entry.sent),
        "ours": entry.ours,
        "source": entry.source,
        "result": entry.result,
        "event": entry.event or None,
        "message": entry.message,
        "session": entry.session.to_api() if entry.session is not None else None,
    }


# -- --since ---------------------------------------------------------------------------------

_DURATION_RE = re.compile(r"([0-9]{1,6})\s*(s|m|min|h|d|w)", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class SinceError(ValueError):
    """A ``--since`` value that is neither a duration nor an ISO 8601 date or time."""


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``--since``: a duration back from ``now`` (``30m``, ``2h``, ``7d``, ``1w``, ``90s``) or an ISO
    8601 date (``2026-11-28``: midnight UTC) or date and time (``2026-11-28T06:00``, ``…Z``,
    ``…+01:00``; without an offset: UTC). Returns aware UTC; raises :class:`SinceError`."""
    raw = text.strip()
    shown = repr(text) if len(text) <= 40 else repr(text[:40]) + "…"
    now = utc(now or datetime.now(UTC))
    if not raw or len(raw) > 40 or not raw.isascii():
        raise SinceError(f"{shown} is not a time: give a duration (30m, 2h, 7d) or an ISO 8601 date or time")
    m = _DURATION_RE.fullmatch(raw)
    if m:
        seconds = int(m.group(1)) * _UNITS[m.group(2).lower()]
        if seconds > 3660 * 86400:
            raise SinceError(f"{shown} is too far back (at most ten years)")
        return now - timedelta(seconds=seconds)
    try:
        when = datetime.fromisoformat(raw[:-1] + "+00:00" if raw[-1:] in "zZ" else raw)
    except ValueError:
        raise SinceError(
            f"{shown} is not a time: give a duration (30m, 2h, 7d) or an ISO 8601 date or time "
            "(2026-11-28, 2026-11-28T06:00Z)"
        ) from None
    when = utc(when)
    if when > now + timedelta(minutes=5):
        raise SinceError(f"{shown} is in the future")
    return when


def empty_note(source: str) -> str:
    """Why an offline backend has no history: ``source`` is its label."""
    return f"the {source} has no vCenter events: only changes made in this run are listed"
