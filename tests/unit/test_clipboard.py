"""Clipboard over SSH: OSC 52, tmux passthrough, and saying what was sent."""

from __future__ import annotations

import base64

from tui.clipboard import copy_text, osc52, tmux_passthrough


def test_osc52_sequence() -> None:
    assert osc52("448") == "\x1b]52;c;" + base64.b64encode(b"448").decode() + "\a"


def test_plain_terminal_gets_one_sequence() -> None:
    sent: list[str] = []
    result = copy_text("2258", sent.append, environ={"SSH_CONNECTION": "x"})
    assert sent == [osc52("2258")]
    assert result.local.startswith("no local clipboard")
    assert result.describe() == "sent to your terminal's clipboard (OSC 52)"


def test_tmux_gets_passthrough_too() -> None:
    sent: list[str] = []
    result = copy_text("448", sent.append, environ={"TMUX": "/tmp/tmux-0/default,1,0"})
    assert sent == [osc52("448"), "\x1bPtmux;\x1b\x1b]52;c;NDQ4\a\x1b\\"]
    assert tmux_passthrough("\x1bX") == "\x1bPtmux;\x1b\x1bX\x1b\\"
    assert "tmux passthrough" in result.describe()


def test_local_clipboard_failure_is_reported_not_raised() -> None:
    sent: list[str] = []
    # A DISPLAY that cannot work: pyperclip finds no usable mechanism or fails to talk to it.
    result = copy_text("448", sent.append, environ={"DISPLAY": ":987"})
    assert sent == [osc52("448")]
    assert result.local == "pyperclip" or result.local.startswith("local clipboard unavailable")
