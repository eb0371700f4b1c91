"""Sessions that drift (tui.drift) and their baselines file (tui.drift_store), on the demo lab."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import CLOUD, port
from tests.helpers import WALKTHROUGH_MODERN, run_cli, run_cli_json
from tui import drift
from tui.drift_store import BaselineStore, default_path, parse
from tui.model import Connectee, ConnecteeType, Inventory, MirrorSession, Problem, Severity, VspanPorts

MGT = "vm-1002"  # MGTSRVR003UX: Network adapter 2 (4001) on port 2258, host-21 (esx-03)
FREE = "2240"  # a free port of the dvPgMirror portgroup (2258's)


def _rebuild(
    inv: Inventory, *, vms: dict[str, object] | None = None, ports: dict[str, object] | None = None
) -> Inventory:
    """The inventory with some VMs and ports of dvSwitchCloud replaced (``None``: removed), indexes rebuilt."""
    new_vms = {**inv.vms, **(vms or {})}
    new_ports = dict(inv.ports)
    for key, p in (ports or {}).items():
        if p is None:
            del new_ports[(CLOUD, key)]
        else:
            new_ports[(CLOUD, key)] = p  # type: ignore[assignment]
    return Inventory.build(
        vcenter=inv.vcenter,
        source=inv.source,
        datacenters=inv.datacenters,
        hosts=list(inv.hosts.values()),
        switches=list(inv.switches.values()),
        portgroups=list(inv.portgroups.values()),
        ports=list(new_ports.values()),
        vms=[v for v in new_vms.values() if v is not None],  # type: ignore[misc]
    )


def _with_session(inv: Inventory, s: MirrorSession) -> tuple[Inventory, MirrorSession]:
    s = replace(s, key="9")
    sw = inv.switches[CLOUD]
    return inv.with_switch(replace(sw, sessions=(*sw.sessions, s))), s


def _vmotion(inv: Inventory, vm_key: str, host: str) -> Inventory:
    vm = inv.vms[vm_key]
    moved = {n.port: replace(port(inv, n.port), host=host) for n in vm.nics if n.port}
    return _rebuild(inv, vms={vm_key: replace(vm, host=host)}, ports=moved)  # type: ignore[arg-type]


def _reconnect(inv: Inventory, new_port: str) -> Inventory:
    """MGTSRVR003UX's Network adapter 2 reconnected from port 2258 to ``new_port``."""
    vm = inv.vms[MGT]
    nics = tuple(replace(n, port=new_port) if n.key == 4001 else n for n in vm.nics)
    old, new = port(inv, "2258"), port(inv, new_port)
    return _rebuild(
        inv,
        vms={MGT: replace(vm, nics=nics)},
        ports={
            "2258": replace(old, connectee=None, link_up=False),
            new_port: replace(
                new, connectee=Connectee(ConnecteeType.VM_VNIC, MGT, "4001"), host=old.host, link_up=True
            ),
        },
    )


def _codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


# -- drift() -----------------------------------------------------------------------------------


def test_no_drift_while_nothing_changed(demo: Inventory) -> None:
    inv, s = _with_session(demo, WALKTHROUGH_MODERN)
    base = drift.baseline_of(inv, CLOUD, s)
    assert [e.port for e in base.endpoints] == ["448", "2258"]
    dest = base.endpoint("2258")
    assert dest is not None and (dest.vm, dest.vm_key, dest.nic_key, dest.nic, dest.host_name) == (
        "MGTSRVR003UX",
        MGT,
        "4001",
        "Network adapter 2",
        "esx-03",
    )
    assert drift.drift(base, inv, CLOUD, s) == []
    assert drift.check_session(base, inv, CLOUD, s) == []


def test_port_gone(demo: Inventory) -> None:
    inv, s = _with_session(demo, WALKTHROUGH_MODERN)
    base = drift.baseline_of(inv, CLOUD, s)
    after = _rebuild(inv, ports={"2258": None})
    problems = drift.drift(base, after, CLOUD, s)
    assert _codes(problems) == ["EndpointGone"]
    p = problems[0]
    assert (p.field, p.severity) == ("destination", Severity.WARNING)
    assert "Port 2258 (destination) no longer exists on dvSwitchCloud" in p.message
    assert "MGTSRVR003UX / Network adapter 2" in p.message


def test_another_nic_on_the_port(demo: Inventory) -> None:
    inv, s = _with_session(demo, WALKTHROUGH_MODERN)
    base = drift.baseline_of(inv, CLOUD, s)
    # F5-LTM01's Network adapter 1 (key 4000) is now the connectee of port 2258, MGTSRVR003UX's NIC on no port.
    mgt = inv.vms[MGT]
    f5 = inv.vms["vm-1000"]
    after = _rebuild(
        inv,
        vms={
            MGT: replace(mgt, nics=tuple(replace(n, port="") if n.key == 4001 else n for n in mgt.nics)),
            "vm-1000": replace(f5, nics=tuple(replace(n, port="2258") if n.key == 4000 else n for n in f5.nics)),
        },
        ports={"2258": replace(port(inv, "2258"), connectee=Connectee(ConnecteeType.VM_VNIC, "vm-1000", "4000"))},
    )
    problems = drift.drift(base, after, CLOUD, s)
    assert _codes(problems) == ["EndpointChanged"]
    assert problems[0].message.startswith(
        "Port 2258 (destination) was MGTSRVR003UX / Network adapter 2, now F5-LTM01 / Network adapter 1"
    )


def test_reconnected_nic_moves(demo: Inventory) -> None:
    inv, s = _with_session(demo, WALKTHROUGH_MODERN)
    base = drift.baseline_of(inv, CLOUD, s)
    after = _reconnect(inv, FREE)
    problems = drift.drift(base, after, CLOUD, s)
    assert _codes(problems) == ["EndpointChanged", "EndpointMoved"]
    assert "Port 2258 (destination) was MGTSRVR003UX / Network adapter 2, now nothing" in problems[0].message
    assert problems[1].message.startswith(
        f"MGTSRVR003UX / Network adapter 2 is now on port {FREE}: the NIC was reconnected; "
        "edit the session to follow it"
    )
    assert all(p.field == "destination" and p.severity is Severity.WARNING for p in problems)
    # The rules add what needs no history: the destination has nothing connected.
    assert "DestinationNotConnected" in _codes(drift.check_session(base, after, CLOUD, s))


def test_vmotion_that_splits_a_dvportmirror_pair(demo: Inventory) -> None:
    inv, s = _with_session(demo, WALKTHROUGH_MODERN)
    base = drift.baseline_of(inv, CLOUD, s)
    after = _vmotion(inv, MGT, "host-16")
    problems = drift.drift(base, after, CLOUD, s)
    assert _codes(problems) == ["EndpointHostChanged"]
    p = problems[0]
    assert p.severity is Severity.WARNING and p.field == "destination"
    assert p.message.startswith("Destination MGTSRVR003UX (port 2258) moved to host esx-02 (from esx-03: a vMotion)")
    assert "Distributed Port Mirroring now mirrors nothing" in p.message
    found = drift.check_session(base, after, CLOUD, s)
    assert _codes(found) == ["EndpointHostChanged", "CrossHostMirror"]
    assert drift.counts(found)
    assert drift.notice(s, p).startswith("Session F5 DMZ to monitor: Destination MGTSRVR003UX (port 2258) moved")


def test_vmotion_that_splits_nothing_is_a_note(demo: Inventory) -> None:
    # Remote Mirroring Source: the destination is an uplink; a source on another host changes nothing.
    s = next(x for x in demo.switches[CLOUD].sessions if x.name == "RSPAN-Core")
    base = drift.baseline_of(demo, CLOUD, s)
    vm_key = port(demo, "104").connectee.entity  # type: ignore[union-attr]
    after = _vmotion(demo, vm_key, "host-26")
    problems = drift.check_session(base, after, CLOUD, s)
    assert _codes(problems) == ["EndpointHostChanged"]
    assert problems[0].severity is Severity.INFO and "esx-04" in problems[0].message
    assert not drift.counts(problems)


def test_both_ends_moved_together_is_a_note(demo: Inventory) -> None:
    inv, s = _with_session(demo, WALKTHROUGH_MODERN)
    base = drift.baseline_of(inv, CLOUD, s)
    after = _vmotion(_vmotion(inv, MGT, "host-16"), "vm-1000", "host-16")
    problems = drift.check_session(base, after, CLOUD, s)
    assert _codes(problems) == ["EndpointHostChanged", "EndpointHostChanged"]
    assert not drift.counts(problems)


def test_a_changed_session_is_a_note(demo: Inventory) -> None:
    inv, s = _with_session(demo, WALKTHROUGH_MODERN)
    base = drift.baseline_of(inv, CLOUD, s, "2026-12-01T10:00:00Z")
    edited = replace(s, destination=VspanPorts(port_keys=(FREE,)))
    problems = drift.drift(base, _rebuild(inv, ports={"2258": None}), CLOUD, edited)
    assert _codes(problems) == ["SessionChanged"]
    assert problems[0].severity is Severity.INFO and "(2026-12-01T10:00:00Z)" in problems[0].message


def test_codes_are_documented() -> None:
    assert set(drift.DRIFT_CODES) == {
        "EndpointGone",
        "EndpointChanged",
        "EndpointMoved",
        "EndpointHostChanged",
        "SessionChanged",
    }
    assert all(text.endswith(".") for text in drift.DRIFT_CODES.values())


# -- the baselines file ------------------------------------------------------------------------


def _store_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "session-baselines.json"


def test_default_path_is_in_the_state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_path() == tmp_path / "dvmirror" / "session-baselines.json"
    monkeypatch.setenv("DVMIRROR_BASELINES", str(tmp_path / "b.json"))
    assert default_path() == tmp_path / "b.json"


def test_first_check_records_then_a_later_run_compares(demo: Inventory, tmp_path: Path) -> None:
    path = _store_path(tmp_path)
    inv, s = _with_session(demo, WALKTHROUGH_MODERN)
    store = BaselineStore.open(path)
    first = store.check("vc", inv)
    assert first[(CLOUD, "9")] == []
    assert store.save() is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["version"] == 1 and set(data["vcenters"]["vc"][CLOUD]) == {"1", "2", "9"}
    # A second process, after the vMotion: compares with the first run's baseline.
    later = BaselineStore.open(path)
    found = later.check("vc", _vmotion(inv, MGT, "host-16"))
    assert _codes(found[(CLOUD, "9")]) == ["EndpointHostChanged", "CrossHostMirror"]
    assert later.save() is None  # nothing new: the baseline stays as first seen
    assert json.loads(path.read_text()) == data
    # Another vCenter's baselines are its own.
    assert BaselineStore.open(path).check("other", _vmotion(inv, MGT, "host-16"))[(CLOUD, "9")] == [
        p for p in found[(CLOUD, "9")] if p.code == "CrossHostMirror"
    ]


def test_edited_session_gets_a_new_baseline_and_one_note(demo: Inventory, tmp_path: Path) -> None:
    path = _store_path(tmp_path)
    inv, s = _with_session(demo, WALKTHROUGH_MODERN)
    store = BaselineStore.open(path)
    store.check("vc", inv)
    store.save()
    moved = _reconnect(inv, FREE)
    sw = moved.switches[CLOUD]
    followed = replace(s, destination=VspanPorts(port_keys=(FREE,)))
    edited = moved.with_switch(replace(sw, sessions=tuple(followed if x.key == "9" else x for x in sw.sessions)))
    store = BaselineStore.open(path)
    assert _codes(store.check("vc", edited)[(CLOUD, "9")]) == ["SessionChanged"]
    store.save()
    assert BaselineStore.open(path).check("vc", edited)[(CLOUD, "9")] == []


def test_deleted_session_loses_its_baseline(demo: Inventory, tmp_path: Path) -> None:
    path = _store_path(tmp_path)
    inv, _ = _with_session(demo, WALKTHROUGH_MODERN)
    store = BaselineStore.open(path)
    store.check("vc", inv)
    store.save()
    store = BaselineStore.open(path)
    store.check("vc", demo)
    store.save()
    assert set(json.loads(path.read_text())["vcenters"]["vc"][CLOUD]) == {"1", "2"}


def test_two_processes_keep_each_others_entries(demo: Inventory, tmp_path: Path) -> None:
    path = _store_path(tmp_path)
    a, b = BaselineStore.open(path), BaselineStore.open(path)
    a.check("vc-a", demo)
    b.check("vc-b", demo)
    assert a.save() is None and b.save() is None
    assert set(json.loads(path.read_text())["vcenters"]) == {"vc-a", "vc-b"}


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"[]",
        b'{"version": 2, "vcenters": {}}',
        b'{"version": 1, "vcenters": {"vc": {"sw": {"1": {"fingerprint": 5, "endpoints": []}}}}}',
        b'{"version": 1, "vcenters": {"vc": {"sw": {"1": {"fingerprint": "x", "endpoints": [{"port": ""}]}}}}}',
        b'{"version": 1, "vcenters": {"vc": []}}',
        b"\xff\xfe",
        b"[" * 100000,
    ],
)
def test_corrupt_file_is_set_aside(demo: Inventory, tmp_path: Path, content: bytes) -> None:
    path = _store_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    store = BaselineStore.open(path)
    assert store.baselines == {}
    assert "unreadable" in store.message and "set aside as session-baselines.json.corrupt-" in store.message
    aside = [p for p in path.parent.iterdir() if p.name.startswith("session-baselines.json.corrupt-")]
    assert len(aside) == 1 and aside[0].read_bytes() == content
    store.check("vc", demo)
    assert store.save() is None
    assert parse(path.read_text())["vc"]


def test_symlink_is_not_followed(demo: Inventory, tmp_path: Path) -> None:
    path = _store_path(tmp_path)
    path.parent.mkdir(parents=True)
    target = tmp_path / "elsewhere.json"
    target.write_text("keep")
    os.symlink(target, path)
    store = BaselineStore.open(path)
    assert "cannot be read" in store.message and store.path is None
    store.check("vc", demo)
    assert store.save() is None
    assert target.read_text() == "keep"


def test_in_memory_store_writes_nothing(demo: Inventory, tmp_path: Path) -> None:
    store = BaselineStore.open(None)
    assert _codes(store.check("vc", demo)[(CLOUD, "1")]) == ["CrossHostMirror"]
    assert store.save() is None
    assert not (tmp_path / "state").exists()


# -- dvmirror sessions --check on the demo lab ---------------------------------------------------


def test_cli_check_demo(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "sessions", "--demo", "--check")
    assert code == 1, err
    assert "1 (DMZ-IDS) on dvSwitchCloud: 1 problem" in out
    assert "warning CrossHostMirror [sourcePortReceived]" in out
    assert "2 (RSPAN-Core) on dvSwitchCloud: ok" in out
    assert "2 sessions checked, 1 with problems" in out
    assert err == ""


def test_cli_check_demo_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run_cli_json(capsys, "sessions", "--demo", "--check", "--json")
    assert code == 1
    assert data["ok"] is False and data["notice"] == ""
    rows = {r["name"]: r for r in data["sessions"]}
    assert set(rows) == {"DMZ-IDS", "RSPAN-Core"}
    assert [p["code"] for p in rows["DMZ-IDS"]["problems"]] == ["CrossHostMirror"]
    assert set(rows["DMZ-IDS"]["problems"][0]) == {"code", "severity", "field", "message"}
    assert rows["RSPAN-Core"]["problems"] == []
    # The rows are those of `sessions --json`, plus "problems".
    _, plain, _ = run_cli_json(capsys, "sessions", "--demo", "--json")
    assert [{k: v for k, v in r.items() if k != "problems"} for r in data["sessions"]] == plain


def test_cli_check_demo_writes_no_baselines(capsys: pytest.CaptureFixture[str]) -> None:
    run_cli(capsys, "sessions", "--demo", "--check")
    assert not default_path().exists()


def test_scope_is_the_sdk_url_without_credentials(demo: Inventory) -> None:
    from tui.config import Settings
    from tui.drift_store import scope

    assert scope(Settings(server="vc1", port=8443, user="u", password="secret"), demo) == "https://vc1:8443/sdk"
    assert scope(Settings(), demo) == demo.vcenter


def test_new_problems_are_told_once_and_a_vmotion_once(demo: Inventory) -> None:
    inv, s = _with_session(demo, WALKTHROUGH_MODERN)
    base = drift.baseline_of(inv, CLOUD, s)
    before = {(CLOUD, "9"): drift.check_session(base, inv, CLOUD, s)}
    moved = _vmotion(inv, MGT, "host-16")
    after = {(CLOUD, "9"): drift.check_session(base, moved, CLOUD, s)}
    assert [p.code for p in after[(CLOUD, "9")]] == ["EndpointHostChanged", "CrossHostMirror"]
    assert [(i, p.code) for i, p in drift.new_problems(before, after)] == [((CLOUD, "9"), "EndpointHostChanged")]
    assert drift.new_problems(after, after) == []
    # A CrossHostMirror without a vMotion of this session (the demo's DMZ-IDS, new here) is told.
    dmz = demo.switches[CLOUD].session("1")
    assert dmz is not None
    fresh = {(CLOUD, "1"): drift.check_session(None, demo, CLOUD, dmz)}
    assert [p.code for _, p in drift.new_problems({}, fresh)] == ["CrossHostMirror"]
    # Info notes are never told.
    note = {(CLOUD, "9"): [Problem("SessionChanged", "x", "", Severity.INFO)]}
    assert drift.new_problems({}, note) == []


def test_hostile_text_in_the_file_is_shown_harmlessly(demo: Inventory, tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from tui.cli_sessions.output import problem_line
    from tui.drift_store import dump

    dmz = demo.switches[CLOUD].session("1")
    assert dmz is not None
    evil = "\x1b]52;c;ZXZpbA==\x07EVIL\u202e"
    base = drift.baseline_of(demo, CLOUD, dmz)
    planted = tuple(replace(e, owner=evil, entity="vm-9") if e.port == "2241" else e for e in base.endpoints)
    path = _store_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(dump({"vc": {(CLOUD, "1"): replace(base, endpoints=planted)}}))
    found = BaselineStore.open(path).check("vc", demo)[(CLOUD, "1")]
    changed = next(p for p in found if p.code == "EndpointChanged")
    assert "EVIL" in changed.message
    out = io.StringIO()
    Console(file=out, force_terminal=True, width=200).print(problem_line(changed))
    shown = out.getvalue()
    assert "EVIL" in shown and "\\x1b]52;" in shown  # shown as text, escaped
    assert "\x07" not in shown and "\x1b]" not in shown and "\u202e" not in shown


def _live_changes(inv: Inventory) -> list[object]:
    """Changes as the update channel makes them, one after another: every VM on a session's port renamed,
    moved, its NIC reconnected; one VM renamed to a session VM's name; a session edited and one added."""
    from tui.inventory_update import Change

    hosts = sorted(inv.hosts)
    used = {k for sw in inv.switches.values() for s in sw.sessions for k in drift.session_port_keys(s)}
    session_vms = [v for v in inv.vms.values() if any(n.switch == CLOUD and n.port in used for n in v.nics) and v.nics]
    others = [v for v in inv.vms.values() if v not in session_vms and v.nics and all(n.port for n in v.nics)]
    out: list[object] = [Change(vms=(replace(others[0], name="elsewhere"),))]
    for i, vm in enumerate(session_vms):
        out.append(("rename", vm.key, f"{vm.name}-{i}"))
        out.append(("vmotion", vm.key, hosts[i % len(hosts)]))
        out.append(("reconnect", vm.key, ""))
    out.append(("rename", others[1].key, session_vms[0].name))  # takes a session VM's old name
    out.append(("edit", "1", "DMZ-IDS-edited"))
    nic = others[2].nics[0]
    free = next(
        p.key
        for p in inv.ports_by_portgroup[nic.portgroup]
        if p.connectee is None and (p.switch, p.key) not in inv.nic_by_port
    )
    out.append(("add", "77", free))  # a session to a free port...
    out.append(("onto", others[2].key, free))  # ...that another VM's NIC is then reconnected to
    return out


def _change_for(inv: Inventory, step: object) -> object:
    from tui.inventory_update import Change

    if not isinstance(step, tuple):
        return step
    verb, key, arg = step
    if verb in ("edit", "add"):
        sw = inv.switches[CLOUD]
        if verb == "edit":
            sessions = tuple(replace(s, name=arg) if s.key == key else s for s in sw.sessions)
        else:
            src = next(p.key for p in inv.ports_by_switch[CLOUD] if inv.vm_nic(p))
            added = MirrorSession(
                key=key, name="added", source_rx=VspanPorts(port_keys=(src,)), destination=VspanPorts(port_keys=(arg,))
            )
            sessions = (*sw.sessions, added)
        return Change(switches=(replace(sw, sessions=sessions, config_version=str(int(sw.config_version) + 1)),))
    vm = inv.vms[key]
    if verb == "rename":
        return Change(vms=(replace(vm, name=arg),))
    owned = [p for p in inv.ports.values() if (o := inv.vm_nic(p)) and o[0].key == key]
    if verb == "vmotion":
        return Change(vms=(replace(vm, host=arg),), ports=tuple(replace(p, host=arg) for p in owned))
    nic = next(n for n in vm.nics if n.port)
    free = (
        inv.ports[(nic.switch, arg)]
        if verb == "onto"
        else next(
            p
            for p in inv.ports_by_portgroup[nic.portgroup]
            if p.connectee is None and (p.switch, p.key) not in inv.nic_by_port
        )
    )
    was = inv.ports[(nic.switch, nic.port)]
    moved = replace(vm, nics=tuple(replace(n, port=free.key) if n is nic else n for n in vm.nics))
    return Change(vms=(moved,), ports=(replace(was, connectee=None), replace(free, connectee=was.connectee)))


def test_a_live_update_checks_only_the_sessions_it_touches_and_finds_what_a_full_check_finds(
    demo: Inventory,
) -> None:
    """The incremental check (``since``) against a full check of every session, update after update:
    the same problems and the same baselines, while most updates check only a few sessions again."""
    from tui.inventory_update import Change, Delta, apply_change

    full, quick = BaselineStore.open(None), BaselineStore.open(None)
    inv = demo
    found_full = full.check("vc", inv)
    found_quick = quick.check("vc", inv)
    before = found_full
    partial = 0
    for step in _live_changes(demo):
        change = _change_for(inv, step)
        assert isinstance(change, Change)
        new = apply_change(inv, change)
        delta = Delta(inv, change, new)
        touched = quick.touched("vc", delta)
        found_full = full.check("vc", new)
        found_quick = quick.check("vc", new, since=(delta, found_quick))
        assert found_quick == found_full, step
        assert quick.baselines == full.baselines, step
        if touched is not None:  # every session whose problems changed was checked again
            assert {k for k in found_full if found_full[k] != before.get(k)} <= touched, step
        before = found_full
        sessions = sum(len(sw.sessions) for sw in new.switches.values())
        partial += touched is not None and len(touched) < sessions
        inv = new
    assert partial > len(_live_changes(demo)) / 2, "most updates touch only some sessions"
    assert any(p.code == "EndpointMoved" for ps in found_full.values() for p in ps), "the changes drift"
