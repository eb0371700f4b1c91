"""The truth after every failure: each fault of issue 7 §2, injected with tests/faultproxy.py
between dvmirror and the vcsim test server, through the CLI and the TUI.

Every test reads the server back with pyVmomi (the fixture's ``connect()``) and checks that it
holds exactly what dvmirror said: applied, not applied, or cannot tell.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CLOUD as CLOUD_KEY
from tests.faultproxy import Fault, FaultProxy
from tests.helpers import WALKTHROUGH, WALKTHROUGH_FLAGS, WALKTHROUGH_SWITCH, notifications, started
from tests.helpers import run_cli_json as cli
from tests.integration.conftest import REPO
from tests.labgen import scaled_lab
from tests.tui.conftest import loaded, settle
from tests.tui.wizard_helpers import mark_walkthrough, review_and_create, type_into, wizard
from tui.__main__ import main
from tui.app import DvMirrorApp, build_app
from tui.audit import AuditLog
from tui.backends import CertificateError, ChangeInterrupted, ChangeRefused, LoadInterrupted, SessionExpired
from tui.backends.vsphere import VsphereBackend
from tui.config import DEFAULT_TIMEOUT, Settings, parse_server
from tui.model import ChangeOperation, SessionChange, VspanPorts
from tui.screens.error import ErrorScreen
from tui.screens.explorer import ExplorerScreen
from tui.screens.wizard import SessionWizard
from widgets.inventory_tree import InventoryTree

pytestmark = pytest.mark.vcsim

CLOUD = WALKTHROUGH_SWITCH
NAME = WALKTHROUGH.name
CREATE = ["session", "create", "--switch", CLOUD, *WALKTHROUGH_FLAGS]
TIMEOUT = 1.5
"""--timeout for the tests of silent servers (seconds)."""


# -- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def proxies() -> Iterator[Callable[..., FaultProxy]]:
    """``proxy(server, *faults, silent=False)``: a fault proxy in front of a server, stopped at the end."""
    made: list[FaultProxy] = []

    def make(server: Any = None, *faults: Fault, silent: bool = False) -> FaultProxy:
        target = (server.host, server.port) if server is not None else ("127.0.0.1", 9)
        proxy = FaultProxy(target, faults=list(faults), silent=silent, lifetime=120)
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.stop()


def via(proxy: FaultProxy, server: Any = None, *, timeout: float | None = None) -> list[str]:
    """CLI flags that dial the proxy."""
    flags = ["--server", proxy.url(), "--user", server.user if server else "u"]
    flags += ["--password", server.password if server else "p"]
    return flags + (["--timeout", f"{timeout:g}"] if timeout else [])


def _port_count(app: DvMirrorApp) -> int:
    """The ports the app holds now (a function, so a test can ask again after the app changed)."""
    assert app.inventory is not None
    return len(app.inventory.ports)


def settings_via(proxy: FaultProxy, server: Any, **overrides: Any) -> Settings:
    url = parse_server(proxy.url(), "--server")
    base = Settings(
        server=url.host, port=url.port, scheme=url.scheme, path=url.path, user=server.user, password=server.password
    )
    return replace(base, **overrides)


def state(server: Any, name: str = CLOUD) -> tuple[str, dict[str, str]]:
    """``(configVersion, {key: session name})`` of a switch, read from the server with pyVmomi."""
    from pyVmomi import vim

    si = server.connect()
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
    try:
        dvs = next(d for d in view.view if d.name == name)
        return str(dvs.config.configVersion), {str(s.key): s.name for s in dvs.config.vspanSession or ()}
    finally:
        view.Destroy()


def rival_removes(server: Any, key: str = "2") -> Callable[[], None]:
    """Another client removing session ``key`` (run while dvmirror's call is held by the proxy)."""

    def act() -> None:
        from pyVmomi import vim

        si = server.connect()
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
        dvs = next(d for d in view.view if d.name == CLOUD)
        VS = vim.dvs.VmwareDistributedVirtualSwitch
        spec = VS.ConfigSpec(
            configVersion=dvs.config.configVersion,
            vspanConfigSpec=[VS.VspanConfigSpec(operation="remove", vspanSession=VS.VspanSession(key=key))],
        )
        task = dvs.ReconfigureDvs_Task(spec)
        while task.info.state not in ("success", "error"):
            time.sleep(0.02)
        assert task.info.state == "success"

    return act


def terminate_others(server: Any) -> Callable[[], None]:
    """Another client ending every session but its own (SessionManager.TerminateSession)."""

    def act() -> None:
        si = server.connect()
        sm = si.RetrieveContent().sessionManager
        mine = sm.currentSession.key
        others = [s.key for s in sm.sessionList or () if s.key != mine]
        assert others, "dvmirror's session is listed"
        sm.TerminateSession(others)

    return act


def audit() -> list[tuple[str, list[str]]]:
    """``(result, [problem codes])`` of every audit entry."""
    return [(e["result"], [p["code"] for p in e["problems"]]) for e in AuditLog().entries()]


def codes(result: dict[str, Any], severity: str = "error") -> list[str]:
    return [p["code"] for p in result["problems"] if p["severity"] == severity]


# The load of the demo lab through the CLI makes RetrievePropertiesEx calls #1 (tree), #2 (VM names
# and hosts, for the port map) and #3 (VM devices and guest IPs); a change then reads the switch
# with #4 before sending ReconfigureDvs_Task.
PRE_READ = 4


# -- session expired or terminated between load and apply ----------------------------------------


def test_cli_session_terminated_before_apply_logs_in_again(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim()
    version, before = state(server)
    proxy = proxies(server, Fault("RetrievePropertiesEx", "delay", nth=PRE_READ, on_fire=terminate_others(server)))
    code, result, err = cli(capsys, *CREATE, *via(proxy, server))
    assert code == 0, err
    assert result["ok"] is True and result["sent"] is True and codes(result) == []
    assert proxy.calls["Login"] == 2, "logged in again once"
    after_version, after = state(server)
    assert after == {**before, "3": NAME} and int(after_version) == int(version) + 1
    assert result["stored"]["key"] == "3" and result["stored"]["name"] == NAME
    assert audit() == [("ok", [])]
    assert "ConcurrentAccess" not in err and "Traceback" not in err


async def test_tui_session_terminated_before_apply_logs_in_again(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy]
) -> None:
    server = start_vcsim()
    version, before = state(server)
    proxy = proxies(server)
    backend = VsphereBackend(settings_via(proxy, server))
    app = build_app(backend, environ={})
    async with started(app) as pilot:
        switches = set(app.inventory.switches)  # type: ignore[union-attr]
        terminate_others(server)()  # an administrator ends dvmirror's session
        await open_walkthrough_wizard(pilot)
        await type_into(pilot, "name", NAME)
        await review_and_create(pilot)
        assert isinstance(app.screen, ExplorerScreen), app.screen
        assert set(app.inventory.switches) == switches, "no phantom switch"  # type: ignore[union-attr]
        cloud = app.inventory.switch_by_name(CLOUD)  # type: ignore[union-attr]
        assert cloud is not None and [s.name for s in cloud.sessions] == [*before.values(), NAME]
    backend.close()
    assert proxy.calls["Login"] == 2
    assert state(server) == (str(int(version) + 1), {**before, "3": NAME})
    assert audit() == [("ok", [])]


async def test_tui_session_expired_and_login_refused_says_so(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy]
) -> None:
    """The password was rotated meanwhile: "session expired, nothing was sent"; no phantom switch."""
    server = start_vcsim()
    before = state(server)
    proxy = proxies(server)
    backend = VsphereBackend(settings_via(proxy, server))
    app = build_app(backend, environ={})
    async with started(app) as pilot:
        switches = set(app.inventory.switches)  # type: ignore[union-attr]
        backend.settings = replace(backend.settings, password="rotated-meanwhile")
        terminate_others(server)()
        await open_walkthrough_wizard(pilot)
        await type_into(pilot, "name", NAME)
        await review_and_create(pilot)
        assert isinstance(app.screen, ErrorScreen), app.screen
        error = app.screen.error
        assert isinstance(error, SessionExpired) and error.title == "Session expired"
        assert "nothing was sent" in error.message and "rotated-meanwhile" not in str(error)
        assert "changed" not in error.message and "ConcurrentAccess" not in str(getattr(error, "problems", ""))
        assert set(app.inventory.switches) == switches, "no phantom switch"  # type: ignore[union-attr]
        assert state(server) == before
        assert proxy.calls["ReconfigureDvs_Task"] == 0
        await pilot.click("#retry")  # "Review again": the wizard comes back with what was typed
        await settle(pilot)
        assert isinstance(app.screen, SessionWizard) and wizard(pilot).built.session.name == NAME
    backend.close()
    assert [r for r, _ in audit()] == ["error"]


# -- the connection is lost after ReconfigureDvs_Task was sent -------------------------------------


def test_cli_change_applied_although_the_answer_was_lost(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim()
    version, before = state(server)
    proxy = proxies(server, Fault("ReconfigureDvs_Task", "cut_after"))
    code, result, err = cli(capsys, *CREATE, *via(proxy, server))
    assert proxy.fired == [("ReconfigureDvs_Task", "cut_after")]
    assert code == 0, err
    assert result["ok"] is True and result["sent"] is True
    assert "ConnectionLost" in codes(result, "warning")
    assert "the change was applied" in err and "try again" not in err.lower()
    after_version, after = state(server)
    assert after == {**before, "3": NAME} and int(after_version) == int(version) + 1
    assert result["stored"]["key"] == "3"
    assert audit() == [("ok", ["ConnectionLost"])]


def test_cli_change_not_applied_when_the_request_was_lost(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim()
    before = state(server)
    proxy = proxies(server, Fault("ReconfigureDvs_Task", "cut_before"))
    code, result, err = cli(capsys, *CREATE, *via(proxy, server))
    assert code == 3
    assert result["ok"] is False and result["sent"] is True and result["stored"] is None
    assert codes(result) == ["NotApplied"]
    assert "the change was not applied" in err and f"configVersion is still {before[0]}" in err
    assert state(server) == before
    assert audit() == [("error", ["NotApplied"])]


def test_cli_cannot_tell_when_someone_else_changed_the_switch_meanwhile(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim()
    version, before = state(server)
    proxy = proxies(server, Fault("ReconfigureDvs_Task", "cut_before", on_fire=rival_removes(server)))
    code, result, err = cli(capsys, *CREATE, *via(proxy, server))
    assert code == 3 and codes(result) == ["OutcomeUnknown"] and result["sent"] is True
    assert "cannot tell" in err and "1  DMZ-IDS" in err, "the switch as it is now is shown"
    after_version, after = state(server)
    assert after == {"1": before["1"]} and int(after_version) == int(version) + 1  # the rival's change only
    assert audit() == [("unknown", ["OutcomeUnknown"])]


def test_cli_change_applied_while_every_task_poll_was_cut(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy], capsys: pytest.CaptureFixture[str]
) -> None:
    """pyVmomi reads ``task.info`` with ``Fetch``: every poll fails, the re-read switch decides."""
    server = start_vcsim()
    version, before = state(server)
    proxy = proxies(server, Fault("Fetch", "cut_before", nth=0))
    code, result, err = cli(capsys, *CREATE, *via(proxy, server))
    assert proxy.calls["Fetch"] >= 2 and proxy.calls["ReconfigureDvs_Task"] == 1
    assert code == 0, err
    assert result["ok"] is True and "ConnectionLost" in codes(result, "warning")
    assert state(server) == (str(int(version) + 1), {**before, "3": NAME})
    assert audit() == [("ok", ["ConnectionLost"])]


def test_task_poll_lost_then_vcenter_refuses(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first poll is cut; polled again, the task reports vCenter's fault: a refusal (exit 4)."""
    server = start_vcsim()
    before = state(server)
    monkeypatch.setattr(VsphereBackend, "_check_rules", staticmethod(lambda *_a: ()))
    proxy = proxies(server)
    backend = VsphereBackend(settings_via(proxy, server))
    inventory = backend.load()
    proxy.add(Fault("Fetch", "cut_before"))
    bad = WALKTHROUGH.with_changes(destination=VspanPorts(port_keys=("2241",)))  # DMZ-IDS's destination
    try:
        with pytest.raises(ChangeRefused) as err:
            backend.apply(inventory, CLOUD_KEY, [SessionChange(ChangeOperation.ADD, bad)])
    finally:
        backend.close()
    assert proxy.fired == [("Fetch", "cut_before")] and proxy.calls["ReconfigureDvs_Task"] == 1
    assert err.value.sent is True and err.value.exit_code == 4
    assert [p.code for p in err.value.problems] == ["VspanDestPortConflict"]
    assert state(server) == before


async def test_tui_change_applied_although_the_answer_was_lost(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy]
) -> None:
    server = start_vcsim()
    version, before = state(server)
    proxy = proxies(server)
    backend = VsphereBackend(settings_via(proxy, server), timeout=TIMEOUT)
    app = build_app(backend, environ={})
    async with started(app) as pilot:
        notes = notifications(app)
        await open_walkthrough_wizard(pilot)
        await type_into(pilot, "name", NAME)
        proxy.add(Fault("ReconfigureDvs_Task", "stall_after"))  # vCenter did it; the answer never comes
        await review_and_create(pilot)
        for _ in range(100):
            if any("Created session" in n for n in notes):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, ExplorerScreen), app.screen
        assert any("did not answer" in n and "the change was applied" in n for n in notes), notes
        stored = app.inventory.switch_by_name(CLOUD)  # type: ignore[union-attr]
        assert stored is not None and [s.name for s in stored.sessions] == [*before.values(), NAME]
    backend.close()
    assert state(server) == (str(int(version) + 1), {**before, "3": NAME})
    assert audit() == [("ok", ["ConnectionLost"])]


async def test_tui_change_not_applied_keeps_the_wizard(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy]
) -> None:
    server = start_vcsim()
    before = state(server)
    proxy = proxies(server)
    backend = VsphereBackend(settings_via(proxy, server))
    app = build_app(backend, environ={})
    async with started(app) as pilot:
        await open_walkthrough_wizard(pilot)
        await type_into(pilot, "name", NAME)
        await type_into(pilot, "description", "typed by hand")
        proxy.add(Fault("ReconfigureDvs_Task", "cut_before"))
        await review_and_create(pilot)
        assert isinstance(app.screen, ErrorScreen), app.screen
        error = app.screen.error
        assert isinstance(error, ChangeInterrupted) and error.applied is False
        assert error.title == "Change not applied" and "the change was not applied" in error.message
        assert "Traceback" not in str(error)
        await pilot.click("#retry")
        await settle(pilot)
        assert isinstance(app.screen, SessionWizard)
        session = wizard(pilot).built.session
        assert (session.name, session.description) == (NAME, "typed by hand")
        assert session.source_rx.port_keys == ("448",) and session.destination.port_keys == ("2258",)
    backend.close()
    assert state(server) == before
    assert audit() == [("error", ["NotApplied"])]


async def open_walkthrough_wizard(pilot: Any) -> None:
    """Mark 448 as the source and 2258 as the destination, then press m."""
    await mark_walkthrough(pilot)
    assert isinstance(pilot.app.screen, SessionWizard)


# -- staleness caught before sending --------------------------------------------------------------


def test_cli_stale_switch_caught_before_sending_says_nothing_was_sent(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim()
    version, before = state(server)
    proxy = proxies(server, Fault("RetrievePropertiesEx", "delay", nth=PRE_READ, on_fire=rival_removes(server)))
    code, result, err = cli(capsys, *CREATE, *via(proxy, server))
    assert code == 4
    assert result["ok"] is False and result["sent"] is False and codes(result) == ["ConcurrentAccess"]
    assert proxy.calls["ReconfigureDvs_Task"] == 0
    assert state(server) == (str(int(version) + 1), {"1": before["1"]})  # the rival's change only
    assert audit() == [("refused", ["ConcurrentAccess"])]
    main([*CREATE, *via(proxy, server)], environ={})  # the human output, on the fresh state: applies
    out = capsys.readouterr().out
    assert "Created session 3" in out


# -- a server that accepts TCP and never answers ---------------------------------------------------


def run_cli(*argv: str, env: dict[str, str] | None = None, limit: float = 30) -> tuple[int, str, str, float]:
    """``python -m tui ARGV`` in a subprocess: exit code, stdout, stderr, seconds."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GOVC_", "VMWARE_", "DVMIRROR_"))}
    environ.update(env or {})
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "tui", *argv], cwd=REPO, env=environ, capture_output=True, text=True, timeout=limit
    )
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started


def python_startup() -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import tui.backends.vsphere, pyVmomi"], cwd=REPO, check=True)
    return time.monotonic() - started


def test_cli_silent_server_ends_within_the_timeout(proxies: Callable[..., FaultProxy]) -> None:
    proxy = proxies(silent=True)
    overhead = python_startup()
    code, out, err, seconds = run_cli("sessions", "--json", *via(proxy, timeout=TIMEOUT))
    assert code == 3 and out == ""
    assert f"did not answer within {TIMEOUT:g} s" in err and "Traceback" not in err
    assert proxy.connections >= 1
    assert TIMEOUT <= seconds < overhead + TIMEOUT + 3, seconds


def test_the_timeout_from_the_environment_and_bad_values(proxies: Callable[..., FaultProxy]) -> None:
    proxy = proxies(silent=True)
    code, _out, err, seconds = run_cli("ports", *via(proxy), env={"DVMIRROR_TIMEOUT": "1"})
    assert code == 3 and "did not answer within 1 s" in err and seconds < 15
    for bad in ("²", "1e3", "-2", "0", "ten"):
        code, _out, err, _s = run_cli("ports", *via(proxy), env={"DVMIRROR_TIMEOUT": bad})
        assert code == 2 and "DVMIRROR_TIMEOUT" in err and "Traceback" not in err, (bad, err)
    code, _out, err, _s = run_cli("ports", *via(proxy), "--timeout", "٣")
    assert code == 2 and "--timeout" in err and "digits 0-9" in err
    assert proxy.connections == 1, "bad values never dial"
    assert Settings().timeout == DEFAULT_TIMEOUT == 20


def test_profile_timeout(tmp_path: Path, proxies: Callable[..., FaultProxy]) -> None:
    proxy = proxies(silent=True)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[profiles.lab]\nurl = "{proxy.url()}"\nuser = "u"\ntimeout = 1\n', encoding="utf-8")
    code, _out, err, seconds = run_cli("ports", "--config", str(cfg), "--profile", "lab", "--password", "p")
    assert code == 3 and "did not answer within 1 s" in err and seconds < 15
    cfg.write_text('[profiles.lab]\nurl = "vc"\ntimeout = true\n', encoding="utf-8")
    code, _out, err, _s = run_cli("ports", "--config", str(cfg), "--profile", "lab", "--password", "p")
    assert code == 2 and "timeout must be a number of seconds" in err


def test_cli_stall_in_the_middle_of_a_load_is_bounded(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy]
) -> None:
    """vCenter goes silent on the second page of VMs: the load is said to be interrupted, in time."""
    server = start_vcsim(lab=scaled_lab(1500))
    proxy = proxies(server, Fault("ContinueRetrievePropertiesEx", "stall"))
    code, out, err, seconds = run_cli("ports", "--json", *via(proxy, server, timeout=TIMEOUT))
    assert proxy.fired == [("ContinueRetrievePropertiesEx", "stall")]
    assert code == 3 and out == ""
    assert "was interrupted" in err and f"did not answer within {TIMEOUT:g} s" in err
    assert "nothing is listening" not in err and "Traceback" not in err
    assert seconds < 20


async def test_tui_silent_server_is_a_clear_error_in_time(proxies: Callable[..., FaultProxy]) -> None:
    proxy = proxies(silent=True)
    url = parse_server(proxy.url(), "--server")
    settings = Settings(server=url.host, port=url.port, scheme="http", user="u", password="p", timeout=TIMEOUT)
    app = build_app(VsphereBackend(settings), environ={})
    started = time.monotonic()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await settle(pilot)
        seconds = time.monotonic() - started
        assert isinstance(app.screen, ErrorScreen) and app.screen.error.exit_code == 3
        assert f"did not answer within {TIMEOUT:g} s" in app.screen.error.message
        assert app.screen.query("#retry") and "Traceback" not in str(app.screen.error)
    assert TIMEOUT <= seconds < TIMEOUT + 3, seconds


async def test_q_quits_at_once_while_the_load_waits_on_a_silent_server(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy]
) -> None:
    server = start_vcsim()
    proxy = proxies(server, Fault("RetrievePropertiesEx", "stall"))  # the tree never comes
    backend = VsphereBackend(settings_via(proxy, server), timeout=60)
    app = build_app(backend, environ={})
    async with app.run_test(size=(120, 40)) as pilot:
        assert await asyncio.to_thread(proxy.wait_for, "RetrievePropertiesEx", 1, 30)
        await pilot.pause(0.2)
        started = time.monotonic()
        await pilot.press("q")
    quit_seconds = time.monotonic() - started
    assert quit_seconds < 2, quit_seconds

    def load_ended() -> bool:  # the backend's lock is free once the load thread has stopped
        if not backend._lock.acquire(timeout=5):
            return False
        backend._lock.release()
        return True

    # The load's thread is not left waiting for its 60 s timeout either (app.run() would wait for it).
    assert await asyncio.to_thread(load_ended)
    finished = time.monotonic() - started
    assert finished < 2.5 and backend._si is None, finished


# -- a load killed midway ---------------------------------------------------------------------------


def test_cli_load_cut_in_every_port_list_is_interrupted(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim()
    proxy = proxies(server, Fault("FetchDVPorts", "cut_mid", nth=0, at_byte=4000))
    code, result, err = cli(capsys, "ports", *via(proxy, server))
    # The demo lab's two switches are read at once: one FetchDVPorts per switch in each attempt.
    assert proxy.calls["FetchDVPorts"] == 2 * 2, "one retry on fresh connections, then the truth"
    assert code == 3 and result is None
    assert "loading the inventory" in err and "was interrupted" in err
    assert "nothing is listening" not in err and "Traceback" not in err


def test_a_single_cut_is_retried_once(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim()
    proxy = proxies(server, Fault("FetchDVPorts", "cut_mid", at_byte=4000))
    code, result, err = cli(capsys, "ports", *via(proxy, server))
    assert proxy.fired == [("FetchDVPorts", "cut_mid")]
    assert code == 0 and len(result) == 437, err


async def test_tui_interrupted_load_withdraws_the_half_tree(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy]
) -> None:
    server = start_vcsim()
    cut = Fault("RetrievePropertiesEx", "cut_mid", nth=0, contains=b"VirtualMachine", at_byte=3000)
    proxy = proxies(server, cut)
    backend = VsphereBackend(settings_via(proxy, server))
    app = build_app(backend, environ={})
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert cut.fired == 2
        assert isinstance(app.screen, ErrorScreen), app.screen
        error = app.screen.error
        assert isinstance(error, LoadInterrupted) and error.title == "Load interrupted"
        assert "was interrupted" in error.message and "nothing is listening" not in error.message
        assert app.inventory is None and not app.partial
        explorer = app.screen_stack[1]
        assert isinstance(explorer, ExplorerScreen)
        tree = explorer.query_one(InventoryTree)
        assert tree.inventory is None and "load was interrupted" in str(tree.root.children[0].label)
        cut.disarm()  # vCenter is back: Retry loads everything
        await pilot.click("#retry")
        await app.workers.wait_for_complete()
        await loaded(pilot)
        assert isinstance(app.screen, ExplorerScreen) and _port_count(app) == 437
        # A refresh cut midway: the complete inventory of before comes back, and the app says so.
        cut.rearm(0)
        complete = app.inventory
        notes = notifications(app)
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen) and isinstance(app.screen.error, LoadInterrupted)
        assert app.inventory is complete and any("as loaded at" in n for n in notes), notes
    backend.close()


# -- certificates --------------------------------------------------------------------------------


def test_wrong_ca_file_is_named(vcsim_tls: Any, start_vcsim: Callable[..., Any], tmp_path: Path) -> None:
    """A valid PEM of another CA: not "self-signed", but "not signed by the CA in FILE"."""
    server, other = vcsim_tls, start_vcsim(tls=True)
    base = Settings(server=server.host, port=server.port, user=server.user, password=server.password)
    backend = VsphereBackend(replace(base, ca_file=other.cert))
    try:
        with pytest.raises(CertificateError) as err:
            backend.connect()
    finally:
        backend.close()
    assert err.value.message == f"the TLS certificate of {server.host} is not signed by the CA in {other.cert}"
    assert "self-signed" not in err.value.message and server.thumbprint in err.value.hint
    right = VsphereBackend(replace(base, ca_file=server.cert))
    assert right.load().switches  # the right CA works
    right.close()

    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("this is not a certificate\n", encoding="utf-8")
    damaged = tmp_path / "damaged.pem"
    damaged.write_text("-----BEGIN CERTIFICATE-----\nAAAA!!!!\n-----END CERTIFICATE-----\n", encoding="utf-8")
    for path, words in (
        (not_pem, "is not a PEM certificate file"),
        (damaged, "holds a damaged PEM certificate"),
        (tmp_path, "is not a regular file"),
    ):
        with pytest.raises(CertificateError) as err:
            VsphereBackend(replace(base, ca_file=str(path))).connect()
        assert err.value.message.startswith(f"CA file {path} ") and words in err.value.message


def test_cli_wrong_ca_file(vcsim_tls: Any, start_vcsim: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    server, other = vcsim_tls, start_vcsim(tls=True)
    code, result, err = cli(capsys, "sessions", "--server", server.url, "--user", "u", "--password", "p",
                            "--ca-file", other.cert)  # fmt: skip
    assert code == 3 and result is None
    assert f"is not signed by the CA in {other.cert}" in err and "Traceback" not in err


async def test_tui_wrong_ca_file(vcsim_tls: Any, start_vcsim: Callable[..., Any]) -> None:
    server, other = vcsim_tls, start_vcsim(tls=True)
    base = Settings(server=server.host, port=server.port, user=server.user, password=server.password)
    app = build_app(VsphereBackend(replace(base, ca_file=other.cert)), environ={})
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert app.screen.error.title == "Certificate not trusted"
        assert f"not signed by the CA in {other.cert}" in app.screen.error.message


def test_idle_session_expired_between_load_and_apply(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy]
) -> None:
    """vcsim's -session-idle forgets the session while the operator reads: the change still goes through."""
    server = start_vcsim(session_idle=1)
    version, before = state(server)
    proxy = proxies(server)
    backend = VsphereBackend(settings_via(proxy, server))
    inventory = backend.load()
    time.sleep(2.5)
    try:
        result = backend.apply(inventory, CLOUD_KEY, [SessionChange(ChangeOperation.ADD, WALKTHROUGH)])
    finally:
        backend.close()
    assert result.keys == ("3",) and not result.recovered
    assert proxy.calls["Login"] == 2 and proxy.calls["ReconfigureDvs_Task"] == 1
    assert result.switch.key == CLOUD_KEY and [x.name for x in result.switch.sessions][-1] == WALKTHROUGH.name
    assert state(server) == (str(int(version) + 1), {**before, "3": WALKTHROUGH.name})


# -- the proxy itself over TLS ----------------------------------------------------------------------


def test_the_proxy_speaks_tls_on_both_sides(vcsim_tls: Any, proxies: Callable[..., FaultProxy], tmp_path: Path) -> None:
    """dvmirror → (TLS, pinned) → proxy → (TLS, verified) → vcsim, with a fault still injected."""
    import shutil
    import ssl

    from tui.backends._tls import server_thumbprint

    if shutil.which("openssl") is None:
        from tests.integration.conftest import _unavailable

        _unavailable("openssl is not installed, so no certificate can be made for the proxy")
    key, cert = tmp_path / "proxy.key", tmp_path / "proxy.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = vcsim_tls
    downstream = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    downstream.load_cert_chain(cert, key)
    upstream = ssl.create_default_context(cafile=server.cert)
    proxy = FaultProxy((server.host, server.port), upstream_tls=upstream, server_tls=downstream, lifetime=60)
    try:
        proxy.add(Fault("FetchDVPorts", "cut_mid", at_byte=3000))
        pin = server_thumbprint("127.0.0.1", proxy.port)
        assert pin and pin != server.thumbprint
        backend = VsphereBackend(settings_via(proxy, server, thumbprint=pin))
        try:
            inventory = backend.load()
        finally:
            backend.close()
        assert len(inventory.ports) == 437
        assert proxy.url().startswith("https://") and proxy.fired == [("FetchDVPorts", "cut_mid")]
        assert proxy.calls["FetchDVPorts"] == 4  # two switches read at once, both read again after the cut
    finally:
        proxy.stop()
