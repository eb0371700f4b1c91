"""The marks bar: the sources and destinations marked for the next mirror session."""

from __future__ import annotations

from textual.widgets import Static

from tui.marks import Marks
from tui.model import Inventory
from tui.text import LineText as Text


class MarksBar(Static):
    """One line: ``Sources 448 (ingress+egress)   Destination 2258   m new session``."""

    DEFAULT_CSS = """
    MarksBar { height: 1; padding: 0 1; }
    """

    def show_marks(self, inventory: Inventory | None, marks: Marks) -> None:
        """Render ``marks`` (or the hint on how to mark)."""
        self.set_class(bool(marks), "-marked")
        if not marks or inventory is None:
            self.update(
                Text("No ports marked: s marks a source (again to change direction), d a destination", style="dim")
            )
            return
        sw = inventory.switches.get(marks.switch)
        text = Text()
        text.append(f"{sw.name if sw else marks.switch}  ", style="bold")
        text.append("Sources ", style="bold")
        text.append(", ".join(f"{k} ({d.label})" for k, d in marks.sources) or "none")
        text.append("   Destinations ", style="bold")
        text.append(", ".join(marks.destinations) or "none")
        text.append("   m: new session from these marks", style="dim")
        self.update(text)
