"""The wizard's form in sections: each owns its widgets, reads itself into a :class:`Form` and shows
what applies to a session type.

The wizard composes the sections, asks each to :meth:`~Section.read` (building the form) and to
:meth:`~Section.show` the chosen type, and hands each the problems of the session fields it
lists in ``PROBLEM_FIELDS``. Which fields a type shows comes from :mod:`tui.sessionform`
(``shows``, itself derived from :data:`tui.model.SESSION_TYPES`); no element id is kept in step
with the form outside the section that owns it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, RadioSet, Select, SelectionList, Static

from tui import sessionform, timebox
from tui.model import EncapType, MirrorSession, Problem, SessionType, SwitchCapability
from tui.render import problem_text
from tui.sessionform import Form
from tui.text import SafeText as Text
from widgets.safe_input import SafeInput as Input
from widgets.toggles import ChoiceButton as RadioButton
from widgets.toggles import TickBox as Checkbox
from widgets.toggles import TickList

UNKNOWN_SUPPORT = "not reported by vCenter: it will decide"
"""Said of a session type whose support the switch's capability leaves unset."""
UNKNOWN_MARK = " ?"
"""Beside such a type's name in the list (the help line says what it means)."""

COMPACT_TYPE_LABELS: dict[SessionType, str] = {
    SessionType.DV_PORT_MIRROR: "Distributed mirroring",
    SessionType.REMOTE_MIRROR_SOURCE: "Remote source (RSPAN)",
    SessionType.REMOTE_MIRROR_DEST: "Remote dest. (RSPAN)",
    SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE: "L3 GRE/ERSPAN source",
    SessionType.MIXED_DEST_MIRROR: "Distributed (legacy)",
}
"""The types in few words, distinct, for a type list too narrow for the vSphere Client's names (80
columns); the help line under the list then starts with the full name."""

SHORTCUTS: dict[str, str] = {
    "t": "type",
    "n": "name",
    "s": "sources",
    "d": "destinations",
    "u": "uplinks",
    "e": "encapsulation",
    "l": "length",
    "i": "normal_io",
}
"""``alt+<letter>`` → the section it jumps to; the letter is underlined in the section's label."""


def field_label(text: str, key: str = "") -> Label:
    """A row's label, its shortcut letter (the first ``key`` in it, any case) underlined."""
    label = Text(text)
    at = text.lower().find(key) if key else -1
    if at >= 0:
        label.stylize("underline", at, at + 1)
    return Label(label, classes="field-label")


ENCAP_TYPES = [
    ("GRE", EncapType.GRE.value),
    ("ERSPAN II", EncapType.ERSPAN2.value),
    ("ERSPAN III", EncapType.ERSPAN3.value),
]


class Section(Vertical):
    """One part of the form: its widgets, then the line of its problems (``#problem-<SLOT>``)."""

    DEFAULT_CSS = "Section { height: auto; }"

    SLOT: ClassVar[str] = "general"
    PROBLEM_FIELDS: ClassVar[frozenset[str]] = frozenset()
    """The session attributes whose problems this section shows."""

    def __init__(self, form: Form) -> None:
        super().__init__()
        self.form = form
        """The values the section starts with."""

    def compose(self) -> ComposeResult:
        """The section's rows, then its problem line."""
        yield from self.rows()
        yield Static(id=f"problem-{self.SLOT}", classes="problem")

    def rows(self) -> ComposeResult:
        """The section's widgets."""
        yield from ()

    def read(self, form: Form) -> None:
        """Put what the widgets hold into ``form``."""

    def show(self, t: SessionType) -> None:
        """Show what applies to type ``t`` (and enable what the section's own values allow)."""

    def show_problems(self, problems: Iterable[Problem]) -> None:
        """The section's problems under its fields (hidden when there are none)."""
        items = list(problems)
        line = self.query_one(f"#problem-{self.SLOT}", Static)
        line.update(problem_text(items))
        line.display = bool(items)


class TypeSection(Section):
    """The session type, with a line of help; types the switch does not support are disabled."""

    SLOT = "type"
    PROBLEM_FIELDS = frozenset({"session_type"})

    def __init__(self, form: Form, capability: SwitchCapability) -> None:
        super().__init__(form)
        self.capability = capability
        self.session_type = form.session_type
        self.compact = False
        """Whether the type list shows :data:`COMPACT_TYPE_LABELS` (too narrow for the full names)."""

    def rows(self) -> ComposeResult:
        with Horizontal(classes="row"):
            yield field_label("Type", "t")
            with RadioSet(id="type"):
                for t in SessionType:
                    support = self.capability.supports(t.value)
                    yield RadioButton(
                        self._label(t), value=t is self.form.session_type, name=t.value, disabled=support is False
                    )
        yield Static(id="type-help", classes="hint")

    def _label(self, t: SessionType) -> str:
        unknown = self.capability.supports(t.value) is None
        return (COMPACT_TYPE_LABELS[t] if self.compact else t.label) + (UNKNOWN_MARK if unknown else "")

    def on_resize(self) -> None:
        """The vSphere Client's names where two columns of them fit, the compact ones where not."""
        radio = self.query_one("#type", RadioSet)
        left = (radio.size.width - 2) // 2  # two columns, a gutter of 2
        columns = (left, radio.size.width - 2 - left)
        full = self.compact
        self.compact = False
        needed = [len(self._label(t)) + 5 for t in SessionType]  # ▐●▌, a space either side
        self.compact = full
        compact = any(n > columns[i % 2] for i, n in enumerate(needed))
        if compact != self.compact:
            self.compact = compact
            for button in radio.query(RadioButton):
                if button.name:
                    button.label = self._label(SessionType(button.name))
            self.show(self.session_type)

    def read(self, form: Form) -> None:
        # The button just pressed, before the RadioSet has turned the previous one off.
        pressed = [b for b in self.query_one("#type", RadioSet).query(RadioButton) if b.value and b.name]
        new = [b for b in pressed if b.name != self.session_type.value]
        radio = next(iter(new or pressed), None)
        if radio is not None and radio.name:
            self.session_type = SessionType(radio.name)
        form.session_type = self.session_type

    def show(self, t: SessionType) -> None:
        help_text = sessionform.TYPE_HELP[t]
        if self.compact:
            help_text = f"{t.label}: {help_text}"
        if self.capability.supports(t.value) is None:
            help_text += f" Support {UNKNOWN_SUPPORT}."
        elif any(self.capability.supports(u.value) is None for u in SessionType):
            help_text += f" ({UNKNOWN_MARK.strip()} = support {UNKNOWN_SUPPORT}.)"
        self.query_one("#type-help", Static).update(Text(help_text, style="italic"))


class NameSection(Section):
    """Name, enabled, description."""

    SLOT = "name"
    PROBLEM_FIELDS = frozenset({"name", "description", "enabled"})

    def rows(self) -> ComposeResult:
        f = self.form
        with Horizontal(classes="row"):
            yield field_label("Name", "n")
            yield Input(f.name, placeholder="e.g. F5 DMZ to monitor", id="name", compact=True)
            yield Checkbox("Enabled", f.enabled, id="enabled", compact=True)
        with Horizontal(classes="row"):
            yield field_label("Description")
            yield Input(f.description, placeholder="e.g. ticket 4711, Kerberos trace", id="description", compact=True)
        with Horizontal(classes="row"):
            yield field_label("Expires after")
            yield Input(f.expires, placeholder="e.g. 30m, 2h or 1d", id="expires", compact=True)
        yield Static(id="expires-hint", classes="hint")

    def read(self, form: Form) -> None:
        form.name = self.query_one("#name", Input).value
        form.description = self.query_one("#description", Input).value
        form.enabled = self.query_one("#enabled", Checkbox).value
        form.expires = self.query_one("#expires", Input).value

    def show_expiry(self, session: MirrorSession) -> None:
        """When the session as it stands would expire (:mod:`tui.timebox`), under the field."""
        when = timebox.expiry(session)
        hint = self.query_one("#expires-hint", Static)
        hint.display = when is not None
        if when is not None:
            left = timebox.left_text(session, timebox.now_utc())
            hint.update(Text(f"Expires {when:%Y-%m-%d %H:%M} UTC ({left}) · none removes it", style="dim"))


class SourcesSection(Section):
    """Source ports (with direction) or source VLANs, and what the ports resolved to."""

    SLOT = "sources"
    PROBLEM_FIELDS = frozenset({"source_rx", "source_tx"})

    def rows(self) -> ComposeResult:
        f = self.form
        with Horizontal(classes="row", id="row-sources"):
            yield field_label("Sources", "s")
            yield Input(
                f.sources, placeholder="e.g. 448, F5-LTM01/Network adapter 2:ingress", id="sources", compact=True
            )
        with Horizontal(classes="row", id="row-source-vlans"):
            yield field_label("Source VLANs", "s")
            yield Input(f.source_vlans, placeholder="e.g. 300, 310-312", id="source-vlans", compact=True)
        yield Static(id="resolved-sources", classes="hint")

    def read(self, form: Form) -> None:
        form.sources = self.query_one("#sources", Input).value
        form.source_vlans = self.query_one("#source-vlans", Input).value

    def show(self, t: SessionType) -> None:
        self.query_one("#row-sources").display = sessionform.shows(t, "sources")
        self.query_one("#resolved-sources").display = sessionform.shows(t, "sources")
        self.query_one("#row-source-vlans").display = sessionform.shows(t, "source_vlans")

    def show_resolved(self, labels: Iterable[str]) -> None:
        """What each source entry resolved to (``448 · F5-LTM01 / Network adapter 2``)."""
        self.query_one("#resolved-sources", Static).update(Text("\n".join(labels)))


class DestinationSection(Section):
    """Destination ports, uplinks or collector IPs."""

    SLOT = "dest"
    PROBLEM_FIELDS = frozenset({"destination"})

    def __init__(self, form: Form, uplinks: list[str]) -> None:
        super().__init__(form)
        self.uplinks = uplinks
        """The uplinks to choose from."""

    def rows(self) -> ComposeResult:
        f = self.form
        with Horizontal(classes="row", id="row-dest-ports"):
            yield field_label("Destinations", "d")
            yield Input(
                f.dest_ports, placeholder="e.g. 2258, MGTSRVR003UX/Network adapter 2", id="dest-ports", compact=True
            )
        yield Static(id="resolved-dest", classes="hint")
        yield Button("Prepare a monitor port…", id="dest-prepare", compact=True)
        with Horizontal(classes="row", id="row-dest-uplinks"):
            yield field_label("Uplinks", "u")
            yield TickList(*[(Text(u), u, u in f.dest_uplinks) for u in self.uplinks], id="dest-uplinks", compact=True)
        with Horizontal(classes="row", id="row-dest-ips"):
            yield field_label("Destination IPs", "d")
            yield Input(f.dest_ips, placeholder="e.g. 192.0.2.10, 2001:db8::10", id="dest-ips", compact=True)

    def read(self, form: Form) -> None:
        form.dest_ports = self.query_one("#dest-ports", Input).value
        form.dest_uplinks = list(self.query_one("#dest-uplinks", SelectionList).selected)
        form.dest_ips = self.query_one("#dest-ips", Input).value

    def show(self, t: SessionType) -> None:
        for widget, name in (
            ("#row-dest-ports", "dest_ports"),
            ("#resolved-dest", "dest_ports"),
            ("#row-dest-uplinks", "dest_uplinks"),
            ("#row-dest-ips", "dest_ips"),
        ):
            self.query_one(widget).display = sessionform.shows(t, name)
        empty = not self.query_one("#dest-ports", Input).value.strip()
        self.query_one("#dest-prepare").display = empty and sessionform.shows(t, "dest_ports")

    def show_resolved(self, labels: Iterable[str]) -> None:
        """What each destination entry resolved to."""
        self.query_one("#resolved-dest", Static).update(Text("\n".join(labels)))


class EncapsulationSection(Section):
    """The encapsulation VLAN and whether to preserve the original VLAN."""

    SLOT = "encap"
    PROBLEM_FIELDS = frozenset({"encapsulation_vlan_id", "strip_original_vlan"})

    def rows(self) -> ComposeResult:
        f = self.form
        with Horizontal(classes="row", id="row-encap"):
            yield field_label("Encapsulation", "e")
            yield Checkbox("VLAN", f.encap_on, id="encap-on", compact=True, enables=("encap-vlan", "preserve"))
            yield Input(f.encap_vlan, placeholder="e.g. 205", id="encap-vlan", compact=True, classes="number")
            yield Checkbox("Preserve original VLAN", f.preserve, id="preserve", compact=True)

    def read(self, form: Form) -> None:
        form.encap_on = self.query_one("#encap-on", Checkbox).value
        form.encap_vlan = self.query_one("#encap-vlan", Input).value
        form.preserve = self.query_one("#preserve", Checkbox).value

    def show(self, t: SessionType) -> None:
        self.query_one("#row-encap").display = sessionform.shows(t, "encap_vlan")
        required = sessionform.encap_required(t)
        self.query_one("#encap-on", Checkbox).display = not required  # required for RSPAN sources: always on
        on = self.query_one("#encap-on", Checkbox).value or required
        self.query_one("#encap-vlan", Input).disabled = not on
        self.query_one("#preserve", Checkbox).disabled = not on


class LengthSection(Section):
    """Mirrored packet length and sampling rate."""

    SLOT = "length"
    PROBLEM_FIELDS = frozenset({"mirrored_packet_length", "sampling_rate"})

    def rows(self) -> ComposeResult:
        f = self.form
        with Horizontal(classes="row", id="row-length"):
            yield field_label("Packet length", "l")
            yield Checkbox("Limit to", f.length_on, id="length-on", compact=True, enables=("length",))
            yield Input(f.length, placeholder="e.g. 60", id="length", compact=True, classes="number")
            yield Label("bytes", classes="unit")
            yield Label("Sampling 1 in", classes="unit", id="sampling-label")
            yield Input(f.sampling, placeholder="e.g. 10", id="sampling", compact=True, classes="number")

    def read(self, form: Form) -> None:
        form.length_on = self.query_one("#length-on", Checkbox).value
        form.length = self.query_one("#length", Input).value
        form.sampling = self.query_one("#sampling", Input).value

    def show(self, t: SessionType) -> None:
        self.query_one("#length", Input).disabled = not self.query_one("#length-on", Checkbox).value
        sampling = sessionform.shows(t, "sampling")
        self.query_one("#sampling", Input).display = sampling
        self.query_one("#sampling-label").display = sampling


class NormalIoSection(Section):
    """Normal I/O on the destination ports."""

    SLOT = "normal-io"
    PROBLEM_FIELDS = frozenset({"normal_traffic_allowed"})

    def rows(self) -> ComposeResult:
        with Horizontal(classes="row", id="row-normal-io"):
            yield field_label("Normal I/O", "i")
            yield Checkbox("Allowed on destination ports", self.form.normal_io, id="normal-io", compact=True)

    def read(self, form: Form) -> None:
        form.normal_io = self.query_one("#normal-io", Checkbox).value

    def show(self, t: SessionType) -> None:
        self.query_one("#row-normal-io").display = sessionform.shows(t, "normal_io")


class ErspanSection(Section):
    """GRE or ERSPAN II/III, with the ERSPAN ID, class of service and timestamps."""

    SLOT = "erspan"
    PROBLEM_FIELDS = frozenset({"encap_type", "erspan_id", "erspan_cos", "erspan_gra_nanosec"})

    def rows(self) -> ComposeResult:
        f = self.form
        with Horizontal(classes="row", id="row-erspan"):
            yield field_label("Encapsulation", "e")
            yield Select(ENCAP_TYPES, value=f.encap_type, allow_blank=False, id="encap-type", compact=True)
            yield Label("ID", classes="unit", id="erspan-id-label")
            yield Input(f.erspan_id, placeholder="e.g. 100", id="erspan-id", compact=True, classes="number")
            yield Label("COS", classes="unit", id="erspan-cos-label")
            yield Input(f.erspan_cos, placeholder="e.g. 0", id="erspan-cos", compact=True, classes="number")
            yield Checkbox("ns timestamps", f.erspan_ns, id="erspan-ns", compact=True)

    def _encap_type(self) -> str:
        value = self.query_one("#encap-type", Select).value
        return str(value) if isinstance(value, str) else EncapType.GRE.value

    def read(self, form: Form) -> None:
        form.encap_type = self._encap_type()
        form.erspan_id = self.query_one("#erspan-id", Input).value
        form.erspan_cos = self.query_one("#erspan-cos", Input).value
        form.erspan_ns = self.query_one("#erspan-ns", Checkbox).value

    def show(self, t: SessionType) -> None:
        self.query_one("#row-erspan").display = sessionform.shows(t, "erspan")
        encap_type = self._encap_type()
        with_id = encap_type in (EncapType.ERSPAN2.value, EncapType.ERSPAN3.value)
        for widget in ("#erspan-id", "#erspan-id-label", "#erspan-cos", "#erspan-cos-label"):
            self.query_one(widget).display = with_id
        self.query_one("#erspan-ns").display = encap_type == EncapType.ERSPAN3.value
