"""Pilot tests of the explorer's flow (issue 9), each at 80x24 and 120x40: a jump lands in view,
the port table fits narrow terminals, marks show in the tree and the detail panel, j/k/g/G, q asks
while a wizard is open, the palette runs actions, filter, connected only and sort."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Footer, Input, OptionList
from textual.widgets._footer import FooterKey

from tests.helpers import started
from tests.tui.conftest import demo_app, palette_run, palette_search, settle
from tui.app import DvMirrorApp
from tui.model import Port, PortlessNic
from tui.screens.explorer import ExplorerScreen
from tui.screens.find import FindScreen
from widgets.inventory_tree import InventoryTree
from widgets.marks_bar import MarksBar
from widgets.port_detail import PortDetail
from widgets.port_table import PortTable

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]


def explorer(app: DvMirrorApp) -> ExplorerScreen:
    assert isinstance(app.screen, ExplorerScreen)
    return app.screen


def table_of(app: DvMirrorApp) -> PortTable:
    return app.explorer.query_one("#ports", PortTable)


def row_on_screen(table: PortTable, row: int) -> bool:
    """True when ``row`` is drawn inside the table's viewport: below the header, above any
    horizontal scrollbar (DataTable's public scroll offset and regions)."""
    header = table.header_height if table.show_header else 0
    top = table.scroll_offset.y
    rows_shown = table.scrollable_content_region.height - header
    return top <= row < top + rows_shown


def shown_port(table: PortTable) -> str:
    """The port ID in the cursor's row, as drawn."""
    return str(table.get_row_at(table.cursor_row)[0])


def plain(widget: PortDetail) -> str:
    lines = widget.app.console.render_lines(widget.content, widget.app.console.options.update_width(100))  # type: ignore[arg-type]
    return "\n".join("".join(seg.text for seg in line).rstrip() for line in lines)


async def find(pilot: object, text: str) -> None:
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    await pilot.press("slash")
    await settle(pilot)
    await pilot.press(*text, "enter")
    await settle(pilot)


# -- item 1: a jump lands in view -------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_find_jump_selects_the_row_and_scrolls_it_into_view(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        for key in ("448", "2258", "302"):
            await find(pilot, key)
            table = table_of(app)
            current = explorer(app).current_port
            assert current is not None and current.key == key
            assert table.current_port is not None and table.current_port.key == key
            assert shown_port(table) == key
            assert row_on_screen(table, table.cursor_row), (key, table.cursor_row, table.scroll_offset)
        await pilot.press("tab")
        await settle(pilot)
        table = table_of(app)
        assert table.has_focus
        assert table.current_port is not None and table.current_port.key == "302"
        assert row_on_screen(table, table.cursor_row)


@pytest.mark.parametrize("size", SIZES)
async def test_palette_go_to_port_lands_in_view(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        await palette_run(pilot, "2258")
        table = table_of(app)
        assert table.current_port is not None and table.current_port.key == "2258"
        assert row_on_screen(table, table.cursor_row)
        await pilot.press("tab")
        await settle(pilot)
        assert table.has_focus and row_on_screen(table, table.cursor_row)


# -- item 3: 80x24 is first-class ---------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_port_table_keeps_its_essential_columns_and_fits(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        await find(pilot, "448")
        table = table_of(app)
        titles = [str(c.label).rstrip(" ▲▼") for c in table.columns.values()]
        for essential in ("Port", "NIC", "Link", "Mirror"):
            assert essential in titles, titles
        assert titles[1] in ("VM", "VM / connectee")
        used = sum(c.get_render_width(table) for c in table.columns.values())
        assert used <= table.scrollable_content_region.width, (used, table.scrollable_content_region)
        assert not table.show_horizontal_scrollbar
        cells = [str(c) for c in table.get_row_at(table.cursor_row)]
        assert cells[1] == "F5-LTM01" and "adapter 2" in cells[2] and cells[3 if len(cells) < 6 else 4] == "up"
        assert "DMZ-IDS" in cells[titles.index("Mirror")]
        if size[0] >= 120:
            assert "Host" in titles and cells[2] == "Network adapter 2"


@pytest.mark.parametrize("size", SIZES)
async def test_marks_bar_and_footer_fit(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        bar = app.explorer.query_one(MarksBar)
        await find(pilot, "448")
        await pilot.press("s")
        await find(pilot, "2258")
        await pilot.press("d")
        await settle(pilot)
        line = bar.content
        assert isinstance(line, Text)
        assert cell_len(line.plain) <= bar.content_region.width
        assert "448" in line.plain and "2258" in line.plain and "m" in line.plain
        footer = app.explorer.query_one(Footer)
        width = app.size.width
        shown = {k.description for k in footer.query(FooterKey) if k.region.width and k.region.right <= width}
        assert {"Find", "Source", "Dest", "Mirror", "Sessions", "Quit", "Help"} <= shown, shown
        palette = footer.query_one(".-command-palette", FooterKey)
        assert palette.styles.border_left[0] in ("", "none")  # no stray "▏" before "^p palette"


# -- item 10: marks are visible in the tree and the detail panel -------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_marks_show_in_the_tree_and_the_detail_panel(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        tree = app.explorer.query_one(InventoryTree)
        detail = app.explorer.query_one(PortDetail)
        await find(pilot, "448")
        node = tree.cursor_node
        assert node is not None and node.parent is not None
        assert "src" not in str(node.label) and "Marked" not in plain(detail)
        await pilot.press("s")
        await settle(pilot)
        assert str(node.label).startswith("448   src ⇄ ")
        assert "src ⇄" in str(node.parent.label) and "F5-LTM01" in str(node.parent.label)
        assert "Marked" in plain(detail) and "source (ingress+egress)" in plain(detail)
        await pilot.press("s")
        await settle(pilot)
        assert "src in" in str(node.label) and "source (ingress)" in plain(detail)
        await find(pilot, "2258")
        await pilot.press("d")
        await settle(pilot)
        dest = tree.cursor_node
        assert dest is not None and dest.parent is not None
        assert " dest " in str(dest.label) and " dest " in str(dest.parent.label)
        assert "destination" in plain(detail)
        await pilot.press("x")
        await settle(pilot)
        for n in (node, node.parent, dest, dest.parent):
            assert "src" not in str(n.label) and "dest" not in str(n.label)
        assert "Marked" not in plain(detail)


# -- item 12: keys power users expect -----------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_j_k_g_G_in_the_tree_the_table_and_the_finder(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        tree = app.explorer.query_one(InventoryTree)
        assert tree.has_focus
        start = tree.cursor_line
        await pilot.press("j")
        assert tree.cursor_line == start + 1
        await pilot.press("k")
        assert tree.cursor_line == start
        await pilot.press("G")
        assert tree.cursor_line == tree.last_line
        await pilot.press("g")
        assert tree.cursor_line == 0
        await find(pilot, "448")
        await pilot.press("tab")
        await settle(pilot)
        table = table_of(app)
        assert table.has_focus
        row = table.cursor_row
        await pilot.press("j")
        assert table.cursor_row == row + 1
        await pilot.press("k", "k")
        assert table.cursor_row == row - 1
        await pilot.press("G")
        await settle(pilot)
        assert table.cursor_row == table.row_count - 1 and row_on_screen(table, table.cursor_row)
        await pilot.press("g")
        await settle(pilot)
        assert table.cursor_row == 0 and row_on_screen(table, 0)
        # The finder: letters go to the query while typing; j/k/g/G move in the results list.
        await pilot.press("slash", *"web-dmzjkgG")
        await settle(pilot)
        assert isinstance(app.screen, FindScreen)
        assert app.screen.query_one(Input).value == "web-dmzjkgG"
        await pilot.press(*["backspace"] * 4)
        await settle(pilot)
        results = app.screen.query_one(OptionList)
        results.focus()
        await settle(pilot)
        assert results.highlighted == 0 and results.option_count > 2
        await pilot.press("j")
        assert results.highlighted == 1
        await pilot.press("k")
        assert results.highlighted == 0
        await pilot.press("G")
        assert results.highlighted == results.option_count - 1
        await pilot.press("g")
        assert results.highlighted == 0


@pytest.mark.parametrize("size", SIZES)
async def test_quit_asks_while_a_wizard_is_open(size: tuple[int, int]) -> None:
    from tui.screens.confirm import ConfirmQuitScreen
    from tui.screens.wizard import SessionWizard

    app = demo_app()
    async with started(app, size) as pilot:
        await find(pilot, "448")
        await pilot.press("s", "m")
        await settle(pilot)
        assert isinstance(app.screen, SessionWizard)
        await pilot.press("ctrl+q")  # the wizard is modal: its fields take q as a letter
        await settle(pilot)
        assert isinstance(app.screen, ConfirmQuitScreen)
        box = app.screen.query_one("#confirm-box")
        assert box.region.right <= size[0] and box.region.bottom <= size[1]
        await pilot.press("enter")  # Stay is the default
        await settle(pilot)
        assert isinstance(app.screen, SessionWizard) and app.return_code is None
        await pilot.press("ctrl+q")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SessionWizard) and app.return_code is None
        await pilot.press("ctrl+q")
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0


async def test_q_quits_at_once_without_a_wizard() -> None:
    app = demo_app()
    async with started(app, (80, 24)) as pilot:
        await pilot.press("s")  # a mark is not a change sent or open: no question
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0


@pytest.mark.parametrize("size", SIZES)
async def test_palette_runs_explorer_actions(size: tuple[int, int]) -> None:
    from tui.screens.sessions import SessionsScreen
    from tui.screens.wizard import SessionWizard

    app = demo_app()
    async with started(app, size) as pilot:
        await find(pilot, "448")
        prompts = await palette_run(pilot, "mark the port as a mirror source")
        assert prompts[0].startswith("Mark the port as a mirror source")
        assert explorer(app).marks.sources == (("448", explorer(app).marks.sources[0][1]),)
        await find(pilot, "2258")
        await palette_run(pilot, "mark the port as a mirror destination")
        assert explorer(app).marks.destinations == ("2258",)
        await palette_run(pilot, "copy the port id")
        assert app.last_copy is not None and app.last_copy.sent and "MjI1OA" in app.last_copy.sent[0]
        await palette_run(pilot, "connected ports only")
        assert table_of(app).connected_only
        assert all(p.connectee is not None for p in table_of(app).ports)
        await palette_run(pilot, "new mirror session from the marks")
        assert isinstance(app.screen, SessionWizard)
        await pilot.press("escape")
        await settle(pilot)
        if not isinstance(app.screen, ExplorerScreen):  # a wizard that asks before discarding
            await pilot.press("escape")
            await settle(pilot)
        await palette_run(pilot, "open the mirror sessions")
        assert isinstance(app.screen, SessionsScreen)


async def test_palette_offers_no_new_session_in_read_only_mode() -> None:
    app = demo_app(read_only=True)
    async with started(app, (80, 24)) as pilot:
        prompts = await palette_search(pilot, "mirror session")
        assert any("mirror sessions of this switch" in p for p in prompts), prompts
        assert not any(p.startswith("New mirror session") for p in prompts), prompts


@pytest.mark.parametrize("size", SIZES)
async def test_filter_in_place_and_connected_only(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        await find(pilot, "448")
        table = table_of(app)
        everything = len(table.ports)
        assert everything == 48
        await pilot.press("ctrl+f")
        await settle(pilot)
        field = app.explorer.query_one("#filter", Input)
        assert field.display and field.has_focus
        await pilot.press(*"web")
        await settle(pilot)
        assert 0 < len(table.ports) < everything
        assert all("WEB" in str(table.get_row_at(i)[1]) for i in range(table.row_count))
        assert table.border_subtitle is not None and "filter 'web'" in table.border_subtitle
        assert f"{len(table.ports)} of 48" in table.border_subtitle
        # Words in hidden columns count too: a MAC (no MAC column at 80x24) finds its port.
        await pilot.press(*["backspace"] * 3, *"00:50:56:9a:1b:2c")
        await settle(pilot)
        assert [p.key for p in table.ports] == ["448"]
        await pilot.press("enter")
        await settle(pilot)
        assert table.has_focus and field.display
        await pilot.press("escape")
        await settle(pilot)
        assert not field.display and len(table.ports) == everything and table.has_focus
        assert not table.border_subtitle
        await pilot.press("c")
        await settle(pilot)
        assert table.connected_only and len(table.ports) == 7
        assert all(p.connectee is not None for p in table.ports)
        assert "connected only" in str(table.border_subtitle)
        await pilot.press("c")
        await settle(pilot)
        assert not table.connected_only and len(table.ports) == everything


async def test_a_jump_to_a_filtered_out_port_clears_the_filter() -> None:
    app = demo_app()
    async with started(app, (80, 24)) as pilot:
        await find(pilot, "2258")
        await pilot.press("ctrl+f", *"ids")
        await settle(pilot)
        table = table_of(app)
        assert [p.key for p in table.ports] == ["2241"]  # IDS-SENSOR01 (2258's VM is MGTSRVR003UX)
        await pilot.press("enter")
        await find(pilot, "2258")  # hidden by the filter: the jump clears it
        field = app.explorer.query_one("#filter", Input)
        assert not table.filter_text and field.value == "" and not field.display
        assert table.current_port is not None and table.current_port.key == "2258"
        assert row_on_screen(table, table.cursor_row)


@pytest.mark.parametrize("size", SIZES)
async def test_sort_by_column(size: tuple[int, int]) -> None:
    app = demo_app()
    async with started(app, size) as pilot:
        await find(pilot, "448")
        table = table_of(app)
        await pilot.press("tab", "o")
        await settle(pilot)
        assert table.sort_column == "port"
        assert str(next(iter(table.columns.values())).label) == "Port ▲"
        await pilot.press("o")
        await settle(pilot)
        assert table.sort_column == "vm" and "sorted by VM" in str(table.border_subtitle)
        names = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        named = [n for n in names if n != "(free)"]
        assert named == sorted(named) and names[: len(named)] == named  # free ports last
        assert table.current_port is not None and table.current_port.key == "448"  # the cursor stays
        assert row_on_screen(table, table.cursor_row)
        await pilot.press("O")
        await settle(pilot)
        assert table.sort_reverse
        reverse = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert [n for n in reverse if n != "(free)"] == sorted(named, reverse=True)
        # A click on a header sorts by it.
        await pilot.click(PortTable, offset=(3, 1))
        await settle(pilot)
        assert table.sort_column == "port" and not table.sort_reverse
        keys = [int(p.key) for p in table.ports]
        assert keys == sorted(keys)


async def test_a_palette_go_to_is_handled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """GoTo does not bubble: the explorer's copy must not come back to the app and loop."""
    from tui.messages import GoTo

    app = demo_app()
    async with started(app, (80, 24)) as pilot:
        calls: list[str] = []
        real = app.explorer.go_to

        def spy(target: Port | PortlessNic) -> None:
            calls.append(target.key if isinstance(target, Port) else "portless")
            real(target)

        monkeypatch.setattr(app.explorer, "go_to", spy)
        assert app.inventory is not None
        port = app.inventory.port(next(iter(app.inventory.switches)), "448")
        assert port is not None
        app.post_message(GoTo(port))
        for _ in range(10):
            await pilot.pause()
        assert calls == ["448"]


async def _loaded_big(app: DvMirrorApp, pilot: object) -> None:
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    for _ in range(300):  # 5,000 VMs: indexing takes a moment on a busy machine
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
        if app.index is not None:
            break
    assert app.index is not None, "the inventory did not load"
    await settle(pilot)


def _big_app(tmp_path: Path) -> DvMirrorApp:
    from tests import labgen
    from tui.app import build_app
    from tui.backends.snapshot import SnapshotBackend

    path = tmp_path / "scaled.json"
    labgen.write(labgen.scaled_lab(5000), path)
    return build_app(SnapshotBackend(path), environ={})


async def _until_measured(pilot: object, table: PortTable) -> None:
    """Wait until the columns are fitted to every row (a big listing's are, just after its first frame)."""
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    for _ in range(100):
        if not table.measuring:
            break
        await pilot.pause(0.02)
    assert not table.measuring
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
async def test_a_whole_switch_lists_every_port(tmp_path: Path, size: tuple[int, int]) -> None:
    """A switch of thousands of ports lists every one of them: G reaches the last row (on screen,
    in the detail panel), the columns fit every row once measured (the last row's VM name is not
    cut), a row far down can be marked (its Mirror cell, the marks bar)."""
    from widgets.port_table import MEASURE_AT_ONCE

    app = _big_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await _loaded_big(app, pilot)
        table = table_of(app)
        await _until_measured(pilot, table)
        assert app.inventory is not None
        switch = next(iter(app.inventory.switches))
        assert len(table.listed) == len(app.inventory.ports_by_switch[switch]) > MEASURE_AT_ONCE
        assert table.row_count == len(table.listed) == len(table.ports), "every port is a row"
        table.focus()
        await pilot.press("G")
        await settle(pilot)
        last = table.ports[-1]
        assert table.cursor_row == table.row_count - 1 and row_on_screen(table, table.cursor_row)
        assert shown_port(table) == last.key and app.explorer.current_port == last
        assert explorer(app).query_one(PortDetail).border_title == f"Port {last.key}"
        # The columns fit rows far below the first screen (measured after it): no VM name is cut.
        on_vm = [i for i, p in enumerate(table.ports) if app.inventory.vm_nic(p) is not None]
        for i in (on_vm[0], on_vm[-1]):
            vmnic = app.inventory.vm_nic(table.ports[i])
            assert vmnic is not None
            assert str(table.get_row_at(i)[table.layout_now.keys.index("vm")]) == vmnic[0].name
        await pilot.press("s")
        await settle(pilot)
        mirror = table.layout_now.keys.index("mirror")
        assert "[src ⇄]" in str(table.get_row_at(table.row_count - 1)[mirror])
        assert app.explorer.marks.sources and app.explorer.marks.sources[0][0] == last.key
        assert last.key in str(explorer(app).query_one(MarksBar).line(0))
        await pilot.press("g")
        await settle(pilot)
        assert table.cursor_row == 0 and row_on_screen(table, 0)
        # Page by page to the end (DataTable's paging), and scrolled to the end: every row is reachable.
        pages = 0
        while table.cursor_row < table.row_count - 1 and pages < 1000:
            await pilot.press("pagedown")
            pages += 1
        assert table.cursor_row == table.row_count - 1 and pages > table.row_count // table.size.height
        await pilot.press("g")
        table.scroll_end(animate=False, immediate=True)
        await settle(pilot)
        assert table.row_count - 1 in table.visible_rows() and table.cursor_row == 0


async def test_filter_and_sort_reach_every_row(tmp_path: Path) -> None:
    """On a switch of thousands of ports, the filter and the sort work on all of them (the filter
    waiting for a pause in typing); clearing the filter brings every row back, the cursor staying
    on the port found."""
    app = _big_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded_big(app, pilot)
        table = table_of(app)
        await _until_measured(pilot, table)
        assert len(table.listed) > 2000 and table.row_count == len(table.listed)
        last_vm = max(p for p in (str(c) for c in (table.get_row_at(i)[1] for i in range(table.row_count))))
        await pilot.press("ctrl+f", *"vm-04999")
        await pilot.pause(0.4)  # a whole switch: the filter waits for a pause in typing
        await settle(pilot)
        assert [str(table.get_row_at(i)[1]) for i in range(table.row_count)] == ["vm-04999"]
        assert "1 of" in str(table.border_subtitle)
        await pilot.press("escape")
        await _until_measured(pilot, table)
        # All rows back, and the cursor stays on the port found, far down the table.
        assert table.row_count == len(table.listed) and str(table.get_row_at(table.cursor_row)[1]) == "vm-04999"
        assert table.cursor_row > 2000 and row_on_screen(table, table.cursor_row)
        await pilot.press("o", "o", "O")  # sort by VM, reversed
        await _until_measured(pilot, table)
        assert app.inventory is not None
        names = [vn[0].name for p in table.listed if (vn := app.inventory.vm_nic(p)) is not None]
        first = str(table.get_row_at(0)[1])
        assert first == max(names) and first == last_vm
