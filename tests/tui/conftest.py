"""Helpers for Pilot and snapshot tests."""

from __future__ import annotations

import time

from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from tests.helpers import type_text
from tui.app import DvMirrorApp, build_app
from tui.backends.snapshot import SnapshotBackend


def demo_app(read_only: bool = False) -> DvMirrorApp:
    """The app on a fresh demo lab, with no environment leaking in (no TMUX, no DISPLAY)."""
    return build_app(SnapshotBackend(read_only=read_only), environ={})


LOAD_TIMEOUT = 60.0
"""Seconds :func:`loaded` waits for the index at most."""


async def loaded(pilot: Pilot[None]) -> None:
    """Wait until the inventory and the index are in place and the screen settled.

    The index is built in a thread started after the tree is painted, so it is waited for as
    such: until it is there, or the load ended without an inventory, or :data:`LOAD_TIMEOUT` seconds."""
    app = pilot.app
    assert isinstance(app, DvMirrorApp)
    deadline = time.monotonic() + LOAD_TIMEOUT
    await app.workers.wait_for_complete()
    await pilot.pause()
    while app.index is None and app.inventory is not None and time.monotonic() < deadline:
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.index is not None, "the inventory did not load"
    await pilot.pause()


async def settle(pilot: Pilot[None]) -> None:
    """Let deferred work (cursor moves after refresh, debounced tables) run; stop cursor blink."""
    for _ in range(3):
        await pilot.pause()
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    await pilot.pause()


async def palette_search(pilot: Pilot[None], query: str) -> list[str]:
    """Open the command palette, type ``query``, wait for its search; the prompts it offers."""
    await pilot.press("ctrl+p")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CommandPalette)
    await type_text(pilot, query)
    await pilot.app.workers.wait_for_complete()  # the palette's search
    await settle(pilot)
    options = pilot.app.screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def palette_run(pilot: Pilot[None], query: str) -> list[str]:
    """:func:`palette_search`, then run the first prompt; the prompts offered."""
    prompts = await palette_search(pilot, query)
    await pilot.press("enter")
    await settle(pilot)
    return prompts
