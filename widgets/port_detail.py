"""The port detail panel: everything about one port, and the sessions it is in."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from textual.widgets import Static

from tui.drift import DRIFT_CODES, Found
from tui.live_traffic import LiveTraffic, traffic_rows
from tui.marks import Marks
from tui.model import Inventory, Port, PortlessNic, Severity
from tui.text import LineText as Text
from tui.text import SafeText, visible


class PortDetail(Static):
    """Key facts of the selected port as a two-column grid."""

    DEFAULT_CSS = """
    PortDetail { height: auto; }
    """

    _shown: tuple[Inventory, Port, Marks | None] | None = None
    live: LiveTraffic | None = None
    """The live traffic shown under the port (when it is of the port shown)."""
    live_key = "t"
    """The key that toggles live traffic, as the footer names it."""

    def show_port(self, inventory: Inventory | None, port: Port | None, marks: Marks | None = None) -> None:
        """Render ``port`` (or a hint when nothing is selected), with its mark if ``marks`` has one,
        and its live traffic if :attr:`live` is of this port."""
        if port is None or inventory is None:
            self._shown = None
            self.update(Text("Select a port to see its details.", style="dim italic"))
            return
        self._shown = (inventory, port, marks)
        live = self.live
        mine = live is not None and (live.switch, live.port) == (port.switch, port.key)
        extra = traffic_rows(live, self.live_key) if live is not None and mine else []
        found: Found = getattr(self.app, "session_problems", {})
        self.update(render_port(inventory, port, marks, extra, found))

    def show_live(self, live: LiveTraffic | None, key: str | None = None) -> None:
        """Show ``live`` (``None``: no live traffic) under the port shown."""
        self.live = live
        if key is not None:
            self.live_key = key
        if self._shown is not None:
            self.show_port(*self._shown)

    def show_portless(self, inventory: Inventory, item: PortlessNic) -> None:
        """Render a VM NIC that is on no port (or a VM without a NIC)."""
        self._shown = None
        self.update(render_portless(inventory, item))


def render_portless(inventory: Inventory, item: PortlessNic) -> Group:
    """A Rich renderable for a NIC on no distributed port: the VM, the NIC, and why."""
    inv = inventory
    vm, nic = item.vm, item.nic
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("Port", Text("none", style="bold") + Text(f"  {inv.nic_place(item)}", style="dim"))
    grid.add_row("VM", Text(vm.name) + Text(f"  {vm.power}" if vm.power != "poweredOn" else "", style="dim"))
    if nic is not None:
        state = "connected" if nic.connected else "disconnected"
        grid.add_row("NIC", Text(nic.label) + Text(f"  key {nic.key}, {state}", style="dim"))
        grid.add_row("MAC", Text(nic.mac or "-"))
        grid.add_row("IPs", Text(", ".join(nic.ips) or "-"))
    else:
        grid.add_row("NIC", Text("(none)", style="dim"))
    grid.add_row("Host", Text(inv.host_name(vm.host) or "-"))
    grid.add_row("Mirroring", Text("not possible: a mirror session takes distributed ports", style="dim"))
    return Group(grid)


def mark_text(marks: Marks | None, port: Port) -> Text | None:
    """``source (ingress+egress)`` / ``destination`` for a marked port, else ``None``."""
    if marks is None or marks.switch != port.switch:
        return None
    direction = marks.source_direction(port.key)
    if direction is not None:
        role = f"source ({direction.label})"
    elif port.key in marks.destinations:
        role = "destination"
    else:
        return None
    text = Text(f" {marks.role(port.key)} ", style="bold reverse")
    text.append(f"  {role}", style="bold")
    return text


def render_port(
    inventory: Inventory,
    port: Port,
    marks: Marks | None = None,
    extra: Sequence[tuple[str, RenderableType]] = (),
    problems: Found | None = None,
) -> Group:
    """A Rich renderable describing ``port`` (also used by the CLI); its mark if ``marks`` has one;
    ``extra`` rows (label, value) at the end (the panel's live traffic). With ``problems`` (the app's
    ``session_problems``), each session of the port is followed by its drift warnings (:mod:`tui.drift`;
    the sessions screen has the rules' warnings too)."""
    inv = inventory
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    sw = inv.switches.get(port.switch)
    pg = inv.portgroups.get(port.portgroup)
    vmnic = inv.vm_nic(port)
    grid.add_row("Port", Text(port.key) + Text(f"  on {sw.name}" if sw else "", style="dim"))
    marked = mark_text(marks, port)
    if marked is not None:
        grid.add_row("Marked", marked)
    if pg is not None:
        extras = [pg.vlan.label, pg.binding.value]
        if pg.promiscuous:
            extras.append("promiscuous")
        grid.add_row("Portgroup", Text(pg.name) + Text("  " + ", ".join(extras), style="dim"))
    else:
        grid.add_row("Portgroup", Text("(standalone port)", style="dim"))
    if vmnic is not None:
        vm, nic = vmnic
        grid.add_row("VM", Text(vm.name) + Text(f"  {vm.power}" if vm.power != "poweredOn" else "", style="dim"))
        grid.add_row("NIC", Text(nic.label) + Text(f"  key {nic.key}", style="dim"))
        grid.add_row("MAC", Text(nic.mac or port.mac))
        grid.add_row("IPs", Text(", ".join(nic.ips) or "-"))
    elif port.connectee is not None:
        who = inv.host_name(port.connectee.entity) or port.connectee.entity
        grid.add_row(
            "Connectee", Text(f"{who} {port.connectee.nic_key}") + Text(f"  {port.connectee.type.value}", style="dim")
        )
        if port.name:
            grid.add_row("Name", Text(port.name))
        if port.mac:
            grid.add_row("MAC", Text(port.mac))
    else:
        grid.add_row("Connectee", Text("(free port)", style="dim"))
    state = "free" if port.connectee is None else ("link up" if port.link_up else "link down")
    host = inv.host_name(port.host)
    grid.add_row("Host", Text(host or "-") + Text(f"  {state}", style="dim"))
    if port.promiscuous:
        grid.add_row("Security", Text("promiscuous mode allowed"))
    sessions = inv.sessions_of_port(port)
    if sessions:
        lines = SafeText()
        for i, (s, role) in enumerate(sessions):
            if i:
                lines.append("\n")
            lines.append(visible(s.name or f"session {s.key}"))
            lines.append(f"  {role}", style="bold")
            lines.append(f"  {s.type_label}{'' if s.enabled else ', disabled'}", style="dim")
            for p in (problems or {}).get((port.switch, s.key or ""), ()):
                if p.code in DRIFT_CODES and p.severity is not Severity.INFO:
                    lines.append("\n! ", style="bold yellow")
                    lines.append(visible(p.message))
                    lines.append(f"  {p.code}", style="dim")
        grid.add_row("Sessions", lines)
    else:
        grid.add_row("Sessions", Text("none", style="dim"))
    for label, value in extra:
        grid.add_row(label, value)
    return Group(grid)
