"""Verify in the TUI against the vcsim test server (issue 10, "Done when"): the walkthrough's session
created through the wizard, verified from the offer that follows Create, mirrors with rates read
from vCenter's counters (RefreshDVPortState + FetchDVPorts); disabled with space in the sessions
screen, ``v`` says it is not delivered and why; a destination told to drop is "delivered but
dropped"."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from tests.helpers import WALKTHROUGH, started
from tests.integration.test_vsphere_backend import settings_for
from tests.tui.conftest import settle
from tests.tui.wizard_helpers import fill_walkthrough, mark_walkthrough, tick, type_into
from tui.app import DvMirrorApp, build_app
from tui.backends.vsphere import VsphereBackend
from tui.screens.sessions import SessionsScreen
from tui.screens.verify import VerifyOfferScreen, VerifyScreen
from tui.verify import Verdict, VerifyResult

pytestmark = pytest.mark.vcsim


async def create_and_verify(pilot: Pilot[None], form: str) -> VerifyResult:
    """The walkthrough's session through the wizard, then "Verify now" in the offer; the verdict."""
    app = pilot.app
    await mark_walkthrough(pilot)
    if form == "legacy":
        await fill_walkthrough(pilot)
    else:
        await type_into(pilot, "name", WALKTHROUGH.name)
        await tick(pilot, "length-on")
        await type_into(pilot, "length", "60")
    await pilot.press("ctrl+r")
    await settle(pilot)
    await pilot.press("enter")  # Create
    await app.workers.wait_for_complete()
    await settle(pilot)
    assert isinstance(app.screen, VerifyOfferScreen), type(app.screen).__name__
    await pilot.press("enter")  # Verify now
    await settle(pilot)
    await app.workers.wait_for_complete()
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, VerifyScreen), type(screen).__name__
    assert screen.result is not None, screen.error
    return screen.result


@pytest.mark.parametrize("form", ["modern", "legacy"])
async def test_walkthrough_mirrors_on_vcsim_and_not_once_disabled(start_vcsim: Any, form: str) -> None:
    server = start_vcsim()
    app = build_app(VsphereBackend(settings_for(server)), environ={})
    assert isinstance(app, DvMirrorApp)
    app.verify_seconds = 1.0
    async with started(app) as pilot:
        result = await create_and_verify(pilot, form)
        assert result.verdict is Verdict.MIRRORING, (result.summary, result.reasons)
        assert app.inventory is not None and result.session.key is not None
        created = app.inventory.switches[_cloud(app)].session(result.session.key)
        assert created is not None
        assert created == result.session and created.name == WALKTHROUGH.name  # vCenter's, re-read
        [source] = result.sources
        [dest] = result.destinations
        assert (source.key, dest.key) == ("448", "2258")
        # vcsim's rates are the lab's (tests/vcsim/README.md): the source carries traffic both ways and the
        # monitor is sent at least what is mirrored of it (plus its own).
        assert source.mirrored is not None and source.mirrored.pps > 1
        assert dest.mirrored is not None and dest.due is not None
        assert dest.mirrored.pps >= 0.8 * dest.due.pps > 0
        assert "pkt/s" in result.summary
        # Disable it (space), then v: not delivered, and why.
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        sessions = app.screen
        assert isinstance(sessions, SessionsScreen)
        row = [s.key for s in sessions.sessions].index(result.session.key)
        sessions.query_one("#sessions-table", DataTable).move_cursor(row=row)
        await settle(pilot)
        await pilot.press("space")
        await app.workers.wait_for_complete()
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, VerifyScreen) and screen.result is not None, screen
        assert screen.result.session.enabled is False
        assert screen.result.verdict is Verdict.NOT_DELIVERED
        assert screen.result.reasons[0].code == "SessionDisabled"
        app.backend.close()


async def test_a_dropping_destination_on_vcsim(start_vcsim: Any) -> None:
    server = start_vcsim(args=("-drop", "2258=0.5"))
    app = build_app(VsphereBackend(settings_for(server)), environ={})
    assert isinstance(app, DvMirrorApp)
    app.verify_seconds = 1.0
    async with started(app) as pilot:
        result = await create_and_verify(pilot, "modern")
        assert result.verdict is Verdict.DROPPED, (result.summary, result.reasons)
        assert [r.code for r in result.reasons][:1] == ["DestinationDrops"] and result.advice
        app.backend.close()


def _cloud(app: DvMirrorApp) -> str:
    assert app.inventory is not None
    return next(k for k, sw in app.inventory.switches.items() if sw.name == "dvSwitchCloud")
