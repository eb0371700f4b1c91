"""The context chooser (``C``): every vCenter of config.toml, the current one marked; enter shows it.

Like k9s's ``:ctx``: a context already loaded is shown as it was (no reload); one never shown is
loaded when chosen.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.contexts import ContextScope
from tui.text import SafeText as Text
from tui.text import visible


class ContextsScreen(ModalScreen[str | None]):
    """Choose a context."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", id="contexts.close"),
        Binding("j", "move(1)", "Next", show=False),
        Binding("k", "move(-1)", "Previous", show=False),
    ]

    def __init__(self, scopes: list[ContextScope]) -> None:
        super().__init__()
        self.scopes = scopes

    def compose(self) -> ComposeResult:
        """One line per context."""
        with Vertical(id="find-box"):
            yield OptionList(*(Option(self._label(s)) for s in self.scopes), id="find-results")

    def _label(self, scope: ContextScope) -> Text:
        current = scope.state == "current"
        text = Text("* " if current else "  ", style="bold")
        text.append(f"{visible(scope.name):<20}", style="bold" if current else "")
        text.append(f"  {visible(scope.where)}")
        note = visible(scope.error) if scope.error else ("" if current else scope.state)
        if note:
            text.append(f"  {note}", style="red" if scope.error else "dim")
        return text

    def on_mount(self) -> None:
        """Title; the highlight on the context after the current one."""
        box = self.query_one("#find-box")
        box.border_title = "Contexts"
        box.border_subtitle = "enter switch · esc close"
        results = self.query_one(OptionList)
        current = next((i for i, s in enumerate(self.scopes) if s.state == "current"), -1)
        results.highlighted = (current + 1) % len(self.scopes) if self.scopes else None
        results.focus()

    def action_move(self, delta: int) -> None:
        """Move the highlight."""
        results = self.query_one(OptionList)
        if results.option_count:
            results.highlighted = max(0, min(results.option_count - 1, (results.highlighted or 0) + delta))

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.scopes[event.option_index].name)
