"""``dvmirror session verify`` on the demo lab and on snapshots made from it (issue 10, item 3).

The demo lab's counters move with the clock and its sessions deliver by the same rules as the vcsim
test server (tui/mirror_traffic.py), so a window of one second gives real rates. A session created
by one run is verified by the next through one shared backend (as one process would), like the
other session tests do for faults.
"""

from __future__ import annotations

import _thread
import argparse
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests import labgen
from tests.helpers import WALKTHROUGH, WALKTHROUGH_FLAGS, WALKTHROUGH_SWITCH, run_cli, run_cli_json
from tui import __main__ as entry
from tui import verify
from tui.__main__ import main
from tui.backends import BackendError, ConnectionFailed, StatisticsUnsupported
from tui.backends.snapshot import SnapshotBackend
from tui.model import STAT_API_NAMES, PortStatistics

VERIFY_KEYS = [
    "ok",
    "problems",
    "session",
    "verdict",
    "summary",
    "reasons",
    "advice",
    "seconds",
    "expected",
    "sources",
    "destinations",
    "samples",
]
PORT_KEYS = {"port", "role", "label", "status", "seconds", "mirrored", "due", "rates"}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> SnapshotBackend:
    """One demo-lab backend for every ``main()`` of the test (changes of one run seen by the next)."""
    backend = SnapshotBackend()

    def make(args: argparse.Namespace, environ: Any, interactive: bool, tui: bool = False) -> SnapshotBackend:
        return backend

    monkeypatch.setattr(entry, "make_backend", make)
    return backend


def verify_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    code, data, err = run_cli_json(capsys, "session", "verify", *argv)
    assert isinstance(data, dict) and list(data) == VERIFY_KEYS
    return code, data, err


def reason_codes(data: dict[str, Any]) -> list[str]:
    return [r["code"] for r in data["reasons"]]


def write_lab(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> str:
    """The demo lab's snapshot, changed by ``change``, written to a file; its path."""
    data = labgen.demo_lab()
    change(data)
    path = tmp_path / "lab.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def stats_of(data: dict[str, Any], port: str) -> dict[str, Any]:
    return next(s for s in data["portStatistics"] if s["port"] == port and s["switch"].startswith("50 36 4e"))


# -- the walkthrough's session: created, verified, disabled, verified ---------------------------------


def test_walkthrough_session_mirrors_then_not_when_disabled(
    shared: SnapshotBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    code, created, _ = run_cli_json(capsys, "session", "create", "--switch", WALKTHROUGH_SWITCH, *WALKTHROUGH_FLAGS)
    assert code == 0 and created["ok"]
    key = created["change"]["session"]["key"]

    code, data, err = verify_json(capsys, "--session", WALKTHROUGH.name, "--seconds", "1")
    assert code == 0 and err == ""  # not a terminal: nothing on standard error
    assert data["ok"] is True and data["problems"] == [] and data["verdict"] == "mirroring"
    session = data["session"]
    assert (session["key"], session["name"], session["switch"]) == (key, WALKTHROUGH.name, WALKTHROUGH_SWITCH)
    assert session["sessionType"] == "dvPortMirror" and session["enabled"] is True and session["warnings"] == []
    assert session["portLabels"] == {
        "448": "F5-LTM01 / Network adapter 2",
        "2258": "MGTSRVR003UX / Network adapter 2",
    }
    [src], [dest] = data["sources"], data["destinations"]
    assert set(src) == PORT_KEYS and set(dest) == PORT_KEYS
    assert (src["port"], src["role"], src["status"]) == ("448", "source (both)", "ok")
    assert (dest["port"], dest["role"], dest["status"]) == ("2258", "destination", "ok")
    assert set(src["rates"]) == set(STAT_API_NAMES.values()) and src["rates"]["packetsInUnicast"] > 0
    # 60-byte frames: what the session mirrors is at most 60 bytes a packet, what 2258 is due is all of it.
    assert src["mirrored"]["bps"] <= 60 * src["mirrored"]["pps"] + 1e-6
    assert dest["due"] == src["mirrored"] == data["expected"]
    assert dest["mirrored"]["pps"] >= verify.DELIVERED_SHARE * dest["due"]["pps"] > 0
    assert 0.9 <= data["seconds"] <= 1.5
    assert len(data["samples"]) >= 2
    for reading in data["samples"]:
        assert [s["port"] for s in reading] == ["448", "2258"]
        assert all(set(s["counters"]) == set(STAT_API_NAMES.values()) for s in reading)
    assert data["samples"][-1][0]["readAt"] > data["samples"][0][0]["readAt"]

    code, out, err = run_cli(capsys, "session", "verify", "--session", key, "--seconds", "1")
    assert code == 0 and err == ""
    assert f"Verify session {key} ({WALKTHROUGH.name}) on dvSwitchCloud" in out
    assert "Distributed Port Mirroring (dvPortMirror)" in out and "enabled" in out
    assert "448 · F5-LTM01 / Network adapter 2" in out and "2258 · MGTSRVR003UX / Network adapter 2" in out
    assert re.search(r"\nMirroring: the sources carried [\d,.]+ k?pkt/s to mirror; the destination was sent", out)

    code, _, _ = run_cli_json(capsys, "session", "disable", "--session", key)
    assert code == 0
    code, data, _ = verify_json(capsys, "--session", key, "--seconds", "1")
    assert code == 1 and data["ok"] is False and data["problems"] == []
    assert data["verdict"] == "not-delivered" and reason_codes(data)[0] == "SessionDisabled"
    assert data["session"]["enabled"] is False
    code, out, _ = run_cli(capsys, "session", "verify", "--session", key, "--seconds", "1")
    assert code == 1 and "Not delivered: The session is disabled" in out and "SessionDisabled: " in out


def test_works_in_read_only_mode(capsys: pytest.CaptureFixture[str]) -> None:
    """Verify changes nothing: read-only mode does not stop it (the demo's DMZ-IDS mirrors 448 to 2241)."""
    code, data, _ = verify_json(capsys, "--demo", "--read-only", "--session", "DMZ-IDS", "--seconds", "1")
    assert code == 0 and data["verdict"] == "mirroring"
    # 449 is on another host than 2241: it explains, it does not block.
    assert reason_codes(data) == ["CrossHostMirror"]
    assert [d["port"] for d in data["destinations"]] == ["2241"]


# -- verdicts from snapshots ---------------------------------------------------------------------


def test_idle_sources_have_nothing_to_mirror(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """DMZ-IDS with its sources' rates next to nothing: their counters stand still over the window.

    (A snapshot leaves a rate of 0 out, and a port without rates keeps the time it was recorded:
    a frozen reading, which gives no rate at all.)"""

    def idle(data: dict[str, Any]) -> None:
        for port in ("448", "449"):
            rates = stats_of(data, port)["rates"]
            rates.update(dict.fromkeys(rates, 0.001))

    lab = write_lab(tmp_path, idle)
    code, data, _ = verify_json(capsys, "--snapshot", lab, "--session", "DMZ-IDS", "--seconds", "1")
    assert code == 1 and data["verdict"] == "nothing-to-mirror" and reason_codes(data)[0] == "SourcesIdle"
    assert data["expected"] == {"pps": 0.0, "bps": 0.0}
    assert "ping F5-LTM01" in data["advice"][0]
    code, out, _ = run_cli(capsys, "session", "verify", "--snapshot", lab, "--session", "DMZ-IDS", "--seconds", "1")
    assert code == 1 and "Nothing to mirror: the sources were idle" in out and "Advice:\n  - Make the source" in out


def test_drops_at_the_monitor_vm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def dropping(data: dict[str, Any]) -> None:
        stats_of(data, "2241")["rates"]["packetsOutDropped"] = 300

    lab = write_lab(tmp_path, dropping)
    code, data, _ = verify_json(capsys, "--snapshot", lab, "--session", "DMZ-IDS", "--seconds", "1")
    assert code == 1 and data["verdict"] == "dropped" and "DestinationDrops" in reason_codes(data)
    assert data["destinations"][0]["rates"]["packetsOutDropped"] == pytest.approx(300, rel=0.05)
    assert any("ethtool -G" in a for a in data["advice"])


# -- errors --------------------------------------------------------------------------------------


def test_unknown_session_is_not_found(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, err = verify_json(capsys, "--demo", "--session", "nope")
    assert code == 1 and data["ok"] is False and data["verdict"] is None and data["samples"] == []
    [problem] = data["problems"]
    assert (problem["code"], problem["field"], problem["severity"]) == ("NotFound", "key", "error")
    assert data["session"] == {"key": "nope", "name": "", "switch": ""}
    code, data, _ = verify_json(capsys, "--demo", "--session", "nope", "--switch", "dvSwitchCloud")
    assert code == 1 and "Switch dvSwitchCloud has no session" in data["problems"][0]["message"]
    assert data["session"]["switch"] == "dvSwitchCloud"
    code, out, _ = run_cli(capsys, "session", "verify", "--demo", "--session", "nope")
    assert code == 1 and "NotFound [key]: No switch has a session with key or name 'nope'" in out


def test_unknown_switch_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "session", "verify", "--demo", "--session", "1", "--switch", "nope")
    assert code == 2 and out == "" and "no switch called 'nope'" in err


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        ("0", "the window must be 1 to 600 seconds"),
        ("-1", "the window must be 1 to 600 seconds"),
        ("0.5", "the window must be 1 to 600 seconds"),
        ("601", "the window must be 1 to 600 seconds"),
        ("nan", "is not a number of seconds"),
        ("inf", "is not a number of seconds"),
        ("-inf", "is not a number of seconds"),
        ("1e1", "is not a number of seconds"),
        ("1_0", "is not a number of seconds"),
        ("١٠", "is not a number of seconds"),  # Arabic-Indic ten: float() takes it, an operator never means it
        ("ten", "is not a number of seconds"),
        ("", "is not a number of seconds"),
        ("9" * 40, "is not a number of seconds"),
    ],
)
def test_bad_seconds_are_usage_errors(seconds: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["session", "verify", "--demo", "--session", "1", f"--seconds={seconds}"], environ={})
    out, err = capsys.readouterr()
    assert exc.value.code == 2 and out == ""
    assert "argument --seconds" in err and message in err


def test_good_seconds_and_the_default() -> None:
    parser = entry.build_parser()
    base = ["session", "verify", "--session", "1"]
    assert parser.parse_args(base).seconds == verify.DEFAULT_SECONDS == 10.0
    for text, value in (("1", 1.0), ("2.5", 2.5), (" 600 ", 600.0), ("+3", 3.0), ("30.", 30.0), ("1.50", 1.5)):
        assert parser.parse_args([*base, "--seconds", text]).seconds == value


class _Failing(SnapshotBackend):
    """The demo lab, whose counters fail after ``good`` readings as a server would."""

    def __init__(self, error: BackendError, good: int = 0) -> None:
        super().__init__()
        self.error, self.good = error, good

    def port_statistics(self, switch_key: str, port_keys: Sequence[str]) -> dict[str, PortStatistics]:
        if self.good <= 0:
            raise self.error
        self.good -= 1
        return super().port_statistics(switch_key, port_keys)


@pytest.mark.parametrize(
    ("error", "good"),
    [
        (ConnectionFailed("connection reset by vcsa01"), 1),
        # What the vsphere backend says of a server without RefreshDVPortState (stock vcsim: MethodNotFound).
        (
            StatisticsUnsupported(
                "this server does not implement RefreshDVPortState, so port counters cannot be read fresh",
                hint="vCenter has offered it since vSphere 4.0; a simulator may not.",
            ),
            0,
        ),
    ],
)
def test_a_failure_while_sampling_gives_its_exit_code_with_the_result(
    error: BackendError, good: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = _Failing(error, good)
    monkeypatch.setattr(entry, "make_backend", lambda *a, **k: backend)
    code, data, err = verify_json(capsys, "--session", "DMZ-IDS", "--seconds", "1")
    # A lost connection is 3; a server that cannot give counters answered: a vCenter fault, 4.
    assert code == (4 if isinstance(error, StatisticsUnsupported) else 3)
    assert data["ok"] is False and data["verdict"] is None
    assert [(p["code"], p["message"]) for p in data["problems"]] == [(type(error).__name__, str(error))]
    assert len(data["samples"]) == good
    assert error.message in err and "Traceback" not in err
    backend = _Failing(error, good)
    code, out, err = run_cli(capsys, "session", "verify", "--session", "DMZ-IDS", "--seconds", "1")
    assert code == error.exit_code and "Verify session 1 (DMZ-IDS)" in out and type(error).__name__ in out
    assert "\nMirroring: " not in out and error.message in err


# -- ctrl+c --------------------------------------------------------------------------------------


@pytest.fixture
def interrupt_soon() -> Iterator[Callable[[float], None]]:
    """``interrupt_soon(seconds)``: ctrl+c (KeyboardInterrupt in the main thread) after ``seconds``."""
    timers: list[threading.Timer] = []

    def arm(seconds: float) -> None:
        timer = threading.Timer(seconds, _thread.interrupt_main)
        timers.append(timer)
        timer.start()

    yield arm
    for timer in timers:
        timer.cancel()


def test_ctrl_c_stops_the_window(interrupt_soon: Callable[[float], None], capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    interrupt_soon(0.5)
    code, out, err = run_cli(capsys, "session", "verify", "--demo", "--session", "DMZ-IDS", "--seconds", "30")
    assert code == 130 and time.monotonic() - started < 5
    assert "Verify session 1 (DMZ-IDS)" in out and "\nMirroring: " not in out and "Traceback" not in err
    assert re.fullmatch(r"dvmirror: interrupted after 0\.\d of 30 s \(1 reading\): no verdict\.\n", err)

    interrupt_soon(0.5)
    code, data, err = verify_json(capsys, "--demo", "--session", "DMZ-IDS", "--seconds", "30")
    assert code == 130 and data["verdict"] is None and data["ok"] is False
    assert [p["code"] for p in data["problems"]] == ["Interrupted"] and len(data["samples"]) == 1
    assert "interrupted after" in err


# -- terminal ------------------------------------------------------------------------------------


def test_progress_bar_and_80_columns_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``TTY_COMPATIBLE=1`` is Rich's switch for a terminal (both streams here), ``COLUMNS`` its width."""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run_cli(capsys, "session", "verify", "--demo", "--session", "DMZ-IDS", "--seconds", "1")
    assert code == 0
    assert "Sampling 3 ports" in err and re.search(r"\d s left", err)
    lines = ANSI.sub("", out).splitlines()
    assert max(len(line) for line in lines) <= 80
    # The labels keep each name whole: the VM on the port's line, its NIC below.
    assert any(line.startswith("2241 · IDS-SENSOR01 ") for line in lines)
    assert any(line.startswith("  Network adapter 2 ") for line in lines)
    assert any(line.startswith("Mirroring: ") for line in lines)
