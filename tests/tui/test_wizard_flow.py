"""The wizard's flow at 80x24 and 120x40 (issue 9 items 3–6 and 11): distinct type labels that fit,
unmistakable focus, stable Tab order, alt+letter shortcuts, example placeholders, no accidental
empty session, asking before discarding, an edit's changes, and the capture step."""

from __future__ import annotations

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, Input, RadioButton, Static

from tests.conftest import CLOUD
from tests.helpers import started
from tests.tui.conftest import demo_app, settle
from tests.tui.test_sessions import mark_walkthrough
from tests.tui.wizard_helpers import choose_type, review_and_create, tick, type_into, wizard
from tui.app import DvMirrorApp
from tui.model import SessionType
from tui.screens.capture_view import CapturePanel, CaptureScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.explorer import ExplorerScreen
from tui.screens.sessions import SessionsScreen
from tui.screens.wizard import SessionWizard

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


def shown(widget: Static) -> str:
    """A Static's text as shown (100 columns, no styles)."""
    console = widget.app.console
    lines = console.render_lines(widget.content, console.options.update_width(100))  # type: ignore[arg-type]
    return "\n".join("".join(seg.text for seg in line).rstrip() for line in lines)


async def open_from_marks(app: DvMirrorApp, pilot: Pilot[None]) -> SessionWizard:
    await mark_walkthrough(pilot)
    return wizard(pilot)


@SIZES
async def test_type_labels_are_distinct_and_fit(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        w = await open_from_marks(app, pilot)
        await settle(pilot)
        buttons = list(w.query("#type RadioButton").results(RadioButton))
        labels = [str(b.label) for b in buttons]
        assert len(set(labels)) == len(SessionType) == 5
        for b in buttons:
            assert len(str(b.label)) + 5 <= b.size.width, (str(b.label), b.size.width)  # ▐●▌ and padding
        if size[0] >= 120:
            assert labels == [t.label for t in SessionType]  # the vSphere Client's names where they fit
        else:  # compact labels, and the help line names the chosen type in full
            assert "Distributed Port Mirroring:" in shown(w.query_one("#type-help", Static))


@SIZES
async def test_wizard_from_marks_ticks_nothing_and_an_unticked_box_is_blank(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        w = await open_from_marks(app, pilot)
        # new_session's defaults: whole frames (mirroredPacketLength unset), normal I/O disallowed.
        assert w.base.mirrored_packet_length is None and w.base.normal_traffic_allowed is False
        length_on, normal_io, enabled = (w.query_one(f"#{i}", Checkbox) for i in ("length-on", "normal-io", "enabled"))
        assert (length_on.value, normal_io.value, enabled.value) == (False, False, True)
        # Off draws a blank, on a tick: not the same glyph told apart by colour alone.
        assert "✓" not in str(length_on.render()) and "X" not in str(length_on.render())
        assert "✓" in str(enabled.render())
        assert w.query_one("#length", Input).value == ""  # "e.g. 60" is the placeholder, not a value
        uplinks = w.query_one("#dest-uplinks")
        await choose_type(pilot, "mixedDestMirror")
        assert uplinks.display and "X" not in "".join(s.text for s in uplinks.render_line(0))


@SIZES
async def test_placeholders_read_as_examples(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        w = await open_from_marks(app, pilot)
        placeholders = {i.id: i.placeholder for i in w.query("#wizard-form Input").results(Input)}
        assert placeholders and all(p.startswith("e.g. ") for p in placeholders.values()), placeholders
        assert placeholders["sources"].startswith("e.g. 448, F5-LTM01/")


@SIZES
async def test_focus_is_unmistakable_and_no_button_looks_focused(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        w = await open_from_marks(app, pilot)
        buttons = list(w.query("#wizard-buttons Button").results(Button))
        assert all(b.variant == "default" for b in buttons)  # no primary/success colour that reads as focus
        review, cancel = w.query_one("#to-review", Button), w.query_one("#cancel", Button)
        assert review.styles.background == cancel.styles.background  # unfocused: alike
        review.focus()
        await settle(pilot)
        assert review.has_focus and review.styles.background != cancel.styles.background
        # The focused field's row label stands out too.
        await type_into(pilot, "sources", "448")
        label = w.query_one("#row-sources .field-label")
        other = w.query_one("#row-dest-ports .field-label")
        assert label.styles.color != other.styles.color


@SIZES
async def test_tab_order_is_stable_a_disabled_field_stays_in_place(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        w = await open_from_marks(app, pilot)
        await choose_type(pilot, "mixedDestMirror")
        length = w.query_one("#length", Input)
        assert length.disabled and length.display  # in its place, disabled
        off = [x.id for x in w.focus_chain]
        await tick(pilot, "length-on")
        on = [x.id for x in w.focus_chain]
        assert [i for i in on if i != "length"] == off
        assert on.index("length") == on.index("length-on") + 1
        assert w.focused is w.query_one("#length-on")
        await pilot.press("space")
        assert length.disabled and length.display  # unticked: the field follows at once, in place
        await pilot.press("space", "tab")  # ticked again: tab lands on the field it enabled
        await settle(pilot)
        assert w.focused is length


SHORTCUT_TARGETS = {
    "t": "type",
    "n": "name",
    "s": "sources",
    "d": "dest-ports",
    "u": "dest-uplinks",
    "e": "encap-on",
    "l": "length-on",
    "i": "normal-io",
}


@SIZES
async def test_alt_letter_jumps_to_its_section_even_from_an_input(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        w = await open_from_marks(app, pilot)
        await choose_type(pilot, "mixedDestMirror")
        for letter, target in SHORTCUT_TARGETS.items():
            await type_into(pilot, "name", "x")  # an Input has the focus
            # As a terminal sends it (ESC l): a key that carries the letter as its character.
            app.post_message(events.Key(f"alt+{letter}", letter))
            await settle(pilot)
            assert w.focused is not None and w.focused.id == target, (letter, w.focused)
            assert w.query_one("#name", Input).value == "x"  # the letter was not typed
        # Each label underlines its letter.
        label = w.query_one("#row-encap .field-label", Static)
        assert any("underline" in str(span.style) for span in label.render().spans)  # type: ignore[union-attr]
        # A section the type lacks: said, focus unchanged.
        await choose_type(pilot, "dvPortMirror")
        await pilot.press("alt+e")
        await settle(pilot)
        assert w.focused is not None and w.focused.id == "type"


@SIZES
async def test_incomplete_session_defaults_to_back_and_create_asks(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        w = await open_from_marks(app, pilot)
        await type_into(pilot, "dest-ports", "")
        assert "incomplete" in shown(w.query_one("#wizard-status", Static))
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert w.focused is w.query_one("#back", Button)  # not Create
        assert "no destination" in shown(w.query_one("#review", Static))
        await pilot.press("enter")  # Back: to the form
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        w.query_one("#apply", Button).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "no destination" in shown(app.screen.query_one(Static))
        await pilot.press("enter")  # the default answer: no
        await settle(pilot)
        assert app.screen is w
        assert len(app.inventory.switches[CLOUD].sessions) == 2  # type: ignore[union-attr]
        await pilot.press("enter")  # Create again, then "Create anyway"
        await settle(pilot)
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, ExplorerScreen)
        created = app.inventory.switches[CLOUD].sessions[-1]  # type: ignore[union-attr]
        assert created.destination.port_keys == () and created.source_rx.port_keys == ("448",)


@SIZES
async def test_esc_asks_before_discarding_changes(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        w = await open_from_marks(app, pilot)
        await pilot.press("escape")  # nothing changed: leaves at once
        await settle(pilot)
        assert isinstance(app.screen, ExplorerScreen)
        await pilot.press("m")
        await settle(pilot)
        w = wizard(pilot)
        await type_into(pilot, "name", "half done")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and "Discard" in shown(app.screen.query_one(Static))
        await pilot.press("escape")  # keep editing
        await settle(pilot)
        assert app.screen is w and w.query_one("#name", Input).value == "half done"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("tab", "enter")  # Discard
        await settle(pilot)
        assert isinstance(app.screen, ExplorerScreen)
        assert len(app.inventory.switches[CLOUD].sessions) == 2  # type: ignore[union-attr]


@SIZES
async def test_edit_review_shows_what_changes(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        await pilot.press("S")
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
        await pilot.press("e")  # DMZ-IDS
        await settle(pilot)
        w = wizard(pilot)
        old = w.base
        await type_into(pilot, "name", "DMZ-IDS-2")
        await tick(pilot, "length-on")
        await type_into(pilot, "length", "128")
        await pilot.press("ctrl+r")
        await settle(pilot)
        review = shown(w.query_one("#review", Static))
        assert "What changes (2 fields)" in review
        assert f"{old.name} → DMZ-IDS-2" in review
        assert "(unset) → 128" in review
        assert "The complete session" in review
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
        stored = app.inventory.switches[CLOUD].session(str(old.key))  # type: ignore[union-attr]
        assert stored is not None and (stored.name, stored.mirrored_packet_length) == ("DMZ-IDS-2", 128)


@SIZES
async def test_review_capture_filter_by_vm_name_edited_and_copied(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        w = await open_from_marks(app, pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        panel = w.query_one(CapturePanel)
        assert panel.filter == "host 10.20.4.10"  # the source NIC's IP until a host is given
        host = w.query_one("#capture-host", Input)
        host.focus()
        await pilot.press(*"KRBCLIENT01")  # the walkthrough's 172.24.4.52, picked by VM name
        await settle(pilot)
        assert panel.filter == "host 172.24.4.52"
        assert "VM KRBCLIENT01: 172.24.4.52" in shown(w.query_one("#capture-host-hint", Static))
        how = shown(w.query_one("#capture-how", Static))
        assert "tcpdump -i IFACE -nn -e 'host 172.24.4.52'" in how
        assert "MGTSRVR003UX / Network adapter 2, MAC 00:50:56:9a:00:1a" in how and "dvPgMirror" in how
        assert "Get-NetAdapter | Where-Object MacAddress -eq 00-50-56-9A-00-1A" in how
        await type_into(pilot, "capture-host", "no such thing!")
        assert "is not a VM name, IP address" in shown(w.query_one("#capture-host-hint", Static))
        await type_into(pilot, "capture-host", "172.24.4.52")
        await type_into(pilot, "capture-filter", "host 172.24.4.52 and icmp")  # edited by hand
        assert "'host 172.24.4.52 and icmp'" in shown(w.query_one("#capture-how", Static))
        w.query_one("#back", Button).focus()
        await pilot.press("y")
        await settle(pilot)
        assert app.last_copy is not None and app.last_copy.text == "host 172.24.4.52 and icmp"
        await type_into(pilot, "capture-filter", "host 172.24.4.52 and tcp port 88")
        await pilot.press("ctrl+y")  # from the field itself (y would type a "y")
        await settle(pilot)
        assert app.last_copy.text == "host 172.24.4.52 and tcp port 88"
        assert "ctrl+y copies the filter" in shown(w.query_one("#capture-title", Static))


@SIZES
async def test_erspan_review_gives_the_receiver_recipe(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        w = await open_from_marks(app, pilot)
        await choose_type(pilot, "encapsulatedRemoteMirrorSource")
        await type_into(pilot, "dest-ips", "192.0.2.10")
        await pilot.press("ctrl+r")
        await settle(pilot)
        how = shown(w.query_one("#capture-how", Static))
        assert "proto gre and dst host 192.0.2.10" in how
        assert "ip link add gretap1 type gretap local 192.0.2.10 remote ESXI_VMK_IP" in how
        assert "Receive on the collector" in shown(w.query_one("#capture-title", Static))


@SIZES
async def test_sessions_screen_capture_view(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        await pilot.press("S")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CaptureScreen)
        await pilot.press(*"172.24.4.52")
        await settle(pilot)
        assert screen.query_one(CapturePanel).filter.endswith("host 172.24.4.52")
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert app.last_copy is not None and app.last_copy.text.endswith("host 172.24.4.52")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)


async def test_review_and_create_helper_still_creates() -> None:
    """The shared helper (ctrl+r, enter) still creates a complete session: Create is the default."""
    app = demo_app()
    async with started(app) as pilot:
        await open_from_marks(app, pilot)
        await review_and_create(pilot)
        assert isinstance(app.screen, ExplorerScreen)
        assert len(app.inventory.switches[CLOUD].sessions) == 3  # type: ignore[union-attr]
