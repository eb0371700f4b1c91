"""tui.outcome: what became of a change handed to ``backend.apply``, and its audit entry (one
path for the app and the CLI)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CLOUD, REPO
from tests.helpers import WALKTHROUGH
from tui import rules
from tui.audit import AuditLog
from tui.backends import (
    EXIT_CONNECTION,
    EXIT_FAULT,
    EXIT_OK,
    EXIT_PROBLEMS,
    ApplyResult,
    ChangeInterrupted,
    ChangeRefused,
    ConnectionFailed,
    ReadOnlyError,
    StaleSwitch,
)
from tui.backends.snapshot import SnapshotBackend
from tui.model import ChangeOperation, Inventory, MirrorSession, Problem, SessionChange, Severity
from tui.outcome import apply_and_audit, outcome_of, with_keys

ADD = SessionChange(ChangeOperation.ADD, WALKTHROUGH)
WARNING = Problem("LengthTooShort", "Frames are cut at 60 bytes.", "mirrored_packet_length", Severity.WARNING)


def codes(problems: Sequence[Problem]) -> list[tuple[str, str]]:
    return [(p.code, p.severity.value) for p in problems]


def entries() -> list[dict[str, Any]]:
    return AuditLog().entries()


# -- apply_and_audit on the demo lab ------------------------------------------------------------


def test_an_applied_add_carries_the_new_key_and_is_recorded_ok() -> None:
    backend = SnapshotBackend()
    inventory = backend.load()
    outcome = apply_and_audit(backend, inventory, CLOUD, [ADD])
    assert (outcome.result, outcome.sent, outcome.exit_code, outcome.message) == ("ok", True, EXIT_OK, "")
    assert outcome.error is None and outcome.applied is not None and outcome.audit_error is None
    [change] = outcome.changes
    assert change.session.key == "3" and change.session.name == WALKTHROUGH.name
    stored = outcome.stored(0)
    assert stored is not None and stored.key == "3" and stored.name == WALKTHROUGH.name
    assert outcome.switch is not None and outcome.switch.session("3") == stored
    warnings = rules.check(inventory, CLOUD, [ADD])
    assert warnings and all(p.severity is Severity.WARNING for p in warnings)
    assert list(outcome.problems) == warnings  # the rules' warnings (also the backend's), each once
    [entry] = entries()
    assert entry["result"] == "ok" and entry["changes"][0]["session"]["key"] == "3"
    assert entry["problems"] == [p.to_json() for p in outcome.problems]
    assert entry["vcenter"] == "vcsa01.lab.local (demo lab)"


def test_read_only_is_refused_not_sent_and_recorded_refused() -> None:
    """The app audited this as "error", the CLI as "refused": nothing was sent, so refused."""
    backend = SnapshotBackend(read_only=True)
    inventory = backend.load()
    remove = SessionChange(ChangeOperation.REMOVE, MirrorSession(key="1"))
    outcome = apply_and_audit(backend, inventory, CLOUD, [remove])
    assert (outcome.result, outcome.sent, outcome.exit_code) == ("refused", False, EXIT_PROBLEMS)
    assert isinstance(outcome.error, ReadOnlyError) and outcome.applied is None
    assert codes(outcome.problems) == [("ReadOnly", "error")]
    assert outcome.problems[0].message.startswith("Read-only mode")
    assert outcome.stored(0) is None and outcome.switch is None
    assert [(e["result"], [p["code"] for p in e["problems"]]) for e in entries()] == [("refused", ["ReadOnly"])]
    assert len(backend.load().switches[CLOUD].sessions) == 2


def test_a_stale_switch_is_refused_with_the_fresh_switch() -> None:
    backend = SnapshotBackend()
    stale = backend.load()
    other = MirrorSession(name="other", source_rx=WALKTHROUGH.source_rx, destination=WALKTHROUGH.destination)
    backend.apply(stale, CLOUD, [SessionChange(ChangeOperation.ADD, other)])  # someone else, meanwhile
    outcome = apply_and_audit(backend, stale, CLOUD, [ADD])
    assert (outcome.result, outcome.sent, outcome.exit_code) == ("refused", False, EXIT_FAULT)
    assert isinstance(outcome.error, StaleSwitch)
    assert codes(outcome.problems)[0] == ("ConcurrentAccess", "error")
    assert outcome.switch is not None and [s.name for s in outcome.switch.sessions][-1] == "other"
    assert outcome.stored(0) is None and outcome.changes == (ADD,)  # no key claimed for what was not applied
    assert [e["result"] for e in entries()] == ["refused"]


class _Raises(SnapshotBackend):
    """The demo lab whose ``apply`` raises ``error`` (a bug, or a backend's own failure)."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def apply(self, inventory: Inventory, switch_key: str, changes: Sequence[SessionChange]) -> ApplyResult:
        raise self.error


def test_an_unexpected_exception_is_an_error_outcome_not_a_traceback() -> None:
    """The app caught it, the CLI let it through as a traceback: now both get a message."""
    backend = _Raises(KeyError("boom"))
    outcome = apply_and_audit(backend, backend.load(), CLOUD, [ADD])
    assert (outcome.result, outcome.sent, outcome.exit_code) == ("error", False, EXIT_CONNECTION)
    assert outcome.error is not None and "failed unexpectedly: KeyError" in outcome.error.message
    assert codes(outcome.problems)[0] == ("BackendError", "error")
    assert [e["result"] for e in entries()] == ["error"]


def test_the_given_warnings_follow_the_errors_and_are_recorded() -> None:
    backend = _Raises(ConnectionFailed("connection reset by vcsa01", hint="Check the network."))
    outcome = apply_and_audit(backend, backend.load(), CLOUD, [ADD], [WARNING])
    assert codes(outcome.problems) == [("ConnectionFailed", "error"), ("LengthTooShort", "warning")]
    assert outcome.problems[0].message == "connection reset by vcsa01\nCheck the network."
    assert outcome.message == "connection reset by vcsa01"
    [entry] = entries()
    assert [p["code"] for p in entry["problems"]] == ["ConnectionFailed", "LengthTooShort"]


def test_a_change_to_an_unknown_switch_is_refused_and_recorded_under_its_key() -> None:
    backend = SnapshotBackend()
    outcome = apply_and_audit(backend, backend.load(), "no-such-switch", [ADD])
    assert outcome.result == "refused" and not outcome.sent
    assert [p.code for p in outcome.problems] == ["NotFound"]
    assert entries()[0]["switch"] == "no-such-switch"


def test_practice_changes_without_a_practice_log_are_not_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DVMIRROR_PRACTICE_LOG")
    backend = SnapshotBackend()
    outcome = apply_and_audit(backend, backend.load(), CLOUD, [ADD])
    assert outcome.result == "ok" and outcome.audit_error is None
    assert entries() == []


def test_an_audit_log_that_cannot_be_written_is_said_not_raised(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("DVMIRROR_PRACTICE_LOG", str(blocker / "audit.jsonl"))
    backend = SnapshotBackend()
    outcome = apply_and_audit(backend, backend.load(), CLOUD, [ADD])
    assert outcome.result == "ok" and outcome.changes[0].session.key == "3"  # the change itself happened
    assert outcome.audit_error is not None and outcome.audit_error.startswith("The change was not recorded")


# -- outcome_of: every answer of apply ------------------------------------------------------------


def test_a_vcenter_fault_is_sent_and_exit_4() -> None:
    fault = ChangeRefused(
        "vCenter refused the change: no",
        [Problem("NoPermission", "No privilege."), Problem("Note", "fyi", severity=Severity.WARNING)],
        sent=True,
    )
    outcome = outcome_of([ADD], fault, [WARNING])
    assert (outcome.result, outcome.sent, outcome.exit_code) == ("fault", True, EXIT_FAULT)
    assert codes(outcome.problems) == [("NoPermission", "error"), ("Note", "warning"), ("LengthTooShort", "warning")]
    assert outcome.message == "vCenter refused the change: no"


def test_a_refusal_without_error_problems_names_the_exception() -> None:
    outcome = outcome_of([ADD], ChangeRefused("not sent", [], sent=False))
    assert (outcome.result, outcome.sent, outcome.exit_code) == ("refused", False, EXIT_PROBLEMS)
    assert [(p.code, p.message) for p in outcome.problems] == [("ChangeRefused", "not sent")]


def test_vcenters_own_concurrent_access_is_a_fault(demo: Inventory) -> None:
    stale = StaleSwitch("changed", [Problem("ConcurrentAccess", "changed")], demo.switches[CLOUD], sent=True)
    outcome = outcome_of([ADD], stale)
    assert (outcome.result, outcome.sent, outcome.exit_code) == ("fault", True, EXIT_FAULT)
    assert outcome.switch is demo.switches[CLOUD]


@pytest.mark.parametrize(
    ("applied", "result", "code"),
    [(False, "error", "NotApplied"), (None, "unknown", "OutcomeUnknown"), (True, "ok", "AppliedNotReread")],
)
def test_a_connection_lost_after_sending_is_recorded_as_the_switch_shows(
    demo: Inventory, applied: bool | None, result: str, code: str
) -> None:
    switch = demo.switches[CLOUD] if applied is not True else None
    lost = ChangeInterrupted("connection lost after sending", applied=applied, switch=switch)
    outcome = outcome_of([ADD], lost, [WARNING])
    assert (outcome.result, outcome.sent, outcome.exit_code) == (result, True, EXIT_CONNECTION)
    assert [p.code for p in outcome.problems] == [code, "LengthTooShort"]
    assert outcome.error is lost and outcome.applied is None and outcome.switch is switch
    assert outcome.changes == (ADD,) and outcome.stored(0) is None


def test_a_change_found_applied_after_a_lost_connection_is_ok_and_says_so(demo: Inventory) -> None:
    lost = Problem("ConnectionLost", "The connection failed; the change is applied.", severity=Severity.WARNING)
    switch = demo.switches[CLOUD]
    edit = SessionChange(ChangeOperation.EDIT, switch.sessions[0])
    answer = ApplyResult(switch, keys=("1",), warnings=(WARNING, lost), recovered="found applied")
    outcome = outcome_of([edit], answer, [WARNING])
    assert (outcome.result, outcome.sent, outcome.exit_code, outcome.recovered) == (
        "ok",
        True,
        EXIT_OK,
        "found applied",
    )
    assert [p.code for p in outcome.problems] == ["LengthTooShort", "ConnectionLost"]  # each once
    assert outcome.stored(0) == switch.sessions[0] and outcome.stored(1) is None


def test_keys_pair_with_the_changes_only_when_there_is_one_each() -> None:
    remove = SessionChange(ChangeOperation.REMOVE, MirrorSession(key="1"))
    second = SessionChange(ChangeOperation.ADD, replace(WALKTHROUGH, name="second"))
    assert [c.session.key for c in with_keys([ADD, remove, second], ("7", "1", "8"))] == ["7", "1", "8"]
    # A backend that could not tell a new session's key leaves it out: then none is claimed.
    assert [c.session.key for c in with_keys([ADD, remove], ("1",))] == [None, "1"]
    assert with_keys([remove], ()) == (remove,)
    assert with_keys([ADD], ("",)) == (ADD,)


def test_the_apply_path_and_the_session_edit_logic_load_neither_textual_nor_pyvmomi() -> None:
    script = (
        "import sys, tui.outcome, tui.cli_sessions.edit, tui.lookup\n"
        "print(' '.join(m for m in ('textual', 'pyVmomi', 'pyVim') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
