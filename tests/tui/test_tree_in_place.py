"""A live update rebuilds only the tree nodes of what changed, and gives the tree a full rebuild gives.

Each change is applied to the demo lab as the update channel applies it (:func:`apply_change`),
posted with its :class:`Delta`; the tree it leaves (every node built: label, what it stands for,
open or not, and the cursor) is compared with the tree :meth:`InventoryTree.set_inventory` builds
from the same inventory without the delta (today's full rebuild of the open nodes).
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from textual.pilot import Pilot
from textual.widgets.tree import TreeNode

from tests.helpers import started
from tests.tui.conftest import demo_app, loaded, settle
from tui.app import DvMirrorApp
from tui.inventory import Inventory
from tui.inventory_objects import Connectee, ConnecteeType
from tui.inventory_update import Change, Delta, apply_change
from tui.messages import InventoryLoaded
from widgets.inventory_tree import InventoryTree, NodeRef

Shape = list[tuple[int, str, NodeRef | None, bool]]


def shape(tree: InventoryTree) -> Shape:
    """Every node built, depth first: depth, label, what it stands for, open."""
    out: Shape = []

    def walk(node: TreeNode[NodeRef], depth: int) -> None:
        for child in node.children:
            out.append((depth, str(child.label), child.data, child.is_expanded))
            walk(child, depth + 1)

    walk(tree.root, 0)
    return out


def _nic_vm(inv: Inventory) -> tuple[str, str]:
    """A powered VM with one NIC on a port, and a free port of another portgroup of that switch."""
    for vm in inv.vms.values():
        if len(vm.nics) != 1 or not vm.nics[0].port:
            continue
        nic = vm.nics[0]
        for port in inv.ports_by_switch.get(nic.switch, ()):
            if port.portgroup and port.portgroup != nic.portgroup and port.connectee is None:
                pg = inv.portgroups[port.portgroup]
                if not pg.uplink:
                    return vm.key, port.key
    raise AssertionError("the demo lab has no VM to move")


def changes(inv: Inventory) -> list[tuple[str, Change]]:
    """A rename, a NIC moved to a free port of another portgroup (both ports changed), a link down,
    and a switch whose sessions changed."""
    out: list[tuple[str, Change]] = []
    vm_key, free_key = _nic_vm(inv)
    vm = inv.vms[vm_key]
    out.append(("rename", Change(vms=(replace(vm, name="aaa-" + vm.name),))))
    nic = vm.nics[0]
    old_port = inv.port(nic.switch, nic.port)
    new_port = inv.port(nic.switch, free_key)
    assert old_port is not None and new_port is not None
    moved = replace(vm, nics=(replace(nic, port=free_key, portgroup=new_port.portgroup),))
    connectee = Connectee(ConnecteeType.VM_VNIC, vm.key, str(nic.key))
    ports = (replace(old_port, connectee=None, link_up=False), replace(new_port, connectee=connectee, link_up=True))
    out.append(("nic moved", Change(vms=(moved,), ports=ports)))
    up = next(p for p in inv.ports.values() if p.link_up and p.portgroup and inv.vm_nic(p) is not None)
    out.append(("link down", Change(ports=(replace(up, link_up=False),))))
    sw = next(s for s in inv.switches.values() if s.sessions)
    out.append(("sessions", Change(switches=(replace(sw, sessions=sw.sessions[1:]),))))
    return out


async def open_many(pilot: Pilot[None], tree: InventoryTree, inv: Inventory) -> None:
    """Open the path to every VM's first port (so VMs and portgroups of both sides are built)."""
    for vm in inv.vms.values():
        for nic in vm.nics:
            if nic.port:
                tree.select_ref(NodeRef("port", switch=nic.switch, port=nic.port))
    await settle(pilot)


async def cursor_on(pilot: Pilot[None], tree: InventoryTree, ref: NodeRef) -> NodeRef | None:
    """Where the cursor is once it is on ``ref`` (moves run after a refresh: a loaded machine is slow),
    or after 5 s."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        await settle(pilot)
        if tree.cursor_node is not None and tree.cursor_node.data == ref:
            break
    return tree.cursor_node.data if tree.cursor_node else None


@pytest.mark.parametrize("kind", ["rename", "nic moved", "link down", "sessions"])
async def test_an_update_in_place_gives_the_tree_a_rebuild_gives(kind: str) -> None:
    app = demo_app()
    async with started(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        assert isinstance(app, DvMirrorApp)
        tree = app.screen.query_one(InventoryTree)
        inv = app.inventory
        assert inv is not None
        await open_many(pilot, tree, inv)
        change = dict(changes(inv))[kind]
        vm_key, _ = _nic_vm(inv)
        # The cursor on the VM that changes, so that it must follow the node; when the VM leaves its
        # portgroup, on another VM (lines above it come and go).
        vms = [n.data for n in tree._walk(tree.root) if n.data is not None and n.data.kind == "vm"]
        target = next(r for r in vms if (r.vm == vm_key) != (kind == "nic moved"))
        tree.select_ref(target)
        assert await cursor_on(pilot, tree, target) == target
        switch_node = tree.root.children[0].children[0].children[0]
        new = apply_change(inv, change)
        app.post_message(InventoryLoaded(new, update=True, delta=Delta(inv, change, new)))
        await settle(pilot)
        assert app.inventory is new
        assert tree.root.children[0].children[0].children[0] is switch_node, "the tree was rebuilt, not updated"
        fast_cursor = await cursor_on(pilot, tree, target)
        fast = shape(tree)
        tree.set_inventory(new)  # no delta: every open node built again
        await settle(pilot)
        assert tree.root.children[0].children[0].children[0] is not switch_node
        full_cursor = await cursor_on(pilot, tree, target)
        full = shape(tree)
        assert fast == full
        assert fast_cursor == full_cursor
        assert fast_cursor == target
        if kind == "rename":
            assert any(label.startswith("aaa-") for _, label, ref, _ in fast if ref and ref.vm == vm_key)


async def test_a_delta_not_from_the_inventory_shown_rebuilds() -> None:
    """A delta applied to another inventory (the app changed a session since) is not trusted."""
    app = demo_app()
    async with started(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        tree = app.screen.query_one(InventoryTree)
        inv = app.inventory
        assert inv is not None
        switch_node = tree.root.children[0].children[0].children[0]
        other = apply_change(inv, changes(inv)[2][1])
        change = changes(inv)[0][1]
        new = apply_change(other, change)
        app.post_message(InventoryLoaded(new, update=True, delta=Delta(other, change, new)))
        await settle(pilot)
        assert app.inventory is new
        assert tree.root.children[0].children[0].children[0] is not switch_node


async def test_the_port_table_is_filled_again_only_when_what_it_lists_changed() -> None:
    app = demo_app()
    async with started(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        from widgets.port_table import PortTable

        tree = app.screen.query_one(InventoryTree)
        table = app.screen.query_one("#ports", PortTable)
        inv = app.inventory
        assert inv is not None
        vm_key, _ = _nic_vm(inv)
        nic = inv.vms[vm_key].nics[0]
        tree.select_ref(NodeRef("portgroup", switch=nic.switch, portgroup=nic.portgroup))
        tree.focus()
        deadline = time.monotonic() + 5  # the cursor moves, then the table fills, after refreshes
        while time.monotonic() < deadline:
            await settle(pilot)
            if table.ports and all(p.portgroup == nic.portgroup for p in table.ports):
                break
        listed = {(p.switch, p.key) for p in table.listed}
        assert (nic.switch, nic.port) in listed
        elsewhere = next(
            v for v in inv.vms.values() if v.nics and all((n.switch, n.port) not in listed for n in v.nics)
        )
        rows, shown = [str(r) for r in table.ports], table.ports
        for vm, inside in ((elsewhere, False), (inv.vms[vm_key], True)):
            base = app.inventory
            assert base is not None
            change = Change(vms=(replace(base.vms[vm.key], name="zz-" + vm.name),))
            new = apply_change(base, change)
            app.post_message(InventoryLoaded(new, update=True, delta=Delta(base, change, new)))
            await settle(pilot)
            assert table.inventory is new
            names = [table.get_row_at(i)[1].plain for i in range(table.row_count)]
            if inside:
                assert table.ports is not shown
                assert "zz-" + vm.name in names
            else:
                assert table.ports is shown, "the table was filled again for a VM it does not list"
                assert [str(r) for r in table.ports] == rows
                assert "zz-" + vm.name not in names
