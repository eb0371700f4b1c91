"""Tables of the CLI that never break an identifier (issue 9, item 2).

A port key, a VM name, a MAC, an IP, a switch or portgroup name is one word to the operator:
split over two lines it cannot be copied or read. So, as ``kubectl get`` and k9s do, a table
that does not fit the terminal loses its least useful columns first (each :class:`Column` has a
``rank``: the highest goes first), and what is left is shown whole; a line under the table
names the columns left out and how to see them (``-o wide`` or ``--columns``). Only text
columns (``wrap``: the reason of a find, a session's options) wrap, and only between words.

Which columns, and how wide:

* piped (standard output is not a terminal): every default column at full width, exactly as
  before this module existed, so scripts see no change;
* on a terminal: the default columns that fit its width, dropped by rank;
* ``-o wide``: every column, wide ones too, at full width (lines may be longer than the terminal;
  ``less -S`` scrolls them);
* ``--columns a,b,c``: those columns in that order, at full width. A column is named by its
  heading or by its key in the JSON output (``--columns port,vm,mac,connected``).

When even the columns that are never dropped do not fit (a 90-character VM name on an 80-column
terminal), Rich shortens cells with ``…`` rather than folding them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from tui.text import SafeText as Text

GAP = 2
"""Columns are separated by two spaces (a Rich table without a box: one space of padding each side)."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a CLI table."""

    heading: str
    key: str
    """Its name in the JSON output (and for ``--columns``)."""
    rank: int
    """Lower stays longer when the terminal is narrow; 0 is never dropped."""
    wide: bool = False
    """Shown only with ``-o wide`` or ``--columns``."""
    wrap: bool = False
    """Free text that may wrap between words; otherwise the column is one identifier per line."""
    justify: str = "left"
    style: str = ""


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns chosen, and the default ones left out to fit the terminal."""

    shown: tuple[int, ...]
    """Indexes into the column list, in display order."""
    hidden: tuple[str, ...]
    """Headings of default columns left out to fit."""
    full_width: bool
    """Print at the table's own width (piped, ``-o wide``, ``--columns``), not the terminal's."""


class ColumnError(ValueError):
    """``--columns`` names a column the table does not have."""


def add_arguments(parser: argparse.ArgumentParser, columns: Sequence[Column]) -> None:
    """``-o wide`` and ``--columns`` for a command whose table has ``columns``."""
    names = ", ".join(c.key for c in columns)
    parser.add_argument(
        "-o",
        "--output",
        choices=("table", "wide"),
        default="table",
        help="table (the default: the columns that fit the terminal) or wide (every column, full width)",
    )
    parser.add_argument(
        "--columns",
        metavar="LIST",
        help=f"comma-separated columns to show, in order (by heading or JSON key): {names}",
    )


def _cell_width(cell: Text, wrap: bool) -> tuple[int, int]:
    """``(narrowest, natural)`` width of a cell: a text column may wrap between words."""
    lines = cell.plain.split("\n")
    natural = max((Text(line).cell_len for line in lines), default=0)
    if not wrap:
        return natural, natural
    words = [w for line in lines for w in line.split()]
    return max((Text(w).cell_len for w in words), default=0), natural


def widths(columns: Sequence[Column], rows: Sequence[Sequence[Text]]) -> list[tuple[int, int]]:
    """``(narrowest, natural)`` width of every column, heading included."""
    out = []
    for i, col in enumerate(columns):
        head = Text(col.heading).cell_len
        cells = [_cell_width(row[i], col.wrap) for row in rows]
        out.append((max([head, *(c[0] for c in cells)]), max([head, *(c[1] for c in cells)])))
    return out


def choose(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Text]],
    width: int | None,
    output: str = "table",
    names: str | None = None,
) -> Layout:
    """Which columns to show for a terminal ``width`` columns wide (``None``: not a terminal)."""
    if names is not None:
        return Layout(_named(columns, names), (), True)
    if output == "wide":
        return Layout(tuple(range(len(columns))), (), True)
    shown = [i for i, c in enumerate(columns) if not c.wide]
    if width is None:
        return Layout(tuple(shown), (), True)
    sizes = widths(columns, rows)
    hidden: list[str] = []

    def needed(keep: list[int]) -> int:
        return sum(sizes[i][0] for i in keep) + GAP * max(0, len(keep) - 1)

    while needed(shown) > width:  # the least useful first, as kubectl and k9s do
        droppable = [i for i in shown if columns[i].rank > 0]
        if not droppable:
            break
        worst = max(droppable, key=lambda i: columns[i].rank)
        shown.remove(worst)
        hidden.append(columns[worst].heading)
    return Layout(tuple(shown), tuple(hidden), False)


def fit(sizes: Sequence[tuple[int, int]], ranks: Sequence[int], width: int) -> list[int] | None:
    """Content widths for columns of ``(narrowest, natural)`` sizes within ``width``: text columns
    give up room (the least useful first) down to their longest word, identifiers never. ``None``
    when even that does not fit (Rich then shortens cells with ``…``)."""
    out = [natural for _, natural in sizes]
    excess = sum(out) + GAP * max(0, len(sizes) - 1) - width
    for i in sorted(range(len(sizes)), key=lambda i: -ranks[i]):
        if excess <= 0:
            break
        give = min(excess, out[i] - sizes[i][0])
        out[i] -= give
        excess -= give
    return out if excess <= 0 else None


def _named(columns: Sequence[Column], names: str) -> tuple[int, ...]:
    lookup: dict[str, int] = {}
    for i, c in enumerate(columns):
        lookup[c.key.lower()] = i
        lookup[c.heading.lower()] = i
    chosen: list[int] = []
    for raw in names.split(","):
        name = raw.strip().lower()
        if not name:
            continue
        if name not in lookup:
            known = ", ".join(c.key for c in columns)
            raise ColumnError(f"no column {raw.strip()!r} (columns: {known})")
        if lookup[name] not in chosen:
            chosen.append(lookup[name])
    if not chosen:
        raise ColumnError("--columns names no column")
    return tuple(chosen)


def render(
    out: Console,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Text]],
    output: str = "table",
    names: str | None = None,
) -> None:
    """Print the table on ``out``, fitted to its width when it is a terminal, and a dim line
    naming the columns left out."""
    terminal = bool(getattr(out, "fits_terminal", out.is_terminal))
    layout = choose(columns, rows, out.width if terminal else None, output, names)
    sizes = widths(columns, rows)
    ranks = [columns[i].rank for i in layout.shown]
    fixed = None if layout.full_width else fit([sizes[i] for i in layout.shown], ranks, out.width)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for n, i in enumerate(layout.shown):
        col = columns[i]
        table.add_column(
            col.heading,
            no_wrap=not col.wrap,
            overflow="ellipsis" if terminal else "fold",
            justify=col.justify,  # type: ignore[arg-type]
            style=col.style or None,
            width=fixed[n] if fixed is not None else None,
        )
    for row in rows:
        table.add_row(*(row[i] for i in layout.shown))
    if layout.full_width and terminal:
        natural = sum(sizes[i][1] for i in layout.shown)
        needed = natural + GAP * max(0, len(layout.shown) - 1)
        with _wider(out, needed):
            out.print(table)
    else:
        out.print(table)
    if layout.hidden:
        out.print(
            Text(
                f"Hidden to fit {out.width} columns: {', '.join(layout.hidden)} (-o wide)",
                style="dim",
            )
        )


class _wider:
    """Print at ``needed`` columns for a moment (``-o wide`` on a terminal narrower than the table)."""

    def __init__(self, out: Console, needed: int) -> None:
        self.out, self.needed, self.width = out, needed, out.width

    def __enter__(self) -> None:
        self.out.width = max(self.width, self.needed)

    def __exit__(self, *exc: object) -> None:
        self.out.width = self.width
