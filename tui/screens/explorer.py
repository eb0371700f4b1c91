"""The explorer: Networking tree, port table, port detail, marks bar."""

from __future__ import annotations

import time

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, ProgressBar

from tui.backends import Backend, BackendError, LoadProgress, StatisticsUnsupported
from tui.clipboard import copy_choices
from tui.commands import ExplorerCommands
from tui.inventory_update import Delta
from tui.live_traffic import LIVE_INTERVAL, LIVE_SETTLE, LiveTraffic, live_subtitle
from tui.marks import MarkError, Marks
from tui.messages import (
    AppliedChange,
    CopyRequested,
    GoTo,
    LiveTrafficRead,
    OpenFind,
    OpenSessions,
    OpenWizard,
    app_state,
)
from tui.model import ChangeOperation, Inventory, Port, PortlessNic, new_session
from tui.screens.copy import CopyScreen
from tui.text import SafeText as Text
from tui.text import visible
from widgets.app_header import AppHeader
from widgets.inventory_tree import InventoryTree, NodeRef
from widgets.marks_bar import MarksBar
from widgets.port_detail import PortDetail
from widgets.port_table import PortTable
from widgets.safe_input import SafeInput

# Ports listed above which the filter waits for a pause in typing.
_DEBOUNCE_FILTER = 2_000
# The worker group of the live-traffic readings (one at a time, of the port shown).
LIVE_GROUP = "live-traffic"


class ExplorerScreen(Screen[None]):
    """Browse switch → portgroup → VM → port; find, mark and copy ports."""

    BINDINGS = [
        Binding(
            "slash",
            "find",
            "Find",
            key_display="/",
            id="explorer.find",
            tooltip="Find a port by VM, NIC, IP, MAC or port ID",
        ),
        Binding(
            "s",
            "mark_source",
            "Source",
            id="explorer.mark_source",
            tooltip="Mark the port as a mirror source; again: ingress+egress → ingress → egress → off",
        ),
        Binding(
            "d", "mark_dest", "Dest", id="explorer.mark_dest", tooltip="Mark or unmark the port as a mirror destination"
        ),
        Binding("x", "clear_marks", "Clear", id="explorer.clear_marks", tooltip="Clear every mark", show=False),
        Binding(
            "y",
            "copy",
            "Copy",
            id="explorer.copy",
            tooltip="Copy the port ID (y again or enter), MAC, IP, VM name or VM/NIC (OSC 52, works over SSH)",
        ),
        Binding("m", "mirror", "Mirror", id="explorer.mirror", tooltip="New mirror session from the marked ports"),
        Binding(
            "t",
            "live_traffic",
            "Traffic",
            id="explorer.live_traffic",
            tooltip=f"Live traffic of the port every {LIVE_INTERVAL:g} s: packets, bytes and drops per second, "
            "in and out; again: stop",
            show=False,
        ),
        Binding("S", "sessions", "Sessions", id="explorer.sessions", tooltip="Mirror sessions of this switch"),
        Binding(
            "P",
            "prepare_monitor",
            "Monitor port",
            id="explorer.prepare_monitor",
            tooltip="Put this VM's adapter on a mirror portgroup (dvPgMirror), created if needed",
            show=False,
        ),
        Binding(
            "C",
            "app.contexts",
            "Contexts",
            id="explorer.contexts",
            tooltip="Switch to another vCenter (context)",
            show=False,
        ),
        Binding("r", "app.refresh", "Refresh", id="explorer.refresh", tooltip="Reload the inventory", show=False),
        Binding(
            "ctrl+f",
            "filter",
            "Filter",
            id="explorer.filter",
            tooltip="Filter the port table: type words found in any column (esc clears)",
            show=False,
        ),
        Binding(
            "c", "connected", "Connected", id="explorer.connected", tooltip="Connected ports only, or all", show=False
        ),
        Binding("o", "sort", "Sort", id="explorer.sort", tooltip="Sort the port table by the next column", show=False),
        Binding("O", "sort_reverse", "Reverse", id="explorer.sort_reverse", tooltip="Reverse the sort", show=False),
        Binding(
            "escape", "clear_filter", "Clear filter", id="explorer.clear_filter", tooltip="Clear the filter", show=False
        ),
        Binding("j", "cursor('down')", "Down", id="explorer.down", tooltip="Down in the tree or table", show=False),
        Binding("k", "cursor('up')", "Up", id="explorer.up", tooltip="Up in the tree or table", show=False),
        Binding("g", "cursor('top')", "Top", id="explorer.top", tooltip="First line of the tree or table", show=False),
        Binding(
            "G",
            "cursor('bottom')",
            "Bottom",
            id="explorer.bottom",
            tooltip="Last line of the tree or table",
            show=False,
        ),
    ]
    COMMANDS = {ExplorerCommands}

    def __init__(self) -> None:
        super().__init__()
        self.marks = Marks()
        self.current_port: Port | None = None
        self._selection: NodeRef | None = None
        self._filter_timer: Timer | None = None
        self._listing: tuple[str, str] = ("", "")
        """What the port table lists now, e.g. ``("portgroup", "dvportgroup-46")``."""
        self.live_on = False
        """Live traffic is toggled on: the port shown is read while this screen is the active one."""
        self.live_interval = LIVE_INTERVAL
        """Seconds between two readings (tests make it longer and read with :meth:`refresh_live`)."""
        self.live_settle = LIVE_SETTLE
        """Seconds to wait after the port shown changed before reading the new one."""
        self.live: LiveTraffic | None = None
        """What is known of the port being watched (``None``: not watching)."""
        self._live_generation = 0
        self._live_timer: Timer | None = None
        self._live_reading = False
        """A reading is on its way (the next one is scheduled when it arrives)."""
        self._live_key = ""
        self._live_paused = False
        """Readings stopped because another screen is on top (they start again when it closes)."""

    @property
    def inventory(self) -> Inventory | None:
        """The inventory shown."""
        return app_state(self.app).inventory

    def compose(self) -> ComposeResult:
        """Layout: header, tree | (table / detail), progress, marks bar, footer."""
        yield AppHeader(id="header")
        with Horizontal(id="main"):
            yield InventoryTree(id="tree")
            with Vertical(id="right"):
                yield SafeInput(
                    placeholder="Filter: words in any column (enter: table, esc: clear)", id="filter", compact=True
                )
                yield PortTable(id="ports")
                yield PortDetail(id="detail")
        yield ProgressBar(id="progress", show_eta=False)
        yield MarksBar(id="marks")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Wait for the inventory."""
        app = app_state(self.app)
        self.query_one(AppHeader).show("", app.backend.label, app.read_only, app.backend.insecure, app.read_only_hint)
        self.query_one(InventoryTree).show_message(f"Loading {app.backend.label}…")
        self.query_one("#ports", PortTable).border_title = "Ports"
        self.query_one("#detail", PortDetail).border_title = "Port"
        self.query_one("#tree", InventoryTree).border_title = "Networking"
        self.query_one(MarksBar).show_marks(None, self.marks)
        self.query_one(PortDetail).show_port(None, None)
        self.query_one("#filter", SafeInput).display = False
        self.watch(self.app, "inventory", self._inventory_changed, init=True)
        self.watch(self.app, "live", self._live_changed, init=False)
        self.watch(self.app, "load_progress", self._progress_changed, init=True)
        self.watch(self.app, "index", self._index_changed, init=True)
        self.watch(self.app, "last_change", self._change_applied, init=False)

    # -- inventory ------------------------------------------------------------------------

    def _live_changed(self, _state: object) -> None:
        self.query_one(AppHeader).set_live(app_state(self.app).live_label)

    def _inventory_changed(self, inventory: Inventory | None) -> None:
        if inventory is None:
            if self.query_one(InventoryTree).inventory is not None:  # withdrawn (an interrupted load)
                self.withdraw("No inventory: the load was interrupted. Press r to load again.")
            return
        self.show_header()
        tree = self.query_one(InventoryTree)
        delta = app_state(self.app).inventory_delta
        if delta is not None and delta.inventory is not inventory:
            delta = None
        tree.set_inventory(inventory, delta)
        if self.marks and self.marks.switch not in inventory.switches:
            self.marks = Marks()
        tree.show_marks(self.marks)
        if self.current_port is not None:
            self.current_port = inventory.port(self.current_port.switch, self.current_port.key)
        table = self.query_one("#ports", PortTable)
        row_port, scroll = self.current_port, table.scroll_y
        if delta is not None and delta.inventory is inventory and self._rows_unchanged(delta):
            table.keep_rows(inventory)  # nothing it lists changed: no refill, no repaint
            self._set_port(self.current_port)  # the detail (its drift warnings) from the new inventory
        elif self._selection is not None:
            self._show_selection(self._selection, now=True)
            # The port under the table's cursor stays there, and the table where it was scrolled.
            if row_port is not None and row_port in table.ports and table.cursor_row >= 0:
                table.select_port(row_port)
                self.call_after_refresh(table.scroll_to, y=scroll, animate=False)
        self.query_one(MarksBar).show_marks(inventory, self.marks)
        if not tree.has_focus and not self.query_one(PortTable).has_focus:
            tree.focus()

    def _rows_unchanged(self, delta: Delta) -> bool:
        """Nothing the port table shows changed in ``delta``: the same ports, VMs and NICs, title and
        sessions (a changed switch or portgroup, or a NIC node's detail, fill it again)."""
        table = self.query_one("#ports", PortTable)
        ref, change = self._selection, delta.change
        if ref is None or ref.kind == "nic" or table.inventory is not delta.base:
            return False
        if change.switches or change.portgroups or change.vms_gone or change.ports_gone:
            return False
        listing, _title, ports, _port = self._ports_for(ref)
        if listing != self._listing or not ports or len(ports) != len(table.listed):
            return False
        old, new = delta.base, delta.inventory
        if listing[0] == "vm" and old.vms.get(listing[1]) is not new.vms.get(listing[1]):
            return False  # its name is the table's title
        for port, shown in zip(ports, table.listed, strict=True):
            if port is not shown:
                return False
            before, after = old.vm_nic(port), new.vm_nic(port)
            if before is None or after is None:
                if before is not after:
                    return False
            elif before[0] is not after[0] or before[1] is not after[1]:
                return False
        return True

    def show_header(self) -> None:
        """The header: context, vCenter and datacenters of the inventory shown, source and mode."""
        app = app_state(self.app)
        inventory = app.inventory
        where = ""
        if inventory is not None:
            dc = " / ".join(inventory.datacenters)
            where = f"{inventory.vcenter}{' / ' + dc if dc else ''}"
        if app.context_name:
            where = f"[{app.context_name}] {where}".rstrip()
        self.query_one(AppHeader).show(
            where, app.backend.label, app.read_only, app.backend.insecure, app.read_only_hint
        )
        self.query_one(AppHeader).set_live(app.live_label)

    def save_view(self) -> object:
        """The marks and selection, kept by the app while another context is shown."""
        return (self.marks, self._selection, self.current_port)

    def restore_view(self, view: object) -> None:
        """Marks and selection of the context switched to (``None``: a context never shown)."""
        self._follow_live(None)
        self._listing = ("", "")
        if isinstance(view, tuple) and len(view) == 3:
            self.marks, self._selection, self.current_port = view
        else:
            self.marks, self._selection, self.current_port = Marks(), None, None

    def _index_changed(self, index: object) -> None:
        self.query_one("#progress", ProgressBar).display = index is None

    def withdraw(self, text: str) -> None:
        """Show ``text`` instead of the tree and empty the port table (nothing partial stays)."""
        self.query_one(InventoryTree).show_message(text)
        table = self.query_one("#ports", PortTable)
        table.clear()
        table.border_title = "Ports"
        table.border_subtitle = ""
        self._listing = ("", "")
        self._selection = None
        self.current_port = None
        self._follow_live(None)
        self.query_one(PortDetail).show_port(None, None)
        self._detail_subtitle()
        self.query_one("#progress", ProgressBar).display = False

    def _progress_changed(self, step: LoadProgress | None) -> None:
        """Show a load step."""
        if step is None:
            return
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True
        bar.update(total=step.total, progress=step.done)
        bar.tooltip = Text(step.message)  # it names switches: never markup

    # -- selection ------------------------------------------------------------------------

    @on(InventoryTree.Highlighted)
    def _tree_highlighted(self, event: InventoryTree.Highlighted) -> None:
        self._show_selection(event.ref)

    @on(PortTable.PortHighlighted)
    def _row_highlighted(self, event: PortTable.PortHighlighted) -> None:
        self._set_port(event.port)

    def _ports_for(self, ref: NodeRef) -> tuple[tuple[str, str], str, list[Port], Port | None]:
        """(what the table lists, its title, the ports, the port to select) for a tree node."""
        inv = self.inventory
        assert inv is not None
        nothing: tuple[tuple[str, str], str, list[Port], Port | None] = (("", ""), "", [], None)
        # A refresh (or a partial inventory still loading) may lack what was selected: show nothing.
        if ref.kind == "switch":
            sw = inv.switches.get(ref.switch)
            if sw is None:
                return nothing
            return ("switch", ref.switch), sw.name, list(inv.ports_by_switch.get(ref.switch, ())), None
        if ref.kind == "portgroup":
            pg = inv.portgroups.get(ref.portgroup)
            if pg is None:
                return nothing
            return ("portgroup", pg.key), pg.name, list(inv.ports_by_portgroup.get(ref.portgroup, ())), None
        if ref.kind in ("vm", "nic"):
            vm = inv.vms.get(ref.vm)
            if vm is None:
                return nothing
            ports = [p for n in vm.nics if n.port and (p := inv.port(n.switch, n.port)) is not None]
            return ("vm", vm.key), vm.name, ports, None
        if ref.kind == "port":
            port = inv.port(ref.switch, ref.port)
            if port is None:
                return nothing
            pg = inv.portgroups.get(port.portgroup)
            if pg is not None:
                return ("portgroup", pg.key), pg.name, list(inv.ports_by_portgroup.get(port.portgroup, ())), port
            return ("port", port.key), "standalone", [port], port
        return nothing

    def _show_selection(self, ref: NodeRef, now: bool = False) -> None:
        inv = self.inventory
        if inv is None or ref.kind in ("info", "vcenter", "datacenter"):
            return
        self._selection = ref
        listing, title, ports, port = self._ports_for(ref)
        if port is not None:
            self._set_port(port)
        # A NIC node, or a VM node with no port: the VM's NIC on this portgroup that has no port.
        loose = self._portless_at(ref) if not ports or ref.kind == "nic" else None
        table = self.query_one("#ports", PortTable)
        if listing == self._listing and not now:
            # Same ports as shown (moving between ports of one portgroup): just move the row cursor.
            if port is not None:
                table.select_port(port)
        else:
            # At once, with no debounce: the table draws only the rows on screen, so a 25,000-port
            # switch fills in about the time of a portgroup (tests/bench/bench_table.py).
            self._fill_table(listing, title, ports, port)
        if loose is not None:  # after the table, which may have cleared the detail pane
            self.show_portless(loose)

    def _fill_table(self, listing: tuple[str, str], title: str, ports: list[Port], select: Port | None) -> None:
        inv = self.inventory
        if inv is None:
            return
        self._listing = listing
        table = self.query_one("#ports", PortTable)
        table.show_ports(inv, ports, self.marks, select)
        connected = sum(1 for p in ports if p.connectee is not None)
        # Border titles are markup: vCenter names such as "[/x]" must be escaped.
        heading = visible(f"{title}  {len(ports)} ports, {connected} connected")
        table.border_title = escape(heading) if title else "Ports"
        self._table_subtitle()
        if select is None and ports and self.current_port not in ports:
            self._set_port(None)

    @on(PortTable.RowsChanged)
    def _table_subtitle(self) -> None:
        """The table's lower border: the filter, connected only, the sort, a cap."""
        table = self.query_one("#ports", PortTable)
        field = self.query_one("#filter", SafeInput)
        if not table.filter_text and field.value.strip():  # a jump cleared the filter
            field.value = ""
            field.display = field.has_focus
        parts = []
        if table.filter_text:
            parts.append(f"filter {table.filter_text!r}")
        if table.connected_only:
            parts.append("connected only")
        if table.filter_text or table.connected_only:
            parts.append(f"{table.total} of {len(table.listed)}")
        if table.sort_column is not None:
            parts.append(f"sorted by {table.sort_title}{', reversed' if table.sort_reverse else ''}")
        table.border_subtitle = escape(visible(" · ".join(parts)))

    def _set_port(self, port: Port | None) -> None:
        self.current_port = port
        inv = self.inventory
        detail = self.query_one(PortDetail)
        if inv is None:
            return
        self._follow_live(port)
        detail.show_port(inv, port, self.marks)
        detail.border_title = escape(visible(f"Port {port.key}")) if port else "Port"
        self._detail_subtitle()

    def go_to_port(self, port: Port) -> None:
        """Expand the tree to ``port`` and select it everywhere."""
        tree = self.query_one(InventoryTree)
        if not tree.select_port(port):
            self.notify(f"Port {port.key} is not in the tree.", severity="warning", markup=False)
            return
        self._show_selection(NodeRef("port", switch=port.switch, port=port.key), now=True)
        tree.focus()

    def _portless_at(self, ref: NodeRef) -> PortlessNic | None:
        """The NIC on no port that a ``nic`` node (or a ``vm`` node, its first) stands for."""
        inv = self.inventory
        if inv is None or ref.kind not in ("vm", "nic"):
            return None
        for item in inv.portless:
            nic = item.nic
            if nic is None or item.vm.key != ref.vm or nic.portgroup != ref.portgroup:
                continue
            if ref.kind == "vm" or str(nic.key) == ref.port:
                return item
        return None

    def show_portless(self, item: PortlessNic) -> None:
        """Show a VM NIC that is on no port in the detail pane (the tree has no node for it)."""
        inv = self.inventory
        if inv is None:
            return
        self.current_port = None  # nothing to mark or copy: s, d and y say "select a port first"
        self._follow_live(None)
        detail = self.query_one(PortDetail)
        detail.show_portless(inv, item)
        nic = item.nic.label if item.nic else "no NIC"
        detail.border_title = escape(visible(f"{item.vm.name} / {nic}: no port"))
        self._detail_subtitle()

    def go_to(self, target: Port | PortlessNic) -> None:
        """:meth:`go_to_port`, or for a NIC on no port its node in the tree (when its backing names
        a portgroup there) and its VM and NIC in the detail pane."""
        if isinstance(target, Port):
            self.go_to_port(target)
            return
        nic = target.nic
        inv = self.inventory
        pg = inv.portgroups.get(nic.portgroup) if nic is not None and inv is not None else None
        if nic is not None and pg is not None:
            ref = NodeRef("nic", switch=pg.switch, portgroup=pg.key, vm=target.vm.key, port=str(nic.key))
            tree = self.query_one(InventoryTree)
            if tree.select_ref(ref):
                self._show_selection(ref, now=True)
                tree.focus()
                return
        self.show_portless(target)

    def on_go_to(self, message: GoTo) -> None:
        """The palette's "Go to …" (via the app)."""
        self.go_to(message.target)

    def on_open_find(self, message: OpenFind) -> None:
        """The palette's "Go to port…" (via the app)."""
        self.action_find()

    # -- actions --------------------------------------------------------------------------

    def action_find(self) -> None:
        """Open the finder."""
        from tui.screens.find import FindScreen

        app = app_state(self.app)
        if app.index is None or app.inventory is None:
            self.notify("Still loading: search is available when every port is known.", severity="warning")
            return

        def chosen(target: Port | PortlessNic | None) -> None:
            if target is not None:
                self.go_to(target)

        self.app.push_screen(FindScreen(app.inventory, app.index), chosen)

    def _port_or_warn(self) -> Port | None:
        if self.current_port is None:
            self.notify("Select a port first (in the tree or the table).", severity="warning")
        return self.current_port

    def _mark(self, destination: bool) -> None:
        inv, port = self.inventory, self._port_or_warn()
        if inv is None or port is None:
            return
        sw = inv.switches[port.switch]
        marked = inv.switches.get(self.marks.switch)
        try:
            if destination:
                self.marks = self.marks.toggle_destination(port, sw.name, marked.name if marked else "")
            else:
                self.marks = self.marks.cycle_source(port, sw.name, marked.name if marked else "")
        except MarkError as e:
            self.notify(str(e), severity="error", timeout=8, markup=False)
            return
        self._marks_changed()

    def _marks_changed(self) -> None:
        """Show the marks in the bar, the table, the tree and the detail panel."""
        self.query_one(MarksBar).show_marks(self.inventory, self.marks)
        self.query_one("#ports", PortTable).refresh_marks(self.marks)
        self.query_one(InventoryTree).show_marks(self.marks)
        if self.current_port is not None:
            self.query_one(PortDetail).show_port(self.inventory, self.current_port, self.marks)

    def action_mark_source(self) -> None:
        """Mark the port as a source; again to change direction."""
        self._mark(destination=False)

    def action_mark_dest(self) -> None:
        """Mark or unmark the port as a destination."""
        self._mark(destination=True)

    def action_clear_marks(self) -> None:
        """Forget every mark."""
        self.marks = Marks()
        self._marks_changed()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """No session wizard in read-only mode; esc clears a filter only when there is one."""
        if action == "clear_filter":
            return bool(self.query_one("#ports", PortTable).filter_text) or self.query_one("#filter").display
        return not (action == "mirror" and app_state(self.app).read_only)

    # -- the port table: filter, connected only, sort; j/k/g/G ----------------------------------

    def action_filter(self) -> None:
        """Show the filter field above the port table and type in it."""
        field = self.query_one("#filter", SafeInput)
        field.display = True
        field.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        # Thousands of rows (a whole switch): filter when typing pauses, not on every key.
        table = self.query_one("#ports", PortTable)
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        if len(table.listed) < _DEBOUNCE_FILTER:
            table.set_filter(event.value)
        else:
            self._filter_timer = self.set_timer(0.2, lambda: table.set_filter(event.value))

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if self._filter_timer is not None:  # enter before the pause: filter now
            self._filter_timer.stop()
            self._filter_timer = None
            self.query_one("#ports", PortTable).set_filter(event.value)
        self.query_one("#ports", PortTable).focus()
        if not event.value.strip():
            self.query_one("#filter").display = False

    def action_clear_filter(self) -> None:
        """Forget the filter and hide its field."""
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        field = self.query_one("#filter", SafeInput)
        refocus = field.has_focus
        field.value = ""
        field.display = False
        table = self.query_one("#ports", PortTable)
        table.set_filter("")
        if refocus:
            table.focus()

    def action_connected(self) -> None:
        """Connected ports only, or all of them again."""
        table = self.query_one("#ports", PortTable)
        table.set_connected_only(not table.connected_only)

    def action_sort(self) -> None:
        """Sort the port table by the next column."""
        self.query_one("#ports", PortTable).cycle_sort()

    def action_sort_reverse(self) -> None:
        """Reverse the sort (sorting by port ID if unsorted)."""
        table = self.query_one("#ports", PortTable)
        table.sort_by(table.sort_column or "port", reverse=not table.sort_reverse)

    def action_cursor(self, where: str) -> None:
        """``j``/``k``/``g``/``G``: down, up, first, last in the tree or the port table, as focused."""
        focused = self.focused
        if isinstance(focused, InventoryTree):
            actions = {"down": focused.action_cursor_down, "up": focused.action_cursor_up}
            actions |= {"top": focused.action_scroll_home, "bottom": focused.action_scroll_end}
        elif isinstance(focused, PortTable):
            actions = {"down": focused.action_cursor_down, "up": focused.action_cursor_up}
            actions |= {"top": focused.action_scroll_top, "bottom": focused.action_scroll_bottom}
        else:
            return
        actions[where]()

    def _switch_in_view(self) -> str | None:
        """The switch of the marks, else of the selection, else the first one."""
        inv = self.inventory
        if inv is None:
            return None
        if self.marks:
            return self.marks.switch
        if self.current_port is not None:
            return self.current_port.switch
        if self._selection is not None and self._selection.switch:
            return self._selection.switch
        return next(iter(inv.switches), None)

    def action_mirror(self) -> None:
        """Open the wizard pre-filled with the marks."""
        inv, switch_key = self.inventory, self._switch_in_view()
        if inv is None or switch_key is None:
            return
        self.post_message(OpenWizard(switch_key, self.marks.to_session(new_session(inv.switches[switch_key]))))

    def action_sessions(self) -> None:
        """Show the mirror sessions of the switch in view."""
        switch_key = self._switch_in_view()
        if switch_key is not None:
            self.post_message(OpenSessions(switch_key))

    def action_prepare_monitor(self) -> None:
        """Prepare a monitor port for the VM's adapter on the port shown (tui/screens/monitor.py)."""
        from tui.screens.monitor import MonitorDone, MonitorScreen

        inv, port = self.inventory, self.current_port
        pair = inv.vm_nic(port) if inv is not None and port is not None else None
        vm, nic = (pair[0].name, pair[1].label) if pair else ("", "")

        def done(result: MonitorDone | None) -> None:
            if result is not None and result.result is not None:
                self.notify(f"Port {result.port} is ready to be a mirror destination (d marks it).", title="Ready")

        self.app.push_screen(MonitorScreen(vm, nic, port.switch if port else ""), done)

    def _change_applied(self, change: AppliedChange | None) -> None:
        """Forget the marks once a session made from them exists."""
        if change is None or not self.marks or self.marks.switch != change.switch_key:
            return
        marked = {k for k, _ in self.marks.sources} | set(self.marks.destinations)
        if any(c.operation is ChangeOperation.ADD and marked <= c.session.port_keys() for c in change.changes):
            self.action_clear_marks()

    def action_copy_port_id(self) -> None:
        """Copy the port ID at once (the palette's "Copy the port ID")."""
        port = self._port_or_warn()
        if port is not None:
            self.post_message(CopyRequested(port.key, f"Port ID {port.key}"))

    def action_copy(self) -> None:
        """Offer what to copy (the port ID first: ``y`` again copies it); a port with nothing
        else is copied at once."""
        port, inv = self._port_or_warn(), self.inventory
        if port is None or inv is None:
            return
        choices = copy_choices(inv, port)
        if len(choices) == 1:
            self.post_message(CopyRequested(port.key, f"Port ID {port.key}"))
        else:
            self.app.push_screen(CopyScreen(choices, f"Copy from port {port.key}"))

    # -- live traffic of the port shown --------------------------------------------------------

    def action_live_traffic(self) -> None:
        """Watch the traffic of the port shown, or stop watching (after a refusal: ask again)."""
        if self.live_on and (self.live is None or self.live.polling):
            self.live_on = False
            self._stop_live()
            self.live = None
            self._show_live()
            return
        if self._port_or_warn() is None:
            return
        self.live_on = True
        self._watch_live(delay=0.0)

    def refresh_live(self) -> None:
        """Read the watched port now instead of at the next interval (unless a reading is on its way)."""
        if self.live is None or not self.live.polling or self._live_reading or not self.is_active:
            return
        if self._live_timer is not None:
            self._live_timer.stop()
            self._live_timer = None
        self._read_live(self._live_generation)

    def _live_key_display(self) -> str:
        """The key of ``live_traffic`` as the footer would name it (config.toml may remap it)."""
        if not self._live_key:
            for active in self.active_bindings.values():
                if active.binding.action == "live_traffic":
                    self._live_key = self.app.get_key_display(active.binding)
                    break
        return self._live_key or "t"

    def _detail_subtitle(self) -> None:
        """The detail panel's lower border: how to watch the port's traffic, or that it is watched."""
        detail = self.query_one(PortDetail)
        if self.current_port is None:
            detail.border_subtitle = ""
            return
        text = live_subtitle(self.live if self.live_on else None, self._live_key_display())
        detail.border_subtitle = escape(visible(text))  # markup; the key may come from config.toml

    def _show_live(self) -> None:
        self.query_one(PortDetail).show_live(self.live, self._live_key_display())
        self._detail_subtitle()

    def _watch_live(self, delay: float) -> None:
        """Watch the port shown from scratch: first reading after ``delay`` seconds."""
        self._stop_live()
        port = self.current_port
        self.live = None
        if self.live_on and port is not None and self.is_active:
            self.live = LiveTraffic(port.switch, port.key, self.live_interval)
            self._schedule_live(delay)
        self._show_live()

    def _follow_live(self, port: Port | None) -> None:
        """The port shown changed (or was shown again): watch the new one, if watching."""
        if not self.live_on:
            return
        live = self.live
        if port is not None and live is not None and (live.switch, live.port) == (port.switch, port.key):
            return  # the same port (an inventory refresh, a mark): keep reading it
        self._stop_live()
        self.live = None
        if port is not None and self.is_active:
            self.live = LiveTraffic(port.switch, port.key, self.live_interval)
            self._schedule_live(self.live_settle)
        self.query_one(PortDetail).live = self.live  # drawn by the caller's show_port

    def _stop_live(self) -> None:
        """No more readings of the current watch: its pending timer stops, a reading on its way is
        dropped when it arrives (its generation is old)."""
        self._live_generation += 1
        if self._live_timer is not None:
            self._live_timer.stop()
            self._live_timer = None
        self.workers.cancel_group(self, LIVE_GROUP)
        self._live_reading = False

    def _schedule_live(self, delay: float) -> None:
        generation = self._live_generation
        if delay <= 0:
            self._read_live(generation)
        else:
            self._live_timer = self.set_timer(delay, lambda: self._read_live(generation))

    def _read_live(self, generation: int) -> None:
        """Start one reading of the watched port (the timer's callback checks it is still wanted)."""
        self._live_timer = None
        live = self.live
        if generation != self._live_generation or live is None or not self.is_active:
            return
        self._live_reading = True
        self._read_port_traffic(app_state(self.app).backend, generation, live.switch, live.port)

    @work(thread=True, exclusive=True, group=LIVE_GROUP, exit_on_error=False, description="Reading port traffic")
    def _read_port_traffic(self, backend: Backend, generation: int, switch: str, key: str) -> None:
        """One ``port_statistics`` call for one port, in a thread; the answer comes as a message."""
        try:
            got = backend.port_statistics(switch, [key])
            message = LiveTrafficRead(generation, got.get(key))
        except StatisticsUnsupported as e:
            message = LiveTrafficRead(generation, error=e.message, hint=e.hint, unsupported=True, at=time.time())
        except BackendError as e:
            message = LiveTrafficRead(generation, error=e.message, at=time.time())
        except Exception as e:  # never a traceback: say what failed and try again at the next interval
            message = LiveTrafficRead(generation, error=f"{e.__class__.__name__}: {e}", at=time.time())
        self.post_message(message)

    def on_live_traffic_read(self, message: LiveTrafficRead) -> None:
        """Show the reading; schedule the next one while watching and active."""
        live = self.live
        if message.generation != self._live_generation or live is None:
            return  # of a watch that ended
        self._live_reading = False
        if message.error:
            live = live.with_error(message.error, hint=message.hint, unsupported=message.unsupported, at=message.at)
        else:
            live = live.with_reading(message.stats)
        self.live = live
        self._show_live()
        if live.polling and self.is_active:
            self._schedule_live(self.live_interval)

    def on_screen_suspend(self, event: events.ScreenSuspend) -> None:
        """Another screen is on top (wizard, sessions, finder, help): no more readings; what was
        read stays shown."""
        if self.live_on:
            self._stop_live()
            self._live_paused = True

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """Back on top: watch the port shown again, from scratch (unless something already did:
        the palette's command, the finder's jump to another port)."""
        if self._live_paused:
            self._live_paused = False
            if self.live_on and not self._live_reading and self._live_timer is None:
                self._watch_live(delay=0.0)
