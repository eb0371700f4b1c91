"""The sessions screen at 80x24 and 120x40 (issue 9, items 3 and 8): its header and table fit, the
titles follow the switch after ``w``, ``?`` shows this screen's keys only, and every key has one
label in the footer, the table's border and the help."""

from __future__ import annotations

import re

import pytest
from textual.binding import Binding
from textual.widgets import DataTable, Label, Static
from textual.widgets._footer import FooterKey

from tests.helpers import started
from tests.tui.conftest import demo_app, settle
from tui.screens.help import HelpScreen
from tui.screens.sessions import SessionsScreen
from widgets.app_header import AppHeader

SIZES = [(80, 24), (120, 40)]
ids = pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")


def header_text(screen: SessionsScreen) -> tuple[str, int]:
    label = screen.query_one(AppHeader).query_one("#header-left", Label)
    return str(label.render()), label.content_region.width


def footer_keys(screen: SessionsScreen) -> list[FooterKey]:
    return [k for k in screen.query(FooterKey) if "-command-palette" not in k.classes]


@ids
async def test_header_table_and_footer_fit(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size=size) as pilot:
        await pilot.press("S")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        text, width = header_text(screen)
        assert "vcsa01.lab.local / dvSwitchCloud / sessions" in text and len(text.rstrip()) <= width
        table = screen.query_one("#sessions-table", DataTable)
        # Every column in view, Destinations and Warnings included: no horizontal scrolling.
        assert table.virtual_size.width <= table.content_region.width, (table.virtual_size, table.content_region)
        # Every cell whole in its column (no name cut to the heading's width).
        for i, column in enumerate(table.ordered_columns):
            longest = max(len(str(table.get_row_at(r)[i])) for r in range(table.row_count))
            assert longest <= column.get_render_width(table) - 2 * table.cell_padding, (column.label, longest)
        cells = [str(c) for c in table.get_row_at(0)]
        assert cells[0] == "1" and "448" in cells[4] and "449" in cells[4] and cells[5].startswith("2241")
        if size[0] >= 120:
            assert "F5-LTM01" in cells[4] and "IDS-SENSOR01" in cells[5]
        # The footer's keys end before the palette key: nothing cut, no stray character.
        keys = footer_keys(screen)
        palette = next(k for k in screen.query(FooterKey) if "-command-palette" in k.classes)
        assert keys and max(k.region.right for k in keys) <= palette.region.x
        assert {k.description for k in keys} >= {"Back", "New", "Edit", "On/off", "Delete", "Copy"}


@ids
async def test_titles_follow_the_switch_after_w(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size=size) as pilot:
        await pilot.press("S")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        table = screen.query_one("#sessions-table", DataTable)
        detail = screen.query_one("#session-detail")
        assert str(table.border_title).startswith("dvSwitchCloud") and str(detail.border_title) == "Session 1 DMZ-IDS"
        await pilot.press("w")
        await settle(pilot)
        assert "dvSwitchMgmt" in header_text(screen)[0]
        assert str(table.border_title).startswith("dvSwitchMgmt  0 mirror sessions")
        assert str(detail.border_title) == "dvSwitchMgmt: no session"  # not the last switch's session
        assert "No mirror session on this switch. Press n to create one." in str(
            screen.query_one("#session-info", Static).render()
        )
        await pilot.press("w")
        await settle(pilot)
        assert str(table.border_title).startswith("dvSwitchCloud") and str(detail.border_title) == "Session 1 DMZ-IDS"


@ids
async def test_help_shows_this_screens_keys_with_the_footers_labels(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size=size) as pilot:
        await pilot.press("S")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        footer = {k.key_display: k.description for k in footer_keys(screen)}
        border = str(screen.query_one("#sessions-table", DataTable).border_subtitle)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        rows = app.screen.rows()
        keys = {k: (label, what) for k, label, what in rows}
        about = str(app.screen.query_one("#help-about", Static).render())
        # This screen's keys, not the explorer's.
        labels = {label for _, label, _ in rows}
        assert {"New", "Edit", "Clone", "On/off", "Delete", "Copy", "Next switch", "Back"} <= labels
        assert not labels & {"Find", "Source", "Dest", "Mirror", "Sessions"}
        assert not any(k in ("tab", "enter", "/") for k in keys)
        assert "sessions of one switch" in about and "Mark sources" not in about
        # The footer's labels are the help's: the same key, the same word.
        for key, description in footer.items():
            match = [label for k, (label, _) in keys.items() if key in k.split("/")]
            assert match == [description], (key, description, rows)
        # The border names the keys the footer leaves out, as the help does.
        for part in border.split(" · "):
            key, _, label = part.partition(" ")
            assert key not in footer and keys[key][0] == label, (part, rows)
        assert re.fullmatch(r"c Clone · f Capture · v Verify · h History · E Expire · x Export · w Next switch", border)
        screen_keys = {b.id for b in SessionsScreen.BINDINGS if isinstance(b, Binding)}
        assert len(screen_keys) == len([r for r in rows if r[1] and r[1] not in ("Quit", "Help")])
