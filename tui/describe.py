"""Describing a mirror session to an operator (pure): its fields in the vSphere API's words with
endpoints resolved, and the advice beside its problems.

The advice is :func:`notes` (what is right about it: "source and destination share host
esx-03"), :func:`upstream_requirements` (what the physical network must allow when mirrored
traffic leaves the host) and the capture suggestion, gathered by :func:`advise`. The problems
themselves are :mod:`tui.rules`'. Shared by the CLI's output and the TUI's review and sessions
screens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tui import capture
from tui.model import API_NAMES, Inventory, MirrorSession, SessionType, Switch, VspanPorts
from tui.rules import SwitchView, effective_type, session_text


@dataclass(frozen=True, slots=True)
class Advice:
    """What to tell an operator about a session besides its problems."""

    notes: list[str]
    """Positive notes: shared host, VLAN carried, ..."""
    upstream: list[str]
    """What the physical network must allow."""
    capture_filter: str
    """tcpdump filter for the destination ('' when none can be given)."""
    capture_command: str


def advise(inventory: Inventory, switch_key: str, session: MirrorSession) -> Advice:
    """Notes, upstream requirements and the capture suggestion for ``session``."""
    try:
        flt = capture.capture_filter(inventory, switch_key, session)
        command = capture.capture_command(inventory, switch_key, session)
    except ValueError:  # a value tcpdump cannot take (the rules flag bad IPs): no suggestion
        flt = command = ""
    return Advice(
        notes(inventory, switch_key, session),
        upstream_requirements(inventory, switch_key, session),
        flt,
        command,
    )


def _uniq(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _join(items: Iterable[object]) -> str:
    return ", ".join(str(i) for i in items)


def uplink_range(names: Sequence[str]) -> str:
    """``dvUplink1–dvUplink4`` for a consecutive run of numbered uplinks, else a comma list."""
    names = list(names)
    if len(names) <= 2:
        return " and ".join(names)
    parts = [re.fullmatch(r"(.*?)(\d+)", n) for n in names]
    if all(parts):
        prefixes = {m.group(1) for m in parts if m}
        nums = [int(m.group(2)) for m in parts if m]
        if len(prefixes) == 1 and nums == list(range(nums[0], nums[0] + len(nums))):
            return f"{names[0]}–{names[-1]}"
    return ", ".join(names)


def notes(inventory: Inventory, switch_key: str, session: MirrorSession) -> list[str]:
    """Positive notes for the wizard: what is right about ``session``, in plain sentences."""
    switch = inventory.switches.get(switch_key)
    if switch is None:
        return []
    ctx = SwitchView(inventory, switch)
    t = effective_type(session)
    out: list[str] = []
    if t in (SessionType.DV_PORT_MIRROR, SessionType.MIXED_DEST_MIRROR):
        src_hosts = {p.host for k in session.sources() if (p := ctx.port(k)) is not None and p.host}
        dst_hosts = {p.host for k in session.destination.port_keys if (p := ctx.port(k)) is not None and p.host}
        if src_hosts and dst_hosts and len(src_hosts | dst_hosts) == 1:
            out.append(f"Source and destination share host {ctx.host_name(next(iter(src_hosts)))}.")
    if t is SessionType.DV_PORT_MIRROR:
        out.append(
            "Encapsulation does not apply to Distributed Port Mirroring: frames are copied to the destination "
            "port on the same host, so no mirror VLAN is needed."
        )
    enc = session.encapsulation_vlan_id
    if t in (SessionType.MIXED_DEST_MIRROR, SessionType.REMOTE_MIRROR_SOURCE) and enc:
        how = (
            "replacing their original VLAN"
            if session.strip_original_vlan
            else "keeping their original VLAN inside (double tag)"
        )
        out.append(f"Mirrored frames are tagged with VLAN {enc}, {how}.")
        for key in _uniq(session.destination.port_keys):
            pg = ctx.portgroup(ctx.port(key))
            if pg is not None and not pg.uplink and pg.vlan.carries(enc):
                out.append(f"Destination portgroup {pg.name} carries VLAN {enc}.")
        for pg in ctx.uplink_portgroups():
            if pg.vlan.carries(enc):
                out.append(f"The uplink portgroup {pg.name} trunks VLAN {enc}.")
    if t is SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE and session.destination.ip_addresses:
        kind = {"erspan2": "ERSPAN type II", "erspan3": "ERSPAN type III"}.get(session.encap_type or "", "GRE")
        out.append(f"Mirrored frames are sent as {kind} to {_join(_uniq(session.destination.ip_addresses))}.")
    # V5: sharing sources with other sessions is fine.
    for o in switch.sessions:
        if session.key is not None and o.key == session.key:
            continue
        shared = [k for k in session.sources() if k in o.sources()]
        if shared:
            ports = _join(shared)
            out.append(
                f"Port{'s' if len(shared) > 1 else ''} {ports} {'are' if len(shared) > 1 else 'is'} also a source of "
                f"{session_text(o)}; a port can be a source of several sessions."
            )
    return out


def upstream_requirements(inventory: Inventory, switch_key: str, session: MirrorSession) -> list[str]:
    """What the physical network must allow for ``session``'s mirrored traffic, in plain sentences.

    Empty when the traffic stays inside a host (Distributed Port Mirroring, or a legacy session
    without encapsulation VLAN or uplink destination).
    """
    switch = inventory.switches.get(switch_key)
    if switch is None:
        return []
    t = effective_type(session)
    enc = session.encapsulation_vlan_id
    all_uplinks = uplink_range(switch.uplink_names) or "the uplinks"
    out: list[str] = []

    def trunk(vlans: str, behind: str, why: str) -> str:
        return (
            f"The physical switch ports behind {behind} must trunk VLAN{'s' if ',' in vlans else ''} {vlans} "
            f"(e.g. `switchport trunk allowed vlan add {vlans}`){why}."
        )

    if t is SessionType.REMOTE_MIRROR_SOURCE and enc:
        behind = uplink_range(_uniq(session.destination.uplink_names)) or all_uplinks
        out.append(trunk(str(enc), behind, ""))
        out.append(
            f"VLAN {enc} must reach the RSPAN destination across the physical network and should carry "
            f"nothing but mirrored traffic (on Cisco: `vlan {enc}` with `remote-span`)."
        )
    elif t is SessionType.MIXED_DEST_MIRROR and enc:
        behind = uplink_range(_uniq(session.destination.uplink_names)) or all_uplinks
        why = (
            ""
            if session.destination.uplink_names
            else ", so that mirrored frames can reach a destination on another host"
        )
        out.append(trunk(str(enc), behind, why))
    elif t is SessionType.MIXED_DEST_MIRROR and session.destination.uplink_names:
        behind = uplink_range(_uniq(session.destination.uplink_names))
        out.append(
            f"The physical switch ports behind {behind} receive the mirrored frames with their original VLAN "
            "tags; they must accept those VLANs (or set an encapsulation VLAN)."
        )
    elif t is SessionType.REMOTE_MIRROR_DEST and session.source_rx.vlans:
        vlans = ",".join(str(v) for v in _uniq(str(v) for v in session.source_rx.vlans))
        out.append(trunk(vlans, all_uplinks, ", so that the RSPAN traffic reaches this switch"))
    elif t is SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE and session.destination.ip_addresses:
        ips = _join(_uniq(session.destination.ip_addresses))
        out.append(
            f"The network between the ESXi hosts' VMkernel interfaces and {ips} must route GRE "
            "(IP protocol 47); firewalls on the way must allow it."
        )
        if session.mirrored_packet_length is None:
            out.append(
                "GRE/ERSPAN adds about 50 bytes to each mirrored frame: the path MTU must allow it, or set "
                "a mirrored packet length to truncate the frames."
            )
    if (
        t in (SessionType.MIXED_DEST_MIRROR, SessionType.REMOTE_MIRROR_SOURCE)
        and enc
        and not session.strip_original_vlan
    ):
        out.append(
            "With the original VLAN preserved, mirrored frames carry two VLAN tags (4 bytes more): the "
            "physical path must accept double-tagged frames of that size."
        )
    return out


def _endpoint_lines(inventory: Inventory, switch: Switch | None, api: str, ports: VspanPorts) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key in ports.port_keys:
        port = inventory.port(switch.key, key) if switch is not None else None
        label = inventory.port_label(port) if port is not None else f"{key} · (no such port)"
        rows.append((f"{api}.portKey", label))
    rows += [(f"{api}.uplinkPortName", name) for name in ports.uplink_names]
    rows += [(f"{api}.vlans", str(v)) for v in ports.vlans]
    rows += [(f"{api}.ipAddress", ip) for ip in ports.ip_addresses]
    rows += [(f"{api}.wildcardPortConnecteeType", w) for w in ports.wildcard_types]
    return rows


_HEAD = ("key", "name", "description", "enabled", "sessionType")
_ENDPOINTS = ("source_rx", "source_tx", "destination")
_TAIL = tuple(name for attr, name in API_NAMES.items() if name not in _HEAD and attr not in _ENDPOINTS)
FIELD_ORDER: tuple[str, ...] = (*_HEAD, *(API_NAMES[a] for a in _ENDPOINTS), *_TAIL)
"""The order an operator reads a session's API fields in: who it is, its endpoints, then the rest."""


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if value != "" else '""'


def session_fields(inventory: Inventory, switch: Switch | None, s: MirrorSession) -> list[tuple[str, str]]:
    """``(API field, shown value)`` for every field that is set, ports resolved to ``VM / NIC``."""
    rows: list[tuple[str, str]] = []
    api = s.to_api()
    for attr in _HEAD:
        value = api[attr]
        if attr == "key" and value is None:
            rows.append(("key", "(assigned by vCenter)"))
        elif attr == "sessionType" and value:
            rows.append(("sessionType", f"{value}  ({s.type_label})"))
        elif value is not None:
            rows.append((attr, _value(value)))
    for model_attr in _ENDPOINTS:
        rows += _endpoint_lines(inventory, switch, API_NAMES[model_attr], getattr(s, model_attr))
    for attr in _TAIL:
        value = api[attr]
        if value is None:
            continue
        shown = _value(value)
        if attr == "stripOriginalVlan":
            shown += "  (original VLAN " + ("replaced/removed)" if value else "preserved)")
        elif attr == "normalTrafficAllowed":
            shown += "  (normal I/O on destination ports " + ("allowed)" if value else "disallowed)")
        rows.append((attr, shown))
    return rows


_ARROWS = {"both": "⇄", "ingress": "in", "egress": "out"}


def endpoint_labels(
    inventory: Inventory, switch_key: str, s: MirrorSession, *, short: bool = False, names: bool = True
) -> tuple[list[str], list[str]]:
    """``(sources, destinations)`` as one label each.

    Long: ``448 · F5-LTM01 / Network adapter 2 (ingress+egress)``; short (for table cells):
    ``448 F5-LTM01 ⇄``, or without ``names`` ``448 ⇄`` (narrow screens). VLANs, uplinks, IP
    addresses and wildcards are named as such.
    """

    def port(key: str) -> str:
        p = inventory.port(switch_key, key)
        if p is None:
            return f"{key} · (no such port)"
        if not short:
            return inventory.port_label(p)
        vmnic = inventory.vm_nic(p)
        return f"{key} {vmnic[0].name}" if vmnic and names else key

    sources = [f"{port(k)} {_ARROWS[d.value]}" if short else f"{port(k)} ({d.label})" for k, d in s.sources().items()]
    sources += [f"VLAN {v}" for v in s.source_rx.vlans]
    sources += [f"uplink {u} (not valid as a source)" for u in (*s.source_rx.uplink_names, *s.source_tx.uplink_names)]
    sources += [f"all {w} ports (ingress)" for w in s.source_rx.wildcard_types]
    d = s.destination
    destinations = [port(k) for k in d.port_keys]
    destinations += [f"uplink {u}" for u in d.uplink_names]
    destinations += [f"IP {ip}" for ip in d.ip_addresses]
    destinations += [f"VLAN {v}" for v in d.vlans]
    return sources, destinations
