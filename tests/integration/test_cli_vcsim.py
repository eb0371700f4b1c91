"""The CLI against the vcsim test server: the same rows as on the demo lab, the console script
itself, snapshots recorded from vCenter, and each failure with its message and exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.helpers import run_cli as run

pytestmark = pytest.mark.vcsim


def server_args(server: Any, *, password: str | None = None) -> list[str]:
    args = ["--server", server.url, "--user", server.user, "--password", password or server.password]
    return [*args, "--insecure"] if not server.tls else args


def test_find_and_ports_equal_the_demo_lab(vcsim: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *server_args(vcsim), "find", "MGTSRVR003UX", "--json")
    live = json.loads(out)
    assert code == 0
    mirror = [r for r in live if r["portgroup"] == "dvPgMirror"]
    assert [(r["port"], r["host"]) for r in mirror] == [("2258", "esx-03")]
    code, out, _ = run(capsys, "find", "MGTSRVR003UX", "--demo", "--json")
    assert json.loads(out) == live
    code, out, _ = run(capsys, *server_args(vcsim), "ports", "--json")
    live_ports = json.loads(out)
    code, out, _ = run(capsys, "ports", "--demo", "--json")
    assert code == 0 and live_ports == json.loads(out) and len(live_ports) == 437


def test_the_console_script_as_documented(vcsim: Any, tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("dvmirror")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "tui"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVC_", "VMWARE_", "DVMIRROR_"))}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [*command, "--server", vcsim.url, "--user", vcsim.user, "--password", vcsim.password, "--insecure"]
        + ["find", "MGTSRVR003UX", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert any(r["port"] == "2258" and r["portgroup"] == "dvPgMirror" for r in rows)


def test_govc_variables(vcsim: Any, capsys: pytest.CaptureFixture[str]) -> None:
    url = vcsim.url.replace("://", f"://{vcsim.user}:{vcsim.password}@")
    code, out, _ = run(capsys, "find", "172.24.4.52", "--json", environ={"GOVC_URL": url, "GOVC_INSECURE": "1"})
    assert code == 0 and [r["vm"] for r in json.loads(out)] == ["KRBCLIENT01"]


def test_snapshot_save_then_offline(vcsim: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "vcsa01.json"
    code, _, err = run(capsys, *server_args(vcsim), "snapshot", "save", str(path))
    assert code == 0 and "Saved 2 switches, 437 ports, 61 VMs" in err
    code, out, _ = run(capsys, "ports", "--snapshot", str(path), "--json")
    offline = json.loads(out)
    code, out, _ = run(capsys, *server_args(vcsim), "ports", "--json")
    assert offline == json.loads(out)


def test_wrong_password_is_exit_3(vcsim: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *server_args(vcsim, password="nope"), "find", "x")
    assert code == 3 and out == ""
    assert "nope" not in err and "Traceback" not in err


def test_no_password_and_no_terminal(vcsim: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--server", vcsim.url, "--user", vcsim.user, "--insecure", "ports")
    assert code == 3 and "no password" in err and "DVMIRROR_PASSWORD" in err


def test_nothing_listening_is_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--server", "http://127.0.0.1:9/sdk", "--user", "u", "--password", "p", "ports")
    assert code == 3 and "127.0.0.1:9" in err and "Traceback" not in err


def test_tls_trust(start_vcsim: Any, capsys: pytest.CaptureFixture[str]) -> None:
    server = start_vcsim(tls=True)
    code, _, err = run(capsys, *server_args(server), "find", "2258", "--json")
    assert code == 3 and "--ca-file" in err and f"--thumbprint {server.thumbprint}" in err and "--insecure" in err
    for trust in (["--ca-file", server.cert], ["--thumbprint", server.thumbprint], ["--insecure"]):
        code, out, err = run(capsys, *server_args(server), *trust, "find", "2258", "--json")
        assert code == 0, err
        assert json.loads(out)[0]["vm"] == "MGTSRVR003UX"


def test_bad_settings_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ports", environ={"GOVC_URL": "vc", "GOVC_INSECURE": "maybe"})
    assert code == 2 and "GOVC_INSECURE" in err
