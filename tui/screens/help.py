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
    "y copies to your clipboard over SSH (OSC 52): the port ID with y again, or its MAC, IP, VM name or "
    "VM/NIC. t shows the port's live traffic (packets, bytes and drops per second). Ctrl+P opens the command palette."
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
        """Keys table and a short guide (the screen's own, when it has one: ``HELP_ABOUT``)."""
        with VerticalScroll(id="help-box"):
            yield Static(self._keys(), id="help-keys")
            yield Static(Text(getattr(self.under, "HELP_ABOUT", ABOUT)), id="help-about")

    def on_mount(self) -> None:
        """Title the box."""
        self.query_one("#help-box").border_title = "Keys"
        self.query_one("#help-box").border_subtitle = "esc close"

    def rows(self) -> list[tuple[str, str, str]]:
        """``(keys, label, what it does)`` for every key of the screen below, named as its footer
        names it (``del/D``, ``Delete``); then the screen's general keys (``HELP_GENERAL``, the
        explorer's by default), with no label."""
        keys: dict[str, list[str]] = {}
        found: dict[str, Binding] = {}
        for key, active in self.under.active_bindings.items():
            binding = active.binding
            # Only dvmirror's own keys (they carry ids, so they can be remapped in config.toml).
            if binding.id is None or not isinstance(active.node, (Screen, App)):
                continue
            found.setdefault(binding.id, binding)
            shown = self.app.get_key_display(binding) or key
            if shown not in keys.setdefault(binding.id, []):
                keys[binding.id].append(shown)
        out = []
        for binding_id, binding in found.items():
            what = binding.tooltip if binding.tooltip and binding.tooltip != binding.description else ""
            out.append(("/".join(keys[binding_id]), binding.description, what))
        return out + [(key, "", what) for key, what in getattr(self.under, "HELP_GENERAL", GENERAL)]

    def _keys(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", justify="right", no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(style="dim")
        for keys, label, what in self.rows():
            # Keys may come from config.toml's [keymap]: plain text, never markup or raw controls.
            table.add_row(Text(keys), Text(label), Text(what))
        return table
