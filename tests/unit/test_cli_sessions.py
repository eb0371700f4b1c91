"""The session commands of the CLI on the demo lab: rules, exit codes, JSON shape (DESIGN.md §10).

Every ``main([...])`` call is a new process-like run: the demo backend starts from the bundled lab
each time, so tests do not see each other's changes.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CLOUD
from tests.helpers import WALKTHROUGH_FLAGS, WALKTHROUGH_LEGACY_FLAGS, WALKTHROUGH_SWITCH
from tests.helpers import run_cli as run
from tui import __main__ as entry
from tui.__main__ import main
from tui.audit import AuditLog
from tui.backends import ChangeRefused, ConnectionFailed
from tui.backends.snapshot import SnapshotBackend, dump_inventory
from tui.model import Inventory, MirrorSession, Problem, SessionChange

RESULT_KEYS = {
    "ok",
    "problems",
    "change",
    "dry_run",
    "sent",
    "notes",
    "upstream",
    "capture_filter",
    "capture_command",
    "stored",
}
SESSION_API_KEYS = [
    "key",
    "name",
    "description",
    "enabled",
    "sessionType",
    "encapsulationVlanId",
    "stripOriginalVlan",
    "mirroredPacketLength",
    "normalTrafficAllowed",
    "samplingRate",
    "encapType",
    "erspanId",
    "erspanCOS",
    "erspanGraNanosec",
    "netstack",
    "sourcePortTransmitted",
    "sourcePortReceived",
    "destinationPort",
]
WALKTHROUGH = ["--switch", WALKTHROUGH_SWITCH, *WALKTHROUGH_FLAGS]


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run(capsys, *argv, "--json")
    assert out, f"no JSON on stdout (exit {code}); stderr: {err}"
    return code, json.loads(out)


def errors(result: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p["code"], p["field"]) for p in result["problems"] if p["severity"] == "error"]


def warning_codes(result: dict[str, Any]) -> set[str]:
    return {p["code"] for p in result["problems"] if p["severity"] == "warning"}


def audit_entries() -> list[dict[str, Any]]:
    return AuditLog().entries()


def demo_session(name: str) -> MirrorSession:
    sw = SnapshotBackend().load().switches[CLOUD]
    return next(s for s in sw.sessions if s.name == name)


# -- the walkthrough -------------------------------------------------------------------------


def test_walkthrough_legacy_session(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run_json(
        capsys,
        "session",
        "create",
        "--demo",
        "--switch",
        WALKTHROUGH_SWITCH,
        *WALKTHROUGH_LEGACY_FLAGS,
    )
    assert code == 0 and result["ok"] is True and result["sent"] is True
    assert set(result) == RESULT_KEYS
    change = result["change"]
    assert change["operation"] == "add" and change["switch"] == "dvSwitchCloud"
    s = change["session"]
    assert list(s) == SESSION_API_KEYS
    assert s["key"] == "3"  # the demo lab has sessions 1 and 2
    assert s["sessionType"] == "mixedDestMirror"
    assert s["sourcePortReceived"]["portKey"] == ["448"]
    assert s["sourcePortTransmitted"]["portKey"] == ["448"]
    assert s["destinationPort"]["portKey"] == ["2258"]
    assert s["encapsulationVlanId"] == 205 and s["mirroredPacketLength"] == 60
    assert s["enabled"] is True and s["name"] == "F5 DMZ to monitor"
    assert s["samplingRate"] is None  # never sent on the legacy type
    assert s["stripOriginalVlan"] is True and s["normalTrafficAllowed"] is False
    assert result["stored"] == s
    assert "MixedDestDeprecated" in warning_codes(result)
    assert any("205" in line for line in result["upstream"])
    assert result["capture_filter"] == "host 10.20.4.10"


def test_walkthrough_modern_session_by_names(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run_json(
        capsys,
        "session",
        "create",
        "--demo",
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
    assert code == 0 and result["ok"]
    s = result["change"]["session"]
    assert result["change"]["switch"] == "dvSwitchCloud"  # inferred from the ports
    assert s["sessionType"] == "dvPortMirror"
    assert (s["sourcePortReceived"]["portKey"], s["sourcePortTransmitted"]["portKey"]) == (["448"], ["448"])
    assert s["destinationPort"]["portKey"] == ["2258"] and s["mirroredPacketLength"] == 60
    assert s["encapsulationVlanId"] is None and s["enabled"] is True
    assert result["upstream"] == []  # stays inside host esx-03
    assert any("share host esx-03" in n for n in result["notes"])


def test_walkthrough_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "session", "create", "--demo", "--switch", WALKTHROUGH_SWITCH, *WALKTHROUGH_LEGACY_FLAGS)
    assert code == 0
    for text in (
        "sessionType",
        "mixedDestMirror",
        "448 · F5-LTM01 / Network adapter 2",
        "2258 · MGTSRVR003UX / Network adapter 2",
        "encapsulationVlanId",
        "MixedDestDeprecated",
        "upstream physical switch must allow",
        "trunk VLAN 205",
        "tcpdump -i IFACE -nn -e 'host 10.20.4.10'",
        "Created session 3 (F5 DMZ to monitor) on dvSwitchCloud",
        "changes apply to this run only",
    ):
        assert text in out, text


def test_direction_suffixes(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run_json(
        capsys,
        "session",
        "create",
        "--demo",
        "--dry-run",
        "--source",
        "448:ingress",
        "--source",
        "F5-LTM01/Network adapter 1:egress",
        "--source",
        "102:both",
        "--dest",
        "2258",
    )
    assert code == 0
    s = result["change"]["session"]
    assert s["sourcePortReceived"]["portKey"] == ["448", "102"]
    assert s["sourcePortTransmitted"]["portKey"] == ["100", "102"]


# -- rules: one case per rule of vspan.md §9 --------------------------------------------------

RMS = ["--type", "remoteMirrorSource", "--source", "448"]
RMD = ["--type", "remoteMirrorDest", "--dest", "2258"]
L3 = ["--type", "encapsulatedRemoteMirrorSource", "--source", "448"]

RULE_CASES: list[tuple[str, list[str], str, str]] = [
    # §9.7 conflicts
    ("V1 same session (Tx+Rx)", ["--source", "448", "--dest", "448"], "VspanSameSessionPortConflict",
     "destinationPort"),
    ("V2 same session (Rx)", ["--source", "2258:ingress", "--dest", "2258"], "VspanSameSessionPortConflict",
     "destinationPort"),
    ("V3 Tx source is DMZ-IDS's dest", ["--source", "2241:egress", "--dest", "2258"], "VspanPortConflict",
     "sourcePortTransmitted"),
    ("V3 dest is DMZ-IDS's Tx source", ["--source", "102", "--dest", "448"], "VspanPortConflict", "destinationPort"),
    ("V4 dest shared with DMZ-IDS", ["--source", "102", "--dest", "2241"], "VspanDestPortConflict", "destinationPort"),
    # §9.8 ranges
    ("sampling 0", ["--source", "448", "--dest", "2258", "--sampling-rate", "0"], "InvalidArgument", "samplingRate"),
    ("sampling 65536", ["--source", "448", "--dest", "2258", "--sampling-rate", "65536"], "InvalidArgument",
     "samplingRate"),
    ("length 59", ["--source", "448", "--dest", "2258", "--length", "59"], "InvalidArgument", "mirroredPacketLength"),
    ("RMS encap VLAN 0", [*RMS, "--dest-uplink", "dvUplink1", "--encap-vlan", "0"], "InvalidArgument",
     "encapsulationVlanId"),
    ("RMS encap VLAN 4095", [*RMS, "--dest-uplink", "dvUplink1", "--encap-vlan", "4095"], "InvalidArgument",
     "encapsulationVlanId"),
    ("RMS without encap VLAN", [*RMS, "--dest-uplink", "dvUplink1"], "InvalidArgument", "encapsulationVlanId"),
    ("dvPortMirror encap VLAN 4095", ["--source", "448", "--dest", "2258", "--encap-vlan", "4095"], "InvalidArgument",
     "encapsulationVlanId"),
    ("RMD VLAN 4095", [*RMD, "--source-vlan", "4095"], "InvalidArgument", "sourcePortReceived"),
    ("ERSPAN id 1024", [*L3, "--dest-ip", "192.0.2.10", "--encap-type", "erspan2", "--erspan-id", "1024"],
     "InvalidArgument", "erspanId"),
    ("ERSPAN cos 8", [*L3, "--dest-ip", "192.0.2.10", "--encap-type", "erspan3", "--erspan-cos", "8"],
     "InvalidArgument", "erspanCOS"),
    ("name of 81 characters", ["--source", "448", "--dest", "2258", "--name", "x" * 81], "InvalidArgument", "name"),
    # §9.5/§9.6 lists that do not fit the type
    ("uplink as a source", ["--source", "dvUplink1", "--dest", "2258"], "InvalidArgument", "sourcePortReceived"),
    ("IP on dvPortMirror", ["--source", "448", "--dest-ip", "192.0.2.10"], "InvalidArgument", "destinationPort"),
    ("uplink on dvPortMirror", ["--source", "448", "--dest-uplink", "dvUplink1"], "InvalidArgument", "destinationPort"),
    ("VLAN source on dvPortMirror", ["--source-vlan", "10", "--dest", "2258"], "InvalidArgument", "sourcePortReceived"),
    ("port source on RMD", [*RMD, "--source", "448"], "InvalidArgument", "sourcePortReceived"),
    ("ports as L3 destination", [*L3, "--dest", "2258"], "InvalidArgument", "destinationPort"),
    ("uplink DVPort as dvPortMirror dest", ["--source", "448", "--dest", "8"], "InvalidArgument", "destinationPort"),
    # §9.9 existence and addresses
    ("unknown port", ["--source", "448", "--dest", "99999"], "NotFound", "destinationPort"),
    ("unknown uplink", [*RMS, "--encap-vlan", "999", "--dest-uplink", "dvUplink9"], "NotFound", "destinationPort"),
    ("bad IP", [*L3, "--dest-ip", "10.111"], "InvalidArgument", "destinationPort"),
    # invalid combinations of valid values
    ("sampling rate on the legacy type", ["--type", "mixedDestMirror", "--source", "448", "--dest", "2258",
     "--sampling-rate", "10"], "InvalidArgument", "samplingRate"),
    ("encap VLAN on an L3 source", [*L3, "--dest-ip", "192.0.2.10", "--encap-vlan", "5"], "InvalidArgument",
     "encapsulationVlanId"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "code", "field"), [c[1:] for c in RULE_CASES], ids=[c[0] for c in RULE_CASES])
def test_rule_violations_exit_1_and_send_nothing(
    capsys: pytest.CaptureFixture[str], args: list[str], code: str, field: str
) -> None:
    for dry in (["--dry-run"], []):
        exit_code, result = run_json(capsys, "session", "create", "--demo", "--switch", "dvSwitchCloud", *dry, *args)
        assert exit_code == 1
        assert result["ok"] is False and result["sent"] is False
        assert (code, field) in errors(result), result["problems"]
        assert result["capture_filter"] is None and result["stored"] is None
        assert result["change"]["session"]["key"] is None
    assert audit_entries() == []  # stopped before sending: not recorded


def test_rule_violation_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "session", "create", "--demo", "--source", "448", "--dest", "2241")
    assert code == 1
    assert "error VspanDestPortConflict [destinationPort]" in out
    assert "Nothing was sent." in out


def test_dry_run_sends_nothing_and_is_not_recorded(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run_json(capsys, "session", "create", "--demo", *WALKTHROUGH, "--dry-run")
    assert code == 0 and result["ok"] is True
    assert result["dry_run"] is True and result["sent"] is False and result["stored"] is None
    assert result["change"]["session"]["key"] is None
    assert result["capture_command"].startswith("tcpdump -i IFACE -nn -e 'host 10.20.4.10'")
    assert audit_entries() == []
    code, out, _ = run(capsys, "session", "create", "--demo", *WALKTHROUGH, "--dry-run")
    assert code == 0 and "Dry run: nothing was sent (demo lab)." in out


def test_warnings_do_not_block(capsys: pytest.CaptureFixture[str]) -> None:
    # 101 is on esx-02, 2258 on esx-03: Distributed Port Mirroring mirrors nothing across hosts.
    code, result = run_json(capsys, "session", "create", "--demo", "--source", "101", "--dest", "2258", "--dry-run")
    assert code == 0 and result["ok"] is True
    assert "CrossHostMirror" in warning_codes(result)
    assert errors(result) == []


# -- usage errors (exit 2) --------------------------------------------------------------------


def test_ambiguous_vm_lists_candidates(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "session", "create", "--demo", "--source", "F5-LTM01", "--dest", "2258", "--json")
    assert code == 2 and out == ""
    assert "'F5-LTM01' is ambiguous" in err
    assert "100 · F5-LTM01 / Network adapter 1 on dvSwitchCloud" in err
    assert "448 · F5-LTM01 / Network adapter 2 on dvSwitchCloud" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "4", "--dest", "5"], "several switches (dvSwitchCloud, dvSwitchMgmt); add --switch"),
        (["--source", "JUMP01", "--dest", "2258"], "not on one switch"),
        (["--dest-ip", "192.0.2.1"], "give --switch"),
        (["--switch", "nope", "--source", "448"], "no switch called 'nope'"),
        (["--switch", "dvSwitchCloud", "--source", " ", "--dest", "2258"], "empty port reference"),
    ],
    ids=["key on both switches", "different switches", "no port", "unknown switch", "empty reference"],
)
def test_switch_selection_errors(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = run(capsys, "session", "create", "--demo", *args)
    assert code == 2 and out == ""
    assert message in err


def test_switch_inferred_from_the_ports(capsys: pytest.CaptureFixture[str]) -> None:
    # "10" exists on both switches; "51" only on dvSwitchMgmt, which settles it.
    code, result = run_json(capsys, "session", "create", "--demo", "--source", "10", "--dest", "51", "--dry-run")
    assert code == 0 and result["change"]["switch"] == "dvSwitchMgmt"
    code, result = run_json(
        capsys, "session", "create", "--demo", "--switch", "dvSwitchMgmt", "--source", "10", "--dest", "11", "--dry-run"
    )
    assert code == 0 and result["change"]["switch"] == "dvSwitchMgmt"


@pytest.mark.parametrize(
    "argv",
    [
        ["session", "create", "--demo", "--type", "bogusMirror", "--source", "448"],
        ["session", "create", "--demo", "--source-vlan", "ten"],
        ["session", "create", "--demo", "--encap-type", "vxlan"],
        ["session", "create", "--demo", "--session", "1"],
        ["session", "edit", "--demo", "--name", "x"],
        ["session", "edit", "--demo", "--session", "1", "--length", "60", "--no-length"],
        ["session", "frobnicate", "--demo"],
    ],
    ids=["unknown type", "non-numeric VLAN", "unknown encap type", "session on create", "edit without session",
         "length and no-length", "unknown action"],
)  # fmt: skip
def test_argparse_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv, environ={})
    assert exc.value.code == 2
    assert capsys.readouterr().out == ""


def test_edit_without_fields_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "session", "edit", "--demo", "--session", "DMZ-IDS")
    assert code == 2 and out == "" and "nothing to change" in err


def test_removing_what_is_not_there_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "session", "edit", "--demo", "--session", "DMZ-IDS", "--remove-source", "2258")
    assert code == 2 and "'2258' is not a source" in err
    code, _, err = run(capsys, "session", "edit", "--demo", "--session", "1", "--remove-dest-ip", "192.0.2.1")
    assert code == 2 and "destination IP '192.0.2.1' is not in this session" in err


# -- edit, enable, disable, delete ------------------------------------------------------------


def test_edit_keeps_untouched_fields(capsys: pytest.CaptureFixture[str]) -> None:
    stored = demo_session("RSPAN-Core")
    code, result = run_json(capsys, "session", "edit", "--demo", "--session", "RSPAN-Core", "--name", "RSPAN core 2")
    assert code == 0 and result["ok"] and result["sent"]
    assert result["change"]["operation"] == "edit"
    expected = stored.to_api() | {"name": "RSPAN core 2"}
    assert result["change"]["session"] == expected
    # Disabled, original VLAN preserved, sampling 1, encapsulation 310 and the uplink all stay.
    s = result["change"]["session"]
    assert s["enabled"] is False and s["stripOriginalVlan"] is False and s["samplingRate"] == 1
    assert s["encapsulationVlanId"] == 310 and s["destinationPort"]["uplinkPortName"] == ["dvUplink4"]
    assert result["stored"] == expected
    [entry] = audit_entries()
    assert entry["result"] == "ok" and entry["changes"][0]["operation"] == "edit"


def test_edit_endpoints_replace_add_remove(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["session", "edit", "--demo", "--session", "DMZ-IDS", "--dry-run"]

    def lists(*args: str) -> tuple[list[str], list[str], list[str]]:
        code, result = run_json(capsys, *base, *args)
        assert code == 0, result["problems"]
        s = result["change"]["session"]
        return (
            s["sourcePortReceived"]["portKey"],
            s["sourcePortTransmitted"]["portKey"],
            s["destinationPort"]["portKey"],
        )

    assert lists("--source", "450:ingress") == (["450"], [], ["2241"])
    assert lists("--add-source", "450:egress") == (["448", "449"], ["448", "449", "450"], ["2241"])
    assert lists("--add-source", "449:ingress") == (["448", "449"], ["448"], ["2241"])
    assert lists("--remove-source", "WEB-DMZ02") == (["448"], ["448"], ["2241"])
    assert lists("--dest", "2242") == (["448", "449"], ["448", "449"], ["2242"])
    assert lists("--add-dest", "2242") == (["448", "449"], ["448", "449"], ["2241", "2242"])
    assert lists("--clear-sources", "--add-source", "102") == (["102"], ["102"], ["2241"])


def test_edit_clears_optional_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snap = _snapshot_with(
        tmp_path,
        {
            "key": "7",
            "name": "Legacy",
            "enabled": True,
            "sessionType": "mixedDestMirror",
            "sourcePortReceived": {"portKey": ["450"]},
            "destinationPort": {"portKey": ["2243"]},
            "encapsulationVlanId": 205,
            "mirroredPacketLength": 60,
            "samplingRate": 1,
        },
    )
    base = ["session", "edit", "--snapshot", str(snap), "--session", "Legacy", "--dry-run"]
    code, result = run_json(capsys, *base, "--no-length", "--no-encap-vlan")
    assert code == 0
    s = result["change"]["session"]
    assert s["mirroredPacketLength"] is None and s["encapsulationVlanId"] is None
    # The legacy type cannot carry samplingRate: an edit never sends a stored one.
    assert s["samplingRate"] is None
    code, result = run_json(capsys, *base, "--type", "dvPortMirror", "--sampling-rate", "10", "--normal-io")
    s = result["change"]["session"]
    assert code == 0 and s["sessionType"] == "dvPortMirror" and s["samplingRate"] == 10
    assert s["normalTrafficAllowed"] is True and s["mirroredPacketLength"] == 60


def test_edit_to_legacy_type_drops_the_sampling_rate(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo_session("DMZ-IDS").sampling_rate == 1
    code, result = run_json(
        capsys, "session", "edit", "--demo", "--session", "DMZ-IDS", "--type", "mixedDestMirror", "--dry-run"
    )
    assert code == 0 and result["ok"]
    assert result["change"]["session"]["samplingRate"] is None


def test_edit_that_breaks_a_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run_json(capsys, "session", "edit", "--demo", "--session", "DMZ-IDS", "--add-dest", "448")
    assert code == 1 and ("VspanSameSessionPortConflict", "destinationPort") in errors(result)
    assert audit_entries() == []


@pytest.mark.parametrize(("action", "session", "enabled"), [("enable", "RSPAN-Core", True), ("disable", "1", False)])
def test_enable_disable(capsys: pytest.CaptureFixture[str], action: str, session: str, enabled: bool) -> None:
    stored = demo_session("RSPAN-Core" if session == "RSPAN-Core" else "DMZ-IDS")
    code, result = run_json(capsys, "session", action, "--demo", "--session", session)
    assert code == 0 and result["ok"] and result["sent"]
    assert result["change"]["operation"] == "edit"
    assert result["change"]["session"] == stored.to_api() | {"enabled": enabled}
    assert result["stored"]["enabled"] is enabled
    assert [e["result"] for e in audit_entries()] == ["ok"]


def test_enable_an_enabled_session_sends_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run_json(capsys, "session", "enable", "--demo", "--session", "DMZ-IDS")
    assert code == 0 and result["ok"] is True and result["sent"] is False and result["problems"] == []
    assert audit_entries() == []
    code, out, _ = run(capsys, "session", "enable", "--demo", "--session", "DMZ-IDS")
    assert code == 0 and "Nothing to change" in out


def test_delete(capsys: pytest.CaptureFixture[str]) -> None:
    stored = demo_session("DMZ-IDS")
    code, result = run_json(capsys, "session", "delete", "--demo", "--session", "dmz-ids")  # names ignore case
    assert code == 0 and result["ok"] and result["sent"]
    assert result["change"] == {"operation": "remove", "switch": "dvSwitchCloud", "session": stored.to_api()}
    assert result["stored"] is None
    [entry] = audit_entries()
    assert entry["result"] == "ok" and entry["vcenter"] == "vcsa01.lab.local (demo lab)"
    assert entry["changes"][0]["operation"] == "remove" and entry["changes"][0]["session"]["key"] == "1"


@pytest.mark.parametrize(
    ("extra", "switch", "message"),
    [
        ([], "", "No switch has a session with key or name 'nope'"),
        (["--switch", "dvSwitchCloud"], "dvSwitchCloud", "Switch dvSwitchCloud has no session"),
        (["--switch", "dvSwitchMgmt"], "dvSwitchMgmt", "Switch dvSwitchMgmt has no session"),
    ],
)
def test_unknown_session_is_not_found_exit_1(
    capsys: pytest.CaptureFixture[str], extra: list[str], switch: str, message: str
) -> None:
    """Decision: an unknown session is vCenter's NotFound (V15), a problem (exit 1), not a usage error."""
    ref = "nope" if not extra else "1" if switch == "dvSwitchMgmt" else "nope"
    for action in ("delete", "enable", "disable"):
        code, result = run_json(capsys, "session", action, "--demo", "--session", ref, *extra)
        assert code == 1 and result["ok"] is False and result["sent"] is False
        assert errors(result) == [("NotFound", "key")]
        assert message in result["problems"][0]["message"]
        assert result["change"]["switch"] == switch and result["change"]["session"]["key"] == ref
    code, out, _ = run(capsys, "session", "delete", "--demo", "--session", ref, *extra)
    assert code == 1 and "NotFound" in out and "Nothing was sent." in out
    assert audit_entries() == []


def _snapshot_with(tmp_path: Path, *sessions: dict[str, Any], mgmt: Sequence[dict[str, Any]] = ()) -> Path:
    data = dump_inventory(SnapshotBackend().load())
    for sw in data["switches"]:
        if sw["name"] == "dvSwitchCloud":
            sw["sessions"] += list(sessions)
        else:
            sw["sessions"] += list(mgmt)
    path = tmp_path / "lab.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_ambiguous_session_names_and_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snap = _snapshot_with(
        tmp_path,
        {"key": "5", "name": "DMZ-IDS", "sessionType": "dvPortMirror"},
        mgmt=[{"key": "1", "name": "Mgmt one", "sessionType": "dvPortMirror"}],
    )
    code, out, err = run(capsys, "session", "delete", "--snapshot", str(snap), "--session", "DMZ-IDS")
    assert code == 2 and out == ""
    assert "name 'DMZ-IDS' matches 2 sessions" in err
    assert "key 1  DMZ-IDS  on dvSwitchCloud" in err and "key 5  DMZ-IDS  on dvSwitchCloud" in err
    # A key wins over a name; a key on two switches needs --switch.
    code, _, err = run(capsys, "session", "delete", "--snapshot", str(snap), "--session", "1")
    assert code == 2 and "key '1' matches 2 sessions" in err and "on dvSwitchMgmt" in err
    code, result = run_json(
        capsys, "session", "delete", "--snapshot", str(snap), "--session", "1", "--switch", "dvSwitchMgmt"
    )
    assert code == 0 and result["change"]["session"]["name"] == "Mgmt one"
    assert result["change"]["switch"] == "dvSwitchMgmt"
    code, result = run_json(capsys, "session", "delete", "--snapshot", str(snap), "--session", "5")
    assert code == 0 and result["change"]["session"]["key"] == "5"
    entries = audit_entries()
    assert [e["changes"][0]["session"]["key"] for e in entries] == ["1", "5"]
    assert {e["vcenter"] for e in entries} == {"vcsa01.lab.local (snapshot lab.json)"}


def test_read_only_is_refused_and_recorded(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run_json(capsys, "session", "disable", "--demo", "--read-only", "--session", "DMZ-IDS")
    assert code == 1 and result["ok"] is False and result["sent"] is False
    assert errors(result) == [("ReadOnly", "")]
    assert [e["result"] for e in audit_entries()] == ["refused"]
    # A dry run is fine in read-only mode.
    code, result = run_json(capsys, "session", "disable", "--demo", "--read-only", "--session", "1", "--dry-run")
    assert code == 0 and result["ok"]


# -- faults from the backend --------------------------------------------------------------------


class _FaultyBackend(SnapshotBackend):
    """The demo lab, with an ``apply`` that fails like vCenter would."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error
        self.calls = 0

    def apply(self, inventory: Inventory, switch_key: str, changes: Sequence[SessionChange]) -> Any:
        self.calls += 1
        raise self.error


def _with_backend(monkeypatch: pytest.MonkeyPatch, backend: SnapshotBackend) -> None:
    def make(args: argparse.Namespace, environ: Any, interactive: bool, tui: bool = False) -> SnapshotBackend:
        return backend

    monkeypatch.setattr(entry, "make_backend", make)


def test_vcenter_fault_is_exit_4_with_the_fault_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fault = ChangeRefused(
        "vCenter refused the change: no",
        [Problem("NoPermission", "You lack the DVSwitch.Vspan privilege on this switch.")],
        sent=True,
    )
    backend = _FaultyBackend(fault)
    _with_backend(monkeypatch, backend)
    code, result = run_json(capsys, "session", "create", *WALKTHROUGH)
    assert code == 4 and backend.calls == 1
    assert result["ok"] is False and result["sent"] is True and result["stored"] is None
    assert errors(result) == [("NoPermission", "")]
    assert [e["result"] for e in audit_entries()] == ["fault"]
    code, out, _ = run(capsys, "session", "create", *WALKTHROUGH)
    assert code == 4 and "vCenter refused the change" in out and "NoPermission" in out


def test_connection_lost_while_sending_is_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _with_backend(monkeypatch, _FaultyBackend(ConnectionFailed("connection reset by vcsa01")))
    code, out, err = run(capsys, "session", "delete", "--session", "DMZ-IDS", "--json")
    # The result is still printed for scripts: not applied, and (a failure before sending) not sent.
    result = json.loads(out)
    assert code == 3 and result["ok"] is False and result["sent"] is False and result["stored"] is None
    assert errors(result) == [("ConnectionFailed", "")]
    assert "connection reset by vcsa01" in err
    [entry] = audit_entries()
    assert entry["result"] == "error" and entry["problems"][0]["code"] == "ConnectionFailed"


# -- sessions ----------------------------------------------------------------------------------


def test_sessions_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sessions", "--demo", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["switch"], r["key"], r["name"]) for r in rows] == [
        ("dvSwitchCloud", "1", "DMZ-IDS"),
        ("dvSwitchCloud", "2", "RSPAN-Core"),
    ]
    dmz, rspan = rows
    assert list(dmz)[: len(SESSION_API_KEYS)] == SESSION_API_KEYS
    assert {k: dmz[k] for k in SESSION_API_KEYS} == demo_session("DMZ-IDS").to_api()
    assert dmz["sessionType"] == "dvPortMirror" and dmz["typeLabel"] == "Distributed Port Mirroring"
    assert dmz["sourcePortTransmitted"]["portKey"] == ["448", "449"]
    assert dmz["destinationPort"] == {"portKey": ["2241"], "uplinkPortName": [], "vlans": [], "ipAddress": []}
    assert dmz["portLabels"]["448"] == "F5-LTM01 / Network adapter 2"
    assert {w["code"] for w in dmz["warnings"]} == {"CrossHostMirror"}
    assert set(dmz["warnings"][0]) == {"code", "severity", "field", "message"}
    assert rspan["sessionType"] == "remoteMirrorSource" and rspan["enabled"] is False
    assert rspan["encapsulationVlanId"] == 310
    assert rspan["destinationPort"]["uplinkPortName"] == ["dvUplink4"]


def test_sessions_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sessions", "--demo")
    assert code == 0
    for text in (
        "DMZ-IDS",
        "RSPAN-Core",
        "Distributed Port Mirroring",
        "Remote Mirroring Source",
        "disabled",
        "448 · F5-LTM01 / Network adapter 2 (ingress+egress)",
        "2241 · IDS-SENSOR01 / Network adapter 2",
        "104 · WEB04 / Network adapter 1 (ingress)",
        "uplink dvUplink4",
        "encap VLAN 310",
        "2 sessions",
        "Warnings of 1 (DMZ-IDS) on dvSwitchCloud:",
        "CrossHostMirror",
    ):
        assert text in out, text


def test_sessions_of_one_switch(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sessions", "--demo", "--switch", "dvSwitchMgmt", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = run(capsys, "sessions", "--demo", "--switch", "dvSwitchMgmt")
    assert code == 0 and "No port mirroring sessions on dvSwitchMgmt." in out
    code, _, err = run(capsys, "sessions", "--demo", "--switch", "nope")
    assert code == 2 and "no switch called 'nope'" in err


def test_sessions_render_hostile_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snap = _snapshot_with(
        tmp_path,
        {"key": "9", "name": "[bold]x[/] ünï", "sessionType": "remoteMirrorDest",
         "sourcePortReceived": {"vlans": [0, 1100]}, "destinationPort": {"portKey": ["2250"]}},
    )  # fmt: skip
    code, out, _ = run(capsys, "sessions", "--snapshot", str(snap))
    assert code == 0 and "[bold]x[/] ünï" in out and "VLAN 0" in out and "VLAN 1100" in out


# -- help ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["sessions"],
        ["session"],
        ["session", "create"],
        ["session", "edit"],
        ["session", "enable"],
        ["session", "disable"],
        ["session", "delete"],
    ],
    ids=lambda a: " ".join(a),
)
def test_help(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"], environ={})
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: dvmirror {' '.join(argv)}")
    assert "--demo" in out and "exit codes" in out
    if argv[-1] in ("create", "edit"):
        for flag in ("--source PORT[:DIR]", "--dest-uplink", "--encap-vlan", "--erspan-ns", "--sampling-rate"):
            assert flag in out
    if argv[-1] == "edit":
        assert "--no-length" in out and "--add-source" in out and "--clear-dests" in out
    if argv[-1] in ("edit", "enable", "disable", "delete"):
        assert "--session NAME_OR_KEY" in out
