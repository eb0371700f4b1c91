"""The contexts model (tui/contexts.py) and the pure parts of ``find --all`` (tui/cli_contexts.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from tui.backends import BackendError, ConnectionFailed, LoginFailed
from tui.cli_contexts import ContextAnswer, exit_code, prepare
from tui.config import ConfigError, resolve_settings
from tui.contexts import Context, list_contexts, profile_settings

CONFIG = """\
default_profile = "lab"

[profiles.lab]
url = "vcsa01.lab.local"
user = "administrator@vsphere.local"
read_only = true

[profiles.prod]
url = "https://ops@vcsa02.prod.local:8443/sdk"

[profiles.nouser]
url = "vcsa03"
"""


def ns(config: Path, **values: object) -> argparse.Namespace:
    return argparse.Namespace(config=str(config), **values)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    return path


def test_profiles_are_contexts_in_file_order(config: Path) -> None:
    contexts = list_contexts(ns(config), {})
    assert [(c.name, c.current, c.default, c.adhoc) for c in contexts] == [
        ("lab", True, True, False),
        ("prod", False, False, False),
        ("nouser", False, False, False),
    ]
    lab, prod, _ = contexts
    assert lab.settings is not None and lab.settings.read_only and lab.vcenter == "vcsa01.lab.local"
    assert prod.where == "https://vcsa02.prod.local:8443/sdk" and prod.row()["user"] == "ops"


def test_the_chosen_profile_is_current(config: Path) -> None:
    assert [c.name for c in list_contexts(ns(config, profile="prod"), {}) if c.current] == ["prod"]
    assert [c.name for c in list_contexts(ns(config), {"DVMIRROR_PROFILE": "nouser"}) if c.current] == ["nouser"]


def test_a_server_on_the_command_line_is_an_ad_hoc_context(config: Path) -> None:
    contexts = list_contexts(ns(config, server="10.0.0.5"), {})
    assert [(c.name, c.current, c.adhoc) for c in contexts][0] == ("10.0.0.5", True, True)
    assert not any(c.current for c in contexts[1:])
    # ...and neither it nor GOVC_URL replaces a profile's url; nor a user variable a profile's user.
    env = {"GOVC_URL": "other.example", "GOVC_USERNAME": "someone"}
    settings = profile_settings("lab", ns(config, server="10.0.0.5"), env)
    assert (settings.server, settings.user) == ("vcsa01.lab.local", "administrator@vsphere.local")
    assert profile_settings("prod", ns(config), env).user == "ops"  # the user inside the url
    # A profile that names no user takes it from the usual places.
    assert profile_settings("nouser", ns(config), env).user == "someone"


def test_other_settings_follow_the_usual_precedence(config: Path) -> None:
    settings = profile_settings("lab", ns(config, read_only=False, timeout="5"), {"DVMIRROR_PASSWORD": "pw"})
    assert not settings.read_only and settings.timeout == 5 and settings.password == "pw"
    assert settings.source("read_only") == "--read-only"


def test_an_ad_hoc_name_never_hides_a_profile(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[profiles.demo]\nurl = "vc"\n')
    contexts = list_contexts(ns(path, demo=True), {})
    assert [(c.name, c.offline, c.current) for c in contexts] == [("demo*", "demo", True), ("demo", "", False)]
    assert contexts[0].where == "demo lab" and contexts[0].vcenter == ""


def test_a_profile_without_url_is_listed_with_its_error(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[profiles.empty]\nuser = "u"\n[profiles.ok]\nurl = "vc"\n')
    empty, ok = list_contexts(ns(path), {})
    assert empty.settings is None and "has no url" in empty.error and empty.row()["error"] == empty.error
    assert ok.settings is not None and not ok.error


def test_an_unknown_chosen_profile_is_a_config_error(config: Path) -> None:
    with pytest.raises(ConfigError, match="unknown profile"):
        list_contexts(ns(config, profile="nope"), {})


def test_an_empty_file_has_no_contexts(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("")
    assert list_contexts(ns(path), {}) == []


def test_passwords_are_asked_for_one_context_only(config: Path) -> None:
    contexts = [c for c in list_contexts(ns(config), {}) if c.name != "nouser"]
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return "typed"

    ready, failed = prepare(contexts, True, ask)  # two need a password: nobody is asked
    assert not asked and not ready
    assert [a.context.name for a in failed] == ["lab", "prod"]
    assert all(isinstance(a.error, LoginFailed) and "needs a password" in a.error.message for a in failed)
    ready, failed = prepare(contexts[:1], True, ask)  # one, on a terminal: asked once
    assert len(asked) == 1 and "lab" in asked[0] and not failed
    assert ready[0].settings is not None and ready[0].settings.password == "typed"
    ready, failed = prepare(contexts[:1], False, ask)  # no terminal: never asked
    assert len(asked) == 1 and not ready and len(failed) == 1


def test_exit_codes() -> None:
    c = Context("a")
    hit = ContextAnswer(c, hits=[object()])  # type: ignore[list-item]
    empty = ContextAnswer(c)
    down = ContextAnswer(c, error=ConnectionFailed("down"))
    login = ContextAnswer(c, error=LoginFailed("no"))
    fault = ContextAnswer(c, error=BackendError("x"))
    fault.error.exit_code = 4  # type: ignore[union-attr]
    assert exit_code([hit, down]) == 0
    assert exit_code([empty, down]) == 1
    assert exit_code([down, login]) == 3
    assert exit_code([fault]) == 4
    assert exit_code([fault, down]) == 3


BAD_ONE = """\
default_profile = "lab"

[profiles.lab]
url = "vcsa01.lab.local"
user = "administrator@vsphere.local"

[profiles.broken]
url = "vcsa02.lab.local"
read_only = "maybe"

[profiles.typo]
urll = "vcsa03.lab.local"
"""


def test_a_profile_with_a_bad_value_is_that_contexts_problem_only(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(BAD_ONE)
    contexts = {c.name: c for c in list_contexts(ns(path), {})}
    assert list(contexts) == ["lab", "broken", "typo"]
    lab, broken, typo = contexts["lab"], contexts["broken"], contexts["typo"]
    assert lab.settings is not None and lab.vcenter == "vcsa01.lab.local" and lab.current and not lab.error
    assert broken.settings is None and "profiles.broken.read_only must be true or false" in broken.error
    assert typo.settings is None and "profiles.typo.urll: unknown setting 'urll'" in typo.error
    assert profile_settings("lab", ns(path), {}).server == "vcsa01.lab.local"
    with pytest.raises(ConfigError, match="read_only must be true or false"):
        profile_settings("broken", ns(path), {})
    # The chosen profile itself bad: listed, current, with its error; the others still listed.
    chosen = list_contexts(ns(path, profile="broken"), {})
    assert [(c.name, c.current, bool(c.error)) for c in chosen] == [
        ("lab", False, False),
        ("broken", True, True),
        ("typo", False, True),
    ]
    # dvmirror itself (one profile, not contexts) still refuses a file with a bad value anywhere.
    with pytest.raises(ConfigError, match="read_only must be true or false"):
        resolve_settings(ns(path), {})


def test_a_password_in_any_profile_still_fails_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(BAD_ONE + '\n[profiles.leak]\nurl = "vc"\npassword = "hunter2"\n')
    with pytest.raises(ConfigError, match="never reads passwords from files"):
        list_contexts(ns(path), {})


def test_contexts_and_find_all_report_a_bad_profile_and_go_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.__main__ import main

    path = tmp_path / "config.toml"
    path.write_text(BAD_ONE.replace("vcsa01.lab.local", "http://127.0.0.1:9/sdk"))
    env = {"DVMIRROR_CONFIG": str(path), "DVMIRROR_PASSWORD": "x", "DVMIRROR_TIMEOUT": "5"}
    assert main(["contexts", "--json"], environ=env) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], bool(r["error"])) for r in rows] == [("lab", False), ("broken", True), ("typo", True)]
    code = main(["find", "web", "--all", "--json"], environ=env)
    out = json.loads(capsys.readouterr().out)
    errors = {e["context"]: e for e in out["errors"]}
    assert "read_only must be true or false" in errors["broken"]["error"] and errors["broken"]["exit_code"] == 2
    assert "unknown setting 'urll'" in errors["typo"]["error"]
    # lab was tried (nothing listens on port 9): a connection failure of its own, not the file's.
    assert errors["lab"]["exit_code"] == 3 and "read_only" not in errors["lab"]["error"]
    assert code == 3, "the failures disagree: 3"
