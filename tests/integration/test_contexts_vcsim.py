"""Contexts against two vcsim servers, one of them stopped: ``dvmirror contexts`` and
``dvmirror find TERM --all`` (each answer labelled with its context; the stopped one reported
without holding up the other; the exit codes of tui/cli_contexts.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli as run

pytestmark = pytest.mark.vcsim


def write_config(path: Path, servers: dict[str, Any], default: str = "") -> Path:
    """A config.toml with one profile per server (``name = server``)."""
    lines = [f'default_profile = "{default}"'] if default else []
    for name, server in servers.items():
        lines += [f'[profiles."{name}"]', f'url = "{server.url}"', f'user = "{server.user}"']
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def two_contexts(start_vcsim: Any, tmp_path: Path) -> tuple[Path, Any]:
    """``up`` (a running server on the demo lab) and ``down`` (a server that was stopped)."""
    up, down = start_vcsim(), start_vcsim()
    down.stop()
    return write_config(tmp_path / "config.toml", {"up": up, "down": down}, default="up"), up


def test_contexts_lists_the_profiles(two_contexts: tuple[Path, Any], capsys: pytest.CaptureFixture[str]) -> None:
    config, up = two_contexts
    code, out, _ = run(capsys, "contexts", "--config", str(config), "--json")
    rows = json.loads(out)
    assert code == 0
    assert [(r["name"], r["current"], r["default"], r["adhoc"]) for r in rows] == [
        ("up", True, True, False),
        ("down", False, False, False),
    ]
    assert rows[0]["url"] == up.url and rows[0]["user"] == up.user
    # --server names one more, ad hoc, context: the current one; the profiles keep their own url.
    code, out, _ = run(capsys, "contexts", "--config", str(config), "--server", "127.0.0.1:1", "--json")
    rows = json.loads(out)
    assert [(r["name"], r["current"], r["adhoc"]) for r in rows][0] == ("127.0.0.1", True, True)
    assert rows[1]["url"] == up.url and not rows[1]["current"]
    code, out, _ = run(capsys, "contexts", "--config", str(config))
    assert code == 0 and "up" in out and up.url in out and "default" in out


def test_find_all_reports_the_stopped_one(two_contexts: tuple[Path, Any], capsys: pytest.CaptureFixture[str]) -> None:
    config, up = two_contexts
    env = {"DVMIRROR_PASSWORD": up.password}
    started = time.monotonic()
    code, out, err = run(capsys, "find", "MGTSRVR003UX", "--all", "--json", "--config", str(config), environ=env)
    elapsed = time.monotonic() - started
    data = json.loads(out)
    assert code == 0
    assert {r["context"] for r in data["results"]} == {"up"}
    assert {(r["port"], r["vcenter"]) for r in data["results"]} == {("300", "127.0.0.1"), ("2258", "127.0.0.1")}
    assert [(e["context"], e["exit_code"]) for e in data["errors"]] == [("down", 3)]
    assert "nothing is listening" in data["errors"][0]["error"]
    assert "context down:" in err and "Traceback" not in err
    assert elapsed < 30
    # The table: a heading per context, the error on stderr.
    code, out, err = run(capsys, "find", "MGTSRVR003UX", "--all", "--config", str(config), environ=env)
    assert code == 0 and "up (" in out and "2258" in out and "context down:" in err
    # No answer anywhere, but one context searched: 1.
    code, out, _ = run(capsys, "find", "no-such-vm-x", "--all", "--json", "--config", str(config), environ=env)
    assert code == 1 and json.loads(out)["results"] == []


def test_find_all_when_every_context_fails(two_contexts: tuple[Path, Any], capsys: pytest.CaptureFixture[str]) -> None:
    config, up = two_contexts
    # No password anywhere and no terminal: neither is asked for; both are reported.
    code, out, err = run(capsys, "find", "MGTSRVR003UX", "--all", "--json", "--config", str(config))
    data = json.loads(out)
    assert code == 3 and data["results"] == []
    assert sorted(e["context"] for e in data["errors"]) == ["down", "up"]
    assert all("needs a password" in e["error"] and "keyring" in e["hint"] for e in data["errors"])
    # A wrong password: a login failure for up, unreachable for down; both exit 3.
    code, out, err = run(
        capsys, "find", "x", "--all", "--json", "--config", str(config), environ={"DVMIRROR_PASSWORD": "nope"}
    )
    data = json.loads(out)
    assert code == 3 and "nope" not in out + err
    assert {e["context"] for e in data["errors"]} == {"up", "down"}
