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

from tui.lookup import Field, Hit, LookupIndex, Target
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
            status.update(Text("Type to search every port by VM, NIC, IP, MAC (any notation) or port ID.", style="dim"))
        elif not shown:
            status.update(Text(f"No port matches {query.strip()!r}.", style="bold"))
        else:
            more = f" (first {LIMIT} shown; type more to narrow)" if len(self.hits) > LIMIT else ""
            loose = sum(1 for h in shown if h.port is None)
            found = f"{len(shown) - loose} port{'s' * (len(shown) - loose != 1)}"
            if loose:
                found += f", {loose} VM NIC{'s' * (loose != 1)} on no port"
            status.update(Text(f"{found}{more}", style="dim"))

    def _columns(self, hit: Hit) -> tuple[str, str, str, str]:
        row = self.inventory.row(hit.target)
        # Say what matched when it is not already on the line (an IP, a MAC, a portgroup...).
        why = "" if hit.field in (Field.VM, Field.VM_NIC, Field.PORT, Field.NIC) else f"{hit.field.label} {hit.text}"
        # Widths below are counted on what is shown: escapes included.
        item = hit.portless
        if item is not None:
            who = f"{row['vm']} / {row['nic'] if row['nic'] is not None else '(no NIC)'}"
            place = "no port: " + self.inventory.nic_place(item)
            return visible(who), visible(place), visible(row["host"]), visible(why)
        who = f"{row['vm']} / {row['nic']}" if row["vm"] else (f"{row['host']} {row['nic']}".strip() or "(free)")
        return visible(who), visible(row["portgroup"] or "(standalone)"), visible(row["host"]), visible(why)

    def _labels(self, hits: list[Hit]) -> list[Text]:
        """One aligned line per hit: port, VM / NIC, portgroup, host, what matched."""
        cols = [self._columns(h) for h in hits]
        w_who = min(44, max((len(c[0]) for c in cols), default=0))
        w_pg = min(24, max((len(c[1]) for c in cols), default=0))
        w_host = min(16, max((len(c[2]) for c in cols), default=0))
        out = []
        for hit, (who, pg, host, why) in zip(hits, cols, strict=True):
            text = Text()
            port = hit.port
            text.append(f"{port.key:>6}" if port is not None else f"{'none':>6}", style="bold" if port else "dim")
            text.append(f"  {who:<{w_who}}")
            text.append(f"  {pg:<{w_pg}}  {host:<{w_host}}", style="dim")
            if why:
                text.append(f"  {why}", style="italic")
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
