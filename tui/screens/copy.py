"""The copy chooser: ``y`` on a port offers its ID (the default: ``y`` or enter again), MAC, IP,
VM name and ``VM/NIC``; the app copies the choice and says how it went (tui/clipboard.py)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.clipboard import CopyChoice
from tui.messages import CopyRequested
from tui.text import SafeText as Text
from tui.text import visible


class CopyScreen(ModalScreen[None]):
    """Pick what to copy; the port ID is highlighted, so ``y`` ``y`` (or ``y`` enter) copies it."""

    DEFAULT_CSS = """
    CopyScreen { align: center middle; }
    CopyScreen > #copy-box {
        width: auto; min-width: 36; max-width: 90%; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    CopyScreen #copy-list { height: auto; max-height: 16; border: none; width: auto; }
    """

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="copy.close"),
        Binding("y", "pick('y')", "Port ID", id="copy.port_id", tooltip="Copy the port ID (the default)"),
        Binding("m", "pick('m')", "MAC", id="copy.mac", tooltip="Copy the MAC address"),
        Binding("i", "pick('i')", "IP", id="copy.ip", tooltip="Copy the (first) IP address"),
        Binding("v", "pick('v')", "VM", id="copy.vm", tooltip="Copy the VM name"),
        Binding(
            "n", "pick('n')", "VM/NIC", id="copy.vm_nic", tooltip="Copy VM/NIC, as --source and the wizard take it"
        ),
        Binding("j", "move(1)", show=False),
        Binding("k", "move(-1)", show=False),
    ]

    def __init__(self, choices: list[CopyChoice], title: str) -> None:
        super().__init__()
        self.choices = choices
        self.title_text = title

    def compose(self) -> ComposeResult:
        """The choices, one per line: key, what, value."""
        width = max((len(c.label) for c in self.choices), default=0)
        with Vertical(id="copy-box"):
            options = []
            for c in self.choices:
                line = Text(f"{c.key or ' '}  ", style="bold")
                line.append(f"{c.label:<{width}}  ", style="dim")
                line.append(visible(c.text))
                options.append(Option(line))
            yield OptionList(*options, id="copy-list")

    def on_mount(self) -> None:
        """Title, key hint, the port ID highlighted."""
        box = self.query_one("#copy-box")
        box.border_title = Text(visible(self.title_text))
        box.border_subtitle = "y/enter port ID · esc cancel"
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the keys of what this port does not have (a free port has no MAC or VM)."""
        if action == "pick" and parameters:
            return any(c.key == parameters[0] for c in self.choices)
        return True

    def action_pick(self, key: str) -> None:
        """Copy the choice of ``key``."""
        for choice in self.choices:
            if choice.key == key:
                self._copy(choice)
                return

    def action_move(self, delta: int) -> None:
        """``j``/``k``: move the highlight."""
        options = self.query_one(OptionList)
        current = options.highlighted or 0
        options.highlighted = max(0, min(options.option_count - 1, current + delta))

    @on(OptionList.OptionSelected, "#copy-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._copy(self.choices[event.option_index])

    def _copy(self, choice: CopyChoice) -> None:
        self.dismiss(None)
        self.app.post_message(CopyRequested(choice.text, f"{choice.label} {choice.text}"))
