"""What vCenter would refuse in one session: its type, endpoint lists, ports and values (V1–V16, V25, §2.2, §3).

Each rule carries a comment naming its origin in ``reference/vspan.md``. The cross-session
conflicts and the rules of a batch (keys, operations) are in :mod:`tui.rules`.
Pure Python: no Textual, no pyVmomi.
"""

from __future__ import annotations

import ipaddress

from tui.model import ConnecteeType, EncapType, MirrorSession, SessionType, SessionTypeSpec, VspanPorts
from tui.rules_base import (
    ERSPAN_COS_MAX,
    ERSPAN_ID_MAX,
    NAME_MAX,
    PACKET_LENGTH_MAX,
    PACKET_LENGTH_MIN,
    SAMPLING_MAX,
    SAMPLING_MIN,
    VLAN_MAX,
    Findings,
    SwitchView,
    effective_type,
    join,
    session_text,
    uniq,
)

ERROR_CODES: dict[str, str] = {
    "InvalidArgument": "vCenter refuses the value or the combination (V6 V7 V8 V11–V14 V16 V25, §2.2, §3).",
    "NotFound": "A switch, port key, uplink name or session key that does not exist (V9 V10 V15).",
    "VspanSameSessionPortConflict": "A port is both a source and the destination of one session (V1 V2).",
    "VspanPortConflict": "An egress source of one session is the destination of another (V3, §10.1).",
    "VspanDestPortConflict": "A port is the destination of two sessions (V4).",
    "NotSupported": "The switch does not support port mirroring, this session type, or ERSPAN (§1.5, §5.6).",
}
"""Error codes (vCenter fault names) this module produces."""

_LIST_NAMES = {"source_tx": "egress sources", "source_rx": "ingress sources", "destination": "destinations"}
_KIND_NAMES = {
    "port_keys": "ports",
    "uplink_names": "uplinks",
    "vlans": "VLAN IDs",
    "ip_addresses": "IP addresses",
    "wildcard_types": "wildcard connectee types",
}


def _accepts_text(t: SessionType, fld: str) -> str:
    """What list ``fld`` of type ``t`` takes, in words (``ports or uplinks``; '' for nothing).

    From :data:`tui.model.SESSION_TYPES` (§2.2); wildcards go unnamed (V8: "is to be not used").
    """
    kinds = t.spec.accepts(fld)
    return " or ".join(name for kind, name in _KIND_NAMES.items() if kind in kinds and kind != "wildcard_types")


# -- per-session error rules -----------------------------------------------------------------


def _check_support(ctx: SwitchView, s: MirrorSession, out: Findings) -> None:
    cap = ctx.switch.capability
    if cap.vspan is False:
        # §1.5: vspanSupported is false on vDS 4.0/4.1.
        out.error(
            "NotSupported",
            "session_type",
            f"Switch {ctx.switch.name} does not support port mirroring (it needs vDS version 5.0 or later).",
        )
        return
    t = s.type
    if s.session_type and t is None:
        # V13: an unknown sessionType string → InvalidArgument (QA portmirror Neg004, Neg020).
        allowed = ", ".join(x.value for x in SessionType)
        out.error(
            "InvalidArgument",
            "session_type",
            f"'{s.session_type}' is not a session type; use one of {allowed}.",
        )
        return
    support = cap.supports(t.value) if t is not None else True  # unset type: legacy, see SessionTypeUnset
    if t is not None and support is False:
        # §1.5/§5.6: the switch's vspanCapability does not offer this type (vCenter would refuse it).
        offered = ", ".join(SessionType(x).label for x in cap.offered if x in SessionType._value2member_map_)
        out.error(
            "NotSupported",
            "session_type",
            f"Switch {ctx.switch.name} (version {ctx.switch.version or 'unknown'}) does not support "
            f"{t.label} sessions; it supports: {offered or 'none'}.",
        )
    elif t is not None and support is None:
        # §1.5: a capability vCenter did not report (featuresSupported, vspanCapability or one flag
        # unset) is unknown, not "unsupported": offer the type and let vCenter decide.
        out.warn(
            "CapabilityUnknown",
            "session_type",
            f"vCenter did not report whether switch {ctx.switch.name} (version {ctx.switch.version or 'unknown'}) "
            f"supports {t.label} sessions; vCenter will decide when the change is sent.",
        )
    if s.encap_type in (EncapType.ERSPAN2.value, EncapType.ERSPAN3.value):
        if cap.erspan is False:
            # §1.5/§5.6: ERSPAN options need erspanProtocolSupported (vDS 6.5+).
            out.error(
                "NotSupported",
                "encap_type",
                f"Switch {ctx.switch.name} does not support ERSPAN encapsulation (it needs vDS 6.5 or later); "
                "use GRE or upgrade the switch.",
            )
        elif cap.erspan is None:
            # §1.5: erspanProtocolSupported unset → unknown (offer, vCenter decides).
            out.warn(
                "CapabilityUnknown",
                "encap_type",
                f"vCenter did not report whether switch {ctx.switch.name} supports ERSPAN encapsulation; "
                "vCenter will decide when the change is sent.",
            )


def _check_lists(ctx: SwitchView, s: MirrorSession, t: SessionType, out: Findings) -> None:
    """§2.2 matrix, V6, V7, V8: which lists may hold what for this type (``SESSION_TYPES``)."""
    spec = t.spec
    for fld in ("source_tx", "source_rx", "destination"):
        ports: VspanPorts = getattr(s, fld)
        for kind in ("port_keys", "uplink_names", "vlans", "ip_addresses", "wildcard_types"):
            values = getattr(ports, kind)
            if not values or kind in spec.accepts(fld):
                continue
            shown = join(uniq(str(v) for v in values))
            if kind == "uplink_names" and fld != "destination":
                # V6: uplink names are never valid as a source (QA vspan Neg018/019).
                msg = f"Uplinks ({shown}) cannot be mirroring sources; only distributed ports can."
            elif kind == "wildcard_types" and fld != "source_rx":
                # V8: wildcards never as a destination or an egress source.
                msg = f"Wildcard connectee types ({shown}) can only be ingress sources, not {_LIST_NAMES[fld]}."
            elif not _accepts_text(t, fld):
                # §2.2: RMD has no egress sources (QA portmirror Neg005).
                msg = f"{t.label} sessions have no egress sources; remove the {_KIND_NAMES[kind]} ({shown})."
            else:
                # V7: a list that does not apply to the type (QA portmirror Neg011–018).
                msg = (
                    f"{t.label} sessions take {_accepts_text(t, fld)} as {_LIST_NAMES[fld]}, "
                    f"not {_KIND_NAMES[kind]} ({shown})."
                )
            out.error("InvalidArgument", fld, msg)
        for w in uniq(ports.wildcard_types):
            if w not in ConnecteeType._value2member_map_:
                # V8/§1.2: wildcardPortConnecteeType values are ConnecteeType names.
                names = ", ".join(c.value for c in ConnecteeType)
                out.error("InvalidArgument", fld, f"'{w}' is not a connectee type; use one of {names}.")


def _check_endpoints(ctx: SwitchView, s: MirrorSession, t: SessionType | None, out: Findings) -> None:
    """V9, V10, V11 (VLANs), V25 (IPs), uplink DVPorts as destination, V1/V2."""
    for fld in ("source_tx", "source_rx", "destination"):
        ports: VspanPorts = getattr(s, fld)
        for key in uniq(ports.port_keys):
            if ctx.port(key) is None:
                # V9: an unknown portKey → NotFound (QA vspan Neg014/015/020).
                out.error(
                    "NotFound",
                    fld,
                    f"Port {key} does not exist on switch {ctx.switch.name}; check the port ID.",
                )
        for vlan in uniq(str(v) for v in ports.vlans):
            if not 0 <= int(vlan) <= VLAN_MAX:
                # V11/§3: RMD source VLANs 0–4094 (-1, 4095 → InvalidArgument, QA portmirror Neg003).
                out.error("InvalidArgument", fld, f"VLAN {vlan} is out of range; VLAN IDs are 0–{VLAN_MAX}.")
        for ip in uniq(ports.ip_addresses):
            try:
                ipaddress.ip_address(ip)
            except ValueError:
                # V25/§3: a malformed IP → InvalidArgument (or DvsOperationBulkFault from the host).
                out.error(
                    "InvalidArgument",
                    fld,
                    f"'{ip}' is not an IP address; use IPv4 (192.0.2.10) or IPv6 (2001:db8::10) notation.",
                )
    known = set(ctx.switch.uplink_names)
    for name in uniq(s.destination.uplink_names):
        if name not in known:
            # V10: an unknown uplink name as destination → NotFound (QA vspan Neg022).
            have = ", ".join(ctx.switch.uplink_names) or "none"
            out.error(
                "NotFound",
                "destination",
                f"Switch {ctx.switch.name} has no uplink named '{name}'; its uplinks are {have}.",
            )
    if t is not None and not t.spec.uplink_port_destinations:
        for key in uniq(s.destination.port_keys):
            port = ctx.port(key)
            pg = ctx.portgroup(port)
            if port is not None and (port.is_uplink or (pg is not None and pg.uplink)):
                # §2.1 (GOV/API-REF): uplink DVPorts are destinations only of mixedDestMirror sessions.
                out.error(
                    "InvalidArgument",
                    "destination",
                    f"{ctx.port_text(key)} is an uplink port; only Distributed Port Mirroring (legacy) "
                    "sessions can mirror to uplink ports.",
                )
    sources = set(s.source_tx.port_keys) | set(s.source_rx.port_keys)
    for key in uniq(s.destination.port_keys):
        if key in sources:
            # V1 (Tx + destination, QA vspan Neg009/Neg028) and V2 (Rx + destination, portmirror Neg005).
            out.error(
                "VspanSameSessionPortConflict",
                "destination",
                f"{ctx.port_text(key)} is both a source and the destination of {session_text(s)}; "
                "a port cannot mirror to itself.",
            )


def _type_refuses(spec: SessionTypeSpec | None, attr: str, value: object, out: Findings) -> bool:
    """§2.2's required and refused fields (``SESSION_TYPES``): report ``attr`` if its type needs it
    and it is unset, or refuses it and it is set; ``True`` when reported (no range check then)."""
    if spec is None:
        return False
    message = spec.required.get(attr) if value is None else spec.refuses.get(attr)
    if message is None:
        return False
    out.error("InvalidArgument", attr, message)
    return True


def _check_values(ctx: SwitchView, s: MirrorSession, t: SessionType | None, out: Findings) -> None:
    """§3 ranges and the per-type scalar fields of §2.2 (V11, V12)."""
    if len(s.name) > NAME_MAX:
        # §3: name ≤ 80 characters (QA vspan Neg013).
        out.error(
            "InvalidArgument",
            "name",
            f"The name has {len(s.name)} characters; vCenter allows at most {NAME_MAX}.",
        )
    spec = t.spec if t is not None else None
    # §2.2 via SESSION_TYPES first: the encapsulation VLAN is required on RMS (QA helper; Pos003/004,
    # §9.5) and refused on an ERSPAN source (V12, QA Neg008 row 004); samplingRate is refused on
    # mixedDestMirror (V12, QA portmirror Neg001 row 005). Then the §3 ranges.
    enc_min = 1 if spec is not None and "encapsulation_vlan_id" in spec.required else 0
    ranges = (
        # §3: RMS 1–4094 (0 rejected, QA portmirror Neg008); -1 (RMD, mixed) and 4095 (dvPortMirror)
        # → InvalidArgument (QA portmirror Neg008, vspan Neg023).
        ("encapsulation_vlan_id", enc_min, VLAN_MAX, f"Encapsulation VLAN {{}} is out of range; use 1–{VLAN_MAX}."),
        # V11/§3: samplingRate 1–65535 (-1, 0, 65536 → InvalidArgument).
        (
            "sampling_rate",
            SAMPLING_MIN,
            SAMPLING_MAX,
            f"Sampling rate {{}} is out of range; use 1–{SAMPLING_MAX} (1 mirrors every packet).",
        ),
    )
    for attr, low, high, message in ranges:
        value = getattr(s, attr)
        if not _type_refuses(spec, attr, value, out) and value is not None and not low <= value <= high:
            out.error("InvalidArgument", attr, message.format(value))
    length = s.mirrored_packet_length
    if length is not None:
        if length < PACKET_LENGTH_MIN:
            # V11/§3: mirroredPacketLength ≥ 60 (0, 59, -2 → InvalidArgument, QA portmirror Neg009).
            out.error(
                "InvalidArgument",
                "mirrored_packet_length",
                f"Mirrored packet length {length} is too short; use at least {PACKET_LENGTH_MIN} bytes, "
                "or leave it unset to mirror whole frames.",
            )
        elif length > PACKET_LENGTH_MAX:
            # §10.4: the app caps it at 65535 (inferred; no vCenter limit was ever tested).
            out.error(
                "InvalidArgument",
                "mirrored_packet_length",
                f"Mirrored packet length {length} is too long; use at most {PACKET_LENGTH_MAX} bytes, "
                "or leave it unset to mirror whole frames.",
            )
    if s.encap_type is not None and s.encap_type not in EncapType._value2member_map_:
        # §1.6: VspanSessionEncapType is gre | erspan2 | erspan3 (an unknown enum → InvalidArgument).
        out.error(
            "InvalidArgument",
            "encap_type",
            f"'{s.encap_type}' is not an encapsulation type; use gre, erspan2 or erspan3.",
        )
    if s.erspan_id is not None and not 0 <= s.erspan_id <= ERSPAN_ID_MAX:
        # §3: erspanId 0–1023 (documented only).
        out.error(
            "InvalidArgument",
            "erspan_id",
            f"ERSPAN session ID {s.erspan_id} is out of range; use 0–{ERSPAN_ID_MAX}.",
        )
    if s.erspan_cos is not None and not 0 <= s.erspan_cos <= ERSPAN_COS_MAX:
        # §3: erspanCOS 0–7 (documented only).
        out.error(
            "InvalidArgument",
            "erspan_cos",
            f"ERSPAN class of service {s.erspan_cos} is out of range; use 0–{ERSPAN_COS_MAX}.",
        )


def session_errors(ctx: SwitchView, s: MirrorSession, out: Findings) -> None:
    _check_support(ctx, s, out)
    t = effective_type(s)
    if t is not None:
        _check_lists(ctx, s, t, out)
    _check_endpoints(ctx, s, t, out)
    _check_values(ctx, s, t, out)
