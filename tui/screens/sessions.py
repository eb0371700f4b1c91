"""The sessions screen: every mirror session of a switch, with endpoints, warnings and actions."""

from __future__ import annotations

from datetime import datetime

from rich.console import Group
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Static

from tui import drift, timebox
from tui.describe import advise, endpoint_labels
from tui.lookup import natural_key
from tui.messages import ApplyChanges, CopyRequested, OpenWizard, app_state
from tui.model import (
    ChangeOperation,
    Inventory,
    MirrorSession,
    Problem,
    SessionChange,
    SessionType,
    Severity,
    new_session,
)
from tui.render import advice_parts, problem_text, session_table
from tui.screens.confirm import ConfirmScreen
from tui.text import SafeText as Text
from tui.text import visible
from widgets.app_header import AppHeader
from widgets.safe_input import SafeInput

SHORT_TYPES = {t.value: t.spec.short_label for t in SessionType}
"""Session types in few words, for the table (the detail gives the vSphere Client's names)."""


class ConfirmDeleteScreen(ConfirmScreen):
    """Deleting a session needs its name (or key) typed in."""

    BINDINGS = [Binding("escape", "dismiss(False)", "Cancel", id="confirm_delete.cancel")]
    FOCUS = "#confirm-input"

    def __init__(self, session: MirrorSession, switch_name: str) -> None:
        super().__init__("", yes="Delete", no="Cancel", title="Delete mirror session")
        self.session = session
        self.switch_name = switch_name
        self.expected = session.name or str(session.key)

    def compose(self) -> ComposeResult:
        """Question, input, buttons."""
        what = "name" if self.session.name else "key"
        with Vertical(id="confirm-box"):
            yield Static(
                Text(
                    f"Delete session {self.expected!r} ({self.session.type_label}) from {self.switch_name}? "
                    f"Mirroring stops at once. Type its {what} to confirm:"
                )
            )
            yield SafeInput(placeholder=visible(self.expected), id="confirm-input")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="confirm-no", compact=True)
                yield Button("Delete", id="confirm-yes", variant="error", disabled=True, compact=True)

    @on(Input.Changed, "#confirm-input")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#confirm-yes", Button).disabled = event.value != self.expected

    @on(Input.Submitted, "#confirm-input")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value == self.expected:
            self.dismiss(True)
        else:
            self.notify(f"Type {self.expected!r} exactly to delete it.", severity="warning", markup=False)


def status_cell(s: MirrorSession, now: datetime) -> Text:
    """``enabled``, ``disabled``, with the time box: ``enabled · 29 min left``, ``enabled · expired``."""
    text = Text("enabled" if s.enabled else "disabled", style="" if s.enabled else "dim")
    left = timebox.left(s, now)
    if left is not None:
        expired = left.total_seconds() <= 0
        text.append(" · " + ("expired" if expired else timebox.left_text(s, now).removesuffix(" left")))
        if expired and s.enabled:
            text.stylize("bold yellow")
    return text


class SessionsScreen(Screen[None]):
    """The mirror sessions of one switch."""

    BINDINGS = [
        Binding("escape", "close", "Back", id="sessions.back"),
        Binding("n", "new", "New", id="sessions.new", tooltip="New session on this switch"),
        Binding("e,enter", "edit", "Edit", id="sessions.edit", tooltip="Edit the selected session"),
        Binding("c", "clone", "Clone", id="sessions.clone", tooltip="New session starting from this one", show=False),
        Binding("space", "toggle_enabled", "On/off", id="sessions.toggle", tooltip="Enable or disable the session"),
        Binding("delete,D", "delete", "Delete", id="sessions.delete", tooltip="Delete (asks for the name)"),
        Binding("y", "copy_filter", "Copy", id="sessions.copy_filter", tooltip="Copy the capture filter"),
        Binding(
            "f",
            "capture",
            "Capture",
            id="sessions.capture",
            tooltip="Edit the capture filter: host of interest, interface",
            show=False,
        ),
        Binding(
            "v",
            "verify",
            "Verify",
            id="sessions.verify",
            tooltip="Verify it mirrors: the ports' counters over a few seconds",
            show=False,
        ),
        Binding(
            "h",
            "history",
            "History",
            id="sessions.history",
            tooltip="Who changed this switch's sessions, and when (vCenter's events)",
            show=False,
        ),
        Binding(
            "E",
            "expire",
            "Expire",
            id="sessions.expire",
            tooltip="Disable the sessions whose time box has passed",
            show=False,
        ),
        Binding(
            "x",
            "export",
            "Export",
            id="sessions.export",
            tooltip="The session as an Ansible task, a PowerCLI or pyVmomi script, or JSON",
            show=False,
        ),
        Binding(
            "w",
            "next_switch",
            "Next switch",
            id="sessions.next_switch",
            tooltip="Show the next switch's sessions",
            show=False,
        ),
    ]

    HELP_GENERAL = (
        ("up/down", "Move between the sessions"),
        ("ctrl+p", "Command palette"),
        ("ctrl+q", "Quit at once"),
    )
    """The rows of the help screen after this screen's own keys (tui/screens/help.py)."""
    HELP_ABOUT = (
        "The port mirroring sessions of one switch (the next switch's with Next switch). Below the table: "
        "every field of the selected session with its vSphere API name, its warnings, what the physical "
        "network must allow, and a capture filter for the destination (Copy copies it). Verify reads the "
        "session's port counters for a few seconds and says whether mirrored frames reach the destination. "
        "History lists who changed the sessions and when (vCenter's events), dvmirror's own changes marked."
    )

    COMPACT_BELOW = 110
    """Screens narrower than this list endpoints by port key only (``448⇄``); the detail names them."""

    def __init__(self, switch_key: str) -> None:
        super().__init__()
        self.switch_key = switch_key
        self.sessions: list[MirrorSession] = []
        self.filter = ""
        self._compact_shown: bool | None = None
        """Whether the table's columns are the narrow screen's (None: not built yet)."""

    def compose(self) -> ComposeResult:
        """Header, table, detail, footer."""
        yield AppHeader(id="header")
        with Vertical(id="sessions-main"):
            yield DataTable(id="sessions-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="session-detail"):
                yield Static(id="session-info")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Columns, then follow the inventory."""
        table = self.query_one("#sessions-table", DataTable)
        self.watch(self.app, "inventory", self._inventory_changed, init=True)
        self.watch(self.app, "live", self._live_changed, init=False)
        table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the writes in read-only mode; dim the ones that need a session."""
        if action in ("new", "edit", "clone", "toggle_enabled", "delete") and app_state(self.app).read_only:
            return False
        if (
            action in ("edit", "clone", "toggle_enabled", "delete", "copy_filter", "capture", "verify")
            and self.current is None
        ):
            return None
        if action == "next_switch":
            inv = app_state(self.app).inventory
            return inv is not None and len(inv.switches) > 1
        return True

    @property
    def current(self) -> MirrorSession | None:
        """The session under the cursor."""
        table = self.query_one("#sessions-table", DataTable)
        if not self.sessions or not 0 <= table.cursor_row < len(self.sessions):
            return None
        return self.sessions[table.cursor_row]

    def _live_changed(self, _state: object) -> None:
        self.query_one(AppHeader).set_live(app_state(self.app).live_label)

    def _inventory_changed(self, inventory: Inventory | None) -> None:
        if inventory is None:
            return
        app = app_state(self.app)
        switch = inventory.switches.get(self.switch_key)
        if switch is None:  # gone after a refresh: say so (a modal may be on top: do not pop it)
            self.sessions = []
            self.query_one("#sessions-table", DataTable).clear()
            self.query_one("#session-info", Static).update(
                Text("This switch is no longer in the inventory. Press esc to go back.", style="bold")
            )
            return
        self.query_one(AppHeader).show(
            f"{inventory.vcenter} / {switch.name} / sessions",
            app.backend.label,
            app.read_only,
            app.backend.insecure,
            app.read_only_hint,
        )
        self.query_one(AppHeader).set_live(app.live_label)
        table = self.query_one("#sessions-table", DataTable)
        keep = self.current.key if self.current else None
        self.sessions = sorted(switch.sessions, key=lambda s: natural_key(s.key or ""))
        compact = self._compact()
        if compact != self._compact_shown:  # columns again: their widths follow what they hold now
            table.clear(columns=True)
            for name in ("Key", "Name", "Type", "Status", "Sources", "Destinations", "Warnings"):
                table.add_column("Warn" if compact and name == "Warnings" else name, key=name)
            self._compact_shown = compact
        else:
            table.clear()
        now = timebox.now_utc()
        for s in self.sessions:
            sources, destinations = endpoint_labels(inventory, switch.key, s, short=True, names=not compact)
            warnings = [p for p in self._problems(inventory, s) if p.severity is not Severity.INFO]
            table.add_row(
                Text(visible(s.key or "")),
                Text(visible(s.name or "(no name)")),
                Text(SHORT_TYPES.get(s.session_type or "", s.type_label)),
                status_cell(s, now),
                Text(visible((" " if compact else "  ").join(sources))),
                Text(visible((" " if compact else "  ").join(destinations))),
                Text(str(len(warnings)) if warnings else "", style="bold yellow"),
                key=s.key,
            )
        count = len(self.sessions)
        table.border_title = escape(visible(f"{switch.name}  {count} mirror session{'s' * (count != 1)}"))
        table.border_subtitle = self._more_keys()
        row = next((i for i, s in enumerate(self.sessions) if s.key == keep), 0)
        if self.sessions:
            table.move_cursor(row=row)
        self._show_detail()
        self.refresh_bindings()

    def _problems(self, inventory: Inventory, s: MirrorSession) -> list[Problem]:
        """The session's drift and rule warnings (:func:`tui.drift.problems_of`)."""
        return drift.problems_of(app_state(self.app).session_problems, inventory, self.switch_key, s)

    def _compact(self) -> bool:
        return 0 < self.app.size.width < self.COMPACT_BELOW

    def on_resize(self) -> None:
        """Endpoints with or without VM names, as the width allows."""
        inv = app_state(self.app).inventory
        if inv is not None and self._compact_shown is not None and self._compact() != self._compact_shown:
            self._inventory_changed(inv)

    def _more_keys(self) -> str:
        """The keys the footer leaves out, as the footer and the help name them (``c Clone · w Next
        switch``): every key of this screen is shown somewhere, with one label."""
        parts = []
        seen: set[str] = set()
        for binding in self.BINDINGS:
            if not isinstance(binding, Binding) or binding.show or binding.id is None or binding.id in seen:
                continue
            seen.add(binding.id)
            if binding.action == "next_switch" and self.check_action("next_switch", ()) is not True:
                continue
            keys = self.app.get_key_display(self._bound(binding.id) or binding)
            parts.append(f"{keys} {binding.description}")
        return escape(" · ".join(parts))

    def _bound(self, binding_id: str) -> Binding | None:
        """The binding with that id as the keymap left it (a remapped key shows as remapped)."""
        for bindings in self._bindings.key_to_bindings.values():
            for b in bindings:
                if b.id == binding_id:
                    return b
        return None

    @on(DataTable.RowHighlighted, "#sessions-table")
    def _highlighted(self) -> None:
        self._show_detail()
        self.refresh_bindings()

    def _show_detail(self) -> None:
        inv, s = app_state(self.app).inventory, self.current
        info = self.query_one("#session-info", Static)
        if inv is None or s is None:
            sw = inv.switches.get(self.switch_key) if inv is not None else None
            new = self.app.get_key_display(self._bound("sessions.new") or Binding("n", "new"))
            info.update(Text(f"No mirror session on this switch. Press {new} to create one.", style="dim italic"))
            self.query_one("#session-detail").border_title = escape(visible(f"{sw.name}: no session" if sw else ""))
            self.filter = ""
            return
        parts: list[object] = [session_table(inv, self.switch_key, s)]
        problems = self._problems(inv, s)
        # One heading per severity, as ``dvmirror session`` prints them: an info note is no warning.
        for severity, heading in (
            (Severity.ERROR, "Problems"),
            (Severity.WARNING, "Warnings"),
            (Severity.INFO, "Notes"),
        ):
            these = [p for p in problems if p.severity is severity]
            if these:
                parts += [Text(f"\n{heading}", style="bold"), problem_text(these)]
        advice = advise(inv, self.switch_key, s)
        self.filter = advice.capture_filter
        parts += advice_parts(advice)
        info.update(Group(*parts))  # type: ignore[arg-type]
        self.query_one("#session-detail").border_title = escape(visible(f"Session {s.key} {s.name}".rstrip()))

    # -- actions ----------------------------------------------------------------------------

    def action_close(self) -> None:
        """Back to the explorer."""
        self.dismiss()

    def action_new(self) -> None:
        """Open the wizard for a new session."""
        inv = app_state(self.app).inventory
        if inv is None:
            return
        self.post_message(OpenWizard(self.switch_key, new_session(inv.switches[self.switch_key])))

    def action_edit(self) -> None:
        """Open the wizard on the selected session."""
        if self.current is not None:
            self.post_message(OpenWizard(self.switch_key, self.current, ChangeOperation.EDIT))

    def action_clone(self) -> None:
        """Open the wizard on a copy of the selected session (a destination serves one session)."""
        s = self.current
        if s is not None:
            copy = s.with_changes(key=None, name=f"{s.name} (copy)"[:80] if s.name else "")
            self.post_message(OpenWizard(self.switch_key, copy))

    def action_toggle_enabled(self) -> None:
        """Enable or disable the selected session (an edit of the complete session)."""
        s = self.current
        if s is not None:
            change = SessionChange(ChangeOperation.EDIT, s.with_changes(enabled=not s.enabled))
            self.post_message(ApplyChanges(self.switch_key, [change]))

    def action_delete(self) -> None:
        """Delete the selected session after its name is typed."""
        s, inv = self.current, app_state(self.app).inventory
        if s is None or inv is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.post_message(ApplyChanges(self.switch_key, [SessionChange(ChangeOperation.REMOVE, s)]))

        self.app.push_screen(ConfirmDeleteScreen(s, inv.switches[self.switch_key].name), confirmed)

    def action_copy_filter(self) -> None:
        """Copy the selected session's capture filter."""
        if self.filter:
            self.post_message(CopyRequested(self.filter, f"Capture filter {self.filter}"))

    def action_capture(self) -> None:
        """The capture step for the selected session: host of interest, filter, interface."""
        from tui.screens.capture_view import CaptureScreen

        inv = app_state(self.app).inventory
        if inv is not None and self.current is not None:
            self.app.push_screen(CaptureScreen(inv, self.switch_key, self.current))

    def action_verify(self) -> None:
        """Verify the selected session: sample its ports and judge (tui/screens/verify.py)."""
        from tui.screens.verify import VerifyScreen

        s = self.current
        if s is not None and s.key:
            self.app.push_screen(VerifyScreen(self.switch_key, s.key, seconds=app_state(self.app).verify_seconds))

    def action_history(self) -> None:
        """The change history of this switch's sessions (tui/screens/history.py); the session
        chosen there is selected here."""
        from tui.screens.history import HistoryScreen

        def chosen(key: str | None) -> None:
            row = next((i for i, s in enumerate(self.sessions) if key and s.key == key), None)
            if row is not None:
                self.query_one("#sessions-table", DataTable).move_cursor(row=row)

        self.app.push_screen(HistoryScreen(self.switch_key), chosen)

    def action_expire(self) -> None:
        """Disable this switch's enabled sessions whose time box has passed (one change), after asking."""
        inv = app_state(self.app).inventory
        if inv is None or self.switch_key not in inv.switches:
            return
        switch = inv.switches[self.switch_key]
        now = timebox.now_utc()
        due = [s for _, s in timebox.expired(inv, now, [switch]) if s.enabled]
        if not due:
            self.notify(f"No enabled session on {visible(switch.name)} has expired.", markup=False)
            return
        names = ", ".join(f"{s.key} ({s.name or 'no name'}, {timebox.left_text(s, now)})" for s in due)

        def confirmed(yes: bool | None) -> None:
            if yes:
                changes = [SessionChange(ChangeOperation.EDIT, s.with_changes(enabled=False)) for s in due]
                self.post_message(ApplyChanges(self.switch_key, changes))

        count = f"{len(due)} session{'s' * (len(due) != 1)}"
        self.app.push_screen(
            ConfirmScreen(
                f"Disable {count} on {switch.name} whose time box has passed: {names}?",
                yes="Disable",
                no="Keep",
                title="Expired sessions",
            ),
            confirmed,
        )

    def action_export(self) -> None:
        """The selected session for another tool (tui/screens/export.py)."""
        from tui.screens.export import ExportScreen

        inv = app_state(self.app).inventory
        if inv is not None and self.current is not None and self.switch_key in inv.switches:
            self.app.push_screen(ExportScreen(inv, inv.switches[self.switch_key], self.current))

    def action_next_switch(self) -> None:
        """Show the next switch's sessions."""
        inv = app_state(self.app).inventory
        if inv is None:
            return
        keys = sorted(inv.switches, key=lambda k: natural_key(inv.switches[k].name))
        self.switch_key = keys[(keys.index(self.switch_key) + 1) % len(keys)]
        self._inventory_changed(inv)
