"""``dvmirror sessions --history`` against the vcsim test server: vCenter's DvsReconfiguredEvent
events of changes made through the CLI and from a second pyVmomi client, dvmirror's audit log
matched to them, ``--since``, and the exit codes.
"""

from __future__ import annotations

import datetime
import socket
import time
from typing import Any

import pytest

pytest.importorskip("pyVmomi")

from pyVim.task import WaitForTask  # noqa: E402
from pyVmomi import vim  # noqa: E402

from tests.helpers import WALKTHROUGH_FLAGS, WALKTHROUGH_SWITCH, run_cli, run_cli_json  # noqa: E402
from tests.integration.test_vcsim_updates import add_session, switch  # noqa: E402
from tui.__main__ import main  # noqa: E402
from tui.audit import AuditLog  # noqa: E402

pytestmark = pytest.mark.vcsim

CLOUD = WALKTHROUGH_SWITCH
VS = vim.dvs.VmwareDistributedVirtualSwitch


def conn(server: Any) -> list[str]:
    return ["--server", server.url, "--user", server.user, "--password", server.password]


def rename(dvs: Any, key: str, name: str) -> None:
    """A second client's partial edit: only the key, the name and the three required flags."""
    stored = next(s for s in dvs.config.vspanSession if s.key == key)
    session = VS.VspanSession(
        key=key,
        name=name,
        enabled=stored.enabled,
        stripOriginalVlan=stored.stripOriginalVlan,
        normalTrafficAllowed=stored.normalTrafficAllowed,
    )
    spec = VS.ConfigSpec(
        configVersion=dvs.config.configVersion,
        vspanConfigSpec=[VS.VspanConfigSpec(operation="edit", vspanSession=session)],
    )
    WaitForTask(dvs.ReconfigureDvs_Task(spec))


def test_history_lists_cli_and_second_client_changes_with_ours_marked(
    start_vcsim: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim()
    c = conn(server)
    code, created, _ = run_cli_json(capsys, "session", "create", "--switch", CLOUD, *WALKTHROUGH_FLAGS, *c)
    assert code == 0, created
    key = created["change"]["session"]["key"]
    code, _, _ = run_cli_json(capsys, "session", "disable", "--session", key, "--switch", CLOUD, *c)
    assert code == 0
    time.sleep(1.1)  # the audit log's times are whole seconds
    between = datetime.datetime.now(datetime.UTC)
    other = server.connect()
    add_session(switch(other), "second-client")
    rename(switch(other), key, "renamed elsewhere")
    code, _, _ = run_cli_json(capsys, "session", "delete", "--session", key, "--switch", CLOUD, *c)
    assert code == 0

    code, rows, err = run_cli_json(capsys, "sessions", "--history", "--switch", CLOUD, *c)
    assert code == 0, err
    assert [(r["operation"], r["name"], r["ours"]) for r in rows] == [
        ("add", created["change"]["session"]["name"], True),
        ("edit", created["change"]["session"]["name"], True),
        ("add", "second-client", False),
        ("edit", "renamed elsewhere", False),
        ("remove", "renamed elsewhere", True),
    ]
    assert [r["key"] for r in rows if r["name"] != "second-client"] == [key] * 4
    second = next(s.key for s in switch(other).config.vspanSession if s.name == "second-client")
    assert rows[2]["key"] == second  # an add's key, from the switch's session of that name
    assert {r["user"] for r in rows} == {server.user}
    assert {r["source"] for r in rows} == {"event"} and {r["result"] for r in rows} == {"ok"}
    assert all(r["switch"] == CLOUD and r["event"] and "dvSwitchCloud" in r["message"] for r in rows)
    times = [datetime.datetime.fromisoformat(r["time"]) for r in rows]
    assert times == sorted(times) and all(t.tzinfo == datetime.UTC for t in times)
    assert rows[1]["change"] == "enabled: true → false"  # known from the add before it
    assert rows[3]["change"] == f"name: {created['change']['session']['name']} → renamed elsewhere"
    assert rows[3]["fields"] == sorted(["key", "name", "enabled", "stripOriginalVlan", "normalTrafficAllowed"])
    assert rows[4]["change"] == "removed" and rows[4]["session"] is None
    assert rows[0]["session"] == {**created["change"]["session"], "key": key}

    since = between.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    code, later, _ = run_cli_json(capsys, "sessions", "--history", "--switch", CLOUD, "--since", since, *c)
    assert code == 0 and [(r["operation"], r["ours"]) for r in later] == [
        ("add", False),
        ("edit", False),
        ("remove", True),
    ]

    code, out, err = run_cli(capsys, "sessions", "--history", "--switch", CLOUD, *c)
    assert code == 0 and err == ""
    assert "renamed elsewhere" in out and "second-client" in out and out.count("dvmirror") == 3
    assert "5 changes on dvSwitchCloud since" in out


def test_history_of_every_switch_and_an_empty_one(start_vcsim: Any, capsys: pytest.CaptureFixture[str]) -> None:
    server = start_vcsim()
    c = conn(server)
    code, rows, _ = run_cli_json(capsys, "sessions", "--history", *c)
    assert code == 0 and rows == []
    code, out, _ = run_cli(capsys, "sessions", "--history", "--since", "30m", *c)
    assert code == 0 and "No mirror session changes since" in out
    add_session(switch(server.connect()), "evented")
    code, rows, _ = run_cli_json(capsys, "sessions", "--history", "--since", "1h", *c)
    assert code == 0 and [(r["switch"], r["operation"], r["name"], r["ours"]) for r in rows] == [
        (CLOUD, "add", "evented", False)
    ]
    assert rows[0]["change"].startswith("created (")


def test_refused_attempts_are_listed_from_the_audit_log(start_vcsim: Any, capsys: pytest.CaptureFixture[str]) -> None:
    server = start_vcsim()
    c = conn(server)
    # Read-only mode: handed to the backend, refused there, recorded as "refused"; vCenter has no event.
    code, result, _ = run_cli_json(
        capsys, "session", "create", "--switch", CLOUD, *WALKTHROUGH_FLAGS, "--read-only", *c
    )
    assert code == 1 and result["problems"][0]["code"] == "ReadOnly"
    assert [e["result"] for e in AuditLog().entries()] == ["refused"]
    code, rows, _ = run_cli_json(capsys, "sessions", "--history", "--switch", CLOUD, *c)
    assert code == 0
    assert [(r["operation"], r["key"], r["source"], r["result"], r["ours"]) for r in rows] == [
        ("add", None, "audit", "refused", True)
    ]
    assert rows[0]["change"].startswith("refused (dvmirror only): created (")
    code, out, _ = run_cli(capsys, "sessions", "--history", "--switch", CLOUD, *c)
    assert code == 0 and "dvmirror (refused)" in out


def test_history_unreachable_is_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = main(
        ["sessions", "--history", "--server", f"http://127.0.0.1:{port}/sdk", "--user", "u", "--password", "p",
         "--json"],
        environ={},
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 3 and out == "" and err
