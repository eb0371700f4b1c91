"""Asking for the vCenter password (never stored; the OS keyring is tried first by the CLI)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from tui.text import SafeText as Text


class PasswordScreen(ModalScreen[str | None]):
    """A hidden password prompt; dismisses the password, or None to quit."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Quit", id="password.cancel")]

    def __init__(self, user: str, server: str, reason: str = "") -> None:
        super().__init__()
        self.user = user
        self.server = server
        self.reason = reason

    def compose(self) -> ComposeResult:
        """Who, where, the field."""
        with Vertical(id="password-box"):
            if self.reason:
                yield Static(Text(self.reason, style="bold"), id="password-reason")
            who = f"{self.user} on {self.server}" if self.user else self.server
            yield Static(Text(f"Password for {who}:"))
            yield Input(password=True, id="password-input")
            yield Static(
                Text("Not stored anywhere. Set DVMIRROR_PASSWORD or GOVC_PASSWORD to skip this.", style="dim"),
            )
            with Horizontal(id="password-buttons"):
                yield Button("Quit", id="password-quit", compact=True)
                yield Button("Connect", id="password-ok", variant="primary", compact=True)

    def on_mount(self) -> None:
        """Title and focus."""
        self.query_one("#password-box").border_title = "Log in to vCenter"
        self.query_one("#password-input", Input).focus()

    @on(Input.Submitted, "#password-input")
    @on(Button.Pressed, "#password-ok")
    def _ok(self) -> None:
        value = self.query_one("#password-input", Input).value
        if value:
            self.dismiss(value)

    @on(Button.Pressed, "#password-quit")
    def _quit(self) -> None:
        self.dismiss(None)
