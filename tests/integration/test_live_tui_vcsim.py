"""Live updates in the app (issue 11 item 1) against the vcsim test server: the tree and the sessions
screen follow another client's changes in place, keeping the cursor, open nodes and marks; the header
says ``live``; ``--no-live`` makes no ``WaitForUpdatesEx`` at all; quitting does not wait for a
pending one.
"""

from __future__ import annotations

import asyncio
import http.client
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

pytest.importorskip("pyVmomi")

from pyVim.task import WaitForTask  # noqa: E402
from pyVmomi import vim  # noqa: E402
from textual.pilot import Pilot  # noqa: E402
from textual.widgets import DataTable, Label  # noqa: E402

from tests.helpers import started, type_text  # noqa: E402
from tests.integration.test_vcsim_updates import CLOUD, F5, add_session, find, switch  # noqa: E402
from tests.integration.test_vsphere_backend import settings_for  # noqa: E402
from tests.tui.conftest import settle  # noqa: E402
from tests.tui.test_explorer import explorer  # noqa: E402
from tui.app import build_app  # noqa: E402
from tui.backends.vsphere import VsphereBackend  # noqa: E402
from tui.screens.sessions import SessionsScreen  # noqa: E402
from widgets.inventory_tree import InventoryTree, NodeRef  # noqa: E402
from widgets.port_table import PortTable  # noqa: E402

pytestmark = pytest.mark.vcsim

_METHOD = re.compile(rb"<(?:\w+:)?Body>\s*<(\w+)")


@pytest.fixture
def soap_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SOAP method of every request this process sends from now on (any thread, pyVmomi's and the
    streamed ones alike: both go through ``http.client``), read from the request bodies."""
    calls: list[str] = []
    request = http.client.HTTPConnection.request

    def recorded(conn: Any, method: str, url: str, body: Any = None, *args: Any, **kwargs: Any) -> Any:
        data = body.encode() if isinstance(body, str) else bytes(body or b"")
        found = _METHOD.search(data)
        calls.append(found.group(1).decode() if found else "")
        return request(conn, method, url, body, *args, **kwargs)

    monkeypatch.setattr(http.client.HTTPConnection, "request", recorded)
    return calls


async def until(pilot: Pilot[Any], done: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await pilot.pause(0.1)
        if done():
            await settle(pilot)
            return
    raise AssertionError(f"not within {seconds} s")


def header(screen: Any) -> str:
    return str(screen.query_one("#header-right", Label).render())


def labels(tree: InventoryTree) -> list[str]:
    out, stack = [], [tree.root]
    while stack:
        node = stack.pop()
        out.append(str(node.label))
        stack.extend(node.children)
    return out


def opened(tree: InventoryTree) -> set[NodeRef]:
    return tree._expanded()


async def test_the_tree_follows_a_rename_keeping_cursor_open_nodes_and_marks(start_vcsim: Any) -> None:
    server = start_vcsim()
    app = build_app(VsphereBackend(settings_for(server)), environ={})
    async with started(app) as pilot:
        screen = explorer(app)
        await until(pilot, lambda: "live" in header(screen))
        await pilot.press("slash")
        await type_text(pilot, "F5-LTM01/Network adapter 2")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.current_port is not None and screen.current_port.key == "448"
        await pilot.press("s")  # mark 448 as a source
        await settle(pilot)
        tree = screen.query_one(InventoryTree)
        tree.focus()
        await settle(pilot)
        cursor = tree.cursor_node.data if tree.cursor_node else None
        before_open, marks, inv = opened(tree), screen.marks, app.inventory
        assert marks.sources and cursor is not None and before_open
        WaitForTask(find(server.connect(), vim.VirtualMachine, F5).Rename_Task("F5-LTM01-live"))
        await until(pilot, lambda: app.inventory is not None and app.inventory.vms[F5].name == "F5-LTM01-live")
        assert app.inventory is not inv
        assert (tree.cursor_node.data if tree.cursor_node else None) == cursor
        assert opened(tree) == before_open
        assert screen.marks == marks
        assert screen.current_port is not None and screen.current_port.key == "448"
        table = screen.query_one("#ports", PortTable)
        assert table.ports[table.cursor_row].key == "448", "the port table's cursor stays on the port"
        assert any("F5-LTM01-live" in label for label in labels(tree)), "the renamed VM is shown"
        assert "live" in header(screen)
    live = [t for t in threading.enumerate() if t.name == "dvmirror-live"]
    for t in live:
        await asyncio.to_thread(t.join, 3)
    assert not any(t.is_alive() for t in live), "the channel ends with the app"


async def test_the_sessions_screen_follows_another_clients_session(start_vcsim: Any) -> None:
    server = start_vcsim()
    app = build_app(VsphereBackend(settings_for(server)), environ={})
    async with started(app) as pilot:
        await until(pilot, lambda: "live" in header(explorer(app)))
        app.push_screen(SessionsScreen(CLOUD))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        table = screen.query_one("#sessions-table", DataTable)
        rows = table.row_count
        assert rows >= 2
        table.move_cursor(row=1)
        await settle(pilot)
        selected = screen.current
        assert selected is not None
        add_session(switch(server.connect()), "0-from-another-client")
        await until(pilot, lambda: table.row_count == rows + 1)
        assert screen.current is not None and screen.current.key == selected.key, "the selected row stays"
        assert "0-from-another-client" in [s.name for s in screen.sessions]
        assert "live" in header(screen)


async def test_no_live_makes_no_update_calls_and_says_as_of(start_vcsim: Any, soap_calls: list[str]) -> None:
    server = start_vcsim()
    backend = VsphereBackend(replace(settings_for(server), live=False))
    app = build_app(backend, environ={})
    async with started(app) as pilot:
        await settle(pilot)
        await pilot.pause(1.5)
        assert "RetrievePropertiesEx" in soap_calls, "the load's requests are seen"
        assert "WaitForUpdatesEx" not in soap_calls and "CreatePropertyCollector" not in soap_calls, "no channel"
        assert "as of " in header(explorer(app))
        WaitForTask(find(server.connect(), vim.VirtualMachine, F5).Rename_Task("unseen"))
        await pilot.pause(2)
        assert app.inventory is not None and app.inventory.vms[F5].name == "F5-LTM01"


async def test_quitting_does_not_wait_for_a_pending_wait(start_vcsim: Any, soap_calls: list[str]) -> None:
    server = start_vcsim()
    backend = VsphereBackend(settings_for(server))
    app = build_app(backend, environ={})
    before = set(threading.enumerate())
    async with started(app) as pilot:
        await until(pilot, lambda: "live" in header(explorer(app)))
        await pilot.pause(0.3)  # a WaitForUpdatesEx is pending
        assert "WaitForUpdatesEx" in soap_calls
        (live,) = [t for t in threading.enumerate() if t.name == "dvmirror-live" and t not in before]
        started_at = time.monotonic()
        await pilot.press("q")
    assert time.monotonic() - started_at < 1.0
    await asyncio.to_thread(live.join, 3)
    assert not live.is_alive()
    assert "DestroyPropertyCollector" in soap_calls, "the channel ended and dropped its collector"
