"""tui.audit: the append-only JSON-lines audit log."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import platformdirs
import pytest

from tests.helpers import WALKTHROUGH
from tui import audit
from tui.audit import AuditLog, default_path
from tui.config import redact_url
from tui.model import ChangeOperation, MirrorSession, Problem, SessionChange, Severity

CHANGE = SessionChange(ChangeOperation.ADD, WALKTHROUGH)
WARNING = Problem("MixedDestDeprecated", "Legacy type.", "session_type", Severity.WARNING)


def fixed_clock() -> datetime:
    return datetime(2026, 11, 28, 7, 9, 7, tzinfo=timezone(timedelta(hours=1)))


def write(log: AuditLog, **kw: object) -> str | None:
    args: dict[str, object] = {
        "user": "administrator@vsphere.local",
        "vcenter": "vcsa01.lab.local",
        "switch": "dvSwitchCloud",
        "changes": [CHANGE],
        "result": "ok",
    }
    args.update(kw)
    return log.record(**args)


def test_record_writes_one_json_line_with_the_full_change(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", clock=fixed_clock)
    assert write(log, problems=[WARNING]) is None
    lines = (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["time"] == "2026-11-28T06:09:07Z"  # converted to UTC
    assert entry["user"] == "administrator@vsphere.local"
    assert entry["vcenter"] == "vcsa01.lab.local"
    assert entry["switch"] == "dvSwitchCloud"
    assert entry["result"] == "ok"
    assert entry["dry_run"] is False
    assert entry["changes"] == [CHANGE.to_api("dvSwitchCloud")]
    assert entry["changes"][0]["session"]["encapsulationVlanId"] == 205
    assert entry["problems"] == [WARNING.to_json()]
    assert {"local_user", "client"} <= entry.keys()


def test_record_appends_and_keeps_earlier_lines(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    assert write(log) is None
    first = (tmp_path / "audit.jsonl").read_bytes()
    assert write(log, result="refused", dry_run=True) is None
    assert write(log, result="fault") is None
    data = (tmp_path / "audit.jsonl").read_bytes()
    assert data.startswith(first)
    assert [e["result"] for e in log.entries()] == ["ok", "refused", "fault"]
    assert [e["dry_run"] for e in log.entries()] == [False, True, False]


def test_directory_and_file_modes(tmp_path: Path) -> None:
    path = tmp_path / "state" / "dvmirror" / "audit.jsonl"
    assert write(AuditLog(path)) is None
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_password_in_the_vcenter_url_is_never_logged(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    assert write(log, vcenter="https://admin:s3cr3t@vcsa01.lab.local/sdk") is None
    text = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    assert "s3cr3t" not in text
    assert log.entries()[0]["vcenter"] == "https://admin@vcsa01.lab.local/sdk"


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://admin:s3cr3t@vcsa01/sdk", "https://admin@vcsa01/sdk"),
        ("admin:s3cr3t@vcsa01", "admin@vcsa01"),
        ("https://admin:p@ss/w:rd@vcsa01/sdk", "https://admin@vcsa01/sdk"),
        ("https://:s3cr3t@vcsa01", "https://vcsa01"),
        ("https://admin@vcsa01/sdk", "https://admin@vcsa01/sdk"),
        ("vcsa01.lab.local", "vcsa01.lab.local"),
        ("https://[2001:db8::1]:443/sdk", "https://[2001:db8::1]:443/sdk"),
    ],
)
def test_redact_url(url: str, clean: str) -> None:
    assert redact_url(url) == clean


def test_unwritable_log_returns_a_message_instead_of_raising(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    log = AuditLog(blocker / "audit.jsonl")
    message = write(log)
    assert message is not None
    assert str(blocker / "audit.jsonl") in message
    assert message.startswith("The change was not recorded in the audit log")


def test_log_path_that_is_a_directory(tmp_path: Path) -> None:
    message = write(AuditLog(tmp_path))
    assert message is not None and str(tmp_path) in message


def test_unknown_result_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ok, refused, fault, error"):
        write(AuditLog(tmp_path / "a.jsonl"), result="maybe")
    assert not (tmp_path / "a.jsonl").exists()


def test_env_variable_moves_the_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "elsewhere" / "log.jsonl"
    monkeypatch.setenv("DVMIRROR_AUDIT_LOG", str(target))
    assert default_path() == target
    assert AuditLog().path == target
    assert audit.record(user="u", vcenter="vc", switch="sw", changes=[CHANGE], result="error") is None
    assert json.loads(target.read_text(encoding="utf-8"))["result"] == "error"


def test_constructor_argument_beats_the_env_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVMIRROR_AUDIT_LOG", str(tmp_path / "env.jsonl"))
    assert AuditLog(tmp_path / "arg.jsonl").path == tmp_path / "arg.jsonl"
    assert audit.record(user="u", vcenter="vc", switch="sw", changes=[], result="ok", path=tmp_path / "f.jsonl") is None
    assert (tmp_path / "f.jsonl").exists() and not (tmp_path / "env.jsonl").exists()


def test_default_path_is_the_user_state_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DVMIRROR_AUDIT_LOG", raising=False)
    assert default_path() == platformdirs.user_state_path("dvmirror") / "audit.jsonl"


def test_entries_skip_a_torn_last_line(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    assert write(log) is None
    with (tmp_path / "audit.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"time": "2026-')
    assert len(log.entries()) == 1
    assert AuditLog(tmp_path / "missing.jsonl").entries() == []


def test_unicode_names_are_kept_readable(tmp_path: Path) -> None:
    change = SessionChange(ChangeOperation.EDIT, MirrorSession(key="1", name="Überwachung 📡"))
    log = AuditLog(tmp_path / "audit.jsonl", clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    assert write(log, changes=[change]) is None
    assert "Überwachung 📡" in (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    assert log.entries()[0]["time"] == "2026-01-01T00:00:00Z"


def test_entries_of_a_log_that_cannot_be_read_are_none(tmp_path: Path) -> None:
    """A directory, a FIFO (reading it would wait for ever) or bytes that are not UTF-8: no entry, no traceback."""
    assert AuditLog(tmp_path).entries() == []
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert AuditLog(fifo).entries() == []
    garbled = tmp_path / "garbled.jsonl"
    garbled.write_bytes(b'{"result": "ok"}\n\xff\xfe{"result": "\xff"}\n')
    assert [e["result"] for e in AuditLog(garbled).entries()] == ["ok"]
