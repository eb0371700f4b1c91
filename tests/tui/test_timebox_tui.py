"""Time-boxed sessions in the app, on the demo lab: the wizard's *Expires after* field writes the
expiry, the sessions screen shows the time left, an expired session is said once, and E disables it."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import DataTable, Static

from tests.conftest import CLOUD
from tests.helpers import notifications, started
from tests.tui.conftest import demo_app, settle
from tui import timebox
from tui.app import DvMirrorApp
from tui.model import ChangeOperation, SessionChange
from tui.screens.confirm import ConfirmScreen
from tui.screens.sessions import SessionsScreen
from tui.screens.wizard import SessionWizard
from widgets.safe_input import SafeInput


async def test_wizard_writes_the_expiry_and_e_disables_expired_sessions() -> None:
    app = demo_app()
    said = notifications(app)
    async with started(app) as pilot:
        assert isinstance(app, DvMirrorApp) and app.inventory is not None
        first = min(app.inventory.switches[CLOUD].sessions, key=lambda s: s.key or "")
        await pilot.press("S")
        await settle(pilot)
        sessions = app.screen
        assert isinstance(sessions, SessionsScreen) and sessions.current is not None
        assert sessions.current.key == first.key
        await pilot.press("e")
        await settle(pilot)
        wizard = app.screen
        assert isinstance(wizard, SessionWizard)
        wizard.query_one("#expires", SafeInput).value = "2h"
        await settle(pilot)
        hint = str(wizard.query_one("#expires-hint", Static).render())
        assert "UTC (2 h left)" in hint or "UTC (1 h 59 min left)" in hint
        assert wizard.built.session.description.startswith(first.description + " [dvmirror: expires ")
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.click("#apply")
        await app.workers.wait_for_complete()
        await settle(pilot)
        stored = app.inventory.switches[CLOUD].session(first.key or "")
        assert stored is not None and timebox.expiry(stored) is not None
        left = timebox.left(stored, timebox.now_utc())
        assert left is not None and timedelta(minutes=119) < left <= timedelta(minutes=121)
        # Time passes: the session is edited to have expired an hour ago (as another client could).
        past = timebox.with_expiry(stored, timebox.now_utc() - timedelta(hours=1))
        app.apply_changes(CLOUD, [SessionChange(ChangeOperation.EDIT, past)])
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert app.screen is sessions
        assert sum("past its time box" in n for n in said) == 1
        table = sessions.query_one("#sessions-table", DataTable)
        assert str(table.get_row_at(0)[3]).startswith("enabled · expired")
        await pilot.press("E")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"Disable 1 session on dvSwitchCloud whose time box has passed: {first.key}" in str(
            app.screen.query_one("#confirm-question", Static).render()
        )
        await pilot.press("tab", "enter")  # Disable
        await app.workers.wait_for_complete()
        await settle(pilot)
        after = app.inventory.switches[CLOUD].session(first.key or "")
        assert after is not None and after.enabled is False
        assert str(table.get_row_at(0)[3]).startswith("disabled · expired")
        await pilot.press("E")  # nothing left to do
        await settle(pilot)
        assert app.screen is sessions and any("No enabled session on dvSwitchCloud has expired" in n for n in said)
        assert sum("past its time box" in n for n in said) == 1  # said once
