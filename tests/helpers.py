"""Helpers shared by the test modules: the walkthrough's session, the CLI run in-process as a user
would call it, and the app started under a Pilot (with the notifications it shows recorded)."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest
from textual.worker import WorkerCancelled

from tui.__main__ import main
from tui.model import MirrorSession, SessionType, VspanPorts

if TYPE_CHECKING:
    from textual.app import App
    from textual.pilot import Pilot

    from tui.app import DvMirrorApp

# -- the walkthrough (/work/shared/seed/port-mirroring-walkthrough.txt) ------------------------------

WALKTHROUGH_SWITCH = "dvSwitchCloud"
"""The switch of the walkthrough's session (its key in the demo lab is ``tests.conftest.CLOUD``)."""

WALKTHROUGH = MirrorSession(
    name="F5 DMZ to monitor",
    session_type=SessionType.MIXED_DEST_MIRROR.value,
    source_rx=VspanPorts(port_keys=("448",)),
    source_tx=VspanPorts(port_keys=("448",)),
    destination=VspanPorts(port_keys=("2258",)),
    encapsulation_vlan_id=205,
    mirrored_packet_length=60,
)
"""The walkthrough's session as its client made it: port 448 (F5-LTM01) both ways to port 2258
(MGTSRVR003UX), legacy type, encapsulation VLAN 205, 60-byte packets."""

WALKTHROUGH_MODERN = replace(WALKTHROUGH, session_type=SessionType.DV_PORT_MIRROR.value, encapsulation_vlan_id=None)
"""The same ports and length as Distributed Port Mirroring (both ports are on esx-03: no VLAN needed)."""

WALKTHROUGH_FLAGS = (
    "--name", WALKTHROUGH.name,
    "--source", *WALKTHROUGH.source_rx.port_keys,
    "--dest", *WALKTHROUGH.destination.port_keys,
    "--length", str(WALKTHROUGH.mirrored_packet_length),
)  # fmt: skip
"""``session create`` flags for the walkthrough's name, ports and length; with the CLI's default type
(dvPortMirror) they make :data:`WALKTHROUGH_MODERN`."""

WALKTHROUGH_LEGACY_FLAGS = (
    *WALKTHROUGH_FLAGS,
    "--type", str(WALKTHROUGH.session_type),
    "--encap-vlan", str(WALKTHROUGH.encapsulation_vlan_id),
)  # fmt: skip
"""``session create`` flags for :data:`WALKTHROUGH` itself."""


def run_cli(
    capsys: pytest.CaptureFixture[str], *argv: str, environ: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """``dvmirror ARGV`` in-process with no environment leaking in: exit code, stdout, stderr."""
    code = main(list(argv), environ=environ or {})
    out, err = capsys.readouterr()
    return code, out, err


def run_cli_json(
    capsys: pytest.CaptureFixture[str], *argv: str, environ: dict[str, str] | None = None
) -> tuple[int, Any, str]:
    """``dvmirror ARGV --json`` in-process: exit code, parsed stdout (None if empty), stderr."""
    code, out, err = run_cli(capsys, *argv, "--json", environ=environ)
    return code, (json.loads(out) if out.strip() else None), err


def key_of(character: str) -> str:
    """The key name Textual gives a typed character: itself for a letter or digit, else its Unicode
    name in snake case with Textual's ``KEY_NAME_REPLACEMENTS`` (``[`` is ``left_square_bracket``,
    `` `` is ``space``, ``/`` is ``slash``)."""
    from textual.keys import KEY_NAME_REPLACEMENTS

    if character.isalnum():
        return character
    name = unicodedata.name(character).lower().replace("-", "_").replace(" ", "_")
    return KEY_NAME_REPLACEMENTS.get(name, name)


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type ``text`` into what has the focus as a quick typist (or a paste) does: one key event per
    character, in order, as the terminal driver posts them to the app, but without ``Pilot.press``'s
    wait for the app to go idle after every key (two idle polls of 20 ms or more per key); then
    wait until the app has handled them all. What the keys do is the same; callers check the result."""
    from textual import events

    for character in text:
        pilot.app.post_message(events.Key(key_of(character), character))
    await pilot.pause()
    await pilot.pause()


@asynccontextmanager
async def started(app: DvMirrorApp, size: tuple[int, int] = (120, 40)) -> AsyncIterator[Pilot[None]]:
    """``app`` running under a Pilot at ``size`` (columns, rows), its inventory and index loaded."""
    from tests.tui.conftest import loaded

    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        yield pilot


def notifications(app: App[Any]) -> list[str]:
    """The messages ``app`` is asked to show from now on, in order (every ``notify``, the widgets'
    and screens' included, goes through ``App.notify``); they are still shown."""
    shown: list[str] = []
    notify = app.notify

    def record(message: str, **kwargs: Any) -> None:
        shown.append(str(message))
        notify(message, **kwargs)

    app.notify = record  # type: ignore[method-assign]
    return shown


class SteppedClock:
    """A clock for the demo lab's counters that moves ``step`` seconds each time it is read (as a
    verify reads), so the rates shown are the same on every run."""

    def __init__(self, start: float = 1_796_000_000.0, step: float = 2.0) -> None:
        self.now, self.step = start, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


async def workers_done(app: App[Any]) -> None:
    """Wait for every worker of ``app``; one cancelled because a newer one of its exclusive group
    replaced it (an index build after two quick changes) is not an error, any other failure is."""
    results = await asyncio.gather(*(w.wait() for w in list(app.workers)), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, WorkerCancelled):
            raise result
