"""Output of the session commands: the report of one change (human and JSON), the list of
sessions (``dvmirror sessions``) and the report of ``session verify``. Rendering only: what
happened is decided before (:class:`Result`, :class:`tui.outcome.Outcome`,
:class:`tui.verify.VerifyResult`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

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
from tui.verify import COLUMNS as VERIFY_COLUMNS
from tui.verify import Reading, Verdict, VerifyPlan, VerifyResult, table_rows


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
    style = {Severity.ERROR: "bold red", Severity.INFO: "dim"}.get(p.severity, "yellow")
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


# -- sessions --check ---------------------------------------------------------------------------


def check_json(
    inventory: Inventory, pairs: Sequence[tuple[Switch, MirrorSession, Sequence[Problem]]], ok: bool, notice: str
) -> dict[str, Any]:
    """The JSON of ``dvmirror sessions --check``: ``ok``, ``notice`` (about the baselines file, or
    "") and ``sessions``, rows of ``sessions --json`` each with its ``problems``."""
    rows = []
    for sw, s, problems in pairs:
        row = session_row(inventory, sw, s)
        row["problems"] = [problem_json(p) for p in problems]
        rows.append(row)
    return {"ok": ok, "notice": notice, "sessions": rows}


def print_check(
    out: Console, pairs: Sequence[tuple[Switch, MirrorSession, Sequence[Problem]]], where: str, failing: int
) -> None:
    """The human report of ``dvmirror sessions --check``: each session, ok or its problems."""
    if not pairs:
        out.print(Text(f"No port mirroring sessions{where}."))
        return
    for sw, s, problems in pairs:
        head = Text(f"{session_name(s)} on {sw.name}: ", style="bold")
        counted = [p for p in problems if p.severity is not Severity.INFO]
        if counted:
            head.append(f"{len(counted)} problem{'s' * (len(counted) != 1)}", style="bold yellow")
        else:
            head.append("ok", style="green")
        out.print(head)
        for p in problems:
            out.print(problem_line(p))
    n = len(pairs)
    summary = f"{n} session{'s' * (n != 1)} checked, "
    out.print(Text(summary + (f"{failing} with problems" if failing else "no problems"), style="dim"))


# -- verify -----------------------------------------------------------------------------------


def verify_json(
    inventory: Inventory,
    switch: Switch | None,
    session: MirrorSession,
    result: VerifyResult | None,
    problems: Sequence[Problem] = (),
    readings: Sequence[Reading] = (),
) -> dict[str, Any]:
    """The JSON of ``dvmirror session verify``: ``ok`` and ``problems`` first (as the other
    ``session`` commands), then :meth:`tui.verify.VerifyResult.to_json` with ``session`` as a
    row of ``dvmirror sessions --json``. Without a result (no such session, a failure while
    sampling, an interruption) the verdict is null and ``samples`` holds the readings made."""
    if result is not None:
        data = result.to_json()
    else:
        samples = [
            [{"port": k, "readAt": s.read_at, "counters": s.to_api()} for k, s in reading.items()]
            for reading in readings
        ]
        data = {
            "session": {},
            "verdict": None,
            "summary": "",
            "reasons": [],
            "advice": [],
            "seconds": 0.0,
            "expected": None,
            "sources": [],
            "destinations": [],
            "samples": samples,
        }
    if switch is not None and session.key is not None and any(s.key == session.key for s in switch.sessions):
        data["session"] = session_row(inventory, switch, session)
    else:
        data["session"] = {"key": session.key, "name": session.name, "switch": switch.name if switch else ""}
    ok = result is not None and not problems and result.verdict is Verdict.MIRRORING
    return {"ok": ok, "problems": [problem_json(p) for p in problems], **data}


def print_verify_header(
    out: Console, switch: Switch | None, session: MirrorSession, the_plan: VerifyPlan | None
) -> None:
    """What is verified: the session (key, name, switch, type, status) and the ports to read."""
    on = f" on {switch.name}" if switch is not None else ""
    out.print(Text(f"Verify session {session_name(session)}{on}", style="bold"))
    if the_plan is None:
        return
    rows = [
        ("type", f"{session.type_label} ({session.session_type})" if session.session_type else session.type_label),
        ("status", "enabled" if session.enabled else "disabled"),
    ]
    n = len(the_plan.port_keys)
    rows.append(("ports", f"{n} to read: " + ", ".join(the_plan.port_keys) if n else "none to read"))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        line = Text(f"  {name.ljust(width)}  ", style="dim")
        line.append(visible(value))
        out.print(line)


_VERDICT_STYLES = {
    Verdict.MIRRORING: "bold green",
    Verdict.NOTHING_TO_MIRROR: "bold yellow",
    Verdict.NOT_DELIVERED: "bold red",
    Verdict.DROPPED: "bold red",
    Verdict.INCONCLUSIVE: "bold yellow",
}

_NUMERIC = frozenset(VERIFY_COLUMNS[2:])


def _two_lines(label: str) -> str:
    """``448 · F5-LTM01`` over ``  Network adapter 2``: a port label cut at its last `` / `` (the
    VM's name and the NIC's label each stay whole)."""
    head, sep, tail = label.rpartition(" / ")
    return f"{head}\n  {tail}" if sep and head else label


def _fitted(rows: Sequence[Sequence[str]], width: int) -> list[int]:
    """Column widths of the verify table on a terminal ``width`` columns wide: numbers whole (their
    headings wrap), the role column down to its longest word, the port column gets what is left."""

    def longest_word(texts: Sequence[str]) -> int:
        return max((len(w) for t in texts for w in t.split()), default=0)

    numbers = [r for r in rows if r[3]]  # measured rows: a port not measured says why, and that may wrap
    sizes = [
        max([longest_word([h]), *(len(line) for r in (rows if i < 2 else numbers) for line in r[i].splitlines())])
        for i, h in enumerate(VERIFY_COLUMNS)
    ]
    room = width - 2 * (len(VERIFY_COLUMNS) - 1)
    if sum(sizes) > room:
        sizes[1] = max(longest_word([VERIFY_COLUMNS[1]]), longest_word([r[1] for r in rows]))
        sizes[0] = max(8, min(sizes[0], room - sum(sizes[2:]) - sizes[1]))
    return sizes


def verify_table(result: VerifyResult, width: int | None = None) -> Table:
    """The side-by-side table (:func:`tui.verify.table_rows`), every text escaped, numbers right-aligned.

    When it is wider than ``width`` (a terminal), port labels take two lines (VM, then NIC), the
    role and the headings wrap between words and the numbers stay whole; a label still too long is
    shortened with ``…``. Without ``width`` (piped) every cell is one line.
    """
    rows = [tuple(visible(cell) for cell in row) for row in table_rows(result)]
    natural = sum(max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(VERIFY_COLUMNS))
    narrow = width is not None and natural + 2 * (len(VERIFY_COLUMNS) - 1) > width
    if narrow:
        rows = [(_two_lines(r[0]), *r[1:]) for r in rows]
    fixed = _fitted(rows, width) if narrow and width is not None else None
    table = Table(box=None, header_style="bold", pad_edge=False)
    for i, heading in enumerate(VERIFY_COLUMNS):
        numeric = heading in _NUMERIC
        table.add_column(
            heading,
            justify="right" if numeric else "left",
            no_wrap=not narrow,
            overflow="ellipsis" if i == 0 and narrow else "fold",
            width=fixed[i] if fixed is not None else None,
        )
    for row, line in zip(rows, (*result.sources, *result.destinations), strict=True):
        style = "bold" if line.role == "destination" else ""
        numbers = [Text(cell) if line.rates.ok else Text(cell, justify="left") for cell in row[2:]]
        table.add_row(Text(row[0], style=style), Text(row[1], style=style), *numbers)
    return table


def _items(out: Console, lead: str, items: Sequence[tuple[str, str]]) -> None:
    """One paragraph per item, ``  {lead}{code}: {text}``, wrapped under its own text."""
    first = f"  {lead}"
    for code, text in items:
        line = Text()
        if code:
            line.append(f"{code}: ", style="bold")
        line.append(visible(text))
        for i, part in enumerate(line.wrap(out, max(20, out.width - len(first)))):
            out.print(Text(first if i == 0 else " " * len(first)) + part)


NOTE_WIDTH = 100
"""The note under the verify table is wrapped at this width, or the terminal's when narrower."""


def print_verify(out: Console, result: VerifyResult) -> None:
    """The window's table, the verdict (label and summary), its reasons and the advice."""
    if result.sources or result.destinations:
        terminal = bool(getattr(out, "fits_terminal", out.is_terminal))
        out.print()
        out.print(verify_table(result, out.width if terminal else None))
        note = Text(
            f"Per second over {result.seconds:.1f} s. Sources: what the session mirrors of them (after sampling "
            "and packet length). Destinations: what the switch sent them, their own traffic included. Due: what "
            "the session should deliver there.",
            style="dim",
        )
        for line in note.wrap(out, min(out.width, NOTE_WIDTH)):
            out.print(line)
    out.print()
    label = result.verdict.label
    summary = result.summary.removeprefix(f"{label}: ")
    line = Text(label, style=_VERDICT_STYLES[result.verdict])
    line.append(f": {visible(summary)}" if summary else "")
    out.print(line)
    if result.reasons:
        out.print(Text("Notes:" if result.verdict is Verdict.MIRRORING else "Reasons:", style="bold"))
        _items(out, "", [(r.code, r.text) for r in result.reasons])
    if result.advice:
        out.print(Text("Advice:", style="bold"))
        _items(out, "- ", [("", a) for a in result.advice])


def print_verify_problems(out: Console, problems: Sequence[Problem]) -> None:
    """Why there is no verdict (no such session, a failure while sampling)."""
    out.print(Text("Problems:", style="bold"))
    for p in problems:
        out.print(problem_line(p))


@contextmanager
def verify_progress(err: Console | None, seconds: float, ports: int) -> Iterator[Callable[[float], None]]:
    """A transient progress bar of the window on ``err`` (None: nothing shown); yields
    ``tick(elapsed seconds)``."""
    if err is None:
        yield lambda _elapsed: None
        return
    what = f"Sampling {ports} port{'s' * (ports != 1)}"
    progress = Progress(
        TextColumn(what, markup=False),
        BarColumn(),
        TextColumn("{task.fields[left]}", markup=False),
        console=err,
        transient=True,
    )
    task = progress.add_task("verify", total=seconds, left=f"{seconds:.0f} s left")

    def tick(elapsed: float) -> None:
        done = min(seconds, max(0.0, elapsed))
        progress.update(task, completed=done, left=f"{math.ceil(seconds - done):.0f} s left")

    with progress:
        yield tick
