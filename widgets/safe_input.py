"""An ``Input`` that never writes a control character of its value to the terminal.

The wizard fills its fields with names read from vCenter (a session's name and description),
and a paste can hold anything. Textual's ``Input`` renders its value through ``rich.text.Text``,
which drops CR and BS (the cursor then sits in the wrong place) and keeps ESC. This one shows
each such character as one visible stand-in (``␛`` for ESC, ``␍`` for CR, ``�`` for C1 and
bidi controls), one cell for one character, so the cursor stays right; the value itself is not
changed (what is sent to vCenter is exactly what is in the field).
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Input

from tui.text import visible


def stand_in(char: str) -> str:
    """One printable character for ``char`` (itself when it is safe)."""
    if visible(char) == char:
        return char
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␀ … ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


class SafeInput(Input):
    """``Input`` with control characters of the value shown as stand-ins (see module docs)."""

    @property
    def _value(self) -> Text:
        text = super()._value
        if self.password or visible(self.value) == self.value:
            return text
        shown = "".join(stand_in(c) for c in self.value)
        return Text(shown, no_wrap=True, overflow="ignore", end="")
