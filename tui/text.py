"""Terminal-safe text: every name from vCenter, a snapshot, a config file or a flag is hostile.

A VM called ``\\x1b]0;pwned\\x07`` would set the terminal's title, ``\\x1b]52;c;…\\x07`` would
write the clipboard, ``\\x1b[2J`` would clear the screen and ``\\u202e`` would show the rest of
a line backwards. :func:`visible` turns every such character into a visible escape
(``\\x1b``, ``\\u202e``), so the name stays recognisable and distinct and nothing reaches the
terminal raw. It is for display only: the model keeps names exact (matching, sending back to
vCenter).

Escaped: C0 controls (U+0000-U+001F, including ESC, BEL, BS, CR, LF and TAB), DEL (U+007F),
C1 controls (U+0080-U+009F; U+009B is a one-byte CSI on some terminals), the bidirectional
marks, embeddings, overrides and isolates (U+061C, U+200E, U+200F, U+202A-U+202E,
U+2066-U+2069) and the line and paragraph separators (U+2028, U+2029). A backslash itself is
left alone, so ordinary names (``CORP\\svc``) show as they are.

:class:`SafeText` is a ``rich.text.Text`` that applies :func:`visible_lines` to everything put
into it: Rich's ``Text`` silently drops ``\\r``, ``\\b`` and BEL (the name would look like another
one) and keeps ESC. :func:`json_text` does the same for JSON output, which Python's
``json.dumps(ensure_ascii=False)`` escapes only for C0.

Pure: the standard library and ``rich.text`` only (no Textual, no pyVmomi).
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.text import Text

_BEYOND_C0 = (
    "\x7f-\x9f"  # DEL, C1
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi marks, embeddings, overrides, isolates
    "\u2028\u2029"  # line and paragraph separators
)
_UNSAFE_RE = re.compile(f"[\x00-\x1f{_BEYOND_C0}]")
_UNSAFE_KEEP_NL_RE = re.compile(f"[\x00-\x09\x0b-\x1f{_BEYOND_C0}]")
_JSON_UNSAFE_RE = re.compile(f"[{_BEYOND_C0}]")

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every control, bidi and separator character shown as an escape.

    ``visible("a\\x1b[2Jb") == "a\\\\x1b[2Jb"`` (the four characters ``\\x1b``); newlines and
    tabs are escaped too (``\\n``, ``\\t``): a name is one line.
    """
    if not text or not _UNSAFE_RE.search(text):
        return text
    return _UNSAFE_RE.sub(_escape, text)


def visible_lines(text: str) -> str:
    """Like :func:`visible` but keeps ``\\n``: for messages that span lines by design."""
    if not text or not _UNSAFE_KEEP_NL_RE.search(text):
        return text
    return _UNSAFE_KEEP_NL_RE.sub(_escape, text)


def has_unsafe(text: str) -> bool:
    """True when ``text`` holds a character :func:`visible` would escape, other than ``\\n``."""
    return bool(_UNSAFE_KEEP_NL_RE.search(text))


def json_text(data: Any, **kwargs: Any) -> str:
    """``json.dumps(data, ensure_ascii=False, **kwargs)`` with DEL, C1, bidi and separator
    characters written as ``\\uXXXX`` escapes too (json escapes only C0 by itself).

    The result is the same JSON value: those characters can only occur inside strings, where
    ``\\uXXXX`` means the same character.
    """
    return json_safe(json.dumps(data, ensure_ascii=False, **kwargs))


def json_safe(json_out: str) -> str:
    """JSON text (from any encoder that escapes C0 itself) with DEL, C1, bidi and separator
    characters written as ``\\uXXXX`` escapes, as :func:`json_text` writes them."""
    if not _JSON_UNSAFE_RE.search(json_out):
        return json_out
    return _JSON_UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", json_out)


class SafeText(Text):
    """A ``rich.text.Text`` whose text (at construction and in :meth:`append`) goes through
    :func:`visible_lines`: nothing from data reaches the terminal raw, nothing is dropped."""

    def __init__(self, text: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(visible_lines(text), *args, **kwargs)

    def append(self, text: str | Text, style: Any = None) -> Text:
        """Append ``text`` (a ``str`` is made visible first; a ``Text`` is taken as it is)."""
        if isinstance(text, str):
            text = visible_lines(text)
        return super().append(text, style)


def ascii_digits(text: str) -> bool:
    """True for a non-empty string of ASCII digits ``0-9`` only.

    ``str.isdigit()`` and ``int()`` also accept ``²``, ``①``, ``٣`` and fullwidth ``１``.
    """
    return bool(text) and text.isascii() and text.isdigit()


class LineText(SafeText):
    """A :class:`SafeText` for one line (tree labels, table cells, the header): newlines from
    data are shown as ``\\n`` too (:func:`visible`)."""

    def __init__(self, text: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(visible(text), *args, **kwargs)

    def append(self, text: str | Text, style: Any = None) -> Text:
        """Append ``text`` (a ``str`` is made visible first, newlines included)."""
        return super().append(visible(text) if isinstance(text, str) else text, style)
