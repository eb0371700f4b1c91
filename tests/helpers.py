"""Helpers shared by the test modules: the CLI run in-process, as a user would call it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tui.__main__ import main


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
