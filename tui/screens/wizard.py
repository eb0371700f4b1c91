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
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.screen import ModalScreen
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
from tui.messages import CopyRequested
from tui.model import (
    ChangeOperation,
    Inventory,
    MirrorSession,
    Problem,
    SessionChange,
    Severity,
)
from tui.render import advice_parts, problem_text, session_table
from tui.screens.wizard_sections import (
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
        Binding("y", "copy_filter", "Copy capture filter", id="wizard.copy_filter"),
    ]

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
        self.filter = ""

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
            with Horizontal(id="wizard-buttons"):
                yield Static(id="wizard-status")
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("< Back", id="back", compact=True)
                yield Button("Review >", id="to-review", variant="primary", compact=True)
                yield Button(self._verb(), id="apply", variant="success", compact=True)
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
        self.query_one("#type", RadioSet).focus()

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
    def _changed(self) -> None:
        if self.is_mounted:
            self._update()

    def _update(self) -> None:
        """Rebuild the session from the form and re-run the rules."""
        self.form = form = self._read_form()
        t = form.session_type
        self.built = built = sessionform.build(self.inventory, self.switch_key, form, self.base)
        change = SessionChange(self.operation, built.session)
        self.problems = [*built.problems, *rules.check(self.inventory, self.switch_key, [change])]
        by_section: dict[Section, list[Problem]] = {section: [] for section in self.query(Section)}
        general: list[Problem] = []
        for p in self.problems:
            section = next((s for s in by_section if p.field in s.PROBLEM_FIELDS), None)
            (by_section[section] if section is not None else general).append(p)
        for section, problems in by_section.items():
            section.show(t)
            section.show_problems(problems)
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
        if not self.problems:
            status.append("ready to review", style="green")
        self.query_one("#wizard-status", Static).update(status)
        self.query_one("#apply", Button).disabled = errors > 0

    # -- review -----------------------------------------------------------------------------

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
        parts.append(session_table(self.inventory, self.switch_key, s))
        if self.problems:
            parts.append(Text("\nProblems", style="bold"))
            parts.append(problem_text(self.problems))
        advice = advise(self.inventory, self.switch_key, s)
        self.filter = advice.capture_filter
        parts += advice_parts(advice)
        return Group(*parts)

    def action_review(self) -> None:
        """Show the exact change."""
        self._update()
        self.query_one("#review", Static).update(self._review())
        self.query_one(ContentSwitcher).current = "wizard-review"
        for button, shown in (("#back", True), ("#apply", True), ("#to-review", False)):
            self.query_one(button).display = shown
        self.refresh_bindings()
        apply = self.query_one("#apply", Button)
        (apply if not apply.disabled else self.query_one("#back", Button)).focus()

    def action_back(self) -> None:
        """Back to the form from the review; cancel from the form."""
        if self.query_one(ContentSwitcher).current == "wizard-review":
            self.query_one(ContentSwitcher).current = "wizard-form"
            for button, shown in (("#back", False), ("#apply", False), ("#to-review", True)):
                self.query_one(button).display = shown
            self.refresh_bindings()
            self.query_one("#type", RadioSet).focus()
        else:
            self.dismiss(None)

    def action_copy_filter(self) -> None:
        """Copy the capture filter (review step)."""
        if self.query_one(ContentSwitcher).current != "wizard-review" or not self.filter:
            return
        self.post_message(CopyRequested(self.filter, f"Capture filter {self.filter}"))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

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
        self.dismiss(SessionChange(self.operation, self.built.session))
