"""The wizard's form as text fields, to and from a :class:`MirrorSession` (pure, no Textual).

Operators type endpoints the way they say them: ``448, F5-LTM01/Network adapter 2:ingress``
for source ports, ``100, 200-205`` for VLANs, ``192.0.2.10, 2001:db8::1`` for IP addresses.
:func:`build` turns the fields into a session plus the problems of the text itself (an
unknown port, a number that is not one); the rules then judge the session.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tui.lookup import ResolveError, resolve_port, split_direction
from tui.model import Direction, EncapType, Inventory, MirrorSession, Problem, SessionType, VspanPorts
from tui.text import ascii_digits

TYPE_HELP: dict[SessionType, str] = {
    SessionType.DV_PORT_MIRROR: "Ports to other ports on the same host.",
    SessionType.REMOTE_MIRROR_SOURCE: "Ports to uplinks, tagged with an encapsulation VLAN (RSPAN source).",
    SessionType.REMOTE_MIRROR_DEST: "Traffic of RSPAN VLANs arriving on the uplinks, to ports (RSPAN destination).",
    SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE: "Ports to the IP address of a remote collector (GRE or ERSPAN).",
    SessionType.MIXED_DEST_MIRROR: "The vSphere 5.0 type: ports to ports and/or uplinks, optionally VLAN-encapsulated.",
}


def shows(t: SessionType, name: str) -> bool:
    """Whether the form field ``name`` applies to session type ``t`` (vspan.md §2.2)."""
    return name in FIELDS_BY_TYPE[t]


FIELDS_BY_TYPE: dict[SessionType, frozenset[str]] = {
    SessionType.DV_PORT_MIRROR: frozenset({"sources", "dest_ports", "length", "sampling", "normal_io"}),
    SessionType.REMOTE_MIRROR_SOURCE: frozenset(
        {"sources", "dest_uplinks", "encap_vlan", "preserve", "length", "sampling", "normal_io"}
    ),
    SessionType.REMOTE_MIRROR_DEST: frozenset({"source_vlans", "dest_ports", "length", "sampling", "normal_io"}),
    SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE: frozenset({"sources", "dest_ips", "length", "sampling", "erspan"}),
    SessionType.MIXED_DEST_MIRROR: frozenset(
        {"sources", "dest_ports", "dest_uplinks", "encap_vlan", "preserve", "length", "normal_io"}
    ),
}


@dataclass(slots=True)
class Form:
    """The wizard's fields as the user edits them (text stays text until :func:`build`)."""

    session_type: SessionType = SessionType.DV_PORT_MIRROR
    name: str = ""
    description: str = ""
    enabled: bool = True
    normal_io: bool = False
    sources: str = ""
    source_vlans: str = ""
    dest_ports: str = ""
    dest_uplinks: list[str] = field(default_factory=list)
    dest_ips: str = ""
    encap_on: bool = False
    encap_vlan: str = ""
    preserve: bool = False
    length_on: bool = False
    length: str = ""
    sampling: str = "1"
    encap_type: str = EncapType.GRE.value
    erspan_id: str = ""
    erspan_cos: str = ""
    erspan_ns: bool = False


def _split(text: str) -> list[str]:
    return [t.strip() for t in text.replace("\n", ",").split(",") if t.strip()]


def from_session(session: MirrorSession) -> Form:
    """The form showing ``session`` (a new one pre-filled from marks, or one to edit)."""
    t = session.type or SessionType.MIXED_DEST_MIRROR
    sources = ", ".join(k if d is Direction.BOTH else f"{k}:{d.value}" for k, d in session.sources().items())
    return Form(
        session_type=t,
        name=session.name,
        description=session.description,
        enabled=session.enabled,
        normal_io=session.normal_traffic_allowed,
        sources=sources,
        source_vlans=", ".join(str(v) for v in session.source_rx.vlans),
        dest_ports=", ".join(session.destination.port_keys),
        dest_uplinks=list(session.destination.uplink_names),
        dest_ips=", ".join(session.destination.ip_addresses),
        encap_on=session.encapsulation_vlan_id is not None,
        encap_vlan="" if session.encapsulation_vlan_id is None else str(session.encapsulation_vlan_id),
        preserve=not session.strip_original_vlan,
        length_on=session.mirrored_packet_length is not None,
        length="" if session.mirrored_packet_length is None else str(session.mirrored_packet_length),
        sampling="" if session.sampling_rate is None else str(session.sampling_rate),
        encap_type=session.encap_type or EncapType.GRE.value,
        erspan_id="" if session.erspan_id is None else str(session.erspan_id),
        erspan_cos="" if session.erspan_cos is None else str(session.erspan_cos),
        erspan_ns=bool(session.erspan_gra_nanosec),
    )


@dataclass(slots=True)
class Built:
    """A session built from a form, with the problems of the form's text."""

    session: MirrorSession
    problems: list[Problem]
    resolved: dict[str, list[str]]
    """Per text field, what each entry resolved to (``448 · F5-LTM01 / Network adapter 2``)."""


def _int(text: str, what: str, field_name: str, problems: list[Problem]) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not ascii_digits(text.removeprefix("-")) or len(text) > 18:  # int() takes "٣" and "１" too
        problems.append(Problem("InvalidArgument", f"{what}: {text!r} is not a whole number.", field_name))
        return None
    return int(text)


def _vlans(text: str, problems: list[Problem]) -> list[int]:
    out: list[int] = []
    for token in _split(text):
        lo, sep, hi = token.partition("-")
        if not (ascii_digits(lo) and len(lo) < 6 and (not sep or (ascii_digits(hi) and len(hi) < 6))):
            problems.append(Problem("InvalidArgument", f"VLAN {token!r} is not a number or a range.", "source_rx"))
            continue
        start, end = int(lo), int(hi) if sep else int(lo)
        if end < start or end - start > 4094:
            problems.append(Problem("InvalidArgument", f"VLAN range {token!r} is backwards or too long.", "source_rx"))
            continue
        out.extend(range(start, end + 1))
    return out


def _resolve(inventory: Inventory, switch_key: str, ref: str) -> tuple[str | None, str]:
    """(port key, label), or (None, what is wrong with ``ref``)."""
    try:
        port = resolve_port(inventory, ref, switch_key)
    except ResolveError as e:
        if e.candidates:
            options = "; ".join(c.rsplit(" on ", 1)[0] for c in e.candidates[:4])
            return None, f"{ref!r} matches {len(e.candidates)} ports; give the port ID or VM/NIC: {options}"
        sw = inventory.switches.get(switch_key)
        return None, f"{ref!r} is not a port ID, VM or VM/NIC on {sw.name if sw else 'this switch'}"
    return port.key, inventory.port_label(port)


def build(inventory: Inventory, switch_key: str, form: Form, base: MirrorSession) -> Built:
    """The session the form describes (``base`` supplies the key and fields the form lacks)."""
    t = form.session_type
    problems: list[Problem] = []
    resolved: dict[str, list[str]] = {"sources": [], "dest_ports": []}
    rx: list[str] = []
    tx: list[str] = []
    if shows(t, "sources"):
        for token in _split(form.sources):
            ref, direction = split_direction(token)
            key, label = _resolve(inventory, switch_key, ref)
            if key is None:
                problems.append(Problem("NotFound", f"Source {label}.", "source_rx"))
                continue
            resolved["sources"].append(f"{label}  ({direction.label})")
            if direction in (Direction.BOTH, Direction.INGRESS) and key not in rx:
                rx.append(key)
            if direction in (Direction.BOTH, Direction.EGRESS) and key not in tx:
                tx.append(key)
    dest_keys: list[str] = []
    if shows(t, "dest_ports"):
        for ref in _split(form.dest_ports):
            key, label = _resolve(inventory, switch_key, ref)
            if key is None:
                problems.append(Problem("NotFound", f"Destination {label}.", "destination"))
                continue
            resolved["dest_ports"].append(label)
            if key not in dest_keys:
                dest_keys.append(key)
    vlans = _vlans(form.source_vlans, problems) if shows(t, "source_vlans") else []
    uplinks = list(form.dest_uplinks) if shows(t, "dest_uplinks") else []
    ips = _split(form.dest_ips) if shows(t, "dest_ips") else []
    encap = (
        _int(form.encap_vlan, "Encapsulation VLAN", "encapsulation_vlan_id", problems)
        if shows(t, "encap_vlan") and (form.encap_on or t is SessionType.REMOTE_MIRROR_SOURCE)
        else None
    )
    length = (
        _int(form.length, "Mirrored packet length", "mirrored_packet_length", problems)
        if form.length_on and shows(t, "length")
        else None
    )
    if form.length_on and length is None and not any(p.field == "mirrored_packet_length" for p in problems):
        problems.append(
            Problem("InvalidArgument", "Give the mirrored packet length in bytes.", "mirrored_packet_length")
        )
    sampling = _int(form.sampling, "Sampling rate", "sampling_rate", problems) if shows(t, "sampling") else None
    erspan = shows(t, "erspan")
    encap_type = form.encap_type if erspan else None
    with_id = erspan and encap_type in (EncapType.ERSPAN2.value, EncapType.ERSPAN3.value)
    session = replace(
        base,
        session_type=t.value,
        name=form.name.strip(),
        description=form.description.strip(),
        enabled=form.enabled,
        normal_traffic_allowed=form.normal_io if shows(t, "normal_io") else False,
        source_rx=VspanPorts(port_keys=tuple(rx), vlans=tuple(vlans)),
        source_tx=VspanPorts(port_keys=tuple(tx)),
        destination=VspanPorts(port_keys=tuple(dest_keys), uplink_names=tuple(uplinks), ip_addresses=tuple(ips)),
        encapsulation_vlan_id=encap,
        # Without an encapsulation VLAN the field means nothing: keep what the session had.
        strip_original_vlan=not form.preserve if encap is not None else base.strip_original_vlan,
        mirrored_packet_length=length,
        sampling_rate=sampling,
        encap_type=encap_type,
        erspan_id=_int(form.erspan_id, "ERSPAN ID", "erspan_id", problems) if with_id else None,
        erspan_cos=_int(form.erspan_cos, "ERSPAN COS", "erspan_cos", problems) if with_id else None,
        erspan_gra_nanosec=form.erspan_ns if erspan and encap_type == EncapType.ERSPAN3.value else None,
    )
    return Built(session, problems, resolved)
