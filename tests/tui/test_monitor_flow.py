"""The whole walkthrough in the TUI on the demo lab without dvPgMirror (``dvmirror --walkthrough``):
prepare the monitor port (P on MGTSRVR003UX's Network adapter 2), create the session from 448 to its
new port, verify it; and the wizard's offer when its destination is empty."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input

from tests.conftest import CLOUD
from tests.helpers import SteppedClock
from tests.tui.conftest import loaded, settle
from tui.app import DvMirrorApp, build_app
from tui.backends.snapshot import SnapshotBackend
from tui.model import Inventory
from tui.screens.explorer import ExplorerScreen
from tui.screens.monitor import MonitorScreen
from tui.screens.verify import VerifyOfferScreen, VerifyScreen
from tui.screens.wizard import SessionWizard


def walkthrough_app() -> tuple[DvMirrorApp, SnapshotBackend]:
    backend = SnapshotBackend(None, lab="walkthrough")
    backend.clock = SteppedClock()
    app = build_app(backend, environ={})
    app.verify_seconds = 2.0
    return app, backend


def inv_of(app: DvMirrorApp) -> Inventory:
    assert app.inventory is not None
    return app.inventory


async def done(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await settle(pilot)
    await pilot.app.workers.wait_for_complete()
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_walkthrough_from_nothing_in_the_tui(size: tuple[int, int]) -> None:
    app, _backend = walkthrough_app()
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        assert app.inventory is not None
        assert "dvPgMirror" not in {pg.name for pg in app.inventory.portgroups.values()}
        await pilot.press("slash", *"2258", "enter")
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MonitorScreen)
        assert screen.query_one("#monitor-vm", Input).value == "MGTSRVR003UX"
        assert screen.query_one("#monitor-nic", Input).value == "Network adapter 2"
        assert screen.query_one("#monitor-vlan", Input).value == "205"  # free on dvSwitchCloud
        await pilot.press("ctrl+r")
        await done(pilot)
        assert screen.plan is not None and screen.plan.ok and screen.plan.create_spec is not None
        assert not screen.query_one("#monitor-apply", Button).disabled
        await pilot.press("enter")  # Apply has the focus
        await done(pilot)
        assert screen.done is not None
        port = screen.done.port
        assert port and port != "2258"
        await pilot.press("enter")  # Use port N
        await done(pilot)
        assert isinstance(app.screen, ExplorerScreen)
        inv = app.inventory
        assert inv is not None
        mirror = next(pg for pg in inv.portgroups.values() if pg.name == "dvPgMirror")
        assert mirror.vlan.vlan_id == 205 and inv.ports[(CLOUD, port)].connectee is not None
        # The session, from the marks: 448 the source, the new port the destination.
        await pilot.press("slash", *port, "enter", "d", "slash", *"448", "enter", "s", "m")
        await settle(pilot)
        assert isinstance(app.screen, SessionWizard)
        await pilot.press("ctrl+r", "enter")
        await done(pilot)
        assert isinstance(app.screen, VerifyOfferScreen)
        created = inv_of(app).switches[CLOUD].sessions[-1]
        assert created.destination.port_keys == (port,) and created.source_rx.port_keys == ("448",)
        await pilot.press("right", "enter")  # Verify now
        await done(pilot)
        verify = app.screen
        assert isinstance(verify, VerifyScreen)
        for _ in range(40):
            if verify.result is not None:
                break
            await pilot.pause(0.2)
        assert verify.result is not None and str(verify.result.verdict.value) == "mirroring", verify.result


async def test_the_wizard_offers_to_prepare_a_destination() -> None:
    app, _backend = walkthrough_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"448", "enter", "s", "m")
        await settle(pilot)
        wizard = app.screen
        assert isinstance(wizard, SessionWizard)
        offer = wizard.query_one("#dest-prepare", Button)
        assert offer.display
        offer.press()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MonitorScreen)
        await pilot.click("#monitor-vm")
        for ch in "MGTSRVR003UX":
            await pilot.press(ch)
        await pilot.press("ctrl+r")
        await done(pilot)
        assert screen.plan is not None and screen.plan.ok
        screen.query_one("#monitor-apply", Button).press()
        await done(pilot)
        assert screen.done is not None
        port = screen.done.port
        screen.query_one("#monitor-use", Button).press()
        await done(pilot)
        assert app.screen is wizard
        assert wizard.query_one("#dest-ports", Input).value == port
        assert not offer.display  # a destination is given: no offer
        assert not [p for p in wizard.problems if p.field == "destination"], wizard.problems


async def test_a_refused_plan_cannot_be_applied() -> None:
    app, _backend = walkthrough_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"2258", "enter", "P")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MonitorScreen)
        vlan = screen.query_one("#monitor-vlan", Input)
        vlan.value = "100"  # dvPgWeb's
        await pilot.press("ctrl+r")
        await done(pilot)
        assert screen.plan is not None and [p.code for p in screen.plan.errors] == ["VlanInUse"]
        assert screen.query_one("#monitor-apply", Button).disabled
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ExplorerScreen)
