"""Snapshot tests: the explorer, find results, marks bar and help, at 120x40 and 80x24.

Review changes in snapshot_report.html before accepting them with ``--snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from tests.helpers import type_text
from tests.tui.conftest import demo_app, loaded, settle

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]
Compare = Callable[..., bool]


class Typed(str):
    """Text typed into the input that has the focus (``type_text``), not a key name."""


def steps(*keys: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Press each key (or type each :class:`Typed` text), letting the app settle after each."""

    async def run(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        await settle(pilot)
        for key in keys:
            if isinstance(key, Typed):
                await type_text(pilot, key)
            else:
                await pilot.press(key)
            await settle(pilot)

    return run


@pytest.mark.parametrize("size", SIZES)
def test_explorer(snap_compare: Compare, size: tuple[int, int]) -> None:
    assert snap_compare(demo_app(), terminal_size=size, run_before=steps("down", "down", "down", "down", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_port_selected_with_sessions(snap_compare: Compare, size: tuple[int, int]) -> None:
    assert snap_compare(demo_app(), terminal_size=size, run_before=steps("slash", Typed("448"), "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_find_results(snap_compare: Compare, size: tuple[int, int]) -> None:
    assert snap_compare(demo_app(), terminal_size=size, run_before=steps("slash", Typed("web-dmz")))


@pytest.mark.parametrize("size", SIZES)
def test_marks_bar(snap_compare: Compare, size: tuple[int, int]) -> None:
    keys = ("slash", Typed("448"), "enter", "s", "slash", Typed("2258"), "enter", "d")
    assert snap_compare(demo_app(), terminal_size=size, run_before=steps(*keys))


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare: Compare, size: tuple[int, int]) -> None:
    assert snap_compare(demo_app(), terminal_size=size, run_before=steps("question_mark"))


@pytest.mark.parametrize("size", SIZES)
def test_port_filter_and_marks_in_tree(snap_compare: Compare, size: tuple[int, int]) -> None:
    keys = ("slash", *"448", "enter", "s", "ctrl+f", *"dmz")
    assert snap_compare(demo_app(), terminal_size=size, run_before=steps(*keys))


def test_read_only_header(snap_compare: Compare) -> None:
    assert snap_compare(demo_app(read_only=True), terminal_size=(120, 40), run_before=steps())


MARKED = ("slash", Typed("448"), "enter", "s", "slash", Typed("2258"), "enter", "d", "m")


def wizard_type(api_name: str, *extra: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run(pilot: Pilot[None]) -> None:
        from tests.tui.wizard_helpers import choose_type

        await steps(*MARKED)(pilot)
        await choose_type(pilot, api_name)
        for key in extra:
            await pilot.press(key)
            await settle(pilot)

    return run


@pytest.mark.parametrize(
    "api_name",
    ["dvPortMirror", "remoteMirrorSource", "remoteMirrorDest", "encapsulatedRemoteMirrorSource", "mixedDestMirror"],
)
def test_wizard_types(snap_compare: Compare, api_name: str) -> None:
    assert snap_compare(demo_app(), terminal_size=(120, 40), run_before=wizard_type(api_name))


@pytest.mark.parametrize("size", SIZES)
def test_wizard_review(snap_compare: Compare, size: tuple[int, int]) -> None:
    assert snap_compare(demo_app(), terminal_size=size, run_before=wizard_type("mixedDestMirror", "ctrl+r"))


def test_wizard_problem_beside_field(snap_compare: Compare) -> None:
    async def run(pilot: Pilot[None]) -> None:
        from tests.tui.wizard_helpers import tick, type_into

        await steps(*MARKED)(pilot)
        await tick(pilot, "length-on")
        await type_into(pilot, "length", "59")
        await type_into(pilot, "dest-ports", "2241")

    assert snap_compare(demo_app(), terminal_size=(120, 40), run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_sessions_screen(snap_compare: Compare, size: tuple[int, int]) -> None:
    assert snap_compare(demo_app(), terminal_size=size, run_before=steps("S"))


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC (the panel shows clock times), restored afterwards."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("size", SIZES)
def test_live_traffic(snap_compare: Compare, size: tuple[int, int], utc: None) -> None:
    """Port 448 watched with ``t``: two readings 3 s apart on the demo lab's clock, pinned a day after
    its counters were recorded (a reading the interval adds meanwhile finds no time passed: same rates)."""
    from tests.tui.test_live_traffic import T0, Clock
    from tui.backends.snapshot import SnapshotBackend
    from tui.screens.explorer import ExplorerScreen

    app = demo_app()
    assert isinstance(app.backend, SnapshotBackend)
    clock = app.backend.clock = Clock(T0)

    async def run(pilot: Pilot[None]) -> None:
        await steps("slash", Typed("448"), "enter")(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ExplorerScreen)
        await pilot.press("t")
        await pilot.app.workers.wait_for_complete()
        await settle(pilot)
        clock.now += 3.0
        screen.refresh_live()
        await pilot.app.workers.wait_for_complete()
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run)


def verify_walkthrough(*, disable: bool) -> Callable[[Pilot[None]], Awaitable[None]]:
    """The walkthrough's session created (and disabled), then ``v`` in the sessions screen (1 s window)."""

    async def run(pilot: Pilot[None]) -> None:
        from tests.conftest import CLOUD
        from tests.helpers import WALKTHROUGH, SteppedClock, workers_done
        from tui.app import DvMirrorApp
        from tui.backends.snapshot import SnapshotBackend
        from tui.model import ChangeOperation, SessionChange
        from tui.screens.sessions import SessionsScreen
        from tui.screens.verify import VerifyScreen

        app = pilot.app
        assert isinstance(app, DvMirrorApp) and isinstance(app.backend, SnapshotBackend)
        await steps()(pilot)
        app.backend.clock = SteppedClock(step=1.0)
        app.verify_seconds = 1.0
        app.apply_changes(CLOUD, [SessionChange(ChangeOperation.ADD, WALKTHROUGH)])
        await workers_done(app)
        assert app.inventory is not None
        created = app.inventory.switches[CLOUD].sessions[-1]
        if disable:
            app.apply_changes(CLOUD, [SessionChange(ChangeOperation.EDIT, created.with_changes(enabled=False))])
            await workers_done(app)
        app.clear_notifications()  # the toasts of the changes: before the modal, whose screen has none
        await steps("S")(pilot)
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        screen.query_one("#sessions-table", DataTable).move_cursor(row=len(screen.sessions) - 1)
        await steps("v")(pilot)
        await workers_done(app)
        await settle(pilot)
        assert isinstance(app.screen, VerifyScreen) and app.screen.session_key == created.key

    return run


@pytest.mark.parametrize("size", SIZES)
def test_verify_mirroring(snap_compare: Compare, size: tuple[int, int]) -> None:
    assert snap_compare(demo_app(), terminal_size=size, run_before=verify_walkthrough(disable=False))


@pytest.mark.parametrize("size", SIZES)
def test_verify_not_delivered(snap_compare: Compare, size: tuple[int, int]) -> None:
    assert snap_compare(demo_app(), terminal_size=size, run_before=verify_walkthrough(disable=True))
