"""The argparse definitions of ``dvmirror sessions`` and ``dvmirror session …`` (the flags of
:mod:`tui.cli_sessions`, whose docstring describes them).

The session-field flags are added through a :class:`tui.argrecord.Recorder`, which keeps each
option it adds: the create and edit parsers carry them (``args.field_defaults``, ``{dest:
default}``) so that :func:`edit_given` knows every field flag without a second copy of their names.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from tui import cli_table, export, timebox, verify
from tui.argrecord import Recorder
from tui.cli import whole_number
from tui.cli_sessions.history import since_value
from tui.cli_sessions.output import SESSION_COLUMNS
from tui.model import EncapType, SessionType
from tui.text import visible

SESSION_TYPES: tuple[str, ...] = tuple(t.value for t in SessionType)
ENCAP_TYPES: tuple[str, ...] = tuple(e.value for e in EncapType)

Handler = Callable[[Any, argparse.Namespace], int]
"""A command: ``(backend, args) -> exit code``."""

_PORT_NOTE = """\
PORT is a port key (448), a VM name (when the VM has one port on the switch) or "VM/NIC label"
(F5-LTM01/"Network adapter 2"); --source PORT:ingress|egress|both (default both)."""

_EXIT_CODES = """\
exit codes: 0 ok (or a dry run without errors), 1 problems found (nothing sent), 2 usage error
(bad flag, unknown switch, ambiguous port or session), 3 connection or login failure,
4 vCenter refused the change."""

_EPILOGS: dict[str, str] = {
    "session": """\
examples (each action has its own: dvmirror session ACTION --help):
  dvmirror session create --demo --source 448 --dest 2258 --length 60 --dry-run
  dvmirror session edit --session DMZ-IDS --add-source 450:ingress --dry-run
  dvmirror session disable --session DMZ-IDS --switch dvSwitchCloud
  dvmirror session delete --session RSPAN-Core --dry-run
  dvmirror session verify --session DMZ-IDS --seconds 5""",
    "create": """\
examples:
  dvmirror session create --demo --switch dvSwitchCloud --name "F5 DMZ to monitor" \\
      --type mixedDestMirror --source 448 --dest 2258 --encap-vlan 205 --length 60
  dvmirror session create --demo --type dvPortMirror --length 60 \\
      --source "F5-LTM01/Network adapter 2" --dest "MGTSRVR003UX/Network adapter 2"
  dvmirror session create --demo --type remoteMirrorSource --source 448:egress \\
      --dest-uplink dvUplink1 --encap-vlan 310 --dry-run
  dvmirror session create --demo --switch dvSwitchCloud --name parked --allow-empty

A session without a source or a destination mirrors nothing: it is refused unless
--allow-empty says it is meant.""",
    "edit": """\
examples:
  dvmirror session edit --session DMZ-IDS --add-source 450:ingress --no-length --dry-run
  dvmirror session edit --session 1 --switch dvSwitchCloud --source 448:egress --dest 2258
  dvmirror session edit --session DMZ-IDS --name "DMZ web to IDS" --json
  dvmirror session edit --session 2 --clear-dests --allow-empty

An edit that leaves the session without a source or a destination is refused unless
--allow-empty.""",
    "enable": """\
examples:
  dvmirror session enable --session RSPAN-Core
  dvmirror session enable --session 2 --switch dvSwitchCloud --dry-run""",
    "disable": """\
examples:
  dvmirror session disable --session DMZ-IDS --switch dvSwitchCloud
  dvmirror session disable --session 1 --json""",
    "delete": """\
examples:
  dvmirror session delete --session 2 --switch dvSwitchCloud --json
  dvmirror session delete --session RSPAN-Core --dry-run""",
}
"""The examples of each ``session`` action's ``--help`` (and of ``session --help``)."""


def _epilog(name: str) -> str:
    return f"{_PORT_NOTE}\n\n{_EPILOGS[name]}\n\n{_EXIT_CODES}"


_VERIFY_EPILOG = f"""\
examples:
  dvmirror session verify --demo --session DMZ-IDS
  dvmirror session verify --session "F5 DMZ to monitor" --seconds 30
  dvmirror session verify --session 3 --switch dvSwitchCloud --seconds 2 --json

It reads the counters vCenter keeps for the session's source and destination ports
(RefreshDVPortState, then FetchDVPorts of those ports only) at the start, every
{verify.SAMPLE_EVERY:g} s and at the end of the window, and compares what the sources carried in the
mirrored directions (after sampling rate and packet length) with what the destination was
sent. Nothing is changed, so it works in read-only mode. A progress bar is shown on standard
error when it is a terminal; ctrl+c stops the window (exit 130, no verdict).

verdicts: mirroring, nothing-to-mirror (the sources were idle), not-delivered (the session
is disabled, the destination is not connected, source and destination on different hosts,
the encapsulation VLAN not carried, ...: the reasons say which), dropped (delivered to the
destination port, dropped on the way to its VM), inconclusive (the counters cannot tell).

JSON: "ok" (true when mirroring), "problems" (what stopped the verify: NotFound, a
connection failure), "session" (as in `dvmirror sessions --json`), "verdict", "summary",
"reasons" [{{"code", "message"}}], "advice", "seconds", "expected" {{"pps", "bps"}},
"sources" and "destinations" (per port: "port", "role", "label", "status", "seconds",
"mirrored", "due", "rates") and "samples" (every reading: "port", "readAt", "counters").

exit codes: 0 mirroring, 1 any other verdict or no such session, 2 usage error (bad
--seconds, unknown switch, ambiguous session), 3 connection or login failure (also while
sampling), 4 the server cannot give fresh counters (no RefreshDVPortState), 130 interrupted."""

_SECONDS_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def window_seconds(text: str) -> float:
    """An ``argparse`` type for ``--seconds``: a plain decimal number (ASCII digits: no ``nan``,
    ``inf``, exponents or underscores) from :data:`tui.verify.MIN_SECONDS` to
    :data:`tui.verify.MAX_SECONDS`."""
    digits = text.strip()
    shown = repr(text) if len(text) <= 24 else repr(text[:24]) + "…"
    if len(digits) > 24 or not _SECONDS_RE.fullmatch(digits):
        raise argparse.ArgumentTypeError(f"{shown} is not a number of seconds (such as 10 or 2.5)")
    value = float(digits)
    if not verify.MIN_SECONDS <= value <= verify.MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"{shown}: the window must be {verify.MIN_SECONDS:g} to {verify.MAX_SECONDS:g} seconds"
        )
    return value


_SESSIONS_EPILOG = """\
examples:
  dvmirror sessions --demo
  dvmirror sessions --switch dvSwitchCloud --json
  dvmirror sessions --demo -o wide                with descriptions, every column at full width
  dvmirror sessions --demo --columns key,name,sources,destinations
  dvmirror sessions --check --switch dvSwitchMgmt --json   for cron: exit 1 on any problem
  dvmirror sessions --history --switch dvSwitchCloud --since 2d
  dvmirror sessions --history --since 2026-11-28T06:00Z --json
  dvmirror sessions --allow-list --switch dvSwitchCloud  names as the STIG's inputs list them
  dvmirror sessions expire --dry-run                     what would be disabled now
  dvmirror sessions expire --remove --json               for cron: delete expired sessions

JSON: one object per session with the vSphere API's field names (as config.vspanSession), plus
"switch", "typeLabel", "portLabels" ({port key: "VM / NIC"}) and "warnings".
With --history: one object per change, oldest first: "time" (UTC), "user", "operation",
"switch", "key", "name", "change", "fields", "ours", "source", "result", "event", "message",
"session".

--check compares each session's ports with what they held when dvmirror first saw the session
(kept in session-baselines.json in the state directory; $DVMIRROR_BASELINES moves it; the demo
lab and snapshots keep them for the run only): EndpointGone, EndpointChanged, EndpointMoved (a
reconnected NIC), EndpointHostChanged (a vMotion), plus the rules' warnings (CrossHostMirror,
DestinationNotConnected, ...). Every problem of severity warning counts; the info notes
(SessionChanged: edited since first seen, a new baseline; EndpointHostChanged that split no pair)
do not. JSON: {"ok", "notice", "sessions": [rows as above, each with "problems"]}.

exit codes: 0 ok (also when there is no session), 1 (--check) a session has a problem,
2 usage error (unknown switch), 3 connection or login failure."""


def add_commands(
    command: Callable[..., argparse.ArgumentParser],
    finish: Callable[[argparse.ArgumentParser], None],
    handlers: Mapping[str, Handler],
) -> None:
    """Add ``sessions`` and ``session create|edit|enable|disable|delete|verify``, each running
    ``handlers[name]`` (``command`` and ``finish`` are the hooks of ``tui.__main__``)."""
    formatter = argparse.RawDescriptionHelpFormatter

    sessions = command(
        "sessions",
        "list port mirroring sessions (all switches, or one)",
        "List every port mirroring (VSPAN) session with its sources and destinations resolved to "
        "VM / NIC names, and the warnings of each session.",
    )
    sessions.epilog = _SESSIONS_EPILOG
    sessions.add_argument(
        "action",
        nargs="?",
        choices=["expire"],
        help="expire: disable (with --remove, delete) every session whose time box (--for) has passed",
    )
    sessions.add_argument("--switch", metavar="S", help="only this distributed switch (name or UUID)")
    sessions.add_argument("--json", action="store_true", help="JSON (vSphere API field names) instead of a table")
    sessions.add_argument(
        "--check",
        action="store_true",
        help="check every session for drift since first seen and for the rules' warnings; exit 1 on any problem",
    )
    sessions.add_argument(
        "--history",
        action="store_true",
        help="the changes of the sessions (vCenter's events), dvmirror's own marked, instead of the sessions",
    )
    sessions.add_argument(
        "--since",
        metavar="WHEN",
        type=since_value,
        help="with --history: from WHEN, a duration back (30m, 2h, 7d) or an ISO 8601 date or time "
        "(2026-11-28, 2026-11-28T06:00Z; without an offset: UTC); default 7d",
    )
    sessions.add_argument(
        "--allow-list",
        action="store_true",
        help="print the session names as the vSphere STIG's hardening inputs list them (vcenter_portMirrorSessions)",
    )
    sessions.add_argument("--dry-run", action="store_true", help="with expire: show what would change; send nothing")
    sessions.add_argument("--remove", action="store_true", help="with expire: delete expired sessions, not disable")
    cli_table.add_arguments(sessions, SESSION_COLUMNS)
    sessions.set_defaults(func=handlers["sessions"])
    finish(sessions)

    session = command(
        "session",
        "create, edit, enable, disable, delete or verify a port mirroring session",
        "Create, edit, enable, disable or delete a port mirroring (VSPAN) session, or verify that "
        "one delivers. Every change is checked against vCenter's rules before anything is sent; "
        "--dry-run shows the result only.",
    )
    session.epilog = _epilog("session")
    actions = session.add_subparsers(dest="session_command", metavar="ACTION", required=True)

    def action(name: str, help: str, description: str) -> argparse.ArgumentParser:
        return actions.add_parser(
            name, help=help, description=description, formatter_class=formatter, epilog=_epilog(name)
        )

    create = action(
        "create",
        "create a session",
        "Create a port mirroring session. The type defaults to dvPortMirror (Distributed Port "
        "Mirroring); the session is enabled unless --disabled.",
    )
    _common(create, with_session=False)
    _allow_empty(create)
    create.set_defaults(func=handlers["create"], field_defaults=_fields(create, edit=False))
    finish(create)

    edit = action(
        "edit",
        "change fields of a session",
        "Change only the given fields of a session; everything else is kept and the complete "
        "session is sent. --source, --source-vlan, --dest, --dest-uplink and --dest-ip replace "
        "that list; the --add-... and --remove-... forms change it; --no-... clears an optional value.",
    )
    _common(edit, with_session=True)
    _allow_empty(edit)
    edit.set_defaults(func=handlers["edit"], field_defaults=_fields(edit, edit=True))
    finish(edit)

    for name, help, description in (
        ("enable", "enable a session", "Enable a session (an edit of `enabled` only)."),
        ("disable", "disable a session", "Disable a session (an edit of `enabled` only)."),
        ("delete", "delete a session", "Delete a session (removed by key)."),
    ):
        p = action(name, help, description)
        _common(p, with_session=True)
        p.set_defaults(func=handlers[name])
        finish(p)

    check = actions.add_parser(
        "verify",
        help="check from the port counters that a session delivers",
        description="Sample the traffic counters of a session's source and destination ports over a short "
        "window and say whether the destination receives what the sources carry; if not, the most likely "
        "reason and what to change.",
        formatter_class=formatter,
        epilog=_VERIFY_EPILOG,
    )
    _session_ref(check)
    check.add_argument(
        "--seconds",
        metavar="N",
        type=window_seconds,
        default=verify.DEFAULT_SECONDS,
        help=f"length of the window, {verify.MIN_SECONDS:g} to {verify.MAX_SECONDS:g} seconds "
        f"(default {verify.DEFAULT_SECONDS:g})",
    )
    check.add_argument("--json", action="store_true", help="print the result, with every reading, as JSON")
    check.set_defaults(func=handlers["verify"])
    finish(check)

    out = actions.add_parser(
        "export",
        help="write a session as an Ansible task, a PowerCLI or pyVmomi script, or JSON",
        description="Write a session for another tool, to re-create it as it is: an Ansible task "
        f"({export.ANSIBLE_MODULE}; where that module cannot express the session, a comment says why "
        "and the task runs the pyVmomi script instead), a PowerCLI script (the raw VMwareDVSConfigSpec: "
        "PowerCLI has no port mirroring cmdlet), a pyVmomi script, or the session as JSON (API field names). "
        "Nothing is sent to vCenter.",
        formatter_class=formatter,
        epilog=_EXPORT_EPILOG,
    )
    _session_ref(out)
    out.add_argument(
        "--as",
        dest="format",
        metavar="FORMAT",
        required=True,
        type=export_format,
        help="ansible, powercli, pyvmomi or json",
    )
    out.set_defaults(func=handlers["export"])
    finish(out)


_EXPORT_EPILOG = """\
examples:
  dvmirror session export --demo --session DMZ-IDS --as ansible
  dvmirror session export --session 1 --switch dvSwitchCloud --as pyvmomi > dmz-ids.py
  VCENTER_HOST=vc02 VCENTER_USER=me VCENTER_PASSWORD=... python3 dmz-ids.py"""


def duration_value(text: str) -> timedelta:
    """``--for``: :func:`tui.timebox.parse_duration`."""
    try:
        return timebox.parse_duration(text)
    except timebox.DurationError as e:
        raise argparse.ArgumentTypeError(visible(str(e))) from None


def export_format(text: str) -> export.Format:
    """``--as``: one of :class:`tui.export.Format`, any case."""
    try:
        return export.Format(text.strip().lower())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{visible(text)!r} is not a format; choose ansible, powercli, pyvmomi or json"
        ) from None


def _session_ref(p: argparse.ArgumentParser, *, with_session: bool = True) -> None:
    """``--switch`` and (``with_session``) ``--session``."""
    p.add_argument(
        "--switch",
        metavar="S",
        help="distributed switch (name or UUID); optional when the ports or the session identify it",
    )
    if with_session:
        p.add_argument(
            "--session",
            metavar="NAME_OR_KEY",
            required=True,
            help="the session: its key (see `dvmirror sessions`) or its name",
        )


def _common(p: argparse.ArgumentParser, *, with_session: bool) -> None:
    _session_ref(p, with_session=with_session)
    p.add_argument("--dry-run", action="store_true", help="check and show the change; send nothing")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _allow_empty(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--allow-empty",
        action="store_true",
        help="accept a session with no source or no destination (it mirrors nothing; refused otherwise)",
    )


def _fields(p: argparse.ArgumentParser, *, edit: bool) -> dict[str, Any]:
    """Add the session-field flags; return ``{dest: default}`` of every one (a flag is given when
    its value differs from its default)."""
    fields = Recorder(p)
    group = fields.add_argument_group

    g = group("session fields" + (" (only the fields given change)" if edit else ""))
    g.add_argument("--name", metavar="TEXT", help="session name (at most 80 characters)")
    g.add_argument("--description", metavar="TEXT", help="description")
    box = g.add_mutually_exclusive_group()
    box.add_argument(
        "--for",
        dest="for_",
        metavar="DURATION",
        type=duration_value,
        help="time-box the session: it expires after DURATION (30m, 2h, 1h30m, 1d; 1 minute to 30 days), "
        "written at the end of its description; `dvmirror sessions expire` disables it then"
        + (" (replaces an expiry it has)" if edit else ""),
    )
    if edit:
        box.add_argument("--no-for", dest="no_for", action="store_true", help="remove the session's expiry")
    g.add_argument(
        "--type",
        dest="session_type",
        choices=SESSION_TYPES,
        metavar="TYPE",
        help="sessionType: " + ", ".join(SESSION_TYPES) + ("" if edit else " (default dvPortMirror)"),
    )
    status = g.add_mutually_exclusive_group()
    status.add_argument(
        "--enabled",
        dest="enabled",
        action="store_const",
        const=True,
        default=None,
        help="session enabled" + ("" if edit else " (the default)"),
    )
    status.add_argument("--disabled", dest="enabled", action="store_const", const=False, help="session disabled")
    g.add_argument(
        "--normal-io",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="allow normal I/O on destination ports (normalTrafficAllowed; default not allowed)",
    )

    ends = group("endpoints" + (" (a plain flag replaces that list; --add-/--remove- change it)" if edit else ""))
    ends.add_argument(
        "--source",
        metavar="PORT[:DIR]",
        action="append",
        help="source port, DIR ingress|egress|both (default both); repeatable",
    )
    ends.add_argument(
        "--source-vlan",
        metavar="N",
        type=whole_number,
        action="append",
        help="source VLAN ID (Remote Mirroring Destination); repeatable",
    )
    ends.add_argument("--dest", metavar="PORT", action="append", help="destination port; repeatable")
    ends.add_argument(
        "--dest-uplink", metavar="NAME", action="append", help="destination uplink name, e.g. dvUplink1; repeatable"
    )
    ends.add_argument("--dest-ip", metavar="IP", action="append", help="destination IP address (L3 source); repeatable")
    if edit:
        ends.add_argument("--add-source", metavar="PORT[:DIR]", action="append", default=[], help="add a source port")
        ends.add_argument("--remove-source", metavar="PORT", action="append", default=[], help="remove a source port")
        ends.add_argument(
            "--add-source-vlan", metavar="N", type=whole_number, action="append", default=[], help="add a VLAN"
        )
        ends.add_argument(
            "--remove-source-vlan", metavar="N", type=whole_number, action="append", default=[], help="remove a VLAN"
        )
        ends.add_argument("--add-dest", metavar="PORT", action="append", default=[], help="add a destination port")
        ends.add_argument(
            "--remove-dest", metavar="PORT", action="append", default=[], help="remove a destination port"
        )
        ends.add_argument(
            "--add-dest-uplink", metavar="NAME", action="append", default=[], help="add a destination uplink"
        )
        ends.add_argument(
            "--remove-dest-uplink", metavar="NAME", action="append", default=[], help="remove a destination uplink"
        )
        ends.add_argument("--add-dest-ip", metavar="IP", action="append", default=[], help="add a destination IP")
        ends.add_argument("--remove-dest-ip", metavar="IP", action="append", default=[], help="remove a destination IP")
        ends.add_argument("--clear-sources", action="store_true", help="remove every source (ports and VLANs) first")
        ends.add_argument(
            "--clear-dests", action="store_true", help="remove every destination (ports, uplinks, IPs) first"
        )

    o = group("options" + (" (--no-... clears a value)" if edit else ""))

    def optional(
        flag: str, dest: str, metavar: str, help: str, unset: str, kind: Callable[[str], Any] = whole_number
    ) -> None:
        if edit:
            ex = o.add_mutually_exclusive_group()
            ex.add_argument(flag, dest=dest, metavar=metavar, type=kind, help=help)
            ex.add_argument("--no-" + flag[2:], dest="no_" + dest, action="store_true", help=unset)
        else:
            o.add_argument(flag, dest=dest, metavar=metavar, type=kind, help=help)

    optional(
        "--encap-vlan",
        "encap_vlan",
        "N",
        "encapsulation VLAN ID (encapsulationVlanId)",
        "unset the encapsulation VLAN (needed to change to an L3 source)",
    )
    o.add_argument(
        "--preserve-vlan",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="preserve the original VLAN inside the encapsulation (stripOriginalVlan=false; default: strip)",
    )
    optional(
        "--length",
        "length",
        "N",
        "mirrored packet length in bytes, at least 60 (mirroredPacketLength)",
        "unset the mirrored packet length: mirror whole frames",
    )
    optional(
        "--sampling-rate",
        "sampling_rate",
        "N",
        "mirror one packet in N, 1-65535 (samplingRate)",
        "unset the sampling rate (vCenter's default: every packet)",
    )
    optional(
        "--encap-type",
        "encap_type",
        "TYPE",
        "gre, erspan2 or erspan3 (encapType)",
        "unset the encapsulation type (vCenter's default: GRE)",
        _encap_type,
    )
    optional("--erspan-id", "erspan_id", "N", "ERSPAN session ID 0-1023 (erspanId)", "unset the ERSPAN session ID")
    optional(
        "--erspan-cos",
        "erspan_cos",
        "N",
        "ERSPAN class of service 0-7 (erspanCOS)",
        "unset the ERSPAN class of service",
    )
    o.add_argument(
        "--erspan-ns",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="nanosecond ERSPAN timestamps (erspanGraNanosec; ERSPAN type III)",
    )
    return fields.defaults


def _encap_type(text: str) -> str:
    if text not in ENCAP_TYPES:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(ENCAP_TYPES)}")
    return text


def edit_given(args: argparse.Namespace) -> bool:
    """True when ``args`` give at least one session-field flag (one whose value is not its default)."""
    defaults: dict[str, Any] = getattr(args, "field_defaults", {})
    return any(getattr(args, dest, default) != default for dest, default in defaults.items())
