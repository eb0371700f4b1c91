"""Pilot tests of the explorer: tree navigation, find, marks, copy, small terminals."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets import OptionList

from tests.helpers import notifications, started
from tests.tui.conftest import demo_app, loaded, palette_run, settle
from tui.clipboard import osc52
from tui.screens.explorer import ExplorerScreen
from tui.screens.find import FindScreen
from tui.screens.help import HelpScreen
from widgets.inventory_tree import InventoryTree
from widgets.marks_bar import MarksBar
from widgets.port_detail import PortDetail
from widgets.port_table import PortTable


def explorer(app: object) -> ExplorerScreen:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, ExplorerScreen)
    return screen


def plain(widget: PortDetail) -> str:
    """The detail panel's text as shown."""
    lines = widget.app.console.render_lines(widget.content, widget.app.console.options.update_width(100))  # type: ignore[arg-type]
    return "\n".join("".join(seg.text for seg in line).rstrip() for line in lines)


async def test_keyboard_navigation_to_port_448() -> None:
    app = demo_app()
    async with started(app) as pilot:
        await settle(pilot)
        screen = explorer(app)
        tree = screen.query_one(InventoryTree)
        assert tree.has_focus
        assert tree.cursor_node is not None and tree.cursor_node.data is not None
        assert tree.cursor_node.data.kind == "switch"
        # uplinks, dvPg[prod], dvPgApp, dvPgDMZ
        await pilot.press("down", "down", "down", "down")
        assert str(tree.cursor_node.label).startswith("dvPgDMZ")
        table = screen.query_one(PortTable)
        assert table.border_title is not None and table.border_title.startswith("dvPgDMZ  48 ports")
        await pilot.press("enter", "down")
        assert str(tree.cursor_node.label) == "F5-LTM01"
        await pilot.press("enter", "down")
        await settle(pilot)
        assert str(tree.cursor_node.label).startswith("448")
        assert screen.current_port is not None and screen.current_port.key == "448"
        text = plain(screen.query_one(PortDetail))
        assert "F5-LTM01" in text and "Network adapter 2" in text and "dvPgDMZ" in text
        assert "esx-03" in text and "DMZ-IDS  source (ingress+egress)" in text
        assert table.current_port is not None and table.current_port.key == "448"


async def test_find_port_2258_by_key() -> None:
    app = demo_app()
    async with started(app) as pilot:
        await pilot.press("slash")
        await settle(pilot)
        assert isinstance(app.screen, FindScreen)
        await pilot.press(*"2258", "enter")
        await settle(pilot)
        screen = explorer(app)
        assert screen.current_port is not None and screen.current_port.key == "2258"
        tree = screen.query_one(InventoryTree)
        assert tree.cursor_node is not None and str(tree.cursor_node.label).startswith("2258")
        assert tree.cursor_node.parent is not None and str(tree.cursor_node.parent.label) == "MGTSRVR003UX"
        text = plain(screen.query_one(PortDetail))
        assert "MGTSRVR003UX" in text and "dvPgMirror" in text


async def test_find_vm_lists_its_ports_and_picks_one() -> None:
    app = demo_app()
    async with started(app) as pilot:
        await pilot.press("slash", *"MGTSRVR003UX")
        await settle(pilot)
        finder = app.screen
        assert isinstance(finder, FindScreen)
        assert [h.port.key if h.port else None for h in finder.hits] == ["300", "2258"]
        assert finder.query_one(OptionList).option_count == 2
        await pilot.press("down", "enter")
        await settle(pilot)
        assert explorer(app).current_port is not None and explorer(app).current_port.key == "2258"  # type: ignore[union-attr]


async def test_find_ip_then_escape_keeps_selection() -> None:
    app = demo_app()
    async with started(app) as pilot:
        await pilot.press("slash", *"172.24.4.52", "enter")
        await settle(pilot)
        screen = explorer(app)
        assert screen.current_port is not None and screen.current_port.key == "302"
        assert "KRBCLIENT01" in plain(screen.query_one(PortDetail))
        await pilot.press("slash", *"zzz-nothing")
        await settle(pilot)
        assert isinstance(app.screen, FindScreen) and app.screen.hits == []
        await pilot.press("enter", "escape")
        await settle(pilot)
        assert explorer(app).current_port is not None and explorer(app).current_port.key == "302"  # type: ignore[union-attr]


async def test_marks_and_copy() -> None:
    app = demo_app()
    notes = notifications(app)
    async with started(app) as pilot:
        written: list[str] = []
        assert app._driver is not None
        original = app._driver.write

        def write(data: str) -> None:
            written.append(data)
            original(data)

        app._driver.write = write  # type: ignore[method-assign]
        await pilot.press("slash", *"448", "enter")
        await settle(pilot)
        await pilot.press("s")
        screen = explorer(app)
        assert screen.marks.sources == (("448", screen.marks.sources[0][1]),)
        await pilot.press("s")  # ingress
        await pilot.press("s", "s")  # egress, then off
        assert not screen.marks
        await pilot.press("s")  # both again
        await pilot.press("y", "y")  # the copy chooser; y again copies the port ID
        await settle(pilot)
        assert app.clipboard == "448"
        assert osc52("448") in written
        await pilot.press("slash", *"2258", "enter")
        await settle(pilot)
        await pilot.press("d")
        bar = screen.query_one(MarksBar)
        shown = str(bar.content) if not isinstance(bar.content, Text) else bar.content.plain
        assert "Sources 448 (ingress+egress)" in shown and "Destinations 2258" in shown
        table = screen.query_one(PortTable)
        assert table.current_port is not None and table.current_port.key == "2258"
        assert "[dest]" in table.get_row_at(table.cursor_row)[5].plain
        # A port on the other switch is refused with a message, marks unchanged.
        await pilot.press("slash", *"NTP01/Network adapter 1", "enter")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert screen.marks.destinations == ("2258",)
        assert any("a mirror session lives on one switch" in n for n in notes)
        await pilot.press("x")
        assert not screen.marks


async def test_copy_inside_tmux_uses_passthrough() -> None:
    from tui.app import build_app
    from tui.backends.snapshot import SnapshotBackend

    app = build_app(SnapshotBackend(), environ={"TMUX": "/tmp/tmux-0/default,1,0"})
    async with started(app) as pilot:
        await pilot.press("slash", *"2258", "enter")
        await settle(pilot)
        await pilot.press("y", "y")
        await settle(pilot)
        assert app.last_copy is not None and len(app.last_copy.sent) == 2
        assert app.last_copy.sent[1].startswith("\x1bPtmux;")


async def test_help_lists_the_keys() -> None:
    app = demo_app()
    async with started(app) as pilot:
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ExplorerScreen)


async def test_small_terminal_is_usable() -> None:
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        screen = explorer(app)
        for selector in ("#tree", "#ports", "#detail", "#marks"):
            region = screen.query_one(selector).region
            assert region.width > 0 and region.height > 0, selector
        assert screen.query_one("#ports").region.height >= 5
        await pilot.press("slash", *"2258", "enter")
        await settle(pilot)
        assert screen.current_port is not None and screen.current_port.key == "2258"
        await pilot.press("s")
        assert screen.marks.sources


async def test_hostile_names_render_literally() -> None:
    app = demo_app()
    async with started(app) as pilot:
        await pilot.press("slash", *"[/x]", "enter")
        await settle(pilot)
        screen = explorer(app)
        tree = screen.query_one(InventoryTree)
        assert tree.cursor_node is not None and tree.cursor_node.parent is not None
        label = tree.cursor_node.parent.label
        assert isinstance(label, Text) and label.plain == "[/x]"
        assert "[/x]" in plain(screen.query_one(PortDetail))


async def test_hostile_portgroup_titles_and_messages() -> None:
    """Border titles and notifications are markup in Textual: names must not break them."""
    app = demo_app()
    notes = notifications(app)
    async with started(app) as pilot:
        await pilot.press("slash", *"NTP01/Network adapter 2", "enter")
        await settle(pilot)
        screen = explorer(app)
        table = screen.query_one(PortTable)
        assert table.border_title is not None and "[/x]" in str(table.render_str(table.border_title))
        tree = screen.query_one(InventoryTree)
        await pilot.press("up", "up")  # from the port, past its VM, to the "[/x]" portgroup node
        await settle(pilot)
        assert tree.cursor_node is not None
        label = tree.cursor_node.label
        assert isinstance(label, Text) and label.plain.startswith("[/x]")
        await pilot.press("s")  # a port on dvSwitchMgmt ...
        await pilot.press("slash", *"vm[prod]", "enter")
        await settle(pilot)
        await pilot.press("d")  # ... then one on dvSwitchCloud: refused, with names in the message
        await settle(pilot)
        assert any("dvSwitchMgmt" in n for n in notes)
        app.export_screenshot()  # renders every title and toast: a markup error would raise here


async def test_command_palette_goes_to_a_vm() -> None:

    app = demo_app()
    async with started(app) as pilot:
        await palette_run(pilot, "KRBCLIENT01")
        screen = explorer(app)
        assert screen.current_port is not None and screen.current_port.key == "302"


async def test_palette_requests_reach_the_explorer_through_the_app() -> None:
    """The palette's "Go to port…" opens the finder only over the explorer; "Go to …" reaches the
    explorer even under the sessions screen (tui/messages.py: posted to the app, posted on)."""
    from tui.messages import GoTo, OpenFind
    from tui.screens.sessions import SessionsScreen

    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        screen = explorer(app)
        await pilot.press("S")
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
        app.post_message(OpenFind())
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
        assert app.inventory is not None
        port = app.inventory.port(next(iter(app.inventory.switches)), "302")
        assert port is not None
        app.post_message(GoTo(port))
        await settle(pilot)
        assert screen.current_port is port
        await pilot.press("escape")
        await settle(pilot)
        app.post_message(OpenFind())
        await settle(pilot)
        assert isinstance(app.screen, FindScreen)


async def test_keymap_from_config() -> None:
    from tui.app import build_app
    from tui.backends.snapshot import SnapshotBackend

    app = build_app(SnapshotBackend(), keymap={"find": "f", "mark_source": "a"}, environ={})
    async with started(app) as pilot:
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FindScreen)
        await pilot.press(*"448", "enter")
        await settle(pilot)
        await pilot.press("a")
        assert explorer(app).marks.sources


async def test_finder_lists_a_vm_on_no_port_and_shows_it(tmp_path: Path) -> None:
    """Stock vcsim's shape (a NIC on a portgroup without a port key) and a standard network, from
    tests/labgen.py's portless lab: the finder lists them, enter shows the VM and NIC, no port."""
    from tests import labgen
    from tui.app import build_app
    from tui.backends.snapshot import SnapshotBackend

    path = tmp_path / "portless.json"
    labgen.write(labgen.portless_lab(), path)
    app = build_app(SnapshotBackend(path), environ={})
    async with started(app) as pilot:
        await pilot.press("slash", *"EDGE01")
        await settle(pilot)
        finder = app.screen
        assert isinstance(finder, FindScreen)
        assert [(h.port.key if h.port else None) for h in finder.hits] == ["1", None]
        results = finder.query_one(OptionList)
        assert results.option_count == 2
        second = str(results.get_option_at_index(1).prompt)
        assert second.split()[0] == "none" and "EDGE01 / Network adapter 2" in second
        assert "no port: on VM Network: not on a distributed port" in second
        status = str(finder.query_one("#find-status").render())
        assert "1 port, 1 VM NIC on no port" in status
        await pilot.press("down", "enter")
        await settle(pilot)
        screen = explorer(app)
        assert screen.current_port is None
        detail = screen.query_one(PortDetail)
        text = plain(detail)
        assert "EDGE01" in text and "Network adapter 2" in text and "00:50:56:ab:00:02" in text
        assert "none  on VM Network: not on a distributed port" in text and "192.168.7.10" in text
        assert detail.border_title == "EDGE01 / Network adapter 2: no port"
        await pilot.press("s")  # nothing to mark
        await settle(pilot)
        assert not screen.marks
        # A VM without a NIC is found too.
        await pilot.press("slash", *"NONIC01", "enter")
        await settle(pilot)
        assert "the VM has no network adapter" in plain(screen.query_one(PortDetail))
        # Back to a real port: the detail is the port's again.
        await pilot.press("slash", *"EDGE01", "enter")
        await settle(pilot)
        assert screen.current_port is not None and screen.current_port.key == "1"
        assert "Sessions" in plain(screen.query_one(PortDetail))


async def test_command_palette_shows_a_vm_on_no_port(tmp_path: Path) -> None:

    from tests import labgen
    from tui.app import build_app
    from tui.backends.snapshot import SnapshotBackend

    path = tmp_path / "portless.json"
    labgen.write(labgen.portless_lab(), path)
    app = build_app(SnapshotBackend(path), environ={})
    async with started(app) as pilot:
        await palette_run(pilot, "STD-ONLY01")
        screen = explorer(app)
        assert screen.current_port is None
        text = plain(screen.query_one(PortDetail))
        assert "STD-ONLY01" in text and "on VM Network: not on a distributed port" in text


async def test_a_nic_on_a_portgroup_without_a_port_is_in_the_tree(tmp_path: Path) -> None:
    """Stock vcsim's shape: the backing names the portgroup, no portKey. The finder jumps to the
    NIC's node under its VM under the portgroup, and the detail pane says it has no port."""
    from tests import labgen
    from tui.app import build_app
    from tui.backends.snapshot import SnapshotBackend

    path = tmp_path / "portless.json"
    labgen.write(labgen.portless_lab(), path)
    app = build_app(SnapshotBackend(path), environ={})
    async with started(app) as pilot:
        await pilot.press("slash", *"STOCKLIKE01", "enter")
        await settle(pilot)
        screen = explorer(app)
        tree = screen.query_one(InventoryTree)
        node = tree.cursor_node
        assert node is not None and node.data is not None and node.data.kind == "nic"
        assert str(node.label) == "Network adapter 1  no port"
        assert node.parent is not None and str(node.parent.label) == "STOCKLIKE01"
        pg = node.parent.parent
        assert pg is not None and str(pg.label).startswith("dvPgEdge")
        assert [str(c.label).split()[0] for c in pg.children] == [
            "CLAIM01",
            "DISCO01",
            "EDGE01",
            "GHOST01",
            "NOMAC01",
            "STOCKLIKE01",
        ]
        assert screen.current_port is None
        text = plain(screen.query_one(PortDetail))
        assert "STOCKLIKE01" in text and "on portgroup dvPgEdge with no port assigned (no portKey)" in text
        # Up to the VM node (no port of its own): the same NIC; up again, EDGE01's port is a port.
        await pilot.press("up")
        await settle(pilot)
        assert "on portgroup dvPgEdge with no port assigned" in plain(screen.query_one(PortDetail))


async def test_keymap_new_ids_old_ids_and_unknown_ids() -> None:
    """New ids and TOML tables work; old ids still work with a note; unknown ids are reported."""
    from tui.app import build_app
    from tui.backends.snapshot import SnapshotBackend

    keymap = {"explorer.find": "f", "mark_source": "a", "sessions.new": "N", "sesions.edit": "E"}
    app = build_app(SnapshotBackend(), keymap=keymap, environ={})
    notes = notifications(app)
    async with started(app) as pilot:
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FindScreen)
        await pilot.press(*"448", "enter")
        await settle(pilot)
        await pilot.press("a")
        assert explorer(app).marks.sources
        assert any(n.startswith("Unknown keymap id 'sesions.edit' in config.toml; known: app.help,") for n in notes)
        assert any("'mark_source' in config.toml is an old name" in n and "'explorer.mark_source'" in n for n in notes)
        assert not any("explorer.find'" in n or "sessions.new'" in n for n in notes), notes
