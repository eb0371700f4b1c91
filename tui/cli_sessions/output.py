"""Output of the session commands: the report of one change (human and JSON) and the list of
sessions (``dvmirror sessions``). Rendering only: what happened is decided before
(:class:`Result`, :class:`tui.outcome.Outcome`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from tui import rules
from tui.backends import Backend, BackendError, ChangeInterrupted, ChangeRefused, ReadOnlyError
from tui.cli_sessions.edit import Plan
from tui.cli_table import Column, choose, render
from tui.describe import endpoint_labels, session_fields
from tui.model import (
    API_NAMES,
    ChangeOperation,
    Inventory,
    MirrorSession,
    Problem,
    SessionChange,
    SessionType,
    Severity,
    Switch,
)
from tui.outcome import Outcome
from tui.text import SafeText as Text
from tui.text import visible


@dataclass
class Result:
    """Everything the report of one change shows."""

    plan: Plan
    problems: list[Problem]
    """Errors first, then warnings: the plan's, the rules', then (once sent) the outcome's."""
    dry_run: bool
    unchanged: bool = False
    notes: list[str] = field(default_factory=list)
    upstream: list[str] = field(default_factory=list)
    capture_filter: str | None = None
    capture_command: str | None = None
    outcome: Outcome | None = None
    """What became of the change handed to ``backend.apply`` (None when nothing was attempted)."""

    @property
    def change(self) -> SessionChange:
        """The change, with the key vCenter assigned once applied."""
        return self.outcome.changes[0] if self.outcome is not None else self.plan.change

    @property
    def sent(self) -> bool:
        return self.outcome is not None and self.outcome.sent

    @property
    def stored(self) -> MirrorSession | None:
        """The session as the switch holds it after the change (None for a delete or a failure)."""
        return self.outcome.stored(0) if self.outcome is not None else None

    @property
    def failure(self) -> BackendError | None:
        """A connection or session failure while applying (printed on stderr; exit 3)."""
        error = self.outcome.error if self.outcome is not None else None
        return None if isinstance(error, (ReadOnlyError, ChangeRefused)) else error

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors and not (self.outcome is not None and self.outcome.message)


def problem_json(p: Problem) -> dict[str, str]:
    """A problem as JSON, its ``field`` named as the text output names it: the vSphere API's
    name (``destinationPort``, ``samplingRate``; :data:`tui.model.API_NAMES`), or ``""``."""
    return p.to_json() | {"field": API_NAMES.get(p.field, p.field)}


def result_json(result: Result) -> dict[str, Any]:
    plan = result.plan
    return {
        "ok": result.ok,
        "problems": [problem_json(p) for p in result.problems],
        "change": result.change.to_api(plan.switch.name if plan.switch is not None else ""),
        "dry_run": result.dry_run,
        "sent": result.sent,
        "notes": result.notes,
        "upstream": result.upstream,
        "capture_filter": result.capture_filter,
        "capture_command": result.capture_command,
        "stored": result.stored.to_api() if result.stored is not None else None,
    }


_VERB_TITLES = {
    "create": "Create a session",
    "edit": "Edit session",
    "enable": "Enable session",
    "disable": "Disable session",
    "delete": "Delete session",
}
_DONE = {"create": "Created", "edit": "Changed", "enable": "Enabled", "disable": "Disabled", "delete": "Deleted"}


def session_name(s: MirrorSession) -> str:
    return f"{s.key or '?'} ({s.name})" if s.name else str(s.key or "?")


def problem_line(p: Problem) -> Text:
    where = f" [{API_NAMES.get(p.field, p.field)}]" if p.field else ""
    style = "bold red" if p.severity is Severity.ERROR else "yellow"
    line = Text(f"  {p.severity.value} ", style=style)
    line.append(f"{p.code}{where}: ", style="bold")
    line.append(p.message)
    return line


def print_result(out: Console, backend: Backend, inventory: Inventory, result: Result) -> None:
    plan = result.plan
    change, switch = result.change, plan.switch
    s = change.session
    title = _VERB_TITLES[plan.verb]
    if plan.verb != "create":
        title += f" {session_name(s)}"
    on = f" on {switch.name}" if switch is not None else ""
    out.print(Text(f"{title}{on} ({change.operation.value})", style="bold"))
    if plan.stored is None and plan.verb != "create":
        pass  # an unknown session: the problem below says so
    elif change.operation is ChangeOperation.REMOVE:
        out.print(Text("  the session removed (only its key is sent):", style="dim"))
        _print_fields(out, inventory, switch, s)
    else:
        _print_fields(out, inventory, switch, s)
        if plan.stored is not None:
            changed = [
                API_NAMES.get(k, k) for k in API_NAMES if getattr(s, k) != getattr(plan.stored, k) and k not in ("key",)
            ]
            if changed:
                out.print(Text("  changed: " + ", ".join(changed), style="dim"))
    errors = result.errors
    warnings = [p for p in result.problems if p.severity is not Severity.ERROR]
    if errors:
        out.print(Text("Problems:", style="bold"))
        for p in errors:
            out.print(problem_line(p))
    if warnings:
        out.print(Text("Warnings:", style="bold"))
        for p in warnings:
            out.print(problem_line(p))
    if result.notes:
        out.print(Text("Notes:", style="bold"))
        for note in result.notes:
            out.print(Text(f"  - {note}"))
    if result.upstream:
        out.print(Text("The upstream physical switch must allow:", style="bold"))
        for line in result.upstream:
            out.print(Text(f"  - {line}"))
    if result.capture_command is not None:
        where = "Capture on the destination" + (
            " (the filter: " + result.capture_filter + ")" if result.capture_filter else " (no filter: everything)"
        )
        out.print(Text(where + ":", style="bold"))
        out.print(Text(f"  {result.capture_command}"))
    if result.unchanged:
        out.print(Text("Nothing to change: the session already has these settings. Nothing was sent.", style="bold"))
    elif isinstance(result.failure, ChangeInterrupted):
        verdict = {
            False: "The connection failed; the switch, read again, shows the change was not applied.",
            True: "The connection failed; vCenter's task reports the change applied (the switch was not re-read).",
            None: "The connection failed after the change was sent; whether it was applied cannot be told.",
        }[result.failure.applied]
        out.print(Text(verdict, style="bold red"))
    elif errors or switch is None:
        if result.sent and result.outcome is not None and any(p.code == "NotApplied" for p in errors):
            out.print(Text(f"{result.outcome.message}.", style="bold red"))
        elif result.failure is not None:
            out.print(Text("Nothing was sent." if not result.sent else "The change failed.", style="bold red"))
        elif result.sent:
            out.print(Text("vCenter refused the change; nothing was changed.", style="bold red"))
        else:
            out.print(Text("Nothing was sent.", style="bold red"))
    elif result.dry_run:
        out.print(Text(f"Dry run: nothing was sent ({backend.label}).", style="bold"))
    elif result.sent and switch is not None:
        key = change.session.key
        name = f" {key}" + (f" ({s.name})" if s.name else "")
        offline = backend.offline
        where = f"{backend.label}: changes apply to this run only" if offline else backend.label
        out.print(Text(f"{_DONE[plan.verb]} session{name} on {switch.name} ({where}).", style="bold"))


def _print_fields(out: Console, inventory: Inventory, switch: Switch | None, s: MirrorSession) -> None:
    rows = session_fields(inventory, switch, s)
    width = max((len(name) for name, _ in rows), default=0)
    for name, value in rows:
        line = Text(f"  {name.ljust(width)}  ", style="dim")
        line.append(value)
        out.print(line)


# -- sessions ---------------------------------------------------------------------------------


def session_row(inventory: Inventory, switch: Switch, s: MirrorSession) -> dict[str, Any]:
    """The JSON object of ``dvmirror sessions --json`` for one session."""
    row = s.to_api()
    row["switch"] = switch.name
    row["typeLabel"] = s.type_label
    keys = list(dict.fromkeys([*s.source_rx.port_keys, *s.source_tx.port_keys, *s.destination.port_keys]))
    row["portLabels"] = {
        k: inventory.port_owner(p) if (p := inventory.port(switch.key, k)) else "(no such port)" for k in keys
    }
    row["warnings"] = [problem_json(p) for p in rules.session_warnings(inventory, switch.key, s)]
    return row


def _options_text(s: MirrorSession) -> Text:
    parts: list[str] = []
    if s.encapsulation_vlan_id is not None:
        parts.append(
            f"encap VLAN {s.encapsulation_vlan_id}" + (", original VLAN kept" if not s.strip_original_vlan else "")
        )
    if s.mirrored_packet_length is not None:
        parts.append(f"length {s.mirrored_packet_length}")
    if s.sampling_rate not in (None, 1):
        parts.append(f"1 in {s.sampling_rate}")
    if s.encap_type:
        parts.append(s.encap_type + (f" id {s.erspan_id}" if s.erspan_id is not None else ""))
    if s.normal_traffic_allowed:
        parts.append("normal I/O on dest")
    return Text("\n".join(parts))


SESSION_COLUMNS: tuple[Column, ...] = (
    Column("Switch", "switch", rank=6),
    Column("Key", "key", rank=0),
    Column("Name", "name", rank=1),
    Column("Type", "typeLabel", rank=5),
    Column("Status", "enabled", rank=4),
    Column("Sources", "sources", rank=2),
    Column("Destinations", "destinations", rank=3),
    Column("Options", "options", rank=7, wrap=True),
    Column("Description", "description", rank=8, wide=True, wrap=True),
)
"""The columns of ``dvmirror sessions``; a source or destination is one per line, never folded
(on a narrow terminal they are shortened to ``448 F5-LTM01 ⇄`` before columns are dropped)."""


SHORT_TYPES = {t.value: t.spec.short_label for t in SessionType}
"""Session types in few words (the TUI's sessions table uses them too)."""


def _session_cells(inventory: Inventory, sw: Switch, s: MirrorSession, short: bool) -> list[Text]:
    sources, destinations = endpoint_labels(inventory, sw.key, s, short=short)
    return [
        Text(visible(sw.name)),
        Text(visible(s.key or ""), style="bold"),
        Text(visible(s.name or "(no name)")),
        Text(visible(SHORT_TYPES.get(s.session_type or "", s.type_label) if short else s.type_label)),
        Text("enabled" if s.enabled else "disabled", style="green" if s.enabled else "dim"),
        Text("\n".join(map(visible, sources)) or "(none)"),
        Text("\n".join(map(visible, destinations)) or "(none)"),
        _options_text(s),
        Text(visible(s.description)),
    ]


def print_sessions(
    out: Console,
    inventory: Inventory,
    pairs: list[tuple[Switch, MirrorSession]],
    where: str,
    output: str = "table",
    names: str | None = None,
) -> None:
    """The table of ``dvmirror sessions`` and each session's warnings (``where``: `` on S`` for
    the message when there is none)."""
    if not pairs:
        out.print(Text(f"No port mirroring sessions{where}."))
        return
    rows = [_session_cells(inventory, sw, s, short=False) for sw, s in pairs]
    fitted = bool(getattr(out, "fits_terminal", False)) and output == "table" and names is None
    if fitted:  # short labels (448 F5-LTM01 ⇄, "RSPAN source") when they keep more columns
        short = [_session_cells(inventory, sw, s, short=True) for sw, s in pairs]
        if len(choose(SESSION_COLUMNS, short, out.width).hidden) < len(choose(SESSION_COLUMNS, rows, out.width).hidden):
            rows = short
    render(out, SESSION_COLUMNS, rows, output, names)
    out.print(Text(f"{len(pairs)} session{'s' * (len(pairs) != 1)}", style="dim"))
    for sw, s in pairs:
        problems = rules.session_warnings(inventory, sw.key, s)
        if not problems:
            continue
        out.print(Text(f"Warnings of {session_name(s)} on {sw.name}:", style="bold"))
        for p in problems:
            out.print(problem_line(p))
