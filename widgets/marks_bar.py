"""The marks bar: the sources and destinations marked for the next mirror session."""

from __future__ import annotations

from textual import events
from textual.widgets import Static

from tui.marks import Marks
from tui.model import Inventory
from tui.text import LineText as Text

_SHORT = {"src ⇄": "⇄", "src in": " in", "src out": " out"}


class MarksBar(Static):
    """One line: ``Sources 448 (ingress+egress)   Destination 2258   m new session``.

    The line shortens to the width it has (``Src 448⇄  Dst 2258  m: new session`` at 80
    columns); what does not fit ends in "…", never wraps.
    """

    DEFAULT_CSS = """
    MarksBar { height: 1; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._inventory: Inventory | None = None
        self._marks = Marks()

    def show_marks(self, inventory: Inventory | None, marks: Marks) -> None:
        """Render ``marks`` (or the hint on how to mark)."""
        self._inventory, self._marks = inventory, marks
        self.set_class(bool(marks), "-marked")
        self.update(self.line(self.content_region.width))

    def on_resize(self, event: events.Resize) -> None:
        """Shorten or lengthen the line to the new width."""
        self.update(self.line(self.content_region.width))

    def line(self, width: int) -> Text:
        """The longest form of the line that fits ``width`` cells (0: the longest)."""
        for text in self._variants():
            if width <= 0 or text.cell_len <= width:
                return text
        text.truncate(width, overflow="ellipsis")
        return text

    def _variants(self) -> list[Text]:
        marks, inventory = self._marks, self._inventory
        if not marks or inventory is None:
            return [
                Text("No ports marked: s marks a source (again to change direction), d a destination", style="dim"),
                Text("No marks: s marks a source (again: direction), d a destination", style="dim"),
                Text("No marks: s source, d destination", style="dim"),
            ]
        sw = inventory.switches.get(marks.switch)
        name = sw.name if sw else marks.switch
        long_sources = ", ".join(f"{k} ({d.label})" for k, d in marks.sources) or "none"
        short_sources = ", ".join(f"{k}{_SHORT[marks.role(k)]}" for k, _ in marks.sources) or "none"
        dests = ", ".join(marks.destinations) or "none"
        out = []
        for switch, src, src_label, dst_label, gap, hint in (
            (True, long_sources, "Sources ", "Destinations ", "   ", "m: new session from these marks"),
            (True, short_sources, "Src ", "Dst ", "  ", "m: new session"),
            (False, short_sources, "Src ", "Dst ", "  ", "m: new session"),
            (False, short_sources, "Src ", "Dst ", "  ", ""),
        ):
            text = Text()
            if switch:
                text.append(f"{name}  ", style="bold")
            text.append(src_label, style="bold")
            text.append(src)
            text.append(f"{gap}{dst_label}", style="bold")
            text.append(dests)
            if hint:
                text.append(f"{gap}{hint}", style="dim")
            out.append(text)
        return out
