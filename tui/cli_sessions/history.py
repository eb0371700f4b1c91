"""``dvmirror sessions --history``: the change history of switches' mirror sessions (:mod:`tui.history`).

The contract is in the docstring of :mod:`tui.cli_sessions`; this module loads, asks the backend
(``backend.session_history``) for each switch chosen, and prints a table or JSON.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

from tui import history
from tui.backends import EXIT_OK, Backend
from tui.cli import UsageError, console, emit_json, find_switch, load
from tui.history import SessionHistoryEntry
from tui.lookup import sorted_switches
from tui.model import Inventory, Switch
from tui.text import SafeText as Text
from tui.text import visible

HISTORY_COLUMNS = ("time", "user", "operation", "switch", "session", "change", "by")


def since_value(text: str) -> datetime:
    """An ``argparse`` type for ``--since`` (:func:`tui.history.parse_since`)."""
    try:
        return history.parse_since(text)
    except history.SinceError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def gather(
    backend: Backend, inventory: Inventory, switch: str | None, since: datetime | None
) -> list[tuple[Switch, SessionHistoryEntry]]:
    """The history of one switch (``switch``: name or UUID) or of every switch, oldest first."""
    switches = [find_switch(inventory, switch)] if switch else sorted_switches(inventory)
    pairs = [(sw, e) for sw in switches for e in backend.session_history(sw, since)]
    pairs.sort(key=lambda p: p[1].time)
    return pairs


def history_table(inventory: Inventory, pairs: list[tuple[Switch, SessionHistoryEntry]]) -> Table:
    """The table of ``sessions --history``: every text from vCenter escaped (:func:`tui.text.visible`)."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    for heading in HISTORY_COLUMNS:
        table.add_column(heading, overflow="fold")
    for sw, e in pairs:
        cells = (
            history.local_time(e.time),
            e.user,
            e.operation.value,
            sw.name,
            history.session_label(e),
            history.summary(e, inventory, sw.key),
            history.by_label(e),
        )
        style = "dim" if e.source == "audit" and e.result != "ok" else ""
        table.add_row(*(Text(visible(c), style=style) for c in cells))
    return table


def print_history(
    out: Console,
    inventory: Inventory,
    pairs: list[tuple[Switch, SessionHistoryEntry]],
    where: str,
    since: datetime,
    offline: str = "",
) -> None:
    """The table, or a line saying there is nothing since ``since``."""
    if offline:
        out.print(Text(f"Note: {history.empty_note(offline)}.", style="dim"))
    when = history.local_time(since)
    if not pairs:
        out.print(Text(f"No mirror session changes{where} since {when}."))
        return
    out.print(history_table(inventory, pairs))
    n = len(pairs)
    out.print(Text(f"{n} change{'s' * (n != 1)}{where} since {when}", style="dim"))


def cmd_history(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror sessions --history [--switch S] [--since WHEN] [--json]``."""
    if getattr(args, "columns", None) or getattr(args, "output", "table") != "table":
        raise UsageError("-o and --columns choose the columns of the sessions table, not of --history")
    inventory = load(backend, args.json)
    since: datetime = args.since or datetime.now(UTC) - history.DEFAULT_SINCE
    pairs = gather(backend, inventory, args.switch, since)
    if args.json:
        emit_json([history.to_json(e, inventory, sw.key) for sw, e in pairs])
    else:
        where = f" on {find_switch(inventory, args.switch).name}" if args.switch else ""
        print_history(console(), inventory, pairs, where, since, backend.label if backend.offline else "")
    return EXIT_OK
