"""A mirror session as the vSphere API has it (``VMwareVspanSession``), and a change to one.

:class:`MirrorSession` and its endpoint lists (:class:`VspanPorts`) with their API shape: the
field names (:data:`API_NAMES`), ``to_api`` and ``from_api`` (the CLI's JSON and snapshots);
:class:`SessionChange` is one ``VspanConfigSpec``. Pure Python: no Textual, no pyVmomi.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from tui.session_types import SessionType


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
