"""The search index: find ports by VM name, NIC, IP, MAC, port key or portgroup.

VM NICs on no port (``Inventory.portless``: a standard or opaque network, no backing, no port
key) and VMs without a NIC are searchable too, by VM name, NIC, MAC and IP: their hits carry a
:class:`~tui.model.PortlessNic` instead of a port.

Built once per inventory in memory (no vCenter call per keystroke), and derived from the previous
index after a live update (:meth:`LookupIndex.derived`). Exact matches rank first, then prefixes,
then substrings; comparisons ignore case, and MAC addresses match in any common notation
(``00:50:56:9a:1b:2c``, ``00-50-56-9A-1B-2C``, ``0050.569a.1b2c``, ``0050569a1b2c``).
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum
from itertools import accumulate
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from tui.gcpause import gc_paused
from tui.model import Direction, Inventory, MirrorSession, Port, PortlessNic, Switch, Vm

if TYPE_CHECKING:
    from tui.inventory_update import Delta


class Field(IntEnum):
    """What a hit matched, in ranking order (lower is better)."""

    PORT = 0
    VM = 1
    IP = 2
    MAC = 3
    VM_NIC = 4
    NIC = 5
    PORTGROUP = 6
    HOST = 7

    @property
    def label(self) -> str:
        """Short human name."""
        return {4: "vm/nic"}.get(self.value, self.name.lower())


class Match(IntEnum):
    """How well a hit matched."""

    EXACT = 0
    PREFIX = 1
    SUBSTRING = 2


Target = Port | PortlessNic
"""What a hit finds: a port, or a VM NIC on no port (or a VM without a NIC)."""


@dataclass(frozen=True, slots=True)
class Hit:
    """One matching port (or NIC on no port) and why it matched."""

    target: Target
    field: Field
    match: Match
    text: str
    """The value that matched, as shown to the user."""

    @property
    def reason(self) -> str:
        """Why it matched, with the whole value: ``mac: 00:50:56:9a:1b:2c`` (also for a search
        by a MAC's or an IP's first digits), ``vm: F5-LTM01``."""
        return f"{self.field.label}: {self.text}"

    @property
    def port(self) -> Port | None:
        """The port found, or ``None`` for a NIC on no port."""
        return self.target if type(self.target) is Port else None

    @property
    def portless(self) -> PortlessNic | None:
        """The NIC on no port found, or ``None`` for a port."""
        return self.target if type(self.target) is PortlessNic else None


_HEX = re.compile(r"[0-9a-f]+")
_MAC_SEPARATORS = re.compile(r"[:\-.\s]")


def normalize_mac(text: str) -> str | None:
    """Twelve lower-case hex digits for a MAC in any common notation, else ``None``."""
    digits = _MAC_SEPARATORS.sub("", text.strip().lower())
    if len(digits) == 12 and _HEX.fullmatch(digits):
        return digits
    return None


def _mac_fragment(text: str) -> str | None:
    """Hex digits of a partial MAC such as ``9a:1b`` (needs a separator or 4+ hex digits)."""
    low = text.strip().lower()
    digits = _MAC_SEPARATORS.sub("", low)
    if not digits or not _HEX.fullmatch(digits):
        return None
    if _MAC_SEPARATORS.search(low) or len(digits) >= 4:
        return digits
    return None


def format_mac(digits: str) -> str:
    """``00:50:56:9a:1b:2c`` from twelve hex digits."""
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


_AFTER_PORTS = 1 << 30
"""Sorts a NIC on no port after the ports that matched as well."""

_SEPARATORS = ("\x00", "\x1f", "\ufdd0", "\ufdd1", "\U0010fffe")
"""Characters that may join a column's texts into one string (the first that none of them holds)."""

_FIELDS = tuple(Field)
_HOSTLESS = tuple(f for f in Field if f is not Field.HOST)
"""Fields matched by prefix and substring too (a host name matches only exactly)."""


def _separator(texts: list[str]) -> str:
    joined = "".join(texts)
    for sep in _SEPARATORS:
        if sep not in joined:
            return sep
    code = 0xE000  # a private-use character none of them holds (there are fewer texts than characters)
    while chr(code) in joined:
        code += 1
    return chr(code)


def _mac_text(mac: str) -> str | None:
    """The MAC as the index shows it: ``00:50:56:9a:1b:2c`` (given so, it is kept as it is)."""
    if len(mac) == 17 and mac[2::3] == ":::::":
        return mac
    digits = normalize_mac(mac)
    return format_mac(digits) if digits else None


class _Query(NamedTuple):
    q: str
    """The query, stripped and lower-cased."""
    mac: str | None
    """Its twelve hex digits when it is a whole MAC."""
    fragment: str | None
    """Its hex digits when it is part of a MAC (:func:`_mac_fragment`)."""


def _classify(field: Field, text: str, low: str, query: _Query) -> Match | None:
    """How a value ``text`` of ``field`` (lower-cased ``low``) matches, or ``None``.

    The one definition of a match: exact when the value's key (a MAC's digits, else the value) is
    the query or the MAC it spells; a MAC also matches by its digits (``9a1b``, ``9a:1b``); a value
    contains the query (prefix or substring); a host name matches only exactly.
    """
    q = query.q
    if field is Field.MAC:
        digits = text.replace(":", "")
        if digits == q or digits == query.mac:
            return Match.EXACT
        best: Match | None = None
        frag = query.fragment
        if frag is not None and digits != query.mac and frag in digits:
            best = Match.PREFIX if digits.startswith(frag) else Match.SUBSTRING
        if low != q and q in low and (best is None or best is Match.SUBSTRING):
            best = Match.PREFIX if low.startswith(q) else Match.SUBSTRING
        return best
    if low == q or low == query.mac:
        return Match.EXACT
    if field is not Field.HOST and q in low:
        return Match.PREFIX if low.startswith(q) else Match.SUBSTRING
    return None


class _Column:
    """Every distinct value of one field, with the targets that have it.

    Values are kept in ranking order (shorter first, then by lower-cased text) and joined into one
    string, so that ``str.find`` (in C) finds the matching values in that order: a query matching
    thousands stops at the first ones it needs.
    """

    __slots__ = ("digits", "field", "groups", "joined", "lens", "lows", "sep", "starts", "texts")

    def __init__(self, field: Field, table: dict[str, list[int]]) -> None:
        self.field = field
        texts = sorted(table, key=str.lower)
        texts.sort(key=len)  # stable: by length, then lower case
        self.texts = texts
        self.lows = list(map(str.lower, texts))
        self.lens = list(map(len, texts))
        self.groups = list(map(table.__getitem__, texts))
        """Per value, its targets' ids in ranking order."""
        self.sep = _separator(self.lows)
        self.joined, self.starts = self._join(self.lows)
        self.digits: tuple[str, list[int]] | None = None
        if field is Field.MAC:
            self.digits = self._join([t.replace(":", "") for t in self.texts])

    def _join(self, values: list[str]) -> tuple[str, list[int]]:
        sep = self.sep
        starts = list(accumulate(map((1).__add__, map(len, values)), initial=1))
        return sep + sep.join(values) + sep, starts

    def _finds(self, joined: str, starts: list[int], needle: str) -> Iterator[int]:
        """Ids of the values holding ``needle`` (which may begin or end with the separator), in order."""
        find, right = joined.find, bisect.bisect_right
        at = find(needle)
        while at >= 0:
            j = right(starts, at + 1) - 1
            yield j
            at = find(needle, starts[j + 1] - 1)

    def candidates(self, match: Match, query: _Query) -> Iterator[int]:
        """Ids of the values that may match as ``match`` (a superset, in ranking order)."""
        sep, q = self.sep, query.q
        streams: list[Iterator[int]] = []
        plain = sep not in q
        if self.field is Field.MAC:
            assert self.digits is not None
            joined, starts = self.digits
            if match is Match.EXACT:
                keys = {q, query.mac} if query.mac else {q}
                streams += [self._finds(joined, starts, sep + k + sep) for k in keys if sep not in k]
            else:
                if query.fragment is not None:
                    needle = query.fragment if match is Match.SUBSTRING else sep + query.fragment
                    streams.append(self._finds(joined, starts, needle))
                if plain:
                    streams.append(self._finds(self.joined, self.starts, q if match is Match.SUBSTRING else sep + q))
        elif match is Match.EXACT:
            keys = {q, query.mac} if query.mac else {q}
            streams += [self._finds(self.joined, self.starts, sep + k + sep) for k in keys if sep not in k]
        elif plain:
            streams.append(self._finds(self.joined, self.starts, q if match is Match.SUBSTRING else sep + q))
        if len(streams) == 1:
            return streams[0]
        return _unique(heapq.merge(*streams))


def _unique(ids: Iterator[int]) -> Iterator[int]:
    last = -1
    for j in ids:
        if j != last:
            yield j
            last = j


class _Layer:
    """What a live update changed, over a full index: the targets it replaced and their new values."""

    __slots__ = ("gone", "ports", "portless")

    def __init__(self) -> None:
        self.gone: set[int] = set()
        """Ids of the full index's targets that changed or no longer exist."""
        self.ports: dict[tuple[str, str], tuple[Port, list[tuple[Field, str]]]] = {}
        """(switch, port key) → the port and its values, for ports changed since the full index."""
        self.portless: dict[str, list[tuple[PortlessNic, list[tuple[Field, str]]]]] = {}
        """VM key → its NICs on no port and their values, for VMs changed since the full index."""

    def copy(self) -> _Layer:
        layer = _Layer()
        layer.gone, layer.ports, layer.portless = set(self.gone), dict(self.ports), dict(self.portless)
        return layer

    def __len__(self) -> int:
        return len(self.ports) + sum(len(v) for v in self.portless.values())


_LAYER_LIMIT = 2000
"""Targets changed since the full index above which an update builds the index again (a twentieth of
the targets when there are more than 40,000): searching the changed ones is a linear scan."""


def port_values(inv: Inventory, port: Port) -> list[tuple[Field, str]]:
    """What a port is found by, in the order the index adds them (the full build inlines this)."""
    out: list[tuple[Field, str]] = [(Field.PORT, port.key)]
    pg = inv.portgroups.get(port.portgroup)
    if pg is not None:
        out.append((Field.PORTGROUP, pg.name))
    vmnic = inv.vm_nic(port)
    mac = port.mac
    if vmnic is not None:
        vm, nic = vmnic
        out += [(Field.VM, vm.name), (Field.VM_NIC, f"{vm.name}/{nic.label}"), (Field.NIC, nic.label)]
        out += [(Field.IP, ip) for ip in nic.ips]
        mac = nic.mac or mac
    elif port.connectee is not None:
        host = inv.host_name(port.connectee.entity)
        if host:
            out += [(Field.VM_NIC, f"{host}/{port.connectee.nic_key}"), (Field.NIC, port.connectee.nic_key)]
    shown = _mac_text(mac) if mac else None
    if shown:
        out.append((Field.MAC, shown))
    host = inv.host_name(port.host)
    if host:
        out.append((Field.HOST, host))
    return out


def portless_values(inv: Inventory, item: PortlessNic) -> list[tuple[Field, str]]:
    """What a NIC on no port (or a VM without a NIC) is found by, in the index's order."""
    owner, card = item.vm, item.nic
    out: list[tuple[Field, str]] = [(Field.VM, owner.name)]
    if card is not None:
        out += [(Field.VM_NIC, f"{owner.name}/{card.label}"), (Field.NIC, card.label)]
        out += [(Field.IP, ip) for ip in card.ips]
        shown = _mac_text(card.mac) if card.mac else None
        if shown:
            out.append((Field.MAC, shown))
        pg = inv.portgroups.get(card.portgroup)
        network = pg.name if pg is not None else card.network
        if network:
            out.append((Field.PORTGROUP, network))
    host = inv.host_name(owner.host)
    if host:
        out.append((Field.HOST, host))
    return out


def portless_of(inv: Inventory, vm: Vm) -> list[PortlessNic]:
    """``vm``'s entries in ``inv.portless`` (as :meth:`Inventory.build` decides them)."""
    if not vm.nics:
        return [PortlessNic(vm)]
    owners, ports = inv.nic_by_port, inv.ports
    return [
        PortlessNic(vm, nic)
        for nic in vm.nics
        if not (
            nic.switch
            and nic.port
            and (owner := owners.get((nic.switch, nic.port))) is not None
            and owner[1] is nic
            and (nic.switch, nic.port) in ports
        )
    ]


# (length of the text, its lower case, the order of its target, the target, the text shown)
_Candidate = tuple[int, str, Any, Target, str]


class LookupIndex:
    """Search an :class:`Inventory` for ports.

    The index holds one :class:`_Column` per field: each distinct value once, with its targets.
    Built with the cyclic garbage collector paused (it allocates hundreds of thousands of lists
    next to the inventory). :meth:`updated` derives the index of an inventory after a live update
    from this one in time proportional to the change.
    """

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self._base: LookupIndex | None = None
        """The full index this one derives from (``None`` when built in full: no reference cycle)."""
        self._layer: _Layer | None = None
        self._port_ids: dict[tuple[str, str], int] | None = None
        self._vm_ids: dict[str, list[int]] | None = None
        with gc_paused():
            self._build(inventory)
            self._ids()  # for live updates: made here (in the app's thread), not on the first update
        self._positions: tuple[dict[tuple[str, str], int], dict[tuple[int, int], int]] | None = None

    def _build(self, inv: Inventory) -> None:
        # Ports in the order hits are ranked by (key length, key, inventory order), then the NICs on
        # no port in theirs: a target's id is its place in that order.
        ports = list(inv.ports.values())
        ports.sort(key=attrgetter("key"))
        ports.sort(key=_key_length)
        targets: list[Target] = [*ports, *inv.portless]
        tables: dict[Field, defaultdict[str, list[int]]] = {f: defaultdict(list) for f in Field}
        by_port, by_vm, by_ip, by_mac = tables[Field.PORT], tables[Field.VM], tables[Field.IP], tables[Field.MAC]
        by_vmnic, by_nic, by_pg, by_host = (tables[f] for f in (Field.VM_NIC, Field.NIC, Field.PORTGROUP, Field.HOST))
        portgroup, owner, hosts = inv.portgroups.get, inv.nic_by_port.get, inv.hosts.get
        for tid, port in enumerate(ports):
            by_port[port.key].append(tid)
            pg = portgroup(port.portgroup)
            if pg is not None:
                by_pg[pg.name].append(tid)
            vmnic = owner((port.switch, port.key))
            mac = port.mac
            if vmnic is not None:
                vm, nic = vmnic
                name = vm.name
                by_vm[name].append(tid)
                by_vmnic[f"{name}/{nic.label}"].append(tid)
                by_nic[nic.label].append(tid)
                for ip in nic.ips:
                    by_ip[ip].append(tid)
                mac = nic.mac or mac
            elif port.connectee is not None:
                h = hosts(port.connectee.entity)
                if h is not None and h.name:
                    by_vmnic[f"{h.name}/{port.connectee.nic_key}"].append(tid)
                    by_nic[port.connectee.nic_key].append(tid)
            if mac:
                shown = mac if len(mac) == 17 and mac[2::3] == ":::::" else _mac_text(mac)
                if shown:
                    by_mac[shown].append(tid)
            h = hosts(port.host)
            if h is not None and h.name:
                by_host[h.name].append(tid)
        for tid, item in enumerate(inv.portless, len(ports)):
            for field, text in portless_values(inv, item):
                tables[field][text].append(tid)
        self._targets = targets
        self._ports = len(ports)
        self._columns = {f: _Column(f, tables[f]) for f in Field}
        self._size = sum(len(g) for c in self._columns.values() for g in c.groups)

    def __len__(self) -> int:
        """How many values are indexed, counted per target (for a derived index: the full index's,
        the changed targets' old values included, plus their new ones)."""
        layer = self._layer
        if layer is None:
            return self._full._size
        values = sum(len(v) for _, v in layer.ports.values())
        return self._full._size + values + sum(len(v) for items in layer.portless.values() for _, v in items)

    @property
    def _full(self) -> LookupIndex:
        return self._base or self

    # -- searching ----------------------------------------------------------------------------

    def search(self, query: str, limit: int | None = 200) -> list[Hit]:
        """Ports (and NICs on no port) matching ``query``, best first, one hit per target.

        Hits are ranked by match quality, then field, then a cheap natural order (shorter
        text first, so ``WEB2`` comes before ``WEB10``), then the port key (shorter first) and
        the inventory's order. Each target is listed once, for its best match (the first of its
        values when several match as well). Values are found with ``str.find`` over each field's
        values joined in ranking order, so a query matching most of 60,000 ports stops at the
        first ``limit``.
        """
        q = query.strip().lower()
        if not q:
            return []
        mac = normalize_mac(q)
        query_ = _Query(q, mac, _mac_fragment(q))
        full, layer = self._full, self._layer
        changed = self._layer_hits(query_) if layer is not None else {}
        seen: set[int] = set(layer.gone) if layer is not None else set()
        out: list[tuple[Match, Field, Target, str]] = []
        for match in Match:
            for field in _FIELDS if match is Match.EXACT else _HOSTLESS:
                need = None if limit is None else limit - len(out)
                found = full._column_hits(field, match, query_, seen, need, self)
                found += changed.get((match, field), ())
                if not found:
                    continue
                found.sort(key=_rank)
                if need is not None:
                    found = found[:need]
                out += [(match, field, c[3], c[4]) for c in found]
                if limit is not None and len(out) >= limit:
                    return [Hit(t, f, m, text) for m, f, t, text in out[:limit]]
        return [Hit(t, f, m, text) for m, f, t, text in out]

    def _column_hits(
        self, field: Field, match: Match, query: _Query, seen: set[int], need: int | None, view: LookupIndex
    ) -> list[_Candidate]:
        """The targets of this full index whose best match is ``match`` on ``field`` (not in ``seen``,
        which they are added to), at least the ``need`` best and every one ranked as well as the last."""
        col = self._columns[field]
        texts, lows, lens, groups, targets = col.texts, col.lows, col.lens, col.groups, self._targets
        derived = view is not self
        nports = self._ports
        out: list[_Candidate] = []
        taken: set[int] = set()
        cut: tuple[int, str, tuple[int, str]] | None = None  # where ``need`` was reached
        for j in col.candidates(match, query):
            if cut is not None and (lens[j], lows[j]) != cut[:2]:
                break
            if _classify(field, texts[j], lows[j], query) is not match:
                continue
            text = texts[j]
            for tid in groups[j]:
                if tid in seen or tid in taken:
                    continue
                target = targets[tid]
                tie = (len(target.key), target.key) if tid < nports else (_AFTER_PORTS, "")  # type: ignore[union-attr]
                if cut is not None and tie > cut[2]:
                    break
                if field is Field.IP and _first_ip(self.inventory, target, field, match, query) != text:
                    continue  # its first IP that matches as well is another one: found there
                taken.add(tid)
                out.append((lens[j], lows[j], view._order(tid, tie) if derived else tid, target, text))
                if cut is None and need is not None and len(out) >= need:
                    cut = (lens[j], lows[j], tie)
        seen |= taken
        return out

    def _order(self, tid: int, tie: tuple[int, str]) -> tuple[int, str, _Place]:
        """How a target of the full index ranks among equals in this (derived) index's inventory."""
        return (*tie, _Place(self, self._full._targets[tid]))

    def _position(self, target: Target) -> int:
        """A target's place in this (derived) index's inventory: in ``ports``, or in ``portless``.

        Looked up in maps made the first time two hits tie on all else (a full index never asks: its
        target ids are in that order already)."""
        if self._positions is None:
            inv = self.inventory
            self._positions = (
                {k: i for i, k in enumerate(inv.ports)},
                {(id(item.vm), id(item.nic)): i for i, item in enumerate(inv.portless)},
            )
        ports, portless = self._positions
        if type(target) is Port:
            return ports.get((target.switch, target.key), -1)
        item: PortlessNic = target  # type: ignore[assignment]
        return portless.get((id(item.vm), id(item.nic)), -1)

    def _layer_hits(self, query: _Query) -> dict[tuple[Match, Field], list[_Candidate]]:
        """The changed targets' best matches, by (match, field): a linear scan of the few changed."""
        assert self._layer is not None
        out: dict[tuple[Match, Field], list[_Candidate]] = {}
        items: list[tuple[Target, list[tuple[Field, str]]]] = list(self._layer.ports.values())
        for entries in self._layer.portless.values():
            items += entries
        for target, values in items:
            best: tuple[Match, Field, str] | None = None
            for field, text in values:
                m = _classify(field, text, text.lower(), query)
                if m is not None and (best is None or (m, field) < best[:2]):
                    best = (m, field, text)
            if best is not None:
                m, field, text = best
                tie = (len(target.key), target.key) if type(target) is Port else (_AFTER_PORTS, "")
                cand = (len(text), text.lower(), (*tie, _Place(self, target)), target, text)
                out.setdefault((m, field), []).append(cand)
        return out

    # -- live updates -------------------------------------------------------------------------

    def updated(self, delta: Delta) -> LookupIndex:
        """The index of ``delta.inventory``: :meth:`derived` from this one, else built in full."""
        return self.derived(delta) or LookupIndex(delta.inventory)

    def derived(self, delta: Delta) -> LookupIndex | None:
        """The index of ``delta.inventory`` derived from this one (the index of ``delta.base``), or
        ``None`` when it must be built in full.

        Costs time in proportion to what changed: the ports the change names or whose NIC changed
        hands, and the NICs on no port of the VMs involved, are indexed again over the full index
        this one derives from; the rest is shared. Searches give exactly what a full build of the
        new inventory gives. A portgroup renamed or added, an index of another inventory, or more
        than :data:`_LAYER_LIMIT` changed targets need a full build.
        """
        old, new, change = delta.base, delta.inventory, delta.change
        if old is not self.inventory:
            return None
        if new is old:
            return self
        for pg in change.portgroups:
            before = old.portgroups.get(pg.key)
            if before is None or before.name != pg.name:
                return None
        full = self._full
        layer = self._layer.copy() if self._layer is not None else _Layer()
        touched: set[tuple[str, str]] = {(p.switch, p.key) for p in change.ports} | set(change.ports_gone)
        vms: set[str] = {vm.key for vm in change.vms} | set(change.vms_gone)
        for key in vms:
            for inv in (old, new):
                vm = inv.vms.get(key)
                if vm is not None:
                    touched.update((n.switch, n.port) for n in vm.nics if n.switch and n.port)
        for claim in touched:
            for inv in (old, new):
                owner = inv.nic_by_port.get(claim)
                if owner is not None:
                    vms.add(owner[0].key)
        port_ids, vm_ids = full._ids()
        for claim in touched:
            tid = port_ids.get(claim)
            if tid is not None:
                layer.gone.add(tid)
            layer.ports.pop(claim, None)
            port = new.ports.get(claim)
            if port is not None:
                layer.ports[claim] = (port, port_values(new, port))
        for key in vms:
            layer.gone.update(vm_ids.get(key, ()))
            layer.portless.pop(key, None)
            vm = new.vms.get(key)
            if vm is not None:
                layer.portless[key] = [(item, portless_values(new, item)) for item in portless_of(new, vm)]
        if len(layer) > max(_LAYER_LIMIT, len(full._targets) // 20):
            return None
        index = object.__new__(LookupIndex)
        index.inventory = new
        index._base, index._layer = full, layer
        index._port_ids = index._vm_ids = index._positions = None
        return index

    def _ids(self) -> tuple[dict[tuple[str, str], int], dict[str, list[int]]]:
        """Target ids of the full index by (switch, port key), and of its NICs on no port by VM key."""
        if self._port_ids is None or self._vm_ids is None:
            targets, n = self._targets, self._ports
            self._port_ids = {(p.switch, p.key): tid for tid, p in enumerate(targets[:n])}  # type: ignore[union-attr]
            vm_ids: dict[str, list[int]] = {}
            for tid in range(n, len(targets)):
                vm_ids.setdefault(targets[tid].vm.key, []).append(tid)  # type: ignore[union-attr]
            self._vm_ids = vm_ids
        return self._port_ids, self._vm_ids


class _Place:
    """A target's place in a derived index's inventory, looked up only when two hits tie on all
    else (a port key on two switches): most searches never build the maps of places."""

    __slots__ = ("index", "target")

    def __init__(self, index: LookupIndex, target: Target) -> None:
        self.index, self.target = index, target

    def __lt__(self, other: _Place) -> bool:
        return self.index._position(self.target) < self.index._position(other.target)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Place) and self.index._position(self.target) == other.index._position(other.target)

    __hash__ = None  # type: ignore[assignment]


def _key_length(port: Port) -> int:
    return len(port.key)


def _rank(c: _Candidate) -> tuple[int, str, Any]:
    return c[0], c[1], c[2]


def _first_ip(inv: Inventory, target: Target, field: Field, match: Match, query: _Query) -> str | None:
    """The first of a target's IPs that matches as ``match`` (the one its hit shows)."""
    if type(target) is Port:
        vmnic = inv.vm_nic(target)
        ips = vmnic[1].ips if vmnic is not None else ()
    else:
        nic = target.nic  # type: ignore[union-attr]
        ips = nic.ips if nic is not None else ()
    if len(ips) == 1:
        return ips[0]
    return next((ip for ip in ips if _classify(field, ip, ip.lower(), query) is match), None)


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key that orders ``port 9`` before ``port 10``.

    Only ASCII digits count as numbers: ``²``, ``①``, ``٣`` and fullwidth ``１`` sort as text
    (``str.isdigit`` accepts ``²`` but ``int`` does not). A number compares by its length
    without leading zeros, then its digits: the order of ``int`` without converting a
    5,000-digit name (``int`` refuses more than 4,300 digits).
    """
    key: list[tuple[int, int, str]] = []
    for part in _NUMBERS.split(text.lower()):
        if not part:
            continue
        if part[0] in _ASCII_DIGITS:
            digits = part.lstrip("0") or "0"
            key.append((0, len(digits), digits))
        else:
            key.append((1, 0, part))
    return tuple(key)


_ASCII_DIGITS = frozenset("0123456789")
_NUMBERS = re.compile(r"([0-9]+)")


DIRECTIONS: dict[str, Direction] = {
    "both": Direction.BOTH,
    "ingress": Direction.INGRESS,
    "in": Direction.INGRESS,
    "rx": Direction.INGRESS,
    "egress": Direction.EGRESS,
    "out": Direction.EGRESS,
    "tx": Direction.EGRESS,
}
"""Direction suffixes accepted after a source port (``448:ingress``)."""


def split_direction(text: str) -> tuple[str, Direction]:
    """``"448:egress"`` → ``("448", EGRESS)``; without a known suffix → ``(text, BOTH)``.

    Only a known word counts as a suffix, so a VM name containing ``:`` stays whole.
    """
    ref, sep, tail = text.rpartition(":")
    direction = DIRECTIONS.get(tail.strip().lower()) if sep else None
    return (ref.strip(), direction) if direction is not None else (text.strip(), Direction.BOTH)


class ResolveError(ValueError):
    """A port reference matched nothing, or more than one port."""

    def __init__(self, message: str, candidates: list[str] | None = None) -> None:
        super().__init__(message)
        self.candidates = candidates or []


def resolve_port(inventory: Inventory, ref: str, switch: str | None = None) -> Port:
    """The one port that ``ref`` names: a port key, a VM name, or ``VM/NIC label``.

    ``switch`` (a switch key) narrows the search. A VM name alone must have exactly one
    connected NIC on the switch(es) searched. Raises :class:`ResolveError` listing candidates.
    """
    ref = ref.strip()
    if not ref:
        raise ResolveError("empty port reference")
    ports = [p for p in inventory.ports.values() if switch is None or p.switch == switch]
    by_key = [p for p in ports if p.key == ref]
    if by_key:
        return _one(inventory, ref, by_key)
    low = ref.lower()
    vm_part, _, nic_part = low.rpartition("/") if "/" in low else (low, "", "")
    by_name: list[Port] = []
    for p in ports:
        vmnic = inventory.vm_nic(p)
        if vmnic is None:
            continue
        vm, nic = vmnic
        if (
            vm.name.lower() == low
            and not nic_part
            or nic_part
            and vm.name.lower() == vm_part
            and nic.label.lower() == nic_part
        ):
            by_name.append(p)
    if not by_name and "/" in low:
        # A VM whose own name contains "/": try the whole text as a VM name.
        by_name = [p for p in ports if (vn := inventory.vm_nic(p)) and vn[0].name.lower() == low]
    if by_name:
        return _one(inventory, ref, by_name)
    raise ResolveError(f"no port, VM or VM/NIC called {ref!r}" + (" on that switch" if switch else ""))


def _one(inventory: Inventory, ref: str, ports: list[Port]) -> Port:
    if len(ports) == 1:
        return ports[0]
    candidates = []
    for p in ports:
        sw = inventory.switches.get(p.switch)
        candidates.append(f"{inventory.port_label(p)} on {sw.name if sw else p.switch}")
    raise ResolveError(f"{ref!r} is ambiguous: it matches {len(ports)} ports", candidates)


# -- references of the session commands: a port, the switch, a session ---------------------------


class RefError(ValueError):
    """A reference that names several things, or nothing that can be used; the message says
    which, with the candidates (the CLI reports it as a usage error)."""


def sorted_switches(inventory: Inventory) -> list[Switch]:
    """The switches in natural order of their names."""
    return sorted(inventory.switches.values(), key=lambda s: natural_key(s.name))


def resolve_ref(inventory: Inventory, switch: Switch, ref: str) -> tuple[str, str]:
    """``("port", key)`` or ``("uplink", name)`` for a PORT reference on ``switch``.

    Ambiguous → :class:`RefError` listing the candidates. Nothing found → an uplink name of the
    switch, else the text itself as a port key (the rules then report ``NotFound``).
    """
    text = ref.strip()
    if not text:
        raise RefError("empty port reference")
    try:
        return "port", resolve_port(inventory, text, switch.key).key
    except ResolveError as e:
        if e.candidates:
            lines = [str(e) + "; name one of them by port key or VM/NIC label:", *(f"  {c}" for c in e.candidates)]
            raise RefError("\n".join(lines)) from None
    if text in switch.uplink_names:
        return "uplink", text
    return "port", text


def infer_switch(inventory: Inventory, refs: Sequence[str]) -> Switch:
    """The one switch on which every PORT in ``refs`` that names something is found (:class:`RefError` otherwise)."""
    switches = sorted_switches(inventory)
    if not switches:
        raise RefError("the inventory has no distributed switch")
    found: list[tuple[str, list[str]]] = []
    for ref in refs:
        text = ref.strip()
        on: list[str] = []
        for sw in switches:
            try:
                resolve_port(inventory, text, sw.key)
            except ResolveError as e:
                if not e.candidates:
                    continue
            on.append(sw.key)
        if on:
            found.append((text, on))
    candidates = [sw for sw in switches if all(sw.key in on for _, on in found)]
    if len(candidates) == 1:
        return candidates[0]
    names = ", ".join(sw.name for sw in switches)
    if not found:
        raise RefError(f"give --switch: no port given names the switch (switches: {names})")
    if not candidates:
        where = "; ".join(f"{ref!r} on {', '.join(inventory.switches[k].name for k in on)}" for ref, on in found)
        raise RefError(f"the ports are not on one switch ({where}); a session mirrors within one switch")
    shared = ", ".join(sw.name for sw in candidates)
    raise RefError(f"the ports match on several switches ({shared}); add --switch to choose one")


def find_session(
    inventory: Inventory, switch: Switch | None, ref: str
) -> tuple[Switch, MirrorSession] | tuple[Switch | None, None]:
    """The session ``ref`` names (key first, then name exactly, then ignoring case) on ``switch``
    or, when None, on any switch; ``(switch or None, None)`` when none does (the only switch when
    there is one). Several matches → :class:`RefError` listing them."""
    text = ref.strip()
    if not text:
        raise RefError("empty --session")
    scope = [switch] if switch is not None else sorted_switches(inventory)

    def listing(matches: list[tuple[Switch, MirrorSession]], what: str) -> RefError:
        lines = [f"{what} {text!r} matches {len(matches)} sessions; give its key (and --switch):"]
        lines += [f"  key {s.key}  {s.name or '(no name)'}  on {sw.name}" for sw, s in matches]
        return RefError("\n".join(lines))

    by_key = [(sw, s) for sw in scope for s in sw.sessions if s.key == text]
    if len(by_key) == 1:
        return by_key[0]
    if by_key:
        raise listing(by_key, "key")
    by_name = [(sw, s) for sw in scope for s in sw.sessions if s.name == text]
    if not by_name:
        folded = text.casefold()
        by_name = [(sw, s) for sw in scope for s in sw.sessions if s.name.casefold() == folded]
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        raise listing(by_name, "name")
    if switch is None and len(scope) == 1:
        return scope[0], None
    return switch, None
