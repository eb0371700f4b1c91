"""Validate mirror-session changes against an :class:`~tui.model.Inventory`.

Pure Python: no Textual, no pyVmomi. The rules are those of ``reference/vspan.md`` that can be
checked on the client; every rule below carries a comment naming its origin (``V1`` … ``V28`` =
vspan.md §4, ``§2.2``/``§3`` = the type matrix and the value ranges, ``§10.n`` = a conflict note).

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

Warning codes are the app's own (vCenter accepts these sessions): see :data:`WARNING_CODES`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tui.model import (
    ChangeOperation,
    ConnecteeType,
    EncapType,
    Inventory,
    MirrorSession,
    Port,
    Portgroup,
    Problem,
    SessionChange,
    SessionType,
    SessionTypeSpec,
    Severity,
    Switch,
    VspanPorts,
)

# -- limits (vspan.md §3) ------------------------------------------------------------------

NAME_MAX = 80  # §3 name: 81 characters → InvalidArgument (QA vspan Neg013)
SAMPLING_MIN, SAMPLING_MAX = 1, 65535  # §3 samplingRate
PACKET_LENGTH_MIN = 60  # §3 mirroredPacketLength "cannot be less than 60"
PACKET_LENGTH_WARN = 9000  # §10.4: warn above a jumbo frame
PACKET_LENGTH_MAX = 65535  # §10.4: the app's upper bound (inferred; QA accepted 65530)
VLAN_MAX = 4094  # §3 VLAN IDs ≤ 4094
ERSPAN_ID_MAX = 1023  # §3 erspanId 0–0x3FF
ERSPAN_COS_MAX = 7  # §3 erspanCOS 0–7

# -- codes ----------------------------------------------------------------------------------

ERROR_CODES: dict[str, str] = {
    "InvalidArgument": "vCenter refuses the value or the combination (V6 V7 V8 V11–V14 V16 V25, §2.2, §3).",
    "NotFound": "A switch, port key, uplink name or session key that does not exist (V9 V10 V15).",
    "VspanSameSessionPortConflict": "A port is both a source and the destination of one session (V1 V2).",
    "VspanPortConflict": "An egress source of one session is the destination of another (V3, §10.1).",
    "VspanDestPortConflict": "A port is the destination of two sessions (V4).",
    "NotSupported": "The switch does not support port mirroring, this session type, or ERSPAN (§1.5, §5.6).",
}
"""Error codes (vCenter fault names) this module produces."""

WARNING_CODES: dict[str, str] = {
    "CrossHostMirror": "Distributed Port Mirroring between ports on different hosts mirrors nothing (V28).",
    "EncapVlanNotCarried": "The destination port's portgroup does not carry the encapsulation VLAN, "
    "so mirrored frames are dropped (vspan.md §8.1 step 3 note).",
    "SourceVlanNotCarried": "Legacy session without encapsulation: the destination portgroup does not carry "
    "the source's VLAN, so those frames are not mirrored (§8.1 step 3 note).",
    "EncapVlanNotOnUplinks": "The uplink portgroup does not trunk the encapsulation VLAN (the walkthrough's "
    "VLAN 205 requirement).",
    "SourceVlanNotOnUplinks": "Remote Mirroring Destination: the uplink portgroup does not trunk a source VLAN.",
    "EncapVlanInUse": "Remote Mirroring Source: the encapsulation VLAN is also a portgroup's VLAN; RSPAN "
    "VLANs should be dedicated (§2.1, VCF9).",
    "DestinationNotConnected": "The destination port has nothing connected (or its NIC is disconnected).",
    "DestinationLinkDown": "The destination port is connected but its link is down.",
    "PromiscuousPort": "A promiscuous port is an egress source or a destination (V24; warn only, §10.2).",
    "DuplicateName": "Another session on the switch has the same name; vCenter allows it (§10.6).",
    "NormalIoOnDestination": "Normal traffic is allowed on the destination ports.",
    "MixedDestDeprecated": "Distributed Port Mirroring (legacy) is deprecated since vSphere 5.1 (§1.6).",
    "SessionTypeUnset": "No session type: vCenter creates a legacy session (§10.3).",
    "LongMirroredPacket": "Mirrored packet length above 9000 bytes (§10.4).",
    "MirrorLoop": "An ingress source of one session is the destination of another (V5: untested by VMware).",
    "WildcardSource": "A wildcard connectee type as a source; the API says not to use it (§1.2).",
    "FieldIgnored": "A field that this session type ignores (§2.2).",
    "NoSource": "The session has no source: it mirrors nothing (V26: legal).",
    "NoDestination": "The session has no destination: it mirrors nothing (V26: legal).",
    "EditCannotClear": "An edit removes a value vCenter keeps when merging the edit (§5.2, §10.5).",
    "CapabilityUnknown": "vCenter did not report whether the switch supports this session type or ERSPAN; "
    "vCenter decides when the change is sent (§1.5).",
}
"""Warning codes (app-level) with what each means. Their ``field`` is the session attribute concerned."""

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


# -- helpers ---------------------------------------------------------------------------------


@dataclass
class _Out:
    """Problems in order, without duplicates."""

    items: list[Problem] = field(default_factory=list)
    _seen: set[tuple[str, str, str, Severity]] = field(default_factory=set)

    def error(self, code: str, fld: str, message: str) -> None:
        self._add(Problem(code, message, fld, Severity.ERROR))

    def warn(self, code: str, fld: str, message: str) -> None:
        self._add(Problem(code, message, fld, Severity.WARNING))

    def _add(self, p: Problem) -> None:
        k = (p.code, p.field, p.message, p.severity)
        if k not in self._seen:
            self._seen.add(k)
            self.items.append(p)

    def sorted(self) -> list[Problem]:
        """Errors first, each group in the order found."""
        return [p for p in self.items if p.severity is Severity.ERROR] + [
            p for p in self.items if p.severity is not Severity.ERROR
        ]


@dataclass(frozen=True)
class SwitchView:
    """An inventory seen from one switch (the rules' and :mod:`tui.describe`'s view)."""

    inv: Inventory
    switch: Switch

    def port(self, key: str) -> Port | None:
        return self.inv.port(self.switch.key, key)

    def portgroup(self, port: Port | None) -> Portgroup | None:
        return self.inv.portgroups.get(port.portgroup) if port is not None and port.portgroup else None

    def port_text(self, key: str) -> str:
        """``Port 2258 (MGTSRVR003UX / Network adapter 2)``, from ``Inventory.port_label``."""
        port = self.port(key)
        if port is None:
            return f"Port {key}"
        return f"Port {key} ({self.inv.port_owner(port).strip('()')})"

    def port_ref(self, key: str) -> str:
        """:meth:`port_text` for the middle of a sentence: ``port 2258 (…)``."""
        return "p" + self.port_text(key)[1:]

    def host_name(self, host_key: str) -> str:
        return self.inv.host_name(host_key) or host_key

    def uplink_portgroups(self) -> list[Portgroup]:
        return [pg for pg in self.inv.portgroups_by_switch.get(self.switch.key, ()) if pg.uplink]

    def promiscuous(self, port: Port) -> bool:
        pg = self.portgroup(port)
        return port.promiscuous or (pg is not None and pg.promiscuous)


def session_text(s: MirrorSession) -> str:
    """How messages name a session: ``session DMZ-IDS``."""
    if s.name:
        return f"session {s.name}"
    if s.key:
        return f"session {s.key}"
    return "the new session"


def effective_type(s: MirrorSession) -> SessionType | None:
    """The type vCenter applies: unset means ``mixedDestMirror`` (§1.1, §10.3); ``None`` if unknown."""
    if not s.session_type:
        return SessionType.MIXED_DEST_MIRROR
    return s.type


def _uniq(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _join(items: Iterable[object]) -> str:
    return ", ".join(str(i) for i in items)


def _rx_only(s: MirrorSession) -> list[str]:
    tx = set(s.source_tx.port_keys)
    return [k for k in _uniq(s.source_rx.port_keys) if k not in tx]


def _source_field(s: MirrorSession, key: str) -> str:
    return "source_rx" if key in s.source_rx.port_keys else "source_tx"


# -- per-session error rules -----------------------------------------------------------------


def _check_support(ctx: SwitchView, s: MirrorSession, out: _Out) -> None:
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


def _check_lists(ctx: SwitchView, s: MirrorSession, t: SessionType, out: _Out) -> None:
    """§2.2 matrix, V6, V7, V8: which lists may hold what for this type (``SESSION_TYPES``)."""
    spec = t.spec
    for fld in ("source_tx", "source_rx", "destination"):
        ports: VspanPorts = getattr(s, fld)
        for kind in ("port_keys", "uplink_names", "vlans", "ip_addresses", "wildcard_types"):
            values = getattr(ports, kind)
            if not values or kind in spec.accepts(fld):
                continue
            shown = _join(_uniq(str(v) for v in values))
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
        for w in _uniq(ports.wildcard_types):
            if w not in ConnecteeType._value2member_map_:
                # V8/§1.2: wildcardPortConnecteeType values are ConnecteeType names.
                names = ", ".join(c.value for c in ConnecteeType)
                out.error("InvalidArgument", fld, f"'{w}' is not a connectee type; use one of {names}.")


def _check_endpoints(ctx: SwitchView, s: MirrorSession, t: SessionType | None, out: _Out) -> None:
    """V9, V10, V11 (VLANs), V25 (IPs), uplink DVPorts as destination, V1/V2."""
    for fld in ("source_tx", "source_rx", "destination"):
        ports: VspanPorts = getattr(s, fld)
        for key in _uniq(ports.port_keys):
            if ctx.port(key) is None:
                # V9: an unknown portKey → NotFound (QA vspan Neg014/015/020).
                out.error(
                    "NotFound",
                    fld,
                    f"Port {key} does not exist on switch {ctx.switch.name}; check the port ID.",
                )
        for vlan in _uniq(str(v) for v in ports.vlans):
            if not 0 <= int(vlan) <= VLAN_MAX:
                # V11/§3: RMD source VLANs 0–4094 (-1, 4095 → InvalidArgument, QA portmirror Neg003).
                out.error("InvalidArgument", fld, f"VLAN {vlan} is out of range; VLAN IDs are 0–{VLAN_MAX}.")
        for ip in _uniq(ports.ip_addresses):
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
    for name in _uniq(s.destination.uplink_names):
        if name not in known:
            # V10: an unknown uplink name as destination → NotFound (QA vspan Neg022).
            have = ", ".join(ctx.switch.uplink_names) or "none"
            out.error(
                "NotFound",
                "destination",
                f"Switch {ctx.switch.name} has no uplink named '{name}'; its uplinks are {have}.",
            )
    if t is not None and not t.spec.uplink_port_destinations:
        for key in _uniq(s.destination.port_keys):
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
    for key in _uniq(s.destination.port_keys):
        if key in sources:
            # V1 (Tx + destination, QA vspan Neg009/Neg028) and V2 (Rx + destination, portmirror Neg005).
            out.error(
                "VspanSameSessionPortConflict",
                "destination",
                f"{ctx.port_text(key)} is both a source and the destination of {session_text(s)}; "
                "a port cannot mirror to itself.",
            )


def _type_refuses(spec: SessionTypeSpec | None, attr: str, value: object, out: _Out) -> bool:
    """§2.2's required and refused fields (``SESSION_TYPES``): report ``attr`` if its type needs it
    and it is unset, or refuses it and it is set; ``True`` when reported (no range check then)."""
    if spec is None:
        return False
    message = spec.required.get(attr) if value is None else spec.refuses.get(attr)
    if message is None:
        return False
    out.error("InvalidArgument", attr, message)
    return True


def _check_values(ctx: SwitchView, s: MirrorSession, t: SessionType | None, out: _Out) -> None:
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


def _session_errors(ctx: SwitchView, s: MirrorSession, out: _Out) -> None:
    _check_support(ctx, s, out)
    t = effective_type(s)
    if t is not None:
        _check_lists(ctx, s, t, out)
    _check_endpoints(ctx, s, t, out)
    _check_values(ctx, s, t, out)


# -- per-session warnings --------------------------------------------------------------------


def _warn_hosts(ctx: SwitchView, s: MirrorSession, t: SessionType, out: _Out) -> None:
    """V28: Distributed Port Mirroring only mirrors between ports on the same host."""
    if t not in (SessionType.DV_PORT_MIRROR, SessionType.MIXED_DEST_MIRROR):
        return
    for dkey in _uniq(s.destination.port_keys):
        dport = ctx.port(dkey)
        if dport is None or not dport.host:
            continue
        for skey in s.sources():
            sport = ctx.port(skey)
            if sport is None or not sport.host or sport.host == dport.host:
                continue
            out.warn(
                "CrossHostMirror",
                _source_field(s, skey),
                f"{ctx.port_text(skey)} is on host {ctx.host_name(sport.host)} but destination "
                f"{ctx.port_ref(dkey)} is on {ctx.host_name(dport.host)}: {t.label} only mirrors between "
                "ports on the same host, so its traffic will not reach that destination (vCenter does not "
                "reject this).",
            )


def _warn_destinations(ctx: SwitchView, s: MirrorSession, out: _Out) -> None:
    for key in _uniq(s.destination.port_keys):
        port = ctx.port(key)
        if port is None:
            continue
        vmnic = ctx.inv.vm_nic(port)
        if not port.connected or (vmnic is not None and not vmnic[1].connected):
            out.warn(
                "DestinationNotConnected",
                "destination",
                f"Destination {ctx.port_ref(key)} has nothing connected; mirrored traffic will go nowhere "
                "until a monitoring VM's NIC is connected to it.",
            )
        elif not port.link_up:
            out.warn(
                "DestinationLinkDown",
                "destination",
                f"Destination {ctx.port_ref(key)} is connected but its link is down; check that the VM is "
                "powered on and the NIC is connected.",
            )


def _warn_promiscuous(ctx: SwitchView, s: MirrorSession, out: _Out) -> None:
    # V24: vCenter 5.0 refused a promiscuous Tx source or destination (VspanPromiscuousPortNotSupported);
    # §10.2: 5.1+ evidence says it works, so warn and let vCenter decide.
    for fld, keys in (("source_tx", s.source_tx.port_keys), ("destination", s.destination.port_keys)):
        role = "an egress source" if fld == "source_tx" else "the destination"
        for key in _uniq(keys):
            port = ctx.port(key)
            if port is not None and ctx.promiscuous(port):
                out.warn(
                    "PromiscuousPort",
                    fld,
                    f"{ctx.port_text(key)} is in promiscuous mode and is {role}; older vCenter versions "
                    "refuse this (VspanPromiscuousPortNotSupported), and it may mirror more than expected.",
                )


def _warn_vlans(ctx: SwitchView, s: MirrorSession, t: SessionType, out: _Out) -> None:
    enc = s.encapsulation_vlan_id
    uplink_pgs = ctx.uplink_portgroups()
    if t is SessionType.MIXED_DEST_MIRROR and enc:
        # §8.1 step 3 note: a frame whose VLAN is not equal to, or trunked by, the destination port is
        # not mirrored (the walkthrough tags with VLAN 205 to meet dvPgMirror's VLAN).
        for key in _uniq(s.destination.port_keys):
            pg = ctx.portgroup(ctx.port(key))
            if pg is not None and not pg.uplink and not pg.vlan.carries(enc):
                out.warn(
                    "EncapVlanNotCarried",
                    "encapsulation_vlan_id",
                    f"Destination {ctx.port_ref(key)} is on portgroup {pg.name} (VLAN {pg.vlan}), which "
                    f"does not carry encapsulation VLAN {enc}; the mirrored frames will be dropped. Use "
                    f"VLAN {pg.vlan} as the encapsulation VLAN, or move the destination to a portgroup "
                    f"of VLAN {enc}.",
                )
    if t is SessionType.MIXED_DEST_MIRROR and not enc:
        # Same note, without encapsulation: the source's own VLAN must pass the destination port.
        for dkey in _uniq(s.destination.port_keys):
            dpg = ctx.portgroup(ctx.port(dkey))
            if dpg is None or dpg.uplink:
                continue
            for skey in s.sources():
                spg = ctx.portgroup(ctx.port(skey))
                if spg is None or spg.vlan.is_trunk or spg.vlan.pvlan is not None or spg.vlan.vlan_id is None:
                    continue
                if not dpg.vlan.carries(spg.vlan.vlan_id):
                    out.warn(
                        "SourceVlanNotCarried",
                        _source_field(s, skey),
                        f"{ctx.port_text(skey)} is on VLAN {spg.vlan} but destination {ctx.port_ref(dkey)} "
                        f"is on {dpg.name} (VLAN {dpg.vlan}), so its frames will not be mirrored; set the "
                        f"encapsulation VLAN to {dpg.vlan}.",
                    )
    # Walkthrough step 1–2: the mirror VLAN must be trunked by the uplinks (and the physical switch).
    crosses = t in (SessionType.MIXED_DEST_MIRROR, SessionType.REMOTE_MIRROR_SOURCE)
    if crosses and enc and uplink_pgs and not any(pg.vlan.carries(enc) for pg in uplink_pgs):
        names = ", ".join(f"{pg.name} ({pg.vlan})" for pg in uplink_pgs)
        out.warn(
            "EncapVlanNotOnUplinks",
            "encapsulation_vlan_id",
            f"The uplink portgroup {names} does not trunk encapsulation VLAN {enc}; mirrored frames "
            "cannot leave the host. Add the VLAN to the uplink trunk.",
        )
    if t is SessionType.REMOTE_MIRROR_SOURCE and enc:
        # §2.1/VCF9: RSPAN VLANs should be dedicated to mirroring.
        users = [
            pg.name
            for pg in ctx.inv.portgroups_by_switch.get(ctx.switch.key, ())
            if not pg.uplink and not pg.vlan.is_trunk and pg.vlan.vlan_id == enc
        ]
        if users:
            out.warn(
                "EncapVlanInUse",
                "encapsulation_vlan_id",
                f"Encapsulation VLAN {enc} is also the VLAN of portgroup {_join(users)}; mirrored traffic "
                "would flood that network. Use a VLAN dedicated to RSPAN.",
            )
    if t is SessionType.REMOTE_MIRROR_DEST and uplink_pgs:
        for vlan in _uniq(str(v) for v in s.source_rx.vlans):
            if 0 <= int(vlan) <= VLAN_MAX and not any(pg.vlan.carries(int(vlan)) for pg in uplink_pgs):
                out.warn(
                    "SourceVlanNotOnUplinks",
                    "source_rx",
                    f"The uplink portgroup does not trunk VLAN {vlan}, so RSPAN traffic on that VLAN "
                    "cannot reach this switch.",
                )


def _warn_fields(ctx: SwitchView, s: MirrorSession, t: SessionType, out: _Out) -> None:
    if t is SessionType.MIXED_DEST_MIRROR and s.session_type and "dvPortMirror" in ctx.switch.capability.session_types:
        # §1.6: mixedDestMirror is deprecated as of vSphere API 5.1.
        out.warn(
            "MixedDestDeprecated",
            "session_type",
            "Distributed Port Mirroring (legacy) is deprecated since vSphere 5.1. For ports on one host, "
            "Distributed Port Mirroring does the same without an encapsulation VLAN.",
        )
    if t is SessionType.DV_PORT_MIRROR and s.encapsulation_vlan_id:
        # §2.2: vCenter ignores encapsulationVlanId for dvPortMirror (QA VspanHelper.getIgnoredField).
        out.warn(
            "FieldIgnored",
            "encapsulation_vlan_id",
            f"Distributed Port Mirroring ignores the encapsulation VLAN ({s.encapsulation_vlan_id}); "
            "mirrored frames go to the destination port on the same host as they are.",
        )
    if not t.spec.applies("encap_type"):
        # §1.1/§2.2 (SESSION_TYPES): the ERSPAN fields apply only to the L3 source type.
        for attr, label in (
            ("encap_type", "encapsulation type"),
            ("erspan_id", "ERSPAN session ID"),
            ("erspan_cos", "ERSPAN class of service"),
        ):
            if getattr(s, attr) not in (None, 0):
                out.warn(
                    "FieldIgnored",
                    attr,
                    f"{t.label} sessions ignore the {label}; it applies only to "
                    "Encapsulated Remote Mirroring (L3) Source sessions.",
                )
    else:
        # §1.1: erspanId/erspanCOS only for erspan2/erspan3, erspanGraNanosec only for erspan3.
        erspan = s.encap_type in (EncapType.ERSPAN2.value, EncapType.ERSPAN3.value)
        for attr, label in (("erspan_id", "ERSPAN session ID"), ("erspan_cos", "ERSPAN class of service")):
            if not erspan and getattr(s, attr) not in (None, 0):
                out.warn(
                    "FieldIgnored", attr, f"The {label} is used only with ERSPAN type II or III encapsulation, not GRE."
                )
        if s.erspan_gra_nanosec and s.encap_type != EncapType.ERSPAN3.value:
            out.warn("FieldIgnored", "erspan_gra_nanosec", "Nanosecond timestamps apply only to ERSPAN type III.")
    length = s.mirrored_packet_length
    if length is not None and PACKET_LENGTH_WARN < length <= PACKET_LENGTH_MAX:
        # §10.4: warn above 9000 (a jumbo frame); no frame is that long, so the limit does nothing.
        out.warn(
            "LongMirroredPacket",
            "mirrored_packet_length",
            f"Mirrored packet length {length} is more than a jumbo frame ({PACKET_LENGTH_WARN} bytes); "
            "it will not shorten anything. Leave it unset to mirror whole frames.",
        )
    if s.normal_traffic_allowed and s.destination.port_keys:
        out.warn(
            "NormalIoOnDestination",
            "normal_traffic_allowed",
            "Normal traffic is allowed on the destination ports: the monitoring VM can also send and "
            "receive, and its own traffic will be mixed with the mirrored traffic.",
        )
    if s.source_rx.wildcard_types:
        # §1.2: wildcardPortConnecteeType "is to be not used".
        out.warn(
            "WildcardSource",
            "source_rx",
            f"Wildcard sources ({_join(_uniq(s.source_rx.wildcard_types))}) mirror every port of that kind; "
            "the vSphere API says not to use them. Pick the ports instead.",
        )
    # V26: sessions with no source or no destination are legal but mirror nothing.
    if not (s.source_tx or s.source_rx):
        out.warn("NoSource", "source_rx", f"{session_text(s).capitalize()} has no source, so it mirrors nothing.")
    if not s.destination:
        out.warn(
            "NoDestination",
            "destination",
            f"{session_text(s).capitalize()} has no destination, so mirrored traffic goes nowhere.",
        )


def _warn_against(ctx: SwitchView, s: MirrorSession, others: Sequence[MirrorSession], out: _Out) -> None:
    """Warnings that compare a session with the switch's other sessions."""
    if s.name:
        for o in others:
            if o.name and o.name.casefold() == s.name.casefold():
                # §10.6: names need not be unique for vCenter; they should be for people.
                out.warn(
                    "DuplicateName",
                    "name",
                    f"Another session on {ctx.switch.name} is already called {o.name}"
                    f"{f' (key {o.key})' if o.key else ''}; sessions are easier to tell apart with "
                    "distinct names.",
                )
                break
    # V5: an ingress-only source that is another session's destination is untested by VMware;
    # the egress case is the error V3.
    for o in others:
        for key in _rx_only(s):
            if key in o.destination.port_keys:
                out.warn(
                    "MirrorLoop",
                    "source_rx",
                    f"{ctx.port_text(key)} is an ingress source here and the destination of {session_text(o)}; "
                    "this session would mirror what the monitoring VM sends.",
                )
        for key in _rx_only(o):
            if key in s.destination.port_keys:
                out.warn(
                    "MirrorLoop",
                    "destination",
                    f"{ctx.port_text(key)} is the destination here and an ingress source of {session_text(o)}; "
                    "that session would mirror what the monitoring VM sends.",
                )


def _warnings(ctx: SwitchView, s: MirrorSession, others: Sequence[MirrorSession], out: _Out) -> None:
    t = effective_type(s)
    if t is None:
        return
    _warn_hosts(ctx, s, t, out)
    _warn_destinations(ctx, s, out)
    _warn_promiscuous(ctx, s, out)
    _warn_vlans(ctx, s, t, out)
    _warn_fields(ctx, s, t, out)
    _warn_against(ctx, s, others, out)


# -- cross-session conflicts -----------------------------------------------------------------


@dataclass(eq=False)
class _Entry:
    """A session in the post-batch state; ``changed`` when the batch adds or edits it."""

    session: MirrorSession
    changed: bool


def _check_conflicts(ctx: SwitchView, state: Sequence[_Entry], out: _Out) -> None:
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
            for key in _uniq(sa.source_tx.port_keys):
                if key in sb.destination.port_keys:
                    out.error(
                        "VspanPortConflict",
                        "source_tx",
                        f"{ctx.port_text(key)} is an egress source of {session_text(sa)} and the destination "
                        f"of {session_text(sb)}; vCenter refuses a port that is both, because mirrored traffic "
                        "would loop back into a mirror.",
                    )
            for key in _uniq(sa.destination.port_keys):
                if key in sb.source_tx.port_keys:
                    out.error(
                        "VspanPortConflict",
                        "destination",
                        f"{ctx.port_text(key)} is the destination of {session_text(sa)} and an egress source "
                        f"of {session_text(sb)}; vCenter refuses a port that is both, because mirrored "
                        "traffic would loop back into a mirror.",
                    )
                if key in sb.destination.port_keys:
                    # V4: one destination in two sessions → VspanDestPortConflict (QA vspan Neg032).
                    out.error(
                        "VspanDestPortConflict",
                        "destination",
                        f"{ctx.port_text(key)} is already the destination of {session_text(sb)}; a port can "
                        "be the destination of only one session.",
                    )


# -- public API ------------------------------------------------------------------------------


def check(inventory: Inventory, switch_key: str, changes: Sequence[SessionChange]) -> list[Problem]:
    """Every problem of ``changes`` on switch ``switch_key``, errors first.

    The sessions are judged as they will be after the whole batch: an add and an edit in one
    batch conflict with each other, a removed session conflicts with nothing.
    """
    switch = inventory.switches.get(switch_key)
    if switch is None:
        return [Problem("NotFound", f"There is no distributed switch with key {switch_key}.", "", Severity.ERROR)]
    ctx = SwitchView(inventory, switch)
    out = _Out()
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
        _session_errors(ctx, s, out)
    _check_conflicts(ctx, state, out)
    for e in state:
        if e.changed:
            _warnings(ctx, e.session, [o.session for o in state if o is not e], out)
    if untyped and "dvPortMirror" in switch.capability.session_types:
        # §10.3: the app should always set sessionType on 5.1+ switches.
        out.warn(
            "SessionTypeUnset",
            "session_type",
            "No session type is set, so vCenter will create a Distributed Port Mirroring (legacy) session. "
            "Choose a session type.",
        )
    return out.sorted()


def session_warnings(inventory: Inventory, switch_key: str, session: MirrorSession) -> list[Problem]:
    """The warnings of an existing ``session`` on switch ``switch_key`` (for the sessions screen)."""
    switch = inventory.switches.get(switch_key)
    if switch is None:
        return []
    ctx = SwitchView(inventory, switch)
    out = _Out()
    others = [o for o in switch.sessions if o is not session and (session.key is None or o.key != session.key)]
    _warnings(ctx, session, others, out)
    return out.sorted()
