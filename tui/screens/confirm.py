"""Yes/no questions whose safe answer is the default: the one dialog every "are you sure?" uses.

:class:`ConfirmScreen` asks (discard an edited wizard, create an incomplete session);
:class:`ConfirmQuitScreen` is the same dialog asked by quit while a change is open, with ``y``/``q``
to quit. ``enter`` on the focused button and ``esc`` both give the safe answer.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.text import SafeText as Text


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question whose default (focused) answer is no; ``esc`` is no too."""

    BINDINGS = [Binding("escape", "dismiss(False)", "No", id="confirm.no")]
    FOCUS = "#confirm-no"
    """What has the focus when the question opens: the safe answer (a subclass may name its input)."""

    def __init__(self, question: str, *, yes: str, no: str, title: str = "Are you sure?") -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no
        self.title_text = title

    def compose(self) -> ComposeResult:
        """Question, then no and yes."""
        with Vertical(id="confirm-box"):
            yield Static(Text(self.question), id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button(self.no, id="confirm-no", compact=True)
                yield Button(self.yes, id="confirm-yes", compact=True)

    def on_mount(self) -> None:
        """The title, and the focus on the safe answer."""
        self.query_one("#confirm-box").border_title = self.title_text
        self.query_one(self.FOCUS).focus()

    @on(Button.Pressed, "#confirm-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def _no(self) -> None:
        self.dismiss(False)


class ConfirmQuitScreen(ConfirmScreen):
    """Asked by quit (``ctrl+q``; ``q`` where it is not a letter) while a session wizard is open:
    ``Stay`` is the default (enter or esc keeps what is open), ``y`` or ``q`` quits."""

    BINDINGS = [
        Binding("escape,n", "dismiss(False)", "Stay", id="confirm_quit.cancel", tooltip="Back to what is open"),
        Binding("y,q", "dismiss(True)", "Quit", id="confirm_quit.quit", tooltip="Quit; the unsent change is lost"),
    ]

    def __init__(self) -> None:
        super().__init__(
            "A session change is open and not sent to vCenter. Quit and lose it?",
            yes="Quit (y)",
            no="Stay",
            title="Quit?",
        )
