"""The session commands themselves: load, build the change, check it, send it, report.

Each command is ``(backend, args) -> exit code`` (:data:`HANDLERS`). The change comes from
:func:`tui.cli_sessions.edit.plan`, is checked with :func:`tui.rules.check`, is sent and recorded
by :func:`tui.outcome.apply_and_audit` (the same path as the app's), and is reported by
:mod:`tui.cli_sessions.output`. ``verify`` changes nothing: it samples the session's ports and
judges them with :mod:`tui.verify` (the same core as the app's).
"""

from __future__ import annotations

import argparse
import gc
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from tui import drift, drift_store, export, rules, rules_guards, timebox, verify
from tui.backends import EXIT_OK, EXIT_PROBLEMS, Backend, BackendError
from tui.cli import UsageError, console, emit_json, err_console, find_switch, load, report_error
from tui.cli_sessions.edit import EditError, Plan, plan, unknown_session
from tui.cli_sessions.history import cmd_history
from tui.cli_sessions.output import (
    Result,
    check_json,
    print_check,
    print_result,
    print_sessions,
    print_verify,
    print_verify_header,
    print_verify_problems,
    problem_json,
    problem_line,
    result_json,
    session_row,
    verify_json,
    verify_progress,
)
from tui.cli_sessions.parser import Handler, edit_given
from tui.cli_table import ColumnError
from tui.completeness import refuse_empty
from tui.describe import advise
from tui.lookup import RefError, find_session, natural_key, sorted_switches
from tui.model import ChangeOperation, Inventory, MirrorSession, Problem, SessionChange, Severity
from tui.outcome import apply_and_audit
from tui.text import SafeText as Text
from tui.verify import Reading, VerifyPlan


def cmd_sessions(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror sessions``: every session of every switch (or of one); ``--check``: :func:`cmd_check`;
    ``--history``: :func:`cmd_history`."""
    if getattr(args, "since", None) is not None and not getattr(args, "history", False):
        raise UsageError("--since goes with --history")
    expire = getattr(args, "action", None) == "expire"
    if (getattr(args, "dry_run", False) or getattr(args, "remove", False)) and not expire:
        raise UsageError("--dry-run and --remove go with `dvmirror sessions expire`")
    reports = [f for f in ("check", "history", "allow_list") if getattr(args, f, False)]
    if len(reports) > 1 or (expire and reports):
        given = [*("--" + f.replace("_", "-") for f in reports), *(["expire"] if expire else [])]
        raise UsageError(f"{' and '.join(given)} are different reports and actions: give one of them")
    if expire:
        return cmd_expire(backend, args)
    if getattr(args, "allow_list", False):
        return cmd_allow_list(backend, args)
    if getattr(args, "check", False):
        return cmd_check(backend, args)
    if getattr(args, "history", False):
        return cmd_history(backend, args)
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


def cmd_check(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror sessions --check``: every session's drift and rule warnings (:mod:`tui.drift`),
    against the baselines of :mod:`tui.drift_store` (in memory for the demo lab and snapshots)."""
    inventory = load(backend, args.json)
    switches = [find_switch(inventory, args.switch)] if args.switch else sorted_switches(inventory)
    store = drift_store.BaselineStore.open(None if backend.offline else drift_store.default_path())
    vcenter = drift_store.scope(backend.settings, inventory)
    found = store.check(vcenter, inventory, [sw.key for sw in switches])
    saved = store.save()
    notice = " ".join(m for m in (store.message, saved or "") if m)
    pairs = [
        (sw, s, found.get((sw.key, s.key or ""), rules.session_warnings(inventory, sw.key, s)))
        for sw in switches
        for s in sorted(sw.sessions, key=lambda x: natural_key(x.key or ""))
    ]
    failing = sum(drift.counts(problems) for _, _, problems in pairs)
    if args.json:
        emit_json(check_json(inventory, pairs, not failing, notice))
    else:
        print_check(console(), pairs, f" on {switches[0].name}" if args.switch else "", failing)
    if notice:
        err_console().print(Text(f"dvmirror: {notice}"))
    return EXIT_PROBLEMS if failing else EXIT_OK


def cmd_allow_list(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror sessions --allow-list``: the names of the sessions (of one switch, or all), as the
    vSphere STIG's automation lists authorized ones (:func:`tui.rules_guards.stig_inputs`)."""
    inventory = load(backend, args.json)
    switches = [find_switch(inventory, args.switch)] if args.switch else sorted_switches(inventory)
    sessions = [s for sw in switches for s in sorted(sw.sessions, key=lambda x: natural_key(x.key or ""))]
    names = [n for n in dict.fromkeys(s.name for s in sessions) if n]
    unnamed = sum(1 for s in sessions if not s.name)
    if args.json:
        emit_json({rules_guards.STIG_INPUT: names, "unnamed": unnamed})
    else:
        sys.stdout.write(rules_guards.stig_inputs(inventory.vcenter, names))
    if unnamed:
        err_console().print(
            Text(
                f"dvmirror: {unnamed} session{'s have' if unnamed != 1 else ' has'} no name: a name-based "
                "allow-list cannot authorize it; name it (dvmirror session edit --session KEY --name ...)"
            )
        )
    return EXIT_OK


def cmd_expire(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror sessions expire``: disable (``--remove``: delete) every session whose time box has
    passed (:mod:`tui.timebox`), one checked and audited change per switch; ``--dry-run`` sends nothing."""
    inventory = load(backend, args.json)
    switches = [find_switch(inventory, args.switch)] if args.switch else sorted_switches(inventory)
    now = timebox.now_utc()
    found = timebox.expired(inventory, now, switches)
    rows: list[dict[str, Any]] = []
    code = EXIT_OK
    failure: BackendError | None = None
    out = None if args.json else console()

    def change_of(s: MirrorSession) -> SessionChange:
        if args.remove:
            return SessionChange(ChangeOperation.REMOVE, s)
        return SessionChange(ChangeOperation.EDIT, s.with_changes(enabled=False))

    for sw in switches:
        due = [s for s_sw, s in found if s_sw is sw and (args.remove or s.enabled)]
        if not due:
            continue

        # Each session is checked on its own (one that cannot be changed does not hold up the others);
        # those that pass go in one change of the switch.
        refused = {
            s.key: errors
            for s in due
            if (errors := [p for p in rules.check(inventory, sw.key, [change_of(s)]) if p.severity is Severity.ERROR])
        }
        sendable = [s for s in due if s.key not in refused]
        done_keys: set[str | None] = set()
        sent_problems: list[Problem] = []
        if refused:
            code = EXIT_PROBLEMS
        if sendable and not args.dry_run:
            outcome = apply_and_audit(backend, inventory, sw.key, [change_of(s) for s in sendable])
            sent_problems = [p for p in outcome.problems if p.severity is Severity.ERROR]
            if outcome.exit_code == EXIT_OK:
                done_keys = {s.key for s in sendable}
            if outcome.error is not None:
                failure = outcome.error
            if outcome.exit_code != EXIT_OK and code == EXIT_OK:
                code = outcome.exit_code
        for s in due:
            problems = refused.get(s.key, sent_problems if s in sendable else [])
            done = s.key in done_keys
            rows.append(
                {
                    "switch": sw.name,
                    "key": s.key,
                    "name": s.name,
                    "expires": f"{timebox.expiry(s):%Y-%m-%dT%H:%MZ}",
                    "expired": timebox.left_text(s, now),
                    "action": "remove" if args.remove else "disable",
                    "done": done,
                    "problems": [problem_json(p) for p in problems],
                }
            )
        if out is not None:
            action = "delete" if args.remove else "disable"
            for s in due:
                label = f"session {s.key} ({s.name or 'no name'}) on {sw.name}"
                ok = s.key not in refused and (args.dry_run or s.key in done_keys)
                said = (
                    (f"Would {action}" if args.dry_run else f"{action.capitalize()}d") if ok else f"Could not {action}"
                )
                out.print(Text(f"{said} {label}: {timebox.left_text(s, now)}"))
                for p in refused.get(s.key, sent_problems if s in sendable else []):
                    out.print(problem_line(p))
    skipped = [(sw, s) for sw, s in found if not args.remove and not s.enabled]
    if args.json:
        emit_json(
            {
                "ok": code == EXIT_OK,
                "dryRun": args.dry_run,
                "sessions": rows,
                "alreadyDisabled": [{"switch": sw.name, "key": s.key, "name": s.name} for sw, s in skipped],
            }
        )
    elif out is not None:
        for sw, s in skipped:
            out.print(
                Text(
                    f"Session {s.key} ({s.name or 'no name'}) on {sw.name} expired and is disabled already "
                    "(--remove deletes it)",
                    style="dim",
                )
            )
        if not rows and not skipped:
            where = f" on {switches[0].name}" if args.switch else ""
            out.print(Text(f"No expired sessions{where}."))
        elif args.dry_run and rows:
            out.print(Text("Dry run: nothing was sent."))
    if failure is not None:
        return report_error(failure)
    return code


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


EXIT_INTERRUPTED = 130
"""``session verify`` stopped by ctrl+c (128 + SIGINT, as :func:`tui.__main__.main` returns for it)."""


@dataclass
class _Window:
    """What came of sampling one window."""

    readings: list[Reading] = field(default_factory=list)
    error: BackendError | None = None
    interrupted: bool = False
    elapsed: float = 0.0


def _sample_window(backend: Backend, the_plan: VerifyPlan, seconds: float, err: Console | None) -> _Window:
    """:func:`tui.verify.sample` in a worker thread, so that ctrl+c in the main thread stops the
    window between readings (the reading under way finishes) and the progress bar on ``err``
    moves every tenth of a second."""
    window = _Window()
    stop = threading.Event()
    crashed: list[BaseException] = []

    def keep(_share: float, reading: Reading) -> None:
        window.readings.append(reading)

    def work() -> None:
        try:
            verify.sample(backend, the_plan, seconds, stop=stop, progress=keep)
        except BackendError as e:
            window.error = e
        except BaseException as e:  # a bug: raised again in the main thread
            crashed.append(e)

    worker = threading.Thread(target=work, name="dvmirror-verify", daemon=True)
    start = time.monotonic()
    # What exists now (the inventory above all) outlives the window: the cyclic collector leaves it
    # alone meanwhile, so a full collection does not go over it (0.2 s of CPU at 40,000 VMs).
    gc.freeze()
    try:
        with verify_progress(err, seconds, len(the_plan.port_keys)) as tick:
            worker.start()
            try:
                while worker.is_alive():
                    worker.join(0.1)
                    tick(time.monotonic() - start)
            except KeyboardInterrupt:
                window.interrupted = True
                stop.set()
                worker.join(5.0)  # the reading under way; backend.close() cuts a stalled one
    finally:
        gc.unfreeze()
    window.elapsed = time.monotonic() - start
    if crashed:
        raise crashed[0]
    return window


def cmd_verify(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror session verify``: sample a session's ports over a window and judge (:mod:`tui.verify`)."""
    inventory = load(backend, args.json)
    switch = find_switch(inventory, args.switch) if args.switch else None
    try:
        sw, session = find_session(inventory, switch, args.session)
    except RefError as e:
        raise UsageError(str(e)) from None
    out = None if args.json else console()
    if session is None or sw is None:
        unknown = MirrorSession(key=args.session.strip(), session_type=None)
        problems = [unknown_session(sw, args.session)]
        if out is None:
            emit_json(verify_json(inventory, sw, unknown, None, problems))
        else:
            print_verify_header(out, sw, unknown, None)
            print_verify_problems(out, problems)
        return EXIT_PROBLEMS
    the_plan = verify.plan(inventory, sw.key, session)
    if out is not None:
        print_verify_header(out, sw, session, the_plan)
    err = err_console()
    window = _sample_window(backend, the_plan, args.seconds, err if err.is_terminal else None)
    if window.interrupted or window.error is not None:
        if window.interrupted:
            problem = Problem(
                "Interrupted",
                f"Interrupted after {window.elapsed:.1f} of {args.seconds:g} s "
                f"({len(window.readings)} reading{'s' * (len(window.readings) != 1)}): no verdict.",
            )
        else:
            assert window.error is not None
            problem = Problem(type(window.error).__name__, str(window.error))
        if out is None:
            emit_json(verify_json(inventory, sw, session, None, [problem], window.readings))
        elif window.error is not None:
            print_verify_problems(out, [problem])
        if window.error is not None:
            return report_error(window.error)
        err.print(Text(f"dvmirror: {problem.message[:1].lower()}{problem.message[1:]}", style="bold"))
        return EXIT_INTERRUPTED
    result = verify.judge(inventory, the_plan, window.readings, rules.session_warnings(inventory, sw.key, session))
    if out is None:
        emit_json(verify_json(inventory, sw, session, result))
    else:
        print_verify(out, result)
    return result.verdict.exit_code


def cmd_export(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror session export``: a session as another tool's input (:mod:`tui.export`); sends nothing."""
    inventory = load(backend, False)
    switch = find_switch(inventory, args.switch) if args.switch else None
    try:
        sw, session = find_session(inventory, switch, args.session)
    except RefError as e:
        raise UsageError(str(e)) from None
    if session is None or sw is None:
        err_console().print(Text(f"dvmirror: {unknown_session(sw, args.session).message}"))
        return EXIT_PROBLEMS
    result = export.export(inventory, sw, session, args.format)
    sys.stdout.write(result.text)
    if result.limits:
        err_console().print(
            Text(
                f"dvmirror: {export.ANSIBLE_MODULE} cannot express this session "
                f"({len(result.limits)} reason{'s' * (len(result.limits) != 1)} in the comments): "
                "the task runs the pyVmomi script instead."
            )
        )
    return EXIT_OK


HANDLERS: dict[str, Handler] = {
    "sessions": cmd_sessions,
    **{verb: _session_command(verb) for verb in ("create", "edit", "enable", "disable", "delete")},
    "verify": cmd_verify,
    "export": cmd_export,
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
        result.problems = rules.check(inventory, switch.key, [change], allow_list=backend.settings.allowed_sessions)
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
