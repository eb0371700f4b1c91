"""``dvmirror monitor prepare|restore``: the walkthrough's first steps from the terminal (issue 13, item 1).

``dvmirror monitor prepare --vm VM [--nic LABEL] --vlan N [--portgroup NAME] [--switch S]
[--copy-from PORTGROUP] [--dry-run] [--json]``
    Plans the monitor port (:func:`tui.monitor.plan`, with what the backend reads now: the VM's
    ``changeVersion`` and NIC device, the template portgroup's teaming), prints the checks, then the
    exact specs (``CreateDVPortgroup_Task`` when the portgroup is created, ``ReconfigVM_Task``), then,
    unless ``--dry-run`` or a check is an error, sends them (:func:`tui.monitor_ops.prepare`) and
    prints the NIC's new port, ready to be a session's destination. Exit 0 when done (or nothing to
    do, or a clean dry run), 1 when a check is an error (nothing sent), 3 for a connection failure,
    4 when vCenter refused a step (what was done before it is said).

``dvmirror monitor restore --vm VM [--nic LABEL] [--remove-portgroup] [--dry-run] [--json]``
    Puts the NIC back on the portgroup (and, when free, the port) it was on before ``prepare``
    (the record in :mod:`tui.monitor_store`); ``--remove-portgroup`` also removes the portgroup
    when dvmirror created it and no port of it is connected. Exit 1 when there is no record.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, cast

from tui import monitor_ops
from tui.backends import EXIT_OK, EXIT_PROBLEMS, Backend
from tui.cli import UsageError, console, emit_json, err_console, load
from tui.model import Problem, Severity
from tui.monitor import DEFAULT_PORTGROUP, MonitorPlan, MonitorRequest
from tui.text import SafeText as Text
from tui.text import json_text

EPILOG = """examples:
  dvmirror --walkthrough monitor prepare --vm MGTSRVR003UX --nic "Network adapter 2" --vlan 205 --dry-run
  dvmirror monitor prepare --vm MGTSRVR003UX --vlan 205 --portgroup dvPgMirror --json
  dvmirror monitor restore --vm MGTSRVR003UX --remove-portgroup

The first creates dvPgMirror on VLAN 205 (teaming copied from the adapter's current portgroup, or
--copy-from), then moves the adapter to it, with the VM's changeVersion so that a change made meanwhile
is refused. Every step is audited; `monitor restore` puts the adapter back where it was.
"""


def vlan_id(text: str) -> int:
    digits = text.strip()
    if not digits.isascii() or not digits.isdigit() or len(digits) > 5:
        raise argparse.ArgumentTypeError(f"{text[:20]!r} is not a VLAN ID (1-4094)")
    return int(digits)


def add_commands(
    command: Callable[..., argparse.ArgumentParser], finish: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Add ``monitor prepare`` and ``monitor restore`` (``command`` and ``finish`` are tui.__main__'s hooks)."""
    formatter = argparse.RawDescriptionHelpFormatter
    mon = command(
        "monitor",
        "prepare a monitor port (mirror portgroup + the monitor VM's adapter on it), or restore it",
        epilog=EPILOG,
    )
    actions = mon.add_subparsers(dest="monitor_command", metavar="ACTION", required=True)
    prep = actions.add_parser(
        "prepare",
        help="create or reuse the mirror portgroup and move the VM's adapter to it",
        description="Create (or reuse) the mirror portgroup on VLAN N and move the VM's adapter to it; "
        "the checks and the exact specs are shown first.",
        formatter_class=formatter,
        epilog=EPILOG,
    )
    prep.add_argument("--vm", required=True, metavar="VM", help="the monitor VM (name or managed object ID)")
    prep.add_argument("--nic", default="", metavar="LABEL", help='its adapter, e.g. "Network adapter 2"')
    prep.add_argument("--vlan", required=True, type=vlan_id, metavar="N", help="the mirroring VLAN (1-4094)")
    prep.add_argument("--portgroup", default=DEFAULT_PORTGROUP, metavar="NAME", help=f"default {DEFAULT_PORTGROUP}")
    prep.add_argument("--switch", default="", metavar="S", help="the distributed switch (default: the adapter's)")
    prep.add_argument("--copy-from", default="", metavar="PORTGROUP", help="copy uplink teaming from this portgroup")
    prep.add_argument("--dry-run", action="store_true", help="show the checks and the specs, send nothing")
    prep.add_argument("--json", action="store_true", help="JSON output")
    prep.set_defaults(func=cmd_prepare)
    finish(prep)
    rest = actions.add_parser(
        "restore",
        help="put the adapter back where it was before `monitor prepare`",
        description="Put the adapter `monitor prepare` moved back on its old portgroup (and port, when free).",
        formatter_class=formatter,
        epilog=EPILOG,
    )
    rest.add_argument("--vm", required=True, metavar="VM")
    rest.add_argument("--nic", default="", metavar="LABEL")
    rest.add_argument(
        "--remove-portgroup",
        action="store_true",
        help="also remove the mirror portgroup if dvmirror created it and nothing is connected to it",
    )
    rest.add_argument("--dry-run", action="store_true", help="show the spec, send nothing")
    rest.add_argument("--json", action="store_true", help="JSON output")
    rest.set_defaults(func=cmd_restore)
    finish(rest)


def _problem_line(p: Problem) -> Text:
    mark = {"error": "error", "warning": "warning", "info": "note"}[p.severity.value]
    return Text(f"  {mark} {p.code}: {p.message}", style="bold" if p.severity is Severity.ERROR else "")


def print_plan(plan: MonitorPlan) -> None:
    out = console()
    vm = plan.vm.name if plan.vm else plan.request.vm
    nic = plan.nic.label if plan.nic else plan.request.nic or "(adapter not chosen)"
    where = f" on {plan.switch.name}" if plan.switch else ""
    out.print(Text(f"Monitor port for {vm} / {nic}{where}: {plan.portgroup_name}, VLAN {plan.request.vlan}"))
    out.print(Text("Checks:"))
    if not plan.problems:
        out.print(Text("  ok: VLAN free, adapter, host membership and addresses checked"))
    for p in plan.problems:
        out.print(_problem_line(p))
    if plan.nothing_to_do or plan.reconfig_spec is None:
        return
    step = 1
    if plan.create_spec is not None:
        teaming = f", uplink teaming copied from {plan.template.name}" if plan.template else ""
        out.print(Text(f"Step {step}: CreateDVPortgroup_Task on {where.removeprefix(' on ')}{teaming}"))
        out.print(Text(json_text(plan.create_spec, indent=2)))
        step += 1
    else:
        out.print(Text(f"Reusing {plan.portgroup_name} ({plan.portgroup.key if plan.portgroup else ''})"))
    out.print(Text(f"Step {step}: ReconfigVM_Task on {vm} ({nic} → {plan.portgroup_name})"))
    out.print(Text(json_text(plan.reconfig_spec, indent=2)))


def _next_step(switch: str, port: str) -> str:
    return (
        f"Port {port} is ready to be the destination: "
        f"dvmirror session create --dest {port} --switch {switch} --source PORT ..."
    )


def cmd_prepare(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror monitor prepare``."""
    mb = cast(monitor_ops.MonitorBackend, backend)
    if not args.portgroup.strip():
        raise UsageError("--portgroup needs a name")
    inv = load(backend, args.json)
    request = MonitorRequest(
        vm=args.vm, vlan=args.vlan, nic=args.nic, portgroup=args.portgroup, switch=args.switch, copy_from=args.copy_from
    )
    plan = mb.monitor_plan(inv, request)
    data: dict[str, Any] = {"ok": plan.ok, "dryRun": bool(args.dry_run), "plan": plan.to_json()}
    switch = plan.switch.name if plan.switch else args.switch
    if not args.json:
        print_plan(plan)
    if plan.nothing_to_do and plan.nic is not None:
        data.update(result="nothing", port=plan.nic.port)
        if args.json:
            emit_json(data)
        else:
            console().print(Text(_next_step(switch, plan.nic.port)))
        return EXIT_OK
    if plan.errors:
        data.update(result="refused", port=None)
        if args.json:
            emit_json(data)
        else:
            err_console().print(Text("dvmirror: the checks found errors; nothing was sent", style="bold"))
        return EXIT_PROBLEMS
    if args.dry_run:
        data.update(result="dry-run", port=None)
        if args.json:
            emit_json(data)
        else:
            console().print(Text("Dry run: nothing was sent."))
        return EXIT_OK
    outcome = monitor_ops.prepare(mb, inv, plan)
    done = outcome.done
    data.update(
        ok=outcome.result == "ok",
        result=outcome.result,
        port=done.port if done else None,
        done=done.to_json() if done else None,
        problems=[p.to_json() for p in outcome.problems],
        message=outcome.message,
        notices=list(outcome.notices),
    )
    if args.json:
        emit_json(data)
    else:
        out = console()
        if done is not None:
            made = f"created {done.portgroup} ({done.portgroup_key}); " if done.created else ""
            out.print(Text(f"Done: {made}{done.nic} of {done.vm} is on {done.portgroup}, port {done.port or '?'}."))
            if done.port:
                out.print(Text(_next_step(switch, done.port)))
        else:
            err = err_console()
            err.print(Text(f"dvmirror: {outcome.message}", style="bold"))
            for p in outcome.problems:
                err.print(_problem_line(p))
        for notice in outcome.notices:
            err_console().print(Text(f"dvmirror: {notice}"))
    return outcome.exit_code


def cmd_restore(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror monitor restore``."""
    mb = cast(monitor_ops.MonitorBackend, backend)
    inv = load(backend, args.json)
    outcome = monitor_ops.restore(
        mb, inv, args.vm, args.nic, remove_portgroup=args.remove_portgroup, dry_run=args.dry_run
    )
    done = outcome.done
    if args.json:
        emit_json(
            {
                "ok": outcome.result in ("ok", "dry-run", "nothing"),
                "dryRun": bool(args.dry_run),
                "result": outcome.result,
                "reconfigVMSpec": outcome.spec,
                "done": done.to_json() if done else None,
                "problems": [p.to_json() for p in outcome.problems],
                "message": outcome.message,
                "notices": list(outcome.notices),
            }
        )
        return outcome.exit_code
    out = console()
    for p in outcome.problems:
        out.print(_problem_line(p))
    if outcome.spec is not None:
        out.print(Text("ReconfigVM_Task:"))
        out.print(Text(json_text(outcome.spec, indent=2)))
    if outcome.result == "dry-run":
        out.print(Text("Dry run: nothing was sent."))
    elif done is not None:
        gone = "; the mirror portgroup was removed" if done.removed else ""
        out.print(Text(f"Restored: {done.nic} of {done.vm} is on {done.portgroup}, port {done.port or '?'}{gone}."))
    elif outcome.message:
        err_console().print(Text(f"dvmirror: {outcome.message}", style="bold"))
    for notice in outcome.notices:
        err_console().print(Text(f"dvmirror: {notice}"))
    return outcome.exit_code
