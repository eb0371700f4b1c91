"""Helpers shared by the test modules: the CLI run in-process as a user would call it, and the app
started under a Pilot."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest

from tui.__main__ import main

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from tui.app import DvMirrorApp


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


@asynccontextmanager
async def started(app: DvMirrorApp, size: tuple[int, int] = (120, 40)) -> AsyncIterator[Pilot[None]]:
    """``app`` running under a Pilot at ``size`` (columns, rows), its inventory and index loaded."""
    from tests.tui.conftest import loaded

    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        yield pilot
