"""The port table: the ports under the selected tree node, one row each.

Cells are ``rich.text.Text`` so vCenter names never parse as markup. The ``Mirror`` column
shows this port's marks and the sessions it is in.

The columns fit the table's width, as k9s and kubectl do: the least useful go first (IP, MAC,
Host), then the NIC label shortens ("Network adapter 2" → "adapter 2") and long VM names and
session lists end in "…". Port, VM, NIC, Link and Mirror always stay. The rows can be narrowed
in place (:meth:`PortTable.set_filter`: every word must occur in some cell, hidden ones too),
limited to connected ports, and sorted by any column.

Every port of the selection is a row, a 25,000-port switch too, and costs nothing until it is
drawn: the table is Textual's ``DataTable`` (its look, keys, mouse and messages) with its row
store replaced by views of :attr:`PortTable.ports` (:class:`_RowIndex`, :class:`_RowStore`,
:class:`_CellStore`), whose cells are made when a row is drawn or read. Stock ``add_rows``
measures every cell of every row on idle (7 s of CPU for 25,000 rows here); the column widths
come instead from :meth:`PortTable._measure`, one pass over plain strings.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Self

from rich.cells import cell_len
from textual import events
from textual.geometry import Region
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, Row, RowKey, StringKey

from tui.lookup import natural_key
from tui.marks import Marks
from tui.model import Inventory, Port
from tui.text import LineText as Text
from tui.text import visible

COLUMNS = ("Port", "VM / connectee", "NIC", "Host", "Link", "Mirror", "MAC", "IP")
"""Every column, in the order shown (the widest table)."""
_KEYS = ("port", "vm", "nic", "host", "link", "mirror", "mac", "ip")
_NARROW_TITLES = {"vm": "VM"}
_DROP_ORDER = ("ip", "mac", "host")
"""Columns left out first when the table is narrow."""
_KEEP = ("port", "vm", "nic", "link", "mirror")
MEASURE_AT_ONCE = 2_000
"""Rows above which the columns are first fitted to the rows on screen, and to all rows just
after that frame is drawn (:meth:`PortTable._measure` takes ~4 µs a row on a loaded machine)."""
_PAD = 2
"""Cell padding of a column (one each side)."""


@dataclass(frozen=True, slots=True)
class _Cells:
    """One port's cells before fitting: plain text per column key (``mirror`` too)."""

    port: Port
    values: dict[str, str]
    short_nic: str
    role: str
    """The port's mark (``src ⇄``, ``dest``) or ''."""
    sessions: str
    """The names of the sessions the port is in, or ''."""
    haystack: str
    """Everything the filter looks in, lower-cased."""


def _width(text: str) -> int:
    """Cells ``text`` takes as drawn (a control character shows as an escape: ``\\x1b``)."""
    shown = visible(text)
    return len(shown) if shown.isascii() else cell_len(shown)


def _index(key: object, rows: int) -> int | None:
    """The row index a row key of :class:`_RowIndex` stands for (``None``: no such row)."""
    value = key.value if isinstance(key, StringKey) else key
    if not isinstance(value, str) or not (value.isascii() and value.isdigit()):
        return None
    i = int(value)
    return i if i < rows else None


class _RowIndex:
    """DataTable's ``_row_locations`` (row key ↔ index) over the ports shown: row ``i``'s key is ``str(i)``."""

    def __init__(self, table: PortTable) -> None:
        self._table = table

    def __len__(self) -> int:
        return len(self._table.ports)

    def __contains__(self, key: object) -> bool:
        return _index(key, len(self._table.ports)) is not None

    def __iter__(self) -> Iterator[RowKey]:
        return (RowKey(str(i)) for i in range(len(self._table.ports)))

    def get(self, key: object, default: int | None = None) -> int | None:
        i = _index(key, len(self._table.ports))
        return default if i is None else i

    def get_key(self, index: int) -> RowKey | None:
        return RowKey(str(index)) if 0 <= index < len(self._table.ports) else None


class _RowStore:
    """DataTable's ``rows`` (key → :class:`Row`): every row one line high, made when asked for."""

    def __init__(self, table: PortTable) -> None:
        self._table = table

    def __len__(self) -> int:
        return len(self._table.ports)

    def __contains__(self, key: object) -> bool:
        return _index(key, len(self._table.ports)) is not None

    def __iter__(self) -> Iterator[RowKey]:
        return iter(_RowIndex(self._table))

    def keys(self) -> Iterator[RowKey]:
        return iter(self)

    def get(self, key: object, default: Row | None = None) -> Row | None:
        i = _index(key, len(self._table.ports))
        return default if i is None else Row(RowKey(str(i)), 1)

    def __getitem__(self, key: object) -> Row:
        row = self.get(key)
        if row is None:
            raise KeyError(key)
        return row

    def clear(self) -> None:
        """Nothing to drop: the rows are the table's ports."""


class _CellStore:
    """DataTable's ``_data`` (key → cells by column key): a row's cells are made when it is drawn or read."""

    def __init__(self, table: PortTable) -> None:
        self._table = table

    def __len__(self) -> int:
        return len(self._table.ports)

    def __contains__(self, key: object) -> bool:
        return _index(key, len(self._table.ports)) is not None

    def get(self, key: object, default: dict[ColumnKey, Text] | None = None) -> dict[ColumnKey, Text] | None:
        i = _index(key, len(self._table.ports))
        if i is None:
            return default
        return dict(zip(self._table.columns, self._table.row_cells(i), strict=False))

    def __getitem__(self, key: object) -> dict[ColumnKey, Text]:
        cells = self.get(key)
        if cells is None:
            raise KeyError(key)
        return cells

    def clear(self) -> None:
        """Nothing to drop: the cells are made from the table's ports."""


class _Lines(Sequence[Any]):
    """DataTable's ``_y_offsets`` (one ``(row key, line in row)`` per line) or ``ordered_rows``
    (one :class:`Row` per row) over rows ``span`` (all one line high)."""

    def __init__(self, span: range, rows: bool) -> None:
        self._span, self._rows = span, rows

    def __len__(self) -> int:
        return len(self._span)

    def _item(self, i: int) -> Any:
        key = RowKey(str(i))
        return Row(key, 1) if self._rows else (key, 0)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return _Lines(self._span[index], self._rows)
        return self._item(self._span[index])

    def __iter__(self) -> Iterator[Any]:
        return (self._item(i) for i in self._span)

    def clear(self) -> None:
        """Nothing to drop (DataTable's ``clear`` empties its offsets)."""


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
        self.ports: list[Port] = []
        """The ports shown, one per row, in row order (before DataTable's set-up, which reads them)."""
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.inventory: Inventory | None = None
        self.listed: list[Port] = []
        """Every port of the selection (before the filter)."""
        self.total = 0
        """How many ports pass the filter (``len(ports)``)."""
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
        self._drawn: dict[int, list[Text]] = {}
        """The cells of the rows made so far (by row index), for the layout shown."""
        self._natural: tuple[dict[str, int], int, int] | None = None
        """:meth:`_measure` of the ports shown (natural widths, VM content width, short NIC width)."""
        self._shown: set[int] = set()
        """Ids of the ports measured (see :meth:`_mirror_width`)."""
        self.measuring = False
        """True from showing more than :data:`MEASURE_AT_ONCE` rows (their columns fitted to the rows on
        screen) until the columns are fitted to all of them, just after that first frame."""
        self._generation = 0
        """Counts the row sets shown: a deferred measurement of older rows is dropped."""
        self._stores()

    def _stores(self) -> None:
        """DataTable's row bookkeeping as views of :attr:`ports` (see the module's docstring)."""
        self.rows = _RowStore(self)  # type: ignore[assignment]
        self._data = _CellStore(self)  # type: ignore[assignment]
        self._row_locations = _RowIndex(self)  # type: ignore[assignment]

    @property
    def _y_offsets(self) -> Sequence[tuple[RowKey, int]]:  # type: ignore[override]
        """One entry per line below the header: every row is one line high."""
        return _Lines(range(len(self.ports)), rows=False)

    @property
    def ordered_rows(self) -> Sequence[Row]:  # type: ignore[override]
        """The rows in order, made when read."""
        return _Lines(range(len(self.ports)), rows=True)

    def _get_row_region(self, row_index: int) -> Region:
        """DataTable's, without summing the heights of every row above (all are one line)."""
        if not self.is_valid_row_index(row_index):
            return Region(0, 0, 0, 0)
        width = sum(column.get_render_width(self) for column in self.columns.values()) + self._row_label_column_width
        y = row_index + (self.header_height if self.show_header else 0)
        return Region(0, y, max(self.size.width, width), 1)

    def _get_cell_region(self, coordinate: Any) -> Region:
        """DataTable's, without summing the heights of every row above (all are one line)."""
        if not self.is_valid_coordinate(coordinate):
            return Region(0, 0, 0, 0)
        row_index, column_index = coordinate
        columns = self.ordered_columns
        x = sum(column.get_render_width(self) for column in columns[:column_index]) + self._row_label_column_width
        y = row_index + (self.header_height if self.show_header else 0)
        return Region(x, y, columns[column_index].get_render_width(self), 1)

    def clear(self, columns: bool = False) -> Self:
        """Remove every row (and the columns too if ``columns``)."""
        self.ports, self.listed, self.total = [], [], 0
        self._reset(columns)
        return self

    def _reset(self, columns: bool) -> None:
        self._drawn = {}
        super().clear(columns)
        self._stores()  # DataTable's clear puts a new row index in place

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
        """Filter, sort and lay out the rows again; keep the cursor on ``select``."""
        if self.inventory is None:
            return
        if self.filter_text or self.connected_only:
            chosen = [p for p in self.listed if self._passes(p)]
        else:
            chosen = list(self.listed)
        if self.sort_column is not None:
            chosen = self._sorted(chosen, self.sort_column, self.sort_reverse)
        self._redraw(select, chosen)

    def _redraw(self, select: Port | None, ports: list[Port] | None = None) -> None:
        """Lay out the columns for ``ports`` (default: the rows shown) and show them, cursor on ``select``.

        No row is made here: DataTable asks for the cells of the rows it draws."""
        if ports is not None:
            self._generation += 1
            self.measuring = len(ports) > MEASURE_AT_ONCE
            self._natural = self._measure(self._on_screen(ports, select) if self.measuring else ports)
            if self.measuring:
                self.call_after_refresh(self._measure_all, self._generation)
        self.layout_now = self._plan()
        shown = self.ports if ports is None else ports
        self.ports = []  # emptied while DataTable resets its cursor: no highlight of a row about to go
        self._reset(columns=True)
        for key, width in zip(self.layout_now.keys, self.layout_now.widths, strict=True):
            self.add_column(self._title(key), key=key, width=width)
        self.ports, self.total = shown, len(shown)
        self._update_dimensions(())  # the scrollable size now: a cursor move below scrolls at once
        self._require_update_dimensions = False
        if shown and self.show_cursor:
            self._highlight_cursor()  # as DataTable does when its first row arrives
        if select is not None:
            self.select_port(select)
        self.post_message(self.RowsChanged(self))

    def _on_screen(self, ports: list[Port], select: Port | None) -> list[Port]:
        """The rows that can be on screen first: the top ones, or those around ``select``."""
        lines = max(self.size.height, 60)
        at = 0
        if select is not None:
            at = next((i for i, p in enumerate(ports) if p.key == select.key and p.switch == select.switch), 0)
        return ports[:lines] + ports[max(lines, at - lines) : at + lines]

    def _measure_all(self, generation: int) -> None:
        """After the first frame of a big listing: fit the columns to every row (laid out again if
        that changes them, cursor and scroll kept)."""
        if generation != self._generation or not self.measuring:
            return
        self.measuring = False
        self._natural = self._measure(self.ports)
        if self._plan() == self.layout_now:
            return
        row, scroll = self.cursor_row, self.scroll_y
        self._redraw(None)
        if 0 < row < self.row_count:
            self.move_cursor(row=row, scroll=False)
        self.scroll_to(y=scroll, animate=False, immediate=True)

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

    def _measure(self, ports: list[Port]) -> tuple[dict[str, int], int, int]:
        """Natural width of each column's content over ``ports`` (Mirror's aside: see
        :meth:`_mirror_width`), the VM column's with "(free)" for free ports, and the short NIC
        labels': one pass over plain strings in comprehensions, no cell made (the same strings as
        :meth:`_cells_of`)."""
        inv = self.inventory
        natural = dict.fromkeys(_KEYS, 0)
        # Ids (untracked ints), not (switch, key) tuples: 25,000 new tuples kept alive would wake the
        # cyclic garbage collector, whose scan of a 40,000-VM inventory costs more than this pass.
        self._shown = {id(p) for p in ports}
        if inv is None or not ports:
            return natural, 0, 0
        hosts, get = inv.hosts, inv.nic_by_port.get
        vmnics = [get((p.switch, p.key)) for p in ports]
        on_vm = [vn for vn in vmnics if vn is not None]
        others = [p for p, vn in zip(ports, vmnics, strict=True) if vn is None and p.connectee is not None]
        labels = {nic.label for _, nic in on_vm}
        who = {vm.name for vm, _ in on_vm}
        who |= {h.name if (h := hosts.get(p.connectee.entity)) else p.connectee.entity for p in others if p.connectee}
        nics = labels | {p.connectee.nic_key + (f" ({p.name})" if p.name else "") for p in others if p.connectee}
        short = {label.removeprefix("Network ") for label in labels}
        short |= {p.connectee.nic_key for p in others if p.connectee}
        macs = {nic.mac or p.mac for p, vn in zip(ports, vmnics, strict=True) if vn is not None for nic in (vn[1],)}
        macs |= {p.mac for p in others}
        ips = {", ".join(nic.ips) for _, nic in on_vm if nic.ips}
        host_names = {h.name for k in {p.host for p in ports} if (h := hosts.get(k)) is not None}
        links = {"free" if p.connectee is None else ("up" if p.link_up else "down") for p in ports}

        def widest(texts: set[str]) -> int:
            """The widest as drawn (a control character shows as an escape: ``\\x1b``)."""
            if not texts:
                return 0
            joined = "".join(texts)
            if joined.isascii() and visible(joined) is joined:
                return max(map(len, texts))
            return max(cell_len(visible(text)) for text in texts)

        natural.update(
            port=widest({p.key for p in ports}),
            vm=widest(who),
            nic=widest(nics),
            host=widest(host_names),
            link=widest(links),
            mac=widest(macs),
            ip=widest(ips),
        )
        vm_content = max(natural["vm"], len("(free)") if "free" in links else 0)
        return natural, vm_content, widest(short)

    def _mirror_width(self) -> int:
        """The natural width of the Mirror column: of the ports shown that are marked or in a session."""
        inv = self.inventory
        if inv is None:
            return 0
        keys = {(sw.key, k) for sw in inv.switches.values() for s in sw.sessions for k in s.port_keys()}
        keys |= {(self.marks.switch, k) for k, _ in self.marks.sources} | {
            (self.marks.switch, k) for k in self.marks.destinations
        }
        width = 0
        for switch, key in keys:
            port = inv.port(switch, key)
            if port is not None and id(port) in self._shown:
                width = max(width, _width(self._cells_of(port).values["mirror"]))
        return width

    def _plan(self) -> Layout:
        arrow = 2  # " ▲" after the sorted column's title
        natural = {k: cell_len(COLUMNS[i]) + (arrow if k == self.sort_column else 0) for i, k in enumerate(_KEYS)}
        vm_narrow = cell_len(_NARROW_TITLES["vm"]) + (arrow if self.sort_column == "vm" else 0)
        if self._natural is None:
            self._natural = self._measure(self.ports)
        content, vm_content, short = self._natural
        for key, value in content.items():
            natural[key] = max(natural[key], value)
        natural["mirror"] = max(natural["mirror"], self._mirror_width())
        short_nic = max(cell_len("NIC"), short)
        width = self._available_width()
        layout = fit(natural, short_nic, width)
        if layout.keys != _KEYS:  # narrower: the VM column's title is "VM"
            natural["vm"] = max(vm_narrow, vm_content)
            layout = replace(fit(natural, short_nic, width), narrow=True)
        if layout.short_nic:
            natural["nic"] = short_nic
        # Every column gets a width: DataTable would otherwise measure every cell of every row.
        widths = tuple(natural[k] if w is None else w for k, w in zip(layout.keys, layout.widths, strict=True))
        return replace(layout, widths=widths)

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
            return self._cells_of(p).values[column]

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
        if self.inventory is None:
            return
        if self.sort_column == "mirror" or self.filter_text:
            self._rebuild(self.current_port)  # the rows change
            return
        if self._plan() != self.layout_now:
            self._redraw(self.current_port)  # the Mirror column's width changes: the rows stay measured
            return
        # Only the marked rows' cells change: drop those made, and let DataTable draw them again.
        for i in [i for i in self._drawn if self.ports[i].key in changed]:
            del self._drawn[i]
        self._update_count += 1
        self._clear_caches()
        self.refresh()

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
        role = self.marks.role(port.key) if self.marks.switch == port.switch else ""
        sessions = ", ".join((s.name or s.key or "?") for s, _ in inv.sessions_of_port(port))
        mirror = " ".join(part for part in (f"[{role}]" if role else "", sessions) if part)
        values = {
            "port": port.key,
            "vm": who,
            "nic": nic_label,
            "host": inv.host_name(port.host),
            "link": link,
            "mirror": mirror,
            "mac": mac,
            "ip": ips,
        }
        cells = _Cells(port, values, short, role, sessions, " ".join(values.values()).lower())
        self._cells[(port.switch, port.key)] = cells
        return cells

    def _mirror_cell(self, cells: _Cells) -> Text:
        cell = Text()
        if cells.role:
            cell.append(f"[{cells.role}]", style="bold reverse")
        if cells.sessions:
            if cell:
                cell.append(" ")
            cell.append(cells.sessions, style="italic")
        return cell

    def row_cells(self, row: int) -> list[Text]:
        """The cells of row ``row``, fitted to the columns shown (made once per layout)."""
        made = self._drawn.get(row)
        if made is None:
            made = self._drawn[row] = self._row(self.ports[row])
        return made

    def _row(self, port: Port) -> list[Text]:
        cells = self._cells_of(port)
        out: list[Text] = []
        for key, width in zip(self.layout_now.keys, self.layout_now.widths, strict=True):
            if key == "mirror":
                text = self._mirror_cell(cells)
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
