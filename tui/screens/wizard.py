"""The mirror-session wizard: one modal whose fields follow the chosen session type.

Step one is the form, built from the sections of :mod:`tui.screens.wizard_sections` (each
reads itself into a :class:`~tui.sessionform.Form`, shows what applies to the chosen type and
shows the problems of its fields as you type); step two reviews the exact change that will
be sent, with warnings, what the upstream switch must allow and the capture filter for the
destination. Create is refused while an error stands. The wizard
returns a :class:`SessionChange`; the app applies it.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import (
    Button,
    Checkbox,
    ContentSwitcher,
    Footer,
    RadioSet,
    Select,
    SelectionList,
    Static,
)

from tui import rules, sessionform
from tui.describe import advise, notes
from tui.messages import CopyRequested, app_state
from tui.model import (
    ChangeOperation,
    Inventory,
    MirrorSession,
    Problem,
    SessionChange,
    Severity,
)
from tui.render import advice_parts, problem_text, session_table
from tui.screens.capture_view import CapturePanel
from tui.screens.confirm import ConfirmScreen
from tui.screens.wizard_sections import (
    SHORTCUTS,
    DestinationSection,
    EncapsulationSection,
    ErspanSection,
    LengthSection,
    NameSection,
    NormalIoSection,
    Section,
    SourcesSection,
    TypeSection,
)
from tui.sessionform import Form
from tui.text import SafeText as Text
from tui.text import visible
from widgets.safe_input import SafeInput as Input


class SessionWizard(ModalScreen[SessionChange | None]):
    """New, edit or clone a mirror session on one switch."""

    BINDINGS = [
        Binding("escape", "back", "Back / cancel", id="wizard.back"),
        Binding("ctrl+r", "review", "Review", id="wizard.review"),
        Binding("y,ctrl+y", "copy_filter", "Copy capture filter", id="wizard.copy_filter"),
        *[
            Binding(
                f"alt+{letter}",
                f"jump('{section}')",
                "Jump to field",
                key_display="alt+letter",
                id=f"wizard.jump_{section}",
                tooltip=f"Go to {section.replace('_', ' ')} (the underlined letter)",
                show=letter == "t",
                priority=True,  # a terminal sends alt+l as ESC l: an Input would type the "l"
            )
            for letter, section in SHORTCUTS.items()
        ],
    ]

    JUMPS: dict[str, tuple[str, ...]] = {
        "type": ("#type",),
        "name": ("#name",),
        "sources": ("#sources", "#source-vlans"),
        "destinations": ("#dest-ports", "#dest-ips", "#dest-uplinks"),
        "uplinks": ("#dest-uplinks",),
        "encapsulation": ("#encap-on", "#encap-vlan", "#encap-type"),
        "length": ("#length-on",),
        "normal_io": ("#normal-io",),
    }
    """Section → the widgets its shortcut focuses, the first one shown for the type."""

    def __init__(
        self,
        inventory: Inventory,
        switch_key: str,
        session: MirrorSession,
        operation: ChangeOperation = ChangeOperation.ADD,
    ) -> None:
        super().__init__()
        self.inventory = inventory
        self.switch_key = switch_key
        self.switch = inventory.switches[switch_key]
        self.base = session
        self.operation = operation
        self.form = sessionform.from_session(session)
        self.built = sessionform.build(inventory, switch_key, self.form, session)
        self.problems: list[Problem] = []
        self.initial = self.form
        """The form as it opened (``esc`` asks before dropping anything else)."""

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """The form, the review, the buttons."""
        f = self.form
        with Vertical(id="wizard"):
            with ContentSwitcher(initial="wizard-form", id="wizard-steps"):
                with VerticalScroll(id="wizard-form"):
                    yield TypeSection(f, self.switch.capability)
                    yield NameSection(f)
                    yield SourcesSection(f)
                    yield DestinationSection(f, self._uplink_choices())
                    yield EncapsulationSection(f)
                    yield LengthSection(f)
                    yield NormalIoSection(f)
                    yield ErspanSection(f)
                    yield Static(id="problem-general", classes="problem")
                    yield Static(id="notes", classes="notes")
                with VerticalScroll(id="wizard-review"):
                    yield Static(id="review")
                    yield CapturePanel(self.inventory, self.switch_key, self.built.session, id="capture")
            with Horizontal(id="wizard-buttons"):
                yield Static(id="wizard-status")
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("< Back", id="back", compact=True)
                yield Button("Review >", id="to-review", compact=True)
                yield Button(self._verb(), id="apply", compact=True)
        yield Footer(compact=True)

    def _uplink_choices(self) -> list[str]:
        """The switch's uplinks, then any of the session's that the switch does not list (kept, flagged)."""
        names = list(self.switch.uplink_names)
        return names + [u for u in dict.fromkeys(self.form.dest_uplinks) if u not in names]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Copying the filter belongs to the review step."""
        if action == "copy_filter":
            return self.is_mounted and self.query_one(ContentSwitcher).current == "wizard-review"
        return True

    def _verb(self) -> str:
        return {ChangeOperation.ADD: "Create", ChangeOperation.EDIT: "Apply", ChangeOperation.REMOVE: "Delete"}[
            self.operation
        ]

    def on_mount(self) -> None:
        """Title, first check, focus."""
        what = {ChangeOperation.ADD: "New", ChangeOperation.EDIT: "Edit"}.get(self.operation, "")
        name = f" {self.base.name!r}" if self.operation is ChangeOperation.EDIT and self.base.name else ""
        box = self.query_one("#wizard")
        box.border_title = escape(visible(f"{what} port mirroring session{name} on {self.switch.name}"))
        self.query_one("#back").display = False
        self.query_one("#apply").display = False
        self._update()
        self.initial = self.form
        self.query_one("#type", RadioSet).focus()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Mark the focused field's row, so its label stands out (``.row.-focused``)."""
        for row in self.query(".row.-focused"):
            row.remove_class("-focused")
        for node in event.widget.ancestors_with_self:
            if node.has_class("row"):
                node.add_class("-focused")
                break

    @property
    def changed(self) -> bool:
        """Whether the form differs from what the wizard opened with."""
        return self._read_form() != self.initial

    # -- form ------------------------------------------------------------------------------

    def _read_form(self) -> Form:
        form = Form()
        for section in self.query(Section):
            section.read(form)
        return form

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(RadioSet.Changed)
    @on(Select.Changed)
    @on(SelectionList.SelectedChanged)
    def _changed(self, event: Message) -> None:
        control = getattr(event, "control", None)
        if isinstance(control, Widget) and any(isinstance(a, CapturePanel) for a in control.ancestors):
            return  # the capture step's own fields
        if self.is_mounted:
            self._update()

    def _update(self) -> None:
        """Rebuild the session from the form and re-run the rules."""
        self.form = form = self._read_form()
        t = form.session_type
        self.built = built = sessionform.build(self.inventory, self.switch_key, form, self.base)
        change = SessionChange(self.operation, built.session)
        allowed = app_state(self.app).backend.settings.allowed_sessions
        self.problems = [*built.problems, *rules.check(self.inventory, self.switch_key, [change], allow_list=allowed)]
        by_section: dict[Section, list[Problem]] = {section: [] for section in self.query(Section)}
        general: list[Problem] = []
        for p in self.problems:
            section = next((s for s in by_section if p.field in s.PROBLEM_FIELDS), None)
            (by_section[section] if section is not None else general).append(p)
        for section, problems in by_section.items():
            section.show(t)
            section.show_problems(problems)
        self.query_one(NameSection).show_expiry(built.session)
        self.query_one(SourcesSection).show_resolved(built.resolved["sources"])
        self.query_one(DestinationSection).show_resolved(built.resolved["dest_ports"])
        line = self.query_one("#problem-general", Static)
        line.update(problem_text(general))
        line.display = bool(general)
        good = notes(self.inventory, self.switch_key, built.session)
        self.query_one("#notes", Static).update(Text("\n".join(f"✓ {n}" for n in good), style="green"))
        errors = sum(p.severity is Severity.ERROR for p in self.problems)
        warnings = len(self.problems) - errors
        status = Text()
        if errors:
            status.append(f"{errors} error{'s' * (errors != 1)}", style="bold red")
        if warnings:
            status.append(("  " if errors else "") + f"{warnings} warning{'s' * (warnings != 1)}", style="yellow")
        missing = sessionform.incomplete(built.session)
        if not errors and missing:
            status.append(("  " if warnings else "") + "incomplete", style="bold yellow")
        elif not self.problems:
            status.append("ready to review", style="green")
        self.query_one("#wizard-status", Static).update(status)
        self.query_one("#apply", Button).disabled = errors > 0

    # -- review -----------------------------------------------------------------------------

    def _changes(self) -> list[Table | Text]:
        """An edit's changes, field by field: ``name  "a" → "b"``."""
        changes = sessionform.field_changes(self.inventory, self.switch_key, self.base, self.built.session)
        if not changes:
            return [Text("\nNothing changed: the session is sent as it is.", style="bold")]
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        for c in changes:
            change = Text()
            change.append(c.old or "(unset)", style="red" if c.old else "dim")
            change.append(" → ")
            change.append(c.new or "(unset)", style="green" if c.new else "dim")
            table.add_row(c.field, change)
        n = len(changes)
        return [Text(f"\nWhat changes ({n} field{'s' * (n != 1)})", style="bold"), table]

    def _review(self) -> Group:
        s = self.built.session
        parts: list[Table | Text] = []
        head = Text()
        verb = {ChangeOperation.ADD: "add", ChangeOperation.EDIT: "edit", ChangeOperation.REMOVE: "remove"}[
            self.operation
        ]
        head.append("ReconfigureDvs_Task", style="bold")
        head.append(f" on {self.switch.name} (configVersion {self.switch.config_version}): ")
        head.append(f"vspanConfigSpec operation={verb}", style="bold")
        if self.operation is ChangeOperation.EDIT:
            head.append(f", key {s.key}; the complete session is sent", style="dim")
        parts.append(head)
        missing = sessionform.incomplete(s)
        if missing:
            parts.append(Text(f"! {missing} {self._verb()} asks before sending it.", style="bold yellow"))
        if self.operation is ChangeOperation.EDIT:
            parts += self._changes()
            parts.append(Text("\nThe complete session", style="bold"))
        parts.append(session_table(self.inventory, self.switch_key, s))
        if self.problems:
            parts.append(Text("\nProblems", style="bold"))
            parts.append(problem_text(self.problems))
        parts += advice_parts(advise(self.inventory, self.switch_key, s), capture=False)
        return Group(*parts)

    @property
    def filter(self) -> str:
        """The capture filter of the review, as the operator left it."""
        return self.query_one(CapturePanel).filter

    def _show_step(self, review: bool) -> None:
        self.query_one(ContentSwitcher).current = "wizard-review" if review else "wizard-form"
        for button, shown in (("#back", review), ("#apply", review), ("#to-review", not review)):
            self.query_one(button).display = shown
        self.refresh_bindings()

    def action_review(self) -> None:
        """Show the exact change; the default button is the verb only for a complete, error-free session."""
        self._update()
        self.query_one("#review", Static).update(self._review())
        self.query_one(CapturePanel).show(self.built.session)
        self._show_step(True)
        self.query_one("#wizard-review", VerticalScroll).scroll_home(animate=False)
        apply = self.query_one("#apply", Button)
        ready = not apply.disabled and not sessionform.incomplete(self.built.session)
        (apply if ready else self.query_one("#back", Button)).focus()

    def action_back(self) -> None:
        """Back to the form from the review; leave from the form (asking first if anything changed)."""
        if self.query_one(ContentSwitcher).current == "wizard-review":
            self._show_step(False)
            self.query_one("#type", RadioSet).focus()
        else:
            self._leave()

    def _leave(self) -> None:
        if not self.changed:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        what = "this session" if self.operation is ChangeOperation.ADD else f"session {self.base.name or self.base.key}"
        self.app.push_screen(
            ConfirmScreen(f"Discard your changes to {what}?", yes="Discard", no="Keep editing"), answered
        )

    def action_jump(self, section: str) -> None:
        """``alt+<letter>``: focus the section's first field that the type shows (back to the form if need be)."""
        if self.query_one(ContentSwitcher).current == "wizard-review":
            self._show_step(False)
        self._update()  # a type chosen a moment ago may not have shown its fields yet
        chain = self.focus_chain
        for selector in self.JUMPS.get(section, ()):
            widget = self.query_one(selector)
            if widget in chain:
                self.set_focus(widget)  # at once (widget.focus() waits): the next key already goes there
                return
        t = self.form.session_type
        self.notify(f"{t.label} has no {section.replace('_', ' ')} field.", severity="warning", timeout=3)

    def action_copy_filter(self) -> None:
        """Copy the capture filter (review step), as edited."""
        if self.query_one(ContentSwitcher).current != "wizard-review" or not self.filter:
            return
        self.post_message(CopyRequested(self.filter, f"Capture filter {self.filter}"))

    @on(Button.Pressed, "#dest-prepare")
    def _prepare_monitor(self) -> None:
        """No destination yet: prepare a monitor port (tui/screens/monitor.py) and take its port."""
        from tui.screens.monitor import MonitorDone, MonitorScreen

        def done(result: MonitorDone | None) -> None:
            if result is None or not result.port:
                return
            if result.switch_key != self.switch_key:  # a port key means something on its own switch only
                self.notify("The monitor port is on another switch: not taken as this session's destination.")
                return
            if result.inventory is not None and self.switch_key in result.inventory.switches:
                self.inventory = result.inventory  # the new port is in it
            field = self.query_one("#dest-ports", Input)
            field.value = result.port
            field.focus()

        self.app.push_screen(MonitorScreen(switch_key=self.switch_key, pin_switch=True), done)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self._leave()

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.action_back()

    @on(Button.Pressed, "#to-review")
    def _to_review(self) -> None:
        self.action_review()

    @on(Button.Pressed, "#apply")
    def _apply(self) -> None:
        self._update()
        if any(p.severity is Severity.ERROR for p in self.problems):
            self.notify("Fix the errors first: vCenter would refuse this change.", severity="error")
            return
        change = SessionChange(self.operation, self.built.session)
        missing = sessionform.incomplete(self.built.session)
        if not missing or self.operation is ChangeOperation.REMOVE:
            self.dismiss(change)
            return

        def answered(anyway: bool | None) -> None:
            if anyway:
                self.dismiss(change)

        self.app.push_screen(
            ConfirmScreen(f"{missing} {self._verb()} it anyway?", yes=f"{self._verb()} anyway", no="Back"), answered
        )
