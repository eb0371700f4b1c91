"""The port table: the ports under the selected tree node, one row each.

Cells are ``rich.text.Text`` so vCenter names never parse as markup. The ``Mirror`` column
shows this port's marks and the sessions it is in.

The columns fit the table's width, as k9s and kubectl do: the least useful go first (IP, MAC,
Host), then the NIC label shortens ("Network adapter 2" → "adapter 2") and long VM names and
session lists end in "…". Port, VM, NIC, Link and Mirror always stay. The rows can be narrowed
in place (:meth:`PortTable.set_filter`: every word must occur in some cell, hidden ones too),
limited to connected ports, and sorted by any column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from rich.cells import cell_len
from textual import events
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable

from tui.lookup import natural_key
from tui.marks import Marks
from tui.model import Inventory, Port
from tui.text import LineText as Text

COLUMNS = ("Port", "VM / connectee", "NIC", "Host", "Link", "Mirror", "MAC", "IP")
"""Every column, in the order shown (the widest table)."""
_KEYS = ("port", "vm", "nic", "host", "link", "mirror", "mac", "ip")
_NARROW_TITLES = {"vm": "VM"}
_DROP_ORDER = ("ip", "mac", "host")
"""Columns left out first when the table is narrow."""
_KEEP = ("port", "vm", "nic", "link", "mirror")
MAX_ROWS = 500
"""Rows shown at most: a whole 25,000-port switch would freeze the screen for seconds."""
_PAD = 2
"""Cell padding of a column (one each side)."""


@dataclass(frozen=True, slots=True)
class _Cells:
    """One port's cells before fitting: plain text (and style) per column key."""

    port: Port
    values: dict[str, str]
    short_nic: str
    mirror: Text
    haystack: str
    """Everything the filter looks in, lower-cased."""


@dataclass(frozen=True, slots=True)
class Layout:
    """Which columns are shown, how wide (``None``: as wide as the content), NIC labels short."""

    keys: tuple[str, ...]
    widths: tuple[int | None, ...]
    short_nic: bool = False
    narrow: bool = False
    """True: short titles ("VM" for "VM / connectee")."""


def fit(natural: dict[str, int], short_nic_width: int, width: int) -> Layout:
    """The columns for a table ``width`` cells wide, given each column's natural width.

    Drops IP, MAC and Host in that order, then shortens NIC labels, then caps the VM and Mirror
    columns (ending their text in "…"), never below a few characters. ``width`` 0 (not laid out
    yet) shows everything.
    """
    keys = list(_KEYS)
    if width <= 0:
        return Layout(tuple(keys), (None,) * len(keys))

    def total(ks: Sequence[str], widths: dict[str, int]) -> int:
        return sum(widths[k] + _PAD for k in ks)

    widths = dict(natural)
    for drop in _DROP_ORDER:
        if total(keys, widths) <= width:
            break
        keys.remove(drop)
    short = False
    if total(keys, widths) > width and short_nic_width < widths["nic"]:
        short = True
        widths["nic"] = short_nic_width
    over = total(keys, widths) - width
    caps: dict[str, int] = {}
    # Share the shortfall between Mirror and VM (Mirror gives first: its text is in the detail panel too).
    for key, floor in (("mirror", 6), ("vm", 8)):
        if over <= 0:
            break
        give = min(over, max(0, widths[key] - floor))
        if give:
            caps[key] = widths[key] - give
            widths[key] -= give
            over -= give
    return Layout(tuple(keys), tuple(caps.get(k) for k in keys), short)


def _link_rank(port: Port) -> int:
    return 2 if port.connectee is None else (0 if port.link_up else 1)


class PortTable(DataTable[Text]):
    """Ports of a switch, portgroup or VM."""

    DEFAULT_CSS = """
    PortTable { height: 1fr; }
    """

    @dataclass
    class PortHighlighted(Message):
        """The cursor moved to a port row."""

        table: PortTable
        port: Port

        @property
        def control(self) -> PortTable:
            """The table (for ``@on`` selectors)."""
            return self.table

    @dataclass
    class RowsChanged(Message):
        """The rows shown changed (a filter, the connected-only toggle, a sort)."""

        table: PortTable

        @property
        def control(self) -> PortTable:
            """The table (for ``@on`` selectors)."""
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.inventory: Inventory | None = None
        self.listed: list[Port] = []
        """Every port of the selection (before the filter and the cap)."""
        self.ports: list[Port] = []
        """The ports shown, one per row, in row order."""
        self.total = 0
        """How many ports pass the filter (``len(ports)`` unless capped at MAX_ROWS)."""
        self.marks = Marks()
        self.filter_text = ""
        """Words every row shown contains (case-insensitive), or ''."""
        self._words: list[str] = []
        self.connected_only = False
        """True: free ports are hidden."""
        self.sort_column: str | None = None
        """The column key rows are sorted by (``None``: port order as vCenter gives it)."""
        self.sort_reverse = False
        self.layout_now = Layout(_KEYS, (None,) * len(_KEYS))
        """The columns shown (see :func:`fit`)."""
        self._cells: dict[tuple[str, str], _Cells] = {}

    # -- filling --------------------------------------------------------------------------

    def show_ports(
        self, inventory: Inventory, ports: list[Port] | tuple[Port, ...], marks: Marks, select: Port | None = None
    ) -> None:
        """Replace the rows with ``ports``; put the cursor on ``select`` if given.

        A ``select`` hidden by the filter or the connected-only toggle clears them: a jump
        always lands on its port.
        """
        self.inventory = inventory
        self.marks = marks
        self._cells = {}
        self.listed = list(ports)
        if select is not None and not self._passes(select):
            self.filter_text, self._words, self.connected_only = "", [], False
        self._rebuild(select)

    def keep_rows(self, inventory: Inventory) -> None:
        """``inventory`` replaces the one shown, in which nothing the rows show changed (a live update
        elsewhere): rows, cursor and scroll stay, nothing is drawn again."""
        self.inventory = inventory

    def _passes(self, port: Port) -> bool:
        if self.connected_only and port.connectee is None:
            return False
        if not self.filter_text:
            return True
        text = self._cells_of(port).haystack
        return all(word in text for word in self._words)

    def _rebuild(self, select: Port | None = None) -> None:
        """Filter, sort, cap and lay out the rows again; keep the cursor on ``select``."""
        if self.inventory is None:
            return
        chosen = [p for p in self.listed if self._passes(p)]
        if self.sort_column is not None:
            chosen = self._sorted(chosen, self.sort_column, self.sort_reverse)
        self.total = len(chosen)
        self.ports = chosen[:MAX_ROWS]
        if select is not None and select not in self.ports and select in chosen:
            self.ports.append(select)
        self._redraw(select)

    def _redraw(self, select: Port | None) -> None:
        self.layout_now = self._plan()
        self.clear(columns=True)
        for key, width in zip(self.layout_now.keys, self.layout_now.widths, strict=True):
            self.add_column(self._title(key), key=key, width=width)
        self.add_rows(self._row(p) for p in self.ports)
        if select is not None:
            self.select_port(select)
        self.post_message(self.RowsChanged(self))

    def _title(self, key: str) -> str:
        title = COLUMNS[_KEYS.index(key)]
        if key in _NARROW_TITLES and self.layout_now.narrow:
            title = _NARROW_TITLES[key]
        if key == self.sort_column:
            title += " ▼" if self.sort_reverse else " ▲"
        return title

    def _available_width(self) -> int:
        """Cells for the columns: the content width less a vertical scrollbar's (always kept)."""
        width = self.content_region.width
        if width <= 0:
            return 0
        return max(1, width - self.styles.scrollbar_size_vertical)

    def _plan(self) -> Layout:
        arrow = 2  # " ▲" after the sorted column's title
        natural = {k: cell_len(COLUMNS[i]) + (arrow if k == self.sort_column else 0) for i, k in enumerate(_KEYS)}
        vm_narrow = cell_len(_NARROW_TITLES["vm"]) + (arrow if self.sort_column == "vm" else 0)
        vm_content = 0
        short_nic = cell_len("NIC")
        for port in self.ports:
            cells = self._cells_of(port)
            for key, value in cells.values.items():
                natural[key] = max(natural[key], cell_len(value))
            vm_content = max(vm_content, cell_len(cells.values["vm"] or "(free)"))
            natural["mirror"] = max(natural["mirror"], cell_len(cells.mirror.plain))
            short_nic = max(short_nic, cell_len(cells.short_nic))
        width = self._available_width()
        layout = fit(natural, short_nic, width)
        if layout.keys != _KEYS:  # narrower: the VM column's title is "VM"
            natural["vm"] = max(vm_narrow, vm_content)
            layout = replace(fit(natural, short_nic, width), narrow=True)
        return layout

    def on_resize(self, event: events.Resize) -> None:
        """Fit the columns to the new width."""
        if self.inventory is not None and self._plan() != self.layout_now:
            self._redraw(self.current_port)

    # -- cursor ---------------------------------------------------------------------------

    def select_port(self, port: Port) -> bool:
        """Move the cursor to ``port``'s row and scroll it into view; False if it is not shown."""
        for i, p in enumerate(self.ports):
            if p.key == port.key and p.switch == port.switch:
                self.move_cursor(row=i, scroll=True)
                # Once laid out (scrollbars known), make sure the row is really on screen.
                self.call_after_refresh(self.reveal_row, i)
                return True
        return False

    def visible_rows(self) -> range:
        """The row indexes on screen now (below the header, above any scrollbar)."""
        header = self.header_height if self.show_header else 0
        top = self.scroll_offset.y
        return range(top, top + max(0, self.scrollable_content_region.height - header))

    def reveal_row(self, row: int, tries: int = 3) -> None:
        """Scroll so that ``row`` is on screen, centred if it was not (a jump lands in view)."""
        if row != self.cursor_row or not 0 <= row < self.row_count:
            return
        header = self.header_height if self.show_header else 0
        if self.virtual_size.height < header + self.row_count and tries:  # rows not measured yet
            self.call_after_refresh(self.reveal_row, row, tries - 1)
            return
        shown = self.visible_rows()
        if row not in shown:
            self.scroll_to(y=max(0, row - len(shown) // 2), animate=False, immediate=True)

    @property
    def current_port(self) -> Port | None:
        """The port under the cursor."""
        if not self.ports or not 0 <= self.cursor_row < len(self.ports):
            return None
        return self.ports[self.cursor_row]

    # -- filter, connected only, sort --------------------------------------------------------

    def set_filter(self, text: str) -> None:
        """Show only the rows that contain every word of ``text`` (any column)."""
        if text.strip() == self.filter_text:
            return
        self.filter_text = text.strip()
        self._words = self.filter_text.lower().split()
        self._rebuild(self.current_port)

    def set_connected_only(self, on: bool) -> None:
        """Hide (or show again) the free ports."""
        if on != self.connected_only:
            self.connected_only = on
            self._rebuild(self.current_port)

    def sort_by(self, column: str | None, reverse: bool = False) -> None:
        """Sort the rows by a column key (``None``: vCenter's order)."""
        if column is not None and column not in _KEYS:
            raise ValueError(f"no column {column!r}")
        self.sort_column, self.sort_reverse = column, reverse
        self._rebuild(self.current_port)

    @property
    def sort_title(self) -> str:
        """The title of the column sorted by ('' when unsorted)."""
        if self.sort_column is None:
            return ""
        if self.layout_now.narrow and self.sort_column in _NARROW_TITLES:
            return _NARROW_TITLES[self.sort_column]
        return COLUMNS[_KEYS.index(self.sort_column)]

    def cycle_sort(self) -> None:
        """Sort by the next column shown (after the last: vCenter's order again)."""
        shown = self.layout_now.keys
        if self.sort_column is None or self.sort_column not in shown:
            nxt: str | None = shown[0]
        else:
            i = shown.index(self.sort_column) + 1
            nxt = shown[i] if i < len(shown) else None
        self.sort_by(nxt, False)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        """A click on a header sorts by it; a second click reverses."""
        event.stop()
        key = str(event.column_key.value)
        self.sort_by(key, reverse=self.sort_column == key and not self.sort_reverse)

    def _sorted(self, ports: list[Port], column: str, reverse: bool) -> list[Port]:
        """``ports`` by ``column``; empty cells (free ports) last in either direction, by port ID."""
        if column == "port":
            return sorted(ports, key=lambda p: natural_key(p.key), reverse=reverse)
        if column == "link":
            return sorted(ports, key=lambda p: (_link_rank(p), natural_key(p.key)), reverse=reverse)

        def value(p: Port) -> str:
            cells = self._cells_of(p)
            return cells.mirror.plain if column == "mirror" else cells.values[column]

        filled = [p for p in ports if value(p)]
        empty = [p for p in ports if not value(p)]
        filled.sort(key=lambda p: (natural_key(value(p)), natural_key(p.key)), reverse=reverse)
        empty.sort(key=lambda p: natural_key(p.key))
        return filled + empty

    # -- marks ----------------------------------------------------------------------------

    def refresh_marks(self, marks: Marks) -> None:
        """Redraw the Mirror column after marks change."""
        old = self.marks
        self.marks = marks
        changed = {k for k, _ in (*old.sources, *marks.sources)} | {*old.destinations, *marks.destinations}
        for key in list(self._cells):
            if key[1] in changed:
                del self._cells[key]
        if self._plan() != self.layout_now or self.sort_column == "mirror" or self.filter_text:
            self._rebuild(self.current_port)  # the rows or their widths change
            return
        column = self.layout_now.keys.index("mirror")
        for i, p in enumerate(self.ports):
            if p.key in changed:
                self.update_cell_at(Coordinate(i, column), self._row(p)[column])

    # -- cells ----------------------------------------------------------------------------

    def _cells_of(self, port: Port) -> _Cells:
        cached = self._cells.get((port.switch, port.key))
        if cached is not None:
            return cached
        assert self.inventory is not None
        inv = self.inventory
        vmnic = inv.vm_nic(port)
        short = ""
        if vmnic is not None:
            vm, nic = vmnic
            who, nic_label, mac, ips = vm.name, nic.label, nic.mac or port.mac, ", ".join(nic.ips)
            short = nic_label.removeprefix("Network ")
        elif port.connectee is not None:
            who = inv.host_name(port.connectee.entity) or port.connectee.entity
            nic_label, mac, ips = port.connectee.nic_key + (f" ({port.name})" if port.name else ""), port.mac, ""
            short = port.connectee.nic_key
        else:
            who, nic_label, mac, ips = "", "", "", ""
        link = "free" if port.connectee is None else ("up" if port.link_up else "down")
        values = {
            "port": port.key,
            "vm": who,
            "nic": nic_label,
            "host": inv.host_name(port.host),
            "link": link,
            "mac": mac,
            "ip": ips,
        }
        mirror = self._mirror_cell(port)
        cells = _Cells(port, values, short, mirror, " ".join([*values.values(), mirror.plain]).lower())
        self._cells[(port.switch, port.key)] = cells
        return cells

    def _mirror_cell(self, port: Port) -> Text:
        assert self.inventory is not None
        cell = Text()
        role = self.marks.role(port.key) if self.marks.switch == port.switch else ""
        if role:
            cell.append(f"[{role}]", style="bold reverse")
        sessions = self.inventory.sessions_of_port(port)
        if sessions:
            if cell:
                cell.append(" ")
            names = ", ".join((s.name or s.key or "?") for s, _ in sessions)
            cell.append(names, style="italic")
        return cell

    def _row(self, port: Port) -> list[Text]:
        cells = self._cells_of(port)
        out: list[Text] = []
        for key, width in zip(self.layout_now.keys, self.layout_now.widths, strict=True):
            if key == "mirror":
                text = Text()
                text.append(cells.mirror)
            elif key == "port":
                text = Text(port.key, style="bold")
            elif key == "vm" and not cells.values["vm"]:
                text = Text("(free)", style="dim")
            elif key == "link":
                value = cells.values["link"]
                text = Text(value, style={"free": "dim", "down": "bold"}.get(value, ""))
            elif key == "nic" and self.layout_now.short_nic:
                text = Text(cells.short_nic)
            else:
                text = Text(cells.values[key])
            if width is not None and text.cell_len > width:
                text.truncate(width, overflow="ellipsis")
            out.append(text)
        return out

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Report the highlighted port."""
        event.stop()
        port = self.current_port
        if port is not None:
            self.post_message(self.PortHighlighted(self, port))
