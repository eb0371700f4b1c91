"""From the flags of ``dvmirror session …`` to the change to check and send (a :class:`Plan`).

Pure: no output, no backend. A flag that cannot apply (removing what is not there) raises
:class:`EditError`; a PORT or session reference that is ambiguous raises
:class:`tui.lookup.RefError`. The CLI reports both as usage errors.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace
from typing import Any

from tui import rules
from tui.lookup import find_session, infer_switch, resolve_ref, split_direction
from tui.model import (
    ChangeOperation,
    Direction,
    Inventory,
    MirrorSession,
    Problem,
    SessionChange,
    SessionType,
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
    if verb == "create":
        sw = switch if switch is not None else infer_switch(inventory, port_refs(args))
        session = build_session(inventory, sw, new_session(sw), args)
        return Plan(verb, sw, SessionChange(ChangeOperation.ADD, session))
    found = _existing(inventory, switch, args.session, verb)
    if found.stored is None or found.switch is None or verb == "delete":
        return found
    if verb == "edit":
        session = build_session(inventory, found.switch, found.stored, args)
    else:
        session = found.stored.with_changes(enabled=verb == "enable")
    return replace(found, change=SessionChange(ChangeOperation.EDIT, session))


def _existing(inventory: Inventory, switch: Switch | None, ref: str, verb: str) -> Plan:
    """The plan for a change of an existing session (``stored`` is None when it was not found)."""
    operation = ChangeOperation.REMOVE if verb == "delete" else ChangeOperation.EDIT
    sw, stored = find_session(inventory, switch, ref)
    if stored is None or sw is None:
        text = ref.strip()
        if sw is not None:
            message = (
                f"Switch {sw.name} has no session with key or name {text!r}; "
                f"`dvmirror sessions --switch {sw.name}` lists them."
            )
        else:
            message = f"No switch has a session with key or name {text!r}; `dvmirror sessions` lists them."
        problem = Problem("NotFound", message, "key")
        session = MirrorSession(key=text, session_type=None)
        return Plan(verb, sw, SessionChange(operation, session), problems=[problem])
    return Plan(verb, sw, SessionChange(operation, stored), stored=stored)


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
            raise EditError(f"{ref!r} is not a source of this session")
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
        raise EditError(f"{what} is not in this session")
    _drop(items, value)


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
    if rules.effective_type(session) is SessionType.MIXED_DEST_MIRROR and getattr(args, "sampling_rate", None) is None:
        # The legacy type cannot carry samplingRate (vspan.md §2.2, V12): never send a stored one.
        session = session.with_changes(sampling_rate=None)
    return session
