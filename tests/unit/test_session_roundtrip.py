"""Edits never drop what the form does not show (issue 7), without a server.

Every session type with every field set goes through the wizard's form, the snapshot
backend's in-memory apply, the CLI and a snapshot save/load, and comes back unchanged
except for what was edited. pyVmomi's own serializer is the judge of the vSphere
conversions: ``session_to_vim(session_from_vim(x))`` serializes to the same bytes as ``x``.
Unknown switch capabilities (a flag vCenter left unset) are offered, warned and kept.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests import labgen
from tests.conftest import CLOUD
from tests.roundtrip import CLONE_DEST, DPM, ERS, FULL, MIX, RMD, RMS, TYPES, differences, lab, renamed
from tui import rules, sessionform
from tui.__main__ import main
from tui.backends import _convert
from tui.backends.snapshot import SnapshotBackend, dump_inventory, parse_inventory
from tui.backends.snapshot_format import session_from_api
from tui.model import (
    ChangeOperation,
    Inventory,
    MirrorSession,
    SessionChange,
    SessionType,
    Severity,
    SwitchCapability,
    VspanPorts,
    new_session,
)

pyVmomi = pytest.importorskip("pyVmomi")
vim = pyVmomi.vim
VS = vim.dvs.VmwareDistributedVirtualSwitch
SoapAdapter = pyVmomi.SoapAdapter


@pytest.fixture
def lab_file(tmp_path: Path) -> Path:
    path = tmp_path / "lab.json"
    labgen.write(lab(), path)
    return path


@pytest.fixture
def inv() -> Inventory:
    return parse_inventory(lab(), "round-trip lab")


def clone_of(s: MirrorSession) -> MirrorSession:
    """What the sessions screen hands the wizard for a clone (tui/screens/sessions.py)."""
    return s.with_changes(key=None, name=f"{s.name} (copy)")


# -- the wizard's form (tui/sessionform.py) ----------------------------------------------------


@pytest.mark.parametrize("t", TYPES)
def test_form_shows_and_rebuilds_every_field(inv: Inventory, t: str) -> None:
    s = FULL[t]
    form = sessionform.from_session(s)
    built = sessionform.build(inv, CLOUD, form, s)
    assert built.problems == []
    assert differences(built.session, s) == {}
    # Edit the name only: everything else, wildcards, netstack and hidden fields included, stays.
    form.name = "new name"
    assert differences(sessionform.build(inv, CLOUD, form, s).session, renamed(s), ignore=("name",)) == {}
    assert sessionform.build(inv, CLOUD, form, s).session.name == "new name"
    # Disable/enable through the form.
    form = sessionform.from_session(s)
    form.enabled = not s.enabled
    assert differences(sessionform.build(inv, CLOUD, form, s).session, s) == {"enabled": (not s.enabled, s.enabled)}


@pytest.mark.parametrize("t", TYPES)
def test_form_clone_keeps_every_field(inv: Inventory, t: str) -> None:
    base = clone_of(FULL[t])
    built = sessionform.build(inv, CLOUD, sessionform.from_session(base), base)
    assert built.session == base


def test_form_keeps_unset_versus_default_and_order(inv: Inventory) -> None:
    """Values the form shows as a default (GRE, microseconds, no name) stay unset when untouched."""
    s = MirrorSession(
        key="9",
        session_type=ERS,
        source_rx=VspanPorts(port_keys=("448", "449")),
        source_tx=VspanPorts(port_keys=("449", "448")),  # another order than the form writes
        destination=VspanPorts(ip_addresses=("192.0.2.1",)),
        encap_type=None,
        erspan_gra_nanosec=None,
        sampling_rate=None,
    )
    assert sessionform.build(inv, CLOUD, sessionform.from_session(s), s).session == s
    untyped = MirrorSession(key="8", session_type=None, source_rx=VspanPorts(port_keys=("448",)))
    assert sessionform.build(inv, CLOUD, sessionform.from_session(untyped), untyped).session == untyped
    # Changing a list the form shows does take effect.
    form = sessionform.from_session(s)
    form.sources = "448"
    changed = sessionform.build(inv, CLOUD, form, s).session
    assert (changed.source_rx.port_keys, changed.source_tx.port_keys) == (("448",), ("448",))
    # Choosing ERSPAN III sets the flag the form shows.
    form = sessionform.from_session(s)
    form.encap_type, form.erspan_ns = "erspan3", True
    assert sessionform.build(inv, CLOUD, form, s).session.erspan_gra_nanosec is True


def test_form_type_change_drops_what_the_new_type_cannot_carry(inv: Inventory) -> None:
    s = FULL[DPM]
    form = sessionform.from_session(s)
    form.session_type = SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE
    form.dest_ips = "192.0.2.7"
    ers = sessionform.build(inv, CLOUD, form, s).session
    assert ers.source_rx.wildcard_types == s.source_rx.wildcard_types, "wildcards: the new type has port sources"
    assert ers.netstack == s.netstack
    assert ers.destination == VspanPorts(ip_addresses=("192.0.2.7",))
    assert ers.encapsulation_vlan_id is None  # ERSPAN refuses one (V12)
    form.session_type = SessionType.REMOTE_MIRROR_DEST
    rmd = sessionform.build(inv, CLOUD, form, s).session
    assert rmd.source_rx == VspanPorts() and rmd.source_tx == VspanPorts()
    assert rmd.netstack == s.netstack


# -- the snapshot backend in memory (tui/backends/snapshot.py) ----------------------------------


@pytest.mark.parametrize("t", TYPES)
def test_snapshot_backend_edit_toggle_clone(lab_file: Path, t: str) -> None:
    backend = SnapshotBackend(lab_file)
    inv = backend.load()
    s = FULL[t]
    assert inv.switches[CLOUD].session(str(s.key)) == s, "the lab holds the session as written"
    done = backend.apply(inv, CLOUD, [SessionChange(ChangeOperation.EDIT, renamed(s))])
    assert done.switch.session(str(s.key)) == renamed(s)
    inv = backend.load()
    toggled = renamed(s).with_changes(enabled=not s.enabled)
    done = backend.apply(inv, CLOUD, [SessionChange(ChangeOperation.EDIT, toggled)])
    assert done.switch.session(str(s.key)) == toggled
    inv = backend.load()
    clone = clone_of(s)
    if dest := CLONE_DEST[t]:
        clone = clone.with_changes(destination=replace(clone.destination, port_keys=(dest,)))
    done = backend.apply(inv, CLOUD, [SessionChange(ChangeOperation.ADD, clone)])
    stored = done.switch.session(done.keys[0])
    assert stored is not None and stored.key not in (None, s.key)
    assert differences(stored, s, ignore=("key", "name", "destination")) == {}
    assert stored.destination.uplink_names == s.destination.uplink_names
    assert stored.destination.ip_addresses == s.destination.ip_addresses


# -- the CLI (tui/cli_sessions.py) -------------------------------------------------------------


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main([*argv, "--json"], environ={})
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else err


@pytest.mark.parametrize("t", TYPES)
def test_cli_edit_enable_disable(lab_file: Path, capsys: pytest.CaptureFixture[str], t: str) -> None:
    s = FULL[t]
    where = ("--snapshot", str(lab_file), "--switch", "dvSwitchCloud", "--session", str(s.key))
    code, result = cli(capsys, "session", "edit", *where, "--name", renamed(s).name)
    assert code == 0, result
    assert result["stored"] == renamed(s).to_api()
    assert result["change"]["session"] == renamed(s).to_api()
    verb = "disable" if s.enabled else "enable"
    code, result = cli(capsys, "session", verb, *where)
    assert code == 0, result
    assert result["stored"] == s.with_changes(enabled=not s.enabled).to_api()


@pytest.mark.parametrize("t", TYPES)
def test_cli_edit_of_other_fields_keeps_wildcards_and_netstack(
    lab_file: Path, capsys: pytest.CaptureFixture[str], t: str
) -> None:
    s = FULL[t]
    where = ("--snapshot", str(lab_file), "--switch", "dvSwitchCloud", "--session", str(s.key))
    code, result = cli(capsys, "session", "edit", *where, "--description", "x", "--length", "128")
    assert code == 0, result
    stored = session_from_api(result["stored"])
    assert differences(stored, s) == {
        "description": ("x", s.description),
        "mirrored_packet_length": (128, s.mirrored_packet_length),
    }


# -- snapshot save → load ------------------------------------------------------------------------


def test_snapshot_save_and_load_keep_every_session_field(
    lab_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "saved.json"
    code = main(["snapshot", "save", str(out), "--snapshot", str(lab_file)], environ={})
    assert code == 0, capsys.readouterr()
    saved = SnapshotBackend(out).load().switches[CLOUD]
    for s in FULL.values():
        assert saved.session(str(s.key)) == s
    # The JSON text of each session is the API shape, wildcards and netstack included.
    data = json.loads(out.read_text(encoding="utf-8"))
    cloud = next(x for x in data["switches"] if x["key"] == CLOUD)
    by_key = {x["key"]: x for x in cloud["sessions"]}
    assert by_key["11"]["sourcePortReceived"]["wildcardPortConnecteeType"] == ["vmVnic", "hostVmkVnic"]
    assert by_key["11"]["netstack"] == "mirrorStack"
    assert (
        parse_inventory(dump_inventory(parse_inventory(data, "a")), "b").switches == parse_inventory(data, "a").switches
    )


# -- pyVmomi: the serializer is the judge (tui/backends/_convert.py) ------------------------------

VERSIONS = ["vim.version.v7_0_3_0", "vim.version.v9_1_1_0"]
WILDCARDS = ["pnic", "vmVnic", "hostConsoleVnic", "hostVmkVnic", "systemCrxVnic"]
TEXT = ["a", "DMZ & <IDS> %2f %25", "名前", "x" * 80, " spaced ", "tab\there"]


def _random_ports(rng: random.Random) -> Any:
    if rng.random() < 0.3:
        return None
    p = VS.VspanPorts()
    while True:
        if rng.random() < 0.6:
            p.portKey = [str(rng.randrange(0, 5000)) for _ in range(rng.randrange(1, 4))]
        if rng.random() < 0.3:
            p.uplinkPortName = [f"dvUplink{rng.randrange(1, 9)}" for _ in range(rng.randrange(1, 3))]
        if rng.random() < 0.3:
            p.wildcardPortConnecteeType = rng.sample(WILDCARDS, rng.randrange(1, 4))
        if rng.random() < 0.3:
            p.vlans = [rng.randrange(0, 4095) for _ in range(rng.randrange(1, 4))]
        if rng.random() < 0.3:
            p.ipAddress = rng.sample(["192.0.2.1", "2001:db8::1", "198.51.100.7"], rng.randrange(1, 3))
        if p.portKey or p.uplinkPortName or p.wildcardPortConnecteeType or p.vlans or p.ipAddress:
            return p


def random_vim_session(seed: int) -> Any:
    """A pyVmomi VspanSession with each optional field set or unset at random (seeded)."""
    rng = random.Random(seed)

    def maybe(value: Any) -> Any:
        return value if rng.random() < 0.6 else None

    s = VS.VspanSession(
        key=maybe(str(rng.randrange(1, 10**6))),
        name=maybe(rng.choice(TEXT)),
        description=maybe(rng.choice(TEXT)),
        enabled=rng.random() < 0.5,
        stripOriginalVlan=rng.random() < 0.5,
        normalTrafficAllowed=rng.random() < 0.5,
        sessionType=maybe(rng.choice([*TYPES, "aFutureType"])),
        encapsulationVlanId=maybe(rng.randrange(0, 4095)),
        mirroredPacketLength=maybe(rng.randrange(60, 65536)),
        samplingRate=maybe(rng.randrange(1, 65536)),
        encapType=maybe(rng.choice(["gre", "erspan2", "erspan3"])),
        erspanId=maybe(rng.randrange(0, 1024)),
        erspanCOS=maybe(rng.randrange(0, 8)),
        erspanGraNanosec=maybe(rng.random() < 0.5),
        netstack=maybe(rng.choice(["mirror", "defaultTcpipStack", "ns ü"])),
    )
    s.sourcePortTransmitted = _random_ports(rng)
    s.sourcePortReceived = _random_ports(rng)
    s.destinationPort = _random_ports(rng)
    return s


def wire(obj: Any, version: str) -> bytes:
    return bytes(SoapAdapter.Serialize(obj, version=version))


SEEDS = list(range(150))


@pytest.mark.parametrize("seed", SEEDS)
def test_pyvmomi_serialization_round_trip(seed: int) -> None:
    x = random_vim_session(seed)
    model = _convert.session_from_vim(x)
    for version in VERSIONS:
        assert wire(_convert.session_to_vim(model), version) == wire(x, version)
        # An unchanged session sent as an edit is the stored session, byte for byte: nothing reset.
        assert wire(_convert.session_to_vim(model, model), version) == wire(x, version)
        # What pyVmomi's deserializer reads back from those bytes converts to the same model.
        back = SoapAdapter.Deserialize(wire(x, version))
        assert _convert.session_from_vim(back) == model


@pytest.mark.parametrize("t", TYPES)
def test_edit_spec_differs_from_the_stored_session_only_in_the_edited_field(t: str) -> None:
    stored = FULL[t]
    props = {
        "uuid": CLOUD,
        "name": "sw",
        "config.configVersion": "3",
        "config.vspanSession": [_convert.session_to_vim(stored)],
    }
    current = _convert._switch_from_props("dvs-1", props, "")
    assert current.session(str(stored.key)) == stored
    for attr, value in (("name", renamed(stored).name), ("enabled", not stored.enabled)):
        edited = stored.with_changes(**{attr: value})
        spec = _convert._config_spec(current, [SessionChange(ChangeOperation.EDIT, edited)])
        assert spec.configVersion == "3" and spec.vspanConfigSpec[0].operation == "edit"
        expected = _convert.session_to_vim(stored)
        setattr(expected, attr, value)
        for version in VERSIONS:
            assert wire(spec.vspanConfigSpec[0].vspanSession, version) == wire(expected, version)


def test_normalised_values_are_not_sent_back() -> None:
    """What the model reads as unset (-1 length, "" name, an empty list) is not sent in an edit:
    vCenter merges an edit (vspan.md §5.2, QA DistributedVirtualSwitchHelper.mergeVspansCfgs),
    so the stored value stays as it is."""
    x = VS.VspanSession(
        key="5", name="", description="", mirroredPacketLength=-1, sourcePortReceived=VS.VspanPorts(), enabled=True
    )
    model = _convert.session_from_vim(x)
    assert model.name == "" and model.mirrored_packet_length is None and model.source_rx == VspanPorts()
    sent = _convert.session_to_vim(model, model)
    assert (sent.name, sent.description, sent.mirroredPacketLength, sent.sourcePortReceived) == (None, None, None, None)
    # Clearing what was set is still sent, as the documented "unset" values.
    named = model.with_changes(name="old", mirrored_packet_length=128)
    cleared = _convert.session_to_vim(model, named)
    assert (cleared.name, cleared.mirroredPacketLength) == ("", -1)


def test_pyvmomi_knows_no_session_field_the_model_lacks() -> None:
    """Every property pyVmomi declares on VspanSession/VspanPorts is carried by the model, except
    DynamicData's own dynamicType/dynamicProperty, which an edit never sends (so vCenter keeps them)."""
    session_props = {p.name for p in VS.VspanSession._GetPropertyList()} - {"dynamicType", "dynamicProperty"}
    api = set(MirrorSession().to_api())
    assert session_props == api
    ports_props = {p.name for p in VS.VspanPorts._GetPropertyList()} - {"dynamicType", "dynamicProperty"}
    assert ports_props == set(VspanPorts(wildcard_types=("pnic",)).to_api())
    x = VS.VspanSession(key="1", dynamicType="x", dynamicProperty=[vim.DynamicProperty(name="future", val="1")])
    sent = _convert.session_to_vim(_convert.session_from_vim(x), _convert.session_from_vim(x))
    assert sent.dynamicType is None and list(sent.dynamicProperty) == []


# -- unknown capability ---------------------------------------------------------------------------

ALL = tuple(t.value for t in SessionType)


def flags(**unset: Any) -> Any:
    values = {
        "mixedDestSupported": True,
        "dvportSupported": True,
        "remoteSourceSupported": True,
        "remoteDestSupported": True,
        "encapRemoteSourceSupported": True,
        "erspanProtocolSupported": True,
    }
    values.update(unset)
    return VS.VspanFeatureCapability(**{k: v for k, v in values.items() if v is not None})


@pytest.mark.parametrize(
    ("features", "vspan", "supported", "unknown", "erspan"),
    [
        (None, None, (), ALL, None),
        (VS.FeatureCapability(), None, (), ALL, None),
        (VS.FeatureCapability(vspanSupported=True), True, (), ALL, None),
        (VS.FeatureCapability(vspanSupported=False), False, (), (), False),
        (VS.FeatureCapability(vspanSupported=True, vspanCapability=flags()), True, ALL, (), True),
        (VS.FeatureCapability(vspanSupported=True, vspanCapability=flags(erspanProtocolSupported=None)),
         True, ALL, (), None),
        (
            VS.FeatureCapability(vspanSupported=True, vspanCapability=flags(encapRemoteSourceSupported=False)),
            True,
            (DPM, RMS, RMD, MIX),
            (),
            True,
        ),
        (
            VS.FeatureCapability(
                vspanSupported=True,
                vspanCapability=VS.VspanFeatureCapability(),  # every required flag unset reads as False
            ),
            True,
            (),
            ALL,
            None,
        ),
    ],
    ids=["no featuresSupported", "no vspanSupported", "no vspanCapability", "no VSPAN", "all", "erspan unset",
         "one flag false", "all flags unset"],
)  # fmt: skip
def test_capability_unset_is_unknown(features: Any, vspan: Any, supported: Any, unknown: Any, erspan: Any) -> None:
    cap = _convert._capability(features)
    assert (cap.vspan, set(cap.session_types), set(cap.unknown_types), cap.erspan) == (
        vspan,
        set(supported),
        set(unknown),
        erspan,
    )
    assert set(cap.offered) == set(supported) | set(unknown)


def test_a_flag_unset_in_a_duck_typed_capability_is_unknown() -> None:
    """Only that type is unknown (pyVmomi itself reads an unset required flag as False)."""

    class Cap:
        mixedDestSupported = dvportSupported = remoteSourceSupported = remoteDestSupported = True
        encapRemoteSourceSupported = None
        erspanProtocolSupported = True

    class Features:
        vspanSupported = True
        vspanCapability = Cap()

    cap = _convert._capability(Features())
    assert cap.unknown_types == (ERS,) and cap.supports(ERS) is None and cap.supports(DPM) is True


def _switch_with(inv: Inventory, cap: SwitchCapability) -> Inventory:
    return inv.with_switch(replace(inv.switches[CLOUD], capability=cap))


def test_rules_warn_about_an_unknown_type_and_refuse_an_unsupported_one(inv: Inventory) -> None:
    s = replace(FULL[ERS], key=None)
    unknown = _switch_with(inv, SwitchCapability(session_types=(DPM,), unknown_types=(ERS,), erspan=None))
    problems = rules.check(unknown, CLOUD, [SessionChange(ChangeOperation.ADD, s)])
    assert [p for p in problems if p.severity is Severity.ERROR] == []
    found = {(p.code, p.field) for p in problems}
    assert {("CapabilityUnknown", "session_type"), ("CapabilityUnknown", "encap_type")} <= found
    assert "vCenter did not report whether switch dvSwitchCloud" in problems[-1].message or any(
        "vCenter did not report" in p.message for p in problems
    )
    refused = _switch_with(inv, SwitchCapability(session_types=(DPM,), erspan=False))
    codes = {(p.code, p.field) for p in rules.check(refused, CLOUD, [SessionChange(ChangeOperation.ADD, s)])}
    assert {("NotSupported", "session_type"), ("NotSupported", "encap_type")} <= codes
    everything = _switch_with(inv, SwitchCapability.unknown())
    assert not [
        p
        for p in rules.check(everything, CLOUD, [SessionChange(ChangeOperation.ADD, s)])
        if p.severity is Severity.ERROR
    ]


def test_new_session_prefers_a_reported_type() -> None:
    from tui.model import Switch

    def sw(cap: SwitchCapability) -> Switch:
        return Switch(key="k", name="n", capability=cap)

    assert new_session(sw(SwitchCapability())).session_type == DPM
    assert new_session(sw(SwitchCapability.unknown())).session_type == DPM
    assert new_session(sw(SwitchCapability(session_types=(MIX,), unknown_types=(DPM, RMS)))).session_type == MIX
    assert new_session(sw(SwitchCapability(session_types=(RMD,)))).session_type == RMD


@pytest.mark.parametrize(
    "cap",
    [
        SwitchCapability(),
        SwitchCapability.unknown(),
        SwitchCapability.unknown(True),
        SwitchCapability(vspan=False, session_types=(), erspan=False),
        SwitchCapability(session_types=(DPM, MIX), unknown_types=(ERS,), erspan=None),
        SwitchCapability(session_types=(), erspan=False),
    ],
)
def test_snapshot_keeps_an_unknown_capability(inv: Inventory, cap: SwitchCapability) -> None:
    data = dump_inventory(_switch_with(inv, cap))
    back = parse_inventory(json.loads(json.dumps(data)), "saved")
    assert back.switches[CLOUD].capability == cap


def test_old_snapshots_keep_their_capability_meaning(inv: Inventory) -> None:
    data = dump_inventory(inv)
    cloud = next(x for x in data["switches"] if x["key"] == CLOUD)
    assert "unknownSessionTypes" not in cloud["capability"], "a known capability is written as before"
    for old, expected in [
        ({"vspan": True, "sessionTypes": [DPM], "erspan": False}, SwitchCapability(session_types=(DPM,), erspan=False)),
        ({"vspan": True, "sessionTypes": [], "erspan": True}, SwitchCapability()),  # empty meant "all"
        ({}, SwitchCapability()),
        ({"vspan": None, "sessionTypes": [DPM], "erspan": None},
         SwitchCapability(vspan=None, session_types=(DPM,), erspan=None)),
    ]:  # fmt: skip
        cloud["capability"] = old
        assert parse_inventory(data, "old").switches[CLOUD].capability == expected, old
    del cloud["capability"]
    assert parse_inventory(data, "old").switches[CLOUD].capability == SwitchCapability()


def test_form_keeps_values_it_cannot_show(inv: Inventory) -> None:
    """A future session type or encapsulation type, or an uplink the switch does not list, is kept
    as read (the rules flag it), not replaced by what the form's widgets can show."""
    s = MirrorSession(
        key="9",
        session_type="aFutureType",
        source_rx=VspanPorts(port_keys=("448",), wildcard_types=("vmVnic",)),
        destination=VspanPorts(uplink_names=("dvUplink9",)),
        encap_type="erspan4",
        netstack="n",
    )
    form = sessionform.from_session(s)
    assert form.encap_type == "gre" and form.session_type is SessionType.MIXED_DEST_MIRROR
    form.name = "renamed"
    assert sessionform.build(inv, CLOUD, form, s).session == s.with_changes(name="renamed")
    form.encap_type = "gre"  # unchanged as shown: kept
    assert sessionform.build(inv, CLOUD, form, s).session.encap_type == "erspan4"
