"""The mirror-session wizard: one modal whose fields follow the chosen session type.

Step one is the form (problems appear beside their fields as you type); step two reviews
the exact change that will be sent, with warnings, what the upstream switch must allow and
the capture filter for the destination. Create is refused while an error stands. The wizard
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
    Label,
    RadioButton,
    RadioSet,
    Select,
    SelectionList,
    Static,
)

from tui import rules, sessionform
from tui.describe import advise, notes
from tui.model import (
    ChangeOperation,
    EncapType,
    Inventory,
    MirrorSession,
    Problem,
    SessionChange,
    SessionType,
    Severity,
)
from tui.render import advice_parts, problem_text, session_table
from tui.sessionform import Form
from tui.text import SafeText as Text
from tui.text import visible
from widgets.safe_input import SafeInput as Input

# Where a problem about a session field is shown in the form.
SLOT_OF_FIELD = {
    "session_type": "type",
    "name": "name",
    "description": "name",
    "enabled": "name",
    "source_rx": "sources",
    "source_tx": "sources",
    "destination": "dest",
    "encapsulation_vlan_id": "encap",
    "strip_original_vlan": "encap",
    "mirrored_packet_length": "length",
    "sampling_rate": "length",
    "normal_traffic_allowed": "normal-io",
    "encap_type": "erspan",
    "erspan_id": "erspan",
    "erspan_cos": "erspan",
    "erspan_gra_nanosec": "erspan",
}
SLOTS = ("type", "name", "sources", "dest", "encap", "length", "normal-io", "erspan", "general")

UNKNOWN_SUPPORT = "not reported by vCenter: it will decide"
"""Beside a session type whose support the switch's capability leaves unset."""

ENCAP_TYPES = [
    ("GRE", EncapType.GRE.value),
    ("ERSPAN II", EncapType.ERSPAN2.value),
    ("ERSPAN III", EncapType.ERSPAN3.value),
]


class SessionWizard(ModalScreen[SessionChange | None]):
    """New, edit or clone a mirror session on one switch."""

    BINDINGS = [
        Binding("escape", "back", "Back / cancel", id="wizard_back"),
        Binding("ctrl+r", "review", "Review", id="wizard_review"),
        Binding("y", "copy_filter", "Copy capture filter", id="wizard_copy_filter"),
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
        cap = self.switch.capability
        with Vertical(id="wizard"):
            with ContentSwitcher(initial="wizard-form", id="wizard-steps"):
                with VerticalScroll(id="wizard-form"):
                    with Horizontal(classes="row"):
                        yield Label("Type", classes="field-label")
                        with RadioSet(id="type"):
                            for t in SessionType:
                                support = cap.supports(t.value)
                                label = t.label if support is not None else f"{t.label} ({UNKNOWN_SUPPORT})"
                                yield RadioButton(
                                    label, value=t is f.session_type, name=t.value, disabled=support is False
                                )
                    yield Static(id="type-help", classes="hint")
                    yield Static(id="problem-type", classes="problem")
                    with Horizontal(classes="row"):
                        yield Label("Name", classes="field-label")
                        yield Input(f.name, placeholder="e.g. F5 DMZ to monitor", id="name", compact=True)
                        yield Checkbox("Enabled", f.enabled, id="enabled", compact=True)
                    with Horizontal(classes="row"):
                        yield Label("Description", classes="field-label")
                        yield Input(f.description, id="description", compact=True)
                    yield Static(id="problem-name", classes="problem")
                    with Horizontal(classes="row", id="row-sources"):
                        yield Label("Sources", classes="field-label")
                        yield Input(
                            f.sources, placeholder="448, F5-LTM01/Network adapter 2:ingress", id="sources", compact=True
                        )
                    with Horizontal(classes="row", id="row-source-vlans"):
                        yield Label("Source VLANs", classes="field-label")
                        yield Input(f.source_vlans, placeholder="e.g. 300, 310-312", id="source-vlans", compact=True)
                    yield Static(id="resolved-sources", classes="hint")
                    yield Static(id="problem-sources", classes="problem")
                    with Horizontal(classes="row", id="row-dest-ports"):
                        yield Label("Destinations", classes="field-label")
                        yield Input(
                            f.dest_ports,
                            placeholder="2258, MGTSRVR003UX/Network adapter 2",
                            id="dest-ports",
                            compact=True,
                        )
                    yield Static(id="resolved-dest", classes="hint")
                    with Horizontal(classes="row", id="row-dest-uplinks"):
                        yield Label("Uplinks", classes="field-label")
                        yield SelectionList[str](
                            *[(Text(u), u, u in f.dest_uplinks) for u in self._uplink_choices()],
                            id="dest-uplinks",
                            compact=True,
                        )
                    with Horizontal(classes="row", id="row-dest-ips"):
                        yield Label("Collector IPs", classes="field-label")
                        yield Input(f.dest_ips, placeholder="e.g. 192.0.2.10", id="dest-ips", compact=True)
                    yield Static(id="problem-dest", classes="problem")
                    with Horizontal(classes="row", id="row-encap"):
                        yield Label("Encapsulation", classes="field-label")
                        yield Checkbox("VLAN", f.encap_on, id="encap-on", compact=True)
                        yield Input(f.encap_vlan, placeholder="1-4094", id="encap-vlan", compact=True, classes="number")
                        yield Checkbox("Preserve original VLAN", f.preserve, id="preserve", compact=True)
                    yield Static(id="problem-encap", classes="problem")
                    with Horizontal(classes="row", id="row-length"):
                        yield Label("Packet length", classes="field-label")
                        yield Checkbox("Limit to", f.length_on, id="length-on", compact=True)
                        yield Input(f.length, placeholder="60", id="length", compact=True, classes="number")
                        yield Label("bytes", classes="unit")
                        yield Label("Sampling 1 in", classes="unit", id="sampling-label")
                        yield Input(f.sampling, placeholder="1", id="sampling", compact=True, classes="number")
                    yield Static(id="problem-length", classes="problem")
                    with Horizontal(classes="row", id="row-normal-io"):
                        yield Label("", classes="field-label")
                        yield Checkbox("Normal I/O on destination ports", f.normal_io, id="normal-io", compact=True)
                    yield Static(id="problem-normal-io", classes="problem")
                    with Horizontal(classes="row", id="row-erspan"):
                        yield Label("Encapsulation", classes="field-label")
                        yield Select(ENCAP_TYPES, value=f.encap_type, allow_blank=False, id="encap-type", compact=True)
                        yield Label("ID", classes="unit", id="erspan-id-label")
                        yield Input(f.erspan_id, placeholder="0-1023", id="erspan-id", compact=True, classes="number")
                        yield Label("COS", classes="unit", id="erspan-cos-label")
                        yield Input(f.erspan_cos, placeholder="0-7", id="erspan-cos", compact=True, classes="number")
                        yield Checkbox("ns timestamps", f.erspan_ns, id="erspan-ns", compact=True)
                    yield Static(id="problem-erspan", classes="problem")
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
        radio = self.query_one("#type", RadioSet).pressed_button
        t = SessionType(radio.name) if radio is not None and radio.name else self.form.session_type
        encap_type = self.query_one("#encap-type", Select).value
        return Form(
            session_type=t,
            name=self.query_one("#name", Input).value,
            description=self.query_one("#description", Input).value,
            enabled=self.query_one("#enabled", Checkbox).value,
            normal_io=self.query_one("#normal-io", Checkbox).value,
            sources=self.query_one("#sources", Input).value,
            source_vlans=self.query_one("#source-vlans", Input).value,
            dest_ports=self.query_one("#dest-ports", Input).value,
            dest_uplinks=list(self.query_one("#dest-uplinks", SelectionList).selected),
            dest_ips=self.query_one("#dest-ips", Input).value,
            encap_on=self.query_one("#encap-on", Checkbox).value,
            encap_vlan=self.query_one("#encap-vlan", Input).value,
            preserve=self.query_one("#preserve", Checkbox).value,
            length_on=self.query_one("#length-on", Checkbox).value,
            length=self.query_one("#length", Input).value,
            sampling=self.query_one("#sampling", Input).value,
            encap_type=str(encap_type) if isinstance(encap_type, str) else EncapType.GRE.value,
            erspan_id=self.query_one("#erspan-id", Input).value,
            erspan_cos=self.query_one("#erspan-cos", Input).value,
            erspan_ns=self.query_one("#erspan-ns", Checkbox).value,
        )

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
        self._show_fields(t, form)
        help_text = sessionform.TYPE_HELP[t]
        if self.switch.capability.supports(t.value) is None:
            help_text += f" Support {UNKNOWN_SUPPORT}."
        self.query_one("#type-help", Static).update(Text(help_text, style="italic"))
        self.query_one("#resolved-sources", Static).update(Text("\n".join(built.resolved["sources"])))
        self.query_one("#resolved-dest", Static).update(Text("\n".join(built.resolved["dest_ports"])))
        by_slot: dict[str, list[Problem]] = {slot: [] for slot in SLOTS}
        for p in self.problems:
            by_slot[SLOT_OF_FIELD.get(p.field, "general")].append(p)
        for slot, problems in by_slot.items():
            widget = self.query_one(f"#problem-{slot}", Static)
            widget.update(problem_text(problems))
            widget.display = bool(problems)
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

    def _show_fields(self, t: SessionType, form: Form) -> None:
        shown = sessionform.FIELDS_BY_TYPE[t]
        for row, field in (
            ("#row-sources", "sources"),
            ("#row-source-vlans", "source_vlans"),
            ("#row-dest-ports", "dest_ports"),
            ("#resolved-dest", "dest_ports"),
            ("#row-dest-uplinks", "dest_uplinks"),
            ("#row-dest-ips", "dest_ips"),
            ("#row-encap", "encap_vlan"),
            ("#row-normal-io", "normal_io"),
            ("#row-erspan", "erspan"),
        ):
            self.query_one(row).display = field in shown
        self.query_one("#resolved-sources").display = "sources" in shown
        rms = sessionform.encap_required(t)
        self.query_one("#encap-on", Checkbox).display = not rms  # required for RSPAN sources: always on
        self.query_one("#encap-vlan", Input).disabled = not (form.encap_on or rms)
        self.query_one("#preserve", Checkbox).disabled = not (form.encap_on or rms)
        self.query_one("#length", Input).disabled = not form.length_on
        sampling = "sampling" in shown
        self.query_one("#sampling", Input).display = sampling
        self.query_one("#sampling-label").display = sampling
        with_id = form.encap_type in (EncapType.ERSPAN2.value, EncapType.ERSPAN3.value)
        for widget in ("#erspan-id", "#erspan-id-label", "#erspan-cos", "#erspan-cos-label"):
            self.query_one(widget).display = with_id
        self.query_one("#erspan-ns").display = form.encap_type == EncapType.ERSPAN3.value

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
        self.app.copy_to_clipboard(self.filter)
        self.notify(f"Capture filter copied: {self.filter}", title="Copied", markup=False)

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
