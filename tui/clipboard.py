"""Copying text to the user's clipboard from an SSH session (pure, no Textual).

Over SSH the only clipboard within reach is the user's terminal: the OSC 52 escape sequence
asks it to set its clipboard. Inside tmux the sequence is sent twice: as is (tmux forwards it
with ``set -g set-clipboard on``) and wrapped in tmux's DCS passthrough (needs
``set -g allow-passthrough on``). Where a local clipboard exists (a desktop session),
pyperclip sets it as well. Terminals do not acknowledge OSC 52, so the result says what was
*sent*, not what the terminal did with it.

Inside tmux (``$TMUX`` set) the copy also asks tmux, in one short ``tmux display`` call, how
its ``set-clipboard`` and ``allow-passthrough`` options are set for this pane, and the notice
says what follows from them (tmux's manual, ``set-clipboard``: ``external``, the default,
ignores an application's OSC 52; ``on`` forwards it; ``allow-passthrough`` lets the wrapped copy
through): forwarded, passed through, or kept from the terminal, then with the one line of
``~/.tmux.conf`` that fixes it (:data:`TMUX_FIX`).

:func:`copy_choices` lists what ``y`` offers to copy for a port: its ID (the default), MAC,
IPs, VM name and ``VM/NIC`` (as ``--source`` takes it).
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tui.model import Inventory, Port

TMUX_FIX = "set -g set-clipboard on"
"""The line of ``~/.tmux.conf`` that lets an application's OSC 52 through tmux."""

TMUX_TIMEOUT = 0.5
"""Seconds to wait for tmux's answer about its options (the copy never waits longer)."""


def osc52(text: str) -> str:
    """The OSC 52 sequence that sets the clipboard to ``text``."""
    return f"\x1b]52;c;{base64.b64encode(text.encode('utf-8')).decode('ascii')}\a"


def tmux_passthrough(sequence: str) -> str:
    """``sequence`` wrapped for tmux's DCS passthrough (every ESC doubled inside)."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


@dataclass(frozen=True, slots=True)
class TmuxClipboard:
    """How this tmux pane treats an application's OSC 52, as tmux itself reports it."""

    set_clipboard: str
    """``on``, ``external`` (tmux's default), ``off``; ``""`` when tmux could not be asked."""
    passthrough: bool
    """``allow-passthrough`` is on (or ``all``) for the pane."""
    error: str = ""
    """Why tmux could not be asked (then nothing is known)."""

    @property
    def forwards(self) -> bool:
        """The plain OSC 52 reaches the terminal (``set-clipboard on``)."""
        return self.set_clipboard == "on"

    @property
    def gets_through(self) -> bool | None:
        """Whether one of the two copies gets past tmux (None: unknown)."""
        if self.error:
            return None
        return self.forwards or self.passthrough

    def describe(self) -> str:
        """What tmux does with the copy, in a few words (with the fix when it keeps it back)."""
        if self.error:
            return (
                f"tmux could not be asked whether it lets OSC 52 through ({self.error}); "
                f"if the copy does not arrive, add `{TMUX_FIX}` to ~/.tmux.conf"
            )
        if self.forwards:
            return "tmux forwards it to your terminal (set-clipboard on)"
        if self.passthrough:
            return "it gets through tmux by passthrough (allow-passthrough on)"
        return (
            f"tmux keeps it from your terminal (set-clipboard {self.set_clipboard}, allow-passthrough off): "
            f"add `{TMUX_FIX}` to ~/.tmux.conf, then run `tmux source ~/.tmux.conf`"
        )


def tmux_clipboard(
    environ: Mapping[str, str], run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run
) -> TmuxClipboard | None:
    """Ask tmux how it treats OSC 52 in this pane; ``None`` outside tmux (``$TMUX`` unset).

    One ``tmux display -p`` of the two options, for ``$TMUX_PANE`` (a pane may override the
    global value), on the server ``$TMUX`` names, given at most :data:`TMUX_TIMEOUT` seconds.
    tmux before 3.3 has no ``allow-passthrough`` (an empty answer: off).
    """
    if not environ.get("TMUX"):
        return None
    env = dict(os.environ)
    for name in ("TMUX", "TMUX_PANE"):
        if name in environ:
            env[name] = environ[name]
        else:
            env.pop(name, None)
    argv = ["tmux", "display-message", "-p"]
    if environ.get("TMUX_PANE"):
        argv += ["-t", environ["TMUX_PANE"]]
    argv.append("#{set-clipboard}|#{allow-passthrough}")
    try:
        done = run(argv, capture_output=True, text=True, timeout=TMUX_TIMEOUT, env=env, check=False)
    except FileNotFoundError:
        return TmuxClipboard("", False, "no tmux command found")
    except subprocess.TimeoutExpired:
        return TmuxClipboard("", False, f"no answer within {TMUX_TIMEOUT:g} s")
    except OSError as e:
        return TmuxClipboard("", False, e.__class__.__name__)
    answer = (done.stdout or "").strip()
    if done.returncode != 0 or "|" not in answer:
        why = (done.stderr or "").strip().splitlines()
        return TmuxClipboard("", False, why[0][:80] if why else f"tmux exit code {done.returncode}")
    clip, _, passthrough = answer.partition("|")
    clip = clip.strip()
    if clip not in ("on", "external", "off"):
        return TmuxClipboard("", False, f"unexpected answer {answer[:40]!r}")
    return TmuxClipboard(clip, passthrough.strip() in ("1", "on", "all"))


@dataclass(frozen=True, slots=True)
class CopyResult:
    """What a copy did, for the notification."""

    text: str
    sent: tuple[str, ...]
    """Sequences written to the terminal."""
    local: str
    """``"pyperclip"`` when a local clipboard took it, else why not."""
    tmux: TmuxClipboard | None = None
    """What tmux reported about OSC 52 (None outside tmux)."""

    @property
    def blocked(self) -> bool:
        """Known not to reach the terminal's clipboard (tmux keeps it back), and no local
        clipboard took it either."""
        return self.tmux is not None and self.tmux.gets_through is False and self.local != "pyperclip"

    def describe(self) -> str:
        """One sentence for the user (what was sent, and what is known of where it went)."""
        if self.tmux is None:
            how = "sent to your terminal's clipboard (OSC 52"
            how += ", with tmux passthrough)" if len(self.sent) > 1 else ")"
        else:
            how = "sent by OSC 52, also wrapped for tmux passthrough; " + self.tmux.describe()
        if self.local == "pyperclip":
            how += "; also copied to the local clipboard"
        return how


def _has_local_clipboard(environ: Mapping[str, str]) -> bool:
    if sys.platform in ("darwin", "win32"):
        return not environ.get("SSH_CONNECTION")
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def copy_text(
    text: str,
    write: Callable[[str], None],
    environ: Mapping[str, str] | None = None,
    ask_tmux: Callable[[Mapping[str, str]], TmuxClipboard | None] = tmux_clipboard,
) -> CopyResult:
    """Send ``text`` by OSC 52 through ``write`` and, where one exists, to the local clipboard;
    inside tmux, say what tmux does with it (``ask_tmux``)."""
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
    return CopyResult(text=text, sent=tuple(sent), local=local, tmux=ask_tmux(env))


@dataclass(frozen=True, slots=True)
class CopyChoice:
    """One thing ``y`` offers to copy."""

    key: str
    """The key that copies it in the chooser (``""``: only by arrows and enter)."""
    label: str
    text: str


def copy_choices(inventory: Inventory, port: Port) -> list[CopyChoice]:
    """What a port offers to copy, the port ID first (the default): its MAC, each IP, the VM's
    name and ``VM/NIC`` (the reference ``--source`` and the wizard take)."""
    choices = [CopyChoice("y", "Port ID", port.key)]
    vmnic = inventory.vm_nic(port)
    nic = vmnic[1] if vmnic else None
    mac = (nic.mac if nic else "") or port.mac
    if mac:
        choices.append(CopyChoice("m", "MAC", mac))
    for n, ip in enumerate(nic.ips if nic else ()):
        choices.append(CopyChoice("i" if n == 0 else "", "IP", ip))
    if vmnic:
        vm = vmnic[0]
        choices.append(CopyChoice("v", "VM name", vm.name))
        choices.append(CopyChoice("n", "VM/NIC", f"{vm.name}/{vmnic[1].label}"))
    return choices
