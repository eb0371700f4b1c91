"""A mirror session as Rich renderables for the screens: its problems, its fields, its advice.

No Textual: the wizard's review and the sessions screen's detail both draw a session with these,
so the two show it the same way. Every text goes through :class:`~tui.text.SafeText`.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table

from tui.describe import Advice, session_fields
from tui.model import Inventory, MirrorSession, Problem, Severity
from tui.text import SafeText as Text


def problem_text(problems: Iterable[Problem]) -> Text:
    """Problems as lines: ``✗ code  message`` for errors, ``! code  message`` for warnings,
    ``i code  message`` (dim) for info notes."""
    text = Text()
    for i, p in enumerate(problems):
        if i:
            text.append("\n")
        error = p.severity is Severity.ERROR
        if p.severity is Severity.INFO:
            text.append("i ", style="bold dim")
        else:
            text.append("✗ " if error else "! ", style="bold red" if error else "bold yellow")
        text.append(p.message)
        text.append(f"  {p.code}", style="dim")
    return text


def session_table(inventory: Inventory, switch_key: str, session: MirrorSession) -> Table:
    """The session's fields with the API's names, endpoints resolved to VM / NIC."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    previous = ""
    for name, value in session_fields(inventory, inventory.switches.get(switch_key), session):
        table.add_row("" if name == previous else name, Text(value))
        previous = name
    return table


def advice_parts(advice: Advice, *, capture: bool = True) -> list[Text]:
    """Notes, physical-network requirements and (unless ``capture`` is false: the wizard's review has
    its own capture step) the capture command, for the review and detail."""
    parts: list[Text] = []
    if advice.notes:
        parts.append(Text("\n" + "\n".join(f"✓ {n}" for n in advice.notes), style="green"))
    if advice.upstream:
        parts += [Text("\nPhysical network", style="bold"), Text("\n".join(advice.upstream))]
    if capture and advice.capture_filter:
        parts += [
            Text("\nCapture on the destination (y copies the filter)", style="bold"),
            Text(advice.capture_command),
        ]
    return parts
