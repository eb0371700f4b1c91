"""The history screen (``h`` in the sessions screen) on the demo lab: this run's changes, newest
first, dvmirror's marked; enter selects the session in the sessions screen; esc closes."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from tests.conftest import CLOUD
from tests.helpers import started
from tests.tui.conftest import demo_app, settle
from tui.app import DvMirrorApp
from tui.model import ChangeOperation, SessionChange
from tui.screens.history import HistoryScreen
from tui.screens.sessions import SessionsScreen


def cells(table: DataTable[object]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
async def test_h_shows_this_runs_changes_and_enter_selects_the_session(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        assert isinstance(app, DvMirrorApp) and app.inventory is not None
        first, second = sorted(app.inventory.switches[CLOUD].sessions, key=lambda s: s.key or "")[:2]
        for s in (first, second):
            app.apply_changes(CLOUD, [SessionChange(ChangeOperation.EDIT, s.with_changes(enabled=not s.enabled))])
            await app.workers.wait_for_complete()
            await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        sessions = app.screen
        assert isinstance(sessions, SessionsScreen) and sessions.current is not None
        assert sessions.current.key == first.key
        await pilot.press("h")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        rows = cells(screen.query_one("#history-table", DataTable))
        assert [(r[2], r[3], r[5]) for r in rows] == [
            ("edit", f"{second.key} · {second.name}", "dvmirror"),  # newest first
            ("edit", f"{first.key} · {first.name}", "dvmirror"),
        ]
        on, off = str(second.enabled).lower(), str(not second.enabled).lower()
        assert rows[0][4] == f"enabled: {on} → {off}"
        status = str(screen.query_one("#history-status", Static).render())
        assert "2 changes since" in status and "no vCenter events" in status
        await pilot.press("enter")  # the newest: the second session
        await settle(pilot)
        assert app.screen is sessions
        assert isinstance(sessions, SessionsScreen) and sessions.current is not None
        assert sessions.current.key == second.key
        await pilot.press("h")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is sessions
        assert isinstance(sessions, SessionsScreen) and sessions.current is not None
        assert sessions.current.key == second.key


async def test_history_is_empty_before_any_change() -> None:
    app = demo_app()
    async with started(app) as pilot:
        await pilot.press("S")
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HistoryScreen) and screen.entries == ()
        assert "No mirror session changes since" in str(screen.query_one("#history-status", Static).render())
