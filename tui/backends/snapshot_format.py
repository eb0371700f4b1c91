"""The snapshot file format, declared once: msgspec Structs for reading and writing it.

Each JSON object of README's "Snapshot format" is one :class:`msgspec.Struct` below, with its
JSON field names, types and defaults; nothing else in dvmirror spells the format out. Reading
(:func:`decode`, :func:`convert`) and writing (:func:`encode`, :func:`to_builtins`) both go
through these classes, so the two cannot drift apart. Unknown fields are refused, and every
problem names its JSON path (``$.ports[3].key: missing``), in the words of :func:`problem`.

``null`` is taken as "not given" wherever the older hand-written reader took it so (so every
snapshot dvmirror has written reads as before); whole numbers are within the vSphere API's 64-bit
range. The model (:mod:`tui.model`) stays the frozen dataclasses every layer shares:
:func:`to_inventory` and :func:`from_inventory` convert.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Annotated, Any, TypeVar

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from tui.model import (
    API_NAMES,
    Binding,
    Connectee,
    ConnecteeType,
    Host,
    Inventory,
    MirrorSession,
    Nic,
    Port,
    Portgroup,
    PortStatistics,
    Switch,
    SwitchCapability,
    Vlan,
    Vm,
    VspanPorts,
)
from tui.port_stats import COUNTERS, STAT_API_NAMES
from tui.text import visible

FORMAT = "dvmirror-snapshot"
VERSION = 2
"""The version written. Version 2 added the optional ``portStatistics`` section."""
READABLE_VERSIONS = (1, 2)
"""Versions read: a version 1 file is a version 2 file without ``portStatistics``."""

Int = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]
"""A whole number within the API's ``long`` (64-bit) range."""


class _Object(Struct, forbid_unknown_fields=True, gc=False):
    """A JSON object of the format: unknown fields are an error. (``gc=False``: these hold no
    reference cycles, so the collector need not track the hundred thousand of them.) Each class
    is ``kw_only`` so that its fields are declared, and written, in README's order."""


S = TypeVar("S", bound=Struct)


def _json(cls: type[S], obj: Any, **differ: Any) -> S:
    """``cls`` with each field copied from the model object's attribute of the same name, except
    those in ``differ`` (tuples are written as JSON lists)."""
    return cls(**{f: getattr(obj, f) for f in cls.__struct_fields__ if f not in differ}, **differ)


# -- mirror sessions: the vSphere API's field names (VMwareVspanSession, vspan.md §1) ----------


class SessionPortsJson(
    _Object,
    kw_only=True,
    rename={
        "port_keys": "portKey",
        "uplink_names": "uplinkPortName",
        "vlans": "vlans",
        "ip_addresses": "ipAddress",
        "wildcard_types": "wildcardPortConnecteeType",
    },
):
    """``VMwareVspanPort``: the attributes of :class:`tui.model.VspanPorts`, API names in JSON."""

    port_keys: list[str] | None = None
    uplink_names: list[str] | None = None
    vlans: list[Int] | None = None
    ip_addresses: list[str] | None = None
    wildcard_types: list[str] | None | UnsetType = UNSET
    """Written only when there are any."""


class SessionJson(_Object, kw_only=True, rename=API_NAMES):
    """``VMwareVspanSession``: the attributes of :class:`tui.model.MirrorSession` (JSON names from
    :data:`tui.model.API_NAMES`, in the API's order); ``null`` or missing = the model's default."""

    key: str | Int | None = None
    name: str | None = None
    description: str | None = None
    enabled: bool | None = None
    session_type: str | None = None
    encapsulation_vlan_id: Int | None = None
    strip_original_vlan: bool | None = None
    mirrored_packet_length: Int | None = None
    normal_traffic_allowed: bool | None = None
    sampling_rate: Int | None = None
    encap_type: str | None = None
    erspan_id: Int | None = None
    erspan_cos: Int | None = None
    erspan_gra_nanosec: bool | None = None
    netstack: str | None = None
    source_tx: SessionPortsJson | None = None
    source_rx: SessionPortsJson | None = None
    destination: SessionPortsJson | None = None


_SESSION_SCALARS = tuple(f for f in SessionJson.__struct_fields__ if f not in ("source_tx", "source_rx", "destination"))


def session_from_json(s: SessionJson) -> MirrorSession:
    """The model's session (fields left ``null`` keep the model's defaults)."""
    kwargs: dict[str, Any] = {f: v for f in _SESSION_SCALARS if (v := getattr(s, f)) is not None}
    if "key" in kwargs:
        kwargs["key"] = str(kwargs["key"])
    return MirrorSession(
        **kwargs,
        source_tx=_ports_from_json(s.source_tx),
        source_rx=_ports_from_json(s.source_rx),
        destination=_ports_from_json(s.destination),
    )


def session_from_api(data: Any) -> MirrorSession:
    """A session in the API shape of ``to_api()`` and ``--json`` (``msgspec.ValidationError`` naming the field)."""
    return session_from_json(msgspec.convert(data, SessionJson))


def session_json(s: MirrorSession) -> SessionJson:
    """The JSON shape of ``s`` (every field written, ``null`` when unset)."""
    return _json(
        SessionJson,
        s,
        source_tx=_ports_json(s.source_tx),
        source_rx=_ports_json(s.source_rx),
        destination=_ports_json(s.destination),
    )


def _ports_from_json(p: SessionPortsJson | None) -> VspanPorts:
    if p is None:
        return VspanPorts()
    return VspanPorts(
        port_keys=tuple(p.port_keys or ()),
        uplink_names=tuple(p.uplink_names or ()),
        vlans=tuple(p.vlans or ()),
        ip_addresses=tuple(p.ip_addresses or ()),
        wildcard_types=tuple(p.wildcard_types or ()),
    )


def _ports_json(p: VspanPorts) -> SessionPortsJson:
    return _json(SessionPortsJson, p, wildcard_types=list(p.wildcard_types) if p.wildcard_types else UNSET)


# -- the inventory ----------------------------------------------------------------------------


class HostJson(_Object, kw_only=True):
    key: str
    name: str


class CapabilityJson(
    _Object, kw_only=True, rename={"session_types": "sessionTypes", "unknown_types": "unknownSessionTypes"}
):
    """``capability.featuresSupported`` as vCenter reported it (README)."""

    vspan: bool | None | UnsetType = UNSET
    """``null`` = not reported; missing = ``true`` (the meaning before unknown existed)."""
    session_types: list[str] | None = None
    erspan: bool | None | UnsetType = UNSET
    unknown_types: list[str] | None | UnsetType = UNSET
    """Written only when there are any, or when no type is supported; without it (older
    snapshots) an empty ``sessionTypes`` means every type."""


class SwitchJson(_Object, kw_only=True, rename="camel"):
    key: str
    name: str
    moid: str | None = None
    datacenter: str | None = None
    version: str | None = None
    uplink_names: list[str] | None = None
    config_version: str | None = None
    capability: CapabilityJson | None = None
    sessions: list[SessionJson] | None = None


class VlanJson(_Object, kw_only=True):
    """``{"id": N}`` (0 = none), ``{"trunk": [[start, end], …]}`` or ``{"pvlan": N}``; the
    first of trunk, pvlan and id that is present decides."""

    id: Int | None | UnsetType = UNSET
    trunk: list[tuple[Int, Int]] | None | UnsetType = UNSET
    pvlan: Int | None | UnsetType = UNSET


class PortgroupJson(_Object, kw_only=True, rename="camel"):
    key: str
    name: str
    switch: str
    vlan: VlanJson | None = None
    binding: Binding | None = None
    promiscuous: bool | None = None
    uplink: bool | None = None
    num_ports: Int | None = None
    nsx: bool | UnsetType = UNSET
    """Written only when true (an NSX-backed portgroup), so other snapshots stay as they were."""


class ConnecteeJson(_Object, kw_only=True, rename="camel"):
    type: ConnecteeType | None = None
    entity: str
    nic_key: str | None = None


class PortJson(_Object, kw_only=True, rename="camel"):
    key: str
    switch: str
    portgroup: str | None = None
    name: str | None = None
    connectee: ConnecteeJson | None = None
    host: str | None = None
    link_up: bool | None = None
    mac: str | None = None
    promiscuous: bool | None = None


class NicJson(_Object, kw_only=True):
    key: Int
    label: str
    mac: str | None = None
    switch: str | None = None
    portgroup: str | None = None
    port: str | None = None
    connected: bool | None = None
    ips: list[str] | None = None
    network: str | None | UnsetType = UNSET
    """The name of a standard or opaque network backing; written only when there is one."""


class VmJson(_Object, kw_only=True):
    key: str
    name: str
    host: str | None = None
    power: str | None = None
    nics: list[NicJson] | None = None


class CountersJson(_Object, kw_only=True, rename=STAT_API_NAMES):
    """``DistributedVirtualSwitchPortStatistics``: the API's names; a missing counter is 0, a
    missing ``bytesInFromPnic``/``bytesOutToPnic`` not reported (vCenter before 6.5)."""

    packets_in_multicast: Int = 0
    packets_out_multicast: Int = 0
    bytes_in_multicast: Int = 0
    bytes_out_multicast: Int = 0
    packets_in_unicast: Int = 0
    packets_out_unicast: Int = 0
    bytes_in_unicast: Int = 0
    bytes_out_unicast: Int = 0
    packets_in_broadcast: Int = 0
    packets_out_broadcast: Int = 0
    bytes_in_broadcast: Int = 0
    bytes_out_broadcast: Int = 0
    packets_in_dropped: Int = 0
    packets_out_dropped: Int = 0
    packets_in_exception: Int = 0
    packets_out_exception: Int = 0
    bytes_in_from_pnic: Int | None = None
    bytes_out_to_pnic: Int | None = None


Rate = Annotated[float, Meta(ge=0, le=1e15)]
"""Units per second: no port moves more than 10^15 of anything a second."""


class RatesJson(_Object, kw_only=True, rename=STAT_API_NAMES):
    """Per-second growth of each counter (API names), for a lab whose traffic moves: ``null`` or
    missing = the counter stands still."""

    packets_in_multicast: Rate | None = None
    packets_out_multicast: Rate | None = None
    bytes_in_multicast: Rate | None = None
    bytes_out_multicast: Rate | None = None
    packets_in_unicast: Rate | None = None
    packets_out_unicast: Rate | None = None
    bytes_in_unicast: Rate | None = None
    bytes_out_unicast: Rate | None = None
    packets_in_broadcast: Rate | None = None
    packets_out_broadcast: Rate | None = None
    bytes_in_broadcast: Rate | None = None
    bytes_out_broadcast: Rate | None = None
    packets_in_dropped: Rate | None = None
    packets_out_dropped: Rate | None = None
    packets_in_exception: Rate | None = None
    packets_out_exception: Rate | None = None
    bytes_in_from_pnic: Rate | None = None
    bytes_out_to_pnic: Rate | None = None


Timestamp = Annotated[str, Meta(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")]
"""UTC, as ``2026-11-28T06:00:00Z`` (fractions of a second allowed)."""


class PortStatisticsJson(_Object, kw_only=True):
    """One port's counters as read at ``read`` (version 2): what ``portStatistics`` holds."""

    switch: str
    port: str
    read: Timestamp
    counters: CountersJson
    rates: RatesJson | None = None


class SnapshotJson(_Object, kw_only=True):
    """The whole file (README "Snapshot format")."""

    format: str
    version: Int
    saved: str | None = None
    vcenter: str
    datacenters: list[str] | None = None
    hosts: list[HostJson]
    switches: list[SwitchJson]
    portgroups: list[PortgroupJson]
    ports: list[PortJson]
    vms: list[VmJson]
    port_statistics: list[PortStatisticsJson] | UnsetType = msgspec.field(default=UNSET, name="portStatistics")
    """Version 2, optional: recorded counters, with rates where the lab's traffic moves."""


_DECODER = msgspec.json.Decoder(SnapshotJson)
_ENCODER = msgspec.json.Encoder()


def decode(raw: bytes) -> SnapshotJson:
    """Parse and check snapshot JSON bytes. Raises ``msgspec.DecodeError`` (not JSON) or
    ``msgspec.ValidationError`` (not this format): see :func:`problem`."""
    return _DECODER.decode(raw)


def convert(data: Any) -> SnapshotJson:
    """Check already parsed JSON (``json.loads``) against the format, as :func:`decode` does."""
    return msgspec.convert(data, SnapshotJson)


def encode(snapshot: SnapshotJson, indent: int = 1) -> bytes:
    """UTF-8 JSON of ``snapshot``, fields in README's order, indented as ``json.dumps`` does."""
    return msgspec.json.format(_ENCODER.encode(snapshot), indent=indent)


def to_builtins(snapshot: SnapshotJson) -> dict[str, Any]:
    """``snapshot`` as plain dicts and lists: what ``json.loads`` of :func:`encode` gives."""
    out: dict[str, Any] = msgspec.json.decode(_ENCODER.encode(snapshot))
    return out


# -- to and from the model --------------------------------------------------------------------


def _capability(c: CapabilityJson | None) -> SwitchCapability:
    if c is None:
        return SwitchCapability()
    types = tuple(c.session_types or ())
    unknown = c.unknown_types if isinstance(c.unknown_types, list) else None
    return SwitchCapability(
        vspan=True if c.vspan is UNSET else c.vspan,
        session_types=types if unknown is not None else types or SwitchCapability().session_types,
        erspan=True if c.erspan is UNSET else c.erspan,
        unknown_types=tuple(unknown or ()),
    )


def _capability_json(cap: SwitchCapability) -> CapabilityJson:
    return CapabilityJson(
        vspan=cap.vspan,
        session_types=list(cap.session_types),
        erspan=cap.erspan,
        unknown_types=list(cap.unknown_types) if cap.unknown_types or not cap.session_types else UNSET,
    )


def _vlan(v: VlanJson | None) -> Vlan:
    if v is None:
        return Vlan()
    if v.trunk is not UNSET:
        return Vlan(vlan_id=None, trunk=tuple(v.trunk or ()))
    if v.pvlan is not UNSET:
        return Vlan(vlan_id=None, pvlan=v.pvlan)
    return Vlan(vlan_id=v.id or 0)


def _vlan_json(v: Vlan) -> VlanJson:
    if v.trunk:
        return VlanJson(trunk=[(a, b) for a, b in v.trunk])
    if v.pvlan is not None:
        return VlanJson(pvlan=v.pvlan)
    return VlanJson(id=v.vlan_id or 0)


def _switch(s: SwitchJson) -> Switch:
    return Switch(
        key=s.key,
        name=s.name,
        moid=s.moid or "",
        datacenter=s.datacenter or "",
        version=s.version or "",
        uplink_names=tuple(s.uplink_names or ()),
        config_version="1" if s.config_version is None else s.config_version,
        capability=_capability(s.capability),
        sessions=tuple(session_from_json(x) for x in s.sessions or ()),
    )


def _ports(items: Iterable[PortJson]) -> list[Port]:
    out: list[Port] = []
    append = out.append
    vm_vnic = ConnecteeType.VM_VNIC
    for p in items:
        c = p.connectee
        append(
            Port(
                key=p.key,
                switch=p.switch,
                portgroup=p.portgroup or "",
                name=p.name or "",
                connectee=None
                if c is None
                else Connectee(type=c.type or vm_vnic, entity=c.entity, nic_key=c.nic_key or ""),
                host=p.host or "",
                link_up=p.link_up or False,
                mac=p.mac.lower() if p.mac else "",
                promiscuous=p.promiscuous or False,
            )
        )
    return out


def _vms(items: Iterable[VmJson]) -> list[Vm]:
    return [
        Vm(
            key=v.key,
            name=v.name,
            host=v.host or "",
            power="poweredOn" if v.power is None else v.power,
            nics=tuple(
                Nic(
                    key=n.key,
                    label=n.label,
                    mac=n.mac.lower() if n.mac else "",
                    switch=n.switch or "",
                    portgroup=n.portgroup or "",
                    port=n.port or "",
                    connected=True if n.connected is None else n.connected,
                    ips=tuple(n.ips or ()),
                    network=n.network or "",
                )
                for n in v.nics or ()
            ),
        )
        for v in items
    ]


def parse_time(text: str) -> float:
    """A ``Timestamp`` as POSIX seconds (``ValueError`` for an impossible date such as month 13)."""
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def format_time(seconds: float) -> str:
    """POSIX seconds as a ``Timestamp`` (whole seconds unless there is a fraction)."""
    from datetime import UTC, datetime

    t = datetime.fromtimestamp(seconds, UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{t.microsecond:06d}" if t.microsecond else "") + "Z"


RecordedStatistics = dict[tuple[str, str], tuple[PortStatistics, dict[str, float]]]
"""(switch key, port key) → (the counters as read, the per-second rates of those that move)."""


def port_statistics(snap: SnapshotJson) -> RecordedStatistics:
    """The ``portStatistics`` section (empty when there is none). Raises ``ValueError`` naming the
    JSON path of an impossible ``read`` time or a port recorded twice."""
    out: RecordedStatistics = {}
    if isinstance(snap.port_statistics, UnsetType):
        return out
    for i, rec in enumerate(snap.port_statistics):
        where = f"$.portStatistics[{i}]"
        try:
            read_at = parse_time(rec.read)
        except ValueError:
            raise ValueError(f"{where}.read: {visible(repr(rec.read))} is not a date and time") from None
        if (rec.switch, rec.port) in out:
            raise ValueError(f"{where}: port {visible(repr(rec.port))} of this switch is recorded twice")
        stats = PortStatistics(read_at=read_at, **{n: getattr(rec.counters, n) for n in COUNTERS})
        rates = {n: float(r) for n in COUNTERS if rec.rates is not None and (r := getattr(rec.rates, n))}
        out[(rec.switch, rec.port)] = (stats, rates)
    return out


def port_statistics_json(
    switch: str, port: str, stats: PortStatistics, rates: dict[str, float] | None = None
) -> PortStatisticsJson:
    """One ``portStatistics`` entry (inverse of :func:`port_statistics` for one port)."""
    counters: dict[str, Any] = {n: stats.counter(n) for n in COUNTERS}
    return PortStatisticsJson(
        switch=switch,
        port=port,
        read=format_time(stats.read_at),
        counters=CountersJson(**counters),
        rates=None if not rates else RatesJson(**{n: rates[n] for n in COUNTERS if n in rates}),
    )


def to_inventory(snap: SnapshotJson, source: str) -> Inventory:
    """The model's inventory (references are not checked here)."""
    return Inventory.build(
        vcenter=snap.vcenter,
        source=source,
        datacenters=tuple(snap.datacenters or ()),
        hosts=[Host(key=h.key, name=h.name) for h in snap.hosts],
        switches=[_switch(s) for s in snap.switches],
        portgroups=[
            Portgroup(
                key=pg.key,
                name=pg.name,
                switch=pg.switch,
                vlan=_vlan(pg.vlan),
                binding=pg.binding or Binding.EARLY,
                promiscuous=pg.promiscuous or False,
                uplink=pg.uplink or False,
                num_ports=pg.num_ports or 0,
                nsx=pg.nsx is True,
            )
            for pg in snap.portgroups
        ],
        ports=_ports(snap.ports),
        vms=_vms(snap.vms),
    )


def from_inventory(inv: Inventory, saved: str, statistics: Iterable[PortStatisticsJson] | None = None) -> SnapshotJson:
    """The snapshot of ``inv`` (inverse of :func:`to_inventory`), with ``statistics`` if given."""
    return SnapshotJson(
        format=FORMAT,
        version=VERSION,
        saved=saved,
        vcenter=inv.vcenter,
        datacenters=list(inv.datacenters),
        hosts=[_json(HostJson, h) for h in inv.hosts.values()],
        switches=[
            _json(
                SwitchJson,
                s,
                capability=_capability_json(s.capability),
                sessions=[session_json(x) for x in s.sessions],
            )
            for s in inv.switches.values()
        ],
        portgroups=[
            _json(PortgroupJson, pg, vlan=_vlan_json(pg.vlan), nsx=True if pg.nsx else UNSET)
            for pg in inv.portgroups.values()
        ],
        ports=[
            _json(PortJson, p, connectee=None if p.connectee is None else _json(ConnecteeJson, p.connectee))
            for p in inv.ports.values()
        ],
        vms=[
            _json(VmJson, vm, nics=[_json(NicJson, n, network=n.network or UNSET) for n in vm.nics])
            for vm in inv.vms.values()
        ],
        port_statistics=UNSET if statistics is None else list(statistics),
    )


# -- problems in words ------------------------------------------------------------------------

_WORDS = {
    "str": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "a boolean",
    "array": "a list",
    "object": "an object",
    "null": "null",
}
_FOUND = _WORDS | {"int": "a number"}
_AT = re.compile(r"(?P<what>.*?)(?: - at `(?P<path>[^`]*)`)?", re.S)
_EXPECTED = re.compile(r"Expected `(?P<want>[^`]+)`, got `(?P<got>\w+)`")
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+|\.\.\.)\]")


def problem(error: msgspec.ValidationError) -> str:
    """``error`` as ``PATH: what is wrong`` in dvmirror's words (``$.ports[3].key: missing``).

    Names found in the data (an unknown field, a bad enum value) are shown with
    :func:`tui.text.visible`, so no control character reaches the terminal.
    """
    m = _AT.fullmatch(str(error))
    what, path = (m["what"], m["path"] or "$") if m else (str(error), "$")
    if what.startswith("Object missing required field `"):
        return f"{path}.{what.split('`')[1]}: missing"
    if what.startswith("Object contains unknown field `"):
        name = what[len("Object contains unknown field `") : -1]
        known = [f.encode_name for f in _struct_at(path)]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
        return f"{path}: unknown field {visible(repr(name))} ({hint})"
    if trunk := re.fullmatch(r"(.*\.trunk\[\d+\])(?:\[\d+\])?", path):
        return f"{trunk[1]}: expected [start, end]"
    if e := _EXPECTED.fullmatch(what):
        wanted = [_WORDS.get(t, t) for t in e["want"].split(" | ") if t != "null"]
        return f"{path}: expected {' or '.join(wanted)}, found {_FOUND.get(e['got'], e['got'])}"
    if what.startswith("Expected `str` matching regex"):
        return f"{path}: expected a UTC time such as 2026-11-28T06:00:00Z"
    if f := re.fullmatch(r"Expected `float` (?P<op>[<>]=?) (?P<bound>[-\d.e+]+)", what):
        bound = float(f["bound"])
        limit = f"{bound:g}" if bound != int(bound) or abs(bound) >= 1e6 else str(int(bound))
        words = {">=": "of at least", ">": "above", "<=": "of at most", "<": "below"}[f["op"]]
        return f"{path}: a number {words} {limit} is needed"
    if re.fullmatch(r"Expected `int` [<>]=? -?\d+", what):
        return f"{path}: a whole number out of range (at most 64 bits)"
    if what.startswith("Invalid enum value "):
        allowed = ", ".join(str(v) for v in _enum_at(path))
        return f"{path}: {visible(what[len('Invalid enum value ') :])} is not one of {allowed}"
    if a := re.fullmatch(r"Expected `array` of length (\d+)(?:, got (\d+))?", what):
        return f"{path}: expected a list of {a[1]} items"
    if what in ("Integer value out of range", "Number out of range"):
        return f"{path}: a number out of range"
    return f"{path}: {visible(what)}"


def _type_at(path: str) -> msgspec.inspect.Type:
    """The declared type at a JSON path of :class:`SnapshotJson` (``$.ports[0].connectee``)."""
    t: msgspec.inspect.Type = msgspec.inspect.type_info(SnapshotJson)
    for name, index in _STEP.findall(path):
        t = _concrete(t)
        if name and isinstance(t, msgspec.inspect.StructType):
            t = next((f.type for f in t.fields if f.encode_name == name), msgspec.inspect.AnyType())
        elif index and isinstance(t, (msgspec.inspect.ListType, msgspec.inspect.TupleType)):
            t = t.item_type if isinstance(t, msgspec.inspect.ListType) else t.item_types[int(index)]
    return _concrete(t)


def _concrete(t: msgspec.inspect.Type) -> msgspec.inspect.Type:
    """``T | None`` → ``T`` (inspect leaves ``UNSET`` out of unions)."""
    if isinstance(t, msgspec.inspect.UnionType):
        rest = [x for x in t.types if not isinstance(x, msgspec.inspect.NoneType)]
        if len(rest) == 1:
            return rest[0]
    return t


def _struct_at(path: str) -> tuple[msgspec.inspect.Field, ...]:
    t = _type_at(path)
    return t.fields if isinstance(t, msgspec.inspect.StructType) else ()


def _enum_at(path: str) -> tuple[Any, ...]:
    t = _type_at(path)
    return tuple(e.value for e in t.cls) if isinstance(t, msgspec.inspect.EnumType) else ()
