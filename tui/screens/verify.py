"""Verify a mirror session: sample its ports' counters over a short window and show the verdict.

:class:`VerifyScreen` runs :func:`tui.verify.sample` in a thread (one ``port_statistics`` call
per reading, a progress bar over the window, the numbers so far after the second reading), then
shows :func:`tui.verify.judge`'s verdict: the label and summary coloured by verdict, what each
source carried to mirror beside what each destination was sent (:func:`tui.verify.table_rows`),
the reasons and the advice. ``esc`` stops the sampling at once and closes; ``r`` samples again.

:class:`VerifyOfferScreen` is the question the app asks after the wizard created a session:
verify it now? (the session vCenter created, by the key it returned).

Names come from vCenter: every string shown goes through :class:`tui.text.SafeText`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, ProgressBar, Static

from tui import rules
from tui.backends import BackendError
from tui.messages import CopyRequested, app_state
from tui.model import Inventory, MirrorSession
from tui.screens.confirm import ConfirmScreen
from tui.text import SafeText as Text
from tui.text import visible
from tui.verify import (
    COLUMNS,
    DEFAULT_SECONDS,
    SAMPLE_EVERY,
    Reading,
    StatisticsSource,
    Verdict,
    VerifyPlan,
    VerifyResult,
    judge,
    plan,
    sample,
    table_rows,
)

MARKS = {
    Verdict.MIRRORING: "✓",
    Verdict.NOTHING_TO_MIRROR: "○",
    Verdict.NOT_DELIVERED: "✗",
    Verdict.DROPPED: "!",
    Verdict.INCONCLUSIVE: "?",
}
"""A sign before the verdict's label, so it reads without colour too."""


def session_name(session: MirrorSession) -> str:
    """``'F5 DMZ to monitor' (key 3)``, or ``key 3`` for a session with no name."""
    return f"{session.name!r} (key {session.key})" if session.name else f"key {session.key}"


def verdict_text(result: VerifyResult) -> Text:
    """The verdict's sign and label in bold, then the rest of the summary."""
    label = result.verdict.label
    rest = result.summary
    if rest.startswith(label + ":"):
        rest = rest[len(label) + 1 :].lstrip()
    text = Text()
    text.append(f"{MARKS[result.verdict]} {label}", style="bold")
    text.append(f"  {rest}" if rest else "")
    return text


SHORT_ROLES = {
    "source (received)": "src in",
    "source (sent)": "src out",
    "source (both)": "src ⇄",
    "destination": "dest",
}
"""Roles in few words, for a narrow screen."""


def ports_table(result: VerifyResult, compact: bool = False) -> RenderableType:
    """The side-by-side table: sources, then destinations (plain cells, escaped).

    ``compact`` (a narrow screen): each port's name on a line of its own, its role and numbers
    on the next, in aligned columns, so a long VM or NIC name does not squeeze the numbers.
    """
    rows = table_rows(result)
    if compact:
        return _compact_table(rows)
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold", expand=False)
    for i, name in enumerate(COLUMNS):
        table.add_column(name, justify="left" if i < 2 else "right", no_wrap=i >= 1)
    for row in rows:
        style = "bold" if row[1] == "destination" else ""
        table.add_row(*(Text(cell, style=style if i in (2, 3) else "") for i, cell in enumerate(row)))
    return table


def _compact_table(rows: list[tuple[str, ...]]) -> Text:
    heads = ("Role", *COLUMNS[2:])
    cells = [(SHORT_ROLES.get(r[1], r[1]), *r[2:]) for r in rows]
    widths = [max(len(c[i]) for c in (heads, *cells)) for i in range(len(heads))]

    def line(values: tuple[str, ...]) -> str:
        pairs = enumerate(zip(values, widths, strict=True))
        return "  " + "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in pairs)

    text = Text()
    text.append(line(heads).rstrip() + "\n", style="bold")
    for row, values in zip(rows, cells, strict=True):
        text.append(row[0] + "\n")
        text.append(line(values).rstrip() + "\n", style="bold" if row[1] == "destination" else "")
    text.rstrip()
    return text


def reasons_text(result: VerifyResult) -> RenderableType:
    """Why (each reason's text, its code after it, as the sessions screen shows warnings), then
    what to do; each item hangs from its mark when it wraps."""
    parts: list[RenderableType] = []

    def items(mark: str, rows: list[Text]) -> Table:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(ratio=1)
        for row in rows:
            grid.add_row(mark, row)
        return grid

    if result.reasons:
        rows = []
        for r in result.reasons:
            row = Text(r.text)
            row.append(f"  {r.code}", style="dim")
            rows.append(row)
        heading = "Notes" if result.verdict is Verdict.MIRRORING else "Why"
        parts += [Text(heading, style="bold"), items("•", rows)]
    if result.advice:
        parts += [Text("What to do", style="bold"), items("→", [Text(a) for a in result.advice])]
    return Group(*parts)


class VerifyScreen(ModalScreen[None]):
    """Sample one session's ports and say whether it delivers."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="verify.close", tooltip="Stop sampling and close"),
        Binding("r", "again", "Again", id="verify.again", tooltip="Verify again"),
        Binding("y", "copy", "Copy", id="verify.copy", tooltip="Copy the verdict and its numbers"),
    ]

    @dataclass
    class Sampled(Message):
        """A reading of the window (sent from the sampling thread)."""

        run: int
        share: float
        readings: tuple[Reading, ...]

    @dataclass
    class Finished(Message):
        run: int
        readings: tuple[Reading, ...]

    @dataclass
    class Failed(Message):
        run: int
        message: str
        hint: str

    def __init__(
        self, switch_key: str, session_key: str, *, seconds: float = DEFAULT_SECONDS, every: float = SAMPLE_EVERY
    ) -> None:
        super().__init__()
        self.switch_key = switch_key
        self.session_key = session_key
        self.seconds = seconds
        self.every = every
        self.result: VerifyResult | None = None
        """The last verdict (None while sampling or after a failure)."""
        self.error = ""
        """Why the last run could not give a verdict ('' when it did)."""
        self.running = False
        self._run = 0
        self._stop = threading.Event()
        self._started = 0.0
        self._timer: Timer | None = None
        self._inventory: Inventory | None = None
        self._plan: VerifyPlan | None = None
        self._partial: VerifyResult | None = None
        """The numbers so far while sampling."""

    def compose(self) -> ComposeResult:
        """Status, progress, verdict, table, reasons, buttons."""
        with Vertical(id="verify-box"):
            with VerticalScroll(id="verify-body"):
                yield Static(id="verify-status")
                yield ProgressBar(total=100, show_eta=False, id="verify-progress")
                yield Static(id="verify-verdict")
                yield Static(id="verify-table")
                yield Static(id="verify-reasons")
            with Horizontal(id="verify-buttons"):
                yield Button("Verify again (r)", id="verify-again", compact=True)
                yield Button("Copy (y)", id="verify-copy", compact=True)
                yield Button("Close (esc)", id="verify-close", compact=True)

    def on_mount(self) -> None:
        """Start sampling."""
        self.query_one("#verify-box").border_title = "Verify session"
        self.query_one("#verify-body").focus()  # up/down scroll the result
        self.start()

    COMPACT_BELOW = 100
    """Screens narrower than this get the table's short headings and roles."""

    def _compact(self) -> bool:
        return 0 < self.app.size.width < self.COMPACT_BELOW

    def on_resize(self) -> None:
        """The table's headings follow the width."""
        shown = self.result or (self._partial if self.running else None)
        if shown is not None:
            self.query_one("#verify-table", Static).update(ports_table(shown, self._compact()))

    def on_unmount(self) -> None:
        """Closing (or quitting) ends the sampling thread's wait at once."""
        self._stop.set()

    # -- running ------------------------------------------------------------------------

    def _find(self) -> tuple[Inventory, MirrorSession] | str:
        """The inventory and the session as they stand now, or why they cannot be verified."""
        app = app_state(self.app)
        inv = app.inventory
        if inv is None or app.partial:
            return "The inventory is being loaded: verify again (r) when it has loaded."
        switch = inv.switches.get(self.switch_key)
        if switch is None:
            return "The switch is no longer in the inventory: nothing to verify."
        session = switch.session(self.session_key)
        if session is None:
            return f"Session key {self.session_key} no longer exists on {switch.name} (deleted meanwhile?)."
        return inv, session

    def start(self) -> None:
        """(Re)start sampling the session as the inventory holds it now."""
        self._stop.set()  # a run still going stops
        self._run += 1
        self.result, self.error = None, ""
        found = self._find()
        if isinstance(found, str):
            self._show_error(found, "")
            return
        inv, session = found
        switch = inv.switches[self.switch_key]
        self._inventory, self._plan = inv, plan(inv, self.switch_key, session)
        self.query_one("#verify-box").border_title = escape(
            visible(f"Verify session {session_name(session)} on {switch.name}")
        )
        ports = len(self._plan.port_keys)
        self._status(
            f"Reading {ports} port{'s' * (ports != 1)} every {self.every:g} s for {self.seconds:g} s "
            "(the switch's port counters)…"
        )
        self.query_one("#verify-verdict", Static).display = False
        self.query_one("#verify-reasons", Static).display = False
        self.query_one("#verify-table", Static).update("")
        self._partial = None
        bar = self.query_one("#verify-progress", ProgressBar)
        bar.display = True
        bar.update(total=100, progress=0)
        self.running = True
        self._started = time.monotonic()
        if self._timer is None:
            self._timer = self.set_interval(0.25, self._tick)
        self._stop = threading.Event()
        self._sample(app_state(self.app).backend, self._run, self._plan, self._stop)
        self._refresh_keys()

    @work(thread=True, exclusive=True, group="verify", exit_on_error=False, description="Verifying a session")
    def _sample(self, backend: StatisticsSource, run: int, the_plan: VerifyPlan, stop: threading.Event) -> None:
        """Sample in a thread; each reading, the end and a failure arrive as messages."""
        so_far: list[Reading] = []

        def progress(share: float, reading: Reading) -> None:
            so_far.append(reading)
            self.post_message(self.Sampled(run, share, tuple(so_far)))

        try:
            readings = sample(backend, the_plan, self.seconds, every=self.every, stop=stop, progress=progress)
        except BackendError as e:
            self.post_message(self.Failed(run, f"Could not read the port counters: {e.message}", e.hint))
            return
        except Exception as e:  # never a traceback: said as it is
            self.post_message(self.Failed(run, f"Reading the port counters failed: {e.__class__.__name__}: {e}", ""))
            return
        if not stop.is_set():
            self.post_message(self.Finished(run, tuple(readings)))

    def _tick(self) -> None:
        if self.running:
            share = min(1.0, (time.monotonic() - self._started) / self.seconds)
            self.query_one("#verify-progress", ProgressBar).update(progress=100 * share)

    def on_verify_screen_sampled(self, message: Sampled) -> None:
        """The numbers so far (from the second reading on)."""
        if message.run != self._run or not self.running:
            return
        self.query_one("#verify-progress", ProgressBar).update(progress=100 * message.share)
        if len(message.readings) >= 2 and self._inventory is not None and self._plan is not None:
            self._partial = judge(self._inventory, self._plan, message.readings, [])
            self.query_one("#verify-table", Static).update(ports_table(self._partial, self._compact()))

    def on_verify_screen_finished(self, message: Finished) -> None:
        """Judge the window."""
        if message.run != self._run:
            return
        self.running = False
        self.query_one("#verify-progress", ProgressBar).display = False
        found = self._find()
        if isinstance(found, str):
            self._show_error(found, "")
            return
        inv, session = found
        assert self._plan is not None
        result = judge(inv, self._plan, message.readings, rules.session_warnings(inv, self.switch_key, session))
        self.result = result
        self._show(result, len(message.readings))
        self._refresh_keys()

    def on_verify_screen_failed(self, message: Failed) -> None:
        """Say what went wrong, plainly."""
        if message.run == self._run:
            self._show_error(message.message, message.hint)

    def _status(self, text: str) -> None:
        self.query_one("#verify-status", Static).update(Text(text, style="dim"))

    def _show(self, result: VerifyResult, readings: int) -> None:
        ports = len(self._plan.port_keys) if self._plan is not None else 0
        self._status(
            f"Sampled {result.seconds:.0f} s: {readings} readings of {ports} port{'s' * (ports != 1)}, "
            "one request each."
        )
        verdict = self.query_one("#verify-verdict", Static)
        verdict.set_classes(f"-{result.verdict.value}")
        verdict.update(verdict_text(result))
        verdict.display = True
        self.query_one("#verify-table", Static).update(ports_table(result, self._compact()))
        reasons = self.query_one("#verify-reasons", Static)
        reasons.update(reasons_text(result))
        reasons.display = bool(result.reasons or result.advice)

    def _show_error(self, message: str, hint: str) -> None:
        self.running = False
        self.error = message
        self.query_one("#verify-progress", ProgressBar).display = False
        self._status("")
        verdict = self.query_one("#verify-verdict", Static)
        verdict.set_classes("-error")
        text = Text(message, style="bold")
        if hint:
            text.append("\n" + hint, style="")
        verdict.update(text)
        verdict.display = True
        self.query_one("#verify-table", Static).update("")
        self.query_one("#verify-reasons", Static).display = False
        self._refresh_keys()

    # -- actions --------------------------------------------------------------------------

    def _refresh_keys(self) -> None:
        """Copy (key and button) only with a verdict."""
        self.query_one("#verify-copy", Button).disabled = self.result is None
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Copy needs a verdict."""
        if action == "copy" and self.result is None:
            return None
        return True

    def action_close(self) -> None:
        """Stop sampling (no further request) and go back."""
        self._stop.set()
        self.running = False
        self.dismiss(None)

    def action_again(self) -> None:
        """Sample again."""
        self.start()

    def action_copy(self) -> None:
        """Copy the verdict, its reasons and the table as text."""
        r = self.result
        if r is None:
            return
        lines = [r.summary, *(f"{x.code}: {x.text}" for x in r.reasons), *r.advice]
        lines += ["  ".join(COLUMNS), *("  ".join(row) for row in table_rows(r))]
        self.post_message(CopyRequested("\n".join(lines), "Verify result"))

    @on(Button.Pressed, "#verify-again")
    def _again(self) -> None:
        self.start()

    @on(Button.Pressed, "#verify-copy")
    def _copy(self) -> None:
        self.action_copy()

    @on(Button.Pressed, "#verify-close")
    def _close(self) -> None:
        self.action_close()


class VerifyOfferScreen(ConfirmScreen):
    """Asked after the wizard created a session: verify it now? ``enter`` (or ``v``) verifies, ``esc`` not."""

    BINDINGS = [
        Binding("escape,n", "dismiss(False)", "Not now", id="verify_offer.later", tooltip="Back, no verify"),
        Binding("v", "dismiss(True)", "Verify now", id="verify_offer.verify", tooltip="Verify the new session"),
    ]
    FOCUS = "#confirm-yes"
    """Verifying reads counters only: the offer's default is to take it."""

    def __init__(self, session: MirrorSession, switch_name: str, seconds: float) -> None:
        super().__init__(
            f"Created session {session_name(session)} on {switch_name}. Verify that it mirrors now? dvmirror "
            f"reads its ports' counters for {seconds:g} s and compares what the sources carry with what the "
            "destination receives.",
            yes="Verify now",
            no="Not now",
            title="Verify the new session?",
        )
