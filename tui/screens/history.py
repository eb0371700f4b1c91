"""The change history of one switch's mirror sessions (``h`` in the sessions screen).

:class:`HistoryScreen` asks the backend for the history (``backend.session_history``: vCenter's
``DvsReconfiguredEvent`` events with dvmirror's audit entries matched, :mod:`tui.history`) in a
thread worker, and shows it newest first in a table: time (local, with its UTC offset), user,
operation, session, what changed, and ``dvmirror`` for dvmirror's own changes. ``enter`` on a row
closes the screen and selects that session in the sessions screen (when it still exists);
``r`` reads again; ``esc`` closes. Every text from vCenter is escaped (:class:`tui.text.SafeText`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.markup import escape
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui import history
from tui.backends import Backend, BackendError
from tui.history import SessionHistoryEntry
from tui.messages import app_state
from tui.model import Switch
from tui.text import SafeText as Text
from tui.text import visible


class HistoryScreen(ModalScreen[str | None]):
    """Who changed this switch's sessions, and when; dismissed with the key of the session chosen."""

    DEFAULT_CSS = """
    HistoryScreen { align: center middle; }
    #history-box {
        width: 96%; height: 90%; border: round $primary; background: $surface; padding: 0 1;
    }
    #history-status { height: auto; }
    #history-table { height: 1fr; }
    """

    BINDINGS = [
        Binding("escape", "close", "Close", id="history.close", tooltip="Back to the sessions"),
        Binding("r", "again", "Again", id="history.again", tooltip="Read the history again"),
    ]

    @dataclass
    class Loaded(Message):
        run: int
        entries: tuple[SessionHistoryEntry, ...]

    @dataclass
    class Failed(Message):
        run: int
        message: str
        hint: str

    def __init__(self, switch_key: str, since: datetime | None = None) -> None:
        super().__init__()
        self.switch_key = switch_key
        self.since = since
        self.entries: tuple[SessionHistoryEntry, ...] = ()
        """Newest first, as shown."""
        self.error = ""
        self._run = 0

    def compose(self) -> ComposeResult:
        """Status line and table."""
        with Vertical(id="history-box"):
            yield Static(id="history-status")
            yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        """Columns, then read."""
        table = self.query_one("#history-table", DataTable)
        for name in ("Time", "User", "Operation", "Session", "Change", "By"):
            table.add_column(name, key=name)
        table.focus()
        self.load()

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#history-status", Static).update(Text(text, style=style))

    def load(self) -> None:
        """Read the history in a thread."""
        app = app_state(self.app)
        inv = app.inventory
        switch = inv.switches.get(self.switch_key) if inv is not None else None
        if switch is None:
            self._status("This switch is no longer in the inventory.", "bold")
            return
        self._run += 1
        since = self.since or datetime.now(UTC) - history.DEFAULT_SINCE
        box = self.query_one("#history-box")
        box.border_title = escape(visible(f"History of {switch.name}'s sessions"))
        box.border_subtitle = "enter select · r again · esc close"
        self._status(f"Reading the changes since {history.local_time(since)}…", "dim")
        self._read(app.backend, switch, since, self._run)

    @work(thread=True, exclusive=True, group="history", exit_on_error=False, description="Reading session history")
    def _read(self, backend: Backend, switch: Switch, since: datetime, run: int) -> None:
        """``backend.session_history`` in a thread; the answer arrives as a message."""
        try:
            found = backend.session_history(switch, since)
        except BackendError as e:
            self.post_message(self.Failed(run, f"Could not read the history: {e.message}", e.hint))
            return
        except Exception as e:  # never a traceback: said as it is
            self.post_message(self.Failed(run, f"Reading the history failed: {e.__class__.__name__}: {e}", ""))
            return
        self.post_message(self.Loaded(run, tuple(found)))

    def on_history_screen_loaded(self, message: Loaded) -> None:
        """Fill the table, newest first."""
        if message.run != self._run:
            return
        app = app_state(self.app)
        inv = app.inventory
        self.error = ""
        self.entries = tuple(reversed(message.entries))
        table = self.query_one("#history-table", DataTable)
        table.clear()
        for i, e in enumerate(self.entries):
            cells = (
                history.local_time(e.time),
                e.user,
                e.operation.value,
                history.session_label(e),
                history.summary(e, inv, self.switch_key),
                history.by_label(e),
            )
            style = "dim" if e.source == "audit" and e.result != "ok" else ""
            table.add_row(*(Text(visible(c), style=style) for c in cells), key=str(i))
        since = self.since or datetime.now(UTC) - history.DEFAULT_SINCE
        n = len(self.entries)
        if n:
            when = history.local_time(since)
            text = f"{n} change{'s' * (n != 1)} since {when}, newest first. enter selects the session."
        else:
            text = f"No mirror session changes since {history.local_time(since)}."
        if app.backend.offline:
            text += f" Note: {history.empty_note(app.backend.label)}."
        self._status(text)

    def on_history_screen_failed(self, message: Failed) -> None:
        """Say plainly what failed."""
        if message.run != self._run:
            return
        self.error = message.message
        self._status(message.message + (f"\n{message.hint}" if message.hint else ""), "bold red")

    @on(DataTable.RowSelected, "#history-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        row = event.cursor_row
        if 0 <= row < len(self.entries):
            self.dismiss(self.entries[row].key)

    def action_again(self) -> None:
        """Read the history again."""
        self.load()

    def action_close(self) -> None:
        """Back to the sessions."""
        self.dismiss(None)
