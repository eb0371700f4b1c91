"""The things of a vCenter inventory: hosts, VMs and their NICs, switches, portgroups and ports.

Frozen dataclasses that the backends fill from what they read; field names follow the vSphere
API where an operator would recognise them. A switch carries its capability (which session
types it supports) and its mirror sessions; :func:`new_session` gives the vSphere Client's
defaults for a new session on it. Pure Python: no Textual, no pyVmomi.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from tui.mirror_session import MirrorSession
from tui.session_types import SessionType


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
    nsx: bool = False
    """Backed by NSX (``config.backingType`` ``nsx``, vSphere 7.0): its ports are NSX ports, those
    ``PortCriteria.nsxPort`` selects ("NSX ports are ports of NSX port group", the API reference)."""


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
