"""``dvmirror session export --as pyvmomi`` re-creates the same session on another vcsim.

Sessions of every type (and one with a hostile name) are made on one server with ``session
create``; each is exported from there and the script is run, as a user would, with ``python3`` and
the VCENTER_* variables, against a second server of the same lab over TLS. What the second server
stores is read back through pyVmomi and must equal the original in every field but the key.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.test_cli_sessions_vcsim import CLOUD, api, run, switch_state
from tui.__main__ import main

pytestmark = pytest.mark.vcsim

HOSTILE = "vm[prod] 'it''s' \"\"\" {{ lookup('pipe','id') }} \u2019 [/x]"

CASES = [
    ["--name", "dv", "--source", "448", "--dest", "2258", "--length", "60"],
    ["--name", "legacy", "--type", "mixedDestMirror", "--source", "448:ingress", "--dest", "2258",
     "--encap-vlan", "205", "--length", "60"],
    ["--name", "rspan-src", "--type", "remoteMirrorSource", "--source", "450:egress", "--dest-uplink", "dvUplink1",
     "--encap-vlan", "3001", "--preserve-vlan", "--sampling-rate", "10"],
    ["--name", "rspan-dst", "--type", "remoteMirrorDest", "--source-vlan", "0", "--source-vlan", "1100",
     "--dest", "2244", "--normal-io"],
    ["--name", "erspan", "--type", "encapsulatedRemoteMirrorSource", "--source", "451:ingress",
     "--dest-ip", "192.0.2.10", "--dest-ip", "2001:db8::10", "--encap-type", "erspan3", "--erspan-id", "1023",
     "--erspan-cos", "7", "--erspan-ns", "--disabled"],
    ["--name", HOSTILE, "--description", "line one\u202e", "--source", "449", "--dest", "2258"],
]  # fmt: skip


def env_for(server: Any) -> dict[str, str]:
    """The script's connection variables for ``server`` (TLS, its self-signed certificate not checked)."""
    return {
        **os.environ,
        "VCENTER_HOST": server.host,
        "VCENTER_PORT": str(server.port),
        "VCENTER_USER": server.user,
        "VCENTER_PASSWORD": server.password,
        "VCENTER_INSECURE": "1",
    }


def without_key(session: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in session.items() if k != "key"}


def test_pyvmomi_export_recreates_every_type(
    start_vcsim: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    origin = start_vcsim()
    target = start_vcsim(tls=True)
    before = {s.key for s in switch_state(target)[1]}
    for args in CASES:
        code, result, err = run(capsys, origin, "session", "create", "--switch", CLOUD, "--allow-empty", *args)
        assert code == 0, (args, result, err)
        key = result["change"]["session"]["key"]
        code = main(
            ["session", "export", "--session", key, "--switch", CLOUD, "--as", "pyvmomi", "--server", origin.url,
             "--user", origin.user, "--password", origin.password]
        )  # fmt: skip
        script = capsys.readouterr().out
        assert code == 0
        done = subprocess.run(
            [sys.executable, "-"],
            input=script,
            env=env_for(target),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, (args, done.stderr)
        stored = [s for s in switch_state(target)[1] if s.key not in before]
        assert len(stored) == 1, (args, done.stdout)
        before.add(stored[0].key)
        assert f"created session key {stored[0].key}" in done.stdout
        original = next(s for s in switch_state(origin)[1] if s.key == key)
        assert without_key(api(stored[0])) == without_key(api(original)), args
        # Both go before the next case: a destination port can be in one such session at a time.
        for server, gone in ((origin, key), (target, stored[0].key)):
            code, _, err = run(capsys, server, "session", "delete", "--switch", CLOUD, "--session", gone, "--insecure")
            assert code == 0, err


def test_pyvmomi_export_names_a_missing_switch(
    start_vcsim: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Run against a vCenter without that switch, the script says so, exits 1 and changes nothing."""
    target = start_vcsim(tls=True)
    code = main(
        ["session", "export", "--session", "DMZ-IDS", "--as", "pyvmomi", "--server", target.url, "--user",
         target.user, "--password", target.password, "--insecure"]
    )  # fmt: skip
    script = capsys.readouterr().out.replace("SWITCH_UUID = '", "SWITCH_UUID = 'not-", 1)
    assert code == 0 and "SWITCH_UUID = 'not-" in script
    state = switch_state(target)
    done = subprocess.run(
        [sys.executable, "-"], input=script, env=env_for(target), capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "no distributed switch with UUID 'not-" in done.stderr
    assert [api(s) for s in switch_state(target)[1]] == [api(s) for s in state[1]]


def test_pyvmomi_export_without_credentials_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["session", "export", "--demo", "--session", "DMZ-IDS", "--as", "pyvmomi"]) == 0
    script = capsys.readouterr().out
    env = {k: v for k, v in os.environ.items() if not k.startswith("VCENTER_")}
    done = subprocess.run([sys.executable, "-"], input=script, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "VCENTER_HOST" in done.stderr
