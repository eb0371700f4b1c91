"""A modal error with what to do about it, and optional retry."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.backends import BackendError
from tui.text import SafeText as Text


class ErrorScreen(ModalScreen[bool]):
    """Shows a :class:`BackendError`; dismisses True for retry, False to close."""

    BINDINGS = [Binding("escape", "dismiss(False)", "Close", id="error.close")]

    def __init__(self, error: BackendError, *, retry_label: str | None = None) -> None:
        super().__init__()
        self.error = error
        self.retry_label = retry_label

    def compose(self) -> ComposeResult:
        """Message, hint, buttons."""
        with Vertical(id="error-box"):
            yield Static(Text(self.error.message), id="error-message")
            if self.error.hint:
                yield Static(Text(self.error.hint), id="error-hint")
            problems = getattr(self.error, "problems", [])
            if problems:
                text = Text()
                for p in problems:
                    text.append(f"{p.code}", style="bold")
                    text.append(f"  {p.message}\n")
                yield Static(text, id="error-problems")
            with Horizontal(id="error-buttons"):
                if self.retry_label:
                    yield Button(self.retry_label, id="retry", variant="primary")
                yield Button("Close", id="close")

    def on_mount(self) -> None:
        """Title the box."""
        self.query_one("#error-box").border_title = self.error.title

    @on(Button.Pressed, "#retry")
    def _retry(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss(False)
