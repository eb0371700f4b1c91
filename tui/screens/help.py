"""The help screen: every key of the screen below, from its live bindings (so remaps show)."""

from __future__ import annotations

from rich.table import Table
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.text import SafeText as Text

ABOUT = (
    "Find any port by VM, NIC, IP, MAC or port ID with /. Mark sources with s (press again: "
    "ingress+egress → ingress → egress → off) and destinations with d, on one switch. "
    "y copies the port ID to your clipboard over SSH (OSC 52). Ctrl+P opens the command palette."
)


GENERAL = (
    ("tab", "Move between the tree and the port table"),
    ("enter", "Expand or collapse a tree node"),
    ("ctrl+p", "Command palette: go to a VM or port, run an action by name, change theme"),
    ("ctrl+q", "Quit at once (asks first while a session wizard is open)"),
)


class HelpScreen(ModalScreen[None]):
    """Key map of the screen that opened it."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help.close"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self, under: Screen[object]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        """Keys table and a short guide."""
        with VerticalScroll(id="help-box"):
            yield Static(self._keys(), id="help-keys")
            yield Static(Text(ABOUT), id="help-about")

    def on_mount(self) -> None:
        """Title the box."""
        self.query_one("#help-box").border_title = "Keys"
        self.query_one("#help-box").border_subtitle = "esc close"

    def _keys(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", justify="right", no_wrap=True)
        table.add_column()
        seen: set[str] = set()
        for key, active in self.under.active_bindings.items():
            binding = active.binding
            # Only dvmirror's own keys (they carry ids, so they can be remapped in config.toml).
            if binding.id is None or not isinstance(active.node, (Screen, App)) or binding.id in seen:
                continue
            seen.add(binding.id)
            # Keys may come from config.toml's [keymap]: plain text, never markup or raw controls.
            table.add_row(Text(self.app.get_key_display(binding) or key), binding.tooltip or binding.description)
        for key, what in GENERAL:
            table.add_row(key, what)
        return table
