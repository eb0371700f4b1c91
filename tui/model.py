"""The inventory model: frozen dataclasses shared by every layer.

Nothing here imports Textual or pyVmomi. Backends convert what they read into these
objects; the UI, the CLI, the lookup index and the rules only ever see these.

Field names follow the vSphere API where an operator would recognise them. Mirror
sessions keep the API's camelCase names in JSON (see ``MirrorSession.to_api``) so the
CLI output reads like ``config.vspanSession``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, NamedTuple


class SessionType(StrEnum):
    """``VMwareDVSVspanSessionType`` (vspan.md §1.6), with the vSphere Client names."""

    DV_PORT_MIRROR = "dvPortMirror"
    REMOTE_MIRROR_SOURCE = "remoteMirrorSource"
    REMOTE_MIRROR_DEST = "remoteMirrorDest"
    ENCAPSULATED_REMOTE_MIRROR_SOURCE = "encapsulatedRemoteMirrorSource"
    MIXED_DEST_MIRROR = "mixedDestMirror"

    @property
    def spec(self) -> SessionTypeSpec:
        """What this type takes (:data:`SESSION_TYPES`)."""
        return SESSION_TYPES[self]

    @property
    def label(self) -> str:
        """The name the vSphere Client shows (vspan.md §8.2)."""
        return SESSION_TYPES[self].label


_PORTS = frozenset({"port_keys"})
_PORTS_WILD = frozenset({"port_keys", "wildcard_types"})  # V8: wildcards only ever as an ingress source
_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SessionTypeSpec:
    """What one session type takes: the one statement of vspan.md §2.2 that the rules, the wizard's
    form and the CLI read (:data:`SESSION_TYPES`).

    Endpoint lists name :class:`VspanPorts` attributes (``port_keys``, ``uplink_names``, ``vlans``,
    ``ip_addresses``, ``wildcard_types``); scalar fields name :class:`MirrorSession` attributes.
    A scalar field in none of ``takes``, ``required`` and ``refuses`` is one vCenter ignores for the
    type or that no test set: the rules range-check it and the form does not show it.
    """

    label: str
    """The vSphere Client's name (§8.2)."""
    short_label: str
    """A few words, for table cells (the sessions screen)."""
    help: str
    """One line for the wizard: what goes where."""
    source_tx: frozenset[str]
    """What ``sourcePortTransmitted`` (egress) may hold."""
    source_rx: frozenset[str]
    """What ``sourcePortReceived`` (ingress) may hold."""
    destination: frozenset[str]
    """What ``destinationPort`` may hold."""
    takes: frozenset[str]
    """Optional scalar fields that apply to the type (the form shows them)."""
    required: dict[str, str] = field(default_factory=dict)
    """Fields that must be set, with the message when one is not (the form keeps them on)."""
    refuses: dict[str, str] = field(default_factory=dict)
    """Fields vCenter refuses any value of, with the message (InvalidArgument)."""
    uplink_port_destinations: bool = False
    """Whether uplink *DVPorts* may be destinations (§2.1: only mixedDestMirror)."""

    def accepts(self, endpoint_list: str) -> frozenset[str]:
        """What the endpoint list ``source_tx``, ``source_rx`` or ``destination`` may hold."""
        value: frozenset[str] = getattr(self, endpoint_list)
        return value

    def applies(self, attr: str) -> bool:
        """Whether the scalar field ``attr`` means something for this type (taken or required)."""
        return attr in self.takes or attr in self.required


_LENGTH_SAMPLING_IO = frozenset({"mirrored_packet_length", "sampling_rate", "normal_traffic_allowed"})
_ERSPAN = frozenset({"encap_type", "erspan_id", "erspan_cos", "erspan_gra_nanosec"})

SESSION_TYPES: dict[SessionType, SessionTypeSpec] = {
    # §2.1/§2.2 dvPortMirror: DVPorts to DVPorts. encapsulationVlanId and stripOriginalVlan are ignored
    # (QA VspanHelper.getIgnoredField), though 4095 is still rejected (Neg008): not taken, range-checked.
    SessionType.DV_PORT_MIRROR: SessionTypeSpec(
        label="Distributed Port Mirroring",
        short_label="Distributed",
        help="Ports to other ports on the same host.",
        source_tx=_PORTS,
        source_rx=_PORTS_WILD,
        destination=_PORTS,
        takes=_LENGTH_SAMPLING_IO,
    ),
    # §2.2 remoteMirrorSource: DVPorts to uplink names (Pos003), encapsulation VLAN required 1–4094
    # (Pos003/004, §9.5), stripOriginalVlan true/false.
    SessionType.REMOTE_MIRROR_SOURCE: SessionTypeSpec(
        label="Remote Mirroring Source",
        short_label="RSPAN source",
        help="Ports to uplinks, tagged with an encapsulation VLAN (RSPAN source).",
        source_tx=_PORTS,
        source_rx=_PORTS_WILD,
        destination=frozenset({"uplink_names"}),
        takes=_LENGTH_SAMPLING_IO | {"strip_original_vlan"},
        required={
            "encapsulation_vlan_id": "A Remote Mirroring Source session needs an encapsulation VLAN (1–4094) to "
            "carry the mirrored traffic to the physical network."
        },
    ),
    # §2.2 remoteMirrorDest: VLAN IDs in Rx only, Tx must be null (QA portmirror Neg005), DVPort
    # destinations; stripOriginalVlan ignored (getIgnoredField); encapsulationVlanId -1 rejected (Neg008).
    SessionType.REMOTE_MIRROR_DEST: SessionTypeSpec(
        label="Remote Mirroring Destination",
        short_label="RSPAN destination",
        help="Traffic of RSPAN VLANs arriving on the uplinks, to ports (RSPAN destination).",
        source_tx=_NONE,
        source_rx=frozenset({"vlans"}),
        destination=_PORTS,
        takes=_LENGTH_SAMPLING_IO,
    ),
    # §2.2 encapsulatedRemoteMirrorSource: DVPorts to IP addresses (Pos007); any encapsulation VLAN
    # rejected (Neg008 row 004, V12); encapType/erspan* (6.5+, API doc only); normalTrafficAllowed was
    # never set in QA, so the form does not offer it.
    SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE: SessionTypeSpec(
        label="Encapsulated Remote Mirroring (L3) Source",
        short_label="L3 source (GRE/ERSPAN)",
        help="Ports to the IP address of a remote collector (GRE or ERSPAN).",
        source_tx=_PORTS,
        source_rx=_PORTS_WILD,
        destination=frozenset({"ip_addresses"}),
        takes=frozenset({"mirrored_packet_length", "sampling_rate"}) | _ERSPAN,
        refuses={
            "encapsulation_vlan_id": "Encapsulated Remote Mirroring (L3) Source sessions send GRE/ERSPAN to an IP "
            "address and take no encapsulation VLAN; clear it."
        },
    ),
    # §2.1/§2.2 mixedDestMirror (legacy): DVPorts to DVPorts and/or uplink names (vspan Pos002/006),
    # encapsulation VLAN optional (0 and 1024 accepted on 5.0), samplingRate cannot be set (portmirror
    # Neg001 row 005, V12); the only type that takes uplink DVPorts as destinations (§2.1 GOV/API-REF).
    SessionType.MIXED_DEST_MIRROR: SessionTypeSpec(
        label="Distributed Port Mirroring (legacy)",
        short_label="Legacy",
        help="The vSphere 5.0 type: ports to ports and/or uplinks, optionally VLAN-encapsulated.",
        source_tx=_PORTS,
        source_rx=_PORTS_WILD,
        destination=frozenset({"port_keys", "uplink_names"}),
        takes=frozenset(
            {"encapsulation_vlan_id", "strip_original_vlan", "mirrored_packet_length", "normal_traffic_allowed"}
        ),
        refuses={
            "sampling_rate": "Distributed Port Mirroring (legacy) sessions have no sampling rate; leave it unset "
            "(every packet is mirrored)."
        },
        uplink_port_destinations=True,
    ),
}
"""What each session type takes (vspan.md §2.1, §2.2): the only copy; rules, form and CLI derive from it."""


class EncapType(StrEnum):
    """``VMwareDVSVspanSessionEncapType`` (since 6.5)."""

    GRE = "gre"
    ERSPAN2 = "erspan2"
    ERSPAN3 = "erspan3"


class Direction(StrEnum):
    """A source port's mirrored direction, as the vSphere Client names it (vspan.md §2.3).

    Ingress = traffic the port *receives* from the VM = ``sourcePortReceived``;
    egress = ``sourcePortTransmitted``; both = the key in both lists.
    """

    BOTH = "both"
    INGRESS = "ingress"
    EGRESS = "egress"

    @property
    def label(self) -> str:
        """Human label for tables and the marks bar."""
        return {"both": "ingress+egress", "ingress": "ingress", "egress": "egress"}[self.value]


class Binding(StrEnum):
    """Portgroup port binding (``DVPortgroupConfigInfo.type``)."""

    EARLY = "earlyBinding"
    LATE = "lateBinding"
    EPHEMERAL = "ephemeral"


class ConnecteeType(StrEnum):
    """``DistributedVirtualSwitchPortConnecteeConnecteeType`` (vspan.md §1.7)."""

    VM_VNIC = "vmVnic"
    PNIC = "pnic"
    HOST_VMK_VNIC = "hostVmkVnic"
    HOST_CONSOLE_VNIC = "hostConsoleVnic"
    SYSTEM_CRX_VNIC = "systemCrxVnic"

    @classmethod
    def _missing_(cls, value: object) -> ConnecteeType | None:
        """A type this version does not know (a newer vCenter's) is kept as it is, not refused.

        The API declares ``connectee.type`` a string; pyVmomi passes any value through. The result
        is a ``ConnecteeType`` that is none of the members above (``is`` never matches them) and
        whose ``value`` is vCenter's text, so a port connected to something new is not shown free.
        """
        if not isinstance(value, str):
            return None
        other = str.__new__(cls, value)
        other._name_ = "OTHER"
        other._value_ = value
        return other


@dataclass(frozen=True, slots=True)
class Vlan:
    """A portgroup's VLAN policy: one ID (0 = none), a trunk of ranges, or a private VLAN."""

    vlan_id: int | None = 0
    """The access VLAN; ``None`` for a trunk or a private VLAN."""
    trunk: tuple[tuple[int, int], ...] = ()
    """Inclusive ``(start, end)`` ranges when the portgroup trunks VLANs."""
    pvlan: int | None = None
    """Secondary private VLAN ID, if any."""

    @property
    def is_trunk(self) -> bool:
        """True when the portgroup is a VLAN trunk."""
        return bool(self.trunk)

    def carries(self, vlan: int) -> bool:
        """Whether frames tagged ``vlan`` can pass this policy."""
        if self.trunk:
            return any(lo <= vlan <= hi for lo, hi in self.trunk)
        if self.pvlan is not None:
            return vlan == self.pvlan
        return self.vlan_id == vlan

    @property
    def label(self) -> str:
        """``VLAN 204``, ``trunk 0-4094``, ``PVLAN 999`` or ``no VLAN``, for people."""
        if self.trunk or self.pvlan is not None:
            return str(self)
        return f"VLAN {self.vlan_id}" if self.vlan_id else "no VLAN"

    def __str__(self) -> str:
        if self.trunk:
            return "trunk " + ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in self.trunk)
        if self.pvlan is not None:
            return f"PVLAN {self.pvlan}"
        return "none" if not self.vlan_id else str(self.vlan_id)


@dataclass(frozen=True, slots=True)
class Host:
    """An ESXi host."""

    key: str
    """Managed object ID, e.g. ``host-21``."""
    name: str


@dataclass(frozen=True, slots=True)
class Nic:
    """A VM network adapter."""

    key: int
    """Virtual device key (``VirtualDevice.key``), e.g. 4000."""
    label: str
    """``deviceInfo.label``, e.g. ``Network adapter 2``."""
    mac: str = ""
    """Lower-case colon notation; empty while vCenter has none (a generated MAC before the first power-on)."""
    switch: str = ""
    """Key (UUID) of the distributed switch the NIC is backed by; empty if not on a DVS."""
    portgroup: str = ""
    """Portgroup key of the backing."""
    port: str = ""
    """DVPort key of the backing (empty until connected on an ephemeral portgroup)."""
    connected: bool = True
    """``connectable.connected``."""
    ips: tuple[str, ...] = ()
    """Guest IP addresses reported by VMware Tools for this NIC."""
    network: str = ""
    """The network of a backing that is not a distributed port, when known: a standard network's
    ``deviceName`` (``VM Network``) or an opaque network (``nsx.LogicalSwitch 2d4f…``)."""


@dataclass(frozen=True, slots=True)
class Vm:
    """A virtual machine."""

    key: str
    """Managed object ID, e.g. ``vm-1042``."""
    name: str
    host: str = ""
    """Host key the VM runs on."""
    power: str = "poweredOn"
    nics: tuple[Nic, ...] = ()

    @property
    def ips(self) -> tuple[str, ...]:
        """Every guest IP of the VM."""
        return tuple(ip for n in self.nics for ip in n.ips)


@dataclass(frozen=True, slots=True)
class Connectee:
    """What a DVPort is connected to (``DistributedVirtualPort.connectee``)."""

    type: ConnecteeType
    entity: str
    """Key of the VM or host."""
    nic_key: str = ""
    """VM NIC device key (as text), ``vmk0``, or ``vmnic2``."""


@dataclass(frozen=True, slots=True)
class Port:
    """A distributed virtual port."""

    key: str
    """The port ID shown in the vSphere Client, e.g. ``448``."""
    switch: str
    """Switch key (UUID)."""
    portgroup: str = ""
    """Portgroup key; empty for a standalone port."""
    name: str = ""
    """``config.name``; for uplink ports the uplink name (``dvUplink1``)."""
    connectee: Connectee | None = None
    host: str = ""
    """Host key (``proxyHost``) serving the port."""
    link_up: bool = False
    mac: str = ""
    """Runtime MAC (``state.runtimeInfo.macAddress``)."""
    promiscuous: bool = False
    """Effective ``allowPromiscuous`` of the port."""

    @property
    def connected(self) -> bool:
        """True when something is connected to the port."""
        return self.connectee is not None

    @property
    def is_uplink(self) -> bool:
        """True for a port connected to a physical NIC."""
        return self.connectee is not None and self.connectee.type is ConnecteeType.PNIC


@dataclass(frozen=True, slots=True)
class Portgroup:
    """A distributed portgroup."""

    key: str
    """e.g. ``dvportgroup-41``."""
    name: str
    switch: str
    """Switch key (UUID)."""
    vlan: Vlan = field(default_factory=Vlan)
    binding: Binding = Binding.EARLY
    promiscuous: bool = False
    uplink: bool = False
    """True for the switch's uplink portgroup."""
    num_ports: int = 0


@dataclass(frozen=True, slots=True)
class VspanPorts:
    """``VMwareVspanPort``: one endpoint list of a mirror session (vspan.md §1.2)."""

    port_keys: tuple[str, ...] = ()
    uplink_names: tuple[str, ...] = ()
    vlans: tuple[int, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    wildcard_types: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.port_keys or self.uplink_names or self.vlans or self.ip_addresses or self.wildcard_types)

    def to_api(self) -> dict[str, list[Any]]:
        """The API shape, as used in JSON output and snapshots."""
        out: dict[str, list[Any]] = {
            "portKey": list(self.port_keys),
            "uplinkPortName": list(self.uplink_names),
            "vlans": list(self.vlans),
            "ipAddress": list(self.ip_addresses),
        }
        if self.wildcard_types:
            out["wildcardPortConnecteeType"] = list(self.wildcard_types)
        return out

    @classmethod
    def from_api(cls, data: dict[str, Any] | None) -> VspanPorts:
        """Inverse of :meth:`to_api`; ``None`` gives an empty list. ``TypeError`` on a bad shape."""
        data = data or {}
        if not isinstance(data, dict):
            raise TypeError(f"a port list must be an object with portKey, uplinkPortName... not {_kind(data)}")
        for name, value in data.items():
            if value is not None and not isinstance(value, list):
                raise TypeError(f"{name} must be a list, not {_kind(value)}")
            if name == "vlans" and any(type(v) is not int for v in value or ()):
                raise TypeError("vlans must be whole numbers")
        return cls(
            port_keys=tuple(str(k) for k in data.get("portKey") or ()),
            uplink_names=tuple(str(u) for u in data.get("uplinkPortName") or ()),
            vlans=tuple(int(v) for v in data.get("vlans") or ()),
            ip_addresses=tuple(str(i) for i in data.get("ipAddress") or ()),
            wildcard_types=tuple(str(w) for w in data.get("wildcardPortConnecteeType") or ()),
        )


# (model attribute, API name) for the scalar session fields, in API order.
_SESSION_API_FIELDS: tuple[tuple[str, str], ...] = (
    ("key", "key"),
    ("name", "name"),
    ("description", "description"),
    ("enabled", "enabled"),
    ("session_type", "sessionType"),
    ("encapsulation_vlan_id", "encapsulationVlanId"),
    ("strip_original_vlan", "stripOriginalVlan"),
    ("mirrored_packet_length", "mirroredPacketLength"),
    ("normal_traffic_allowed", "normalTrafficAllowed"),
    ("sampling_rate", "samplingRate"),
    ("encap_type", "encapType"),
    ("erspan_id", "erspanId"),
    ("erspan_cos", "erspanCOS"),
    ("erspan_gra_nanosec", "erspanGraNanosec"),
    ("netstack", "netstack"),
)
_SESSION_API_PORTS: tuple[tuple[str, str], ...] = (
    ("source_tx", "sourcePortTransmitted"),
    ("source_rx", "sourcePortReceived"),
    ("destination", "destinationPort"),
)


_SESSION_API_TYPES: dict[str, tuple[type, ...]] = {
    "key": (str, int),
    "name": (str,),
    "description": (str,),
    "enabled": (bool,),
    "sessionType": (str,),
    "encapsulationVlanId": (int,),
    "stripOriginalVlan": (bool,),
    "mirroredPacketLength": (int,),
    "normalTrafficAllowed": (bool,),
    "samplingRate": (int,),
    "encapType": (str,),
    "erspanId": (int,),
    "erspanCOS": (int,),
    "erspanGraNanosec": (bool,),
    "netstack": (str,),
}


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean"}.get(type(value), type(value).__name__)


API_NAMES: dict[str, str] = dict(_SESSION_API_FIELDS) | dict(_SESSION_API_PORTS)
"""Session attribute → vSphere API field name (problems name attributes; people read API names)."""


@dataclass(frozen=True, slots=True)
class MirrorSession:
    """``VMwareVspanSession``: every field of vspan.md §1.1.

    Optional API fields are ``None`` when unset; the three required booleans are always set.
    """

    key: str | None = None
    """Generated by vCenter; ``None`` for a session not yet created."""
    name: str = ""
    description: str = ""
    enabled: bool = True
    session_type: str | None = SessionType.DV_PORT_MIRROR.value
    """API string; kept as text so an unknown value from the server survives (rules flag it)."""
    source_tx: VspanPorts = field(default_factory=VspanPorts)
    """``sourcePortTransmitted`` (egress)."""
    source_rx: VspanPorts = field(default_factory=VspanPorts)
    """``sourcePortReceived`` (ingress; RMD VLANs live here)."""
    destination: VspanPorts = field(default_factory=VspanPorts)
    encapsulation_vlan_id: int | None = None
    strip_original_vlan: bool = False
    """``False`` = preserve the original VLAN (the UI shows the inverse)."""
    mirrored_packet_length: int | None = None
    """``None`` = mirror the whole frame."""
    normal_traffic_allowed: bool = False
    sampling_rate: int | None = None
    encap_type: str | None = None
    erspan_id: int | None = None
    erspan_cos: int | None = None
    erspan_gra_nanosec: bool | None = None
    netstack: str | None = None

    @property
    def type(self) -> SessionType | None:
        """The session type as an enum, or ``None`` if unset or unknown."""
        try:
            return SessionType(self.session_type) if self.session_type else None
        except ValueError:
            return None

    @property
    def type_label(self) -> str:
        """vSphere Client name of the type (or the raw value)."""
        t = self.type
        return t.label if t else (self.session_type or "(legacy, untyped)")

    def sources(self) -> dict[str, Direction]:
        """Source port keys with their direction, in first-seen order."""
        out: dict[str, Direction] = {}
        rx, tx = set(self.source_rx.port_keys), set(self.source_tx.port_keys)
        for key in (*self.source_rx.port_keys, *self.source_tx.port_keys):
            if key in out:
                continue
            out[key] = (
                Direction.BOTH if key in rx and key in tx else Direction.INGRESS if key in rx else Direction.EGRESS
            )
        return out

    def role_of(self, port_key: str) -> str | None:
        """``"source (ingress+egress)"``, ``"destination"`` … or ``None`` if not in the session."""
        roles = []
        src = self.sources().get(port_key)
        if src is not None:
            roles.append(f"source ({src.label})")
        if port_key in self.destination.port_keys:
            roles.append("destination")
        return ", ".join(roles) or None

    def port_keys(self) -> set[str]:
        """Every port key the session refers to."""
        return {*self.source_rx.port_keys, *self.source_tx.port_keys, *self.destination.port_keys}

    def to_api(self) -> dict[str, Any]:
        """The session with the vSphere API's field names (DESIGN.md §10)."""
        out: dict[str, Any] = {}
        for attr, api in _SESSION_API_FIELDS:
            out[api] = getattr(self, attr)
        for attr, api in _SESSION_API_PORTS:
            out[api] = getattr(self, attr).to_api()
        return out

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> MirrorSession:
        """Inverse of :meth:`to_api`. ``TypeError`` naming the field when a value has the wrong type."""
        if not isinstance(data, dict):
            raise TypeError(f"a session must be an object, not {_kind(data)}")
        kwargs: dict[str, Any] = {}
        for attr, api in _SESSION_API_FIELDS:
            value = data.get(api)
            if value is None:
                continue
            kinds = _SESSION_API_TYPES[api]
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                raise TypeError(f"{api} must be {' or '.join(k.__name__ for k in kinds)}, not {_kind(value)}")
            kwargs[attr] = str(value) if attr == "key" else value
        for attr, api in _SESSION_API_PORTS:
            try:
                kwargs[attr] = VspanPorts.from_api(data.get(api))
            except TypeError as e:
                raise TypeError(f"{api}: {e}") from None
        kwargs.setdefault("enabled", True)
        return cls(**kwargs)

    def with_changes(self, **changes: Any) -> MirrorSession:
        """A copy with ``changes`` applied (``dataclasses.replace``)."""
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class SwitchCapability:
    """Which VSPAN features the switch supports (vspan.md §1.5).

    Each feature is supported, not supported, or *unknown*: vCenter did not report it
    (``capability.featuresSupported`` missing, ``vspanCapability`` unset, or one flag unset).
    An unknown feature is offered, and vCenter decides when the change is sent.
    """

    vspan: bool | None = True
    """``vspanSupported``; ``None`` = not reported."""
    session_types: tuple[str, ...] = tuple(t.value for t in SessionType)
    """Session types the switch reports as supported."""
    erspan: bool | None = True
    """``erspanProtocolSupported``; ``None`` = not reported."""
    unknown_types: tuple[str, ...] = ()
    """Session types whose support vCenter did not report."""

    def supports(self, session_type: str) -> bool | None:
        """``True``/``False`` as reported for ``session_type``; ``None`` when not reported."""
        if self.vspan is False:
            return False
        if session_type in self.session_types:
            return True
        if session_type in self.unknown_types:
            return None
        return False

    @property
    def offered(self) -> tuple[str, ...]:
        """The types to offer: supported or unknown (in :class:`SessionType` order, then others)."""
        wanted = [t for t in (*self.session_types, *self.unknown_types) if self.supports(t) is not False]
        order = {t.value: i for i, t in enumerate(SessionType)}
        return tuple(sorted(dict.fromkeys(wanted), key=lambda t: order.get(t, len(order))))

    @classmethod
    def unknown(cls, vspan: bool | None = None) -> SwitchCapability:
        """Nothing reported about the session types (``vspanSupported`` may be)."""
        return cls(vspan=vspan, session_types=(), erspan=None, unknown_types=tuple(t.value for t in SessionType))


@dataclass(frozen=True, slots=True)
class Switch:
    """A vSphere Distributed Switch."""

    key: str
    """The switch UUID (``uuid``), the key ports and NIC backings refer to."""
    name: str
    moid: str = ""
    """Managed object ID, e.g. ``dvs-21``."""
    datacenter: str = ""
    version: str = ""
    """Product version, e.g. ``7.0.3``."""
    uplink_names: tuple[str, ...] = ()
    """``config.uplinkPortPolicy.uplinkPortName``."""
    config_version: str = ""
    capability: SwitchCapability = field(default_factory=SwitchCapability)
    sessions: tuple[MirrorSession, ...] = ()

    def session(self, key: str) -> MirrorSession | None:
        """The session with ``key``."""
        return next((s for s in self.sessions if s.key == key), None)


def new_session(switch: Switch) -> MirrorSession:
    """A new session with the vSphere Client's defaults for ``switch``.

    Distributed Port Mirroring where the switch supports it (else its first supported type, else
    its first type of unknown support),
    enabled, and "Preserve original VLAN" unchecked (``stripOriginalVlan`` true).
    """
    cap = switch.capability
    types = cap.offered
    default = SessionType.DV_PORT_MIRROR.value
    if cap.supports(default) is not True and cap.session_types and cap.session_types[0] in types:
        default = cap.session_types[0]  # a type the switch reports beats one it did not report
    return MirrorSession(
        session_type=default if default in types or not types else types[0],
        enabled=True,
        strip_original_vlan=True,
    )


class ChangeOperation(StrEnum):
    """``ConfigSpecOperation``."""

    ADD = "add"
    EDIT = "edit"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class SessionChange:
    """One ``VspanConfigSpec``: an operation and the complete session."""

    operation: ChangeOperation
    session: MirrorSession

    def to_api(self, switch_name: str) -> dict[str, Any]:
        """The ``change`` object of the CLI's JSON result."""
        return {"operation": self.operation.value, "switch": switch_name, "session": self.session.to_api()}


class Severity(StrEnum):
    """How serious a problem is: errors block a change, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """A rule violation or a vCenter fault, in plain words."""

    code: str
    """vCenter's fault name (``VspanPortConflict``) or an app warning code."""
    message: str
    field: str = ""
    """The session field concerned (model attribute name), or empty."""
    severity: Severity = Severity.ERROR

    def to_json(self) -> dict[str, str]:
        """The CLI JSON shape."""
        return {"code": self.code, "severity": self.severity.value, "field": self.field, "message": self.message}


def _holds(port: Port | None, vm: Vm, nic: Nic) -> bool:
    """Whether ``port``'s connectee is ``vm``'s ``nic``."""
    c = port.connectee if port is not None else None
    return c is not None and c.entity == vm.key and c.nic_key == str(nic.key)


class PortlessNic(NamedTuple):
    """A VM NIC that is on no port of the inventory, or a VM without any NIC (``nic`` is ``None``).

    Its backing is a standard or opaque network, or none; or a distributed portgroup with no
    port assigned (no ``portKey``: ephemeral before power-on, govmomi's stock vcsim); or a port
    that the inventory does not hold. Nothing pyVmomi returns is dropped: such a NIC is still
    found by VM name, NIC, MAC and IP, with no port. (A named tuple: a partial inventory, read
    before the ports, has one per NIC, and these are made fast.)
    """

    vm: Vm
    nic: Nic | None = None


@dataclass(frozen=True, slots=True)
class Inventory:
    """Everything dvmirror knows about one vCenter, immutable.

    Build it with :meth:`build`, which also fills the lookup dictionaries.
    """

    vcenter: str
    source: str
    """Where this came from: ``demo lab``, ``snapshot FILE`` or ``vCenter``."""
    datacenters: tuple[str, ...]
    hosts: dict[str, Host]
    switches: dict[str, Switch]
    portgroups: dict[str, Portgroup]
    ports: dict[tuple[str, str], Port]
    """Keyed by ``(switch key, port key)``: port keys are unique per switch only."""
    vms: dict[str, Vm]
    # Derived indexes (filled by build()).
    ports_by_portgroup: dict[str, tuple[Port, ...]] = field(default_factory=dict)
    ports_by_switch: dict[str, tuple[Port, ...]] = field(default_factory=dict)
    portgroups_by_switch: dict[str, tuple[Portgroup, ...]] = field(default_factory=dict)
    nic_by_port: dict[tuple[str, str], tuple[Vm, Nic]] = field(default_factory=dict)
    portless: tuple[PortlessNic, ...] = ()
    """Every VM NIC that no port holds, and every VM without a NIC, in VM order."""
    warnings: tuple[str, ...] = ()
    """What the load could not show as vCenter has it (two switches with one UUID...), for people."""

    @classmethod
    def build(
        cls,
        *,
        vcenter: str,
        source: str,
        datacenters: tuple[str, ...] | list[str],
        hosts: list[Host] | tuple[Host, ...],
        switches: list[Switch] | tuple[Switch, ...],
        portgroups: list[Portgroup] | tuple[Portgroup, ...],
        ports: list[Port] | tuple[Port, ...],
        vms: list[Vm] | tuple[Vm, ...],
        warnings: tuple[str, ...] | list[str] = (),
        ports_read: bool = True,
    ) -> Inventory:
        """Assemble an inventory and its indexes. Port order is preserved per portgroup.

        ``ports_read=False`` marks a partial inventory shown while the ports are still being read:
        a NIC whose backing names a port is not listed in ``portless`` (every one would be, for a
        moment); those naming none are.
        """
        by_pg: dict[str, list[Port]] = {}
        by_sw: dict[str, list[Port]] = {}
        for p in ports:
            by_sw.setdefault(p.switch, []).append(p)
            if p.portgroup:
                by_pg.setdefault(p.portgroup, []).append(p)
        pg_by_sw: dict[str, list[Portgroup]] = {}
        for pg in portgroups:
            pg_by_sw.setdefault(pg.switch, []).append(pg)
        by_key = {(p.switch, p.key): p for p in ports}
        nic_by_port: dict[tuple[str, str], tuple[Vm, Nic]] = {}
        claim = nic_by_port.setdefault
        portless: list[PortlessNic] = []
        contested: list[tuple[Vm, Nic]] = []
        for vm in vms:
            if not vm.nics:
                portless.append(PortlessNic(vm))
            for nic in vm.nics:
                if nic.switch and nic.port:
                    pair = (vm, nic)
                    if claim((nic.switch, nic.port), pair) is not pair:
                        contested.append(pair)
                else:
                    portless.append(PortlessNic(vm, nic))
        for vm, nic in contested:
            # Two NICs name one port: the port's connectee decides, else the first.
            if _holds(by_key.get((nic.switch, nic.port)), vm, nic):
                nic_by_port[(nic.switch, nic.port)] = (vm, nic)
        if ports_read and (contested or not nic_by_port.keys() <= by_key.keys()):
            # Rare: some NIC lost its port to another, or names a port not read. List them all again.
            owners = nic_by_port.get
            portless = [
                PortlessNic(vm, nic)
                for vm in vms
                for nic in (vm.nics or (None,))
                if nic is None
                or (owner := owners((nic.switch, nic.port))) is None
                or owner[1] is not nic
                or (nic.switch, nic.port) not in by_key
            ]
        return cls(
            vcenter=vcenter,
            source=source,
            datacenters=tuple(datacenters),
            hosts={h.key: h for h in hosts},
            switches={s.key: s for s in switches},
            portgroups={pg.key: pg for pg in portgroups},
            ports=by_key,
            vms={vm.key: vm for vm in vms},
            ports_by_portgroup={k: tuple(v) for k, v in by_pg.items()},
            ports_by_switch={k: tuple(v) for k, v in by_sw.items()},
            portgroups_by_switch={k: tuple(v) for k, v in pg_by_sw.items()},
            nic_by_port=nic_by_port,
            portless=tuple(portless),
            warnings=tuple(warnings),
        )

    # -- convenience lookups -------------------------------------------------------------

    def switch_by_name(self, name: str) -> Switch | None:
        """The switch called ``name`` (case-insensitive), or ``None``."""
        low = name.lower()
        return next((s for s in self.switches.values() if s.name.lower() == low or s.key == name), None)

    def port(self, switch: str, key: str) -> Port | None:
        """Port ``key`` on switch ``switch``."""
        return self.ports.get((switch, key))

    def vm_nic(self, port: Port) -> tuple[Vm, Nic] | None:
        """The VM and NIC connected to ``port``, if any."""
        return self.nic_by_port.get((port.switch, port.key))

    def host_name(self, key: str) -> str:
        """Host name for a host key ('' if unknown)."""
        h = self.hosts.get(key)
        return h.name if h else ""

    def port_row(self, port: Port) -> dict[str, Any]:
        """The JSON row of DESIGN.md §10 for ``port``."""
        sw = self.switches.get(port.switch)
        pg = self.portgroups.get(port.portgroup)
        vmnic = self.vm_nic(port)
        vm, nic = vmnic if vmnic else (None, None)
        return {
            "switch": sw.name if sw else port.switch,
            "portgroup": pg.name if pg else "",
            "port": port.key,
            "vm": vm.name if vm else "",
            "nic": nic.label if nic else (port.connectee.nic_key if port.connectee else ""),
            "mac": (nic.mac if nic else "") or port.mac,
            "ips": list(nic.ips) if nic else [],
            "host": self.host_name(port.host),
            "vlan": str(pg.vlan) if pg else "",
            "connected": port.connected,
        }

    def nic_row(self, item: PortlessNic) -> dict[str, Any]:
        """The JSON row of DESIGN.md §10 for a NIC on no port: ``port`` is ``None``.

        ``switch``, ``portgroup`` and ``vlan`` name the distributed portgroup the backing names,
        when there is one; ``portgroup`` is the network's name for a standard or opaque backing.
        ``connected`` is the NIC's own state (``connectable.connected``); ``nic`` is ``None``
        for a VM without a NIC.
        """
        vm, nic = item.vm, item.nic
        sw = self.switches.get(nic.switch) if nic else None
        pg = self.portgroups.get(nic.portgroup) if nic else None
        return {
            "switch": sw.name if sw else "",
            "portgroup": pg.name if pg else (nic.network if nic else ""),
            "port": None,
            "vm": vm.name,
            "nic": nic.label if nic else None,
            "mac": nic.mac if nic else "",
            "ips": list(nic.ips) if nic else [],
            "host": self.host_name(vm.host),
            "vlan": str(pg.vlan) if pg else "",
            "connected": nic.connected if nic else False,
        }

    def row(self, target: Port | PortlessNic) -> dict[str, Any]:
        """:meth:`port_row` or :meth:`nic_row`, whichever ``target`` is."""
        return self.port_row(target) if isinstance(target, Port) else self.nic_row(target)

    def nic_place(self, item: PortlessNic) -> str:
        """Why a NIC has no port, and where it is instead, in plain words."""
        nic = item.nic
        if nic is None:
            return "the VM has no network adapter"
        sw = self.switches.get(nic.switch)
        pg = self.portgroups.get(nic.portgroup)
        if nic.switch and nic.port:
            where = sw.name if sw else f"switch {nic.switch}"
            if (nic.switch, nic.port) in self.ports:
                owner = self.nic_by_port.get((nic.switch, nic.port))
                other = f"{owner[0].name} / {owner[1].label}" if owner else "another NIC"
                return f"backing names port {nic.port} on {where}, which {other} holds"
            return f"backing names port {nic.port} on {where}, which is not in the inventory"
        if nic.switch:
            on = f"portgroup {pg.name}" if pg else (sw.name if sw else f"switch {nic.switch}")
            return f"on {on} with no port assigned (no portKey)"
        if nic.network:
            return f"on {nic.network}: not on a distributed port"
        return "no network backing: not on a distributed port"

    def port_owner(self, port: Port) -> str:
        """What uses the port: ``F5-LTM01 / Network adapter 2``, ``esx-01 vmk0``, or ``(free)``."""
        vmnic = self.vm_nic(port)
        if vmnic:
            return f"{vmnic[0].name} / {vmnic[1].label}"
        if port.connectee is not None:
            who = self.host_name(port.connectee.entity) or port.connectee.entity
            return f"{who} {port.connectee.nic_key}".rstrip()
        return port.name or "(free)"

    def port_label(self, port: Port) -> str:
        """Short human description: ``448 · F5-LTM01 / Network adapter 2``."""
        return f"{port.key} · {self.port_owner(port)}"

    def sessions_of_port(self, port: Port) -> list[tuple[MirrorSession, str]]:
        """``(session, role)`` for every session on the port's switch that uses the port."""
        sw = self.switches.get(port.switch)
        out: list[tuple[MirrorSession, str]] = []
        for s in sw.sessions if sw else ():
            role = s.role_of(port.key)
            if role:
                out.append((s, role))
        return out

    def with_switch(self, switch: Switch) -> Inventory:
        """A copy with ``switch`` replaced (used after a session change)."""
        switches = dict(self.switches)
        switches[switch.key] = switch
        return replace(self, switches=switches)
