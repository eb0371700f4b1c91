"""The CLI: output, JSON shape and exit codes (DESIGN.md §10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import labgen
from tests.helpers import run_cli as run
from tui.__main__ import build_parser, main


def test_find_vm_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "find", "MGTSRVR003UX", "--demo", "--json")
    assert code == 0
    rows = json.loads(out)
    mirror = [r for r in rows if r["portgroup"] == "dvPgMirror"]
    assert mirror == [
        {
            "switch": "dvSwitchCloud",
            "portgroup": "dvPgMirror",
            "port": "2258",
            "vm": "MGTSRVR003UX",
            "nic": "Network adapter 2",
            "mac": mirror[0]["mac"],
            "ips": ["192.168.205.5"],
            "host": "esx-03",
            "vlan": "205",
            "connected": True,
            "matched": "vm: MGTSRVR003UX",
            "matched_field": "vm",
            "matched_value": "MGTSRVR003UX",
            "match": "exact",
        }
    ]


def test_find_ip_and_options_before_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--demo", "find", "172.24.4.52", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["vm"], r["port"]) for r in rows] == [("KRBCLIENT01", "302")]


def test_find_port_key(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "find", "2258", "--demo", "--json")
    assert code == 0 and json.loads(out)[0]["vm"] == "MGTSRVR003UX"


def test_find_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "find", "vm[prod]", "--demo")
    assert code == 0
    assert "vm[prod]" in out and "500" in out and "Matched" in out


def test_find_nothing_is_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "find", "no-such-vm", "--demo")
    assert code == 1 and out == "" and "No port matches 'no-such-vm'" in err
    code, out, _ = run(capsys, "find", "no-such-vm", "--demo", "--json")
    assert code == 1 and json.loads(out) == []


def test_ports_of_portgroup(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ports", "--demo", "--portgroup", "dvPgDMZ", "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 48 and {r["portgroup"] for r in rows} == {"dvPgDMZ"}
    f5 = [r for r in rows if r["port"] == "448"]
    assert f5 and f5[0]["vm"] == "F5-LTM01"


def test_ports_filters(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ports", "--demo", "--switch", "dvSwitchMgmt", "--connected", "--json")
    rows = json.loads(out)
    assert code == 0 and rows and all(r["switch"] == "dvSwitchMgmt" and r["connected"] for r in rows)
    code, out, _ = run(capsys, "ports", "--demo", "--vm", "SQL-CLUSTER01", "--json")
    assert code == 0 and len(json.loads(out)) == 3
    code, out, _ = run(capsys, "ports", "--demo")
    assert code == 0 and "437 ports" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ports", "--demo", "--switch", "nope"], "no switch called 'nope' (known: dvSwitchCloud, dvSwitchMgmt)"),
        (["ports", "--demo", "--portgroup", "nope"], "no portgroup called 'nope'"),
        (["ports", "--demo", "--vm", "nope"], "no VM called 'nope'"),
        (["find", "  ", "--demo"], "the search term is empty"),
        (["find", "x"], "no vCenter given"),
    ],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in " ".join(err.split())


def test_argparse_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["ports", "--bogus"], environ={})
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["--demo", "--snapshot", "x.json", "ports"], environ={})
    assert e.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_bad_snapshot_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "dvmirror-snapshot", "version": 1, "vcenter": "v", "hosts": [', encoding="utf-8")
    code, _, err = run(capsys, "ports", "--snapshot", str(bad))
    assert code == 2 and "bad.json" in err and "Traceback" not in err


def test_snapshot_file_works_like_demo(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "lab.json"
    labgen.write(labgen.demo_lab(), path)
    code, out, _ = run(capsys, "find", "2258", "--snapshot", str(path), "--json")
    assert code == 0 and json.loads(out)[0]["vm"] == "MGTSRVR003UX"


def test_snapshot_save_from_a_snapshot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_path = tmp_path / "copy.json"
    code, _, err = run(capsys, "snapshot", "save", str(out_path), "--demo")
    assert code == 0 and "Saved 2 switches, 437 ports" in err
    code, _, err = run(capsys, "snapshot", "save", str(out_path), "--demo")
    assert code == 2 and "--force" in err
    code, out, _ = run(capsys, "find", "448", "--snapshot", str(out_path), "--json")
    assert code == 0 and json.loads(out)[0]["vm"] == "F5-LTM01"


@pytest.mark.parametrize("command", [[], ["ports"], ["find"], ["snapshot"], ["snapshot", "save"]])
def test_help_everywhere(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args([*command, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "usage: dvmirror" in out and "--demo" in out


def test_show_config_names_sources_and_hides_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    env = {"GOVC_URL": "admin:s3cr@t@vcsa01.lab.local", "GOVC_INSECURE": "1"}
    code, out, _ = run_env(capsys, env, "--show-config")
    assert code == 0
    assert "s3cr" not in out and "(set)" in out
    assert any(line.split()[:3] == ["insecure", "yes", "GOVC_INSECURE"] for line in out.splitlines())


def test_bad_url_error_never_shows_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_env(capsys, {"GOVC_URL": "https://admin:pa/ss@vcsa01:99999/sdk"}, "ports")
    assert code == 2 and "pa/ss" not in err and "GOVC_URL" in err


def test_demo_ignores_broken_connection_settings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_env(capsys, {"GOVC_URL": "vc", "GOVC_INSECURE": "maybe"}, "find", "2258", "--demo", "--json")
    assert code == 0 and json.loads(out)[0]["port"] == "2258"


def run_env(capsys: pytest.CaptureFixture[str], environ: dict[str, str], *argv: str) -> tuple[int, str, str]:
    return run(capsys, *argv, environ=environ)
