"""What vCenter accepts but mirrors wrongly or not at all: the app's warnings about one session.

Hosts, destinations, promiscuous ports, VLANs, fields the type ignores, and the session's
relation to the switch's other sessions (names, mirror loops). The codes are the app's own
(:data:`WARNING_CODES`). Pure Python: no Textual, no pyVmomi.
"""

from __future__ import annotations

from collections.abc import Sequence

from tui.completeness import missing_ends
from tui.model import EncapType, MirrorSession, SessionType
from tui.rules_base import (
    PACKET_LENGTH_MAX,
    PACKET_LENGTH_WARN,
    VLAN_MAX,
    Findings,
    SwitchView,
    effective_type,
    join,
    rx_only,
    session_text,
    source_field,
    uniq,
)

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


# -- per-session warnings --------------------------------------------------------------------


def _warn_hosts(ctx: SwitchView, s: MirrorSession, t: SessionType, out: Findings) -> None:
    """V28: Distributed Port Mirroring only mirrors between ports on the same host."""
    if t not in (SessionType.DV_PORT_MIRROR, SessionType.MIXED_DEST_MIRROR):
        return
    for dkey in uniq(s.destination.port_keys):
        dport = ctx.port(dkey)
        if dport is None or not dport.host:
            continue
        for skey in s.sources():
            sport = ctx.port(skey)
            if sport is None or not sport.host or sport.host == dport.host:
                continue
            out.warn(
                "CrossHostMirror",
                source_field(s, skey),
                f"{ctx.port_text(skey)} is on host {ctx.host_name(sport.host)} but destination "
                f"{ctx.port_ref(dkey)} is on {ctx.host_name(dport.host)}: {t.label} only mirrors between "
                "ports on the same host, so its traffic will not reach that destination (vCenter does not "
                "reject this).",
            )


def _warn_destinations(ctx: SwitchView, s: MirrorSession, out: Findings) -> None:
    for key in uniq(s.destination.port_keys):
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


def _warn_promiscuous(ctx: SwitchView, s: MirrorSession, out: Findings) -> None:
    # V24: vCenter 5.0 refused a promiscuous Tx source or destination (VspanPromiscuousPortNotSupported);
    # §10.2: 5.1+ evidence says it works, so warn and let vCenter decide.
    for fld, keys in (("source_tx", s.source_tx.port_keys), ("destination", s.destination.port_keys)):
        role = "an egress source" if fld == "source_tx" else "the destination"
        for key in uniq(keys):
            port = ctx.port(key)
            if port is not None and ctx.promiscuous(port):
                out.warn(
                    "PromiscuousPort",
                    fld,
                    f"{ctx.port_text(key)} is in promiscuous mode and is {role}; older vCenter versions "
                    "refuse this (VspanPromiscuousPortNotSupported), and it may mirror more than expected.",
                )


def _warn_vlans(ctx: SwitchView, s: MirrorSession, t: SessionType, out: Findings) -> None:
    enc = s.encapsulation_vlan_id
    uplink_pgs = ctx.uplink_portgroups()
    if t is SessionType.MIXED_DEST_MIRROR and enc:
        # §8.1 step 3 note: a frame whose VLAN is not equal to, or trunked by, the destination port is
        # not mirrored (the walkthrough tags with VLAN 205 to meet dvPgMirror's VLAN).
        for key in uniq(s.destination.port_keys):
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
        for dkey in uniq(s.destination.port_keys):
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
                        source_field(s, skey),
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
                f"Encapsulation VLAN {enc} is also the VLAN of portgroup {join(users)}; mirrored traffic "
                "would flood that network. Use a VLAN dedicated to RSPAN.",
            )
    if t is SessionType.REMOTE_MIRROR_DEST and uplink_pgs:
        for vlan in uniq(str(v) for v in s.source_rx.vlans):
            if 0 <= int(vlan) <= VLAN_MAX and not any(pg.vlan.carries(int(vlan)) for pg in uplink_pgs):
                out.warn(
                    "SourceVlanNotOnUplinks",
                    "source_rx",
                    f"The uplink portgroup does not trunk VLAN {vlan}, so RSPAN traffic on that VLAN "
                    "cannot reach this switch.",
                )


def _warn_fields(ctx: SwitchView, s: MirrorSession, t: SessionType, out: Findings) -> None:
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
            f"Wildcard sources ({join(uniq(s.source_rx.wildcard_types))}) mirror every port of that kind; "
            "the vSphere API says not to use them. Pick the ports instead.",
        )
    # V26: sessions with no source or no destination are legal but mirror nothing.
    missing = missing_ends(s)
    if "source" in missing:
        out.warn("NoSource", "source_rx", f"{session_text(s).capitalize()} has no source, so it mirrors nothing.")
    if "destination" in missing:
        out.warn(
            "NoDestination",
            "destination",
            f"{session_text(s).capitalize()} has no destination, so mirrored traffic goes nowhere.",
        )


def _warn_against(ctx: SwitchView, s: MirrorSession, others: Sequence[MirrorSession], out: Findings) -> None:
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
        # (the session whose ingress source it is, the other, the field named, how the port is both)
        for rx, dest, fld, both in (
            (s, o, "source_rx", "an ingress source here and the destination of {other}; this session"),
            (o, s, "destination", "the destination here and an ingress source of {other}; that session"),
        ):
            for key in rx_only(rx):
                if key in dest.destination.port_keys:
                    where = both.format(other=session_text(o))
                    out.warn(
                        "MirrorLoop", fld, f"{ctx.port_text(key)} is {where} would mirror what the monitoring VM sends."
                    )


def warn_session(ctx: SwitchView, s: MirrorSession, others: Sequence[MirrorSession], out: Findings) -> None:
    t = effective_type(s)
    if t is None:
        return
    _warn_hosts(ctx, s, t, out)
    _warn_destinations(ctx, s, out)
    _warn_promiscuous(ctx, s, out)
    _warn_vlans(ctx, s, t, out)
    _warn_fields(ctx, s, t, out)
    _warn_against(ctx, s, others, out)
