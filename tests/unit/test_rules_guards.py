"""The guard rails (tui/rules_guards.py), table-driven on the demo lab.

Port 16 is esx-01's vmk0 on dvSwitchCloud (connectee ``hostVmkVnic``), 448 is F5-LTM01's NIC.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.conftest import CLOUD
from tui import rules, rules_guards
from tui.backends.snapshot import SnapshotBackend
from tui.model import (
    ChangeOperation,
    Inventory,
    MirrorSession,
    Problem,
    SessionChange,
    SessionType,
    Severity,
    VspanPorts,
)

ERSPAN = SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE.value
VMK, VM_PORT = "16", "448"


@pytest.fixture(scope="module")
def inv() -> Inventory:
    return SnapshotBackend().load()


def session(kind: str, rx: tuple[str, ...] = (), tx: tuple[str, ...] = (), **fields: object) -> MirrorSession:
    dest = (
        VspanPorts(ip_addresses=("192.0.2.10",))
        if kind == ERSPAN
        else VspanPorts(uplink_names=("dvUplink1",))
        if kind == SessionType.REMOTE_MIRROR_SOURCE.value
        else VspanPorts(port_keys=("2258",))
    )
    return MirrorSession(
        name=str(fields.pop("name", "guarded")),
        session_type=kind,
        source_rx=VspanPorts(port_keys=rx),
        source_tx=VspanPorts(port_keys=tx),
        destination=dest,
        encapsulation_vlan_id=3001 if kind == SessionType.REMOTE_MIRROR_SOURCE.value else None,
        **fields,  # type: ignore[arg-type]
    )


def guards(problems: list[Problem]) -> list[tuple[str, Severity, str]]:
    return [(p.code, p.severity, p.field) for p in problems if p.code in rules.GUARD_CODES]


CASES = [
    ("ERSPAN, vmk both ways", session(ERSPAN, (VMK,), (VMK,)), [("VmkernelSourceLoop", Severity.ERROR, "source_rx")]),
    ("ERSPAN, vmk egress only", session(ERSPAN, (), (VMK,)), [("VmkernelSourceLoop", Severity.ERROR, "source_tx")]),
    (
        "ERSPAN, vmk among VM ports",
        session(ERSPAN, (VM_PORT, VMK)),
        [("VmkernelSourceLoop", Severity.ERROR, "source_rx")],
    ),
    (
        "ERSPAN on the mirror stack",
        session(ERSPAN, (VMK,), netstack="mirror"),
        [("VmkernelSourceLoop", Severity.WARNING, "netstack")],
    ),
    (
        "ERSPAN disabled: kept, disabled or removed, never refused",
        session(ERSPAN, (VMK,), enabled=False),
        [("VmkernelSourceLoop", Severity.WARNING, "enabled")],
    ),
    ("ERSPAN, VM port", session(ERSPAN, (VM_PORT,), (VM_PORT,)), []),
    ("RSPAN source, vmk (KB 327931 is L3 only)", session(SessionType.REMOTE_MIRROR_SOURCE.value, (VMK,)), []),
    ("Distributed Port Mirroring, vmk", session(SessionType.DV_PORT_MIRROR.value, (VMK,)), []),
]


@pytest.mark.parametrize(("case", "s", "expected"), CASES, ids=[c[0] for c in CASES])
def test_vmkernel_source_loop(inv: Inventory, case: str, s: MirrorSession, expected: list[object]) -> None:
    assert guards(rules.check(inv, CLOUD, [SessionChange(ChangeOperation.ADD, s)])) == expected
    # An existing session is shown with the same guard (the loop is doing harm now).
    assert guards(rules.session_warnings(inv, CLOUD, s)) == expected


ALLOW = ["DMZ-IDS", "F5 DMZ to monitor"]
NAMED = [
    ("not configured", None, "anything", []),
    ("on the list", ALLOW, "F5 DMZ to monitor", []),
    (
        "not on the list",
        ALLOW,
        "f5 dmz to monitor",
        [("NotOnAllowList", Severity.WARNING, "name")],
    ),  # exact, as the STIG
    ("no name", ALLOW, "", [("NotOnAllowList", Severity.WARNING, "name")]),
    ("empty list: nothing allowed", [], "DMZ-IDS", [("NotOnAllowList", Severity.WARNING, "name")]),
]


@pytest.mark.parametrize(("case", "allow", "name", "expected"), NAMED, ids=[c[0] for c in NAMED])
def test_allow_list(inv: Inventory, case: str, allow: list[str] | None, name: str, expected: list[object]) -> None:
    s = session(SessionType.DV_PORT_MIRROR.value, (VM_PORT,), name=name)
    change = [SessionChange(ChangeOperation.ADD, s)]
    assert guards(rules.check(inv, CLOUD, change, allow_list=allow)) == expected
    assert guards(rules.session_warnings(inv, CLOUD, s, allow_list=allow)) == expected


def test_the_loop_message_says_why_and_what_to_do(inv: Inventory) -> None:
    (p,) = [x for x in rules.check(inv, CLOUD, [SessionChange(ChangeOperation.ADD, session(ERSPAN, (VMK,)))])
            if x.code == "VmkernelSourceLoop"]  # fmt: skip
    assert "port 16 (esx-01 vmk0)" in p.message and "KB 327931" in p.message
    assert "Mirror VM ports instead" in p.message and "'mirror'" in p.message


def with_nsx(inv: Inventory, port_key: str) -> Inventory:
    """``inv`` with the portgroup of port ``port_key`` on dvSwitchCloud backed by NSX."""
    port = inv.port(CLOUD, port_key)
    assert port is not None and port.portgroup
    pg = inv.portgroups[port.portgroup]
    return replace(inv, portgroups={**inv.portgroups, pg.key: replace(pg, nsx=True)})


def test_nsx_ports_are_said_for_each_list(inv: Inventory) -> None:
    nsx = with_nsx(inv, VM_PORT)
    s = session(SessionType.DV_PORT_MIRROR.value, (VM_PORT,), (VM_PORT,))
    found = [p for p in rules.check(nsx, CLOUD, [SessionChange(ChangeOperation.ADD, s)]) if p.code == "NsxPort"]
    assert [(p.field, p.severity) for p in found] == [
        ("source_rx", Severity.WARNING),
        ("source_tx", Severity.WARNING),
    ]
    assert "Port 448 (F5-LTM01 / Network adapter 2) is an NSX port" in found[0].message
    assert "NSX port mirroring applies to it instead" in found[0].message
    dest = with_nsx(inv, "2258")
    found = [p for p in rules.session_warnings(dest, CLOUD, s) if p.code == "NsxPort"]
    assert [p.field for p in found] == ["destination"]
    assert not [p for p in rules.session_warnings(inv, CLOUD, s) if p.code == "NsxPort"]  # not NSX: nothing


def test_stig_inputs_give_back_every_name_exactly() -> None:
    import yaml

    names = ["DMZ-IDS", "vm[prod]", "[/x]", 'say "hi"\n\x1b[31m', "{{ lookup('pipe', 'id') }}", "- not a list item"]
    text = rules_guards.stig_inputs("vc\x1b01", names)
    assert "\x1b" not in text and "vc\\x1b01" in text  # the comment shows the vCenter escaped
    assert yaml.safe_load(text) == {"vcenter_portMirrorSessions": names}
    assert yaml.safe_load(rules_guards.stig_inputs("vc", [])) == {"vcenter_portMirrorSessions": []}


def test_allow_list_cli_prints_the_demo_names(capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    from tui.__main__ import main

    assert main(["sessions", "--demo", "--allow-list"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == {"vcenter_portMirrorSessions": ["DMZ-IDS", "RSPAN-Core"]}
    assert main(["sessions", "--demo", "--allow-list", "--history"]) == 2
    assert "give one of them" in capsys.readouterr().err


def test_cli_warns_of_a_name_off_the_configured_allow_list(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    from pathlib import Path

    from tui.__main__ import main

    cfg = Path(str(tmp_path)) / "config.toml"
    cfg.write_text('allowed_sessions = ["DMZ-IDS", "F5 DMZ to monitor"]\n', encoding="utf-8")
    base = ["session", "create", "--demo", "--config", str(cfg), "--source", "450", "--dest", "2258", "--dry-run"]
    assert main([*base, "--name", "adhoc", "--json"]) == 0  # a warning: allowed, said
    codes = [p["code"] for p in json.loads(capsys.readouterr().out)["problems"]]
    assert "NotOnAllowList" in codes
    assert main([*base, "--name", "F5 DMZ to monitor", "--json"]) == 0
    assert "NotOnAllowList" not in [p["code"] for p in json.loads(capsys.readouterr().out)["problems"]]
