"""From the flags of ``dvmirror session …`` to the change to check and send (a :class:`Plan`).

Pure: no output, no backend. A flag that cannot apply (removing what is not there) raises
:class:`EditError`; a PORT or session reference that is ambiguous raises
:class:`tui.lookup.RefError`. The CLI reports both as usage errors.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

from tui import rules, timebox
from tui.lookup import DIRECTIONS, ResolveError, find_session, infer_switch, resolve_port, resolve_ref, split_direction
from tui.model import (
    ChangeOperation,
    Direction,
    Inventory,
    MirrorSession,
    Problem,
    SessionChange,
    Switch,
    VspanPorts,
    new_session,
)


class EditError(ValueError):
    """A flag that cannot apply to the session (``--remove-dest`` of a port that is no destination)."""


@dataclass(frozen=True)
class Plan:
    """A change ready to check and send."""

    verb: str
    """create, edit, enable, disable or delete."""
    switch: Switch | None
    change: SessionChange
    stored: MirrorSession | None = None
    """The session as stored now (edit, enable, disable, delete)."""
    problems: list[Problem] = field(default_factory=list)
    """Problems found before the rules ran (an unknown session)."""


def plan(inventory: Inventory, switch: Switch | None, args: argparse.Namespace, verb: str) -> Plan:
    """The change ``verb`` (create, edit, enable, disable, delete) asks for, on ``switch`` (from
    ``--switch``) or the switch the ports (create) or the session (the others) identify."""
    check_directions(inventory, args)
    if verb == "create":
        sw = switch if switch is not None else infer_switch(inventory, port_refs(args))
        session = time_box(build_session(inventory, sw, new_session(sw), args), None, args)
        return Plan(verb, sw, SessionChange(ChangeOperation.ADD, session))
    found = _existing(inventory, switch, args.session, verb)
    if found.stored is None or found.switch is None or verb == "delete":
        return found
    if verb == "edit":
        session = time_box(build_session(inventory, found.switch, found.stored, args), found.stored, args)
    else:
        session = found.stored.with_changes(enabled=verb == "enable")
    return replace(found, change=SessionChange(ChangeOperation.EDIT, session))


def time_box(session: MirrorSession, stored: MirrorSession | None, args: argparse.Namespace) -> MirrorSession:
    """``session`` with the expiry ``--for`` / ``--no-for`` ask for (:mod:`tui.timebox`); an edit
    that gives a new ``--description`` and neither keeps the stored expiry."""
    if getattr(args, "for_", None) is not None:
        return timebox.with_expiry(session, timebox.now_utc() + args.for_)
    if getattr(args, "no_for", False):
        return timebox.with_expiry(session, None)
    kept = timebox.expiry(stored) if stored is not None else None
    if kept is not None and getattr(args, "description", None) is not None:
        return timebox.with_expiry(session, kept)
    return session


def _existing(inventory: Inventory, switch: Switch | None, ref: str, verb: str) -> Plan:
    """The plan for a change of an existing session (``stored`` is None when it was not found)."""
    operation = ChangeOperation.REMOVE if verb == "delete" else ChangeOperation.EDIT
    sw, stored = find_session(inventory, switch, ref)
    if stored is None or sw is None:
        session = MirrorSession(key=ref.strip(), session_type=None)
        return Plan(verb, sw, SessionChange(operation, session), problems=[unknown_session(sw, ref)])
    return Plan(verb, sw, SessionChange(operation, stored), stored=stored)


def unknown_session(sw: Switch | None, ref: str) -> Problem:
    """The ``NotFound`` problem (field ``key``) of a ``--session`` that names no session (on ``sw``)."""
    text = ref.strip()
    if sw is not None:
        message = (
            f"Switch {sw.name} has no session with key or name {text!r}; "
            f"`dvmirror sessions --switch {sw.name}` lists them."
        )
    else:
        message = f"No switch has a session with key or name {text!r}; `dvmirror sessions` lists them."
    return Problem("NotFound", message, "key")


_ENDS = ("source_rx", "source_tx", "destination")
"""The endpoint lists of a session (attributes of :class:`MirrorSession`)."""
_PARTS = tuple(f.name for f in fields(VspanPorts))
"""What each holds (attributes of :class:`VspanPorts`): port keys, uplink names, VLANs, ..."""


class _Lists:
    """Mutable copies of a session's endpoint lists: ``lists("source_rx", "vlans")``."""

    def __init__(self, s: MirrorSession) -> None:
        self._lists = {end: {part: list(getattr(getattr(s, end), part)) for part in _PARTS} for end in _ENDS}

    def __call__(self, end: str, part: str) -> list[Any]:
        return self._lists[end][part]

    def clear(self, *ends: str, parts: tuple[str, ...] = _PARTS) -> None:
        for end in ends:
            for part in parts:
                self._lists[end][part].clear()

    def _sides(self, kind: str) -> tuple[list[Any], list[Any]]:
        part = "port_keys" if kind == "port" else "uplink_names"
        return self("source_rx", part), self("source_tx", part)

    def source(self, kind: str, value: str, direction: Direction) -> None:
        """Add a source (or set its direction)."""
        rx, tx = self._sides(kind)
        _drop(rx, value)
        _drop(tx, value)
        if direction in (Direction.BOTH, Direction.INGRESS):
            rx.append(value)
        if direction in (Direction.BOTH, Direction.EGRESS):
            tx.append(value)

    def remove_source(self, kind: str, value: str, ref: str) -> None:
        rx, tx = self._sides(kind)
        if value not in rx and value not in tx:
            raise EditError(f"{ref!r} is not a source of this session")
        _drop(rx, value)
        _drop(tx, value)

    def session(self, base: MirrorSession) -> MirrorSession:
        ends = {end: VspanPorts(**{p: tuple(v) for p, v in parts.items()}) for end, parts in self._lists.items()}
        return base.with_changes(**ends)


def _drop(items: list[Any], value: Any) -> None:
    while value in items:
        items.remove(value)


def _add(items: list[Any], value: Any) -> None:
    if value not in items:
        items.append(value)


def _remove(items: list[Any], value: Any, what: str) -> None:
    if value not in items:
        raise EditError(f"{what} is not in this session")
    _drop(items, value)


def _edit_list(
    items: list[Any], args: argparse.Namespace, flag: str, clean: Callable[[Any], Any], what: Callable[[Any], str]
) -> None:
    """``--FLAG`` replaces ``items``, ``--add-FLAG`` adds to them, ``--remove-FLAG`` removes (values ``clean``ed)."""
    given = getattr(args, flag, None)
    if given is not None:
        items.clear()
    for value in [*(given or ()), *getattr(args, "add_" + flag, ())]:
        _add(items, clean(value))
    for value in getattr(args, "remove_" + flag, ()):
        _remove(items, clean(value), what(value))


def _names_something(inventory: Inventory, text: str) -> bool:
    """Whether ``text`` as a whole is a port, VM or VM/NIC on some switch (a VM may have ``:`` in
    its name), or an uplink name."""
    try:
        resolve_port(inventory, text)
    except ResolveError as e:
        return bool(e.candidates) or any(text in sw.uplink_names for sw in inventory.switches.values())
    return True


def direction_error(inventory: Inventory, text: str) -> str | None:
    """Why ``--source TEXT`` has a wrong direction (``448:sideways``), or ``None``.

    Only a known word after the last ``:`` is a direction (:data:`tui.lookup.DIRECTIONS`); any
    other word there is reported as a wrong direction, not as a port that does not exist, unless
    the whole text names something (a VM called ``web:1``).
    """
    ref, sep, tail = text.rpartition(":")
    word = tail.strip()
    if (
        not sep
        or not ref.strip()
        or not word
        or word.lower() in DIRECTIONS
        or _names_something(inventory, text.strip())
    ):
        return None
    port = ref.strip()
    return (
        f"--source {text.strip()!r}: {word!r} is not a direction; use {port}:ingress, {port}:egress or "
        f"{port}:both (also in/rx, out/tx; without one: both)"
    )


def check_directions(inventory: Inventory, args: argparse.Namespace) -> None:
    """:class:`EditError` for a source whose direction is not one (``448:sideways``), or a
    destination given one (a destination has none)."""
    for name in ("source", "add_source", "remove_source"):
        for text in getattr(args, name, None) or ():
            problem = direction_error(inventory, text)
            if problem:
                raise EditError(problem.replace("--source", "--" + name.replace("_", "-"), 1))
    for name in ("dest", "add_dest", "remove_dest"):
        for text in getattr(args, name, None) or ():
            ref, direction = split_direction(text)
            if ref != text.strip() and not _names_something(inventory, text.strip()):
                flag = "--" + name.replace("_", "-")
                raise EditError(
                    f"{flag} {text.strip()!r}: a destination has no direction ({direction.value} is for "
                    f"sources); give {flag} {ref}"
                )


def port_refs(args: argparse.Namespace) -> list[str]:
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

    lists = _Lists(base)
    vlans = lists("source_rx", "vlans")
    dest, uplinks, ips = (lists("destination", part) for part in ("port_keys", "uplink_names", "ip_addresses"))

    def ref(text: str) -> tuple[str, str]:
        return resolve_ref(inventory, switch, text)

    if getattr(args, "clear_sources", False):
        lists.clear("source_rx", "source_tx")
    if getattr(args, "clear_dests", False):
        lists.clear("destination")
    if args.source is not None:
        lists.clear("source_rx", "source_tx", parts=("port_keys", "uplink_names"))
        for text in args.source:
            port_ref, direction = split_direction(text)
            lists.source(*ref(port_ref), direction)
    for text in getattr(args, "add_source", ()):
        port_ref, direction = split_direction(text)
        lists.source(*ref(port_ref), direction)
    for text in getattr(args, "remove_source", ()):
        port_ref, _ = split_direction(text)
        lists.remove_source(*ref(port_ref), port_ref)
    _edit_list(vlans, args, "source_vlan", lambda v: v, lambda v: f"source VLAN {v}")
    if args.dest is not None:
        dest.clear()
    for text in [*(args.dest or ()), *getattr(args, "add_dest", ())]:
        kind, value = ref(text)
        _add(dest if kind == "port" else uplinks, value)
    for text in getattr(args, "remove_dest", ()):
        kind, value = ref(text)
        _remove(dest if kind == "port" else uplinks, value, f"destination {text!r}")
    _edit_list(uplinks, args, "dest_uplink", str.strip, lambda name: f"destination uplink {name!r}")
    _edit_list(ips, args, "dest_ip", str.strip, lambda ip: f"destination IP {ip!r}")

    session = lists.session(base.with_changes(**changes))
    t = rules.effective_type(session)
    if t is not None and "sampling_rate" in t.spec.refuses and getattr(args, "sampling_rate", None) is None:
        # The legacy type cannot carry samplingRate (vspan.md §2.2, V12, SESSION_TYPES): never send a stored one.
        session = session.with_changes(sampling_rate=None)
    return session
