"""The session change history without a server: ``--since`` parsing, events → entries (keys, names,
summaries, dvmirror's audit entries matched), pyVmomi's DvsReconfiguredEvent → SentChange, and the
demo lab's history of this run (CLI and backend)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.helpers import run_cli, run_cli_json
from tui import history
from tui.__main__ import main
from tui.audit import AuditLog
from tui.backends.snapshot import SnapshotBackend
from tui.history import SentChange, entries, parse_since, summary
from tui.model import ChangeOperation, MirrorSession, SessionChange, VspanPorts
from tui.outcome import apply_and_audit

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
ADD, EDIT, REMOVE = ChangeOperation.ADD, ChangeOperation.EDIT, ChangeOperation.REMOVE
FULL = frozenset(
    {"key", "name", "enabled", "stripOriginalVlan", "normalTrafficAllowed", "sessionType",
     "sourcePortReceived", "sourcePortTransmitted", "destinationPort", "mirroredPacketLength"}
)  # fmt: skip
S = MirrorSession(
    name="tap", source_rx=VspanPorts(port_keys=("100",)), destination=VspanPorts(port_keys=("101",)),
    mirrored_packet_length=60,
)  # fmt: skip


# -- --since ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", NOW - timedelta(hours=2)),
        ("30m", NOW - timedelta(minutes=30)),
        ("7d", NOW - timedelta(days=7)),
        (" 1w ", NOW - timedelta(days=7)),
        ("90s", NOW - timedelta(seconds=90)),
        ("2026-11-27", datetime(2026, 11, 27, tzinfo=UTC)),
        ("2026-11-27T06:00", datetime(2026, 11, 27, 6, tzinfo=UTC)),
        ("2026-11-27T06:00Z", datetime(2026, 11, 27, 6, tzinfo=UTC)),
        ("2026-11-27T07:00:00+01:00", datetime(2026, 11, 27, 6, tzinfo=UTC)),
        ("2026-11-27T06:00:00.250000Z", datetime(2026, 11, 27, 6, 0, 0, 250000, tzinfo=UTC)),
    ],
)
def test_since_accepts_durations_and_iso_times(text: str, expected: datetime) -> None:
    got = parse_since(text, NOW)
    assert got == expected and got.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("3x", "not a time"),
        ("yesterday", "not a time"),
        ("2026-13-01", "not a time"),
        ("", "not a time"),
        ("１h", "not a time"),  # fullwidth digit
        ("2h ago", "not a time"),
        ("-2h", "not a time"),
        ("2026-11-29", "in the future"),
        ("999999d", "too far back"),
        ("9" * 50, "not a time"),
    ],
)
def test_since_refuses_anything_else(text: str, says: str) -> None:
    with pytest.raises(history.SinceError, match=says):
        parse_since(text, NOW)


@pytest.mark.parametrize("since", ["3x", "yesterday", "2026-13-01", "", "9999-01-01", "１h"])
def test_bad_since_is_a_usage_error(since: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["sessions", "--history", "--since", since, "--demo"], environ={})
    out, err = capsys.readouterr()
    assert exc.value.code == 2 and out == "" and "--since" in err


def test_since_without_history_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "sessions", "--since", "2h", "--demo")
    assert code == 2 and out == "" and "--since goes with --history" in err
    code, out, err = run_cli(capsys, "sessions", "--history", "--columns", "key", "--demo")
    assert code == 2 and out == "" and "not of --history" in err


def test_check_and_history_together_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "sessions", "--demo", "--check", "--history")
    assert code == 2 and out == "" and "--check and --history are different reports and actions" in err


# -- events → entries ------------------------------------------------------------------------


def sent(op: ChangeOperation, session: MirrorSession, at: int, fields: frozenset[str] = FULL, user: str = "u") -> Any:
    return SentChange(NOW + timedelta(seconds=at), user, op, session, fields, event=str(at))


def audit_line(op: str, session: MirrorSession, at: int, *, user: str = "u", result: str = "ok") -> dict[str, Any]:
    stamp = (NOW + timedelta(seconds=at)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"time": stamp, "user": user, "vcenter": "vc", "switch": "sw", "dry_run": False, "result": result,
            "changes": [{"operation": op, "switch": "sw", "session": session.to_api()}]}  # fmt: skip


def test_keys_names_and_summaries_follow_the_session_through_the_history() -> None:
    stored = S.with_changes(key="7")
    changes = [
        sent(REMOVE, MirrorSession(key="7"), 30, frozenset({"key", "enabled", "stripOriginalVlan"})),
        sent(ADD, S, 0),  # given out of order: sorted by time
        sent(EDIT, stored.with_changes(enabled=False), 10),
        sent(EDIT, MirrorSession(key="7", name="tap2", enabled=False), 20, frozenset({"key", "name", "enabled"})),
    ]
    rows = entries("sw", changes, current=[])
    assert [(e.operation, e.key, e.name) for e in rows] == [
        (ADD, "7", "tap"),  # the add's key from the later edit of a session named "tap"
        (EDIT, "7", "tap"),
        (EDIT, "7", "tap2"),
        (REMOVE, "7", "tap2"),  # the remove's name from what the history knew of key 7
    ]
    assert [summary(e) for e in rows] == [
        "created (Distributed Port Mirroring): 100 ingress → 101",
        "enabled: true → false",
        'name: "tap" → "tap2"',
        "removed",
    ]
    merged = rows[2].session
    assert merged is not None and merged.mirrored_packet_length == 60 and merged.name == "tap2"  # merged edit
    assert not any(e.ours for e in rows)


def test_an_edit_whose_earlier_state_is_unknown_says_what_it_set() -> None:
    edit = sent(EDIT, MirrorSession(key="3", name="x", enabled=False), 0, frozenset({"key", "name", "enabled"}))
    (row,) = entries("sw", [edit])
    assert summary(row) == 'set name="x", enabled=false'


def test_an_add_key_comes_from_the_current_session_of_that_name_only_when_unique() -> None:
    add = sent(ADD, S, 0)
    assert entries("sw", [add], current=[S.with_changes(key="4")])[0].key == "4"
    assert entries("sw", [add], current=[S.with_changes(key="4"), S.with_changes(key="5")])[0].key is None


def test_audit_entries_mark_matching_events_as_ours() -> None:
    ours_add = sent(ADD, S, 0)
    other_add = sent(ADD, S.with_changes(name="theirs"), 5)
    ours_edit = sent(EDIT, S.with_changes(key="9", enabled=False), 10, user="VSPHERE.LOCAL\\U")
    late = sent(EDIT, S.with_changes(key="9", enabled=True), 100)
    audit = [
        audit_line("add", S.with_changes(key="9"), 1),
        audit_line("edit", S.with_changes(key="9", enabled=False), 12, user="u@vsphere.local"),
        audit_line("edit", S.with_changes(key="9", enabled=True), 200),  # too late for the event at 100
        audit_line("edit", S.with_changes(key="9", enabled=True), 5, user="someone"),  # another user
        audit_line("remove", S.with_changes(key="9"), 300, result="fault"),  # refused: no event
        {**audit_line("remove", S.with_changes(key="9"), 300), "switch": "other"},  # another switch
        {**audit_line("remove", S.with_changes(key="9"), 300), "vcenter": "elsewhere"},
        {"time": "garbage", "switch": "sw", "vcenter": "vc", "changes": "x"},
    ]
    rows = entries("sw", [late, other_add, ours_edit, ours_add], audit=audit, vcenter="vc")
    assert [(e.source, e.operation, e.key, e.ours, e.result) for e in rows] == [
        ("event", ADD, "9", True, "ok"),  # the add's key from the audit entry
        ("event", ADD, None, False, "ok"),
        ("audit", EDIT, "9", True, "ok"),  # the other user's line: no event of theirs matched it
        ("event", EDIT, "9", True, "ok"),
        ("event", EDIT, "9", False, "ok"),
        ("audit", EDIT, "9", True, "ok"),
        ("audit", REMOVE, "9", True, "fault"),
    ]
    assert summary(rows[-1]) == "fault (dvmirror only): removed"


def test_the_content_sent_must_agree_for_a_match() -> None:
    event = sent(EDIT, S.with_changes(key="9", enabled=False), 0)
    audit = [audit_line("edit", S.with_changes(key="9", enabled=True), 1)]
    (row, only) = entries("sw", [event], audit=audit, vcenter="vc")
    assert not row.ours and only.source == "audit"


def test_audit_entries_before_since_are_left_out() -> None:
    audit = [audit_line("add", S.with_changes(key="1"), -3600, result="refused")]
    assert entries("sw", [], audit=audit, vcenter="vc", since=NOW) == []
    assert len(entries("sw", [], audit=audit, vcenter="vc", since=NOW - timedelta(days=1))) == 1


def test_to_json_shape() -> None:
    (row,) = entries("sw", [sent(ADD, S, 0)], current=[S.with_changes(key="2")])
    data = history.to_json(row)
    assert data == {
        "time": "2026-11-28T12:00:00Z", "user": "u", "operation": "add", "switch": "sw", "key": "2",
        "name": "tap", "change": "created (Distributed Port Mirroring): 100 ingress → 101",
        "fields": sorted(FULL), "ours": False, "source": "event", "result": "ok", "event": "0", "message": "",
        "session": S.with_changes(key="2").to_api(),
    }  # fmt: skip


def test_naive_and_offset_times_become_utc() -> None:
    plus = timezone(timedelta(hours=2))
    assert history.utc(datetime(2026, 1, 1, 2, tzinfo=plus)) == datetime(2026, 1, 1, tzinfo=UTC)
    assert history.utc(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)


# -- pyVmomi events → SentChange -------------------------------------------------------------


def test_changes_of_a_dvs_reconfigured_event() -> None:
    pytest.importorskip("pyVmomi")
    from pyVmomi import vim

    from tui.backends._events import changes_of

    VS = vim.dvs.VmwareDistributedVirtualSwitch
    spec = VS.ConfigSpec(
        vspanConfigSpec=[
            VS.VspanConfigSpec(
                operation="add",
                vspanSession=VS.VspanSession(
                    name="tap\x1b[31m",
                    enabled=True,
                    sessionType="dvPortMirror",
                    sourcePortReceived=VS.VspanPorts(portKey=["100"]),
                    destinationPort=VS.VspanPorts(portKey=["101"]),
                ),
            ),  # fmt: skip
            VS.VspanConfigSpec(operation="remove", vspanSession=VS.VspanSession(key="4")),
            VS.VspanConfigSpec(operation="bogus", vspanSession=VS.VspanSession(key="5")),
        ]
    )
    event = vim.event.DvsReconfiguredEvent(
        key=42, createdTime=NOW, userName="VSPHERE.LOCAL\\ops", configSpec=spec, fullFormattedMessage="m"
    )
    add, remove = changes_of(event)
    assert (add.operation, add.session.name, add.user, add.time, add.event) == (
        ADD,
        "tap\x1b[31m",
        "VSPHERE.LOCAL\\ops",
        NOW,
        "42",
    )
    assert {"name", "enabled", "sessionType", "sourcePortReceived", "destinationPort"} <= add.sent
    assert "sourcePortTransmitted" not in add.sent and "key" not in add.sent
    assert (remove.operation, remove.session.key) == (REMOVE, "4") and "name" not in remove.sent
    rename = vim.event.DvsReconfiguredEvent(key=43, createdTime=NOW, configSpec=VS.ConfigSpec(name="new"))
    assert changes_of(rename) == []


# -- the demo lab: this run's changes --------------------------------------------------------


def test_demo_backend_history_is_this_runs_changes() -> None:
    backend = SnapshotBackend()
    inv = backend.load()
    sw = next(s for s in inv.switches.values() if s.name == "dvSwitchCloud")
    before = datetime.now(UTC) - timedelta(seconds=1)
    assert backend.session_history(sw, None) == []
    stored = sw.sessions[0]
    outcome = apply_and_audit(
        backend, inv, sw.key, [SessionChange(EDIT, stored.with_changes(enabled=not stored.enabled))]
    )
    assert outcome.result == "ok"
    (row,) = backend.session_history(sw, before)
    assert (row.operation, row.key, row.name, row.ours, row.source) == (EDIT, stored.key, stored.name, True, "run")
    assert (
        summary(row, backend.load(), sw.key)
        == f"enabled: {str(stored.enabled).lower()} → {str(not stored.enabled).lower()}"
    )
    assert backend.session_history(sw, datetime.now(UTC) + timedelta(seconds=1)) == []
    assert [e["result"] for e in AuditLog().entries()] == ["ok"]  # the tests' practice log


def test_demo_cli_history_is_empty_with_a_note(capsys: pytest.CaptureFixture[str]) -> None:
    code, rows, _ = run_cli_json(capsys, "sessions", "--history", "--demo")
    assert code == 0 and rows == []
    code, out, _ = run_cli(capsys, "sessions", "--history", "--demo", "--switch", "dvSwitchCloud")
    assert code == 0 and "has no vCenter events" in out and "No mirror session changes on dvSwitchCloud" in out
    code, _, err = run_cli(capsys, "sessions", "--history", "--demo", "--switch", "nope")
    assert code == 2 and "nope" in err


def test_the_table_escapes_text_from_vcenter() -> None:
    import io

    from tui.backends.snapshot import SnapshotBackend as Demo
    from tui.cli import console
    from tui.cli_sessions.history import print_history

    inv = Demo().load()
    sw = next(s for s in inv.switches.values() if s.name == "dvSwitchCloud")
    hostile = S.with_changes(name="tap\x1b]52;c;ZXZpbA==\x07\u202e")
    (row,) = entries(sw.name, [sent(ADD, hostile, 0, user="ev\x1b[2Jil")])
    out = io.StringIO()
    print_history(console(out), inv, [(sw, row)], "", NOW - timedelta(days=1))
    text = out.getvalue()
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "1 change since" in text and "tap" in text
