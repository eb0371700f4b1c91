"""Sessions that drift, in the app: a new complete inventory (a reload; live updates post the same
InventoryLoaded) is checked against the baselines; the sessions screen and the port detail panel
show the problems, and each new one is a notification, once."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import DataTable, Static

from tests.conftest import CLOUD
from tests.helpers import notifications, started
from tests.tui.conftest import demo_app, settle
from tests.tui.test_explorer import plain
from tests.unit.test_drift import _vmotion
from tui.messages import InventoryLoaded
from tui.model import ChangeOperation, SessionChange, Severity
from tui.screens.explorer import ExplorerScreen
from tui.screens.sessions import SessionsScreen
from widgets.port_detail import PortDetail

IDS = "vm-1003"  # IDS-SENSOR01, the destination (port 2241) of DMZ-IDS, on esx-03 with source 448


async def test_a_vmotion_shows_in_the_sessions_screen_and_is_notified_once() -> None:
    app = demo_app()
    async with started(app) as pilot:
        assert [p.code for p in app.session_problems[(CLOUD, "1")]] == ["CrossHostMirror"]
        shown = notifications(app)
        assert app.inventory is not None
        moved = _vmotion(app.inventory, IDS, "host-11")
        app.post_message(InventoryLoaded(moved))
        await settle(pilot)
        codes = [p.code for p in app.session_problems[(CLOUD, "1")]]
        assert codes == ["EndpointHostChanged", "CrossHostMirror"]
        drift_notes = [m for m in shown if m.startswith("Session DMZ-IDS: ")]
        assert drift_notes == [  # one vMotion, one notification (it names CrossHostMirror)
            "Session DMZ-IDS: Destination IDS-SENSOR01 (port 2241) moved to host esx-01 (from esx-03: a vMotion) "
            "since the session was first seen; Distributed Port Mirroring now mirrors nothing between these ports "
            "(CrossHostMirror)."
        ]
        # The same inventory again (the next update): nothing new, nothing said.
        app.post_message(InventoryLoaded(moved))
        await settle(pilot)
        assert [m for m in shown if m.startswith("Session ")] == drift_notes

        await pilot.press("S")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        table = screen.query_one("#sessions-table", DataTable)
        assert str(table.get_row_at(0)[-1]) == "2"
        info = plain(screen.query_one("#session-info", Static))  # type: ignore[arg-type]
        assert "moved to host esx-01" in info and "EndpointHostChanged" in info and "CrossHostMirror" in info

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ExplorerScreen)
        await pilot.press("slash", *"2241", "enter")
        await settle(pilot)
        assert app.screen.current_port is not None and app.screen.current_port.key == "2241"
        text = plain(app.screen.query_one(PortDetail))
        assert "DMZ-IDS" in text and "moved to host esx-01" in text and "EndpointHostChanged" in text


async def test_a_partial_inventory_is_not_checked() -> None:
    app = demo_app()
    async with started(app) as pilot:
        before = app.session_problems
        assert app.inventory is not None
        app.post_message(InventoryLoaded(_vmotion(app.inventory, IDS, "host-11"), partial=True))
        await settle(pilot)
        assert app.session_problems is before


async def test_a_change_made_here_resets_the_baseline_one_by_another_client_is_a_note() -> None:
    app = demo_app()
    async with started(app) as pilot:
        shown = notifications(app)
        assert app.inventory is not None
        dmz = app.inventory.switches[CLOUD].session("1")
        assert dmz is not None
        app.apply_changes(CLOUD, [SessionChange(ChangeOperation.EDIT, replace(dmz, name="DMZ-IDS2"))])
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert [p.code for p in app.session_problems[(CLOUD, "1")]] == ["CrossHostMirror"]
        # Renamed by someone else: the next inventory brings it; one info note, no notification.
        inv = app.inventory
        sw = inv.switches[CLOUD]
        renamed = tuple(replace(s, name="DMZ-IDS3") if s.key == "1" else s for s in sw.sessions)
        app.post_message(InventoryLoaded(inv.with_switch(replace(sw, sessions=renamed))))
        await settle(pilot)
        problems = app.session_problems[(CLOUD, "1")]
        assert [(p.code, p.severity) for p in problems] == [
            ("CrossHostMirror", Severity.WARNING),
            ("SessionChanged", Severity.INFO),
        ]
        assert not [m for m in shown if m.startswith("Session ")]


async def test_the_sessions_screen_heads_each_severity_apart() -> None:
    """A note (info: SessionChanged) is under "Notes", not under "Warnings" with the session's warnings."""
    app = demo_app()
    async with started(app) as pilot:
        inv = app.inventory
        assert inv is not None
        sw = inv.switches[CLOUD]
        renamed = tuple(replace(s, name="DMZ-IDS3") if s.key == "1" else s for s in sw.sessions)
        app.post_message(InventoryLoaded(inv.with_switch(replace(sw, sessions=renamed))))
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        info = plain(screen.query_one("#session-info", Static))  # type: ignore[arg-type]
        lines = info.splitlines()
        assert "Warnings" in lines and "Notes" in lines
        warnings = lines[lines.index("Warnings") + 1 : lines.index("Notes")]
        notes = lines[lines.index("Notes") + 1 :]
        assert "CrossHostMirror" in " ".join(warnings) and "SessionChanged" not in " ".join(warnings)
        assert notes[0].startswith("i ") and "SessionChanged" in " ".join(notes)
        table = screen.query_one("#sessions-table", DataTable)
        assert str(table.get_row_at(0)[-1]) == "1", "the Warn column counts warnings, not notes"
