"""The Networking tree: vCenter → datacenter → switch → portgroup → VM → port.

Children are built when a node is first expanded, so a 40,000-VM inventory costs only the
nodes on screen. Labels are ``rich.text.Text`` built from vCenter names as plain text:
``vm[prod]`` and ``[/x]`` show literally and are never parsed as markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui.inventory_update import Delta
from tui.lookup import natural_key
from tui.marks import Marks
from tui.model import Inventory, Port, Portgroup, Switch, Vm
from tui.text import LineText as Text


@dataclass(frozen=True, slots=True)
class NodeRef:
    """What a tree node stands for."""

    kind: str
    """``vcenter``, ``datacenter``, ``switch``, ``portgroup``, ``vm``, ``port``, ``nic`` or ``info``.

    A ``nic`` node is a VM NIC whose backing names the portgroup but that is on no port of it
    (no ``portKey``, or a port not read); ``port`` then holds the NIC's device key."""
    switch: str = ""
    portgroup: str = ""
    vm: str = ""
    port: str = ""


IN_PLACE_MAX = 64
"""A live update changing more objects than this rebuilds the tree's open nodes (as a load does)."""


class InventoryTree(Tree[NodeRef]):
    """A lazily built tree of the inventory."""

    DEFAULT_CSS = """
    InventoryTree { scrollbar-size-vertical: 1; }
    """

    @dataclass
    class Highlighted(Message):
        """The cursor moved to a node."""

        tree: InventoryTree
        ref: NodeRef

        @property
        def control(self) -> InventoryTree:
            """The tree (for ``@on`` selectors)."""
            return self.tree

    def __init__(self, *, id: str | None = None) -> None:
        self._widths: dict[int, tuple[object, bool, bool, int]] = {}
        """Label widths by node id, with the label, open and expandable they were measured for."""
        super().__init__("Networking", NodeRef("info"), id=id)
        self.show_root = False
        self.guide_depth = 2
        self.inventory: Inventory | None = None
        self._filled: set[int] = set()
        self.marks = Marks()
        """The marks shown beside port and VM nodes (``src ⇄``, ``dest``)."""
        self._port_nodes: dict[str, list[TreeNode[NodeRef]]] = {}
        """Port nodes built so far, by port key (those of the marked switch are relabelled)."""
        self._vm_nodes: dict[str, list[TreeNode[NodeRef]]] = {}
        """VM nodes built so far, by VM key."""
        self._standalone: set[int] = set()
        """Ids of port nodes labelled with their connectee's host (not under a VM)."""

    # -- building ------------------------------------------------------------------------

    def show_message(self, text: str) -> None:
        """Replace the tree with a single informational line (loading, errors)."""
        self.inventory = None
        self.clear()
        self._filled.clear()
        self._widths.clear()
        self._port_nodes.clear()
        self._vm_nodes.clear()
        self._standalone.clear()
        self.root.add_leaf(Text(text, style="italic"), NodeRef("info"))

    def set_inventory(self, inventory: Inventory, delta: Delta | None = None) -> None:
        """Show ``inventory``, keeping the cursor's place when the same objects still exist.

        With ``delta`` (a live update of the inventory shown), only the nodes of what changed are
        built again when it can be done simply (:meth:`_update_in_place`); else every open node is."""
        keep = self.cursor_node.data if self.cursor_node is not None else None
        # The same vCenter again (a live update, a reload): nodes open and scroll stay as they were.
        same = self.inventory is not None and self.inventory.vcenter == inventory.vcenter
        scroll = self.scroll_y
        real = keep is not None and keep.kind not in ("info", "vcenter", "datacenter")
        # After an update in place, what the cursor was on may be gone: then as after a rebuild.
        fast = delta is not None and same and real and keep is not None and self._update_in_place(inventory, delta)
        if fast and keep is not None and self.select_ref(keep):
            self.call_after_refresh(lambda: self.call_after_refresh(self.scroll_to, y=scroll, animate=False))
            return
        opened = self._expanded() if same else None  # after an update in place, the same nodes
        self.inventory = inventory
        self.clear()
        self._filled.clear()
        self._widths.clear()
        self._port_nodes.clear()
        self._vm_nodes.clear()
        self._standalone.clear()
        vc = self.root.add(Text(inventory.vcenter, style="bold"), NodeRef("vcenter"), expand=True)
        self._filled.add(vc.id)
        dcs = inventory.datacenters or ("",)
        for dc in dcs:
            dc_node = vc.add(Text(dc or "(datacenter)"), NodeRef("datacenter"), expand=True)
            self._filled.add(dc_node.id)
            switches = [s for s in inventory.switches.values() if s.datacenter in (dc, "") or len(dcs) == 1]
            for sw in sorted(switches, key=lambda s: natural_key(s.name)):
                ref = NodeRef("switch", switch=sw.key)
                dc_node.add(self._switch_label(sw), ref, expand=len(inventory.switches) <= 3)
        if opened is not None:
            self._reopen(self.root, opened)
        self._fill_expanded(self.root)
        kept = opened is not None and keep is not None and keep.kind not in ("info", "vcenter", "datacenter")
        if kept and keep is not None and self.select_ref(keep):
            self.call_after_refresh(lambda: self.call_after_refresh(self.scroll_to, y=scroll, animate=False))
            return
        if keep is None or keep.kind in ("info", "vcenter", "datacenter"):
            first = min(inventory.switches.values(), key=lambda s: natural_key(s.name), default=None)
            keep = NodeRef("switch", switch=first.key) if first else None
        if keep is not None:
            self.select_ref(keep)

    def _switch_label(self, sw: Switch) -> Text:
        label = Text(sw.name, style="bold")
        if sw.sessions:
            label.append(f"  {len(sw.sessions)} mirror session{'s' * (len(sw.sessions) != 1)}", style="dim")
        return label

    def _update_in_place(self, inventory: Inventory, delta: Delta) -> bool:
        """Rebuild only the nodes ``delta`` touches; False (nothing done) when that is not simple.

        Simple is: ``delta`` was applied to the inventory shown, changes at most :data:`IN_PLACE_MAX`
        VMs, ports and switches, removes nothing, leaves portgroups, datacenters and the names of
        switches as they were, and touches no port outside a portgroup. Then a changed switch is
        relabelled, and every portgroup that holds (before or after) a port or a VM touched by the
        change gets its children built again, with the nodes below it that were open opened again:
        the same children a full rebuild gives, from the same :meth:`_fill`.
        """
        old, change = self.inventory, delta.change
        if old is None or delta.base is not old or delta.inventory is not inventory:
            return False
        if change.size > IN_PLACE_MAX or change.vms_gone or change.ports_gone or change.portgroups:
            return False
        if inventory.datacenters != old.datacenters or inventory.portgroups is not old.portgroups:
            return False
        for sw in change.switches:
            before = old.switches.get(sw.key)
            if before is None or (before.name, before.datacenter) != (sw.name, sw.datacenter):
                return False
        # The ports touched: those changed, and those the changed VMs' NICs are on, before and after.
        touched = {(p.switch, p.key) for p in change.ports}
        vm_keys = {vm.key for vm in change.vms}
        for inv in (old, inventory):
            for key in vm_keys:
                vm = inv.vms.get(key)
                touched.update((n.switch, n.port) for n in (vm.nics if vm else ()) if n.switch and n.port)
        # Their portgroups, and their owners (a port given up may now be another VM's).
        pgs: set[str] = set()
        owners = set(vm_keys)
        for inv in (old, inventory):
            for sw_key, key in touched:
                port = inv.port(sw_key, key)
                if port is None:
                    continue
                if not port.portgroup:
                    return False  # shown under its switch: rebuilt with the switch
                pgs.add(port.portgroup)
                vmnic = inv.vm_nic(port)
                if vmnic is not None:
                    owners.add(vmnic[0].key)
            for key in owners:
                vm = inv.vms.get(key)
                pgs.update(n.portgroup for n in (vm.nics if vm else ()) if n.portgroup)
        self.inventory = inventory
        changed_switches = {sw.key: sw for sw in change.switches}
        by_switch: dict[str, set[str]] = {}
        for pg_key in pgs:
            pg = inventory.portgroups.get(pg_key)
            if pg is not None:
                by_switch.setdefault(pg.switch, set()).add(pg_key)
        for dc in self.root.children[0].children if self.root.children else ():
            for sw_node in dc.children:
                ref = sw_node.data
                if ref is None or ref.kind != "switch":
                    continue
                relabel = changed_switches.get(ref.switch)
                if relabel is not None:
                    sw_node.set_label(self._switch_label(relabel))
                wanted = by_switch.get(ref.switch)
                if not wanted or sw_node.id not in self._filled:
                    continue
                for pg_node in sw_node.children:
                    if pg_node.data is not None and pg_node.data.portgroup in wanted:
                        self._refill(pg_node)
        return True

    def _refill(self, node: TreeNode[NodeRef]) -> None:
        """Build ``node``'s children again (now if it is open, else when it is next opened)."""
        if node.id not in self._filled:
            return  # never built: built from the new inventory when opened
        below = self._walk(node)
        opened = {n.data for n in below if n.is_expanded and n.data is not None}
        gone = {n.id for n in below}
        self._filled -= gone
        for node_id in gone:
            self._widths.pop(node_id, None)
        self._standalone -= gone
        for n in below:
            for nodes, key in ((self._port_nodes, n.data.port), (self._vm_nodes, n.data.vm)) if n.data else ():
                if key in nodes:
                    kept = [other for other in nodes[key] if other.id not in gone]
                    if kept:
                        nodes[key] = kept
                    else:
                        del nodes[key]
        node.remove_children()
        self._filled.discard(node.id)
        if node.is_expanded:
            self._fill(node)
            self._reopen(node, opened)

    @staticmethod
    def _walk(node: TreeNode[NodeRef]) -> list[TreeNode[NodeRef]]:
        """Every node below ``node``."""
        out: list[TreeNode[NodeRef]] = []
        stack = list(node.children)
        while stack:
            child = stack.pop()
            out.append(child)
            stack.extend(child.children)
        return out

    def _expanded(self) -> set[NodeRef]:
        """What every open node stands for."""
        out: set[NodeRef] = set()
        stack = [self.root]
        while stack:
            for child in stack.pop().children:
                if child.is_expanded and child.data is not None:
                    out.add(child.data)
                    stack.append(child)
        return out

    def _reopen(self, node: TreeNode[NodeRef], opened: set[NodeRef]) -> None:
        """Open the nodes that were open (``opened``), close the others, below ``node``."""
        for child in node.children:
            if child.data in opened:
                self._fill(child)
                child.expand()
                self._reopen(child, opened)
            elif child.is_expanded and child.data is not None:
                child.collapse()

    def _fill_expanded(self, node: TreeNode[NodeRef]) -> None:
        for child in node.children:
            if child.is_expanded:
                self._fill(child)
                self._fill_expanded(child)

    def _fill(self, node: TreeNode[NodeRef]) -> None:
        """Create ``node``'s children if they do not exist yet."""
        if node.id in self._filled or self.inventory is None or node.data is None:
            return
        self._filled.add(node.id)
        inv, ref = self.inventory, node.data
        if ref.kind == "switch":
            pgs = sorted(
                inv.portgroups_by_switch.get(ref.switch, ()), key=lambda p: (not p.uplink, natural_key(p.name))
            )
            for pg in pgs:
                node.add(self._portgroup_label(pg), NodeRef("portgroup", switch=ref.switch, portgroup=pg.key))
            standalone = [p for p in inv.ports_by_switch.get(ref.switch, ()) if not p.portgroup]
            for p in standalone:
                self._add_port(node, p, standalone=True)
        elif ref.kind == "portgroup":
            ports = inv.ports_by_portgroup.get(ref.portgroup, ())
            vms: dict[str, Vm] = {}
            others: list[Port] = []
            for p in ports:
                vmnic = inv.vm_nic(p)
                if vmnic is not None:
                    vms.setdefault(vmnic[0].key, vmnic[0])
                elif p.connectee is not None:
                    others.append(p)
            for item in inv.portless:  # VMs whose NIC names this portgroup but holds no port of it
                if item.nic is not None and item.nic.portgroup == ref.portgroup:
                    vms.setdefault(item.vm.key, item.vm)
            for vm in sorted(vms.values(), key=lambda v: natural_key(v.name)):
                vm_ref = NodeRef("vm", switch=ref.switch, portgroup=ref.portgroup, vm=vm.key)
                self._vm_nodes.setdefault(vm.key, []).append(node.add(self._vm_label(vm_ref), vm_ref))
            for p in others:
                self._add_port(node, p, standalone=True)
            if not vms and not others:
                free = len(ports)
                node.add_leaf(Text(f"no connected ports ({free} free)", style="dim italic"), NodeRef("info"))
        elif ref.kind == "vm":
            owner = inv.vms.get(ref.vm)
            for nic in owner.nics if owner else ():
                if nic.portgroup != ref.portgroup:
                    continue
                port = inv.port(nic.switch, nic.port) if nic.port else None
                vmnic = inv.vm_nic(port) if port is not None else None
                if port is not None and vmnic is not None and vmnic[1] is nic:
                    self._add_port(node, port)
                else:  # the backing names this portgroup, but the NIC holds no port of it
                    label = Text(nic.label)
                    label.append("  no port", style="dim italic")
                    nic_ref = NodeRef("nic", switch=ref.switch, portgroup=ref.portgroup, vm=ref.vm, port=str(nic.key))
                    node.add_leaf(label, nic_ref)

    def _add_port(self, parent: TreeNode[NodeRef], port: Port, standalone: bool = False) -> None:
        node = parent.add_leaf(self._port_label(port, standalone), NodeRef("port", switch=port.switch, port=port.key))
        self._port_nodes.setdefault(port.key, []).append(node)
        if standalone:
            self._standalone.add(node.id)

    def _mark_tag(self, port: Port) -> str:
        """``src ⇄``, ``dest``… when ``port`` is marked, else ''."""
        return self.marks.role(port.key) if self.marks.switch == port.switch else ""

    def _vm_label(self, ref: NodeRef) -> Text:
        assert self.inventory is not None
        inv = self.inventory
        vm = inv.vms[ref.vm]
        label = Text()
        # Marks go first: a narrow tree cuts the end of a label, never its start.
        for nic in vm.nics:
            port = inv.port(nic.switch, nic.port) if nic.port and nic.portgroup == ref.portgroup else None
            tag = self._mark_tag(port) if port is not None else ""
            if tag:
                label.append(f" {tag} ", style="bold reverse")
                label.append(" ")
        label.append(vm.name)
        if vm.power != "poweredOn":
            label.append("  off", style="dim")
        return label

    def show_marks(self, marks: Marks) -> None:
        """Show ``marks`` beside the port nodes (and their VMs) built so far."""
        old, self.marks = self.marks, marks
        changed = {k for k, _ in (*old.sources, *marks.sources)} | {*old.destinations, *marks.destinations}
        if self.inventory is None:
            return
        vms: set[str] = set()
        for key in changed:
            for node in self._port_nodes.get(key, ()):
                ref = node.data
                port = self.inventory.port(ref.switch, ref.port) if ref is not None else None
                if port is None:
                    continue
                node.set_label(self._port_label(port, node.id in self._standalone))
                vmnic = self.inventory.vm_nic(port)
                if vmnic is not None:
                    vms.add(vmnic[0].key)
        for vm_key in vms:
            for node in self._vm_nodes.get(vm_key, ()):
                if node.data is not None:
                    node.set_label(self._vm_label(node.data))

    def _portgroup_label(self, pg: Portgroup) -> Text:
        label = Text(pg.name)
        if pg.uplink:
            label.stylize("italic")
        label.append(f"  {pg.vlan.label}", style="dim")
        if pg.promiscuous:
            label.append("  promiscuous", style="dim")
        if pg.binding.value == "ephemeral":
            label.append("  ephemeral", style="dim")
        return label

    def _port_label(self, port: Port, standalone: bool = False) -> Text:
        assert self.inventory is not None
        inv = self.inventory
        label = Text(port.key, style="bold")
        tag = self._mark_tag(port)
        if tag:  # right after the key: a narrow tree cuts the end of a label
            label.append("  ")
            label.append(f" {tag} ", style="bold reverse")
        vmnic = inv.vm_nic(port)
        if vmnic is not None:
            label.append(f"  {vmnic[1].label}")
        elif port.connectee is not None:
            who = inv.host_name(port.connectee.entity) if standalone else ""
            label.append(f"  {who} {port.connectee.nic_key}".rstrip() if who else f"  {port.connectee.nic_key}")
            if port.name:
                label.append(f" ({port.name})", style="dim")
        if port.connectee is not None and not port.link_up:
            label.append("  down", style="dim")
        return label

    def get_label_width(self, node: TreeNode[NodeRef]) -> int:
        """The width of ``node``'s label, measured again only when it changed.

        Textual measures every line of the tree after any node is added or removed: with hundreds of
        portgroups open, that is most of a live update's cost."""
        cached = self._widths.get(node.id)
        label, expanded, expandable = node.label, node.is_expanded, node.allow_expand
        if cached is not None and cached[0] is label and cached[1] == expanded and cached[2] == expandable:
            return cached[3]
        width = super().get_label_width(node)
        self._widths[node.id] = (label, expanded, expandable, width)
        return width

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeRef]) -> None:
        """Build children the first time a node opens."""
        self._fill(event.node)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[NodeRef]) -> None:
        """Tell the screen what is under the cursor."""
        event.stop()
        if event.node.data is not None:
            self.post_message(self.Highlighted(self, event.node.data))

    # -- navigation -----------------------------------------------------------------------

    def _child(self, node: TreeNode[NodeRef], match: NodeRef) -> TreeNode[NodeRef] | None:
        self._fill(node)
        for child in node.children:
            d = child.data
            if d is None or d.kind != match.kind:
                continue
            if match.kind == "switch" and d.switch == match.switch:
                return child
            if match.kind == "portgroup" and d.portgroup == match.portgroup:
                return child
            if match.kind == "vm" and d.vm == match.vm:
                return child
            if match.kind == "port" and d.port == match.port and d.switch == match.switch:
                return child
            if match.kind == "nic" and d.vm == match.vm and d.port == match.port:
                return child
        return None

    def find_node(self, ref: NodeRef) -> TreeNode[NodeRef] | None:
        """The node for ``ref``, creating (not expanding) the nodes on its path."""
        if self.inventory is None:
            return None
        path: list[NodeRef] = []
        if ref.kind in ("switch", "portgroup", "vm", "port", "nic"):
            path.append(NodeRef("switch", switch=ref.switch))
        if ref.kind == "port":
            port = self.inventory.port(ref.switch, ref.port)
            if port is None:
                return None
            if port.portgroup:
                path.append(NodeRef("portgroup", switch=ref.switch, portgroup=port.portgroup))
            vmnic = self.inventory.vm_nic(port)
            if vmnic is not None and port.portgroup:
                path.append(NodeRef("vm", switch=ref.switch, portgroup=port.portgroup, vm=vmnic[0].key))
            path.append(ref)
        elif ref.kind == "vm":
            path += [NodeRef("portgroup", switch=ref.switch, portgroup=ref.portgroup), ref]
        elif ref.kind == "nic":
            pg, vm = NodeRef("portgroup", switch=ref.switch, portgroup=ref.portgroup), ref.vm
            path += [pg, NodeRef("vm", switch=ref.switch, portgroup=ref.portgroup, vm=vm), ref]
        elif ref.kind == "portgroup":
            path.append(ref)
        node: TreeNode[NodeRef] | None = None
        for dc in self.root.children[0].children if self.root.children else ():
            node = dc
            for step in path:
                node = self._child(node, step) if node is not None else None
            if node is not None:
                return node
        return None

    def select_ref(self, ref: NodeRef) -> bool:
        """Expand the path to ``ref`` and put the cursor on it. Returns False if not found."""
        node = self.find_node(ref)
        if node is None:
            return False
        parent = node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        # Line numbers are recomputed on the next refresh, after the expansions above.
        self.call_after_refresh(self.move_cursor, node)
        return True

    def select_port(self, port: Port) -> bool:
        """Put the cursor on ``port``'s node."""
        return self.select_ref(NodeRef("port", switch=port.switch, port=port.key))
