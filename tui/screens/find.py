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

from tui.lookup import Hit, LookupIndex, Target
from tui.model import Inventory
from tui.text import SafeText as Text
from tui.text import visible
from widgets.safe_input import SafeInput

LIMIT = 200
DEBOUNCE_ENTRIES = 50_000
"""Index size above which the search waits for a pause in typing."""


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
    ]

    def __init__(self, inventory: Inventory, index: LookupIndex) -> None:
        super().__init__()
        self.inventory = inventory
        self.index = index
        self.hits: list[Hit] = []
        self._timer: Timer | None = None

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
        self.query_one("#find-box").border_title = "Find port"
        self.query_one("#find-box").border_subtitle = "enter go · esc close"
        self._search("")

    @on(Input.Changed, "#find-input")
    def _changed(self, event: Input.Changed) -> None:
        # On a large inventory, search when typing pauses rather than on every key.
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if len(self.index) < DEBOUNCE_ENTRIES:
            self._search(event.value)
        else:
            self._timer = self.set_timer(0.15, lambda: self._search(event.value))

    def _search(self, query: str) -> None:
        self.hits = self.index.search(query, limit=LIMIT + 1) if query.strip() else []
        results = self.query_one("#find-results", OptionList)
        results.clear_options()
        shown = self.hits[:LIMIT]
        results.add_options(Option(label) for label in self._labels(shown))
        if shown:
            results.highlighted = 0
        status = self.query_one("#find-status", Label)
        if not query.strip():
            status.update(Text("Type a VM, NIC, IP, MAC (any notation) or port ID.", style="dim"))
        elif not shown:
            status.update(Text(f"No port matches {query.strip()!r}.", style="bold"))
        else:
            more = f" (first {LIMIT} shown; type more to narrow)" if len(self.hits) > LIMIT else ""
            loose = sum(1 for h in shown if h.port is None)
            found = f"{len(shown) - loose} port{'s' * (len(shown) - loose != 1)}"
            if loose:
                found += f", {loose} VM NIC{'s' * (loose != 1)} on no port"
            status.update(Text(f"{found}{more}", style="dim"))

    def _columns(self, hit: Hit) -> tuple[str, str, str]:
        """``(VM / NIC, portgroup or why no port, host)`` of a hit, as shown (escapes included)."""
        row = self.inventory.row(hit.target)
        item = hit.portless
        if item is not None:
            who = f"{row['vm']} / {row['nic'] if row['nic'] is not None else '(no NIC)'}"
            place = "no port: " + self.inventory.nic_place(item)
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

    def _labels(self, hits: list[Hit]) -> list[Text]:
        """One line per hit, never wrapped: port, VM / NIC, why it matched (the whole value: a MAC
        or IP found by its first digits shows the MAC or IP, the typed part underlined), then
        portgroup and host while they fit (host goes first, then the portgroup; a long VM / NIC
        is shortened last)."""
        cols = [self._columns(h) for h in hits]
        whys = [visible(h.reason) for h in hits]
        width = self._width()
        w_who = min(44, max((len(c[0]) for c in cols), default=0))
        w_why = max((len(w) for w in whys), default=0)
        w_pg = max((len(c[1]) for c in cols), default=0)
        w_host = min(16, max((len(c[2]) for c in cols), default=0))
        rest = width - 6 - 2 - w_who - 2 - w_why  # what is left for the portgroup and the host
        show_host = rest >= 2 + w_pg + 2 + w_host
        show_pg = rest >= 2 + min(w_pg, 12)
        if show_pg:
            w_pg = min(w_pg, rest - 2 - (w_host + 2 if show_host else 0))
        elif rest < 0:  # even the reason does not fit beside the VM / NIC: shorten the VM / NIC
            w_who = max(8, w_who + rest)
        query = self.query_one("#find-input", Input).value.strip().lower()
        out = []
        for hit, (who, pg, host), why in zip(hits, cols, whys, strict=True):
            text = Text()
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
        if self._timer is not None:  # enter before the pause: search now
            self._timer.stop()
            self._timer = None
            self._search(event.value)
        results = self.query_one("#find-results", OptionList)
        if results.highlighted is not None and results.highlighted < len(self.hits):
            self.dismiss(self.hits[results.highlighted].target)
        elif self.hits:
            self.dismiss(self.hits[0].target)

    @on(OptionList.OptionSelected, "#find-results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.hits[event.option_index].target)


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
