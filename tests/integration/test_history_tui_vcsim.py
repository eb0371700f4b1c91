"""The history screen against the vcsim test server: a change made in the app (ours) and one from a
second pyVmomi client (not ours) from vCenter's events; a server gone is said plainly."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import DataTable, Static

from tests.helpers import started
from tests.integration.test_vcsim_updates import add_session, switch
from tests.integration.test_vsphere_backend import settings_for
from tests.tui.conftest import settle
from tui.app import DvMirrorApp, build_app
from tui.backends.vsphere import VsphereBackend
from tui.model import ChangeOperation, SessionChange
from tui.screens.history import HistoryScreen
from tui.screens.sessions import SessionsScreen

pytestmark = pytest.mark.vcsim

CLOUD = "50 36 4e 6c 5b 8f 2e 3d-1a 2b 3c 4d 5e 6f 70 81"


async def test_history_screen_on_vcsim(start_vcsim: Any) -> None:
    server = start_vcsim()
    add_session(switch(server.connect()), "second-client")
    app = build_app(VsphereBackend(settings_for(server)), environ={})
    assert isinstance(app, DvMirrorApp)
    async with started(app) as pilot:
        assert app.inventory is not None
        s = next(x for x in app.inventory.switches[CLOUD].sessions if x.name != "second-client")
        app.apply_changes(CLOUD, [SessionChange(ChangeOperation.EDIT, s.with_changes(enabled=not s.enabled))])
        await app.workers.wait_for_complete()
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
        await pilot.press("h")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HistoryScreen), type(screen).__name__
        table = screen.query_one("#history-table", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert [(r[1], r[2], r[3].split(" · ")[-1], r[5]) for r in rows] == [
            (server.user, "edit", s.name, "dvmirror"),
            (server.user, "add", "second-client", ""),
        ]
        server.stop()
        await pilot.press("r")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        status = str(screen.query_one("#history-status", Static).render())
        assert status.startswith("Could not read the history:") and screen.error
