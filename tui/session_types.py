"""What each mirror-session type takes: the one table of vspan.md §2.2 (:data:`SESSION_TYPES`).

The rules, the wizard's form and the CLI derive from this table; nothing else says which
endpoint lists or scalar fields a type takes, requires or refuses. Also the encapsulation
types of an L3 source. Pure Python: no Textual, no pyVmomi.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


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
