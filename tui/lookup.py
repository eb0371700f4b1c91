"""The search index: find ports by VM name, NIC, IP, MAC, port key or portgroup.

VM NICs on no port (``Inventory.portless``: a standard or opaque network, no backing, no port
key) and VMs without a NIC are searchable too, by VM name, NIC, MAC and IP: their hits carry a
:class:`~tui.model.PortlessNic` instead of a port.

Built once per inventory in memory (no vCenter call per keystroke). Exact matches rank
first, then prefixes, then substrings; comparisons ignore case, and MAC addresses match
in any common notation (``00:50:56:9a:1b:2c``, ``00-50-56-9A-1B-2C``, ``0050.569a.1b2c``,
``0050569a1b2c``).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from tui.model import Direction, Inventory, MirrorSession, Port, PortlessNic, Switch


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


class LookupIndex:
    """Search an :class:`Inventory` for ports."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        # (lower-cased text, field, shown text, target) for every searchable value.
        self._entries: list[tuple[str, Field, str, Target]] = []
        self._exact: dict[str, list[int]] = {}
        self._macs: list[tuple[str, int]] = []
        inv = inventory
        for port in inv.ports.values():
            self._add(port.key, Field.PORT, port)
            pg = inv.portgroups.get(port.portgroup)
            if pg is not None:
                self._add(pg.name, Field.PORTGROUP, port)
            vmnic = inv.vm_nic(port)
            mac = port.mac
            if vmnic is not None:
                vm, nic = vmnic
                self._add(vm.name, Field.VM, port)
                self._add(f"{vm.name}/{nic.label}", Field.VM_NIC, port)
                self._add(nic.label, Field.NIC, port)
                for ip in nic.ips:
                    self._add(ip, Field.IP, port)
                mac = nic.mac or mac
            elif port.connectee is not None:
                host = inv.host_name(port.connectee.entity)
                if host:
                    self._add(f"{host}/{port.connectee.nic_key}", Field.VM_NIC, port)
                    self._add(port.connectee.nic_key, Field.NIC, port)
            if mac:
                self._add_mac(mac, port)
            host = inv.host_name(port.host)
            if host:
                self._add(host, Field.HOST, port, substring=False)
        for item in inv.portless:
            owner, card = item.vm, item.nic
            self._add(owner.name, Field.VM, item)
            if card is not None:
                self._add(f"{owner.name}/{card.label}", Field.VM_NIC, item)
                self._add(card.label, Field.NIC, item)
                for ip in card.ips:
                    self._add(ip, Field.IP, item)
                if card.mac:
                    self._add_mac(card.mac, item)
                pg = inv.portgroups.get(card.portgroup)
                network = pg.name if pg is not None else card.network
                if network:
                    self._add(network, Field.PORTGROUP, item)
            host = inv.host_name(owner.host)
            if host:
                self._add(host, Field.HOST, item, substring=False)

    def _add_mac(self, mac: str, target: Target) -> None:
        # Backends give ``00:50:56:9a:1b:2c`` already; anything else is normalised.
        canonical = len(mac) == 17 and mac[2::3] == ":::::"
        digits = mac.replace(":", "") if canonical else normalize_mac(mac)
        if digits:
            self._macs.append((digits, len(self._entries)))
            self._add(mac if canonical else format_mac(digits), Field.MAC, target, exact_key=digits)

    def _add(
        self, text: str, field: Field, target: Target, *, exact_key: str | None = None, substring: bool = True
    ) -> None:
        low = text.lower()
        index = len(self._entries)
        self._entries.append((low if substring else "", field, text, target))
        self._exact.setdefault(exact_key or low, []).append(index)

    def __len__(self) -> int:
        return len(self._entries)

    def search(self, query: str, limit: int | None = 200) -> list[Hit]:
        """Ports (and NICs on no port) matching ``query``, best first, one hit per target.

        Hits are ranked by match quality, then field, then a cheap natural order (shorter
        text first, so ``WEB2`` comes before ``WEB10``). Only the kept hits become objects,
        so a one-letter query over 50,000 ports stays fast.
        """
        q = query.strip().lower()
        if not q:
            return []
        entries = self._entries
        # id(target) -> (match, field, entry index): the best reason each target matched. Every
        # entry of one target holds the same object, and the index keeps them alive.
        best: dict[int, tuple[int, int, int]] = {}

        def offer(i: int, match: Match) -> None:
            k = id(entries[i][3])
            cand = (match, entries[i][1], i)
            old = best.get(k)
            if old is None or cand[:2] < old[:2]:
                best[k] = cand

        exact_keys = {q}
        mac = normalize_mac(q)
        if mac:
            exact_keys.add(mac)
        for key in exact_keys:
            for i in self._exact.get(key, ()):
                offer(i, Match.EXACT)
        fragment = _mac_fragment(q)
        if fragment is not None:
            for digits, i in self._macs:
                if digits != mac and fragment in digits:
                    offer(i, Match.PREFIX if digits.startswith(fragment) else Match.SUBSTRING)
        for i, (low, _field, _text, _port) in enumerate(entries):
            if low and low != q and q in low:
                offer(i, Match.PREFIX if low.startswith(q) else Match.SUBSTRING)

        def order(c: tuple[int, int, int]) -> tuple[int, int, int, str, int, str]:
            text, target = entries[c[2]][2], entries[c[2]][3]
            if type(target) is Port:
                return (c[0], c[1], len(text), text.lower(), len(target.key), target.key)
            return (c[0], c[1], len(text), text.lower(), _AFTER_PORTS, "")  # then in VM and NIC order

        chosen = sorted(best.values(), key=order) if limit is None else heapq.nsmallest(limit, best.values(), key=order)
        return [Hit(entries[i][3], Field(field), Match(match), entries[i][2]) for match, field, i in chosen]


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
