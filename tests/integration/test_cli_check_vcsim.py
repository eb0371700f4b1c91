"""``dvmirror sessions --check`` against the vcsim test server: the walkthrough's session, then a
vMotion of its monitor VM and a reconnect of its NIC done with pyVmomi as another client would.

Each test starts a server of its own (``start_vcsim``); the CLI runs in-process with ``--server``
flags, and the baselines file is the isolated state directory's (tests/conftest.py).
"""

from __future__ import annotations

import json
import stat
from typing import Any

import pytest

pytest.importorskip("pyVmomi")

from pyVim.task import WaitForTask  # noqa: E402
from pyVmomi import vim  # noqa: E402

from tests.helpers import WALKTHROUGH_FLAGS, WALKTHROUGH_SWITCH, run_cli, run_cli_json  # noqa: E402
from tests.integration.test_vcsim_updates import find, nic_spec, ports, switch  # noqa: E402
from tui.drift_store import default_path  # noqa: E402

pytestmark = pytest.mark.vcsim

MGT = "vm-1002"  # MGTSRVR003UX: Network adapter 2 (4001) on port 2258 of dvPgMirror (dvportgroup-47), esx-03


def conn(server: Any) -> list[str]:
    return ["--server", server.url, "--user", server.user, "--password", server.password]


def check(capsys: pytest.CaptureFixture[str], server: Any) -> tuple[int, dict[str, Any], str]:
    code, data, err = run_cli_json(capsys, "sessions", "--check", *conn(server))
    return code, data, err


def walkthrough_row(data: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in data["sessions"] if r["name"] == "F5 DMZ to monitor")


def setup_walkthrough(capsys: pytest.CaptureFixture[str], server: Any) -> None:
    """The walkthrough's session on a switch without the demo's DMZ-IDS (cross-host from the start)."""
    code, _, err = run_cli_json(capsys, "session", "delete", "--session", "DMZ-IDS", *conn(server))
    assert code == 0, err
    flags = ("--switch", WALKTHROUGH_SWITCH, *WALKTHROUGH_FLAGS, *conn(server))
    code, data, err = run_cli_json(capsys, "session", "create", *flags)
    assert code == 0 and data["ok"], err


def test_check_follows_a_vmotion_and_a_reconnect(start_vcsim: Any, capsys: pytest.CaptureFixture[str]) -> None:
    server = start_vcsim()
    setup_walkthrough(capsys, server)
    code, data, err = check(capsys, server)
    assert (code, data["ok"], err) == (0, True, "")
    assert walkthrough_row(data)["problems"] == []
    path = default_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    recorded = path.read_text()

    si = server.connect()
    vm = find(si, vim.VirtualMachine, MGT)
    WaitForTask(vm.RelocateVM_Task(vim.vm.RelocateSpec(host=find(si, vim.HostSystem, "host-16"))))
    code, data, _ = check(capsys, server)
    assert (code, data["ok"]) == (1, False)
    problems = walkthrough_row(data)["problems"]
    assert [p["code"] for p in problems] == ["EndpointHostChanged", "CrossHostMirror"]
    assert problems[0]["severity"] == "warning" and problems[0]["field"] == "destinationPort"
    assert "MGTSRVR003UX (port 2258) moved to host esx-02 (from esx-03: a vMotion)" in problems[0]["message"]
    assert path.read_text() == recorded, "the baseline stays as first seen"

    # Human output says why, and exits 1.
    code, out, _ = run_cli(capsys, "sessions", "--check", *conn(server))
    assert code == 1
    assert "F5 DMZ to monitor) on dvSwitchCloud: 2 problems" in out
    assert "warning EndpointHostChanged [destinationPort]" in out and "warning CrossHostMirror" in out

    # Back on esx-03, then the NIC reconnected to another port of dvPgMirror.
    WaitForTask(vm.RelocateVM_Task(vim.vm.RelocateSpec(host=find(si, vim.HostSystem, "host-21"))))
    assert check(capsys, server)[0] == 0
    free = [p.key for p in ports(switch(si), portgroupKey=["dvportgroup-47"], connected=False)]
    WaitForTask(vm.ReconfigVM_Task(nic_spec(vm, 4001, portgroup="dvportgroup-47", port=free[0])))
    new_key = next(d for d in vm.config.hardware.device if d.key == 4001).backing.port.portKey
    assert new_key == free[0] != "2258"
    assert [p.connectee for p in ports(switch(si), portKey=["2258"])] == [None]
    code, data, _ = check(capsys, server)
    assert code == 1
    problems = walkthrough_row(data)["problems"]
    assert [p["code"] for p in problems] == ["EndpointChanged", "EndpointMoved", "DestinationNotConnected"]
    assert "Port 2258 (destination) was MGTSRVR003UX / Network adapter 2, now nothing" in problems[0]["message"]
    assert problems[1]["message"].startswith(f"MGTSRVR003UX / Network adapter 2 is now on port {new_key}")

    # Editing the session to follow the NIC gives it a new baseline: one info note, then nothing.
    code, _, err = run_cli_json(
        capsys, "session", "edit", "--session", "F5 DMZ to monitor", "--dest", new_key, *conn(server)
    )
    assert code == 0, err
    code, data, _ = check(capsys, server)
    assert code == 0 and data["ok"]
    assert [(p["code"], p["severity"]) for p in walkthrough_row(data)["problems"]] == [("SessionChanged", "info")]
    assert walkthrough_row(check(capsys, server)[1])["problems"] == []


def test_check_json_shape_and_switch(start_vcsim: Any, capsys: pytest.CaptureFixture[str]) -> None:
    server = start_vcsim()
    code, data, _ = run_cli_json(capsys, "sessions", "--check", "--switch", WALKTHROUGH_SWITCH, *conn(server))
    assert code == 1, "the demo lab's DMZ-IDS is cross-host"
    assert set(data) == {"ok", "notice", "sessions"}
    _, rows, _ = run_cli_json(capsys, "sessions", "--switch", WALKTHROUGH_SWITCH, *conn(server))
    assert [{k: v for k, v in r.items() if k != "problems"} for r in data["sessions"]] == rows
    for row in data["sessions"]:
        assert all(set(p) == {"code", "severity", "field", "message"} for p in row["problems"])
    assert {r["switch"] for r in data["sessions"]} == {WALKTHROUGH_SWITCH}


def test_check_sets_a_corrupt_baselines_file_aside(start_vcsim: Any, capsys: pytest.CaptureFixture[str]) -> None:
    server = start_vcsim()
    path = default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"version": 1, "vcenters": {"x": 3}}')
    code, data, err = check(capsys, server)
    assert code == 1  # DMZ-IDS
    assert "set aside as session-baselines.json.corrupt-" in data["notice"]
    assert err.startswith("dvmirror: The session baselines ") and "Traceback" not in err
    assert [p.name for p in path.parent.iterdir() if ".corrupt-" in p.name]
    assert list(json.loads(path.read_text())["vcenters"]) == [server.url]


async def test_tui_reload_after_a_vmotion_warns_and_notifies(
    start_vcsim: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from textual.widgets import DataTable, Static

    from tests.helpers import notifications, started
    from tests.integration.test_vsphere_backend import settings_for
    from tests.tui.conftest import loaded, settle
    from tests.tui.test_explorer import plain
    from tui.app import build_app
    from tui.backends.vsphere import VsphereBackend
    from tui.screens.sessions import SessionsScreen

    server = start_vcsim()
    setup_walkthrough(capsys, server)
    app = build_app(VsphereBackend(settings_for(server)), environ={})
    async with started(app) as pilot:
        assert app.inventory is not None
        sw = app.inventory.switch_by_name(WALKTHROUGH_SWITCH)
        assert sw is not None
        (mine,) = [s for s in sw.sessions if s.name == "F5 DMZ to monitor"]
        assert app.session_problems[(sw.key, mine.key or "")] == []
        shown = notifications(app)
        si = server.connect()
        vm = find(si, vim.VirtualMachine, MGT)
        WaitForTask(vm.RelocateVM_Task(vim.vm.RelocateSpec(host=find(si, vim.HostSystem, "host-16"))))
        await pilot.press("r")
        await loaded(pilot)
        await settle(pilot)
        codes = [p.code for p in app.session_problems[(sw.key, mine.key or "")]]
        assert codes == ["EndpointHostChanged", "CrossHostMirror"]
        assert any(
            m.startswith("Session F5 DMZ to monitor: Destination MGTSRVR003UX (port 2258) moved to host esx-02")
            for m in shown
        ), shown
        await pilot.press("S")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        row = next(i for i, s in enumerate(screen.sessions) if s.key == mine.key)
        assert str(screen.query_one("#sessions-table", DataTable).get_row_at(row)[-1]) == "2"
        screen.query_one("#sessions-table", DataTable).move_cursor(row=row)
        await settle(pilot)
        info = plain(screen.query_one("#session-info", Static))  # type: ignore[arg-type]
        assert "moved to host esx-02" in info and "CrossHostMirror" in info
    app.backend.close()
    # The app recorded the baselines the CLI compares with: the CLI says the same.
    code, data, _ = check(capsys, server)
    assert code == 1
    assert [p["code"] for p in walkthrough_row(data)["problems"]] == ["EndpointHostChanged", "CrossHostMirror"]


async def test_live_a_vmotion_warns_within_seconds_without_a_reload(
    start_vcsim: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 11's "done when": the monitor VM vMotioned by another client; the live channel brings
    the cross-host warning and its notification, with no ``r``; then ``sessions --check`` exits 1."""
    import time

    from tests.helpers import notifications, started
    from tests.integration.test_live_tui_vcsim import header, until
    from tests.integration.test_vsphere_backend import settings_for
    from tests.tui.test_explorer import explorer
    from tui.app import build_app
    from tui.backends.vsphere import VsphereBackend

    server = start_vcsim()
    setup_walkthrough(capsys, server)
    app = build_app(VsphereBackend(settings_for(server)), environ={})
    async with started(app) as pilot:
        await until(pilot, lambda: "live" in header(explorer(app)))
        assert app.inventory is not None
        sw = app.inventory.switch_by_name(WALKTHROUGH_SWITCH)
        assert sw is not None
        (mine,) = [s for s in sw.sessions if s.name == "F5 DMZ to monitor"]
        where = (sw.key, mine.key or "")
        assert app.session_problems[where] == []
        shown = notifications(app)
        si = server.connect()
        vm = find(si, vim.VirtualMachine, MGT)
        moved = time.monotonic()
        WaitForTask(vm.RelocateVM_Task(vim.vm.RelocateSpec(host=find(si, vim.HostSystem, "host-16"))))
        await until(pilot, lambda: [p.code for p in app.session_problems.get(where, [])] != [], seconds=10)
        took = time.monotonic() - moved
        assert [p.code for p in app.session_problems[where]] == ["EndpointHostChanged", "CrossHostMirror"]
        assert took < 10
        assert any(m.startswith("Session F5 DMZ to monitor: Destination MGTSRVR003UX (port 2258) moved") for m in shown)
    app.backend.close()
    code, data, _ = check(capsys, server)
    assert code == 1
    assert [p["code"] for p in walkthrough_row(data)["problems"]] == ["EndpointHostChanged", "CrossHostMirror"]
