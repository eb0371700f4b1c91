"""Port-mirroring session commands of the CLI (DESIGN.md §10): ``sessions`` and ``session …``.

This docstring is the contract of the commands; the modules of the package hold one idea each:
:mod:`.parser` (the flags), :mod:`.edit` (flags → the change), :mod:`.commands` (load, check,
send through :func:`tui.outcome.apply_and_audit`) and :mod:`.output` (human and JSON output).
PORT, switch and session references are resolved by :mod:`tui.lookup`.

Commands
--------
``dvmirror sessions [--switch S] [--json]``
    Every mirror session of every switch (or of one). The table shows switch, key, name, type
    (vSphere Client name), status, sources (``448 · F5-LTM01 / Network adapter 2 (ingress+egress)``,
    ``VLAN 1100``), destinations (ports resolved the same way, ``uplink dvUplink4``,
    ``IP 192.0.2.10``), the encapsulation VLAN, packet length and sampling, and below it each
    session's warnings with their codes. An empty list is not an error (exit 0).

``dvmirror sessions --check [--switch S] [--json]``
    Every session's problems: drift since the session was first seen (:mod:`tui.drift`:
    ``EndpointGone``, ``EndpointChanged``, ``EndpointMoved``, ``EndpointHostChanged``,
    ``SessionChanged``) and the rules' warnings (:func:`tui.rules.session_warnings`). The
    baselines are read from and recorded in the file of :mod:`tui.drift_store` (keyed by the
    SDK URL, the switch key and the session key; the demo lab and snapshots: in memory, so
    only the rules speak). A new session is recorded as it is; an edited one is recorded again
    with one ``SessionChanged`` note; a deleted one is forgotten (only on the switches checked).
    Exit 1 when any session has a problem of severity warning or error (every rule warning,
    ``EndpointGone``, ``EndpointChanged``, ``EndpointMoved``, and ``EndpointHostChanged`` when the
    vMotion split a same-host pair); the info notes (``SessionChanged``, ``EndpointHostChanged``
    that split nothing) do not count. 0 otherwise (also without any session). The human output
    lists each session (``ok`` or ``N problems``) with its problems below it, then a summary line;
    what happened to the baselines file (set aside as corrupt, not writable) is said on standard
    error (and in ``notice``), and does not change the exit code.

``dvmirror sessions --history [--switch S] [--since WHEN] [--json]``
    The changes of the sessions of every switch (or of one), oldest first (:mod:`.history`,
    :mod:`tui.history`): on vCenter, each entry of the ``vspanConfigSpec`` of a
    ``DvsReconfiguredEvent`` of the switch (read with an ``EventHistoryCollector``,
    :mod:`tui.backends._events`), with the time, the user, the operation, the session (key and
    name; an add's key and a remove's name as :mod:`tui.history` resolves them) and what it changed
    (an edit of a session whose earlier state the history holds: the fields changed, ``enabled:
    true → false``; else the fields it set). Entries that dvmirror's audit log matches (same
    vCenter, switch, user, operation, session and content, within seconds) are marked ``dvmirror``
    (``ours``); audit entries that match no event (a change refused or failed, or an event vCenter
    no longer keeps) are listed too, as ``dvmirror (RESULT)``. ``--since`` is a duration back from
    now (``30m``, ``2h``, ``7d``, ``1w``, ``90s``) or an ISO 8601 date or date and time
    (``2026-11-28``, ``2026-11-28T06:00Z``, ``…+01:00``; without an offset: UTC); default: the last 7
    days. Anything else, a time in the future, or ``--since`` without ``--history`` is a usage error
    (exit 2). The table shows local time with its UTC offset; every text from vCenter is escaped.
    On the demo lab and snapshots, which have no vCenter events, the history is this run's changes
    (said above the table). An empty history is not an error (exit 0); an unknown switch is exit
    2, a connection or login failure exit 3.

``dvmirror session create|edit|enable|disable|delete [--dry-run] [--json] ...``
    Build one change, check it with :func:`tui.rules.check`, and send it (unless ``--dry-run``).
    ``verify`` (below) reads counters and changes nothing.

Selecting the switch and the session
    ``--switch S`` (name or UUID) may be left out when the ports make the switch unambiguous:
    the switch is the only one on which every PORT that names something is found. A PORT that
    matches on several switches (port keys repeat between switches) with nothing else to tell
    them apart, or ports on different switches, is a usage error (exit 2) asking for
    ``--switch``. A create without any PORT needs ``--switch`` unless there is only one switch.
    ``--session NAME_OR_KEY`` (edit, enable, disable, delete, verify) is a session key as listed by
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
    (exit 1). A word after the last ``:`` that is no direction (``448:sideways``) is a usage
    error naming the direction, unless the whole text names a VM (``web:1``); so is a
    direction on a destination (``--dest 2258:ingress``).

Empty sessions
    A create or edit that leaves the session with no source or no destination (it mirrors
    nothing; vCenter accepts it) is refused: the rules' ``NoSource`` / ``NoDestination``
    warnings become errors (exit 1, nothing sent) unless ``--allow-empty`` confirms it
    (:mod:`tui.completeness`). Enable, disable and delete are not refused.

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

``dvmirror session verify --session NAME_OR_KEY [--switch S] [--seconds N] [--json]``
    Changes nothing (so read-only mode does not matter): does the session deliver? The session
    is found as for ``edit`` (a session that does not exist: exit 1, ``NotFound``). Its source
    and destination ports (:func:`tui.verify.plan`; uplink destinations by name are the uplink
    ports of the sources' hosts) are read at the start, every :data:`tui.verify.SAMPLE_EVERY`
    seconds and at the end of a window of N seconds (default 10, from 1 to 600; anything else,
    ``nan``, ``inf``, text, is a usage error, exit 2), one ``backend.port_statistics`` call per
    reading (``RefreshDVPortState`` + ``FetchDVPorts`` of those ports only). Then
    :func:`tui.verify.judge` compares what the sources carried in the mirrored directions (after
    sampling rate and mirrored packet length) with what each destination was sent, and gives a
    verdict: ``mirroring`` (exit 0), ``nothing-to-mirror``, ``not-delivered``, ``dropped`` or
    ``inconclusive`` (exit 1), with reasons (the rules' warnings that explain it, most likely
    first, :func:`tui.rules.session_warnings`) and advice. The human output prints the session
    (key, name, switch, type, status, ports to read) before the window, then the side-by-side
    table (:func:`tui.verify.table_rows`; on a narrow terminal a port label takes two lines), the
    verdict and its summary, the reasons and the advice. A progress bar with the seconds left is
    drawn on standard error only when it is a terminal (``--json`` included); scripts get nothing
    on standard error. ctrl+c ends the window between readings: no verdict, ``dvmirror:
    interrupted after …`` on standard error, exit 130. A connection or session failure while
    sampling: the error on standard error, exit 3 (its exit code, as for a change), and with
    ``--json`` the result is still printed with a null verdict.

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

``sessions --check --json``: ``{"ok": bool, "notice": str, "sessions": [...]}``, each session a row
of ``sessions --json`` with ``problems`` (``{"code", "severity", "field", "message"}``, severity
``warning``, ``error`` or ``info``; warnings first); ``ok`` is false exactly when the exit code is 1.

``sessions --history --json``: a list of changes, oldest first, each::

    {"time": "2026-11-28T06:09:07Z" (UTC), "user", "operation": "add|edit|remove", "switch": NAME,
     "key": str | null, "name", "change": str (the table's text), "fields": [API names the spec set],
     "ours": bool, "source": "event|audit|run", "result": "ok" (events; an audit entry's result),
     "event": vCenter's event key | null, "message": the event's fullFormattedMessage,
     "session": {API fields: the session after the change as far as the history knows it} | null}

``session … --json``: one object::

    {"ok": bool, "problems": [{"code", "severity", "field", "message"}],
     "change": {"operation": "add|edit|remove", "switch": NAME, "session": {API fields}},
     "dry_run": bool, "sent": bool, "notes": [str], "upstream": [str],
     "capture_filter": str | null, "capture_command": str | null, "stored": {API fields} | null}

``ok`` is true when the change was applied (or, with ``--dry-run``, would be sent; or changes
nothing). ``problems`` holds errors first, then warnings (``severity``); ``field`` is the vSphere API
name of the field concerned, as the text output shows it in brackets (``destinationPort``,
``samplingRate``; ``key`` for an unknown session; ``""`` for none); codes are vCenter's fault
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

``session verify --json``: one object::

    {"ok": bool, "problems": [{"code", "severity", "field", "message"}],
     "session": {as a row of ``sessions --json``},
     "verdict": "mirroring|nothing-to-mirror|not-delivered|dropped|inconclusive" | null,
     "summary": str, "reasons": [{"code", "message"}], "advice": [str], "seconds": float,
     "expected": {"pps", "bps"} | null,
     "sources": [PORT], "destinations": [PORT], "samples": [[{"port", "readAt", "counters"}]]}

``ok`` is true when the verdict is ``mirroring``. ``problems`` holds only what prevented a verdict:
``NotFound`` (field ``key``; ``session`` is then ``{"key": the text given, "name": "", "switch":
NAME or ""}``), a failure while sampling (the error's class name: ``ConnectionFailed``,
``SessionExpired``, ``BackendError`` for a server without ``RefreshDVPortState``) or
``Interrupted``; the verdict is then null and ``samples`` holds the readings made. The rest is
:meth:`tui.verify.VerifyResult.to_json`: each PORT is ``{"port", "role" (``source (received)``,
``source (sent)``, ``source (both)``, ``destination``), "label", "status" (``ok``, ``reset``,
``vanished``, ``new``, ``no-interval``), "seconds", "mirrored" {"pps", "bps"} (sources: what the
session mirrors of them; destinations: what they were sent), "due" {"pps", "bps"} (destinations:
what the session should deliver there), "rates" {counter: per second}}``; each reading of
``samples`` lists the ports read with ``readAt`` (seconds since the epoch) and the 18 counters by
their API names (``packetsInUnicast`` …).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from tui.cli_sessions import commands, parser


def add_commands(
    command: Callable[..., argparse.ArgumentParser], finish: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Add ``sessions`` and ``session create|edit|enable|disable|delete|verify`` (hook of ``tui.__main__``)."""
    parser.add_commands(command, finish, commands.HANDLERS)
