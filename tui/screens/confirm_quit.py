"""Asked by quit (``ctrl+q``; ``q`` where it is not a letter) while a session wizard or another
unsent change is open: quit anyway?"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class ConfirmQuitScreen(ModalScreen[bool]):
    """``Quit`` or ``Stay`` (the default: enter or esc keeps what is open)."""

    DEFAULT_CSS = """
    ConfirmQuitScreen { align: center middle; }
    #quit-box { width: 60; max-width: 96%; height: auto; border: round $warning; background: $surface; padding: 1 2; }
    #quit-question { width: 1fr; }
    #quit-buttons { height: 1; margin-top: 1; align-horizontal: right; }
    #quit-buttons Button { margin-left: 2; }
    """

    BINDINGS = [
        Binding("escape,n", "dismiss(False)", "Stay", id="confirm_quit.cancel", tooltip="Back to what is open"),
        Binding("y,q", "dismiss(True)", "Quit", id="confirm_quit.quit", tooltip="Quit; the unsent change is lost"),
    ]

    def compose(self) -> ComposeResult:
        """The question and two buttons."""
        with Vertical(id="quit-box"):
            yield Label("A session change is open and not sent to vCenter. Quit and lose it?", id="quit-question")
            with Horizontal(id="quit-buttons"):
                yield Button("Stay", id="quit-stay", variant="primary", compact=True)
                yield Button("Quit (y)", id="quit-leave", variant="error", compact=True)

    def on_mount(self) -> None:
        """Stay is focused: enter does not lose the change."""
        self.query_one("#quit-box").border_title = "Quit?"
        self.query_one("#quit-stay", Button).focus()

    @on(Button.Pressed, "#quit-stay")
    def _stay(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#quit-leave")
    def _leave(self) -> None:
        self.dismiss(True)
