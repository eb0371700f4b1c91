"""The command-palette providers: "Go to VM…" and "Go to port…" from the app's search index,
and the explorer's actions (sessions, new session from the marks, marks, copy, live traffic, reload, filter,
sort).

Not a screen: :class:`InventoryCommands` reads the index through :func:`tui.messages.app_state`
and posts :class:`~tui.messages.GoTo` / :class:`~tui.messages.OpenFind` to the app;
:class:`ExplorerCommands` (the explorer's ``COMMANDS``) runs the screen's own actions by name.
"""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from tui.lookup import Field, Target
from tui.messages import GoTo, OpenFind, SwitchContext, app_state
from tui.model import Port
from tui.text import SafeText as Text
from tui.text import visible


class InventoryCommands(Provider):
    """Jump to a VM or a port by typing part of its name, IP, MAC or port ID."""

    def _go(self, target: Target) -> None:
        self.app.post_message(GoTo(target))

    async def discover(self) -> Hits:
        """Offer the finder when the palette opens."""
        yield DiscoveryHit("Go to port…", self._open_find, help="Find a port by VM, NIC, IP, MAC or port ID (/)")

    def _open_find(self) -> None:
        self.app.post_message(OpenFind())

    async def search(self, query: str) -> Hits:
        """Ports and VMs matching ``query`` (exact matches first)."""
        app = app_state(self.app)
        index, inv = app.index, app.inventory
        if index is None or inv is None or not query.strip():
            return
        matcher = self.matcher(query)
        seen_vms: set[str] = set()
        for n, hit in enumerate(index.search(query, limit=40)):
            score = max(matcher.match(hit.text), 1.0 - n / 100)
            item = hit.portless
            if item is not None:  # a NIC on no port: shown in the detail pane
                nic = item.nic.label if item.nic else "no NIC"
                yield Hit(
                    score * 0.98,
                    Text(f"Show {item.vm.name} / {nic} (on no port)"),
                    partial(self._go, item),
                    help=escape(inv.nic_place(item)),
                )
                continue
            port = hit.target
            assert isinstance(port, Port)
            vmnic = inv.vm_nic(port)
            if hit.field in (Field.VM, Field.VM_NIC) and vmnic is not None and vmnic[0].key not in seen_vms:
                seen_vms.add(vmnic[0].key)
                yield Hit(
                    score,
                    Text(f"Go to VM {vmnic[0].name}"),
                    partial(self._go, port),
                    help=escape(visible(inv.port_label(port))),
                )
            label = Text(f"Go to port {inv.port_label(port)}")
            yield Hit(
                score * 0.99,
                label,
                partial(self._go, port),
                help=escape(visible(f"matched {hit.field.label}: {hit.text}")),
            )


class ContextCommands(Provider):
    """ "Context: NAME" for every context (tui/contexts.py): switch to it (``C`` lists them too)."""

    def _commands(self) -> list[tuple[str, str, str]]:
        app = app_state(self.app)
        return [
            (f"Context: {s.name}", s.name, f"{s.where} ({s.state})" if s.name != app.context_name else "shown now")
            for s in app.context_scopes(load=False)
        ]

    def _switch(self, name: str) -> None:
        self.app.post_message(SwitchContext(name))

    async def discover(self) -> Hits:
        """Every context when the palette opens."""
        for title, name, help in self._commands():
            yield DiscoveryHit(Text(visible(title)), partial(self._switch, name), help=escape(visible(help)))

    async def search(self, query: str) -> Hits:
        """Contexts whose "Context: NAME" matches ``query``."""
        matcher = self.matcher(query)
        for title, name, help in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, Text(visible(title)), partial(self._switch, name), help=escape(visible(help)))


EXPLORER_ACTIONS: tuple[tuple[str, str], ...] = (
    ("Open the mirror sessions of this switch", "sessions"),
    ("New mirror session from the marks", "mirror"),
    ("Mark the port as a mirror source (again: next direction)", "mark_source"),
    ("Mark the port as a mirror destination (again: unmark)", "mark_dest"),
    ("Clear the marks", "clear_marks"),
    ("Copy the port ID", "copy_port_id"),
    ("Copy… (port ID, MAC, IP, VM name, VM/NIC)", "copy"),
    ("Live traffic of the port (again: stop)", "live_traffic"),
    ("Reload the inventory", "app.refresh"),
    ("Filter the port table", "filter"),
    ("Connected ports only (again: all)", "connected"),
    ("Sort the port table by the next column", "sort"),
)
"""The explorer's actions the palette runs: (title, the screen's action)."""


class ExplorerCommands(Provider):
    """The explorer's actions by name (``ExplorerScreen.COMMANDS``), each with its key."""

    def _commands(self) -> list[tuple[str, str, str]]:
        """(title, action, help) of the actions the screen allows now, with their live keys."""
        screen = self.screen
        keys: dict[str, str] = {}
        for active in screen.active_bindings.values():
            binding = active.binding
            keys.setdefault(binding.action, self.app.get_key_display(binding))
        out = []
        for title, action in EXPLORER_ACTIONS:
            if screen.check_action(action, ()) is False:  # e.g. no new session in read-only mode
                continue
            key = keys.get(action)
            out.append((title, action, f"key: {key}" if key else ""))
        return out

    def _run(self, action: str) -> None:
        self.app.call_later(self.screen.run_action, action)

    async def discover(self) -> Hits:
        """Every action when the palette opens."""
        for title, action, help in self._commands():
            yield DiscoveryHit(title, partial(self._run, action), help=escape(help))

    async def search(self, query: str) -> Hits:
        """The actions whose title matches ``query``."""
        matcher = self.matcher(query)
        for title, action, help in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, action), help=escape(help))
