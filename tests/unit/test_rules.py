"""tui.rules against the demo lab: one case per rule and per session type, valid and invalid.

Lab facts used (tests/labgen.py): on dvSwitchCloud, port 448 = F5-LTM01 / Network adapter 2
(dvPgDMZ, VLAN 204, esx-03); 2258 = MGTSRVR003UX / Network adapter 2 (dvPgMirror, VLAN 205,
esx-03); 2241 = IDS-SENSOR01 (dvPgMirror, esx-03), destination of session 1 "DMZ-IDS", whose
sources are 448 and 449 (Rx+Tx); 449 = WEB-DMZ02 on esx-01; 2240 is free; 113 is WEB13's port
(powered off); 2300/2301 are on the promiscuous trunk portgroup dvPgIDS-Trunk; ports 0–15 are
uplink ports; the uplink portgroup trunks 0–4094; uplinks dvUplink1–dvUplink4. Session 2
"RSPAN-Core" is remoteMirrorSource Rx 104 → dvUplink4, encapsulation VLAN 310, disabled.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from typing import Any, cast

import pytest

from tests.helpers import WALKTHROUGH, WALKTHROUGH_MODERN
from tui import describe, rules
from tui.backends.snapshot import SnapshotBackend
from tui.model import (
    ChangeOperation,
    Inventory,
    MirrorSession,
    Problem,
    SessionChange,
    Severity,
    SwitchCapability,
    Vlan,
    VspanPorts,
)

INV = SnapshotBackend().load()
_cloud = INV.switch_by_name("dvSwitchCloud")
assert _cloud is not None
SW = _cloud.key

DPM = "dvPortMirror"
RMS = "remoteMirrorSource"
RMD = "remoteMirrorDest"
ERS = "encapsulatedRemoteMirrorSource"
MIX = "mixedDestMirror"


def P(
    *keys: str,
    uplinks: tuple[str, ...] = (),
    vlans: tuple[int, ...] = (),
    ips: tuple[str, ...] = (),
    wild: tuple[str, ...] = (),
) -> VspanPorts:
    return VspanPorts(port_keys=keys, uplink_names=uplinks, vlans=vlans, ip_addresses=ips, wildcard_types=wild)


def S(
    stype: str | None = DPM,
    rx: tuple[str, ...] = ("448",),
    tx: tuple[str, ...] = ("448",),
    dst: VspanPorts | None = None,
    **kw: Any,
) -> MirrorSession:
    """A session of type ``stype``; the destination defaults to what that type takes."""
    if dst is None:
        dst = {
            RMS: P(uplinks=("dvUplink1",)),
            ERS: P(ips=("10.9.9.9",)),
        }.get(stype or "", P("2258"))
    if stype == RMS:
        kw.setdefault("encapsulation_vlan_id", 999)
    if stype == RMD:
        rx, tx = (), ()
        kw.setdefault("source_rx", P(vlans=(999,)))
    fields: dict[str, Any] = {"name": "test", "session_type": stype, "destination": dst}
    fields.setdefault("source_rx", P(*rx))
    fields["source_tx"] = P(*tx)
    fields.update(kw)
    return MirrorSession(**fields)


def add(*sessions: MirrorSession) -> list[SessionChange]:
    return [SessionChange(ChangeOperation.ADD, s) for s in sessions]


def errors(problems: list[Problem]) -> set[tuple[str, str]]:
    return {(p.code, p.field) for p in problems if p.severity is Severity.ERROR}


def warnings(problems: list[Problem]) -> set[tuple[str, str]]:
    return {(p.code, p.field) for p in problems if p.severity is Severity.WARNING}


def rebuild(
    inv: Inventory, *, portgroups: dict[str, Any] | None = None, ports: dict[str, Any] | None = None, switch: Any = None
) -> Inventory:
    """A copy of ``inv`` with some portgroups/ports (by key, on dvSwitchCloud) or the switch replaced."""
    pgs = [(portgroups or {}).get(pg.key, pg) for pg in inv.portgroups.values()]
    prts = [(ports or {}).get(p.key, p) if p.switch == SW else p for p in inv.ports.values()]
    sws = [switch if (switch is not None and s.key == SW) else s for s in inv.switches.values()]
    return Inventory.build(
        vcenter=inv.vcenter,
        source=inv.source,
        datacenters=inv.datacenters,
        hosts=list(inv.hosts.values()),
        switches=sws,
        portgroups=pgs,
        ports=prts,
        vms=list(inv.vms.values()),
    )


def pg_named(name: str) -> Any:
    return next(pg for pg in INV.portgroups.values() if pg.name == name)


# -- the walkthrough ---------------------------------------------------------------------------

WALKTHROUGH_A = WALKTHROUGH
WALKTHROUGH_B = WALKTHROUGH_MODERN


def test_walkthrough_legacy_form_has_no_errors_and_vlan_205_is_carried() -> None:
    problems = rules.check(INV, SW, add(WALKTHROUGH_A))
    assert errors(problems) == set()
    codes = {p.code for p in problems}
    assert "EncapVlanNotCarried" not in codes
    assert "EncapVlanNotOnUplinks" not in codes
    assert "CrossHostMirror" not in codes
    # The legacy type is deprecated: the only warning.
    assert warnings(problems) == {("MixedDestDeprecated", "session_type")}


def test_walkthrough_legacy_form_notes_and_upstream() -> None:
    notes = describe.notes(INV, SW, WALKTHROUGH_A)
    assert "Source and destination share host esx-03." in notes
    assert "Destination portgroup dvPgMirror carries VLAN 205." in notes
    assert "The uplink portgroup dvSwitchCloud-DVUplinks trunks VLAN 205." in notes
    assert any("also a source of session DMZ-IDS" in n for n in notes)  # V5: shared sources are fine
    up = describe.upstream_requirements(INV, SW, WALKTHROUGH_A)
    assert up[0].startswith("The physical switch ports behind dvUplink1–dvUplink4 must trunk VLAN 205")
    assert "`switchport trunk allowed vlan add 205`" in up[0]


def test_walkthrough_modern_form_has_no_errors_and_notes_say_why() -> None:
    problems = rules.check(INV, SW, add(WALKTHROUGH_B))
    assert errors(problems) == set()
    assert warnings(problems) == set()
    notes = describe.notes(INV, SW, WALKTHROUGH_B)
    assert notes[0] == "Source and destination share host esx-03."
    assert any(n.startswith("Encapsulation does not apply to Distributed Port Mirroring") for n in notes)
    assert describe.upstream_requirements(INV, SW, WALKTHROUGH_B) == []


def test_walkthrough_is_accepted_by_the_demo_backend() -> None:
    backend = SnapshotBackend()
    inv = backend.load()
    result = backend.apply(inv, SW, add(WALKTHROUGH_A))
    assert result.keys == ("3",)
    assert [w.code for w in result.warnings] == ["MixedDestDeprecated"]


# -- every session type, valid -------------------------------------------------------------------

VALID = {
    "dvPortMirror": S(DPM),
    "remoteMirrorSource": S(
        RMS,
        dst=P(uplinks=("dvUplink1", "dvUplink2")),
        encapsulation_vlan_id=999,
        strip_original_vlan=True,
        sampling_rate=10,
    ),
    "remoteMirrorDest": S(RMD, source_rx=P(vlans=(0, 999, 4094)), dst=P("2258")),
    "encapsulatedRemoteMirrorSource": S(
        ERS,
        dst=P(ips=("10.9.9.9", "2001:db8::9")),
        encap_type="erspan3",
        erspan_id=1023,
        erspan_cos=7,
        erspan_gra_nanosec=True,
    ),
    "mixedDestMirror": S(MIX, dst=P("2258", uplinks=("dvUplink2",)), encapsulation_vlan_id=205),
    "dvPortMirror, Rx-only and Tx-only sources": S(DPM, rx=("448",), tx=("449",), dst=P("2240")),
    "dvPortMirror, limits": S(DPM, name="x" * 80, sampling_rate=65535, mirrored_packet_length=9000),
    "dvPortMirror, smallest values": S(DPM, name="", sampling_rate=1, mirrored_packet_length=60),
    "mixedDestMirror to an uplink DVPort": S(MIX, dst=P("0"), encapsulation_vlan_id=205),
    "empty session (V26)": MirrorSession(name="", session_type=DPM),
}


@pytest.mark.parametrize("session", VALID.values(), ids=VALID.keys())
def test_valid_sessions_have_no_errors(session: MirrorSession) -> None:
    assert errors(rules.check(INV, SW, add(session))) == set()


# -- one error per rule ----------------------------------------------------------------------------

INVALID: list[tuple[str, MirrorSession, str, str]] = [
    # V6: uplink names are never sources.
    ("V6 uplink as Rx source", S(DPM, rx=(), source_rx=P(uplinks=("dvUplink1",))), "InvalidArgument", "source_rx"),
    ("V6 uplink as Tx source", S(RMS, tx=(), source_tx=P(uplinks=("dvUplink1",))), "InvalidArgument", "source_tx"),
    # V7: lists that do not apply to the type (§2.2).
    ("V7 dvPortMirror to uplink", S(DPM, dst=P(uplinks=("dvUplink1",))), "InvalidArgument", "destination"),
    ("V7 dvPortMirror to IP", S(DPM, dst=P(ips=("10.9.9.9",))), "InvalidArgument", "destination"),
    ("V7 dvPortMirror VLAN source", S(DPM, source_rx=P(vlans=(5,))), "InvalidArgument", "source_rx"),
    ("V7 RMS to port", S(RMS, dst=P("2258")), "InvalidArgument", "destination"),
    ("V7 RMS to IP", S(RMS, dst=P(ips=("10.9.9.9",))), "InvalidArgument", "destination"),
    ("V7 RMD with Tx source", replace(S(RMD), source_tx=P("448")), "InvalidArgument", "source_tx"),
    ("V7 RMD with Tx VLANs", replace(S(RMD), source_tx=P(vlans=(5,))), "InvalidArgument", "source_tx"),
    ("V7 RMD with Rx ports", S(RMD, source_rx=P("448")), "InvalidArgument", "source_rx"),
    ("V7 RMD to uplink", S(RMD, dst=P(uplinks=("dvUplink1",))), "InvalidArgument", "destination"),
    ("V7 ERSPAN to port", S(ERS, dst=P("2258")), "InvalidArgument", "destination"),
    ("V7 ERSPAN VLAN source", S(ERS, source_rx=P(vlans=(5,))), "InvalidArgument", "source_rx"),
    ("V7 mixed to IP", S(MIX, dst=P(ips=("10.9.9.9",))), "InvalidArgument", "destination"),
    ("V7 mixed IP source", S(MIX, source_rx=P(ips=("10.9.9.9",))), "InvalidArgument", "source_rx"),
    # V8: wildcards only as ingress sources.
    ("V8 wildcard destination", S(DPM, dst=P(wild=("vmVnic",))), "InvalidArgument", "destination"),
    ("V8 wildcard Tx source", S(DPM, tx=(), source_tx=P(wild=("vmVnic",))), "InvalidArgument", "source_tx"),
    ("V8 unknown wildcard", S(DPM, source_rx=P(wild=("toaster",))), "InvalidArgument", "source_rx"),
    # V9: unknown port keys.
    ("V9 unknown Rx port", S(DPM, rx=("9999",)), "NotFound", "source_rx"),
    ("V9 unknown Tx port", S(DPM, tx=("9999",)), "NotFound", "source_tx"),
    ("V9 unknown destination", S(DPM, dst=P("9999")), "NotFound", "destination"),
    # V10: unknown uplink names.
    ("V10 unknown uplink", S(RMS, dst=P(uplinks=("dvUplink9",))), "NotFound", "destination"),
    ("V10 unknown uplink, mixed", S(MIX, dst=P(uplinks=("uplink-a",))), "NotFound", "destination"),
    # V11 / §3 ranges.
    ("§3 sampling 0", S(DPM, sampling_rate=0), "InvalidArgument", "sampling_rate"),
    ("§3 sampling 65536", S(DPM, sampling_rate=65536), "InvalidArgument", "sampling_rate"),
    ("§3 sampling -1", S(RMS, sampling_rate=-1), "InvalidArgument", "sampling_rate"),
    ("§3 length 59", S(DPM, mirrored_packet_length=59), "InvalidArgument", "mirrored_packet_length"),
    ("§3 length 0", S(ERS, mirrored_packet_length=0), "InvalidArgument", "mirrored_packet_length"),
    ("§10.4 length 65536", S(DPM, mirrored_packet_length=65536), "InvalidArgument", "mirrored_packet_length"),
    ("§3 RMD VLAN 4095", S(RMD, source_rx=P(vlans=(4095,))), "InvalidArgument", "source_rx"),
    ("§3 RMD VLAN -1", S(RMD, source_rx=P(vlans=(-1,))), "InvalidArgument", "source_rx"),
    (
        "§3 RMS without encapsulation VLAN",
        S(RMS, encapsulation_vlan_id=None),
        "InvalidArgument",
        "encapsulation_vlan_id",
    ),
    ("§3 RMS encapsulation VLAN 0", S(RMS, encapsulation_vlan_id=0), "InvalidArgument", "encapsulation_vlan_id"),
    ("§3 RMS encapsulation VLAN 4095", S(RMS, encapsulation_vlan_id=4095), "InvalidArgument", "encapsulation_vlan_id"),
    (
        "§3 dvPortMirror encapsulation 4095",
        S(DPM, encapsulation_vlan_id=4095),
        "InvalidArgument",
        "encapsulation_vlan_id",
    ),
    ("§3 mixed encapsulation -1", S(MIX, encapsulation_vlan_id=-1), "InvalidArgument", "encapsulation_vlan_id"),
    ("§3 RMD encapsulation -1", S(RMD, encapsulation_vlan_id=-1), "InvalidArgument", "encapsulation_vlan_id"),
    ("§3 erspanId 1024", S(ERS, encap_type="erspan2", erspan_id=1024), "InvalidArgument", "erspan_id"),
    ("§3 erspanId -1", S(ERS, encap_type="erspan2", erspan_id=-1), "InvalidArgument", "erspan_id"),
    ("§3 erspanCOS 8", S(ERS, encap_type="erspan2", erspan_cos=8), "InvalidArgument", "erspan_cos"),
    ("§3 name of 81 characters", S(DPM, name="n" * 81), "InvalidArgument", "name"),
    # V12: fields a type refuses.
    ("V12 sampling on mixed", S(MIX, sampling_rate=1), "InvalidArgument", "sampling_rate"),
    ("V12 encapsulation on ERSPAN", S(ERS, encapsulation_vlan_id=1), "InvalidArgument", "encapsulation_vlan_id"),
    # V13: unknown enums.
    ("V13 unknown session type", S("aaa"), "InvalidArgument", "session_type"),
    ("§1.6 unknown encapsulation type", S(ERS, encap_type="vxlan"), "InvalidArgument", "encap_type"),
    # V25: IP syntax.
    ("V25 short IPv4", S(ERS, dst=P(ips=("10.111",))), "InvalidArgument", "destination"),
    ("V25 five-part IPv4", S(ERS, dst=P(ips=("10.1.1.1.1",))), "InvalidArgument", "destination"),
    ("V25 bad IPv6", S(ERS, dst=P(ips=("2011:1",))), "InvalidArgument", "destination"),
    # §2.1: uplink DVPorts are destinations only of the legacy type.
    ("§2.1 dvPortMirror to uplink port", S(DPM, dst=P("0")), "InvalidArgument", "destination"),
    ("§2.1 RMD to uplink port", S(RMD, dst=P("15")), "InvalidArgument", "destination"),
    # V1/V2: a port as source and destination of one session.
    (
        "V1 Tx source is destination",
        S(DPM, rx=(), tx=("2258",), dst=P("2258")),
        "VspanSameSessionPortConflict",
        "destination",
    ),
    (
        "V2 Rx source is destination",
        S(DPM, rx=("2258",), tx=(), dst=P("2258")),
        "VspanSameSessionPortConflict",
        "destination",
    ),
    ("V2 legacy", S(MIX, rx=("2258", "448"), tx=(), dst=P("2258")), "VspanSameSessionPortConflict", "destination"),
    # V3: a Tx source of one session is the destination of another (DMZ-IDS: Tx 448/449 → 2241).
    (
        "V3 destination is DMZ-IDS's Tx source",
        S(DPM, rx=("2258",), tx=(), dst=P("448")),
        "VspanPortConflict",
        "destination",
    ),
    (
        "V3 Tx source is DMZ-IDS's destination",
        S(DPM, rx=(), tx=("2241",), dst=P("2258")),
        "VspanPortConflict",
        "source_tx",
    ),
    # V4: one destination in two sessions.
    ("V4 destination of DMZ-IDS", S(DPM, dst=P("2241")), "VspanDestPortConflict", "destination"),
    ("V4 legacy", S(MIX, dst=P("2241")), "VspanDestPortConflict", "destination"),
    # Key on add.
    ("§9.2 add with a key", replace(S(DPM), key="7"), "InvalidArgument", "key"),
]


@pytest.mark.parametrize(("session", "code", "fld"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_each_rule_reports_its_fault_on_its_field(session: MirrorSession, code: str, fld: str) -> None:
    problems = rules.check(INV, SW, add(session))
    assert (code, fld) in errors(problems), problems
    for p in problems:
        assert p.message and not p.message[0].islower() and p.message.endswith("."), p.message


@pytest.mark.parametrize(("session", "code", "fld"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_each_error_is_the_only_error(session: MirrorSession, code: str, fld: str) -> None:
    """Each invalid case breaks one rule only, so a rule that fires too widely shows up here."""
    assert errors(rules.check(INV, SW, add(session))) == {(code, fld)}


def test_dest_conflict_message_names_port_vm_nic_and_session() -> None:
    problems = rules.check(INV, SW, add(S(DPM, dst=P("2241"))))
    (p,) = [p for p in problems if p.code == "VspanDestPortConflict"]
    assert p.message == (
        "Port 2241 (IDS-SENSOR01 / Network adapter 2) is already the destination of session DMZ-IDS; "
        "a port can be the destination of only one session."
    )
    assert p.severity is Severity.ERROR


def test_unknown_port_message() -> None:
    (p,) = [p for p in rules.check(INV, SW, add(S(DPM, dst=P("9999")))) if p.code == "NotFound"]
    assert p.message == "Port 9999 does not exist on switch dvSwitchCloud; check the port ID."


def test_port_conflict_message_explains_the_loop() -> None:
    (p,) = [p for p in rules.check(INV, SW, add(S(DPM, rx=(), tx=("2241",)))) if p.code == "VspanPortConflict"]
    assert p.message.startswith("Port 2241 (IDS-SENSOR01 / Network adapter 2) is an egress source of session test")
    assert "destination of session DMZ-IDS" in p.message


def test_shared_sources_are_fine() -> None:
    """V5: 448 and 449 are already sources (Rx+Tx) of DMZ-IDS."""
    assert errors(rules.check(INV, SW, add(S(DPM, rx=("448", "449"), tx=("448", "449"), dst=P("2258"))))) == set()


def test_rx_only_source_that_is_a_destination_is_a_warning_not_an_error() -> None:
    """V5 leaves Rx-source/destination overlap untested: a MirrorLoop warning, not V3."""
    problems = rules.check(INV, SW, add(S(DPM, rx=("2241",), tx=(), dst=P("2258"))))
    assert errors(problems) == set()
    assert ("MirrorLoop", "source_rx") in warnings(problems)


# -- key and batch rules ---------------------------------------------------------------------------


def _existing(key: str) -> MirrorSession:
    s = _cloud.session(key) if _cloud else None
    assert s is not None
    return s


def edit(s: MirrorSession) -> SessionChange:
    return SessionChange(ChangeOperation.EDIT, s)


def remove(s: MirrorSession) -> SessionChange:
    return SessionChange(ChangeOperation.REMOVE, s)


BATCHES: list[tuple[str, list[SessionChange], set[tuple[str, str]]]] = [
    ("edit unchanged session", [edit(_existing("1"))], set()),
    ("remove by key alone", [remove(MirrorSession(key="2"))], set()),
    ("V14 edit without key", [edit(replace(_existing("1"), key=None))], {("InvalidArgument", "key")}),
    ("V14 remove without key", [remove(MirrorSession())], {("InvalidArgument", "key")}),
    ("V15 edit unknown key", [edit(replace(_existing("1"), key="77"))], {("NotFound", "key")}),
    ("V15 remove unknown key", [remove(MirrorSession(key="invalid"))], {("NotFound", "key")}),
    (
        "V16 two edits of one key",
        [edit(_existing("1")), edit(replace(_existing("1"), name="x"))],
        {("InvalidArgument", "key")},
    ),
    (
        "V16 edit and remove of one key",
        [edit(_existing("1")), remove(MirrorSession(key="1"))],
        {("InvalidArgument", "key")},
    ),
    (
        "V4 between two adds",
        add(S(DPM, dst=P("2258")), S(DPM, rx=("449",), tx=(), dst=P("2258"))),
        {("VspanDestPortConflict", "destination")},
    ),
    (
        "V3 between two adds",
        add(S(DPM, dst=P("2258")), S(DPM, rx=(), tx=("2258",), dst=P("2240"))),
        {("VspanPortConflict", "destination"), ("VspanPortConflict", "source_tx")},
    ),
    ("V4 gone after removing DMZ-IDS", [remove(MirrorSession(key="1")), *add(S(DPM, dst=P("2241")))], set()),
    (
        "V4 gone after moving DMZ-IDS",
        [edit(replace(_existing("1"), destination=P("2240"))), *add(S(DPM, dst=P("2241")))],
        set(),
    ),
    (
        "V4 by editing DMZ-IDS onto a new session's destination",
        [edit(replace(_existing("1"), destination=P("2258"))), *add(S(DPM, rx=("449",), tx=(), dst=P("2258")))],
        {("VspanDestPortConflict", "destination")},
    ),
    (
        "V3 by editing RSPAN-Core",
        [edit(replace(_existing("2"), source_tx=P("2241")))],
        {("VspanPortConflict", "source_tx")},
    ),
    (
        "edit checks fields too",
        [edit(replace(_existing("2"), encapsulation_vlan_id=None))],
        {("InvalidArgument", "encapsulation_vlan_id")},
    ),
    ("V13 unknown operation", [SessionChange(cast(Any, "bogus"), S(DPM))], {("InvalidArgument", "")}),
]


@pytest.mark.parametrize(("changes", "expected"), [b[1:] for b in BATCHES], ids=[b[0] for b in BATCHES])
def test_batch_rules(changes: list[SessionChange], expected: set[tuple[str, str]]) -> None:
    assert errors(rules.check(INV, SW, changes)) == expected


def test_unknown_switch() -> None:
    problems = rules.check(INV, "no-such-switch", add(S(DPM)))
    assert [(p.code, p.severity) for p in problems] == [("NotFound", Severity.ERROR)]


# -- switch capabilities ---------------------------------------------------------------------------


def _with_capability(cap: SwitchCapability) -> Inventory:
    assert _cloud is not None
    return INV.with_switch(replace(_cloud, capability=cap))


def test_session_type_the_switch_does_not_support() -> None:
    inv = _with_capability(SwitchCapability(session_types=(MIX,)))
    problems = rules.check(inv, SW, add(S(DPM)))
    assert errors(problems) == {("NotSupported", "session_type")}
    assert "does not support Distributed Port Mirroring sessions" in problems[0].message
    assert errors(rules.check(inv, SW, add(WALKTHROUGH_A))) == set()


def test_switch_without_port_mirroring() -> None:
    inv = _with_capability(SwitchCapability(vspan=False))
    assert ("NotSupported", "session_type") in errors(rules.check(inv, SW, add(S(DPM))))


def test_switch_without_erspan() -> None:
    inv = _with_capability(SwitchCapability(erspan=False))
    assert errors(rules.check(inv, SW, add(S(ERS, encap_type="erspan2")))) == {("NotSupported", "encap_type")}
    assert errors(rules.check(inv, SW, add(S(ERS, encap_type="gre")))) == set()


def test_unset_session_type_is_legacy_and_warned() -> None:
    """§10.3: unset = mixedDestMirror, so a sampling rate is refused and the type is warned about."""
    problems = rules.check(INV, SW, add(S(None, encapsulation_vlan_id=205)))
    assert errors(problems) == set()
    assert ("SessionTypeUnset", "session_type") in warnings(problems)
    assert errors(rules.check(INV, SW, add(S(None, sampling_rate=1)))) == {("InvalidArgument", "sampling_rate")}


# -- warnings --------------------------------------------------------------------------------------

_narrow_uplinks = rebuild(
    INV,
    portgroups={
        pg_named("dvSwitchCloud-DVUplinks").key: replace(
            pg_named("dvSwitchCloud-DVUplinks"), vlan=Vlan(vlan_id=None, trunk=((0, 100),))
        )
    },
)
_p2258 = INV.port(SW, "2258")
assert _p2258 is not None
_link_down = rebuild(INV, ports={"2258": replace(_p2258, link_up=False)})

WARNINGS: list[tuple[str, Inventory, MirrorSession, str, str]] = [
    ("V28 cross-host source", INV, S(DPM, rx=("449",), tx=(), dst=P("2258")), "CrossHostMirror", "source_rx"),
    ("V28 cross-host Tx source", INV, S(DPM, rx=(), tx=("449",), dst=P("2258")), "CrossHostMirror", "source_tx"),
    (
        "V28 legacy cross-host",
        INV,
        S(MIX, rx=("449",), tx=(), dst=P("2258"), encapsulation_vlan_id=205),
        "CrossHostMirror",
        "source_rx",
    ),
    (
        "encapsulation VLAN not on destination portgroup",
        INV,
        S(MIX, encapsulation_vlan_id=206),
        "EncapVlanNotCarried",
        "encapsulation_vlan_id",
    ),
    ("legacy without encapsulation: VLAN 204 not on dvPgMirror", INV, S(MIX), "SourceVlanNotCarried", "source_rx"),
    (
        "encapsulation VLAN not on uplinks (legacy)",
        _narrow_uplinks,
        WALKTHROUGH_A,
        "EncapVlanNotOnUplinks",
        "encapsulation_vlan_id",
    ),
    (
        "encapsulation VLAN not on uplinks (RMS)",
        _narrow_uplinks,
        S(RMS, encapsulation_vlan_id=999),
        "EncapVlanNotOnUplinks",
        "encapsulation_vlan_id",
    ),
    (
        "RSPAN VLAN not on uplinks",
        _narrow_uplinks,
        S(RMD, source_rx=P(vlans=(999,))),
        "SourceVlanNotOnUplinks",
        "source_rx",
    ),
    (
        "RSPAN VLAN used by a portgroup",
        INV,
        S(RMS, encapsulation_vlan_id=205),
        "EncapVlanInUse",
        "encapsulation_vlan_id",
    ),
    ("free destination port", INV, S(DPM, dst=P("2240")), "DestinationNotConnected", "destination"),
    ("powered-off VM's port", INV, S(DPM, rx=("100",), tx=(), dst=P("113")), "DestinationNotConnected", "destination"),
    ("link down", _link_down, S(DPM), "DestinationLinkDown", "destination"),
    ("V24 promiscuous destination", INV, S(DPM, rx=("2301",), tx=(), dst=P("2300")), "PromiscuousPort", "destination"),
    ("V24 promiscuous Tx source", INV, S(DPM, rx=(), tx=("2301",), dst=P("2258")), "PromiscuousPort", "source_tx"),
    ("duplicate name (any case)", INV, S(DPM, name="dmz-ids"), "DuplicateName", "name"),
    (
        "normal I/O on destination",
        INV,
        S(DPM, normal_traffic_allowed=True),
        "NormalIoOnDestination",
        "normal_traffic_allowed",
    ),
    ("legacy type", INV, S(MIX, encapsulation_vlan_id=205), "MixedDestDeprecated", "session_type"),
    (
        "§10.4 long packet length",
        INV,
        S(DPM, mirrored_packet_length=9001),
        "LongMirroredPacket",
        "mirrored_packet_length",
    ),
    ("wildcard source", INV, S(DPM, source_rx=P("448", wild=("vmVnic",))), "WildcardSource", "source_rx"),
    (
        "encapsulation ignored by dvPortMirror",
        INV,
        S(DPM, encapsulation_vlan_id=205),
        "FieldIgnored",
        "encapsulation_vlan_id",
    ),
    ("ERSPAN ID on dvPortMirror", INV, S(DPM, erspan_id=5), "FieldIgnored", "erspan_id"),
    ("ERSPAN ID with GRE", INV, S(ERS, encap_type="gre", erspan_id=5), "FieldIgnored", "erspan_id"),
    (
        "nanoseconds with ERSPAN II",
        INV,
        S(ERS, encap_type="erspan2", erspan_gra_nanosec=True),
        "FieldIgnored",
        "erspan_gra_nanosec",
    ),
    ("no source", INV, S(DPM, rx=(), tx=()), "NoSource", "source_rx"),
    ("no destination", INV, S(DPM, dst=P()), "NoDestination", "destination"),
    (
        "Rx source is another session's destination",
        INV,
        S(DPM, rx=("2241",), tx=(), dst=P("2258")),
        "MirrorLoop",
        "source_rx",
    ),
    (
        "destination is another session's Rx-only source",
        INV,
        S(DPM, rx=("449",), tx=(), dst=P("104")),
        "MirrorLoop",
        "destination",
    ),
]


@pytest.mark.parametrize(("inv", "session", "code", "fld"), [w[1:] for w in WARNINGS], ids=[w[0] for w in WARNINGS])
def test_each_warning(inv: Inventory, session: MirrorSession, code: str, fld: str) -> None:
    problems = rules.check(inv, SW, add(session))
    assert errors(problems) == set(), problems
    assert (code, fld) in warnings(problems), problems
    # session_warnings reports the same for the session as if it existed.
    existing = rules.session_warnings(inv, SW, session)
    assert (code, fld) in warnings(existing)
    assert all(p.severity is Severity.WARNING for p in existing)


NO_WARNING: list[tuple[str, MirrorSession, str]] = [
    ("same host", S(DPM), "CrossHostMirror"),
    ("ERSPAN is not host-bound", S(ERS, rx=("449",), tx=()), "CrossHostMirror"),
    ("VLAN 205 carried by dvPgMirror", S(MIX, encapsulation_vlan_id=205), "EncapVlanNotCarried"),
    (
        "VLAN 205 on a trunk destination",
        S(MIX, rx=("2301",), tx=(), dst=P("2300"), encapsulation_vlan_id=205),
        "EncapVlanNotCarried",
    ),
    ("uplinks trunk everything", S(RMS, encapsulation_vlan_id=999), "EncapVlanNotOnUplinks"),
    ("V21 promiscuous Rx-only source", S(DPM, rx=("2301",), tx=(), dst=P("2258")), "PromiscuousPort"),
    ("9000 bytes", S(DPM, mirrored_packet_length=9000), "LongMirroredPacket"),
    ("dvPortMirror without encapsulation", S(DPM), "FieldIgnored"),
    ("connected destination", S(DPM), "DestinationNotConnected"),
    ("distinct name", S(DPM, name="DMZ-IDS2"), "DuplicateName"),
    ("empty name is not a duplicate of another empty name", S(DPM, name=""), "DuplicateName"),
    ("modern type", S(DPM), "MixedDestDeprecated"),
    ("type set", S(DPM), "SessionTypeUnset"),
]


@pytest.mark.parametrize(("session", "code"), [w[1:] for w in NO_WARNING], ids=[w[0] for w in NO_WARNING])
def test_no_false_warning(session: MirrorSession, code: str) -> None:
    assert code not in {p.code for p in rules.check(INV, SW, add(session))}


def test_cross_host_message() -> None:
    problems = rules.check(INV, SW, add(S(DPM, rx=("449",), tx=(), dst=P("2258"))))
    (p,) = [p for p in problems if p.code == "CrossHostMirror"]
    assert p.message.startswith(
        "Port 449 (WEB-DMZ02 / Network adapter 1) is on host esx-01 but destination "
        "port 2258 (MGTSRVR003UX / Network adapter 2) is on esx-03"
    )


def test_legacy_without_encapsulation_suggests_the_vlan() -> None:
    (p,) = [p for p in rules.check(INV, SW, add(S(MIX))) if p.code == "SourceVlanNotCarried"]
    assert "set the encapsulation VLAN to 205" in p.message


def test_duplicate_name_ignores_the_session_itself_on_edit() -> None:
    assert "DuplicateName" not in {p.code for p in rules.check(INV, SW, [edit(_existing("1"))])}


def test_warnings_come_after_errors() -> None:
    problems = rules.check(INV, SW, add(S(DPM, rx=("449",), tx=(), dst=P("2241"))))
    severities = [p.severity for p in problems]
    assert severities == sorted(severities, key=lambda s: s is Severity.WARNING)
    assert Severity.ERROR in severities and Severity.WARNING in severities


# -- existing sessions -----------------------------------------------------------------------------


def test_session_warnings_of_the_demo_sessions() -> None:
    dmz = rules.session_warnings(INV, SW, _existing("1"))
    assert [(p.code, p.field) for p in dmz] == [("CrossHostMirror", "source_rx")]
    assert "Port 449 (WEB-DMZ02 / Network adapter 1)" in dmz[0].message
    assert rules.session_warnings(INV, SW, _existing("2")) == []
    assert rules.session_warnings(INV, "nope", _existing("2")) == []


def test_session_warnings_skip_change_rules() -> None:
    """A session that is invalid as a change (key set, bad range) gives warnings only."""
    s = replace(_existing("1"), key="1", sampling_rate=0)
    assert all(p.severity is Severity.WARNING for p in rules.session_warnings(INV, SW, s))


# -- notes and upstream requirements ---------------------------------------------------------------


def test_notes_without_shared_host() -> None:
    notes = describe.notes(INV, SW, S(DPM, rx=("449",), tx=(), dst=P("2258")))
    assert not any("share host" in n for n in notes)


def test_notes_for_erspan() -> None:
    notes = describe.notes(INV, SW, S(ERS, encap_type="erspan2", dst=P(ips=("10.9.9.9",))))
    assert "Mirrored frames are sent as ERSPAN type II to 10.9.9.9." in notes


def test_upstream_requirements_per_type() -> None:
    rspan = describe.upstream_requirements(INV, SW, _existing("2"))
    assert rspan[0] == (
        "The physical switch ports behind dvUplink4 must trunk VLAN 310 (e.g. `switchport trunk allowed vlan add 310`)."
    )
    rmd = describe.upstream_requirements(INV, SW, S(RMD, source_rx=P(vlans=(310, 311))))
    assert rmd[0].startswith("The physical switch ports behind dvUplink1–dvUplink4 must trunk VLANs 310,311")
    ers = describe.upstream_requirements(INV, SW, S(ERS, dst=P(ips=("10.9.9.9",))))
    assert "GRE (IP protocol 47)" in ers[0] and "10.9.9.9" in ers[0]
    assert any("MTU" in s for s in ers)
    assert describe.upstream_requirements(INV, SW, S(DPM)) == []
    assert describe.upstream_requirements(INV, SW, S(MIX)) == []  # no encapsulation, no uplink: stays on the host
    stripped = describe.upstream_requirements(INV, SW, replace(WALKTHROUGH_A, strip_original_vlan=True))
    assert len(stripped) == 1
    assert any("two VLAN tags" in s for s in describe.upstream_requirements(INV, SW, WALKTHROUGH_A))


@pytest.mark.parametrize(
    ("names", "text"),
    [
        (["dvUplink1", "dvUplink2", "dvUplink3", "dvUplink4"], "dvUplink1–dvUplink4"),
        (["dvUplink1", "dvUplink3", "dvUplink4"], "dvUplink1, dvUplink3, dvUplink4"),
        (["dvUplink4"], "dvUplink4"),
        (["a", "b"], "a and b"),
        ([], ""),
    ],
)
def test_uplink_range(names: list[str], text: str) -> None:
    assert describe.uplink_range(names) == text


# -- the code tables -------------------------------------------------------------------------------


def test_every_code_produced_is_documented_with_its_severity() -> None:
    produced: list[Problem] = []
    for _, s, *_ in INVALID:
        produced += rules.check(INV, SW, add(s))
    for _, inv, s, *_ in WARNINGS:
        produced += rules.check(inv, SW, add(s))
    for _, changes, _ in BATCHES:
        produced += rules.check(INV, SW, changes)
    produced += rules.check(_with_capability(SwitchCapability.unknown(True)), SW, add(S(DPM)))  # CapabilityUnknown
    errs = {p.code for p in produced if p.severity is Severity.ERROR}
    warns = {p.code for p in produced if p.severity is Severity.WARNING}
    assert errs <= set(rules.ERROR_CODES)
    assert warns <= set(rules.WARNING_CODES)
    assert warns == set(rules.WARNING_CODES) - {"SessionTypeUnset"}  # every warning is exercised above
    assert errs == set(rules.ERROR_CODES) - {"NotSupported"}


def test_pure_modules_import_neither_textual_nor_pyvmomi() -> None:
    code = (
        "import sys, tui.rules, tui.capture, tui.audit; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'pyVmomi', 'pyVim')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_edit_cannot_clear_the_encapsulation_vlan() -> None:
    """vCenter merges edits (vspan.md §5.2): removing the encapsulation VLAN needs delete + create."""
    inv = SnapshotBackend().load()
    sw = inv.switch_by_name("dvSwitchCloud")
    assert sw is not None
    rspan = sw.session("2")
    assert rspan is not None and rspan.encapsulation_vlan_id == 310
    legacy = rspan.with_changes(session_type="mixedDestMirror", encapsulation_vlan_id=None, sampling_rate=None)
    problems = rules.check(inv, sw.key, [SessionChange(ChangeOperation.EDIT, legacy)])
    assert [(p.code, p.field) for p in problems if p.code == "EditCannotClear"] == [
        ("EditCannotClear", "encapsulation_vlan_id")
    ]
    kept = rules.check(inv, sw.key, [SessionChange(ChangeOperation.EDIT, rspan.with_changes(name="x"))])
    assert "EditCannotClear" not in [p.code for p in kept]
