"""Validate mirror-session changes against an :class:`~tui.model.Inventory`: a batch judged as one.

Pure Python: no Textual, no pyVmomi. The rules are those of ``reference/vspan.md`` that can be
checked on the client; every rule carries a comment naming its origin (``V1`` … ``V28`` =
vspan.md §4, ``§2.2``/``§3`` = the type matrix and the value ranges, ``§10.n`` = a conflict note).
This module holds the batch (operations, keys, the post-batch state) and the conflicts between
its sessions; the rules of one session are in :mod:`tui.rules_errors` (what vCenter refuses)
and :mod:`tui.rules_warnings` (what it accepts but mirrors wrongly), on the common ground of
:mod:`tui.rules_base`. Every public name of those modules is also importable from here.

Public API
----------
``check(inventory, switch_key, changes)``
    Every problem of a batch of changes, judged against the switch's sessions *as they will be
    after the whole batch* (vCenter treats one ``ReconfigureDvs_Task`` as all-or-nothing).
    Errors (what vCenter would refuse) block; warnings are shown and allowed.
``session_warnings(inventory, switch_key, session)``
    The warnings of an existing session, for the sessions screen (no key/operation rules).

The advice about a valid session (positive notes, what the physical network must allow) is in
:mod:`tui.describe`; it shares :class:`SwitchView`, :func:`session_text` and :func:`effective_type`.

Error codes are vCenter's fault names, so a problem found here reads like the fault vCenter
would return:

=================================  =====================================================  ==================
Code                               When                                                   Rule
=================================  =====================================================  ==================
``InvalidArgument``                wrong list for the type, value out of range, bad IP,   V6 V7 V8 V11–V14
                                   name too long, unknown type, key on add, no key on     V16 V25 §2.2 §3
                                   edit/remove, one key twice in a batch
``NotFound``                       unknown switch, port key, uplink name or session key   V9 V10 V15
``VspanSameSessionPortConflict``   a port is both a source and the destination of one     V1 V2
                                   session
``VspanPortConflict``              an egress (Tx) source of one session is the            V3 (see §10.1)
                                   destination of another
``VspanDestPortConflict``          one destination port in two sessions                   V4
``NotSupported``                   the switch has no port mirroring, or not this session  §1.5 §5.6
                                   type, or no ERSPAN
=================================  =====================================================  ==================

Warning codes are the app's own (vCenter accepts these sessions): see :data:`WARNING_CODES`; so are
the guard rails' (:data:`GUARD_CODES`: sessions vCenter accepts that do harm, an error where the
evidence says so).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from tui.model import ChangeOperation, Inventory, MirrorSession, Problem, SessionChange, Severity
from tui.rules_base import ERSPAN_COS_MAX as ERSPAN_COS_MAX
from tui.rules_base import ERSPAN_ID_MAX as ERSPAN_ID_MAX
from tui.rules_base import NAME_MAX as NAME_MAX
from tui.rules_base import PACKET_LENGTH_MAX as PACKET_LENGTH_MAX
from tui.rules_base import PACKET_LENGTH_MIN as PACKET_LENGTH_MIN
from tui.rules_base import PACKET_LENGTH_WARN as PACKET_LENGTH_WARN
from tui.rules_base import SAMPLING_MAX as SAMPLING_MAX
from tui.rules_base import SAMPLING_MIN as SAMPLING_MIN
from tui.rules_base import VLAN_MAX as VLAN_MAX
from tui.rules_base import Findings, SwitchView, uniq
from tui.rules_base import effective_type as effective_type
from tui.rules_base import session_text as session_text
from tui.rules_errors import ERROR_CODES as ERROR_CODES
from tui.rules_errors import _accepts_text as _accepts_text
from tui.rules_errors import session_errors
from tui.rules_guards import GUARD_CODES as GUARD_CODES
from tui.rules_guards import guard_session
from tui.rules_warnings import WARNING_CODES as WARNING_CODES
from tui.rules_warnings import warn_session

# -- cross-session conflicts -----------------------------------------------------------------


@dataclass(eq=False)
class _Entry:
    """A session in the post-batch state; ``changed`` when the batch adds or edits it."""

    session: MirrorSession
    changed: bool


def _egress_loop(ctx: SwitchView, key: str, fld: str, sa: MirrorSession, sb: MirrorSession, out: Findings) -> None:
    """V3: port ``key`` is in list ``fld`` of ``sa`` (egress sources or destination) and in the other of ``sb``."""
    roles = ("an egress source", "the destination")
    mine, theirs = roles if fld == "source_tx" else roles[::-1]
    out.error(
        "VspanPortConflict",
        fld,
        f"{ctx.port_text(key)} is {mine} of {session_text(sa)} and {theirs} of {session_text(sb)}; vCenter refuses "
        "a port that is both, because mirrored traffic would loop back into a mirror.",
    )


def _check_conflicts(ctx: SwitchView, state: Sequence[_Entry], out: Findings) -> None:
    """V3 and V4, for every pair of sessions in which at least one is added or edited."""
    for a in state:
        if not a.changed:
            continue
        for b in state:
            if b is a:
                continue
            sa, sb = a.session, b.session
            # V3: the egress source of one session is the destination of another → VspanPortConflict
            # (QA vspan Neg008, Neg024). §10.1: a 2013 VDNet test created this loop on a typed session
            # and expected success, so vCenter 5.1+ may accept it. We keep it an ERROR: the QA evidence is
            # direct, the loop mirrors mirrored traffic back into itself, and the message says why.
            for key in uniq(sa.source_tx.port_keys):
                if key in sb.destination.port_keys:
                    _egress_loop(ctx, key, "source_tx", sa, sb, out)
            for key in uniq(sa.destination.port_keys):
                if key in sb.source_tx.port_keys:
                    _egress_loop(ctx, key, "destination", sa, sb, out)
                if key in sb.destination.port_keys:
                    # V4: one destination in two sessions → VspanDestPortConflict (QA vspan Neg032).
                    out.error(
                        "VspanDestPortConflict",
                        "destination",
                        f"{ctx.port_text(key)} is already the destination of {session_text(sb)}; a port can "
                        "be the destination of only one session.",
                    )


# -- public API ------------------------------------------------------------------------------


def check(
    inventory: Inventory,
    switch_key: str,
    changes: Sequence[SessionChange],
    *,
    allow_list: Collection[str] | None = None,
) -> list[Problem]:
    """Every problem of ``changes`` on switch ``switch_key``, errors first.

    The sessions are judged as they will be after the whole batch: an add and an edit in one
    batch conflict with each other, a removed session conflicts with nothing. ``allow_list`` is
    config.toml's ``allowed_sessions`` (``None``: not configured) for the guard rails
    (:mod:`tui.rules_guards`).
    """
    switch = inventory.switches.get(switch_key)
    if switch is None:
        return [Problem("NotFound", f"There is no distributed switch with key {switch_key}.", "", Severity.ERROR)]
    ctx = SwitchView(inventory, switch)
    out = Findings()
    state = [_Entry(s, False) for s in switch.sessions]
    seen_keys: set[str] = set()
    untyped = False
    for change in changes:
        s = change.session
        try:
            op = ChangeOperation(change.operation)
        except ValueError:
            # V13: an operation other than add/edit/remove → InvalidArgument (QA vspan Neg004).
            out.error("InvalidArgument", "", f"'{change.operation}' is not an operation; use add, edit or remove.")
            continue
        if op is ChangeOperation.ADD:
            if s.key:
                # §5.1/§9.2: vCenter generates the key; an add never carries one.
                out.error(
                    "InvalidArgument",
                    "key",
                    f"A new session must not have a key (it has '{s.key}'); vCenter assigns one. "
                    "To change an existing session, edit it.",
                )
            state.append(_Entry(s, True))
        else:
            verb = op.value
            if not s.key:
                # V14/§9.2: edit (and remove) without a key → InvalidArgument (QA vspan Neg011).
                out.error("InvalidArgument", "key", f"To {verb} a session, vCenter needs its key; this one has none.")
                continue
            if s.key in seen_keys:
                # V16: the same session key twice in one ReconfigureDvs_Task → InvalidArgument (QA Neg029).
                out.error(
                    "InvalidArgument",
                    "key",
                    f"Session {s.key} is changed more than once in this batch; vCenter accepts one change per "
                    "session at a time.",
                )
                continue
            seen_keys.add(s.key)
            index = next((i for i, e in enumerate(state) if e.session.key == s.key), None)
            if index is None:
                # V15: edit/remove of a key that does not exist → NotFound (QA vspan Neg012, Neg027).
                out.error(
                    "NotFound",
                    "key",
                    f"Switch {switch.name} has no session with key {s.key}; it may have been deleted meanwhile. "
                    "Refresh and try again.",
                )
                continue
            if op is ChangeOperation.REMOVE:
                del state[index]
                continue
            stored = state[index].session
            if stored.encapsulation_vlan_id is not None and s.encapsulation_vlan_id is None:
                # §5.2/§10.5: vCenter merges an edit into the stored session and has no "unset"
                # value for the encapsulation VLAN, so an edit cannot remove it.
                out.warn(
                    "EditCannotClear",
                    "encapsulation_vlan_id",
                    f"vCenter merges an edit into the stored session, so the encapsulation VLAN "
                    f"{stored.encapsulation_vlan_id} of {session_text(stored)} stays. To remove it, delete the "
                    "session and create it again without one.",
                )
            state[index] = _Entry(s, True)
        untyped = untyped or not s.session_type
        session_errors(ctx, s, out)
    _check_conflicts(ctx, state, out)
    for e in state:
        if e.changed:
            guard_session(ctx, e.session, out, allow_list)
            warn_session(ctx, e.session, [o.session for o in state if o is not e], out)
    if untyped and "dvPortMirror" in switch.capability.session_types:
        # §10.3: the app should always set sessionType on 5.1+ switches.
        out.warn(
            "SessionTypeUnset",
            "session_type",
            "No session type is set, so vCenter will create a Distributed Port Mirroring (legacy) session. "
            "Choose a session type.",
        )
    return out.sorted()


def session_warnings(
    inventory: Inventory, switch_key: str, session: MirrorSession, *, allow_list: Collection[str] | None = None
) -> list[Problem]:
    """The warnings of an existing ``session`` on switch ``switch_key`` (for the sessions screen),
    with its guard rails (a VMkernel loop stays an error: it is doing harm now)."""
    switch = inventory.switches.get(switch_key)
    if switch is None:
        return []
    ctx = SwitchView(inventory, switch)
    out = Findings()
    others = [o for o in switch.sessions if o is not session and (session.key is None or o.key != session.key)]
    guard_session(ctx, session, out, allow_list)
    warn_session(ctx, session, others, out)
    return out.sorted()
