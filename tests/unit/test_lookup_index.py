"""The search index (tui/lookup.py LookupIndex) against a brute-force reference, and its live updates.

The reference below is the index as it was before it was made fast: every value of every target
in a list, every query a scan of all of them, the best match kept per target, then one sort. It is
written here again, from the rules README states (exact, then prefix, then substring; by field;
shorter text first; then the port key and the inventory's order), so that the index is checked
against an independent statement of them, over random inventories with hostile names: case
variants, characters that change length when lower-cased, the characters the index joins values
with, empty names, duplicate names, one port key on several switches, NICs with several IPs, MACs
in every notation, NICs on no port and ports two NICs claim.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import replace

import pytest

from tui.inventory_update import Change, Delta, apply_change
from tui.lookup import Field, Hit, LookupIndex, Match, _mac_fragment, format_mac, normalize_mac
from tui.model import Connectee, ConnecteeType, Host, Inventory, Nic, Port, Portgroup, PortlessNic, Switch, Vm

# -- the reference ----------------------------------------------------------------------------


Entry = tuple[str, Field, str, Port | PortlessNic, str]
"""(lower-cased text, or "" for a value matched only exactly; field; text; target; exact key)"""

_entries: dict[int, tuple[Inventory, list[Entry]]] = {}


def reference_search(inv: Inventory, query: str, limit: int | None = 200) -> list[Hit]:
    """Brute force: every (value, field, target) of the inventory, each compared with the query."""
    kept = _entries.get(id(inv))
    if kept is None or kept[0] is not inv:
        kept = _entries[id(inv)] = (inv, reference_entries(inv))
    return reference_scan(kept[1], query, limit)


def reference_entries(inv: Inventory) -> list[Entry]:
    """Every searchable value of the inventory, in the order of its targets."""
    entries: list[Entry] = []

    def add(text: str, field: Field, target: Port | PortlessNic, key: str | None = None, sub: bool = True) -> None:
        entries.append((text.lower() if sub else "", field, text, target, key if key is not None else text.lower()))

    def add_mac(mac: str, target: Port | PortlessNic) -> None:
        if len(mac) == 17 and mac[2::3] == ":::::":
            add(mac, Field.MAC, target, key=mac.replace(":", ""))
        elif digits := normalize_mac(mac):
            add(format_mac(digits), Field.MAC, target, key=digits)

    for port in inv.ports.values():
        add(port.key, Field.PORT, port)
        pg = inv.portgroups.get(port.portgroup)
        if pg is not None:
            add(pg.name, Field.PORTGROUP, port)
        vmnic = inv.vm_nic(port)
        mac = port.mac
        if vmnic is not None:
            vm, nic = vmnic
            add(vm.name, Field.VM, port)
            add(f"{vm.name}/{nic.label}", Field.VM_NIC, port)
            add(nic.label, Field.NIC, port)
            for ip in nic.ips:
                add(ip, Field.IP, port)
            mac = nic.mac or mac
        elif port.connectee is not None and inv.host_name(port.connectee.entity):
            add(f"{inv.host_name(port.connectee.entity)}/{port.connectee.nic_key}", Field.VM_NIC, port)
            add(port.connectee.nic_key, Field.NIC, port)
        if mac:
            add_mac(mac, port)
        if inv.host_name(port.host):
            add(inv.host_name(port.host), Field.HOST, port, sub=False)
    for item in inv.portless:
        add(item.vm.name, Field.VM, item)
        if item.nic is not None:
            add(f"{item.vm.name}/{item.nic.label}", Field.VM_NIC, item)
            add(item.nic.label, Field.NIC, item)
            for ip in item.nic.ips:
                add(ip, Field.IP, item)
            if item.nic.mac:
                add_mac(item.nic.mac, item)
            pg = inv.portgroups.get(item.nic.portgroup)
            network = pg.name if pg is not None else item.nic.network
            if network:
                add(network, Field.PORTGROUP, item)
        if inv.host_name(item.vm.host):
            add(inv.host_name(item.vm.host), Field.HOST, item, sub=False)
    return entries


def reference_scan(entries: list[Entry], query: str, limit: int | None) -> list[Hit]:
    q = query.strip().lower()
    if not q:
        return []
    whole = normalize_mac(q)
    fragment = _mac_fragment(q)
    order: dict[int, int] = {}  # id(target) -> its place: ports, then NICs on no port
    best: dict[int, tuple[Match, Field, int]] = {}
    for i, (low, field, _text, target, key) in enumerate(entries):
        order.setdefault(id(target), len(order))
        found: list[Match] = []
        if key in (q, whole):
            found.append(Match.EXACT)
        if field is Field.MAC and fragment is not None and key != whole and fragment in key:
            found.append(Match.PREFIX if key.startswith(fragment) else Match.SUBSTRING)
        if low and low != q and q in low:
            found.append(Match.PREFIX if low.startswith(q) else Match.SUBSTRING)
        if found:
            cand = (min(found), field, i)
            old = best.get(id(target))
            if old is None or cand[:2] < old[:2]:
                best[id(target)] = cand

    def rank(c: tuple[Match, Field, int]) -> tuple[object, ...]:
        text, target = entries[c[2]][2], entries[c[2]][3]
        tail = (len(target.key), target.key) if isinstance(target, Port) else (1 << 30, "")
        return (c[0], c[1], len(text), text.lower(), *tail, order[id(target)])

    chosen = sorted(best.values(), key=rank) if limit is None else heapq.nsmallest(limit, best.values(), key=rank)
    return [Hit(entries[i][3], f, m, entries[i][2]) for m, f, i in chosen]


def same(a: list[Hit], b: list[Hit]) -> bool:
    """Equal hits, each to the same target (by value: a port, or a VM and NIC)."""
    return [(h.target, h.field, h.match, h.text) for h in a] == [(h.target, h.field, h.match, h.text) for h in b]


# -- random inventories ----------------------------------------------------------------------

HOSTILE = [
    "",
    "a",
    "A",
    "web",
    "WEB",
    "Web01",
    "İstanbul",
    "ß",
    "ﬃ",
    "x\x00y",
    "\x1f",
    "\ufdd0",
    "a/b",
    "10.0",
    "00:50",
]


def name(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(HOSTILE)
    alphabet = "abAB01-./: \x00\ufdd0İ"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))


def mac(rng: random.Random) -> str:
    digits = "".join(rng.choice("0123456789abcdef") for _ in range(12))
    style = rng.randrange(6)
    if style == 0:
        return format_mac(digits)
    if style == 1:
        return "-".join(digits[i : i + 2] for i in range(0, 12, 2)).upper()
    if style == 2:
        return ".".join(digits[i : i + 4] for i in range(0, 12, 4))
    if style == 3:
        return format_mac(digits).upper()  # kept as given: its digits are upper case
    if style == 4:
        return rng.choice(["", "not a mac", "zz:zz:zz:zz:zz:zz"])
    return digits


def random_inventory(rng: random.Random, vms: int = 30) -> Inventory:
    switches = [Switch(key=f"sw{i}", name=f"Switch {i}") for i in range(rng.randint(1, 3))]
    hosts = [Host(key=f"host-{i}", name=rng.choice([name(rng), f"esx{i}", "esx"])) for i in range(4)]
    portgroups = [
        Portgroup(key=f"pg-{i}", name=rng.choice([name(rng), f"pg{i}", "PG"]), switch=rng.choice(switches).key)
        for i in range(5)
    ]
    ports: list[Port] = []
    for sw in switches:
        for k in rng.sample(range(40), rng.randint(5, 25)):
            pg = rng.choice([*(p for p in portgroups if p.switch == sw.key), None])
            ports.append(
                Port(
                    key=str(k) if rng.random() < 0.9 else name(rng) or "x",
                    switch=sw.key,
                    portgroup=pg.key if pg is not None else rng.choice(["", "pg-missing"]),
                    host=rng.choice([h.key for h in hosts] + [""]),
                    mac=mac(rng) if rng.random() < 0.3 else "",
                )
            )
    ports = list({(p.switch, p.key): p for p in ports}.values())
    vm_list: list[Vm] = []
    for v in range(vms):
        nics = []
        for n in range(rng.choice([0, 1, 1, 1, 2, 3])):
            on_port = rng.random() < 0.75 and ports
            port = rng.choice(ports) if on_port else None
            nics.append(
                Nic(
                    key=4000 + n,
                    label=rng.choice([f"Network adapter {n + 1}", name(rng)]),
                    mac=mac(rng),
                    switch=port.switch if port else rng.choice(["", switches[0].key]),
                    portgroup=port.portgroup if port else rng.choice(["", "pg-0", "pg-nope"]),
                    port=port.key if port else rng.choice(["", "", "999"]),
                    ips=tuple(
                        rng.choice(["10.0.0.1", "10.0.0.12", f"10.0.{v}.{n}", name(rng)])
                        for _ in range(rng.randint(0, 3))
                    ),
                    network=rng.choice(["", "VM Network", name(rng)]),
                )
            )
        vm_list.append(Vm(key=f"vm-{v}", name=name(rng), host=rng.choice([h.key for h in hosts]), nics=tuple(nics)))
    # Some ports name a NIC (their connectee), some a host's vmkernel NIC.
    connected = []
    for p in ports:
        r = rng.random()
        if r < 0.2:
            vm = rng.choice(vm_list)
            p = replace(p, connectee=Connectee(ConnecteeType.VM_VNIC, vm.key, str(4000 + rng.randrange(2))))
        elif r < 0.3:
            p = replace(
                p, connectee=Connectee(ConnecteeType.HOST_VMK_VNIC, rng.choice(hosts).key, f"vmk{rng.randrange(3)}")
            )
        connected.append(p)
    vm_list.sort(key=lambda v: v.name.lower())
    return Inventory.build(
        vcenter="vc",
        source="test",
        datacenters=("dc",),
        hosts=hosts,
        switches=switches,
        portgroups=portgroups,
        ports=connected,
        vms=vm_list,
    )


def queries(rng: random.Random, inv: Inventory) -> list[str]:
    values = [p.key for p in inv.ports.values()] + [v.name for v in inv.vms.values()]
    values += [n.label for v in inv.vms.values() for n in v.nics] + [n.mac for v in inv.vms.values() for n in v.nics]
    values += [ip for v in inv.vms.values() for n in v.nics for ip in n.ips] + [h.name for h in inv.hosts.values()]
    values += [pg.name for pg in inv.portgroups.values()] + ["VM Network"]
    out = ["a", "A", "0", "1", "10.0.0.1", "10.", ":", "/", "-", "00:50", "9a:1b", "İ", "i̇", "\x00", "ﬃ", " web ", "zz"]
    for value in rng.sample(values, min(40, len(values))):
        if not value:
            continue
        i = rng.randrange(len(value))
        j = rng.randint(i + 1, len(value))
        out += [value, value.upper(), value[:j], value[i:j]]
        digits = normalize_mac(value)
        if digits:
            out += [digits, digits[2:8], format_mac(digits)[3:11], "-".join(digits[i : i + 2] for i in range(0, 12, 2))]
    return out


# -- the index equals the reference ----------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_the_index_finds_what_brute_force_finds(seed: int) -> None:
    rng = random.Random(seed)
    inv = random_inventory(rng)
    index = LookupIndex(inv)
    for q in queries(rng, inv):
        for limit in (None, 1, 3, 10, 200):
            assert same(index.search(q, limit=limit), reference_search(inv, q, limit)), (seed, q, limit)


def test_the_demo_lab_gives_what_brute_force_gives(demo: Inventory) -> None:
    index = LookupIndex(demo)
    rng = random.Random(7)
    for q in queries(rng, demo) + ["dvpg", "network adapter 1", "esx", "00:50:56", "172.24", "Network"]:
        for limit in (None, 5, 201):
            assert same(index.search(q, limit=limit), reference_search(demo, q, limit)), (q, limit)


def test_many_equal_values_stop_at_the_limit_in_order() -> None:
    """One NIC label on every port, one port key on three switches: the first of a crowd, in order."""
    rng = random.Random(3)
    switches = [Switch(key=f"sw{i}", name=f"S{i}") for i in range(3)]
    ports = [Port(key=str(k), switch=sw.key, portgroup="pg") for k in range(300) for sw in switches]
    vms = [
        Vm(key=f"vm-{i}", name=f"vm{i:03d}", nics=(Nic(key=1, label="Network adapter 1", switch=p.switch, port=p.key),))
        for i, p in enumerate(rng.sample(ports, len(ports)))
    ]
    pg = Portgroup(key="pg", name="Crowd", switch="sw0")
    inv = Inventory.build(
        vcenter="vc", source="t", datacenters=(), hosts=[], switches=switches, portgroups=[pg], ports=ports, vms=vms
    )
    index = LookupIndex(inv)
    for q in ["network adapter 1", "net", "adapter", "1", "10", "crowd", "vm", "vm1", "0"]:
        for limit in (1, 2, 7, 200, None):
            assert same(index.search(q, limit=limit), reference_search(inv, q, limit)), (q, limit)


# -- live updates: the derived index equals a full build -------------------------------------


def random_change(rng: random.Random, inv: Inventory) -> Change:
    """A few objects changed as a live update reads them: VMs renamed, moved, reconnected, their
    NICs' IPs changed, added or removed; ports' connectee or MAC changed, removed or added."""
    vms: list[Vm] = []
    gone: set[str] = set()
    ports: list[Port] = []
    ports_gone: set[tuple[str, str]] = set()
    all_ports = list(inv.ports.values())
    for vm in rng.sample(list(inv.vms.values()), min(len(inv.vms), rng.randint(0, 3))):
        kind = rng.randrange(5)
        if kind == 0:
            vms.append(replace(vm, name=name(rng)))
        elif kind == 1:
            vms.append(replace(vm, host=rng.choice(list(inv.hosts))))
        elif kind == 2 and vm.nics and all_ports:
            nic = rng.choice(vm.nics)
            port = rng.choice(all_ports)
            moved = replace(nic, switch=port.switch, port=port.key, portgroup=port.portgroup)
            vms.append(replace(vm, nics=tuple(moved if n is nic else n for n in vm.nics)))
        elif kind == 3:
            nics = tuple(replace(n, ips=(name(rng), "10.0.0.1")[: rng.randint(0, 2)], mac=mac(rng)) for n in vm.nics)
            vms.append(replace(vm, nics=nics, name=vm.name if rng.random() < 0.5 else name(rng)))
        else:
            gone.add(vm.key)
    if rng.random() < 0.3:
        sw = rng.choice(list(inv.switches))
        nic = Nic(key=4000, label="Network adapter 1", mac=mac(rng), switch=sw, port=rng.choice(["3", "new-1", ""]))
        vms.append(Vm(key=f"vm-new-{rng.randrange(10**6)}", name=name(rng), host="host-0", nics=(nic,)))
    for port in rng.sample(all_ports, min(len(all_ports), rng.randint(0, 3))):
        kind = rng.randrange(4)
        if kind == 0:
            ports.append(replace(port, mac=mac(rng), host=rng.choice([*inv.hosts, ""])))
        elif kind == 1 and inv.vms:
            vm = rng.choice(list(inv.vms.values()))
            ports.append(replace(port, connectee=Connectee(ConnecteeType.VM_VNIC, vm.key, "4000")))
        elif kind == 2:
            ports_gone.add((port.switch, port.key))
        else:
            ports.append(replace(port, connectee=None))
    if rng.random() < 0.2:
        sw = rng.choice(list(inv.switches))
        ports.append(Port(key="new-1", switch=sw, portgroup=rng.choice(list(inv.portgroups)), mac=mac(rng)))
    new_keys = {vm.key for vm in vms}
    return Change(
        vms=tuple(vms),
        vms_gone=frozenset(gone - new_keys),
        ports=tuple(p for p in ports if (p.switch, p.key) not in ports_gone),
        ports_gone=frozenset(ports_gone),
    )


@pytest.mark.parametrize("seed", range(10))
def test_an_index_updated_by_changes_equals_a_full_build(seed: int) -> None:
    rng = random.Random(1000 + seed)
    inv = random_inventory(rng, vms=25)
    index = LookupIndex(inv)
    for step in range(8):
        change = random_change(rng, inv)
        new = apply_change(inv, change)
        index = index.updated(Delta(inv, change, new))
        assert index.inventory is new
        full = LookupIndex(new)
        for q in queries(rng, new)[:60]:
            for limit in (None, 2, 200):
                expected = full.search(q, limit=limit)
                assert same(index.search(q, limit=limit), expected), (seed, step, q, limit)
                assert same(expected, reference_search(new, q, limit)), (seed, step, q, limit)
        inv = new


def test_an_update_shares_the_full_index_and_indexes_only_what_changed(demo: Inventory) -> None:
    index = LookupIndex(demo)
    vm = next(v for v in demo.vms.values() if v.name == "F5-LTM01")
    renamed = replace(vm, name="F5-LTM99")
    change = Change(vms=(renamed,))
    new = apply_change(demo, change)
    after = index.updated(Delta(demo, change, new))
    assert after._base is index, "the full index is shared, not built again"
    assert after._layer is not None and set(after._layer.ports) == {(n.switch, n.port) for n in vm.nics}
    assert [h.text for h in after.search("F5-LTM99")] == ["F5-LTM99"] * len(vm.nics)
    assert not after.search("F5-LTM01")
    assert same(after.search("F5", limit=None), LookupIndex(new).search("F5", limit=None))


def test_an_update_of_another_inventory_or_a_renamed_portgroup_builds_in_full(demo: Inventory) -> None:
    index = LookupIndex(demo)
    pg = next(iter(demo.portgroups.values()))
    change = Change(portgroups=(replace(pg, name="Renamed"),))
    new = apply_change(demo, change)
    after = index.updated(Delta(demo, change, new))
    assert after._base is None and after.inventory is new
    assert same(after.search("renamed", limit=None), reference_search(new, "renamed", None))
    other = LookupIndex(new).updated(Delta(demo, Change(), demo))
    assert other._base is None and other.inventory is demo
