"""Verify in the TUI (issue 10, item 3): ``v`` in the sessions screen on the walkthrough's session
in the demo lab says it mirrors, with rates; disabled, it is not delivered and why; esc stops the
sampling (no request after); the offer after the wizard's Create verifies the session the backend
created; a backend error, a session deleted meanwhile and a load in progress are said plainly."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from tests.conftest import CLOUD
from tests.helpers import WALKTHROUGH, WALKTHROUGH_MODERN, started
from tests.tui.conftest import demo_app, settle
from tests.tui.wizard_helpers import mark_walkthrough, tick, type_into
from tui.app import DvMirrorApp
from tui.backends import BackendError
from tui.backends.snapshot import SnapshotBackend
from tui.model import ChangeOperation, MirrorSession, PortStatistics, SessionChange
from tui.screens.sessions import SessionsScreen
from tui.screens.verify import VerifyOfferScreen, VerifyScreen
from tui.verify import Verdict


def shown(screen: VerifyScreen, widget: str) -> str:
    """A part of the verify screen as text, at the width it has on screen."""
    static = screen.query_one(f"#{widget}", Static)
    console = screen.app.console
    width = max(static.content_region.width, 20)
    lines = console.render_lines(static.content, console.options.update_width(width))  # type: ignore[arg-type]
    return "\n".join("".join(seg.text for seg in line).rstrip() for line in lines).strip("\n")


class Counted:
    """The demo backend's own ``port_statistics``, with every call recorded (time, keys)."""

    def __init__(self, backend: SnapshotBackend) -> None:
        self.real = backend.port_statistics
        self.calls: list[tuple[float, tuple[str, ...]]] = []
        backend.port_statistics = self  # type: ignore[method-assign]

    def __call__(self, switch_key: str, port_keys: Sequence[str]) -> dict[str, PortStatistics]:
        self.calls.append((time.monotonic(), tuple(port_keys)))
        return self.real(switch_key, port_keys)


async def create(pilot: Pilot[None], session: MirrorSession) -> str:
    """``session`` created through the app's own apply path; the key the backend gave it."""
    app = pilot.app
    assert isinstance(app, DvMirrorApp) and app.inventory is not None
    before = {s.key for s in app.inventory.switches[CLOUD].sessions}
    app.apply_changes(CLOUD, [SessionChange(ChangeOperation.ADD, session)])
    await app.workers.wait_for_complete()
    await settle(pilot)
    [key] = [s.key for s in app.inventory.switches[CLOUD].sessions if s.key not in before]
    assert key is not None
    return key


async def sessions_on(pilot: Pilot[None], key: str) -> SessionsScreen:
    """The sessions screen of the walkthrough's switch with session ``key`` selected."""
    await pilot.press("S")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SessionsScreen)
    screen.query_one("#sessions-table", DataTable).move_cursor(row=[s.key for s in screen.sessions].index(key))
    await settle(pilot)
    assert screen.current is not None and screen.current.key == key
    return screen


async def verified(pilot: Pilot[None]) -> VerifyScreen:
    """``v``, then the window sampled and judged."""
    await pilot.press("v")
    await settle(pilot)
    await pilot.app.workers.wait_for_complete()
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, VerifyScreen), type(screen).__name__
    return screen


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
@pytest.mark.parametrize("session", [WALKTHROUGH, WALKTHROUGH_MODERN], ids=["legacy", "modern"])
async def test_v_says_the_walkthrough_session_mirrors_and_not_once_disabled(
    session: MirrorSession, size: tuple[int, int]
) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        app.verify_seconds = 1.0
        counted = Counted(app.backend)  # type: ignore[arg-type]
        key = await create(pilot, session)
        await sessions_on(pilot, key)
        screen = await verified(pilot)
        r = screen.result
        assert r is not None and r.verdict is Verdict.MIRRORING, (r, screen.error)
        assert r.session.key == key and r.session.name == session.name
        # One call per reading, for exactly the session's two ports: now and at the end of the window.
        assert [keys for _, keys in counted.calls] == [("448", "2258")] * 2
        verdict = shown(screen, "verify-verdict")
        assert (
            verdict.startswith("✓ Mirroring")
            and "pkt/s" in verdict
            and "-mirroring" in screen.query_one("#verify-verdict").classes
        )
        table = shown(screen, "verify-table")
        assert "448 · F5-LTM01 / Network adapter 2" in table and "2258 · MGTSRVR003UX / Network adapter 2" in table
        [source] = r.sources
        [dest] = r.destinations
        # The demo lab's F5 carries ~842 pkt/s both ways (60-byte cut); the monitor is sent that plus its own.
        assert source.mirrored is not None and 700 < source.mirrored.pps < 1000
        assert dest.mirrored is not None and dest.mirrored.pps >= source.mirrored.pps
        assert f"{source.mirrored.pps:,.0f} pkt/s" in table
        await pilot.press("y")  # the verdict, its reasons and the table, as text
        await settle(pilot)
        assert app.clipboard.startswith(f"{r.summary}\n") and "448 · F5-LTM01 / Network adapter 2" in app.clipboard
        # Disabled (space in the sessions screen), then v: not delivered, and why.
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("space")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert app.inventory is not None and app.inventory.switches[CLOUD].session(key).enabled is False  # type: ignore[union-attr]
        screen = await verified(pilot)
        r = screen.result
        assert r is not None and r.verdict is Verdict.NOT_DELIVERED
        assert r.reasons[0].code == "SessionDisabled"
        assert shown(screen, "verify-verdict").startswith("✗ Not delivered  The session is disabled")
        assert "SessionDisabled" in shown(screen, "verify-reasons")
        assert "-not-delivered" in screen.query_one("#verify-verdict").classes


async def test_escape_stops_sampling_at_once() -> None:
    app = demo_app()
    async with started(app) as pilot:
        counted = Counted(app.backend)  # type: ignore[arg-type]
        await sessions_on(pilot, "1")
        await pilot.press("v")
        deadline = time.monotonic() + 5
        while not counted.calls and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert len(counted.calls) == 1 and isinstance(app.screen, VerifyScreen)
        assert app.screen.running
        await pilot.press("escape")
        stopped = time.monotonic()
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
        await app.workers.wait_for_complete()
        assert time.monotonic() - stopped < 1.0  # the thread's wait ended with esc, not after 2 s
        await pilot.pause(2.5)  # longer than the reading interval
        assert len(counted.calls) == 1


async def test_numbers_show_while_sampling() -> None:
    """From the second reading on, the table shows the numbers so far; the verdict waits for the window."""
    app = demo_app()
    async with started(app) as pilot:
        app.verify_seconds = 3.0
        counted = Counted(app.backend)  # type: ignore[arg-type]
        await sessions_on(pilot, "1")
        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, VerifyScreen)
        assert shown(screen, "verify-table") == "" and not screen.query_one("#verify-verdict").display
        assert screen.query_one("#verify-copy").disabled
        deadline = time.monotonic() + 10
        while len(counted.calls) < 2 and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await settle(pilot)
        assert screen.running and len(counted.calls) == 2
        table = shown(screen, "verify-table")
        assert "2241 · IDS-SENSOR01 / Network adapter 2" in table and "pkt/s" in table
        assert not screen.query_one("#verify-verdict").display and screen.result is None
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert screen.result is not None and screen.query_one("#verify-verdict").display
        assert not screen.query_one("#verify-copy").disabled
        assert len(counted.calls) == 3  # at 0, 2 and 3 s


async def test_quit_while_verifying_is_immediate() -> None:
    app = demo_app()
    async with started(app) as pilot:
        counted = Counted(app.backend)  # type: ignore[arg-type]
        await sessions_on(pilot, "1")
        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, VerifyScreen) and screen.running
        await pilot.press("ctrl+q")
        quit_at = time.monotonic()
    stop: threading.Event = screen._stop
    assert stop.is_set()
    assert time.monotonic() - quit_at < 1.0
    calls = len(counted.calls)
    threading.Event().wait(2.2)  # longer than the reading interval: the thread would have read again
    assert len(counted.calls) == calls


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
async def test_offer_after_create_verifies_the_created_session(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        app.verify_seconds = 1.0
        await mark_walkthrough(pilot)  # the modern form: dvPortMirror
        await type_into(pilot, "name", WALKTHROUGH.name)
        await tick(pilot, "length-on")
        await type_into(pilot, "length", "60")
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("enter")  # Create
        await app.workers.wait_for_complete()
        await settle(pilot)
        offer = app.screen
        assert isinstance(offer, VerifyOfferScreen), type(offer).__name__
        assert app.inventory is not None
        created = app.inventory.switches[CLOUD].sessions[-1]
        assert created.key == "3" and created.name == WALKTHROUGH.name
        question = str(offer.query_one("#confirm-question", Static).render())
        assert "'F5 DMZ to monitor' (key 3) on dvSwitchCloud" in question and "1 s" in question
        await pilot.press("enter")  # Verify now has the focus
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, VerifyScreen)
        assert screen.session_key == "3"
        assert screen.result is not None and screen.result.session == created  # vCenter's, not the draft
        assert screen.result.verdict is Verdict.MIRRORING
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, (VerifyScreen, VerifyOfferScreen))


async def test_no_offer_for_a_session_with_nothing_to_measure() -> None:
    """Edits are not offered a verify, nor an incomplete session (the counters could show nothing)."""
    app = demo_app()
    async with started(app) as pilot:
        app.apply_changes(CLOUD, [SessionChange(ChangeOperation.ADD, WALKTHROUGH_MODERN)])  # not from the wizard
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert not isinstance(app.screen, VerifyOfferScreen)
        await mark_walkthrough(pilot)
        await type_into(pilot, "dest-ports", "")
        await pilot.press("ctrl+r")
        await settle(pilot)
        from textual.widgets import Button

        app.screen.query_one("#apply", Button).focus()
        await pilot.press("enter")  # Create, then "Create anyway"
        await settle(pilot)
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert app.inventory is not None and app.inventory.switches[CLOUD].sessions[-1].destination.port_keys == ()
        assert not isinstance(app.screen, VerifyOfferScreen)


@pytest.mark.parametrize(
    "error",
    [
        BackendError("vcsa01 does not support RefreshDVPortState [bold]x[/bold]\x1b[2J", hint="Upgrade \x07 vCenter"),
        RuntimeError("connection reset [red]"),
    ],
    ids=["BackendError", "unexpected"],
)
async def test_a_backend_error_is_shown_plainly(error: Exception) -> None:
    app = demo_app()
    async with started(app) as pilot:
        app.verify_seconds = 1.0

        def fail(switch_key: str, port_keys: Sequence[str]) -> Any:
            raise error

        app.backend.port_statistics = fail  # type: ignore[method-assign]
        await sessions_on(pilot, "1")
        screen = await verified(pilot)
        text = shown(screen, "verify-verdict")
        assert screen.result is None and not screen.running
        if isinstance(error, BackendError):
            assert text.startswith("Could not read the port counters: vcsa01 does not support RefreshDVPortState")
            assert "[bold]x[/bold]\\x1b[2J" in text and "Upgrade \\x07 vCenter" in text
        else:
            assert text == "Reading the port counters failed: RuntimeError: connection reset [red]"
        assert "Traceback" not in text and "-error" in screen.query_one("#verify-verdict").classes
        assert shown(screen, "verify-table") == ""


async def test_a_session_deleted_meanwhile_and_a_load_in_progress() -> None:
    app = demo_app()
    async with started(app) as pilot:
        app.verify_seconds = 1.0
        key = await create(pilot, WALKTHROUGH_MODERN)
        await sessions_on(pilot, key)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, VerifyScreen) and app.screen.running
        # Deleted while the window runs (by someone else, or the CLI): the inventory shown loses it.
        backend = app.backend
        assert app.inventory is not None
        gone = backend.apply(app.inventory, CLOUD, [SessionChange(ChangeOperation.REMOVE, MirrorSession(key=key))])
        app.inventory = app.inventory.with_switch(gone.switch)
        await app.workers.wait_for_complete()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, VerifyScreen) and screen.result is None
        assert shown(screen, "verify-verdict") == (
            f"Session key {key} no longer exists on dvSwitchCloud (deleted meanwhile?)."
        )
        # A reload in progress (the partial inventory has no ports yet): said, nothing read.
        counted = Counted(backend)  # type: ignore[arg-type]
        app.partial = True
        await pilot.press("r")
        await settle(pilot)
        assert "being loaded" in shown(screen, "verify-verdict") and counted.calls == []
        app.partial = False
        await pilot.press("r")
        await settle(pilot)
        assert "no longer exists" in shown(screen, "verify-verdict")


async def test_hostile_session_name_is_shown_escaped() -> None:
    app = demo_app()
    async with started(app) as pilot:
        app.verify_seconds = 1.0
        name = "[/x] vm[prod] \x1b]0;pwned\x07"
        key = await create(pilot, WALKTHROUGH_MODERN.with_changes(name=name))
        await sessions_on(pilot, key)
        screen = await verified(pilot)
        title = str(screen.query_one("#verify-box").border_title)
        assert (
            title.replace("\\[", "[")
            == f"Verify session '[/x] vm[prod] \\x1b]0;pwned\\x07' (key {key}) on dvSwitchCloud"
        )
        assert screen.result is not None and screen.result.verdict is Verdict.MIRRORING
        app.export_screenshot()  # renders: no markup error from the name
