"""The finder: type a VM name, NIC, IP, MAC or port ID; enter jumps to the port.

A VM NIC on no port (a standard or opaque network, no backing, no port key) is listed too,
with ``none`` for its port; choosing it shows the VM and NIC in the detail pane.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from tui.contexts import ContextScope
from tui.lookup import Hit, LookupIndex, Target
from tui.messages import SwitchContext, app_state
from tui.model import Inventory
from tui.text import SafeText as Text
from tui.text import visible
from widgets.safe_input import SafeInput

LIMIT = 200
FIRST = 40
"""Results put in the list at once; the others (up to :data:`LIMIT`) follow once it is painted."""


class FindScreen(ModalScreen[Target | None]):
    """Search the in-memory index as you type."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", id="find.close"),
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
        Binding("pagedown", "move(10)", show=False),
        Binding("pageup", "move(-10)", show=False),
        # j/k/g/G in the results list (tab to it); while typing they are letters of the query.
        Binding("j", "move(1)", "Next", id="find.down", tooltip="Next result (in the list)", show=False),
        Binding("k", "move(-1)", "Previous", id="find.up", tooltip="Previous result (in the list)", show=False),
        Binding("g", "move(-1000000)", "First", id="find.top", tooltip="First result (in the list)", show=False),
        Binding("G", "move(1000000)", "Last", id="find.bottom", tooltip="Last result (in the list)", show=False),
        Binding(
            "ctrl+t",
            "all_contexts",
            "All contexts",
            id="find.all_contexts",
            tooltip="Search every context (vCenter) too, or only this one",
        ),
    ]

    def __init__(self, inventory: Inventory, index: LookupIndex) -> None:
        super().__init__()
        self.inventory = inventory
        self.index = index
        self.hits: list[Hit] = []
        self.hit_contexts: list[str] = []
        """The context of each hit ('' when searching only the one shown)."""
        self.all_contexts = False
        """Searching every context (ctrl+t)."""
        self.scopes: list[ContextScope] = []
        self._typed = 0
        """Keys typed so far (a search for an earlier one is stale)."""
        self._done = 0
        """The key whose search is shown."""
        self._searches = 0
        """Searches made (the list shows the last one's results)."""
        self._poll: Timer | None = None

    def compose(self) -> ComposeResult:
        """Input over results."""
        with Vertical(id="find-box"):
            yield SafeInput(placeholder="VM, NIC, IP, MAC or port ID", id="find-input")
            yield Label(id="find-status")
            yield OptionList(id="find-results")

    def on_resize(self) -> None:
        """Lay the results out again for the new width."""
        self._search(self.query_one("#find-input", Input).value)

    def on_mount(self) -> None:
        """Focus the input; show results for a preset query."""
        self._titles()
        self._search("")

    def _titles(self) -> None:
        box = self.query_one("#find-box")
        box.border_title = "Find port · all contexts" if self.all_contexts else "Find port"
        has_contexts = bool(app_state(self.app).context_name)
        toggle = " · ctrl+t this context only" if self.all_contexts else " · ctrl+t all contexts"
        box.border_subtitle = "enter go · esc close" + (toggle if has_contexts else "")

    def action_all_contexts(self) -> None:
        """Search every context too (those not loaded yet are loaded now), or only this one."""
        if not app_state(self.app).context_name:
            self.notify("No other contexts: add [profiles.NAME] to config.toml.", severity="warning", markup=False)
            return
        self.all_contexts = not self.all_contexts
        self._titles()
        if self.all_contexts:
            self.scopes = app_state(self.app).context_scopes(load=True)
            self._poll = self.set_interval(0.3, self._refresh_scopes)
        elif self._poll is not None:
            self._poll.stop()
            self._poll = None
        self._search(self.query_one("#find-input", Input).value)

    def _refresh_scopes(self) -> None:
        """Contexts still loading: search again when one is ready (or failed)."""
        scopes = app_state(self.app).context_scopes(load=False)
        if [(s.state, s.index is None) for s in scopes] != [(s.state, s.index is None) for s in self.scopes]:
            self.scopes = scopes
            self._search(self.query_one("#find-input", Input).value)
        waiting = [s for s in scopes if s.index is None and not s.error and s.state != "needs a password"]
        if not waiting and self._poll is not None:
            self._poll.stop()
            self._poll = None

    @on(Input.Changed, "#find-input")
    def _changed(self, event: Input.Changed) -> None:
        # A search takes a few milliseconds at 60,000 ports (bench_finder.py): search on every key,
        # with no pause in typing awaited. Keys that arrive together (a paste, fast typing while
        # the list is drawn) are searched once, for the last of them: the others are stale.
        self._typed += 1
        self.call_later(self._search_typed, self._typed)

    def _search_typed(self, typed: int) -> None:
        if typed == self._typed and self._done != typed:  # else a later key's search is the one wanted
            self._done = typed
            self._search(self.query_one("#find-input", Input).value)

    def _searched(self, query: str) -> list[tuple[str, Inventory, Hit]]:
        """``(context, its inventory, hit)``: the context shown first, then the others in order."""
        if not query.strip():
            return []
        if not self.all_contexts:
            return [("", self.inventory, h) for h in self.index.search(query, limit=LIMIT + 1)]
        found: list[tuple[str, Inventory, Hit]] = []
        scopes = sorted(self.scopes, key=lambda s: s.state != "current")
        for scope in scopes:
            index = self.index if scope.state == "current" else scope.index
            inventory = self.inventory if scope.state == "current" else scope.inventory
            if index is None or inventory is None or len(found) > LIMIT:
                continue
            found += [(scope.name, inventory, h) for h in index.search(query, limit=LIMIT + 1 - len(found))]
        return found

    def _search(self, query: str) -> None:
        self._searches += 1
        matched = self._searched(query)
        self.hits = [h for _, _, h in matched]
        self.hit_contexts = [c for c, _, _ in matched]
        results = self.query_one("#find-results", OptionList)
        results.clear_options()
        shown = self.hits[:LIMIT]
        # Each line costs a fraction of a millisecond to make and for the list to measure: the first
        # screenful is shown at once, the rest once it is painted (unless another key came first).
        results.add_options(Option(label) for label in self._labels(matched[:LIMIT], 0, FIRST))
        if len(shown) > FIRST:
            self.call_after_refresh(self._add_rest, self._searches, matched[:LIMIT])
        if shown:
            results.highlighted = 0
        if not query.strip():
            text = Text("Type a VM, NIC, IP, MAC (any notation) or port ID.", style="dim")
        elif not shown:
            text = Text(f"No port matches {query.strip()!r}.", style="bold")
        else:
            more = f" (first {LIMIT} shown; type more to narrow)" if len(self.hits) > LIMIT else ""
            loose = sum(1 for h in shown if h.port is None)
            found = f"{len(shown) - loose} port{'s' * (len(shown) - loose != 1)}"
            if loose:
                found += f", {loose} VM NIC{'s' * (loose != 1)} on no port"
            text = Text(f"{found}{more}", style="dim")
        if query.strip() and not self.inventory.details:  # the port map of a load still running
            text.append("  · IPs still loading", style="yellow")
        if self.all_contexts:
            text.append_text(self._scope_note())
        self.query_one("#find-status", Label).update(text)

    def _add_rest(self, search: int, found: list[tuple[str, Inventory, Hit]], start: int = FIRST) -> None:
        """The next screenful of results after ``start``, then the others after the next paint: a key
        typed meanwhile waits for one screenful at most."""
        if search != self._searches:  # the list shows another search's results now
            return
        labels = self._labels(found, start, start + FIRST)
        self.query_one("#find-results", OptionList).add_options(Option(label) for label in labels)
        if start + FIRST < len(found):
            self.call_after_refresh(self._add_rest, search, found, start + FIRST)

    def _scope_note(self) -> Text:
        """What is not searched yet, and why: ``  · b: loading · c: nothing is listening…``."""
        text = Text()
        for s in self.scopes:
            if s.error:
                text.append(f"  · {visible(s.name)}: {visible(s.error)}", style="red")
            elif s.state == "needs a password":
                text.append(f"  · {visible(s.name)}: needs a password (not searched; C asks for it)")
            elif s.state != "current" and s.index is None:
                text.append(f"  · {visible(s.name)}: {s.state}", style="dim")
        return text

    def _columns(self, hit: Hit, inventory: Inventory | None = None) -> tuple[str, str, str]:
        """``(VM / NIC, portgroup or why no port, host)`` of a hit, as shown (escapes included)."""
        inventory = inventory or self.inventory
        row = inventory.row(hit.target)
        item = hit.portless
        if item is not None:
            who = f"{row['vm']} / {row['nic'] if row['nic'] is not None else '(no NIC)'}"
            place = "no port: " + inventory.nic_place(item)
            return visible(who), visible(place), visible(row["host"])
        who = f"{row['vm']} / {row['nic']}" if row["vm"] else (f"{row['host']} {row['nic']}".strip() or "(free)")
        return visible(who), visible(row["portgroup"] or "(standalone)"), visible(row["host"])

    def _width(self) -> int:
        """Cells a result line may take without wrapping (the list's width, less its scrollbar)."""
        results = self.query_one("#find-results", OptionList)
        width = results.content_region.width or results.size.width
        if not width:  # not laid out yet: the box is 90% of the screen, at most 110, less borders
            width = min(110, int(self.app.size.width * 0.9)) - 4
        return max(20, width - 2)

    def _labels(self, found: list[tuple[str, Inventory, Hit]], start: int = 0, stop: int | None = None) -> list[Text]:
        """One line per hit, never wrapped: port, VM / NIC, why it matched (the whole value: a MAC
        or IP found by its first digits shows the MAC or IP, the typed part underlined), then
        portgroup and host while they fit (host goes first, then the portgroup; a long VM / NIC
        is shortened last). The columns fit every hit of ``found``; the lines are those of
        ``found[start:stop]``."""
        hits = [h for _, _, h in found]
        names = [visible(c) for c, _, _ in found]
        w_ctx = min(16, max((len(n) for n in names), default=0))
        cols = [self._columns(h, inv) for _, inv, h in found]
        whys = [visible(h.reason) for h in hits]
        width = self._width()
        w_who = min(44, max((len(c[0]) for c in cols), default=0))
        w_why = max((len(w) for w in whys), default=0)
        w_pg = max((len(c[1]) for c in cols), default=0)
        w_host = min(16, max((len(c[2]) for c in cols), default=0))
        rest = width - 6 - 2 - w_who - 2 - w_why - (w_ctx + 2 if w_ctx else 0)  # left for portgroup and host
        show_host = rest >= 2 + w_pg + 2 + w_host
        show_pg = rest >= 2 + min(w_pg, 12)
        if show_pg:
            w_pg = min(w_pg, rest - 2 - (w_host + 2 if show_host else 0))
        elif rest < 0:  # even the reason does not fit beside the VM / NIC: shorten the VM / NIC
            w_who = max(8, w_who + rest)
        query = self.query_one("#find-input", Input).value.strip().lower()
        out = []
        lines = zip(hits[start:stop], cols[start:stop], whys[start:stop], names[start:stop], strict=True)
        for hit, (who, pg, host), why, name in lines:
            text = Text()
            if w_ctx:
                text.append(f"{_cut(name, w_ctx):<{w_ctx}}  ", style="bold")
            port = hit.port
            text.append(f"{port.key:>6}" if port is not None else f"{'none':>6}", style="bold" if port else "dim")
            text.append(f"  {_cut(who, w_who):<{w_who}}  ")
            text.append_text(_marked(why, query, w_why))
            if show_pg:
                text.append(f"  {_cut(pg, w_pg):<{w_pg}}", style="dim")
            if show_host:
                text.append(f"  {_cut(host, w_host):<{w_host}}", style="dim")
            out.append(text)
        return out

    def action_move(self, delta: int) -> None:
        """Move the highlight while typing."""
        results = self.query_one("#find-results", OptionList)
        if results.option_count:
            current = results.highlighted or 0
            results.highlighted = max(0, min(results.option_count - 1, current + delta))

    @on(Input.Submitted, "#find-input")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._done != self._typed:  # enter before the last key's search: search now, once
            self._done = self._typed
            self._search(event.value)
        results = self.query_one("#find-results", OptionList)
        if results.highlighted is not None and results.highlighted < len(self.hits):
            self._choose(results.highlighted)
        elif self.hits:
            self._choose(0)

    @on(OptionList.OptionSelected, "#find-results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option_index)

    def _choose(self, n: int) -> None:
        """Go to hit ``n``; one of another context switches to that context first."""
        context = self.hit_contexts[n] if n < len(self.hit_contexts) else ""
        if context and context != app_state(self.app).context_name:
            self.dismiss(None)
            self.app.post_message(SwitchContext(context, self.hits[n].target))
            return
        self.dismiss(self.hits[n].target)


def _cut(text: str, width: int) -> str:
    """``text`` in ``width`` cells, ``…`` at the end when it is longer."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _marked(why: str, query: str, width: int) -> Text:
    """Why a hit matched (``mac: 00:50:56:9a:1b:2b``), in italics, the typed part underlined."""
    text = Text(f"{why:<{width}}", style="italic")
    label, sep, value = why.partition(": ")
    at = value.lower().find(query) if query and sep else -1
    if at >= 0:
        start = len(label) + len(sep) + at
        text.stylize("underline", start, start + len(query))
    return text
