"""The session commands themselves: load, build the change, check it, send it, report.

Each command is ``(backend, args) -> exit code`` (:data:`HANDLERS`). The change comes from
:func:`tui.cli_sessions.edit.plan`, is checked with :func:`tui.rules.check`, is sent and recorded
by :func:`tui.outcome.apply_and_audit` (the same path as the app's), and is reported by
:mod:`tui.cli_sessions.output`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from tui import rules
from tui.backends import EXIT_OK, EXIT_PROBLEMS, Backend
from tui.cli import UsageError, console, emit_json, err_console, find_switch, load, report_error
from tui.cli_sessions.edit import EditError, Plan, plan
from tui.cli_sessions.output import Result, print_result, print_sessions, result_json, session_row
from tui.cli_sessions.parser import Handler, edit_given
from tui.cli_table import ColumnError
from tui.completeness import refuse_empty
from tui.describe import advise
from tui.lookup import RefError, natural_key, sorted_switches
from tui.model import ChangeOperation, Inventory
from tui.outcome import apply_and_audit
from tui.text import SafeText as Text


def cmd_sessions(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror sessions``: every session of every switch (or of one)."""
    inventory = load(backend, args.json)
    switches = [find_switch(inventory, args.switch)] if args.switch else sorted_switches(inventory)
    pairs = [(sw, s) for sw in switches for s in sorted(sw.sessions, key=lambda x: natural_key(x.key or ""))]
    if args.json:
        emit_json([session_row(inventory, sw, s) for sw, s in pairs])
    else:
        where = f" on {switches[0].name}" if args.switch else ""
        try:
            print_sessions(console(), inventory, pairs, where, args.output, args.columns)
        except ColumnError as e:
            raise UsageError(str(e)) from None
    return EXIT_OK


def _session_command(verb: str) -> Callable[[Backend, argparse.Namespace], int]:
    def command(backend: Backend, args: argparse.Namespace) -> int:
        if verb == "edit" and not edit_given(args):
            raise UsageError("nothing to change: give at least one field (see `dvmirror session edit --help`)")
        inventory = load(backend, args.json)
        switch = find_switch(inventory, args.switch) if args.switch else None
        try:
            change = plan(inventory, switch, args, verb)
        except (RefError, EditError) as e:
            raise UsageError(str(e)) from None
        return _run(backend, args, inventory, change)

    command.__doc__ = f"``dvmirror session {verb}``."
    return command


HANDLERS: dict[str, Handler] = {
    "sessions": cmd_sessions,
    **{verb: _session_command(verb) for verb in ("create", "edit", "enable", "disable", "delete")},
}
"""The command of each name (``sessions`` and the ``session`` actions)."""


def _run(backend: Backend, args: argparse.Namespace, inventory: Inventory, plan: Plan) -> int:
    """Check the plan's change, send it (unless a dry run), report; the exit code."""
    result = Result(plan, list(plan.problems), dry_run=args.dry_run)
    change, switch = plan.change, plan.switch
    code = EXIT_OK
    if result.problems or switch is None:
        code = EXIT_PROBLEMS
    elif plan.stored is not None and change.operation is ChangeOperation.EDIT and change.session == plan.stored:
        result.unchanged = True
    else:
        result.problems = rules.check(inventory, switch.key, [change])
        if plan.verb in ("create", "edit") and not getattr(args, "allow_empty", False):
            # No accidental empty session: it mirrors nothing, so it needs --allow-empty.
            result.problems = refuse_empty(result.problems, "add --allow-empty to send it anyway")
        if change.operation is not ChangeOperation.REMOVE:
            advice = advise(inventory, switch.key, change.session)
            result.notes, result.upstream = advice.notes, advice.upstream
            if not result.errors and advice.capture_command:
                result.capture_filter, result.capture_command = advice.capture_filter, advice.capture_command
        if result.errors:
            code = EXIT_PROBLEMS
        elif not args.dry_run:
            result.outcome = apply_and_audit(backend, inventory, switch.key, [change], result.problems)
            result.problems, code = list(result.outcome.problems), result.outcome.exit_code
    if args.json:
        emit_json(result_json(result))
    else:
        print_result(console(), backend, inventory, result)
    outcome = result.outcome
    if result.failure is not None:
        report_error(result.failure)
    elif outcome is not None and outcome.recovered:
        err_console().print(Text(f"dvmirror: {outcome.recovered}"))
    if outcome is not None and outcome.audit_error:
        err_console().print(Text(f"dvmirror: {outcome.audit_error}"))
    return code
