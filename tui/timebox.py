"""Time-boxed sessions: an expiry kept in the session's own description, readable by people.

A mirror session left running costs the hosts CPU and the network bandwidth, and vCenter has no
expiry of its own, so dvmirror writes one where every tool shows it, at the end of the description:

    DMZ web tier to the IDS sensor [dvmirror: expires 2026-12-01T18:30Z]

The marker is ``[dvmirror: expires YYYY-MM-DDTHH:MMZ]`` (UTC, minutes), separated from the rest
by one space. A description holds at most one; setting a new expiry replaces it, clearing it
removes it, and nothing else of the description changes. A marker that does not parse exactly is
text like any other (a description is hostile input). ``dvmirror sessions expire`` disables (or
removes) every session whose expiry has passed. Pure Python: no Textual, no pyVmomi.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from tui.model import Inventory, MirrorSession, Switch

MARKER = re.compile(r"(?:^| )\[dvmirror: expires (\d{4}-\d{2}-\d{2}T\d{2}:\d{2})Z\]$")
MIN_DURATION = timedelta(minutes=1)
MAX_DURATION = timedelta(days=30)
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"(?:(\d{1,4})d)?(?:(\d{1,5})h)?(?:(\d{1,6})m)?(?:(\d{1,7})s)?")


class DurationError(ValueError):
    """A ``--for`` / wizard duration that is not one (the message says what is)."""


def parse_duration(text: str) -> timedelta:
    """``30m``, ``2h``, ``1h30m``, ``90s``, ``1d`` (ASCII digits and units d/h/m/s, in that order),
    from one minute to 30 days."""
    raw = text.strip().lower().replace(" ", "")
    m = _DURATION.fullmatch(raw) if raw.isascii() else None
    if not raw or m is None or not any(m.groups()):
        raise DurationError(f"{text!r} is not a duration; use e.g. 30m, 2h, 1h30m or 1d")
    seconds = sum(int(v) * _UNITS[u] for v, u in zip(m.groups(), "dhms", strict=True) if v)
    span = timedelta(seconds=seconds)
    if not MIN_DURATION <= span <= MAX_DURATION:
        raise DurationError(f"{text!r}: a session can be time-boxed from 1 minute to 30 days")
    return span


def _when(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)
    except ValueError:  # 2026-13-45T99:99: not a marker, just text
        return None


def expiry(session: MirrorSession) -> datetime | None:
    """When ``session`` expires (UTC), or ``None`` when it is not time-boxed."""
    m = MARKER.search(session.description)
    return None if m is None else _when(m.group(1))


def _without_marker(description: str) -> str:
    m = MARKER.search(description)
    return description[: m.start()] if m is not None and _when(m.group(1)) is not None else description


def marker(when: datetime) -> str:
    """``[dvmirror: expires 2026-12-01T18:30Z]`` for ``when`` (rounded up to the minute)."""
    utc = when.astimezone(UTC)
    if utc.second or utc.microsecond:
        utc = utc.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return f"[dvmirror: expires {utc:%Y-%m-%dT%H:%M}Z]"


def with_expiry(session: MirrorSession, when: datetime | None) -> MirrorSession:
    """``session`` expiring at ``when`` (``None``: not time-boxed); the rest of the description kept."""
    rest = _without_marker(session.description)
    if when is None:
        return session.with_changes(description=rest)
    return session.with_changes(description=f"{rest} {marker(when)}" if rest else marker(when))


def left(session: MirrorSession, now: datetime) -> timedelta | None:
    """Time left before ``session`` expires (negative once expired), ``None`` when not time-boxed."""
    when = expiry(session)
    return None if when is None else when - now


def left_text(session: MirrorSession, now: datetime) -> str:
    """``29 min left``, ``2 h 5 min left``, ``expired 3 min ago``, or ``""`` when not time-boxed."""
    span = left(session, now)
    if span is None:
        return ""
    if span <= timedelta(0):
        return f"expired {_span_text(-span)} ago"
    return f"{_span_text(span)} left"


def _span_text(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes < 1:
        return "under 1 min"
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(p for p in parts if p)


def is_expired(session: MirrorSession, now: datetime) -> bool:
    span = left(session, now)
    return span is not None and span <= timedelta(0)


def expired(
    inventory: Inventory, now: datetime, switches: Iterable[Switch] | None = None
) -> list[tuple[Switch, MirrorSession]]:
    """Every session whose expiry has passed, by switch, on ``switches`` (default: all)."""
    scope = list(inventory.switches.values()) if switches is None else list(switches)
    return [(sw, s) for sw in scope for s in sw.sessions if is_expired(s, now)]


def now_utc() -> datetime:
    return datetime.now(UTC)
