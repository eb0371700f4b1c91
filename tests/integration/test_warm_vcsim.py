"""The warm start against the vcsim test server (tui/warm.py): the second CLI run reuses the
session (counted on the wire, through the fault proxy), a stale, corrupt or readable-by-others
session file falls back to a login, ``find`` answers from a fresh inventory cache without a
request, and a change is never made on the strength of the cache."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.faultproxy import FaultProxy
from tests.helpers import run_cli
from tests.integration.test_fault_matrix import settings_via, state
from tui.backends import StaleSwitch
from tui.backends.vsphere import VsphereBackend
from tui.config import Settings
from tui.model import SessionChange
from tui.warm import InventoryCache

pytestmark = pytest.mark.vcsim


@pytest.fixture(autouse=True)
def _warm(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the warm start: turn it on (tests/conftest.py turns it off)."""
    monkeypatch.delenv("DVMIRROR_CACHE", raising=False)


@pytest.fixture
def proxies() -> Iterator[Callable[..., FaultProxy]]:
    made: list[FaultProxy] = []

    def make(server: Any) -> FaultProxy:
        proxy = FaultProxy((server.host, server.port), lifetime=120)
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.stop()


def flags(proxy: FaultProxy, server: Any, *, password: bool = True) -> list[str]:
    return ["--server", proxy.url(), "--user", server.user] + (["--password", server.password] if password else [])


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code, out, err = run_cli(capsys, *argv)
    return code, (json.loads(out) if out.strip() else None), err


def session_files() -> list[Path]:
    folder = Path(os.environ["XDG_CACHE_HOME"]) / "dvmirror" / "sessions"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_the_second_run_reuses_the_session(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim()
    proxy = proxies(server)
    code, first, err = cli(capsys, "ports", "--fresh", "--json", *flags(proxy, server))
    assert code == 0, err
    assert proxy.calls["Login"] == 1 and proxy.calls["Logout"] == 0, "the session is kept, not ended"
    [path] = session_files()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert server.password not in path.read_text()
    before = dict(proxy.calls)
    code, second, err = cli(capsys, "ports", "--fresh", "--json", *flags(proxy, server))
    assert code == 0, err
    assert second == first
    assert proxy.calls["Login"] == 1, "no second login"
    assert proxy.calls["Logout"] == 0
    # neither vimServiceVersions.xml nor Login: RetrieveServiceContent and currentSession verify it
    assert proxy.calls["RetrieveServiceContent"] == before["RetrieveServiceContent"] + 1


def test_a_script_without_the_password_runs_on_the_saved_session(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim()
    proxy = proxies(server)
    code, _, err = cli(capsys, "ports", "--fresh", "--json", *flags(proxy, server, password=False))
    assert code == 3 and "no password for" in err, "no saved session yet: a password is needed"
    assert proxy.calls["Login"] == 0
    assert cli(capsys, "ports", "--fresh", "--json", *flags(proxy, server))[0] == 0
    code, rows, err = cli(capsys, "ports", "--fresh", "--json", *flags(proxy, server, password=False))
    assert code == 0, err
    assert len(rows) == 437 and proxy.calls["Login"] == 1


def test_an_expired_session_falls_back_to_a_login(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim(session_idle=1)
    proxy = proxies(server)
    assert cli(capsys, "ports", "--fresh", "--json", *flags(proxy, server))[0] == 0
    old = json.loads(session_files()[0].read_text())["session"]
    time.sleep(2.5)  # vcsim forgets the idle session
    code, rows, err = cli(capsys, "ports", "--fresh", "--json", *flags(proxy, server))
    assert code == 0, err
    assert len(rows) == 437
    assert proxy.calls["Login"] == 2, "logged in afresh"
    new = json.loads(session_files()[0].read_text())["session"]
    assert new != old, "the new session is saved"
    # and without a password, the stale session is a clear login failure, not a traceback
    time.sleep(2.5)
    code, rows, err = cli(capsys, "ports", "--fresh", "--json", *flags(proxy, server, password=False))
    assert code == 3 and rows is None and "no password for" in err and "Traceback" not in err


def test_a_session_ended_by_an_administrator_falls_back_to_a_login(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim()
    proxy = proxies(server)
    assert cli(capsys, "ports", "--fresh", "--json", *flags(proxy, server))[0] == 0
    saved = json.loads(session_files()[0].read_text())["session"]
    server.connect().content.sessionManager.TerminateSession([saved])
    code, _, err = cli(capsys, "ports", "--fresh", "--json", *flags(proxy, server))
    assert code == 0, err
    assert proxy.calls["Login"] == 2


@pytest.mark.parametrize("damage", ["garbage", "readable by others", "planted session id", "unknown session"])
def test_a_bad_session_file_is_ignored(
    start_vcsim: Callable[..., Any],
    proxies: Callable[..., FaultProxy],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    damage: str,
) -> None:
    server = start_vcsim()
    proxy = proxies(server)
    assert cli(capsys, "ports", "--fresh", "--json", *flags(proxy, server))[0] == 0
    [path] = session_files()
    record = json.loads(path.read_text())
    if damage == "garbage":
        path.write_bytes(b"\x00\xffnot json")
    elif damage == "readable by others":
        path.chmod(0o644)
    elif damage == "planted session id":
        path.write_text(json.dumps({**record, "session": 'x"\r\nX-Evil: 1'}))
    else:  # a well-formed id vCenter never gave out
        path.write_text(json.dumps({**record, "session": "52000000-0000-0000-0000-000000000000"}))
    monkeypatch.setenv("DVMIRROR_DEBUG", "1")
    code, rows, err = cli(capsys, "ports", "--fresh", "--json", *flags(proxy, server))
    assert code == 0 and len(rows) == 437, err
    assert "Traceback" not in err
    assert proxy.calls["Login"] == 2, "logged in afresh"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "written again, private"
    assert "X-Evil" not in "".join(proxy.log)
    expected = {
        "garbage": "not a dvmirror session file",
        "readable by others": "has mode 0644: others may read it",
        "planted session id": "the session id holds characters",
        "unknown session": "vCenter no longer has it",
    }[damage]
    assert "dvmirror: debug: " in err and expected in err


def test_find_answers_from_a_fresh_cache_without_a_request(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim()
    proxy = proxies(server)
    code, live, err = cli(capsys, "find", "MGTSRVR003UX", "--json", *flags(proxy, server))
    assert code == 0, err
    assert "from the cache" not in err and all("cache" not in r for r in live)
    requests = sum(proxy.calls.values())
    code, warm, err = cli(capsys, "find", "MGTSRVR003UX", "--json", *flags(proxy, server))
    assert code == 0, err
    assert sum(proxy.calls.values()) == requests, "not one request: answered from the cache"
    assert "from the cache of" in err and "s old" in err and "--fresh reads vCenter" in err
    assert [{k: v for k, v in r.items() if k != "cache"} for r in warm] == live, "the same rows"
    assert all(r["cache"]["age_seconds"] < 30 and r["cache"]["saved"].endswith("Z") for r in warm)
    code, demo, _ = cli(capsys, "find", "MGTSRVR003UX", "--json", "--demo")
    assert demo == live
    code, table_rows, err = run_cli(capsys, "find", "MGTSRVR003UX", *flags(proxy, server))
    assert code == 0 and "2258" in table_rows and "from the cache of" in err
    # the same for ports, which may also answer from the cache
    code, ports, err = cli(capsys, "ports", "--json", "--portgroup", "dvPgMirror", *flags(proxy, server))
    assert code == 0 and ports and all("cache" in r for r in ports)
    assert sum(proxy.calls.values()) == requests


def test_fresh_and_max_age_read_vcenter(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim()
    proxy = proxies(server)
    assert cli(capsys, "find", "F5-LTM01", "--json", *flags(proxy, server))[0] == 0
    loads = proxy.calls["FetchDVPorts"]
    code, rows, err = cli(capsys, "find", "F5-LTM01", "--json", "--fresh", *flags(proxy, server))
    assert code == 0 and proxy.calls["FetchDVPorts"] > loads and "from the cache" not in err
    assert all("cache" not in r for r in rows)
    loads = proxy.calls["FetchDVPorts"]
    time.sleep(1.2)
    code, rows, err = cli(capsys, "find", "F5-LTM01", "--json", "--max-age", "1s", *flags(proxy, server))
    assert code == 0 and proxy.calls["FetchDVPorts"] > loads, "older than --max-age: read again"
    for bad, message in (
        (["--max-age", "soon"], "'soon' is not a duration"),
        (["--max-age", "5m", "--fresh"], "not allowed with"),
    ):
        with pytest.raises(SystemExit) as exit_:
            run_cli(capsys, "find", "x", *bad, *flags(proxy, server))
        assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_a_change_made_by_the_cli_is_seen_by_the_next_find(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim()
    proxy = proxies(server)
    code, before, err = cli(capsys, "ports", "--json", "-o", "wide", *flags(proxy, server))
    assert code == 0, err
    code, result, err = cli(
        capsys,
        "session",
        "create",
        "--switch",
        "dvSwitchCloud",
        "--name",
        "Warm-Check",
        "--source",
        "448",
        "--dest",
        "2258",
        "--json",
        *flags(proxy, server),
    )
    assert code == 0 and result["ok"] is True, err
    assert not InventoryCache().path(_settings(proxy, server)).exists(), "the change dropped the cache"
    code, _, err = run_cli(capsys, "find", "448", "-o", "wide", *flags(proxy, server))
    assert code == 0 and "Warm-Check" in _, "the next find reads vCenter again"
    assert "from the cache" not in err


def test_sessions_check_never_answers_from_the_cache(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim()
    proxy = proxies(server)
    assert cli(capsys, "find", "F5-LTM01", "--json", *flags(proxy, server))[0] == 0
    loads = proxy.calls["FetchDVPorts"]
    code, _, err = run_cli(capsys, "sessions", "--check", *flags(proxy, server))
    assert proxy.calls["FetchDVPorts"] > loads, "monitoring sees vCenter as it is now"
    assert "from the cache" not in err and "Traceback" not in err


def _settings(proxy: FaultProxy, server: Any) -> Settings:
    return settings_via(proxy, server)


def test_an_apply_from_a_cached_inventory_reads_the_switch_again(
    start_vcsim: Callable[..., Any], proxies: Callable[..., FaultProxy]
) -> None:
    """The cache is never the truth for a change: apply re-reads the switch's configVersion, and a
    switch changed since the cached inventory was loaded is refused with nothing sent."""
    from tui.mirror_session import ChangeOperation, MirrorSession, VspanPorts

    server = start_vcsim()
    proxy = proxies(server)
    settings = _settings(proxy, server)
    cache = InventoryCache()
    live = VsphereBackend(settings)
    try:
        cache.save(settings, live.load())
    finally:
        live.close()
    cached = cache.load(settings, 300)
    assert cached is not None
    switch = cached.inventory.switch_by_name("dvSwitchCloud")
    assert switch is not None
    key = switch.key

    def create(name: str, source: str = "448", destination: str = "2258") -> SessionChange:
        ports = VspanPorts(port_keys=(source,))
        session = MirrorSession(
            name=name, source_tx=ports, source_rx=ports, destination=VspanPorts(port_keys=(destination,))
        )
        return SessionChange(ChangeOperation.ADD, session)

    # another client changes the switch after the cache was written
    version, _ = state(server)
    other = VsphereBackend(replace(settings))
    try:
        other.apply(other.load(), key, [create("Someone-Else", "449", "502")])
    finally:
        other.close()
    assert int(state(server)[0]) == int(version) + 1
    backend = VsphereBackend(settings)
    try:
        sent = proxy.calls["ReconfigureDvs_Task"]
        with pytest.raises(StaleSwitch) as err:
            backend.apply(cached.inventory, key, [create("From-The-Cache")])
        assert "nothing was sent" in err.value.message
        assert proxy.calls["ReconfigureDvs_Task"] == sent, "nothing sent"
        assert "From-The-Cache" not in state(server)[1].values()
        # unchanged since it was read: the apply still reads the switch before sending
        fresh = backend.load()
        cache.save(settings, fresh)
        recached = cache.load(settings, 300)
        assert recached is not None
        log_at = len(proxy.log)
        backend.apply(recached.inventory, key, [create("From-The-Cache")])
        after = proxy.log[log_at:]
        assert "ReconfigureDvs_Task" in after
        assert "RetrievePropertiesEx" in after[: after.index("ReconfigureDvs_Task")], "re-read before sending"
        assert "From-The-Cache" in state(server)[1].values()
    finally:
        backend.close()


async def test_the_tui_shows_the_cached_tree_at_once_then_the_live_one(start_vcsim: Callable[..., Any]) -> None:
    """The tree of the last run is there before vCenter answers (the header says "cached, as of"),
    then the live inventory replaces it with the cursor where it was; the TUI keeps the cache."""
    from tests.integration.test_vsphere_backend import settings_for
    from tui.app import build_app
    from widgets.app_header import AppHeader
    from widgets.inventory_tree import InventoryTree

    server = start_vcsim(delay=150)  # every call takes 150 ms: the load takes seconds
    settings = settings_for(server)
    cache = InventoryCache()
    seen = VsphereBackend(settings)
    try:
        first = seen.load()
    finally:
        seen.close()
    cache.save(settings, first, saved=time.time() - 120)
    app = build_app(VsphereBackend(settings, inventory_cache=cache), environ={})
    async with app.run_test(size=(120, 40)) as pilot:
        started = time.monotonic()
        while app.inventory is None and time.monotonic() - started < 10:
            await pilot.pause(0.05)
        assert app.inventory is not None and app.partial, "the cached tree, while the load runs"
        assert time.monotonic() - started < 2
        assert app.live_label.startswith("cached, as of ")
        header = app.screen.query_one(AppHeader)
        assert header.live.startswith("cached, as of ")
        assert len(app.inventory.ports) == len(first.ports), "the whole cached inventory"
        tree = app.screen.query_one(InventoryTree)
        await pilot.pause(0.1)
        await pilot.press("down", "down")
        await pilot.pause(0.1)
        assert tree.cursor_node is not None
        label = str(tree.cursor_node.label)
        while app.partial and time.monotonic() - started < 60:
            await pilot.pause(0.1)
        assert not app.partial and app.inventory is not first
        assert not app.live_label.startswith("cached")
        await pilot.pause(0.2)
        assert tree.cursor_node is not None and str(tree.cursor_node.label) == label, "the cursor stayed"
        app.backend.close()
    again = cache.load(settings, 300)
    assert again is not None and again.age < 60, "the live load was cached for the next start"
