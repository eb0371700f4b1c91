"""Contexts against two vcsim servers, one of them stopped: ``dvmirror contexts`` and
``dvmirror find TERM --all`` (each answer labelled with its context; the stopped one reported
without holding up the other; the exit codes of tui/cli_contexts.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli as run

pytestmark = pytest.mark.vcsim


def write_config(path: Path, servers: dict[str, Any], default: str = "") -> Path:
    """A config.toml with one profile per server (``name = server``)."""
    lines = [f'default_profile = "{default}"'] if default else []
    for name, server in servers.items():
        lines += [f'[profiles."{name}"]', f'url = "{server.url}"', f'user = "{server.user}"']
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def two_contexts(start_vcsim: Any, tmp_path: Path) -> tuple[Path, Any]:
    """``up`` (a running server on the demo lab) and ``down`` (a server that was stopped)."""
    up, down = start_vcsim(), start_vcsim()
    down.stop()
    return write_config(tmp_path / "config.toml", {"up": up, "down": down}, default="up"), up


def test_contexts_lists_the_profiles(two_contexts: tuple[Path, Any], capsys: pytest.CaptureFixture[str]) -> None:
    config, up = two_contexts
    code, out, _ = run(capsys, "contexts", "--config", str(config), "--json")
    rows = json.loads(out)
    assert code == 0
    assert [(r["name"], r["current"], r["default"], r["adhoc"]) for r in rows] == [
        ("up", True, True, False),
        ("down", False, False, False),
    ]
    assert rows[0]["url"] == up.url and rows[0]["user"] == up.user
    # --server names one more, ad hoc, context: the current one; the profiles keep their own url.
    code, out, _ = run(capsys, "contexts", "--config", str(config), "--server", "127.0.0.1:1", "--json")
    rows = json.loads(out)
    assert [(r["name"], r["current"], r["adhoc"]) for r in rows][0] == ("127.0.0.1", True, True)
    assert rows[1]["url"] == up.url and not rows[1]["current"]
    code, out, _ = run(capsys, "contexts", "--config", str(config))
    assert code == 0 and "up" in out and up.url in out and "default" in out


def test_find_all_reports_the_stopped_one(two_contexts: tuple[Path, Any], capsys: pytest.CaptureFixture[str]) -> None:
    config, up = two_contexts
    env = {"DVMIRROR_PASSWORD": up.password}
    started = time.monotonic()
    code, out, err = run(capsys, "find", "MGTSRVR003UX", "--all", "--json", "--config", str(config), environ=env)
    elapsed = time.monotonic() - started
    data = json.loads(out)
    assert code == 0
    assert {r["context"] for r in data["results"]} == {"up"}
    assert {(r["port"], r["vcenter"]) for r in data["results"]} == {("300", "127.0.0.1"), ("2258", "127.0.0.1")}
    assert [(e["context"], e["exit_code"]) for e in data["errors"]] == [("down", 3)]
    assert "nothing is listening" in data["errors"][0]["error"]
    assert "context down:" in err and "Traceback" not in err
    assert elapsed < 30
    # The table: a heading per context, the error on stderr.
    code, out, err = run(capsys, "find", "MGTSRVR003UX", "--all", "--config", str(config), environ=env)
    assert code == 0 and "up (" in out and "2258" in out and "context down:" in err
    # No answer anywhere, but one context searched: 1.
    code, out, _ = run(capsys, "find", "no-such-vm-x", "--all", "--json", "--config", str(config), environ=env)
    assert code == 1 and json.loads(out)["results"] == []


def test_find_all_when_every_context_fails(two_contexts: tuple[Path, Any], capsys: pytest.CaptureFixture[str]) -> None:
    config, up = two_contexts
    # No password anywhere and no terminal: neither is asked for; both are reported.
    code, out, err = run(capsys, "find", "MGTSRVR003UX", "--all", "--json", "--config", str(config))
    data = json.loads(out)
    assert code == 3 and data["results"] == []
    assert sorted(e["context"] for e in data["errors"]) == ["down", "up"]
    assert all("needs a password" in e["error"] and "keyring" in e["hint"] for e in data["errors"])
    # A wrong password: a login failure for up, unreachable for down; both exit 3.
    code, out, err = run(
        capsys, "find", "x", "--all", "--json", "--config", str(config), environ={"DVMIRROR_PASSWORD": "nope"}
    )
    data = json.loads(out)
    assert code == 3 and "nope" not in out + err
    assert {e["context"] for e in data["errors"]} == {"up", "down"}


# -- the TUI: switching contexts and the finder across them ---------------------------------


async def wait_until(pilot: Any, condition: Any) -> None:
    """Let the app run until ``condition()`` holds (a load in a thread, an index), 60 s at most."""
    deadline = time.monotonic() + 60.0
    while not condition() and time.monotonic() < deadline:
        await pilot.pause(0.05)
    assert condition(), "timed out"


@pytest.fixture
def tui_contexts(start_vcsim: Any, tmp_path: Path) -> tuple[Any, Any]:
    """The app on the demo lab (an ad hoc context), with profiles ``edge`` (a vcsim server on the
    portless lab) and ``gone`` (a server that was stopped); ``(app, edge server)``."""
    import argparse

    from tests.labgen import portless_lab
    from tui.__main__ import context_backend
    from tui.app import build_app
    from tui.backends.snapshot import SnapshotBackend
    from tui.contexts import list_contexts

    edge, gone = start_vcsim(lab=portless_lab()), start_vcsim()
    gone.stop()
    config = write_config(tmp_path / "config.toml", {"edge": edge, "gone": gone})
    args = argparse.Namespace(demo=True, config=str(config))
    env = {"DVMIRROR_PASSWORD": edge.password}
    contexts = list_contexts(args, env)
    assert [(c.name, c.current) for c in contexts] == [("demo", True), ("edge", False), ("gone", False)]
    app = build_app(SnapshotBackend(), environ={}, contexts=contexts, context_backend=context_backend(args, env))
    return app, edge


async def test_switching_contexts_keeps_each_inventory(tui_contexts: tuple[Any, Any]) -> None:
    from tests.helpers import started
    from tui.screens.contexts import ContextsScreen
    from widgets.app_header import AppHeader
    from widgets.inventory_tree import InventoryTree

    app, _ = tui_contexts
    async with started(app) as pilot:
        demo = app.inventory
        assert demo is not None and demo.vcenter == "vcsa01.lab.local"
        header = app.explorer.query_one(AppHeader)
        assert "[demo]" in str(header.query_one("#header-left").render())
        await pilot.press("C")
        assert isinstance(app.screen, ContextsScreen)
        await pilot.press("enter")  # the highlight starts on the context after the current one: edge
        await wait_until(pilot, lambda: app.index is not None and app.context_name == "edge")
        assert app.inventory.vcenter == "vcsa-edge.lab.local" and "dvSwitchEdge" in [
            s.name for s in app.inventory.switches.values()
        ]
        tree = app.explorer.query_one(InventoryTree)
        assert tree.inventory is app.inventory
        assert "[edge]" in str(header.query_one("#header-left").render())
        # Back to demo (the palette's "Context: demo"): the same inventory, no second load.
        await pilot.press("ctrl+p")
        await pilot.pause()
        for key in "Context: demo":
            await pilot.press(key if key != " " else "space")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.context_name == "demo")
        assert app.inventory is demo and tree.inventory is demo
        await pilot.press("C", "enter")
        await wait_until(pilot, lambda: app.context_name == "edge" and app.index is not None)
        assert {n: v.loads for n, v in app.views.items()} == {"demo": 1, "edge": 1}
        # The stopped one: its error is shown; the others are still there.
        await pilot.press("C", "enter")  # after edge: gone
        await wait_until(pilot, lambda: app.views["gone"].error is not None)
        await pilot.pause()
        assert "nothing is listening" in app.views["gone"].error.message
        assert app.views["edge"].inventory is not None and app.views["demo"].inventory is demo
        await pilot.press("escape")  # the error dialog: the app stays, on gone, with nothing shown
        await pilot.pause()
        assert app.is_running and app.context_name == "gone" and app.inventory is None
        assert app.views["demo"].inventory is demo and app.views["edge"].loads == 1


async def test_find_across_contexts_with_one_stopped(tui_contexts: tuple[Any, Any]) -> None:
    from textual.widgets import OptionList

    from tests.helpers import started, type_text
    from tui.screens.find import FindScreen

    app, _ = tui_contexts
    async with started(app) as pilot:
        await pilot.press("slash")
        finder = app.screen
        assert isinstance(finder, FindScreen)
        await type_text(pilot, "01")
        assert set(finder.hit_contexts) == {""}  # only the context shown
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: "edge" in finder.hit_contexts and any(s.error for s in finder.scopes))
        assert {"demo", "edge"} <= set(finder.hit_contexts)
        gone = next(s for s in finder.scopes if s.name == "gone")
        assert gone.state == "failed" and "nothing is listening" in gone.error
        status = str(finder.query_one("#find-status").render())
        assert "gone: nothing is listening" in status
        # Choosing a result of edge switches to it and goes to the port.
        pairs = enumerate(zip(finder.hit_contexts, finder.hits, strict=True))
        n = next(i for i, (c, h) in pairs if c == "edge" and h.port)
        target = finder.hits[n].target
        finder.query_one("#find-results", OptionList).highlighted = n
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.context_name == "edge" and app.explorer.current_port is not None)
        assert app.explorer.current_port == target
        assert app.views["edge"].loads == 1


async def test_a_context_needing_a_password_met_in_the_finder_asks_when_switched_to(
    start_vcsim: Any, tmp_path: Path
) -> None:
    """The finder's ctrl+t never asks in the background: the context is named as needing a password (not
    an error), and switching to it asks for the password at once (no error first), then loads it."""
    import argparse

    from tests.helpers import started, type_text
    from tui.__main__ import context_backend
    from tui.app import build_app
    from tui.backends.snapshot import SnapshotBackend
    from tui.contexts import list_contexts
    from tui.screens.connect import PasswordScreen
    from tui.screens.find import FindScreen

    edge = start_vcsim()
    config = write_config(tmp_path / "config.toml", {"edge": edge})
    args = argparse.Namespace(demo=True, config=str(config))
    contexts = list_contexts(args, {})  # no password anywhere
    app = build_app(SnapshotBackend(), environ={}, contexts=contexts, context_backend=context_backend(args, {}))
    async with started(app) as pilot:
        await pilot.press("slash")
        finder = app.screen
        assert isinstance(finder, FindScreen)
        await type_text(pilot, "01")
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: any(s.name == "edge" and s.state != "not loaded" for s in finder.scopes))
        scope = next(s for s in finder.scopes if s.name == "edge")
        assert (scope.state, scope.error) == ("needs a password", "")
        assert app.views["edge"].error is None and not app.views["edge"].loading
        status = str(finder.query_one("#find-status").render())
        assert "edge: needs a password" in status and "not searched; C asks for it" in status
        assert set(finder.hit_contexts) == {"demo"}
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("C", "enter")  # the context after the current one: edge
        await wait_until(pilot, lambda: isinstance(app.screen, PasswordScreen))
        await type_text(pilot, edge.password)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.context_name == "edge" and app.index is not None)
        assert app.inventory is not None and app.views["edge"].loads == 1
