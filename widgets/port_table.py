"""The port table: the ports under the selected tree node, one row each.

Cells are ``rich.text.Text`` so vCenter names never parse as markup. The ``Mirror`` column
shows this port's marks and the sessions it is in.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable

from tui.marks import Marks
from tui.model import Inventory, Port
from tui.text import LineText as Text

COLUMNS = ("Port", "VM / connectee", "NIC", "Host", "Link", "Mirror", "MAC", "IP")
_MIRROR = COLUMNS.index("Mirror")
MAX_ROWS = 500
"""Rows shown at most: a whole 25,000-port switch would freeze the screen for seconds."""


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

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.inventory: Inventory | None = None
        self.ports: list[Port] = []
        self.total = 0
        """How many ports the selection has (``len(ports)`` unless capped at MAX_ROWS)."""
        self.marks = Marks()

    def on_mount(self) -> None:
        """Create the columns."""
        for name in COLUMNS:
            self.add_column(name, key=name)

    def show_ports(
        self, inventory: Inventory, ports: list[Port] | tuple[Port, ...], marks: Marks, select: Port | None = None
    ) -> None:
        """Replace the rows with ``ports``; put the cursor on ``select`` if given."""
        self.inventory = inventory
        self.marks = marks
        self.total = len(ports)
        self.ports = list(ports[:MAX_ROWS])
        if select is not None and select not in self.ports:
            self.ports.append(select)
        self.clear()
        self.add_rows(self._row(p) for p in self.ports)
        if select is not None:
            self.select_port(select)

    def select_port(self, port: Port) -> None:
        """Move the cursor to ``port``'s row, if shown."""
        for i, p in enumerate(self.ports):
            if p.key == port.key and p.switch == port.switch:
                self.move_cursor(row=i, scroll=True)
                return

    def refresh_marks(self, marks: Marks) -> None:
        """Redraw the Mirror column after marks change."""
        self.marks = marks
        for i, p in enumerate(self.ports):
            self.update_cell_at(Coordinate(i, _MIRROR), self._mirror_cell(p))

    @property
    def current_port(self) -> Port | None:
        """The port under the cursor."""
        if not self.ports or not 0 <= self.cursor_row < len(self.ports):
            return None
        return self.ports[self.cursor_row]

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
        assert self.inventory is not None
        inv = self.inventory
        vmnic = inv.vm_nic(port)
        if vmnic is not None:
            vm, nic = vmnic
            who, nic_label, mac, ips = vm.name, nic.label, nic.mac or port.mac, ", ".join(nic.ips)
        elif port.connectee is not None:
            who = inv.host_name(port.connectee.entity) or port.connectee.entity
            nic_label, mac, ips = port.connectee.nic_key + (f" ({port.name})" if port.name else ""), port.mac, ""
        else:
            who, nic_label, mac, ips = "", "", "", ""
        if port.connectee is None:
            link = Text("free", style="dim")
        else:
            link = Text("up") if port.link_up else Text("down", style="bold")
        return [
            Text(port.key, style="bold"),
            Text(who) if who else Text("(free)", style="dim"),
            Text(nic_label),
            Text(inv.host_name(port.host)),
            link,
            self._mirror_cell(port),
            Text(mac),
            Text(ips),
        ]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Report the highlighted port."""
        event.stop()
        port = self.current_port
        if port is not None:
            self.post_message(self.PortHighlighted(self, port))
