"""apply_change (tui/inventory_update.py): a change applied to the demo lab equals the lab built with it."""

from __future__ import annotations

from dataclasses import replace

from tests.conftest import CLOUD
from tui.inventory import Inventory
from tui.inventory_update import Change, apply_change
from tui.patched import Patched

F5 = "vm-1000"


def rebuilt(inv: Inventory, **changed: object) -> Inventory:
    """``inv`` built from scratch with its objects replaced by ``changed`` (name → list)."""
    return Inventory.build(
        vcenter=inv.vcenter,
        source=inv.source,
        datacenters=inv.datacenters,
        hosts=list(inv.hosts.values()),
        switches=changed.get("switches", list(inv.switches.values())),  # type: ignore[arg-type]
        portgroups=changed.get("portgroups", list(inv.portgroups.values())),  # type: ignore[arg-type]
        ports=changed.get("ports", list(inv.ports.values())),  # type: ignore[arg-type]
        vms=changed.get("vms", list(inv.vms.values())),  # type: ignore[arg-type]
        warnings=inv.warnings,
    )


def test_nothing_changed_is_the_same_inventory(demo: Inventory) -> None:
    assert apply_change(demo, Change()) is demo


def test_a_switch_change_shares_vms_and_ports(demo: Inventory) -> None:
    sw = replace(demo.switches[CLOUD], config_version="99", sessions=())
    after = apply_change(demo, Change(switches=(sw,)))
    assert after.switches[CLOUD] is sw and demo.switches[CLOUD] is not sw
    assert after.vms is demo.vms and after.nic_by_port is demo.nic_by_port
    assert after == rebuilt(demo, switches=[sw if s.key == CLOUD else s for s in demo.switches.values()])


def test_a_renamed_vm_is_sorted_and_indexed_again(demo: Inventory) -> None:
    demo = rebuilt(demo, vms=sorted(demo.vms.values(), key=lambda v: v.name.lower()))  # as a load gives them
    vm = replace(demo.vms[F5], name="zzz")
    after = apply_change(demo, Change(vms=(vm,)))
    names = [v.name.lower() for v in after.vms.values()]
    assert names == sorted(names) and names.index("zzz") > list(demo.vms).index(F5)
    assert after.nic_by_port[(CLOUD, "448")][0].name == "zzz"
    assert demo.vms[F5].name == "F5-LTM01", "the old inventory is unchanged"
    assert after == rebuilt(
        demo, vms=sorted([vm, *(v for v in demo.vms.values() if v.key != F5)], key=lambda v: v.name.lower())
    )


def test_a_reconnected_nic_moves_between_ports(demo: Inventory) -> None:
    nic = next(n for n in demo.vms[F5].nics if n.port == "448")
    free = next(
        p
        for p in demo.ports_by_portgroup[nic.portgroup]
        if p.connectee is None and (CLOUD, p.key) not in demo.nic_by_port
    )
    vm = replace(demo.vms[F5], nics=tuple(replace(n, port=free.key) if n is nic else n for n in demo.vms[F5].nics))
    old_port = replace(demo.ports[(CLOUD, "448")], connectee=None)
    new_port = replace(free, connectee=demo.ports[(CLOUD, "448")].connectee)
    after = apply_change(demo, Change(vms=(vm,), ports=(old_port, new_port)))
    assert after.nic_by_port[(CLOUD, free.key)][0].key == F5
    assert (CLOUD, "448") not in after.nic_by_port
    ports = [
        {(CLOUD, "448"): old_port, (CLOUD, free.key): new_port}.get((p.switch, p.key), p) for p in demo.ports.values()
    ]
    assert after == rebuilt(demo, vms=[vm if v.key == F5 else v for v in demo.vms.values()], ports=ports)


def test_removed_vms_and_ports_are_gone(demo: Inventory) -> None:
    after = apply_change(demo, Change(vms_gone=frozenset({F5}), ports_gone=frozenset({(CLOUD, "448")})))
    assert F5 not in after.vms and (CLOUD, "448") not in after.ports
    assert all(item.vm.key != F5 for item in after.portless)
    assert Change(vms_gone=frozenset({F5}), ports_gone=frozenset({(CLOUD, "448")})).size == 2


def test_every_vm_renamed_and_moved_equals_a_build(demo: Inventory) -> None:
    """The incremental path (and its fall-backs) give what a build gives, for every VM of the lab."""
    inv = rebuilt(demo, vms=sorted(demo.vms.values(), key=lambda v: v.name.lower()))
    hosts = sorted(inv.hosts)
    quick = 0
    for vm in list(inv.vms.values()):
        moved = replace(vm, name=f"m-{vm.name}", host=hosts[(hosts.index(vm.host) + 1) % len(hosts)] if vm.host else "")
        ports = tuple(
            replace(p, host=moved.host)
            for p in inv.ports.values()
            if (vm_nic := inv.vm_nic(p)) and vm_nic[0].key == vm.key
        )
        after = apply_change(inv, Change(vms=(moved,), ports=ports))
        vms = sorted([moved, *(v for v in inv.vms.values() if v.key != vm.key)], key=lambda v: v.name.lower())
        changed = {(p.switch, p.key): p for p in ports}
        expected = rebuilt(inv, vms=vms, ports=[changed.get((p.switch, p.key), p) for p in inv.ports.values()])
        assert after == expected, vm.name
        assert list(after.vms) == list(expected.vms)
        quick += after.portless is inv.portless
    assert quick > len(inv.vms) / 2, "most VMs take the incremental path"


def test_a_port_given_up_goes_to_the_nic_waiting_for_it(demo: Inventory) -> None:
    """Two NICs name one port: when its holder moves away, a build gives it to the other."""
    holder, nic = next((vm, n) for vm in demo.vms.values() for n in vm.nics if n.port and n.switch == CLOUD)
    other = next(v for v in demo.vms.values() if v.key != holder.key and v.nics)
    waiting = replace(other, nics=(replace(other.nics[0], switch=CLOUD, port=nic.port), *other.nics[1:]))
    inv = rebuilt(demo, vms=[waiting if v.key == other.key else v for v in demo.vms.values()])
    free = next(p for p in inv.ports.values() if p.switch == CLOUD and (p.switch, p.key) not in inv.nic_by_port)
    moved = replace(holder, nics=tuple(replace(n, port=free.key) if n is nic else n for n in holder.nics))
    after = apply_change(inv, Change(vms=(moved,)))
    assert after.nic_by_port[(CLOUD, nic.port)][0].key in {other.key, holder.key}
    assert after == rebuilt(inv, vms=[moved if v.key == holder.key else v for v in inv.vms.values()])


def test_a_chain_of_live_changes_equals_a_build_at_every_step(demo: Inventory) -> None:
    """Renames, vMotions and reconnected NICs applied one after another (each to the previous result, as
    the update channel does) equal a full build of the same objects, VM order included."""
    inv = rebuilt(demo, vms=sorted(demo.vms.values(), key=lambda v: v.name.lower()))
    hosts = sorted(inv.hosts)
    vms = [v for v in inv.vms.values() if v.nics and all(n.port for n in v.nics)]
    quick = 0
    for i, vm in enumerate(vms * 2):
        vm = inv.vms[vm.key]
        name = f"{'abz'[i % 3]}{i}-{vm.name}"
        host = hosts[(hosts.index(vm.host) + 1) % len(hosts)] if vm.host else ""
        moved = replace(vm, name=name, host=host)
        ports = [replace(p, host=host) for p in inv.ports.values() if (o := inv.vm_nic(p)) and o[0].key == vm.key]
        if i % 4 == 3:  # its first NIC reconnected to a free port of its portgroup
            nic = vm.nics[0]
            free = next(
                (
                    p
                    for p in inv.ports_by_portgroup.get(nic.portgroup, ())
                    if p.connectee is None and (p.switch, p.key) not in inv.nic_by_port
                ),
                None,
            )
            if free is not None:
                moved = replace(moved, nics=(replace(nic, port=free.key), *vm.nics[1:]))
                was = inv.ports[(nic.switch, nic.port)]
                ports = [p for p in ports if p.key != was.key]
                ports += [replace(was, connectee=None), replace(free, connectee=was.connectee, host=host)]
        after = apply_change(inv, Change(vms=(moved,), ports=tuple(ports)))
        changed = {(p.switch, p.key): p for p in ports}
        expected = rebuilt(
            inv,
            vms=sorted([moved, *(v for v in inv.vms.values() if v.key != vm.key)], key=lambda v: v.name.lower()),
            ports=[changed.get((p.switch, p.key), p) for p in inv.ports.values()],
        )
        assert after == expected, (i, vm.name)
        quick += after.portless is inv.portless
        if i % 5 == 0:  # iterated now and then (flattened), else patched again unread
            assert list(after.vms) == list(expected.vms)
            assert after.ports_by_switch == expected.ports_by_switch
        inv = after
    assert list(inv.vms) == list(expected.vms)
    assert quick > len(vms), "most changes take the incremental path"


def test_a_rename_or_vmotion_shares_the_large_mappings(demo: Inventory) -> None:
    """The inventory after a live change holds what changed, not copies of its VMs and ports (the cost of
    one update follows the change, not the inventory: tests/bench/bench_live_updates.py)."""
    vm = demo.vms[F5]
    renamed = apply_change(demo, Change(vms=(replace(vm, name="zzz"),)))
    assert renamed.ports is demo.ports and renamed.ports_by_switch is demo.ports_by_switch
    assert isinstance(renamed.vms, Patched) and renamed.vms._base is demo.vms and len(renamed.vms._top) == 1
    assert isinstance(renamed.nic_by_port, Patched) and renamed.nic_by_port._base is demo.nic_by_port
    ports = tuple(replace(demo.ports[(CLOUD, n.port)], host="host-26") for n in vm.nics if n.switch == CLOUD)
    moved = apply_change(renamed, Change(vms=(replace(renamed.vms[F5], host="host-26"),), ports=ports))
    assert isinstance(moved.ports, Patched) and moved.ports._base is demo.ports
    assert isinstance(moved.vms, Patched) and moved.vms._base is demo.vms
    assert demo.vms[F5] is vm and renamed.vms[F5].host == vm.host


def test_a_vm_renamed_to_another_vms_name_keeps_the_stable_sort_order() -> None:
    """Two VMs of one name (normal in vSphere: other folders): the patched order is a stable sort's."""
    from tui.backends.snapshot import SnapshotBackend

    demo = SnapshotBackend().load()
    inv = rebuilt(demo, vms=sorted(demo.vms.values(), key=lambda v: v.name.lower()))
    ported = [v for v in inv.vms.values() if v.nics and all(n.port for n in v.nics)]
    for a, b in ((ported[0], ported[3]), (ported[3], ported[0])):
        renamed = replace(a, name=b.name)
        after = apply_change(inv, Change(vms=(renamed,)))
        stable = sorted([renamed if v.key == a.key else v for v in inv.vms.values()], key=lambda v: v.name.lower())
        assert list(after.vms) == [v.key for v in stable]
