"""Conversions between pyVmomi objects and the model, and vCenter faults as problems (no server)."""

from __future__ import annotations

from typing import Any

import pytest

from tui.backends import _convert, _faults
from tui.backends._versions import version_tuple
from tui.model import API_NAMES, ChangeOperation, MirrorSession, SessionChange, SessionType, Switch, Vlan, VspanPorts

pyVmomi = pytest.importorskip("pyVmomi")
vim = pyVmomi.vim
VS = vim.dvs.VmwareDistributedVirtualSwitch

FULL = MirrorSession(
    key="7",
    name="ERSPAN to sensor",
    description="all fields set",
    enabled=False,
    session_type=SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE.value,
    source_tx=VspanPorts(port_keys=("817",)),
    source_rx=VspanPorts(port_keys=("817", "818")),
    destination=VspanPorts(ip_addresses=("192.0.2.1", "2001:db8::1")),
    strip_original_vlan=True,
    mirrored_packet_length=128,
    normal_traffic_allowed=True,
    sampling_rate=10,
    encap_type="erspan3",
    erspan_id=1023,
    erspan_cos=7,
    erspan_gra_nanosec=True,
    netstack="mirror",
)


def test_every_session_field_survives_a_round_trip() -> None:
    s = _convert.session_to_vim(FULL)
    assert list(s.sourcePortTransmitted.portKey) == ["817"], "a list, never a bare string (vspan.md §1.8)"
    assert _convert.session_from_vim(s) == FULL
    rsd = MirrorSession(
        key="3",
        session_type="remoteMirrorDest",
        source_rx=VspanPorts(vlans=(0, 4094)),
        destination=VspanPorts(port_keys=("12",)),
        encapsulation_vlan_id=None,
    )
    assert _convert.session_from_vim(_convert.session_to_vim(rsd)) == rsd
    rms = MirrorSession(
        key="4",
        session_type="remoteMirrorSource",
        source_tx=VspanPorts(port_keys=("1",)),
        destination=VspanPorts(uplink_names=("dvUplink1", "dvUplink2")),
        encapsulation_vlan_id=205,
    )
    assert _convert.session_from_vim(_convert.session_to_vim(rms)) == rms


def test_add_sends_no_key_and_omits_empty_lists() -> None:
    current = Switch(key="u", name="sw", config_version="12")
    spec = _convert._config_spec(
        current, [SessionChange(ChangeOperation.ADD, FULL.with_changes(destination=VspanPorts()))]
    )
    assert spec.configVersion == "12"
    (entry,) = spec.vspanConfigSpec
    assert entry.operation == "add"
    assert entry.vspanSession.key is None
    assert entry.vspanSession.destinationPort is None


def test_edit_sends_the_whole_session_and_clears_what_was_removed() -> None:
    stored = FULL.with_changes(destination=VspanPorts(port_keys=("9",)), session_type="dvPortMirror")
    edited = stored.with_changes(destination=VspanPorts(), mirrored_packet_length=None, name="renamed")
    current = Switch(key="u", name="sw", config_version="13", sessions=(stored,))
    spec = _convert._config_spec(current, [SessionChange(ChangeOperation.EDIT, edited)])
    s = spec.vspanConfigSpec[0].vspanSession
    assert s.key == "7" and s.name == "renamed"
    assert s.destinationPort is not None and not s.destinationPort.portKey, "an empty list clears a merged edit"
    assert s.mirroredPacketLength == -1, "whole frames again (vspan.md §3)"
    assert s.samplingRate == 10 and s.enabled is False and s.normalTrafficAllowed is True


def test_remove_sends_the_key() -> None:
    current = Switch(key="u", name="sw", config_version="2", sessions=(FULL,))
    spec = _convert._config_spec(current, [SessionChange(ChangeOperation.REMOVE, FULL)])
    entry = spec.vspanConfigSpec[0]
    assert (entry.operation, entry.vspanSession.key, entry.vspanSession.name) == ("remove", "7", None)


def test_unset_length_and_non_positive_lengths_read_as_whole_frames() -> None:
    s = VS.VspanSession(key="1", mirroredPacketLength=-1)
    assert _convert.session_from_vim(s).mirrored_packet_length is None
    assert _convert.session_from_vim(VS.VspanSession(key="1")).session_type is None


FAULTS = [
    (
        vim.fault.VspanDestPortConflict(vspanSessionKey1="1", vspanSessionKey2="3", portKey="2241"),
        "VspanDestPortConflict",
        "Port 2241 is already the destination",
        "destination",
    ),
    (
        vim.fault.VspanPortConflict(vspanSessionKey1="1", vspanSessionKey2="2", portKey="448"),
        "VspanPortConflict",
        "egress (transmitted) source in session 1",
        "destination",
    ),
    (
        vim.fault.VspanSameSessionPortConflict(vspanSessionKey="5", portKey="448"),
        "VspanSameSessionPortConflict",
        "both a source and the destination of session 5",
        "destination",
    ),
    (
        vim.fault.VspanPromiscuousPortNotSupported(vspanSessionKey="5", portKey="12"),
        "VspanPromiscuousPortNotSupported",
        "Port 12 is promiscuous",
        "",
    ),
    (
        vim.fault.NotFound(msg="port 99999 not found"),
        "NotFound",
        "could not find a port, uplink or session the change refers to: port 99999",
        "",
    ),
    (
        pyVmomi.vmodl.fault.InvalidArgument(invalidProperty="vspanSession.samplingRate"),
        "InvalidArgument",
        "rejected a value (vspanSession.samplingRate)",
        "sampling_rate",
    ),
    (
        vim.fault.NoPermission(privilegeId="DVSwitch.Vspan"),
        "NoPermission",
        "You lack the DVSwitch.Vspan privilege",
        "",
    ),
    (
        vim.fault.DvsFault(msg="host esx-03 is unreachable"),
        "DvsFault",
        "vCenter refused the change (DvsFault): host esx-03 is unreachable",
        "",
    ),
]


@pytest.mark.parametrize(("fault", "code", "words", "field"), FAULTS, ids=[f[1] for f in FAULTS])
def test_faults_become_plain_problems(fault: Any, code: str, words: str, field: str) -> None:
    problem = _faults._problem_from_fault(fault)
    assert problem.code == code
    assert words in problem.message
    assert problem.field == field
    assert "vim." not in problem.message


INVALID_PROPERTIES = [
    *((f"vspanSession.{api}", attr) for attr, api in API_NAMES.items()),
    ("vspanSession.sourcePortReceived.vlans", "source_rx"),
    ("vspanSession.destinationPort.ipAddress", "destination"),
    ("vspanSession.destinationPort.uplinkPortName", "destination"),
    ("vspanSession.sourcePortTransmitted.portKey", ""),
    ("vspanSession.destinationPort.wildcardPortConnecteeType", ""),
    ("spec.unheardOf", ""),
]


@pytest.mark.parametrize(("prop", "field"), INVALID_PROPERTIES, ids=[p for p, _ in INVALID_PROPERTIES])
def test_invalid_argument_names_the_session_field(prop: str, field: str) -> None:
    """``invalidProperty`` names the attribute a form marks; a port-list member names its one port set, if any."""
    problem = _faults._problem_from_fault(pyVmomi.vmodl.fault.InvalidArgument(invalidProperty=prop))
    assert problem.code == "InvalidArgument"
    assert problem.field == field
    assert f"({prop})" in problem.message


def test_bulk_fault_names_the_hosts() -> None:
    host = vim.HostSystem("host-21", None)
    inner = vim.fault.DvsFault(msg="ERSPAN destination unreachable")
    fault = vim.fault.DvsOperationBulkFault(
        hostFault=[vim.fault.DvsOperationBulkFault.FaultOnHost(host=host, fault=inner)]
    )
    problem = _faults._problem_from_fault(fault, {"host-21": "esx-03"})
    assert problem.code == "DvsOperationBulkFault"
    assert "esx-03: ERSPAN destination unreachable" in problem.message
    assert "host-21: ERSPAN" in _faults._problem_from_fault(fault).message


def test_capability_from_feature_flags() -> None:
    cap = VS.VspanFeatureCapability(
        mixedDestSupported=True,
        dvportSupported=True,
        remoteSourceSupported=True,
        remoteDestSupported=False,
        encapRemoteSourceSupported=True,
        erspanProtocolSupported=False,
    )
    features = VS.FeatureCapability(vspanSupported=True, vspanCapability=cap)
    got = _convert._capability(features)
    assert got.vspan and not got.erspan
    assert set(got.session_types) == {
        "mixedDestMirror",
        "dvPortMirror",
        "remoteMirrorSource",
        "encapsulatedRemoteMirrorSource",
    }
    # vspanCapability unset (issue 7): unknown, so every type is offered and vCenter decides.
    legacy = _convert._capability(VS.FeatureCapability(vspanSupported=True))
    assert legacy.session_types == () and set(legacy.unknown_types) == {t.value for t in SessionType}
    assert legacy.vspan is True and legacy.erspan is None
    assert not _convert._capability(VS.FeatureCapability(vspanSupported=False)).vspan
    unknown = _convert._capability(None)
    assert unknown.vspan is None and unknown.supports("dvPortMirror") is None
    assert unknown.offered == tuple(t.value for t in SessionType), "unknown: offer everything and let vCenter decide"


def test_vlan_specs() -> None:
    assert _convert._vlan_from_vim(VS.VlanIdSpec(vlanId=204)) == Vlan(vlan_id=204)
    trunk = VS.TrunkVlanSpec(vlanId=[vim.NumericRange(start=1, end=99), vim.NumericRange(start=205, end=205)])
    assert _convert._vlan_from_vim(trunk) == Vlan(vlan_id=None, trunk=((1, 99), (205, 205)))
    assert _convert._vlan_from_vim(VS.PvlanSpec(pvlanId=999)) == Vlan(vlan_id=None, pvlan=999)
    assert _convert._vlan_from_vim(None) == Vlan()


def test_promiscuous_prefers_the_mac_management_policy() -> None:
    both = VS.VmwarePortConfigPolicy(
        securityPolicy=VS.SecurityPolicy(allowPromiscuous=vim.BoolPolicy(value=True)),
        macManagementPolicy=VS.MacManagementPolicy(allowPromiscuous=False),
    )
    assert _convert._promiscuous(both) is False
    old = VS.VmwarePortConfigPolicy(securityPolicy=VS.SecurityPolicy(allowPromiscuous=vim.BoolPolicy(value=True)))
    assert _convert._promiscuous(old) is True
    assert _convert._promiscuous(None) is False


def test_version_tuple() -> None:
    assert version_tuple("7.0.3.0") > version_tuple("7.0")
    assert version_tuple("6.7") > version_tuple("6.5")
    assert version_tuple("8.0.1.0") <= version_tuple("8.0.3.0")


def test_edit_sends_defaults_for_cleared_optional_values() -> None:
    """vCenter merges an edit: a cleared value must be sent as its default, or the old one stays."""
    stored = MirrorSession(
        key="7",
        session_type="encapsulatedRemoteMirrorSource",
        sampling_rate=10,
        encap_type="erspan3",
        erspan_id=5,
        erspan_cos=3,
        erspan_gra_nanosec=True,
    )
    cleared = stored.with_changes(
        sampling_rate=None, encap_type=None, erspan_id=None, erspan_cos=None, erspan_gra_nanosec=None
    )
    vim_session = _convert.session_to_vim(cleared, stored)
    assert (vim_session.samplingRate, vim_session.encapType) == (1, "gre")
    assert (vim_session.erspanId, vim_session.erspanCOS, vim_session.erspanGraNanosec) == (0, 0, False)
    # A new session sends nothing it does not set.
    fresh = _convert.session_to_vim(cleared.with_changes(key=None))
    assert fresh.samplingRate is None and fresh.erspanId is None
    # The legacy type never carries a sampling rate, even when one is cleared.
    legacy = MirrorSession(key="8", session_type="mixedDestMirror", sampling_rate=None)
    assert _convert.session_to_vim(legacy, legacy.with_changes(sampling_rate=1)).samplingRate is None


def test_importing_the_backend_and_its_helpers_loads_no_pyvmomi() -> None:
    """vsphere.py's promise (pyVmomi only once connect runs) holds for the modules it was split into."""
    import subprocess
    import sys

    from tests.conftest import REPO

    modules = ", ".join(f"tui.backends.{m}" for m in ("vsphere", "_convert", "_faults", "_tls", "_recovery"))
    script = f"import sys, {modules}\nprint(*sorted(m for m in sys.modules if m.startswith(('pyVmomi', 'pyVim'))))"
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_a_switch_read_again_holds_an_add_that_vcenter_completed_with_its_defaults() -> None:
    """After a lost answer: vCenter stores the defaults for what was not sent, and may fill in type and netstack."""
    from tui.backends._recovery import _changes_found

    sent = MirrorSession(
        name="to sensor",
        session_type=None,
        source_rx=VspanPorts(port_keys=("818", "817")),
        destination=VspanPorts(ip_addresses=("192.0.2.1",)),
        encap_type=None,
    )
    stored = sent.with_changes(
        key="31",
        session_type=SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE.value,
        source_rx=VspanPorts(port_keys=("817", "818")),
        sampling_rate=1,
        encap_type="gre",
        erspan_id=0,
        erspan_cos=0,
        erspan_gra_nanosec=False,
        netstack="defaultTcpipStack",
    )
    before = Switch(key="u", name="sw", config_version="4")
    add = [SessionChange(ChangeOperation.ADD, sent)]
    assert _changes_found(before, Switch(key="u", name="sw", config_version="5", sessions=(stored,)), add)
    for differs in (stored.with_changes(sampling_rate=10), stored.with_changes(encap_type="erspan3")):
        assert not _changes_found(before, Switch(key="u", name="sw", config_version="5", sessions=(differs,)), add)
    netstack_sent = [SessionChange(ChangeOperation.ADD, sent.with_changes(netstack="mirrorStack"))]
    assert not _changes_found(before, Switch(key="u", name="sw", config_version="5", sessions=(stored,)), netstack_sent)
