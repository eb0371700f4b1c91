"""Time-boxed sessions (tui/timebox.py): durations, the marker in the description, time left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui import timebox
from tui.model import MirrorSession

NOW = datetime(2026, 12, 1, 17, 30, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("30m", 30), ("2h", 120), ("1h30m", 90), ("1d", 1440), (" 90S ", 1.5), ("1h 5m", 65), ("30d", 43200)],
)
def test_durations(text: str, minutes: float) -> None:
    assert timebox.parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "30", "m", "30x", "1m1h", "-5m", "30s", "31d", "٣m", "1e3m", "0m", "1.5h"])
def test_bad_durations_say_what_is_wrong(text: str) -> None:
    with pytest.raises(timebox.DurationError) as e:
        timebox.parse_duration(text)
    assert repr(text) in str(e.value)


def test_marker_round_trip_keeps_the_description() -> None:
    s = MirrorSession(name="x", description="DMZ web tier to the IDS sensor")
    boxed = timebox.with_expiry(s, NOW + timedelta(minutes=30))
    assert boxed.description == "DMZ web tier to the IDS sensor [dvmirror: expires 2026-12-01T18:01Z]"  # rounded up
    assert timebox.expiry(boxed) == datetime(2026, 12, 1, 18, 1, tzinfo=UTC)
    again = timebox.with_expiry(boxed, NOW + timedelta(hours=2))  # replaced, not added
    assert again.description.count("[dvmirror:") == 1 and again.description.endswith("2026-12-01T19:31Z]")
    assert timebox.with_expiry(again, None).description == "DMZ web tier to the IDS sensor"
    empty = timebox.with_expiry(MirrorSession(), NOW)
    assert empty.description == "[dvmirror: expires 2026-12-01T17:31Z]" and timebox.expiry(empty) is not None
    assert timebox.with_expiry(empty, None).description == ""


@pytest.mark.parametrize(
    "description",
    [
        "see [dvmirror: expires 2026-12-01T18:01Z] later",  # not at the end
        "x [dvmirror: expires 2026-13-45T99:99Z]",  # not a date
        "x [dvmirror: expires 2026-12-01T18:01]",  # no Z
        "x[dvmirror: expires 2026-12-01T18:01Z]",  # no space before
        "x [dvmirror: expires 2026-12-01 18:01Z]",
    ],
)
def test_text_that_only_looks_like_a_marker_is_text(description: str) -> None:
    s = MirrorSession(description=description)
    assert timebox.expiry(s) is None
    assert timebox.with_expiry(s, None).description == description  # never cut
    assert timebox.with_expiry(s, NOW).description == f"{description} [dvmirror: expires 2026-12-01T17:31Z]"


def test_time_left_and_expired() -> None:
    s = timebox.with_expiry(MirrorSession(key="1"), datetime(2026, 12, 1, 18, 0, tzinfo=UTC))
    assert timebox.left_text(s, NOW) == "29 min left"
    assert timebox.left_text(s, NOW - timedelta(days=1, hours=2)) == "1 d 2 h 29 min left"
    assert timebox.left_text(s, datetime(2026, 12, 1, 17, 59, 30, tzinfo=UTC)) == "under 1 min left"
    assert timebox.left_text(s, NOW + timedelta(hours=1)) == "expired 30 min ago"
    assert not timebox.is_expired(s, NOW) and timebox.is_expired(s, NOW + timedelta(minutes=30))
    assert timebox.left_text(MirrorSession(), NOW) == "" and not timebox.is_expired(MirrorSession(), NOW)


def test_expire_sends_the_sessions_it_can_and_says_which_it_cannot(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """One expired session whose port is gone (refused by the rules) does not hold up another."""
    import copy
    import json
    from pathlib import Path

    from tui.__main__ import main

    lab = json.loads((Path(__file__).resolve().parents[2] / "tui/backends/labs/demo.json").read_text(encoding="utf-8"))
    cloud = next(s for s in lab["switches"] if s["name"] == "dvSwitchCloud")
    gone, old = copy.deepcopy(cloud["sessions"][0]), copy.deepcopy(cloud["sessions"][0])
    gone.update(key="90", name="gone", description="x [dvmirror: expires 2026-01-01T00:00Z]")
    gone["sourcePortReceived"]["portKey"] = gone["sourcePortTransmitted"]["portKey"] = ["99999"]
    gone["destinationPort"]["portKey"] = ["2258"]
    old.update(key="91", name="old", description="y [dvmirror: expires 2026-01-01T00:00Z]")
    old["sourcePortReceived"]["portKey"], old["sourcePortTransmitted"]["portKey"] = ["450"], []
    old["destinationPort"]["portKey"] = ["2259"]
    cloud["sessions"] += [gone, old]
    path = Path(str(tmp_path)) / "lab.json"
    path.write_text(json.dumps(lab), encoding="utf-8")
    assert main(["sessions", "expire", "--snapshot", str(path), "--json"]) == 1
    rows = {r["key"]: r for r in json.loads(capsys.readouterr().out)["sessions"]}
    assert rows["91"]["done"] is True and rows["91"]["problems"] == []
    assert rows["90"]["done"] is False and {p["code"] for p in rows["90"]["problems"]} == {"NotFound"}
