"""The CLI's wording (issue 9, items 5 and 13): a wrong direction is called a wrong direction, JSON
names fields as the text does, every subcommand's --help has its own examples (and they work), and
a session with no source or no destination needs --allow-empty."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CLOUD
from tests.helpers import run_cli as run
from tui.__main__ import build_parser
from tui.audit import AuditLog
from tui.backends.snapshot import SnapshotBackend, dump_inventory


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code, out, err = run(capsys, *argv, "--json")
    assert out, f"no JSON (exit {code}): {err}"
    return code, json.loads(out)


# -- item 13: a direction that is not one --------------------------------------------------------


@pytest.mark.parametrize("flag", ["--source", "--add-source"])
def test_wrong_direction_is_named_not_a_missing_port(capsys: pytest.CaptureFixture[str], flag: str) -> None:
    if flag == "--source":
        argv = ["session", "create", "--demo", "--source", "448:sideways", "--dest", "2258"]
    else:
        argv = ["session", "edit", "--demo", "--session", "DMZ-IDS", "--add-source", "450:sideways"]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert f"{flag} '{argv[-3] if flag == '--source' else argv[-1]}': 'sideways' is not a direction" in err
    assert "ingress" in err and "egress" in err and "both" in err
    assert "NotFound" not in err and "does not exist" not in err
    assert AuditLog().entries() == []


def test_known_directions_still_work(capsys: pytest.CaptureFixture[str]) -> None:
    for suffix in ("ingress", "EGRESS", "both", "in", "tx"):
        code, result = run_json(
            capsys, "session", "create", "--demo", "--source", f"448:{suffix}", "--dest", "2258", "--dry-run"
        )
        assert code == 0 and result["ok"], (suffix, result["problems"])


def test_vm_name_with_a_colon_is_not_a_direction(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = SnapshotBackend().load()
    vm = next(v for v in inventory.vms.values() if v.name == "F5-LTM01")
    vms = dict(inventory.vms) | {vm.key: replace(vm, name="lb:blue")}
    snap = tmp_path / "colon.json"
    snap.write_text(json.dumps(dump_inventory(replace(inventory, vms=vms))))
    code, result = run_json(
        capsys, "session", "create", "--snapshot", str(snap), "--source", "lb:blue/Network adapter 2", "--dry-run"
    )
    # Resolved as the VM (its NIC on port 448); refused only for having no destination.
    assert result["change"]["session"]["sourcePortReceived"]["portKey"] == ["448"]
    assert code == 1 and [p["code"] for p in result["problems"] if p["severity"] == "error"] == ["NoDestination"]


def test_destination_has_no_direction(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "session", "create", "--demo", "--source", "448", "--dest", "2258:ingress")
    assert code == 2 and out == ""
    assert "--dest '2258:ingress': a destination has no direction" in err and "give --dest 2258" in err


# -- item 13: JSON field names are the text output's ---------------------------------------------


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--source", "448", "--dest", "2241"], "destinationPort"),
        (["--source", "448", "--dest", "2258", "--sampling-rate", "0"], "samplingRate"),
        (["--source", "2241:egress", "--dest", "2258"], "sourcePortTransmitted"),
        (["--source", "448", "--dest", "2258", "--length", "59"], "mirroredPacketLength"),
    ],
)
def test_json_field_is_the_name_the_text_shows(capsys: pytest.CaptureFixture[str], args: list[str], field: str) -> None:
    argv = ["session", "create", "--demo", "--switch", "dvSwitchCloud", *args]
    code, result = run_json(capsys, *argv)
    assert code == 1
    errors = [p for p in result["problems"] if p["severity"] == "error"]
    assert field in [p["field"] for p in errors]
    code, out, _ = run(capsys, *argv)
    shown = re.findall(r"error (\w+) \[(\w+)\]", out)
    assert shown == [(p["code"], p["field"]) for p in errors]


def test_sessions_json_warnings_use_api_field_names(capsys: pytest.CaptureFixture[str]) -> None:
    code, rows = run_json(capsys, "sessions", "--demo")
    assert code == 0
    dmz = next(r for r in rows if r["name"] == "DMZ-IDS")
    assert [w["field"] for w in dmz["warnings"]] == ["sourcePortReceived"]  # CrossHostMirror
    code, out, _ = run(capsys, "sessions", "--demo")
    assert "CrossHostMirror [sourcePortReceived]" in out


# -- item 13: every subcommand's --help has its own examples, and they work ---------------------

COMMANDS = [
    ["ports"],
    ["find"],
    ["snapshot"],
    ["snapshot", "save"],
    ["sessions"],
    ["session"],
    ["session", "create"],
    ["session", "edit"],
    ["session", "enable"],
    ["session", "disable"],
    ["session", "delete"],
]


def help_text(capsys: pytest.CaptureFixture[str], command: list[str]) -> str:
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args([*command, "--help"])
    assert e.value.code == 0
    return capsys.readouterr().out


def examples(text: str) -> list[list[str]]:
    """The example command lines under ``examples``, continuation lines joined, comments dropped."""
    block = text.split("\nexamples", 1)[1].split("\n\n", 1)[0]
    joined = block.split("\n", 1)[1].replace("\\\n", " ")
    return [shlex.split(re.split(r"\s{2,}(?=[a-z])", line.strip())[0]) for line in joined.splitlines()]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_each_help_shows_its_own_examples(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    lines = examples(help_text(capsys, command))
    assert len(lines) >= 2
    prefix = command[:1] if command == ["snapshot"] else command
    for argv in lines:
        assert argv[0] == "dvmirror"
        if command != ["session"] and argv[1] != "--snapshot":
            assert argv[1 : 1 + len(prefix)] == prefix, argv
    others = [c for c in COMMANDS if c != command and len(c) == len(command) and c[0] == command[0]]
    for other in others:  # not the examples of a sibling
        assert not any(argv[1 : 1 + len(other)] == other for argv in lines)


@pytest.mark.parametrize("command", [c for c in COMMANDS if c[0] != "snapshot"], ids=" ".join)
def test_help_examples_run(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    for argv in examples(help_text(capsys, command)):
        args = argv[1:]
        if "--server" in args:
            continue
        if "--demo" not in args and "--snapshot" not in args:
            args.append("--demo")
        code, out, err = run(capsys, *args)
        assert code == 0, (argv, out, err)


def test_snapshot_help_examples_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in examples(help_text(capsys, ["snapshot", "save"])):
        if "--server" in argv or argv[1] != "snapshot":  # not the TUI, nor a vCenter
            continue
        args = [str(tmp_path / a) if a.endswith(".json") else a for a in argv[1:]]
        code, _, err = run(capsys, *args)
        assert code == 0, (argv, err)


# -- item 5: no accidental empty session -------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "codes"),
    [
        (["--source", "448"], ["NoDestination"]),
        (["--dest", "2258"], ["NoSource"]),
        (["--name", "parked"], ["NoSource", "NoDestination"]),
    ],
    ids=["no destination", "no source", "neither"],
)
def test_empty_session_is_refused_without_allow_empty(
    capsys: pytest.CaptureFixture[str], args: list[str], codes: list[str]
) -> None:
    argv = ["session", "create", "--demo", "--switch", "dvSwitchCloud", *args]
    for dry in ([], ["--dry-run"]):
        code, result = run_json(capsys, *argv, *dry)
        assert code == 1 and result["ok"] is False and result["sent"] is False
        errors = [p for p in result["problems"] if p["severity"] == "error"]
        assert [p["code"] for p in errors] == codes
        assert all("--allow-empty" in p["message"] for p in errors)
    code, out, _ = run(capsys, *argv)
    assert code == 1 and "Refused: add --allow-empty to send it anyway." in out and "Nothing was sent." in out
    assert AuditLog().entries() == []
    code, result = run_json(capsys, *argv, "--allow-empty")
    assert code == 0 and result["sent"] is True
    assert sorted(p["code"] for p in result["problems"]) == sorted(codes)  # still said, as warnings
    assert {p["severity"] for p in result["problems"] if p["code"] in codes} == {"warning"}


def test_edit_that_empties_a_session_needs_allow_empty(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["session", "edit", "--demo", "--session", "DMZ-IDS", "--clear-dests"]
    code, result = run_json(capsys, *argv)
    assert code == 1 and result["sent"] is False
    assert [(p["code"], p["field"]) for p in result["problems"] if p["severity"] == "error"] == [
        ("NoDestination", "destinationPort")
    ]
    code, result = run_json(capsys, *argv, "--allow-empty")
    assert code == 0 and result["sent"] is True
    assert result["stored"]["destinationPort"] == {} or not result["stored"]["destinationPort"].get("portKey")
    assert SnapshotBackend().load().switches[CLOUD].sessions  # the demo file itself is untouched


def test_enable_of_an_incomplete_session_is_not_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """Only create and edit build a session; enable and disable change nothing else."""
    code, result = run_json(capsys, "session", "disable", "--demo", "--session", "DMZ-IDS")
    assert code == 0 and result["sent"] is True
