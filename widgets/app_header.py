"""The one-line header: app, vCenter and datacenter on the left; source and mode on the right."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from tui.text import LineText as Text


class AppHeader(Horizontal):
    """``dvmirror  vcsa01.lab.local / DC-Cloud            demo lab  read-write``."""

    DEFAULT_CSS = """
    AppHeader { height: 1; dock: top; }
    AppHeader > #header-left { width: 1fr; }
    AppHeader > #header-right { width: auto; }
    """

    def compose(self) -> ComposeResult:
        """Two labels."""
        yield Label(id="header-left")
        yield Label(id="header-right")

    live = ""
    """The update channel's state (``live``, ``as of 14:02:11``, ``reconnecting…``), shown before the source."""

    def set_live(self, text: str) -> None:
        """Show the update channel's state (``''``: nothing)."""
        self.live = text
        if self._shown is not None:
            self.show(*self._shown)

    _shown: tuple[str, str, bool, bool, str] | None = None

    def show(self, where: str, source: str, read_only: bool, insecure: bool = False, read_only_hint: str = "") -> None:
        """Update the texts (plain text: names are never parsed as markup)."""
        self._shown = (where, source, read_only, insecure, read_only_hint)
        left = Text(" dvmirror ", style="bold reverse")
        if where:
            left.append(f"  {where}")
        right = Text()
        if self.live:
            lost = self.live.startswith("updates lost")
            right.append(self.live, style="bold reverse" if lost else ("bold" if self.live == "live" else ""))
            right.append("  ")
        right.append(source)
        right.append("  ")
        right.append("read-only" if read_only else "read-write", style="bold" if read_only else "")
        if insecure:
            right.append("  TLS NOT VERIFIED", style="bold reverse")
        right.append(" ")
        self.query_one("#header-left", Label).update(left)
        self.query_one("#header-right", Label).update(right)
        self.query_one("#header-right", Label).tooltip = Text(read_only_hint) if read_only_hint else None
