"""Describing a mirror session in the vSphere API's words, endpoints resolved (pure).

Shared by the CLI's output and the TUI's review and sessions screens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tui import capture, rules
from tui.model import API_NAMES, Inventory, MirrorSession, Switch, VspanPorts


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
        rules.notes(inventory, switch_key, session),
        rules.upstream_requirements(inventory, switch_key, session),
        flt,
        command,
    )


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


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if value != "" else '""'


def session_fields(inventory: Inventory, switch: Switch | None, s: MirrorSession) -> list[tuple[str, str]]:
    """``(API field, shown value)`` for every field that is set, ports resolved to ``VM / NIC``."""
    rows: list[tuple[str, str]] = []
    api = s.to_api()
    for attr in ("key", "name", "description", "enabled", "sessionType"):
        value = api[attr]
        if attr == "key" and value is None:
            rows.append(("key", "(assigned by vCenter)"))
        elif attr == "sessionType" and value:
            rows.append(("sessionType", f"{value}  ({s.type_label})"))
        elif value is not None:
            rows.append((attr, _value(value)))
    for model_attr in ("source_rx", "source_tx", "destination"):
        rows += _endpoint_lines(inventory, switch, API_NAMES[model_attr], getattr(s, model_attr))
    for attr in (
        "encapsulationVlanId",
        "stripOriginalVlan",
        "mirroredPacketLength",
        "normalTrafficAllowed",
        "samplingRate",
        "encapType",
        "erspanId",
        "erspanCOS",
        "erspanGraNanosec",
        "netstack",
    ):
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
    inventory: Inventory, switch_key: str, s: MirrorSession, *, short: bool = False
) -> tuple[list[str], list[str]]:
    """``(sources, destinations)`` as one label each.

    Long: ``448 · F5-LTM01 / Network adapter 2 (ingress+egress)``; short (for table cells):
    ``448 F5-LTM01 ⇄``. VLANs, uplinks, IP addresses and wildcards are named as such.
    """

    def port(key: str) -> str:
        p = inventory.port(switch_key, key)
        if p is None:
            return f"{key} · (no such port)"
        if not short:
            return inventory.port_label(p)
        vmnic = inventory.vm_nic(p)
        return f"{key} {vmnic[0].name}" if vmnic else key

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
