"""The requests the app passes on (tui/messages.py) reach the explorer once and do not come back."""

from __future__ import annotations

from textual.message import Message

from tests.tui.conftest import demo_app, loaded, settle
from tui.messages import GoTo, OpenFind
from tui.screens.explorer import ExplorerScreen
from tui.screens.find import FindScreen


async def test_go_to_reaches_the_explorer_once_and_does_not_echo() -> None:
    """A GoTo posted to the app is posted on to the explorer, which handles it; were it to bubble
    back to the app, the app would post it on again, for ever (each round refills the port table)."""
    arrived: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, GoTo | OpenFind):
            arrived.append(type(message).__name__)

    app = demo_app()
    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await loaded(pilot)
        assert app.inventory is not None
        port = app.inventory.port(next(iter(app.inventory.switches)), "302")
        assert port is not None
        app.post_message(GoTo(port))
        await settle(pilot)
        await settle(pilot)
        explorer = app.screen
        assert isinstance(explorer, ExplorerScreen) and explorer.current_port is port
        assert arrived == ["GoTo", "GoTo"]  # to the app, then from the app to the explorer
        app.post_message(OpenFind())
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, FindScreen)
        assert arrived == ["GoTo", "GoTo", "OpenFind", "OpenFind"]


def test_messages_that_are_passed_on_do_not_bubble() -> None:
    """``bubble = False`` in a class body is overwritten by ``Message.__init_subclass__``;
    the class keyword is what holds."""
    assert GoTo.bubble is False and OpenFind.bubble is False
