"""Time-boxed sessions against the vcsim test server: ``session create --for``, ``sessions
expire`` (dry run, disable, --remove), read back through pyVmomi."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.test_cli_sessions_vcsim import CLOUD, by_key, run, switch_state
from tui import timebox
from tui.backends._convert import session_from_vim

pytestmark = pytest.mark.vcsim

PAST = "[dvmirror: expires 2026-01-01T00:00Z]"


def test_create_for_writes_the_expiry(start_vcsim: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    server = start_vcsim()
    code, result, err = run(
        capsys, server, "session", "create", "--switch", CLOUD, "--name", "boxed", "--description", "IDS",
        "--source", "448", "--dest", "2258", "--for", "2h",
    )  # fmt: skip
    assert code == 0, err
    stored = session_from_vim(by_key(switch_state(server)[1])[result["change"]["session"]["key"]])
    when = timebox.expiry(stored)
    assert stored.description.startswith("IDS [dvmirror: expires ") and when is not None
    left = (when - timebox.now_utc()).total_seconds()
    assert 7100 < left <= 7260
    code, result, err = run(capsys, server, "session", "edit", "--session", "boxed", "--description", "IDS v2")
    assert code == 0, err
    edited = session_from_vim(by_key(switch_state(server)[1])[stored.key or ""])
    assert edited.description.startswith("IDS v2 [dvmirror: expires ") and timebox.expiry(edited) == when
    code, result, err = run(capsys, server, "session", "edit", "--session", "boxed", "--no-for")
    assert code == 0, err
    assert session_from_vim(by_key(switch_state(server)[1])[stored.key or ""]).description == "IDS v2"


def test_expire_disables_then_removes(start_vcsim: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    server = start_vcsim()
    keys = []
    for name, desc, source, dest in (("old", f"done {PAST}", "448", "2258"), ("fresh", "x", "449", "2259")):
        code, result, err = run(
            capsys, server, "session", "create", "--switch", CLOUD, "--name", name, "--description", desc,
            "--source", source, "--dest", dest, *(["--for", "1d"] if name == "fresh" else []),
        )  # fmt: skip
        assert code == 0, err
        keys.append(result["change"]["session"]["key"])
    old, fresh = keys
    version = switch_state(server)[0]
    code, result, err = run(capsys, server, "sessions", "expire", "--dry-run")
    assert code == 0, err
    assert [(r["key"], r["action"], r["done"]) for r in result["sessions"]] == [(old, "disable", False)]
    assert result["dryRun"] is True and switch_state(server)[0] == version  # nothing sent
    code, result, err = run(capsys, server, "sessions", "expire")
    assert code == 0, err
    assert [(r["key"], r["done"], r["expires"]) for r in result["sessions"]] == [(old, True, "2026-01-01T00:00Z")]
    stored = by_key(switch_state(server)[1])
    assert stored[old].enabled is False and stored[fresh].enabled is True
    code, result, err = run(capsys, server, "sessions", "expire")  # again: disabled already, nothing to do
    assert code == 0 and result["sessions"] == [] and [d["key"] for d in result["alreadyDisabled"]] == [old]
    code, result, err = run(capsys, server, "sessions", "expire", "--remove")
    assert code == 0, err
    assert [(r["key"], r["action"], r["done"]) for r in result["sessions"]] == [(old, "remove", True)]
    stored = by_key(switch_state(server)[1])
    assert old not in stored and fresh in stored


def test_expire_flags_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    from tui.__main__ import main

    assert main(["sessions", "--demo", "--remove"]) == 2
    assert "go with `dvmirror sessions expire`" in capsys.readouterr().err
    assert main(["sessions", "expire", "--demo", "--check"]) == 2
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:  # argparse's usage error
        main(["session", "create", "--demo", "--source", "448", "--dest", "2258", "--for", "soon"])
    assert e.value.code == 2 and "'soon' is not a duration" in capsys.readouterr().err
