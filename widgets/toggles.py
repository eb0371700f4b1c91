"""A checkbox and a radio button whose off state is empty, so "on" never has to be told by colour.

Textual's toggles draw the same glyph (``X``, ``●``) whether they are on or off and tell the two
apart by colour alone; in a dim SSH window, or in a capture of the screen, an unticked "Limit to
60 bytes" then reads as ticked. These draw ``✓``/``●`` when on and a blank when off.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Checkbox, RadioButton, SelectionList
from textual.widgets._toggle_button import ToggleButton
from textual.widgets.option_list import OptionDoesNotExist


class TickBox(Checkbox):
    """A ``Checkbox`` showing ``✓`` when ticked and nothing when not.

    ``enables`` names widgets (by id, among the box's siblings' subtrees in its parent's parent)
    that the box enables when ticked and disables when not, at once: a ``tab`` typed right after
    ``space`` then lands in the field the tick enabled, however fast the keys come.
    """

    ON = "✓"

    def __init__(self, *args: Any, enables: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enables = enables
        self._glyph()

    def _glyph(self) -> None:
        self.BUTTON_INNER = self.ON if self.value else " "

    def watch_value(self) -> None:
        """Redraw the glyph, enable what it enables, then what ``Checkbox`` does (``-on``, ``Changed``)."""
        self._glyph()
        if self.is_attached and self.enables and isinstance(self.parent, Widget):
            for selector in self.enables:
                for widget in self.parent.query(f"#{selector}"):
                    widget.disabled = not self.value
        super().watch_value()
        self.refresh(layout=True)


class ChoiceButton(RadioButton):
    """A ``RadioButton`` showing ``●`` when chosen and nothing when not."""

    ON = "●"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._glyph()

    def _glyph(self) -> None:
        self.BUTTON_INNER = self.ON if self.value else " "

    def watch_value(self) -> None:
        """Redraw the glyph, then what ``RadioButton`` does."""
        self._glyph()
        super().watch_value()
        self.refresh(layout=True)


class TickList(SelectionList[str]):
    """A ``SelectionList`` whose unselected options show a blank, not the selected ones' ``X``."""

    def render_line(self, y: int) -> Strip:
        """The option's line, its glyph blanked when it is not selected."""
        line = super().render_line(y)
        try:
            option = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return line
        if option.value in self.selected:
            return line
        segments = list(line)
        if len(segments) > 1 and segments[1].text == ToggleButton.BUTTON_INNER:
            segments[1] = Segment(" ", segments[1].style, segments[1].control)
            return Strip(segments, line.cell_length)
        return line
