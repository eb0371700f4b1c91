"""Port-mirroring session commands of the CLI (DESIGN.md §10): ``sessions`` and ``session …``.

Commands
--------
``dvmirror sessions [--switch S] [--json]``
    Every mirror session of every switch (or of one). The table shows switch, key, name, type
    (vSphere Client name), status, sources (``448 · F5-LTM01 / Network adapter 2 (ingress+egress)``,
    ``VLAN 1100``), destinations (ports resolved the same way, ``uplink dvUplink4``,
    ``IP 192.0.2.10``), the encapsulation VLAN, packet length and sampling, and below it each
    session's warnings with their codes. An empty list is not an error (exit 0).

``dvmirror session create|edit|enable|disable|delete [--dry-run] [--json] ...``
    Build one change, check it with :func:`tui.rules.check`, and send it (unless ``--dry-run``).

Selecting the switch and the session
    ``--switch S`` (name or UUID) may be left out when the ports make the switch unambiguous:
    the switch is the only one on which every PORT that names something is found. A PORT that
    matches on several switches (port keys repeat between switches) with nothing else to tell
    them apart, or ports on different switches, is a usage error (exit 2) asking for
    ``--switch``. A create without any PORT needs ``--switch`` unless there is only one switch.
    ``--session NAME_OR_KEY`` (edit, enable, disable, delete) is a session key as listed by
    ``dvmirror sessions`` or, failing that, a session name (exact, then ignoring case). A key
    wins over a name. A key or name found on several switches, or a name shared by several
    sessions, is a usage error (exit 2) listing them. The switch is the session's; ``--switch``
    narrows the search. A session that does not exist is reported like vCenter's fault: exit 1,
    problem ``NotFound`` (field ``key``), nothing sent; in JSON ``change.session.key`` is the text
    given and ``change.switch`` is ``""`` when no switch was chosen.

PORT references (``--source``, ``--dest`` and their ``--add-``/``--remove-`` forms)
    A port key, a VM name (the VM must have one port on the switch) or ``VM/NIC label``
    (:func:`tui.lookup.resolve_port`). ``--source PORT:ingress|egress|both`` sets the direction
    (default both: the key goes in ``sourcePortReceived`` and ``sourcePortTransmitted``). An
    ambiguous reference is a usage error (exit 2) that lists the candidate ports. A reference
    that matches nothing but is an uplink name of the switch is used as that uplink name
    (``uplinkPortName``; the rules refuse it as a source, V6); anything else that matches
    nothing is passed on as a port key, so it is reported as vCenter would: ``NotFound``
    (exit 1).

Fields (API name in brackets)
    ``--name`` [name], ``--description`` [description], ``--type`` [sessionType: dvPortMirror,
    remoteMirrorSource, remoteMirrorDest, encapsulatedRemoteMirrorSource, mixedDestMirror; create
    defaults to dvPortMirror], ``--enabled``/``--disabled`` [enabled; create defaults to
    enabled], ``--normal-io``/``--no-normal-io`` [normalTrafficAllowed; default not allowed],
    ``--source`` [sourcePortReceived/sourcePortTransmitted.portKey], ``--source-vlan N``
    [sourcePortReceived.vlans], ``--dest`` [destinationPort.portKey], ``--dest-uplink NAME``
    [destinationPort.uplinkPortName], ``--dest-ip IP`` [destinationPort.ipAddress],
    ``--encap-vlan N`` [encapsulationVlanId], ``--preserve-vlan``/``--no-preserve-vlan``
    [stripOriginalVlan = not preserve; create defaults to not preserving, as the vSphere Client
    does], ``--length N`` [mirroredPacketLength], ``--sampling-rate N`` [samplingRate],
    ``--encap-type gre|erspan2|erspan3`` [encapType], ``--erspan-id N`` [erspanId],
    ``--erspan-cos N`` [erspanCOS], ``--erspan-ns``/``--no-erspan-ns`` [erspanGraNanosec].
    Values are checked by the rules, not by the parser, so an out-of-range value is reported
    with vCenter's fault name (exit 1) rather than as a usage error.
    ``samplingRate`` is never sent for a mixedDestMirror session unless ``--sampling-rate`` is
    given (and then the rules refuse it): the legacy type cannot carry it, so an edit to that
    type drops a stored sampling rate.

``edit``
    Changes only the fields given and sends the complete stored session otherwise (enabled,
    normal I/O, strip VLAN, ... are kept). ``--source``, ``--source-vlan``, ``--dest``,
    ``--dest-uplink`` and ``--dest-ip`` **replace** that list (``--source`` replaces the source
    ports, in both directions); ``--add-source``, ``--add-source-vlan``, ``--add-dest``,
    ``--add-dest-uplink``, ``--add-dest-ip`` add to it (``--add-source`` of a port that is
    already a source sets its direction), and ``--remove-…`` removes (removing what is not
    there is a usage error). ``--clear-sources`` / ``--clear-dests`` empty every source /
    destination list first. Optional values are cleared with ``--no-encap-vlan``,
    ``--no-length`` (mirror whole frames), ``--no-sampling-rate``, ``--no-encap-type``,
    ``--no-erspan-id``, ``--no-erspan-cos``. An edit without any field is a usage error; an
    edit (or enable/disable) that changes nothing sends nothing and exits 0.
``enable`` / ``disable``
    An edit of ``enabled`` only.
``delete``
    Removes the session by key (the JSON ``change.session`` is the session removed).

Flow and exit codes
    Load, build the change, :func:`tui.rules.check`. Errors: print them, exit 1, nothing sent.
    ``--dry-run``: print the result (warnings, notes, what the upstream physical switch must
    allow, and for create/edit the tcpdump filter to run on the destination) and exit 0, or 1
    with errors. Otherwise ``backend.apply`` sends the change; vCenter faults give exit 4 (the
    fault name is the problem code), a change refused without being sent (the backend's own
    rules, read-only mode) exit 1, a switch changed meanwhile (``ConcurrentAccess``, nothing
    sent) exit 4, a lost connection or session exit 3 with the result still printed (``--json``
    included) and the error on stderr. When the connection fails after the change was sent, the
    backend reconnects and reads the switch again: found applied, it is a success (exit 0) with a
    ``ConnectionLost`` warning; otherwise the problem is ``NotApplied`` (the switch is as before)
    or ``OutcomeUnknown`` (it cannot be told), exit 3. On the demo lab and snapshots the change
    lasts for this run only, which the human output says.

Audit log
    Every change handed to ``backend.apply`` is recorded with :func:`tui.audit.record` (result
    ``ok``, ``refused``, ``fault``, ``error`` or ``unknown``: after a lost connection, what the
    re-read switch shows), as the vCenter user (the OS user for the demo
    lab and snapshots, whose ``vcenter`` is then written as ``vcsa01.lab.local (demo lab)``).
    Dry runs, changes stopped by the rules before sending, and edits that change nothing are
    not recorded: nothing was attempted.

JSON
----
``sessions --json``: a list of sessions. Each has the vSphere API's fields first
(:meth:`MirrorSession.to_api`: ``key``, ``name``, ``description``, ``enabled``, ``sessionType``,
``encapsulationVlanId``, ``stripOriginalVlan``, ``mirroredPacketLength``, ``normalTrafficAllowed``,
``samplingRate``, ``encapType``, ``erspanId``, ``erspanCOS``, ``erspanGraNanosec``, ``netstack``,
``sourcePortTransmitted``, ``sourcePortReceived``, ``destinationPort``), then the extra keys
``switch`` (switch name), ``typeLabel`` (vSphere Client name of the type), ``portLabels``
(``{port key: "VM / NIC"}`` for every port the session uses; text after ``·`` of
``Inventory.port_label``) and ``warnings`` (problems as ``{"code", "severity", "field",
"message"}``).

``session … --json``: one object::

    {"ok": bool, "problems": [{"code", "severity", "field", "message"}],
     "change": {"operation": "add|edit|remove", "switch": NAME, "session": {API fields}},
     "dry_run": bool, "sent": bool, "notes": [str], "upstream": [str],
     "capture_filter": str | null, "capture_command": str | null, "stored": {API fields} | null}

``ok`` is true when the change was applied (or, with ``--dry-run``, would be sent; or changes
nothing). ``problems`` holds errors first, then warnings (``severity``); codes are vCenter's fault
names (from our rules or from vCenter itself, e.g. ``VspanPortConflict``, ``ConcurrentAccess``),
the app's warning codes (:data:`tui.rules.WARNING_CODES`) and ``ReadOnly`` (read-only mode). On
success the session in ``change`` carries the key vCenter assigned. Extra keys: ``dry_run``;
``sent`` (the change reached vCenter, or the in-memory lab: true when applied, when vCenter
refused it with a fault, and when the connection failed after the request left; false for dry
runs, rule errors, read-only mode, a switch found changed before sending, and failures before
sending); ``notes`` and
``upstream`` (:func:`tui.describe.notes`, :func:`tui.describe.upstream_requirements`);
``capture_filter`` / ``capture_command`` (tcpdump, for create and edit without errors; else
null); ``stored`` (the session as the switch holds it after the change, re-read by the backend;
null for a dry run, a delete or a failure).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from tui import audit, rules
from tui.backends import (
    EXIT_FAULT,
    EXIT_OK,
    EXIT_PROBLEMS,
    ApplyResult,
    Backend,
    BackendError,
    ChangeInterrupted,
    ChangeRefused,
    ReadOnlyError,
)
from tui.cli import UsageError, console, emit_json, err_console, find_switch, load, report_error, whole_number
from tui.describe import advise, endpoint_labels, session_fields
from tui.lookup import ResolveError, natural_key, resolve_port, split_direction
from tui.model import (
    API_NAMES,
    ChangeOperation,
    Direction,
    EncapType,
    Inventory,
    MirrorSession,
    Problem,
    SessionChange,
    SessionType,
    Severity,
    Switch,
    VspanPorts,
    new_session,
)
from tui.text import SafeText as Text
from tui.text import visible

SESSION_TYPES: tuple[str, ...] = tuple(t.value for t in SessionType)
ENCAP_TYPES: tuple[str, ...] = tuple(e.value for e in EncapType)

_SESSION_EPILOG = """\
PORT is a port key (448), a VM name (when the VM has one port on the switch) or "VM/NIC label"
(F5-LTM01/"Network adapter 2"); --source PORT:ingress|egress|both (default both).

examples:
  dvmirror session create --demo --switch dvSwitchCloud --name "F5 DMZ to monitor" \\
      --type mixedDestMirror --source 448 --dest 2258 --encap-vlan 205 --length 60
  dvmirror session create --demo --type dvPortMirror --length 60 \\
      --source "F5-LTM01/Network adapter 2" --dest "MGTSRVR003UX/Network adapter 2"
  dvmirror session edit --session DMZ-IDS --add-source 450:ingress --no-length --dry-run
  dvmirror session disable --session "F5 DMZ to monitor" --switch dvSwitchCloud
  dvmirror session delete --session 3 --switch dvSwitchCloud --json

exit codes: 0 ok (or a dry run without errors), 1 problems found (nothing sent), 2 usage error
(bad flag, unknown switch, ambiguous port or session), 3 connection or login failure,
4 vCenter refused the change."""

_SESSIONS_EPILOG = """\
examples:
  dvmirror sessions --demo
  dvmirror sessions --switch dvSwitchCloud --json

JSON: one object per session with the vSphere API's field names (as config.vspanSession), plus
"switch", "typeLabel", "portLabels" ({port key: "VM / NIC"}) and "warnings".

exit codes: 0 ok (also when there is no session), 2 usage error (unknown switch),
3 connection or login failure."""


# -- parser -----------------------------------------------------------------------------------


def add_commands(
    command: Callable[..., argparse.ArgumentParser], finish: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Add ``sessions`` and ``session create|edit|enable|disable|delete`` (hook of ``tui.__main__``)."""
    formatter = argparse.RawDescriptionHelpFormatter

    sessions = command(
        "sessions",
        "list port mirroring sessions (all switches, or one)",
        "List every port mirroring (VSPAN) session with its sources and destinations resolved to "
        "VM / NIC names, and the warnings of each session.",
    )
    sessions.epilog = _SESSIONS_EPILOG
    sessions.add_argument("--switch", metavar="S", help="only this distributed switch (name or UUID)")
    sessions.add_argument("--json", action="store_true", help="JSON (vSphere API field names) instead of a table")
    sessions.set_defaults(func=cmd_sessions)
    finish(sessions)

    session = command(
        "session",
        "create, edit, enable, disable or delete a port mirroring session",
        "Create, edit, enable, disable or delete a port mirroring (VSPAN) session. Every change is "
        "checked against vCenter's rules before anything is sent; --dry-run shows the result only.",
    )
    session.epilog = _SESSION_EPILOG
    actions = session.add_subparsers(dest="session_command", metavar="ACTION", required=True)

    def action(name: str, help: str, description: str) -> argparse.ArgumentParser:
        return actions.add_parser(
            name, help=help, description=description, formatter_class=formatter, epilog=_SESSION_EPILOG
        )

    create = action(
        "create",
        "create a session",
        "Create a port mirroring session. The type defaults to dvPortMirror (Distributed Port "
        "Mirroring); the session is enabled unless --disabled.",
    )
    _common(create, with_session=False)
    _fields(create, edit=False)
    create.set_defaults(func=cmd_create)
    finish(create)

    edit = action(
        "edit",
        "change fields of a session",
        "Change only the given fields of a session; everything else is kept and the complete "
        "session is sent. --source, --source-vlan, --dest, --dest-uplink and --dest-ip replace "
        "that list; the --add-... and --remove-... forms change it; --no-... clears an optional value.",
    )
    _common(edit, with_session=True)
    _fields(edit, edit=True)
    edit.set_defaults(func=cmd_edit)
    finish(edit)

    for name, help, description, func in (
        ("enable", "enable a session", "Enable a session (an edit of `enabled` only).", cmd_enable),
        ("disable", "disable a session", "Disable a session (an edit of `enabled` only).", cmd_disable),
        ("delete", "delete a session", "Delete a session (removed by key).", cmd_delete),
    ):
        p = action(name, help, description)
        _common(p, with_session=True)
        p.set_defaults(func=func)
        finish(p)


def _common(p: argparse.ArgumentParser, *, with_session: bool) -> None:
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
    p.add_argument("--dry-run", action="store_true", help="check and show the change; send nothing")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _fields(p: argparse.ArgumentParser, *, edit: bool) -> None:
    g = p.add_argument_group("session fields" + (" (only the fields given change)" if edit else ""))
    g.add_argument("--name", metavar="TEXT", help="session name (at most 80 characters)")
    g.add_argument("--description", metavar="TEXT", help="description")
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

    ends = p.add_argument_group(
        "endpoints" + (" (a plain flag replaces that list; --add-/--remove- change it)" if edit else "")
    )
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

    o = p.add_argument_group("options" + (" (--no-... clears a value)" if edit else ""))

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


def _encap_type(text: str) -> str:
    if text not in ENCAP_TYPES:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(ENCAP_TYPES)}")
    return text


# -- references: switch, ports, sessions ------------------------------------------------------


def _switches(inventory: Inventory) -> list[Switch]:
    return sorted(inventory.switches.values(), key=lambda s: natural_key(s.name))


def _ambiguous(error: ResolveError) -> UsageError:
    lines = [str(error) + "; name one of them by port key or VM/NIC label:"]
    lines += [f"  {c}" for c in error.candidates]
    return UsageError("\n".join(lines))


def resolve_ref(inventory: Inventory, switch: Switch, ref: str) -> tuple[str, str]:
    """``("port", key)`` or ``("uplink", name)`` for a PORT reference on ``switch``.

    Ambiguous → :class:`UsageError` with the candidates. Nothing found → an uplink name of the
    switch, else the text itself as a port key (the rules then report ``NotFound``).
    """
    text = ref.strip()
    if not text:
        raise UsageError("empty port reference")
    try:
        return "port", resolve_port(inventory, text, switch.key).key
    except ResolveError as e:
        if e.candidates:
            raise _ambiguous(e) from None
    if text in switch.uplink_names:
        return "uplink", text
    return "port", text


def infer_switch(inventory: Inventory, refs: Sequence[str]) -> Switch:
    """The one switch on which every PORT in ``refs`` that names something is found (usage error otherwise)."""
    switches = _switches(inventory)
    if not switches:
        raise UsageError("the inventory has no distributed switch")
    found: list[tuple[str, list[str]]] = []
    for ref in refs:
        text = ref.strip()
        on: list[str] = []
        for sw in switches:
            try:
                resolve_port(inventory, text, sw.key)
            except ResolveError as e:
                if not e.candidates:
                    continue
            on.append(sw.key)
        if on:
            found.append((text, on))
    candidates = [sw for sw in switches if all(sw.key in on for _, on in found)]
    if len(candidates) == 1:
        return candidates[0]
    names = ", ".join(sw.name for sw in switches)
    if not found:
        raise UsageError(f"give --switch: no port given names the switch (switches: {names})")
    if not candidates:
        where = "; ".join(f"{ref!r} on {', '.join(inventory.switches[k].name for k in on)}" for ref, on in found)
        raise UsageError(f"the ports are not on one switch ({where}); a session mirrors within one switch")
    shared = ", ".join(sw.name for sw in candidates)
    raise UsageError(f"the ports match on several switches ({shared}); add --switch to choose one")


def find_session(
    inventory: Inventory, switch: Switch | None, ref: str
) -> tuple[Switch, MirrorSession] | tuple[Switch | None, None]:
    """The session ``ref`` names (key first, then name); ``(switch or None, None)`` when none.

    Several matches → :class:`UsageError` listing them.
    """
    text = ref.strip()
    if not text:
        raise UsageError("empty --session")
    scope = [switch] if switch is not None else _switches(inventory)

    def listing(matches: list[tuple[Switch, MirrorSession]], what: str) -> UsageError:
        lines = [f"{what} {text!r} matches {len(matches)} sessions; give its key (and --switch):"]
        lines += [f"  key {s.key}  {s.name or '(no name)'}  on {sw.name}" for sw, s in matches]
        return UsageError("\n".join(lines))

    by_key = [(sw, s) for sw in scope for s in sw.sessions if s.key == text]
    if len(by_key) == 1:
        return by_key[0]
    if by_key:
        raise listing(by_key, "key")
    by_name = [(sw, s) for sw in scope for s in sw.sessions if s.name == text]
    if not by_name:
        folded = text.casefold()
        by_name = [(sw, s) for sw in scope for s in sw.sessions if s.name.casefold() == folded]
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        raise listing(by_name, "name")
    if switch is None and len(scope) == 1:
        return scope[0], None
    return switch, None


# -- building the session ---------------------------------------------------------------------


@dataclass
class _Lists:
    """Mutable endpoint lists of a session being built."""

    rx: list[str] = field(default_factory=list)
    tx: list[str] = field(default_factory=list)
    rx_uplinks: list[str] = field(default_factory=list)
    tx_uplinks: list[str] = field(default_factory=list)
    rx_wild: list[str] = field(default_factory=list)
    tx_wild: list[str] = field(default_factory=list)
    vlans: list[int] = field(default_factory=list)
    tx_vlans: list[int] = field(default_factory=list)
    rx_ips: list[str] = field(default_factory=list)
    tx_ips: list[str] = field(default_factory=list)
    dest: list[str] = field(default_factory=list)
    uplinks: list[str] = field(default_factory=list)
    ips: list[str] = field(default_factory=list)
    dest_vlans: list[int] = field(default_factory=list)
    dest_wild: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, s: MirrorSession) -> _Lists:
        return cls(
            rx=list(s.source_rx.port_keys),
            tx=list(s.source_tx.port_keys),
            rx_uplinks=list(s.source_rx.uplink_names),
            tx_uplinks=list(s.source_tx.uplink_names),
            rx_wild=list(s.source_rx.wildcard_types),
            tx_wild=list(s.source_tx.wildcard_types),
            vlans=list(s.source_rx.vlans),
            tx_vlans=list(s.source_tx.vlans),
            rx_ips=list(s.source_rx.ip_addresses),
            tx_ips=list(s.source_tx.ip_addresses),
            dest=list(s.destination.port_keys),
            uplinks=list(s.destination.uplink_names),
            ips=list(s.destination.ip_addresses),
            dest_vlans=list(s.destination.vlans),
            dest_wild=list(s.destination.wildcard_types),
        )

    def clear_sources(self) -> None:
        for name in ("rx", "tx", "rx_uplinks", "tx_uplinks", "rx_wild", "tx_wild", "vlans", "tx_vlans"):
            getattr(self, name).clear()
        self.rx_ips.clear()
        self.tx_ips.clear()

    def clear_dests(self) -> None:
        for name in ("dest", "uplinks", "ips", "dest_vlans", "dest_wild"):
            getattr(self, name).clear()

    def source(self, kind: str, value: str, direction: Direction) -> None:
        """Add a source (or set its direction)."""
        rx, tx = (self.rx, self.tx) if kind == "port" else (self.rx_uplinks, self.tx_uplinks)
        _drop(rx, value)
        _drop(tx, value)
        if direction in (Direction.BOTH, Direction.INGRESS):
            rx.append(value)
        if direction in (Direction.BOTH, Direction.EGRESS):
            tx.append(value)

    def remove_source(self, kind: str, value: str, ref: str) -> None:
        rx, tx = (self.rx, self.tx) if kind == "port" else (self.rx_uplinks, self.tx_uplinks)
        if value not in rx and value not in tx:
            raise UsageError(f"{ref!r} is not a source of this session")
        _drop(rx, value)
        _drop(tx, value)

    def session(self, base: MirrorSession) -> MirrorSession:
        return base.with_changes(
            source_rx=VspanPorts(
                port_keys=tuple(self.rx),
                uplink_names=tuple(self.rx_uplinks),
                vlans=tuple(self.vlans),
                ip_addresses=tuple(self.rx_ips),
                wildcard_types=tuple(self.rx_wild),
            ),
            source_tx=VspanPorts(
                port_keys=tuple(self.tx),
                uplink_names=tuple(self.tx_uplinks),
                vlans=tuple(self.tx_vlans),
                ip_addresses=tuple(self.tx_ips),
                wildcard_types=tuple(self.tx_wild),
            ),
            destination=VspanPorts(
                port_keys=tuple(self.dest),
                uplink_names=tuple(self.uplinks),
                vlans=tuple(self.dest_vlans),
                ip_addresses=tuple(self.ips),
                wildcard_types=tuple(self.dest_wild),
            ),
        )


def _drop(items: list[Any], value: Any) -> None:
    while value in items:
        items.remove(value)


def _add(items: list[Any], value: Any) -> None:
    if value not in items:
        items.append(value)


def _remove(items: list[Any], value: Any, what: str) -> None:
    if value not in items:
        raise UsageError(f"{what} is not in this session")
    _drop(items, value)


def _port_refs(args: argparse.Namespace) -> list[str]:
    """Every PORT reference in the arguments (without direction suffixes)."""
    refs: list[str] = []
    for name in ("source", "add_source", "remove_source"):
        refs += [split_direction(r)[0] for r in getattr(args, name, None) or ()]
    for name in ("dest", "add_dest", "remove_dest"):
        refs += list(getattr(args, name, None) or ())
    return refs


def build_session(inventory: Inventory, switch: Switch, base: MirrorSession, args: argparse.Namespace) -> MirrorSession:
    """``base`` with the fields and endpoints given in ``args`` applied (create and edit)."""
    changes: dict[str, Any] = {}
    for attr, name in (("name", "name"), ("description", "description"), ("session_type", "session_type")):
        value = getattr(args, attr, None)
        if value is not None:
            changes[name] = value
    if getattr(args, "enabled", None) is not None:
        changes["enabled"] = bool(args.enabled)
    if getattr(args, "normal_io", None) is not None:
        changes["normal_traffic_allowed"] = bool(args.normal_io)
    if getattr(args, "preserve_vlan", None) is not None:
        changes["strip_original_vlan"] = not args.preserve_vlan
    if getattr(args, "erspan_ns", None) is not None:
        changes["erspan_gra_nanosec"] = bool(args.erspan_ns)
    for arg, attr in (
        ("encap_vlan", "encapsulation_vlan_id"),
        ("length", "mirrored_packet_length"),
        ("sampling_rate", "sampling_rate"),
        ("encap_type", "encap_type"),
        ("erspan_id", "erspan_id"),
        ("erspan_cos", "erspan_cos"),
    ):
        if getattr(args, "no_" + arg, False):
            changes[attr] = None
        elif getattr(args, arg, None) is not None:
            changes[attr] = getattr(args, arg)

    lists = _Lists.of(base)

    def ref(text: str) -> tuple[str, str]:
        return resolve_ref(inventory, switch, text)

    if getattr(args, "clear_sources", False):
        lists.clear_sources()
    if getattr(args, "clear_dests", False):
        lists.clear_dests()
    if args.source is not None:
        lists.rx, lists.tx, lists.rx_uplinks, lists.tx_uplinks = [], [], [], []
        for text in args.source:
            port_ref, direction = split_direction(text)
            lists.source(*ref(port_ref), direction)
    for text in getattr(args, "add_source", ()):
        port_ref, direction = split_direction(text)
        lists.source(*ref(port_ref), direction)
    for text in getattr(args, "remove_source", ()):
        port_ref, _ = split_direction(text)
        lists.remove_source(*ref(port_ref), port_ref)
    if args.source_vlan is not None:
        lists.vlans = []
        for v in args.source_vlan:
            _add(lists.vlans, v)
    for v in getattr(args, "add_source_vlan", ()):
        _add(lists.vlans, v)
    for v in getattr(args, "remove_source_vlan", ()):
        _remove(lists.vlans, v, f"source VLAN {v}")
    if args.dest is not None:
        lists.dest = []
    for text in [*(args.dest or ()), *getattr(args, "add_dest", ())]:
        kind, value = ref(text)
        _add(lists.dest if kind == "port" else lists.uplinks, value)
    for text in getattr(args, "remove_dest", ()):
        kind, value = ref(text)
        _remove(lists.dest if kind == "port" else lists.uplinks, value, f"destination {text!r}")
    if args.dest_uplink is not None:
        lists.uplinks = []
    for name in [*(args.dest_uplink or ()), *getattr(args, "add_dest_uplink", ())]:
        _add(lists.uplinks, name.strip())
    for name in getattr(args, "remove_dest_uplink", ()):
        _remove(lists.uplinks, name.strip(), f"destination uplink {name!r}")
    if args.dest_ip is not None:
        lists.ips = []
    for ip in [*(args.dest_ip or ()), *getattr(args, "add_dest_ip", ())]:
        _add(lists.ips, ip.strip())
    for ip in getattr(args, "remove_dest_ip", ()):
        _remove(lists.ips, ip.strip(), f"destination IP {ip!r}")

    session = lists.session(base.with_changes(**changes))
    t = rules.effective_type(session)
    if t is not None and "sampling_rate" in t.spec.refuses and getattr(args, "sampling_rate", None) is None:
        # The legacy type cannot carry samplingRate (vspan.md §2.2, V12, SESSION_TYPES): never send a stored one.
        session = session.with_changes(sampling_rate=None)
    return session


_EDIT_FIELDS = (
    "name",
    "description",
    "session_type",
    "enabled",
    "normal_io",
    "preserve_vlan",
    "erspan_ns",
    "encap_vlan",
    "length",
    "sampling_rate",
    "encap_type",
    "erspan_id",
    "erspan_cos",
    "source",
    "source_vlan",
    "dest",
    "dest_uplink",
    "dest_ip",
)
_EDIT_FLAGS = (
    "no_encap_vlan",
    "no_length",
    "no_sampling_rate",
    "no_encap_type",
    "no_erspan_id",
    "no_erspan_cos",
    "add_source",
    "remove_source",
    "add_source_vlan",
    "remove_source_vlan",
    "add_dest",
    "remove_dest",
    "add_dest_uplink",
    "remove_dest_uplink",
    "add_dest_ip",
    "remove_dest_ip",
    "clear_sources",
    "clear_dests",
)


def _edit_given(args: argparse.Namespace) -> bool:
    return any(getattr(args, f, None) is not None for f in _EDIT_FIELDS) or any(
        getattr(args, f, None) for f in _EDIT_FLAGS
    )


# -- commands ---------------------------------------------------------------------------------


@dataclass
class _Plan:
    """A change ready to check and send."""

    verb: str
    """create, edit, enable, disable or delete."""
    switch: Switch | None
    change: SessionChange
    stored: MirrorSession | None = None
    """The session as stored now (edit, enable, disable, delete)."""
    problems: list[Problem] = field(default_factory=list)
    """Problems found before the rules ran (an unknown session)."""


def cmd_create(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror session create``."""
    inventory = load(backend, args.json)
    switch = find_switch(inventory, args.switch) if args.switch else infer_switch(inventory, _port_refs(args))
    session = build_session(inventory, switch, new_session(switch), args)
    return _run(backend, args, inventory, _Plan("create", switch, SessionChange(ChangeOperation.ADD, session)))


def _existing(
    inventory: Inventory, args: argparse.Namespace, verb: str, operation: ChangeOperation
) -> tuple[_Plan, bool]:
    """The plan for a change of an existing session; ``True`` when the session was found."""
    switch = find_switch(inventory, args.switch) if args.switch else None
    sw, stored = find_session(inventory, switch, args.session)
    if stored is None or sw is None:
        text = args.session.strip()
        if sw is not None:
            message = (
                f"Switch {sw.name} has no session with key or name {text!r}; "
                f"`dvmirror sessions --switch {sw.name}` lists them."
            )
        else:
            message = f"No switch has a session with key or name {text!r}; `dvmirror sessions` lists them."
        problem = Problem("NotFound", message, "key")
        session = MirrorSession(key=args.session.strip(), session_type=None)
        return _Plan(verb, sw, SessionChange(operation, session), problems=[problem]), False
    return _Plan(verb, sw, SessionChange(operation, stored), stored=stored), True


def cmd_edit(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror session edit``."""
    if not _edit_given(args):
        raise UsageError("nothing to change: give at least one field (see `dvmirror session edit --help`)")
    inventory = load(backend, args.json)
    plan, found = _existing(inventory, args, "edit", ChangeOperation.EDIT)
    if found and plan.switch is not None and plan.stored is not None:
        session = build_session(inventory, plan.switch, plan.stored, args)
        plan.change = SessionChange(ChangeOperation.EDIT, session)
    return _run(backend, args, inventory, plan)


def _toggle(backend: Backend, args: argparse.Namespace, enabled: bool) -> int:
    inventory = load(backend, args.json)
    plan, found = _existing(inventory, args, "enable" if enabled else "disable", ChangeOperation.EDIT)
    if found and plan.stored is not None:
        plan.change = SessionChange(ChangeOperation.EDIT, plan.stored.with_changes(enabled=enabled))
    return _run(backend, args, inventory, plan)


def cmd_enable(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror session enable``."""
    return _toggle(backend, args, True)


def cmd_disable(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror session disable``."""
    return _toggle(backend, args, False)


def cmd_delete(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror session delete``."""
    inventory = load(backend, args.json)
    plan, _ = _existing(inventory, args, "delete", ChangeOperation.REMOVE)
    return _run(backend, args, inventory, plan)


# -- check, send, record, report ----------------------------------------------------------------


@dataclass
class _Result:
    """Everything the report shows."""

    plan: _Plan
    problems: list[Problem]
    dry_run: bool
    sent: bool = False
    unchanged: bool = False
    notes: list[str] = field(default_factory=list)
    upstream: list[str] = field(default_factory=list)
    capture_filter: str | None = None
    capture_command: str | None = None
    stored: MirrorSession | None = None
    message: str = ""
    """Why a change was refused or failed (the backend's words), if it was."""
    failure: BackendError | None = None
    """A connection or session failure while applying (printed on stderr; exit 3)."""
    recovered: str = ""
    """The connection failed after sending, and the re-read switch showed the change applied."""
    audit_error: str | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.message


def _run(backend: Backend, args: argparse.Namespace, inventory: Inventory, plan: _Plan) -> int:
    result = _Result(plan, list(plan.problems), dry_run=args.dry_run)
    change, switch = plan.change, plan.switch
    code = EXIT_OK
    if result.problems or switch is None:
        code = EXIT_PROBLEMS
    elif plan.stored is not None and change.operation is ChangeOperation.EDIT and change.session == plan.stored:
        result.unchanged = True
    else:
        result.problems = rules.check(inventory, switch.key, [change])
        if change.operation is not ChangeOperation.REMOVE:
            _explain(inventory, switch, change.session, result)
        if result.errors:
            code = EXIT_PROBLEMS
        elif not args.dry_run:
            code = _send(backend, inventory, switch, result)
    if args.json:
        emit_json(_result_json(result))
    else:
        _print_result(console(), backend, inventory, result)
    if result.failure is not None:
        report_error(result.failure)
    elif result.recovered:
        err_console().print(Text(f"dvmirror: {result.recovered}"))
    if result.audit_error:
        err_console().print(Text(f"dvmirror: {result.audit_error}"))
    return code


def _explain(inventory: Inventory, switch: Switch, session: MirrorSession, result: _Result) -> None:
    advice = advise(inventory, switch.key, session)
    result.notes, result.upstream = advice.notes, advice.upstream
    if not result.errors and advice.capture_command:
        result.capture_filter, result.capture_command = advice.capture_filter, advice.capture_command


def _send(backend: Backend, inventory: Inventory, switch: Switch, result: _Result) -> int:
    """``backend.apply`` the change, record it, and return the exit code."""
    change = result.plan.change
    warnings = [p for p in result.problems if p.severity is not Severity.ERROR]
    outcome, code = "ok", EXIT_OK
    applied: ApplyResult | None = None
    try:
        applied = backend.apply(inventory, switch.key, [change])
    except ReadOnlyError as e:
        result.message = str(e)
        hint = f" {e.hint}" if e.hint else ""
        result.problems = [Problem("ReadOnly", f"{e.message[:1].upper()}{e.message[1:]}.{hint}"), *warnings]
        outcome, code = "refused", e.exit_code
    except ChangeRefused as e:  # includes StaleSwitch (ConcurrentAccess)
        result.message = e.message
        refused = [p for p in e.problems if p.severity is Severity.ERROR] or [Problem(type(e).__name__, str(e))]
        result.problems = [*refused, *[p for p in e.problems if p.severity is not Severity.ERROR], *warnings]
        result.sent = e.sent
        outcome, code = ("fault" if e.sent else "refused"), e.exit_code
    except BackendError as e:  # the connection or the session failed: say what is known, exit 3
        result.message = e.message
        result.failure = e
        if isinstance(e, ChangeInterrupted):  # sent, then lost: recorded as the re-read switch shows it
            result.sent = True
            outcome = {False: "error", True: "ok", None: "unknown"}[e.applied]
            result.problems = [*e.problems, *warnings]
        else:
            outcome = "error"
            result.problems = [Problem(type(e).__name__, str(e)), *warnings]
        code = e.exit_code
    if applied is not None:
        result.sent = True
        result.recovered = applied.recovered
        key = applied.keys[0] if applied.keys else change.session.key
        if change.operation is ChangeOperation.ADD and key:
            result.plan.change = SessionChange(change.operation, change.session.with_changes(key=key))
        if change.operation is not ChangeOperation.REMOVE and key:
            result.stored = applied.switch.session(key)
        known = {(p.code, p.message) for p in result.problems}
        result.problems += [w for w in applied.warnings if (w.code, w.message) not in known]
    result.audit_error = audit.record_change(
        backend, inventory, switch.name, [result.plan.change], outcome, result.problems
    )
    return EXIT_FAULT if outcome == "fault" else code


def _result_json(result: _Result) -> dict[str, Any]:
    plan = result.plan
    return {
        "ok": result.ok,
        "problems": [p.to_json() for p in result.problems],
        "change": plan.change.to_api(plan.switch.name if plan.switch is not None else ""),
        "dry_run": result.dry_run,
        "sent": result.sent,
        "notes": result.notes,
        "upstream": result.upstream,
        "capture_filter": result.capture_filter,
        "capture_command": result.capture_command,
        "stored": result.stored.to_api() if result.stored is not None else None,
    }


# -- human output -------------------------------------------------------------------------------

_VERB_TITLES = {
    "create": "Create a session",
    "edit": "Edit session",
    "enable": "Enable session",
    "disable": "Disable session",
    "delete": "Delete session",
}
_DONE = {"create": "Created", "edit": "Changed", "enable": "Enabled", "disable": "Disabled", "delete": "Deleted"}


def _session_name(s: MirrorSession) -> str:
    return f"{s.key or '?'} ({s.name})" if s.name else str(s.key or "?")


def _problem_line(p: Problem) -> Text:
    where = f" [{API_NAMES.get(p.field, p.field)}]" if p.field else ""
    style = "bold red" if p.severity is Severity.ERROR else "yellow"
    line = Text(f"  {p.severity.value} ", style=style)
    line.append(f"{p.code}{where}: ", style="bold")
    line.append(p.message)
    return line


def _print_result(out: Console, backend: Backend, inventory: Inventory, result: _Result) -> None:
    plan = result.plan
    change, switch = plan.change, plan.switch
    s = change.session
    title = _VERB_TITLES[plan.verb]
    if plan.verb != "create":
        title += f" {_session_name(s)}"
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
            out.print(_problem_line(p))
    if warnings:
        out.print(Text("Warnings:", style="bold"))
        for p in warnings:
            out.print(_problem_line(p))
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
        if result.failure is not None:
            out.print(Text("Nothing was sent." if not result.sent else "The change failed.", style="bold red"))
        elif result.sent:
            out.print(Text("vCenter refused the change; nothing was changed.", style="bold red"))
        else:
            out.print(Text("Nothing was sent.", style="bold red"))
    elif result.dry_run:
        out.print(Text(f"Dry run: nothing was sent ({backend.label}).", style="bold"))
    elif result.sent and switch is not None:
        key = plan.change.session.key
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
    row["warnings"] = [p.to_json() for p in rules.session_warnings(inventory, switch.key, s)]
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


def cmd_sessions(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror sessions``: every session of every switch (or of one)."""
    inventory = load(backend, args.json)
    switches = [find_switch(inventory, args.switch)] if args.switch else _switches(inventory)
    pairs = [(sw, s) for sw in switches for s in sorted(sw.sessions, key=lambda x: natural_key(x.key or ""))]
    if args.json:
        emit_json([session_row(inventory, sw, s) for sw, s in pairs])
        return EXIT_OK
    out = console()
    if not pairs:
        where = f" on {switches[0].name}" if args.switch else ""
        out.print(Text(f"No port mirroring sessions{where}."))
        return EXIT_OK
    table = Table(box=None, header_style="bold", pad_edge=False, show_lines=False)
    for name in ("Switch", "Key", "Name", "Type", "Status", "Sources", "Destinations", "Options"):
        table.add_column(name, overflow="fold", no_wrap=name in ("Key", "Status"))
    warned: list[tuple[Switch, MirrorSession, list[Problem]]] = []
    for sw, s in pairs:
        sources, destinations = endpoint_labels(inventory, sw.key, s)
        table.add_row(
            Text(visible(sw.name)),
            Text(visible(s.key or ""), style="bold"),
            Text(visible(s.name or "(no name)")),
            Text(visible(s.type_label)),
            Text("enabled" if s.enabled else "disabled", style="green" if s.enabled else "dim"),
            Text("\n".join(map(visible, sources)) or "(none)"),
            Text("\n".join(map(visible, destinations)) or "(none)"),
            _options_text(s),
        )
        problems = rules.session_warnings(inventory, sw.key, s)
        if problems:
            warned.append((sw, s, problems))
    out.print(table)
    out.print(Text(f"{len(pairs)} session{'s' * (len(pairs) != 1)}", style="dim"))
    for sw, s, problems in warned:
        out.print(Text(f"Warnings of {_session_name(s)} on {sw.name}:", style="bold"))
        for p in problems:
            out.print(_problem_line(p))
    return EXIT_OK
