"""``dvmirror session verify`` against the vcsim test server (issue 10, item 3).

The server's counters grow at per-port rates and an enabled session adds its same-host sources'
traffic to a connected destination, with sampling and packet length applied; ``-drop KEY=SHARE``
makes a destination drop that share (tests/vcsim/README.md, "Port traffic"). So each verdict comes
from counters a server reported, read through ``RefreshDVPortState`` and ``FetchDVPorts``.
Every test starts its own server (each creates sessions).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import (
    WALKTHROUGH,
    WALKTHROUGH_FLAGS,
    WALKTHROUGH_LEGACY_FLAGS,
    WALKTHROUGH_SWITCH,
    run_cli,
    run_cli_json,
)
from tui import verify
from tui.model import STAT_API_NAMES

pytestmark = pytest.mark.vcsim

CLOUD = WALKTHROUGH_SWITCH
StartVcsim = Callable[..., Any]


def conn(server: Any) -> list[str]:
    return ["--server", server.url, "--user", server.user, "--password", server.password]


def create(capsys: pytest.CaptureFixture[str], server: Any, *flags: str) -> str:
    """Create a session on dvSwitchCloud; its key."""
    code, result, err = run_cli_json(capsys, "session", "create", "--switch", CLOUD, *flags, *conn(server))
    assert code == 0 and result["ok"], (result, err)
    return str(result["change"]["session"]["key"])


def check(capsys: pytest.CaptureFixture[str], server: Any, key: str, *extra: str) -> tuple[int, dict[str, Any], str]:
    """``session verify --session KEY --seconds 2 --json`` on ``server``."""
    code, data, err = run_cli_json(
        capsys, "session", "verify", "--session", key, "--seconds", "2", *extra, *conn(server)
    )
    assert isinstance(data, dict)
    return code, data, err


def codes(data: dict[str, Any]) -> list[str]:
    return [r["code"] for r in data["reasons"]]


@pytest.mark.parametrize("flags", [WALKTHROUGH_FLAGS, WALKTHROUGH_LEGACY_FLAGS], ids=["dvPortMirror", "legacy"])
def test_walkthrough_session_mirrors_then_not_when_disabled(
    flags: tuple[str, ...], start_vcsim: StartVcsim, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim(args=("-trace",))
    key = create(capsys, server, *flags)
    mark = len(server.log())

    code, data, err = check(capsys, server, key)
    assert code == 0 and err == ""
    assert data["ok"] is True and data["problems"] == [] and data["verdict"] == "mirroring"
    assert (data["session"]["key"], data["session"]["name"]) == (key, WALKTHROUGH.name)
    [src], [dest] = data["sources"], data["destinations"]
    assert (src["port"], src["status"], dest["port"], dest["status"]) == ("448", "ok", "2258", "ok")
    assert set(src["rates"]) == set(STAT_API_NAMES.values())
    assert src["rates"]["packetsInUnicast"] >= 50  # the server's slowest port
    # The session cuts frames to 60 bytes; the destination is due what its same-host source gives.
    assert src["mirrored"]["bps"] <= 60 * src["mirrored"]["pps"] + 1e-6
    assert dest["due"] == src["mirrored"]
    assert dest["mirrored"]["pps"] >= dest["due"]["pps"]  # the mirrored frames plus the monitor's own traffic
    assert dest["rates"]["packetsOutDropped"] == 0.0
    assert 1.9 <= data["seconds"] <= 3.0
    readings = data["samples"]
    assert len(readings) == 2  # the start and the end of a 2 s window (a reading every 2 s)
    for reading in readings:
        assert [s["port"] for s in reading] == ["448", "2258"]
        assert all(set(s["counters"]) == set(STAT_API_NAMES.values()) for s in reading)

    # After the load (whose FetchDVPorts read every port): one RefreshDVPortState and one FetchDVPorts
    # per reading, for the session's two ports only, and nothing else.
    log = server.log()[mark:]
    calls = re.findall(r"<soapenv:Body><(\w+) xmlns=\"urn:vim25\">(.*?)</\1></soapenv:Body>", log)
    requests = [(name, body) for name, body in calls if not name.endswith("Response")]
    first = [name for name, _ in requests].index("RefreshDVPortState")
    window = [(name, body) for name, body in requests[first:] if name != "Logout"]
    assert [name for name, _ in window] == ["RefreshDVPortState", "FetchDVPorts"] * len(readings)
    for name, body in window:
        assert re.findall(r"<portKeys?>(\w+)</portKeys?>", body) == ["448", "2258"], name

    code, out, err = run_cli(capsys, "session", "verify", "--session", key, "--seconds", "1", *conn(server))
    assert code == 0 and err == ""
    assert f"Verify session {key} ({WALKTHROUGH.name}) on dvSwitchCloud" in out
    assert re.search(r"\nMirroring: the sources carried [\d,.]+ k?pkt/s to mirror; the destination was sent", out)

    code, _, _ = run_cli_json(capsys, "session", "disable", "--session", key, *conn(server))
    assert code == 0
    code, data, _ = check(capsys, server, key)
    assert code == 1 and data["ok"] is False and data["verdict"] == "not-delivered"
    assert codes(data)[0] == "SessionDisabled"
    [dest] = data["destinations"]
    # The server stopped delivering: what 2258 was sent is its own traffic, well below what it was due.
    assert dest["mirrored"]["pps"] < verify.DELIVERED_SHARE * dest["due"]["pps"]


def test_read_only_mode_does_not_matter(start_vcsim: StartVcsim, capsys: pytest.CaptureFixture[str]) -> None:
    server = start_vcsim()
    key = create(capsys, server, *WALKTHROUGH_FLAGS)
    code, data, _ = check(capsys, server, key, "--read-only")
    assert code == 0 and data["verdict"] == "mirroring"


def test_idle_source_has_nothing_to_mirror(start_vcsim: StartVcsim, capsys: pytest.CaptureFixture[str]) -> None:
    """Port 20 has nothing connected: the server reports zeros that never move."""
    server = start_vcsim()
    key = create(capsys, server, "--name", "idle", "--source", "20", "--dest", "2258")
    code, data, _ = check(capsys, server, key)
    assert code == 1 and data["verdict"] == "nothing-to-mirror"
    assert codes(data)[:2] == ["SourcesIdle", "SourceNotConnected"]
    assert data["expected"] == {"pps": 0.0, "bps": 0.0}
    assert data["sources"][0]["status"] == "ok" and data["sources"][0]["rates"]["packetsInUnicast"] == 0.0


def test_drops_at_the_destination(start_vcsim: StartVcsim, capsys: pytest.CaptureFixture[str]) -> None:
    server = start_vcsim(args=("-drop", "2258=0.5"))
    key = create(capsys, server, *WALKTHROUGH_FLAGS)
    code, data, _ = check(capsys, server, key)
    assert code == 1 and data["verdict"] == "dropped" and codes(data)[0] == "DestinationDrops"
    [dest] = data["destinations"]
    # Half of what the session mirrors is dropped on the way to the monitor VM.
    assert dest["rates"]["packetsOutDropped"] == pytest.approx(dest["due"]["pps"] / 2, rel=0.1)
    assert any("ethtool -G" in a for a in data["advice"])


def test_a_pair_on_two_hosts_is_not_delivered(start_vcsim: StartVcsim, capsys: pytest.CaptureFixture[str]) -> None:
    """449 (WEB-DMZ02) is on esx-01, 2258 on esx-03: Distributed Port Mirroring stays on one host."""
    server = start_vcsim()
    key = create(capsys, server, "--name", "two hosts", "--source", "449", "--dest", "2258")
    code, data, _ = check(capsys, server, key)
    assert code == 1 and data["verdict"] == "not-delivered" and codes(data)[0] == "CrossHostMirror"
    [src], [dest] = data["sources"], data["destinations"]
    assert src["mirrored"]["pps"] > 0 and dest["due"] == {"pps": 0.0, "bps": 0.0}
    assert dest["mirrored"]["pps"] < src["mirrored"]["pps"]  # the server delivered nothing across hosts


def test_unreachable_vcenter_is_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = ["--server", f"http://127.0.0.1:{port}/sdk", "--user", "u", "--password", "p"]
    code, out, err = run_cli(capsys, "session", "verify", "--session", "1", "--json", *argv)
    assert code == 3 and out == "" and err


def test_connection_lost_in_the_window_is_exit_3(start_vcsim: StartVcsim, capsys: pytest.CaptureFixture[str]) -> None:
    server = start_vcsim()
    key = create(capsys, server, *WALKTHROUGH_FLAGS)
    stopper = threading.Timer(1.0, server.stop)
    stopper.start()
    try:
        started = time.monotonic()
        code, data, err = check(capsys, server, key, "--seconds", "6")
    finally:
        stopper.cancel()
    assert code == 3 and time.monotonic() - started < 30
    assert data["ok"] is False and data["verdict"] is None
    assert [p["code"] for p in data["problems"]] == ["ConnectionFailed"]
    assert len(data["samples"]) >= 1  # the reading before the server went away
    assert err and "Traceback" not in err
