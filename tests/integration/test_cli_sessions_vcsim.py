"""The session commands of the CLI against the vcsim test server, read back through pyVmomi.

Every test that could change the server starts its own (``start_vcsim``); the shared ``vcsim``
is only read. The CLI runs in-process through ``tui.__main__.main`` with ``--server`` flags.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import WALKTHROUGH_FLAGS, WALKTHROUGH_LEGACY_FLAGS, WALKTHROUGH_SWITCH, run_cli_json
from tui import rules
from tui.__main__ import main
from tui.audit import AuditLog
from tui.backends._convert import session_from_vim
from tui.backends.vsphere import VsphereBackend

pytestmark = pytest.mark.vcsim

CLOUD = WALKTHROUGH_SWITCH
WALKTHROUGH = list(WALKTHROUGH_FLAGS)


def conn(server: Any) -> list[str]:
    return ["--server", server.url, "--user", server.user, "--password", server.password]


def run(capsys: pytest.CaptureFixture[str], server: Any, *argv: str) -> tuple[int, Any, str]:
    """Run the CLI on ``server`` with ``--json``; return the exit code, the parsed JSON (or None) and stderr."""
    return run_cli_json(capsys, *argv, *conn(server))


def switch_state(server: Any, name: str = CLOUD) -> tuple[str, list[Any]]:
    """``(configVersion, [pyVmomi VspanSession])`` of switch ``name``, read straight from the server."""
    from pyVmomi import vim

    si = server.connect()
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
    try:
        dvs = next(d for d in view.view if d.name == name)
        return str(dvs.config.configVersion), list(dvs.config.vspanSession or [])
    finally:
        view.Destroy()


def by_key(sessions: list[Any]) -> dict[str, Any]:
    return {s.key: s for s in sessions}


def api(session: Any) -> dict[str, Any]:
    """A pyVmomi session in the CLI's JSON shape."""
    return session_from_vim(session).to_api()


def ports(p: Any) -> tuple[list[str], list[str], list[int], list[str]]:
    if p is None:
        return [], [], [], []
    return list(p.portKey), list(p.uplinkPortName), list(p.vlans), list(p.ipAddress)


# -- create -----------------------------------------------------------------------------------


def test_create_walkthrough_legacy_session(start_vcsim: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    server = start_vcsim()
    version, before = switch_state(server)
    code, result, err = run(
        capsys,
        server,
        "session",
        "create",
        "--switch",
        CLOUD,
        *WALKTHROUGH_LEGACY_FLAGS,
    )
    assert code == 0, (result, err)
    assert result["ok"] is True and result["sent"] is True
    key = result["change"]["session"]["key"]
    new_version, after = switch_state(server)
    assert new_version != version
    assert set(by_key(after)) == set(by_key(before)) | {key}
    s = by_key(after)[key]
    assert s.name == "F5 DMZ to monitor"
    assert s.sessionType == "mixedDestMirror"
    assert s.enabled is True
    assert ports(s.sourcePortReceived) == (["448"], [], [], [])
    assert ports(s.sourcePortTransmitted) == (["448"], [], [], [])
    assert ports(s.destinationPort) == (["2258"], [], [], [])
    assert s.encapsulationVlanId == 205
    assert s.mirroredPacketLength == 60
    assert s.stripOriginalVlan is True and s.normalTrafficAllowed is False
    assert s.samplingRate is None  # never sent on the legacy type
    assert result["stored"] == api(s)
    [entry] = AuditLog().entries()
    assert entry["result"] == "ok" and entry["user"] == server.user and entry["switch"] == CLOUD
    assert entry["changes"][0]["session"]["key"] == key


def test_create_walkthrough_modern_session_by_names(
    start_vcsim: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim()
    code, result, err = run(
        capsys,
        server,
        "session",
        "create",
        "--name",
        "F5 DMZ to monitor",
        "--type",
        "dvPortMirror",
        "--source",
        "F5-LTM01/Network adapter 2",
        "--dest",
        "MGTSRVR003UX/Network adapter 2",
        "--length",
        "60",
    )
    assert code == 0, (result, err)
    assert result["change"]["switch"] == CLOUD
    s = by_key(switch_state(server)[1])[result["change"]["session"]["key"]]
    assert s.sessionType == "dvPortMirror" and s.enabled is True
    assert ports(s.sourcePortReceived) == (["448"], [], [], [])
    assert ports(s.sourcePortTransmitted) == (["448"], [], [], [])
    assert ports(s.destinationPort) == (["2258"], [], [], [])
    assert s.mirroredPacketLength == 60 and s.encapsulationVlanId is None
    assert result["stored"] == api(s)


def test_create_other_session_types(start_vcsim: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    server = start_vcsim()
    cases = [
        (
            ["--type", "remoteMirrorSource", "--source", "450:egress", "--dest-uplink", "dvUplink1", "--encap-vlan",
             "3001", "--preserve-vlan", "--sampling-rate", "10"],
            lambda s: (
                ports(s.sourcePortTransmitted) == (["450"], [], [], [])
                and ports(s.destinationPort) == ([], ["dvUplink1"], [], [])
                and s.encapsulationVlanId == 3001 and s.stripOriginalVlan is False and s.samplingRate == 10
            ),
        ),
        (
            ["--type", "remoteMirrorDest", "--source-vlan", "0", "--source-vlan", "1100", "--dest", "2244",
             "--normal-io"],
            lambda s: (
                ports(s.sourcePortReceived) == ([], [], [0, 1100], [])
                and ports(s.destinationPort) == (["2244"], [], [], []) and s.normalTrafficAllowed is True
            ),
        ),
        (
            ["--type", "encapsulatedRemoteMirrorSource", "--source", "451:ingress", "--dest-ip", "192.0.2.10",
             "--dest-ip", "2001:db8::10", "--encap-type", "erspan3", "--erspan-id", "1023", "--erspan-cos", "7",
             "--erspan-ns", "--disabled"],
            lambda s: (
                ports(s.sourcePortReceived) == (["451"], [], [], [])
                and ports(s.destinationPort) == ([], [], [], ["192.0.2.10", "2001:db8::10"])
                and (s.encapType, s.erspanId, s.erspanCOS, s.erspanGraNanosec) == ("erspan3", 1023, 7, True)
                and s.enabled is False
            ),
        ),
    ]  # fmt: skip
    for args, check in cases:
        code, result, err = run(capsys, server, "session", "create", "--switch", CLOUD, "--name", args[1], *args)
        assert code == 0, (args, result, err)
        s = by_key(switch_state(server)[1])[result["change"]["session"]["key"]]
        assert s.sessionType == args[1] and s.name == args[1]
        assert check(s), s
        assert result["stored"] == api(s)


# -- edit, enable, disable, delete ------------------------------------------------------------


def test_edit_changes_only_the_fields_given(
    start_vcsim: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim()
    code, result, _ = run(
        capsys, server, "session", "create", "--switch", CLOUD, *WALKTHROUGH_LEGACY_FLAGS, "--normal-io",
    )  # fmt: skip
    assert code == 0
    key = result["change"]["session"]["key"]
    before = api(by_key(switch_state(server)[1])[key])

    code, result, err = run(
        capsys, server, "session", "edit", "--session", "F5 DMZ to monitor", "--length", "128",
        "--description", "walkthrough", "--add-source", "449:ingress",
    )  # fmt: skip
    assert code == 0, (result, err)
    after = api(by_key(switch_state(server)[1])[key])
    expected = before | {"mirroredPacketLength": 128, "description": "walkthrough"}
    expected["sourcePortReceived"] = before["sourcePortReceived"] | {"portKey": ["448", "449"]}
    assert after == expected
    assert after["enabled"] is True and after["normalTrafficAllowed"] is True and after["stripOriginalVlan"] is True
    assert result["stored"] == after

    # --source replaces the sources; an existing session (DMZ-IDS) keeps the rest.
    dmz_before = api(by_key(switch_state(server)[1])["1"])
    code, result, _ = run(capsys, server, "session", "edit", "--session", "DMZ-IDS", "--source", "450:egress")
    assert code == 0
    dmz_after = api(by_key(switch_state(server)[1])["1"])
    assert dmz_after["sourcePortTransmitted"]["portKey"] == ["450"]
    assert dmz_after["sourcePortReceived"]["portKey"] == []
    unchanged = {k for k in dmz_before if k not in ("sourcePortTransmitted", "sourcePortReceived")}
    assert {k: dmz_after[k] for k in unchanged} == {k: dmz_before[k] for k in unchanged}


def test_edit_clears_the_packet_length(start_vcsim: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    server = start_vcsim()
    code, result, _ = run(capsys, server, "session", "create", "--switch", CLOUD, *WALKTHROUGH)
    assert code == 0
    key = result["change"]["session"]["key"]
    code, result, err = run(capsys, server, "session", "edit", "--session", key, "--switch", CLOUD, "--no-length")
    assert code == 0, (result, err)
    assert by_key(switch_state(server)[1])[key].mirroredPacketLength is None  # -1 on the wire: whole frames


@pytest.mark.parametrize(("action", "key", "enabled"), [("disable", "1", False), ("enable", "2", True)])
def test_enable_disable(
    start_vcsim: Callable[..., Any], capsys: pytest.CaptureFixture[str], action: str, key: str, enabled: bool
) -> None:
    server = start_vcsim()
    version, sessions = switch_state(server)
    before = {k: api(s) for k, s in by_key(sessions).items()}
    assert before[key]["enabled"] is not enabled
    code, result, err = run(capsys, server, "session", action, "--session", key, "--switch", CLOUD)
    assert code == 0, (result, err)
    new_version, sessions = switch_state(server)
    after = {k: api(s) for k, s in by_key(sessions).items()}
    assert new_version != version
    assert after[key] == before[key] | {"enabled": enabled}
    assert {k: v for k, v in after.items() if k != key} == {k: v for k, v in before.items() if k != key}
    # Again: nothing to change, nothing sent.
    code, result, _ = run(capsys, server, "session", action, "--session", key, "--switch", CLOUD)
    assert code == 0 and result["sent"] is False and switch_state(server)[0] == new_version


def test_delete_removes_only_that_session(start_vcsim: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    server = start_vcsim()
    code, result, _ = run(capsys, server, "session", "create", "--switch", CLOUD, *WALKTHROUGH)
    assert code == 0
    new_key = result["change"]["session"]["key"]
    before = {k: api(s) for k, s in by_key(switch_state(server)[1]).items()}
    assert set(before) == {"1", "2", new_key}
    code, result, err = run(capsys, server, "session", "delete", "--session", "DMZ-IDS")
    assert code == 0, (result, err)
    assert result["change"]["operation"] == "remove" and result["change"]["session"]["key"] == "1"
    after = {k: api(s) for k, s in by_key(switch_state(server)[1]).items()}
    assert after == {k: v for k, v in before.items() if k != "1"}
    assert switch_state(server, "dvSwitchMgmt")[1] == []
    # Deleting it again: vCenter's NotFound, found by our rules, nothing sent.
    code, result, _ = run(capsys, server, "session", "delete", "--session", "1", "--switch", CLOUD)
    assert code == 1 and [p["code"] for p in result["problems"]] == ["NotFound"]


# -- dry run, faults, connection --------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["session", "create", "--switch", CLOUD, *WALKTHROUGH],
        ["session", "edit", "--session", "DMZ-IDS", "--length", "100"],
        ["session", "disable", "--session", "DMZ-IDS"],
        ["session", "delete", "--session", "RSPAN-Core"],
    ],
    ids=["create", "edit", "disable", "delete"],
)
def test_dry_run_sends_nothing(
    start_vcsim: Callable[..., Any], capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    server = start_vcsim()
    version, sessions = switch_state(server)
    before = [api(s) for s in sessions]
    code, result, err = run(capsys, server, *argv, "--dry-run")
    assert code == 0, (result, err)
    assert result["ok"] is True and result["dry_run"] is True and result["sent"] is False
    new_version, sessions = switch_state(server)
    assert new_version == version and [api(s) for s in sessions] == before
    assert AuditLog().entries() == []


@pytest.mark.parametrize(
    ("args", "code", "field"),
    [
        (["--source", "448", "--dest", "2258", "--sampling-rate", "0"], "InvalidArgument", "samplingRate"),
        (["--source", "2241:egress", "--dest", "2258"], "VspanPortConflict", "destinationPort"),
        (["--source", "448", "--dest", "2241"], "VspanDestPortConflict", "destinationPort"),
    ],
    ids=["sampling 0", "V3", "V4"],
)
def test_vcenter_fault_is_exit_4(
    start_vcsim: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    code: str,
    field: str,
) -> None:
    """With our rules switched off, vCenter's own check refuses the change: exit 4 and its fault name."""
    server = start_vcsim()
    version, _ = switch_state(server)
    monkeypatch.setattr(rules, "check", lambda *a, **k: [])
    exit_code, result, err = run(capsys, server, "session", "create", "--switch", CLOUD, *args)
    assert exit_code == 4, (result, err)
    assert result["ok"] is False and result["sent"] is True and result["stored"] is None
    errors = [(p["code"], p["field"]) for p in result["problems"] if p["severity"] == "error"]
    assert errors == [(code, field)]
    assert switch_state(server)[0] == version
    assert [e["result"] for e in AuditLog().entries()] == ["fault"]


def test_concurrent_change_is_exit_4(
    start_vcsim: Callable[..., Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone else changes the switch between our load and our send: ConcurrentAccess, nothing sent."""
    server = start_vcsim()
    original = VsphereBackend.apply

    rivals: list[int] = []

    def apply_after_someone_else(self: VsphereBackend, *args: Any, **kwargs: Any) -> Any:
        if not rivals:  # the first apply lets a rival CLI run change the switch first
            rivals.append(-1)
            rivals[0] = main(["session", "disable", "--session", "DMZ-IDS", *conn(server), "--json"], environ={})
        return original(self, *args, **kwargs)

    monkeypatch.setattr(VsphereBackend, "apply", apply_after_someone_else)
    code = main(["session", "create", "--switch", CLOUD, *WALKTHROUGH, *conn(server), "--json"], environ={})
    out = capsys.readouterr().out
    result = json.loads(out[out.index("}\n{") + 2 :])  # the rival's result comes first
    assert rivals == [0] and code == 4
    assert [p["code"] for p in result["problems"] if p["severity"] == "error"] == ["ConcurrentAccess"]
    assert set(by_key(switch_state(server)[1])) == {"1", "2"}


def test_connection_refused_is_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = main(
        ["session", "create", "--switch", CLOUD, *WALKTHROUGH, "--server", f"http://127.0.0.1:{port}/sdk",
         "--user", "u", "--password", "p", "--json"],
        environ={},
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 3 and out == "" and err
    assert AuditLog().entries() == []


def test_login_failure_is_exit_3(vcsim: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sessions", "--server", vcsim.url, "--user", vcsim.user, "--password", "wrong", "--json"], environ={})
    out, err = capsys.readouterr()
    assert code == 3 and out == "" and err


# -- sessions ------------------------------------------------------------------------------------


def test_sessions_match_the_demo_lab(vcsim: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sessions", *conn(vcsim), "--json"], environ={})
    live = json.loads(capsys.readouterr().out)
    assert code == 0
    assert main(["sessions", "--demo", "--json"], environ={}) == 0
    demo = json.loads(capsys.readouterr().out)
    assert [(r["switch"], r["key"], r["name"]) for r in live] == [
        (CLOUD, "1", "DMZ-IDS"),
        (CLOUD, "2", "RSPAN-Core"),
    ]
    assert live == demo
