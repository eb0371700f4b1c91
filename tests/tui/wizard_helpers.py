"""Driving the session wizard like a user: mark ports, pick a type, type into fields, review, create."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, RadioButton, RadioSet

from tests.helpers import WALKTHROUGH, type_text
from tests.tui.conftest import settle
from tui.screens.wizard import SessionWizard


async def mark_walkthrough(pilot: Pilot[None]) -> None:
    """The walkthrough's ports, found and marked from the explorer: / 448 enter s, / 2258 enter d,
    then m (which opens the wizard, unless the app is read-only)."""
    [source] = WALKTHROUGH.source_rx.port_keys
    [destination] = WALKTHROUGH.destination.port_keys
    await pilot.press("slash")
    await type_text(pilot, source)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("s", "slash")
    await type_text(pilot, destination)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("d", "m")
    await settle(pilot)


def wizard(pilot: Pilot[None]) -> SessionWizard:
    screen = pilot.app.screen
    assert isinstance(screen, SessionWizard), type(screen).__name__
    return screen


async def choose_type(pilot: Pilot[None], api_name: str) -> None:
    """Move the radio cursor to the type with the keyboard and select it."""
    radio = wizard(pilot).query_one("#type", RadioSet)
    radio.focus()
    names = [b.name for b in radio.query(RadioButton)]
    pressed = radio.pressed_button
    current = names.index(pressed.name) if pressed is not None else 0
    for _ in range((names.index(api_name) - current) % len(names)):
        await pilot.press("down")
    await pilot.press("enter")
    await settle(pilot)
    assert radio.pressed_button is not None and radio.pressed_button.name == api_name


async def type_into(pilot: Pilot[None], field: str, text: str) -> None:
    """Focus an input, clear it and type ``text`` key by key."""
    box = wizard(pilot).query_one(f"#{field}", Input)
    box.focus()
    box.value = ""
    await type_text(pilot, text)
    await settle(pilot)
    assert box.value == text


async def tick(pilot: Pilot[None], field: str, on: bool = True) -> None:
    """Set a checkbox with the space key."""
    box = wizard(pilot).query_one(f"#{field}", Checkbox)
    box.focus()
    if box.value != on:
        await pilot.press("space")
    await settle(pilot)
    assert box.value is on


async def review_and_create(pilot: Pilot[None]) -> None:
    """ctrl+r to review, then enter on the focused Create button; the offer to verify a new
    session that follows is declined (esc: tests/tui/test_verify.py takes it)."""
    from tui.screens.verify import VerifyOfferScreen

    await pilot.press("ctrl+r")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.app.workers.wait_for_complete()
    await settle(pilot)
    if isinstance(pilot.app.screen, VerifyOfferScreen):
        await pilot.press("escape")
        await settle(pilot)


async def fill_walkthrough(pilot: Pilot[None]) -> None:
    """The walkthrough's session as its client made it (``tests.helpers.WALKTHROUGH``): legacy type,
    VLAN 205, 60-byte packets."""
    await choose_type(pilot, str(WALKTHROUGH.session_type))
    await type_into(pilot, "name", WALKTHROUGH.name)
    await tick(pilot, "encap-on")
    await type_into(pilot, "encap-vlan", str(WALKTHROUGH.encapsulation_vlan_id))
    await tick(pilot, "length-on")
    await type_into(pilot, "length", str(WALKTHROUGH.mirrored_packet_length))
