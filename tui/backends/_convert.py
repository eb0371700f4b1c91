"""Conversion between pyVmomi's vim objects and :mod:`tui.model`: sessions both ways, switches, portgroups, specs.

pyVmomi is imported lazily (:func:`_vim`), so importing this module stays cheap; no vim object
leaves the backend modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tui.model import (
    API_NAMES,
    Binding,
    ChangeOperation,
    MirrorSession,
    Portgroup,
    SessionChange,
    SessionType,
    Switch,
    SwitchCapability,
    Vlan,
    VspanPorts,
)

# -- pyVmomi, lazily and untyped (its stubs lack the VMware DVS types) --------------------


def _vim() -> Any:
    from pyVmomi import vim

    return vim


def _vmodl() -> Any:
    from pyVmomi import vmodl

    return vmodl


def _support() -> Any:
    from pyVmomi import VmomiSupport

    return VmomiSupport


def _unescape(name: str) -> str:
    from tui.backends._parse import unescape_name

    return unescape_name(name)


_CAPABILITY_FLAGS = (
    ("dvportSupported", SessionType.DV_PORT_MIRROR),
    ("remoteSourceSupported", SessionType.REMOTE_MIRROR_SOURCE),
    ("remoteDestSupported", SessionType.REMOTE_MIRROR_DEST),
    ("encapRemoteSourceSupported", SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE),
    ("mixedDestSupported", SessionType.MIXED_DEST_MIRROR),
)


def _capability(features: Any) -> SwitchCapability:
    """VSPAN capability of a switch (vspan.md §1.5); what vCenter leaves unset is unknown: offered, vCenter decides.

    ``featuresSupported`` missing, ``vspanSupported`` unset, ``vspanCapability`` unset (a 5.0
    switch, or a server that does not say) or a flag unset give ``None`` (unknown) rather than
    ``False``. pyVmomi reads an unset *required* flag (the five session-type flags) as ``False``
    (``VmomiSupport.DataObject.__init__``), so one missing flag cannot be told from ``False``;
    all five ``False`` with port mirroring supported is a switch that reported nothing usable,
    and is read as unknown too.
    """
    if features is None:
        return SwitchCapability.unknown()
    vspan = getattr(features, "vspanSupported", None)
    vspan = None if vspan is None else bool(vspan)
    if vspan is False:
        return SwitchCapability(vspan=False, session_types=(), erspan=False)
    cap = getattr(features, "vspanCapability", None)
    if cap is None:
        return SwitchCapability.unknown(vspan)
    flags = [(t.value, getattr(cap, attr, None)) for attr, t in _CAPABILITY_FLAGS]
    if all(v is False for _, v in flags):
        flags = [(t, None) for t, _ in flags]
    erspan = getattr(cap, "erspanProtocolSupported", None)
    return SwitchCapability(
        vspan=vspan,
        session_types=tuple(t for t, v in flags if v),
        erspan=None if erspan is None else bool(erspan),
        unknown_types=tuple(t for t, v in flags if v is None),
    )


def _ports_from_vim(p: Any) -> VspanPorts:
    if p is None:
        return VspanPorts()
    return VspanPorts(
        port_keys=tuple(str(k) for k in p.portKey or ()),
        uplink_names=tuple(str(u) for u in p.uplinkPortName or ()),
        vlans=tuple(int(v) for v in getattr(p, "vlans", None) or ()),
        ip_addresses=tuple(str(i) for i in getattr(p, "ipAddress", None) or ()),
        wildcard_types=tuple(str(w) for w in p.wildcardPortConnecteeType or ()),
    )


def session_from_vim(s: Any) -> MirrorSession:
    """A :class:`MirrorSession` from a pyVmomi ``VspanSession`` (every field of vspan.md §1.1)."""
    length = s.mirroredPacketLength
    return MirrorSession(
        key=str(s.key) if s.key is not None else None,
        name=s.name or "",
        description=s.description or "",
        enabled=bool(s.enabled),
        session_type=getattr(s, "sessionType", None),
        source_tx=_ports_from_vim(s.sourcePortTransmitted),
        source_rx=_ports_from_vim(s.sourcePortReceived),
        destination=_ports_from_vim(s.destinationPort),
        encapsulation_vlan_id=s.encapsulationVlanId,
        strip_original_vlan=bool(s.stripOriginalVlan),
        mirrored_packet_length=length if length is not None and length > 0 else None,
        normal_traffic_allowed=bool(s.normalTrafficAllowed),
        sampling_rate=getattr(s, "samplingRate", None),
        encap_type=getattr(s, "encapType", None),
        erspan_id=getattr(s, "erspanId", None),
        erspan_cos=getattr(s, "erspanCOS", None),
        erspan_gra_nanosec=getattr(s, "erspanGraNanosec", None),
        netstack=getattr(s, "netstack", None),
    )


def _switch_from_props(moid: str, props: dict[str, Any], datacenter: str) -> Switch:
    policy = props.get("config.uplinkPortPolicy")
    uplinks = tuple(str(u) for u in getattr(policy, "uplinkPortName", None) or ())
    return Switch(
        key=str(props.get("uuid", "")),
        name=_unescape(str(props.get("name", moid))),
        moid=moid,
        datacenter=datacenter,
        version=str(props.get("config.productInfo.version") or ""),
        uplink_names=uplinks,
        config_version=str(props.get("config.configVersion") or ""),
        capability=_capability(props.get("capability.featuresSupported")),
        sessions=tuple(session_from_vim(s) for s in props.get("config.vspanSession") or ()),
    )


def _vlan_from_vim(spec: Any) -> Vlan:
    vim = _vim()

    VS = vim.dvs.VmwareDistributedVirtualSwitch
    if isinstance(spec, VS.TrunkVlanSpec):
        return Vlan(vlan_id=None, trunk=tuple((int(r.start), int(r.end)) for r in spec.vlanId or ()))
    if isinstance(spec, VS.PvlanSpec):
        return Vlan(vlan_id=None, pvlan=int(spec.pvlanId))
    if isinstance(spec, VS.VlanIdSpec):
        return Vlan(vlan_id=int(spec.vlanId or 0))
    return Vlan()


def _promiscuous(setting: Any) -> bool:
    mac = getattr(setting, "macManagementPolicy", None)
    if mac is not None and mac.allowPromiscuous is not None:
        return bool(mac.allowPromiscuous)
    sec = getattr(setting, "securityPolicy", None)
    allow = getattr(sec, "allowPromiscuous", None)
    return bool(getattr(allow, "value", False))


def _portgroup_from_props(obj: Any, props: dict[str, Any], uuid_of: dict[str, str], uplink_pgs: set[str]) -> Portgroup:
    setting = props.get("config.defaultPortConfig")
    dvs = props.get("config.distributedVirtualSwitch")
    try:
        binding = Binding(str(props.get("config.type") or "earlyBinding"))
    except ValueError:
        binding = Binding.EARLY
    return Portgroup(
        key=str(props.get("key") or obj._moId),
        name=_unescape(str(props.get("name", obj._moId))),
        switch=uuid_of.get(dvs._moId, "") if dvs is not None else "",
        vlan=_vlan_from_vim(getattr(setting, "vlan", None)),
        binding=binding,
        promiscuous=_promiscuous(setting),
        uplink=bool(props.get("config.uplink")) or obj._moId in uplink_pgs,
        num_ports=int(props.get("config.numPorts") or 0),
        nsx=props.get("config.backingType") == "nsx",
    )


def _ports_to_vim(ports: VspanPorts, previous: VspanPorts | None) -> Any:
    """A ``VspanPorts``; ``None`` when empty, unless an edit must clear a stored list."""
    vim = _vim()

    if not ports:
        return vim.dvs.VmwareDistributedVirtualSwitch.VspanPorts() if previous else None
    # Lists, never bare strings (vspan.md §1.8 pitfall 2).
    return vim.dvs.VmwareDistributedVirtualSwitch.VspanPorts(
        portKey=list(ports.port_keys),
        uplinkPortName=list(ports.uplink_names),
        vlans=list(ports.vlans),
        ipAddress=list(ports.ip_addresses),
        wildcardPortConnecteeType=list(ports.wildcard_types),
    )


_UNSET_AS: dict[str, Any] = {
    "sampling_rate": 1,
    "encap_type": "gre",
    "erspan_id": 0,
    "erspan_cos": 0,
    "erspan_gra_nanosec": False,
    "netstack": None,
}
"""The optional fields vCenter gives a documented default: what it stores for one not sent, and
what an edit sends to clear one (vCenter merges edits). ``netstack`` has none: it cannot be cleared."""


def session_to_vim(session: MirrorSession, previous: MirrorSession | None = None) -> Any:
    """A pyVmomi ``VspanSession`` carrying every set field of ``session``.

    ``previous`` is the stored session for an edit: vCenter merges an edit into it, so a list
    that became empty is sent empty, a packet length that was removed is sent as -1 (mirror
    whole frames), and a removed sampling rate or ERSPAN value is sent as its documented default
    (1 packet in 1, ERSPAN ID and COS 0, microsecond timestamps, GRE). An encapsulation VLAN has
    no such value: the rules warn that an edit cannot remove it (``EditCannotClear``).
    """
    vim = _vim()

    s = vim.dvs.VmwareDistributedVirtualSwitch.VspanSession()
    if session.key is not None:
        s.key = session.key
    # An empty name or description is sent only to clear a stored one: unset and "" mean the same.
    if session.name or (previous is not None and previous.name):
        s.name = session.name
    if session.description or (previous is not None and previous.description):
        s.description = session.description
    s.enabled = session.enabled
    s.stripOriginalVlan = session.strip_original_vlan
    s.normalTrafficAllowed = session.normal_traffic_allowed
    if session.session_type is not None:
        s.sessionType = session.session_type
    s.sourcePortTransmitted = _ports_to_vim(session.source_tx, previous.source_tx if previous else None)
    s.sourcePortReceived = _ports_to_vim(session.source_rx, previous.source_rx if previous else None)
    s.destinationPort = _ports_to_vim(session.destination, previous.destination if previous else None)
    if session.encapsulation_vlan_id is not None:
        s.encapsulationVlanId = session.encapsulation_vlan_id
    if session.mirrored_packet_length is not None:
        s.mirroredPacketLength = session.mirrored_packet_length
    elif previous is not None and previous.mirrored_packet_length is not None:
        s.mirroredPacketLength = -1
    for attr, default in _UNSET_AS.items():
        value = getattr(session, attr)
        if value is None and previous is not None and getattr(previous, attr) is not None:
            value = default  # cleared in an edit: the default, since vCenter merges edits
            if attr == "sampling_rate" and session.type is SessionType.MIXED_DEST_MIRROR:
                value = None  # the legacy type cannot carry a sampling rate at all (V12)
        if value is not None:
            setattr(s, API_NAMES[attr], value)
    return s


def _config_spec(current: Switch, changes: Sequence[SessionChange]) -> Any:
    """One ``VMwareDVSConfigSpec`` with the current ``configVersion`` and every change."""
    vim = _vim()

    VS = vim.dvs.VmwareDistributedVirtualSwitch
    specs = []
    for change in changes:
        if change.operation is ChangeOperation.ADD:
            session = session_to_vim(change.session.with_changes(key=None))
        elif change.operation is ChangeOperation.EDIT:
            session = session_to_vim(change.session, current.session(change.session.key or ""))
        else:
            session = VS.VspanSession(key=change.session.key)
        specs.append(VS.VspanConfigSpec(operation=change.operation.value, vspanSession=session))
    return VS.ConfigSpec(configVersion=current.config_version, vspanConfigSpec=specs)
