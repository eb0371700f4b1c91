"""Copying text to the user's clipboard from an SSH session (pure, no Textual).

Over SSH the only clipboard within reach is the user's terminal: the OSC 52 escape sequence
asks it to set its clipboard. Inside tmux the sequence is sent twice: as is (tmux forwards it
with ``set -g set-clipboard on``) and wrapped in tmux's DCS passthrough (needs
``set -g allow-passthrough on``). Where a local clipboard exists (a desktop session),
pyperclip sets it as well. Terminals do not acknowledge OSC 52, so the result says what was
*sent*, not what the terminal did with it.
"""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass


def osc52(text: str) -> str:
    """The OSC 52 sequence that sets the clipboard to ``text``."""
    return f"\x1b]52;c;{base64.b64encode(text.encode('utf-8')).decode('ascii')}\a"


def tmux_passthrough(sequence: str) -> str:
    """``sequence`` wrapped for tmux's DCS passthrough (every ESC doubled inside)."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


@dataclass(frozen=True, slots=True)
class CopyResult:
    """What a copy did, for the notification."""

    text: str
    sent: tuple[str, ...]
    """Sequences written to the terminal."""
    local: str
    """``"pyperclip"`` when a local clipboard took it, else why not."""

    def describe(self) -> str:
        """One sentence for the user."""
        how = "sent to your terminal's clipboard (OSC 52"
        how += ", with tmux passthrough)" if len(self.sent) > 1 else ")"
        if self.local == "pyperclip":
            how += " and copied to the local clipboard"
        return how


def _has_local_clipboard(environ: Mapping[str, str]) -> bool:
    if sys.platform in ("darwin", "win32"):
        return not environ.get("SSH_CONNECTION")
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def copy_text(text: str, write: Callable[[str], None], environ: Mapping[str, str] | None = None) -> CopyResult:
    """Send ``text`` by OSC 52 through ``write`` and, where one exists, to the local clipboard."""
    env = os.environ if environ is None else environ
    sequence = osc52(text)
    sent = [sequence]
    if env.get("TMUX"):
        sent.append(tmux_passthrough(sequence))
    for s in sent:
        write(s)
    local = "no local clipboard (SSH or no display)"
    if _has_local_clipboard(env):
        try:
            import pyperclip

            pyperclip.copy(text)
            local = "pyperclip"
        except Exception as e:  # pyperclip raises its own exception types for missing tools
            local = f"local clipboard unavailable ({e.__class__.__name__})"
    return CopyResult(text=text, sent=tuple(sent), local=local)
