"""Every ``--json`` command writes its JSON with msgspec's encoder (tui/cli.py emit_json), never the
slow ``json.dumps`` fallback (kept for values msgspec refuses): the fallback is made to fail here,
and each command's output must still be the JSON ``json.dumps(indent=2)`` writes of the same value."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import WALKTHROUGH_LEGACY_FLAGS, WALKTHROUGH_SWITCH
from tui import cli
from tui.__main__ import main
from tui.text import json_text

COMMANDS = [
    ["ports", "--demo", "--json"],
    ["ports", "--demo", "--portgroup", "dvPgDMZ", "--json"],
    ["find", "MGTSRVR003UX", "--demo", "--json"],
    ["find", "00:50:56", "--demo", "--json"],
    ["contexts", "--demo", "--json"],
    ["sessions", "--demo", "--json"],
    ["sessions", "--demo", "--check", "--json"],
    ["sessions", "--demo", "--history", "--json"],
    ["session", "create", "--demo", "--switch", WALKTHROUGH_SWITCH, *WALKTHROUGH_LEGACY_FLAGS, "--dry-run", "--json"],
    ["session", "verify", "--demo", "--read-only", "--session", "DMZ-IDS", "--seconds", "1", "--json"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:2]) + (" " + a[-2] if len(a) > 4 else ""))
def test_json_goes_through_the_fast_encoder(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[Any] = []
    real = cli.emit_json

    def emit(data: Any, stream: Any = None) -> None:
        written.append(data)
        real(data, stream)

    def slow(data: Any, **kwargs: Any) -> str:
        raise AssertionError("emit_json fell back to json.dumps")

    monkeypatch.setattr(cli, "json_text", slow)
    for where in ("tui.cli.emit_json", "tui.cli_sessions.commands.emit_json", "tui.cli_sessions.history.emit_json"):
        monkeypatch.setattr(where, emit)
    code = main(argv, environ={})
    out = capsys.readouterr().out
    assert code in (0, 1), out
    assert written, "no JSON written"
    assert out == json_text(written[-1], indent=2) + "\n"
    json.loads(out)
