"""The wizard's form as text fields, to and from a :class:`MirrorSession` (pure, no Textual).

Operators type endpoints the way they say them: ``448, F5-LTM01/Network adapter 2:ingress``
for source ports, ``100, 200-205`` for VLANs, ``192.0.2.10, 2001:db8::1`` for IP addresses.
:func:`build` turns the fields into a session plus the problems of the text itself (an
unknown port, a number that is not one); the rules then judge the session.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from tui import timebox
from tui.completeness import describe_missing, missing_ends
from tui.describe import FIELD_ORDER, session_fields
from tui.lookup import ResolveError, resolve_port, split_direction
from tui.model import Direction, EncapType, Inventory, MirrorSession, Problem, SessionType, VspanPorts
from tui.text import ascii_digits

T = TypeVar("T")

TYPE_HELP: dict[SessionType, str] = {t: t.spec.help for t in SessionType}
"""One line per type for the wizard (from :data:`tui.model.SESSION_TYPES`)."""

_LIST_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("sources", "source_rx", "port_keys"),
    ("sources", "source_tx", "port_keys"),
    ("source_vlans", "source_rx", "vlans"),
    ("dest_ports", "destination", "port_keys"),
    ("dest_uplinks", "destination", "uplink_names"),
    ("dest_ips", "destination", "ip_addresses"),
)
"""Form field → the endpoint list and kind it fills."""
_SCALAR_FIELDS: tuple[tuple[str, str], ...] = (
    ("encap_vlan", "encapsulation_vlan_id"),
    ("preserve", "strip_original_vlan"),
    ("length", "mirrored_packet_length"),
    ("sampling", "sampling_rate"),
    ("normal_io", "normal_traffic_allowed"),
    ("erspan", "encap_type"),
)
"""Form field → the session attribute it sets (``erspan`` stands for the four ERSPAN fields)."""


def _form_fields(t: SessionType) -> frozenset[str]:
    spec = t.spec
    lists = {name for name, fld, kind in _LIST_FIELDS if kind in spec.accepts(fld)}
    return frozenset(lists | {name for name, attr in _SCALAR_FIELDS if spec.applies(attr)})


FIELDS_BY_TYPE: dict[SessionType, frozenset[str]] = {t: _form_fields(t) for t in SessionType}
"""The form fields each session type shows, derived from :data:`tui.model.SESSION_TYPES` (vspan.md §2.2)."""


def shows(t: SessionType, name: str) -> bool:
    """Whether the form field ``name`` applies to session type ``t`` (vspan.md §2.2)."""
    return name in FIELDS_BY_TYPE[t]


def encap_required(t: SessionType) -> bool:
    """Whether type ``t`` must carry an encapsulation VLAN (RSPAN source: the form keeps it on)."""
    return "encapsulation_vlan_id" in t.spec.required


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
    expires: str = ""
    """A time box to set (``30m``, ``2h``: from now), ``none`` to remove it, empty: keep the session's."""


def _split(text: str) -> list[str]:
    return [t.strip() for t in text.replace("\n", ",").split(",") if t.strip()]


def from_session(session: MirrorSession) -> Form:
    """The form showing ``session`` (a new one pre-filled from marks, or one to edit)."""
    t = session.type or SessionType.MIXED_DEST_MIRROR
    sources = ", ".join(k if d is Direction.BOTH else f"{k}:{d.value}" for k, d in session.sources().items())
    encap = session.encap_type or ""
    return Form(
        session_type=t,
        name=session.name,
        description=timebox.with_expiry(session, None).description,  # the expiry has a field of its own
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
        # An encapType the form does not know shows as GRE; left so, the stored text is kept (and flagged).
        encap_type=encap if encap in EncapType._value2member_map_ else EncapType.GRE.value,
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


def _same_set(new: tuple[T, ...], old: tuple[T, ...]) -> tuple[T, ...]:
    """``old`` when it holds the same items as ``new`` (order and repeats as read), else ``new``."""
    return old if set(new) == set(old) else new


def build(inventory: Inventory, switch_key: str, form: Form, base: MirrorSession) -> Built:
    """The session the form describes (``base`` supplies the key and fields the form lacks).

    Nothing the form does not show is lost: a field left as the form showed it keeps ``base``'s
    exact value (order of lists, unset versus default, spaces), and the fields and endpoint
    lists the form has no place for (wildcard sources, ``netstack``, a value the type ignores)
    keep ``base``'s while the session type stays the one shown. Changing the type drops what
    the new type cannot carry, except wildcard sources where the new type has port sources and
    ``netstack``, which apply to every type.
    """
    t = form.session_type
    shown = from_session(base)
    same = t is shown.session_type
    problems: list[Problem] = []
    resolved: dict[str, list[str]] = {"sources": [], "dest_ports": []}

    def hidden(value: Any, empty: Any = None) -> Any:
        return value if same else empty

    rx: list[str] = []
    tx: list[str] = []
    sources_unchanged = form.sources == shown.sources
    if shows(t, "sources"):
        for token in _split(form.sources):
            ref, direction = split_direction(token)
            key, label = _resolve(inventory, switch_key, ref)
            if key is None:
                if not sources_unchanged:  # an unchanged source that is gone: the rules say NotFound
                    problems.append(Problem("NotFound", f"Source {label}.", "source_rx"))
                continue
            resolved["sources"].append(f"{label}  ({direction.label})")
            if direction in (Direction.BOTH, Direction.INGRESS) and key not in rx:
                rx.append(key)
            if direction in (Direction.BOTH, Direction.EGRESS) and key not in tx:
                tx.append(key)
        if sources_unchanged:
            rx_keys, tx_keys = base.source_rx.port_keys, base.source_tx.port_keys
        else:
            rx_keys = _same_set(tuple(rx), base.source_rx.port_keys)
            tx_keys = _same_set(tuple(tx), base.source_tx.port_keys)
    else:
        rx_keys, tx_keys = hidden(base.source_rx.port_keys, ()), hidden(base.source_tx.port_keys, ())
    dest_keys: list[str] = []
    dest_unchanged = form.dest_ports == shown.dest_ports
    if shows(t, "dest_ports"):
        for ref in _split(form.dest_ports):
            key, label = _resolve(inventory, switch_key, ref)
            if key is None:
                if not dest_unchanged:
                    problems.append(Problem("NotFound", f"Destination {label}.", "destination"))
                continue
            resolved["dest_ports"].append(label)
            if key not in dest_keys:
                dest_keys.append(key)
        dest_port_keys = (
            base.destination.port_keys if dest_unchanged else _same_set(tuple(dest_keys), base.destination.port_keys)
        )
    else:
        dest_port_keys = hidden(base.destination.port_keys, ())
    if not shows(t, "source_vlans"):
        vlans = hidden(base.source_rx.vlans, ())
    elif form.source_vlans == shown.source_vlans:
        vlans = base.source_rx.vlans
    else:
        vlans = _same_set(tuple(_vlans(form.source_vlans, problems)), base.source_rx.vlans)
    if not shows(t, "dest_uplinks"):
        uplinks = hidden(base.destination.uplink_names, ())
    else:
        uplinks = _same_set(tuple(u for u in form.dest_uplinks), base.destination.uplink_names)
    if not shows(t, "dest_ips"):
        ips = hidden(base.destination.ip_addresses, ())
    elif form.dest_ips == shown.dest_ips:
        ips = base.destination.ip_addresses
    else:
        ips = _same_set(tuple(_split(form.dest_ips)), base.destination.ip_addresses)
    # Wildcard sources have no field: kept while the type takes port sources (V8: ingress only).
    wild_rx = base.source_rx.wildcard_types if same or shows(t, "sources") else ()
    needs_encap = encap_required(t)
    if not shows(t, "encap_vlan"):
        encap = hidden(base.encapsulation_vlan_id)
    elif (
        (form.encap_on or needs_encap)
        and (form.encap_on, form.encap_vlan) == (shown.encap_on, shown.encap_vlan)
        and same
    ):
        encap = base.encapsulation_vlan_id
    elif form.encap_on or needs_encap:
        encap = _int(form.encap_vlan, "Encapsulation VLAN", "encapsulation_vlan_id", problems)
    else:
        encap = None
    length = (
        _int(form.length, "Mirrored packet length", "mirrored_packet_length", problems)
        if form.length_on and shows(t, "length")
        else None
    )
    if form.length_on and length is None and not any(p.field == "mirrored_packet_length" for p in problems):
        problems.append(
            Problem("InvalidArgument", "Give the mirrored packet length in bytes.", "mirrored_packet_length")
        )
    if not shows(t, "sampling"):
        sampling = None  # only the legacy type hides it, and it cannot carry one (V12)
    elif form.sampling == shown.sampling:
        sampling = base.sampling_rate
    else:
        sampling = _int(form.sampling, "Sampling rate", "sampling_rate", problems)
    erspan = shows(t, "erspan")
    if erspan:
        encap_type: str | None = base.encap_type if same and form.encap_type == shown.encap_type else form.encap_type
        same_encap = same and encap_type == base.encap_type
        with_id = encap_type in (EncapType.ERSPAN2.value, EncapType.ERSPAN3.value)

        def number(text: str, old_text: str, old: int | None, what: str, name: str) -> int | None:
            if not with_id:
                return old if same_encap else None
            if same_encap and text == old_text:
                return old
            return _int(text, what, name, problems)

        erspan_id = number(form.erspan_id, shown.erspan_id, base.erspan_id, "ERSPAN ID", "erspan_id")
        erspan_cos = number(form.erspan_cos, shown.erspan_cos, base.erspan_cos, "ERSPAN COS", "erspan_cos")
        if encap_type != EncapType.ERSPAN3.value:
            nanosec = base.erspan_gra_nanosec if same_encap else None
        elif same_encap and form.erspan_ns == shown.erspan_ns:
            nanosec = base.erspan_gra_nanosec
        else:
            nanosec = form.erspan_ns
    else:
        encap_type = hidden(base.encap_type)
        erspan_id, erspan_cos, nanosec = (
            hidden(base.erspan_id),
            hidden(base.erspan_cos),
            hidden(base.erspan_gra_nanosec),
        )
    if encap is not None and (form.encap_on or needs_encap) and shows(t, "preserve"):
        strip = base.strip_original_vlan if form.preserve == shown.preserve else not form.preserve
    else:
        # Without an encapsulation VLAN the field means nothing: keep what the session had.
        strip = base.strip_original_vlan
    session = replace(
        base,
        session_type=base.session_type if same else t.value,
        name=base.name if form.name == shown.name else form.name.strip(),
        description=base.description if form.description == shown.description else form.description.strip(),
        enabled=form.enabled,
        normal_traffic_allowed=form.normal_io if shows(t, "normal_io") else hidden(base.normal_traffic_allowed, False),
        source_rx=VspanPorts(
            port_keys=rx_keys,
            uplink_names=hidden(base.source_rx.uplink_names, ()),
            vlans=vlans,
            ip_addresses=hidden(base.source_rx.ip_addresses, ()),
            wildcard_types=wild_rx,
        ),
        source_tx=VspanPorts(
            port_keys=tx_keys,
            uplink_names=hidden(base.source_tx.uplink_names, ()),
            vlans=hidden(base.source_tx.vlans, ()),
            ip_addresses=hidden(base.source_tx.ip_addresses, ()),
            wildcard_types=hidden(base.source_tx.wildcard_types, ()),
        ),
        destination=VspanPorts(
            port_keys=dest_port_keys,
            uplink_names=uplinks,
            vlans=hidden(base.destination.vlans, ()),
            ip_addresses=ips,
            wildcard_types=hidden(base.destination.wildcard_types, ()),
        ),
        encapsulation_vlan_id=encap,
        strip_original_vlan=strip,
        mirrored_packet_length=base.mirrored_packet_length
        if (form.length_on, form.length) == (shown.length_on, shown.length)
        else length,
        sampling_rate=sampling,
        encap_type=encap_type,
        erspan_id=erspan_id,
        erspan_cos=erspan_cos,
        erspan_gra_nanosec=nanosec,
    )
    return Built(_time_boxed(session, base, form, shown, problems), problems, resolved)


NO_EXPIRY = ("none", "never", "off")
"""What the time-box field takes to remove an expiry."""


def _time_boxed(
    session: MirrorSession, base: MirrorSession, form: Form, shown: Form, problems: list[Problem]
) -> MirrorSession:
    """``session`` with the expiry the form asks for (:mod:`tui.timebox`): a duration from now,
    none, or (empty) the one ``base`` has, kept also when the description was edited."""
    text = form.expires.strip()
    if text.lower() in NO_EXPIRY:
        return timebox.with_expiry(session, None)
    if text:
        try:
            span = timebox.parse_duration(text)
        except timebox.DurationError as e:
            problems.append(Problem("InvalidArgument", f"Expires after: {e}", "description"))
            return session
        return timebox.with_expiry(session, timebox.now_utc() + span)
    kept = timebox.expiry(base)
    if kept is not None and form.description != shown.description:
        return timebox.with_expiry(session, kept)
    return session


def incomplete(session: MirrorSession) -> str:
    """'' when ``session`` has a source and a destination; else why it would mirror nothing.

    vCenter accepts such a session (vspan.md V26), so the rules only warn; the wizard asks before
    creating one, as the CLI refuses it without ``--allow-empty`` (the one test: :mod:`tui.completeness`).
    """
    missing = missing_ends(session)
    return f"The session has {describe_missing(missing)}: it would mirror nothing." if missing else ""


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of an edit: its vSphere API name and the value before and after (``''`` = unset)."""

    field: str
    old: str
    new: str


def _field_rank(name: str) -> tuple[int, str]:
    head = name.split(".", 1)[0]
    return (FIELD_ORDER.index(head) if head in FIELD_ORDER else len(FIELD_ORDER), name)


def _shown(inventory: Inventory, switch_key: str, session: MirrorSession) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in session_fields(inventory, inventory.switches.get(switch_key), session):
        out.setdefault(name, []).append(value)
    return out


def field_changes(inventory: Inventory, switch_key: str, old: MirrorSession, new: MirrorSession) -> list[FieldChange]:
    """What an edit changes, field by field in the API's order (``name: "a" → "b"``).

    Lists (ports, VLANs, uplinks, IPs) compare as lists, each entry resolved as the review shows
    it (``448 · F5-LTM01 / Network adapter 2``); a field set on one side only has ``''`` on the other.
    """
    before, after = _shown(inventory, switch_key, old), _shown(inventory, switch_key, new)
    names = sorted({*before, *after}, key=_field_rank)
    return [
        FieldChange(n, "\n".join(before.get(n, [])), "\n".join(after.get(n, [])))
        for n in names
        if before.get(n, []) != after.get(n, [])
    ]
