"""The one table of what each session type takes (``tui.model.SESSION_TYPES``, vspan.md §2.2).

The rules, the wizard's form and the CLI read it; these tests pin what they derive from it to
the copies that were written out by hand before the table existed, and check that every name
in the table is a real attribute (a typo there would silently switch a rule off).
"""

from __future__ import annotations

from dataclasses import fields

import pytest

from tui import rules, sessionform
from tui.model import SESSION_TYPES, MirrorSession, SessionType, VspanPorts

DPM = SessionType.DV_PORT_MIRROR
RMS = SessionType.REMOTE_MIRROR_SOURCE
RMD = SessionType.REMOTE_MIRROR_DEST
ERS = SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE
MIX = SessionType.MIXED_DEST_MIRROR

SESSION_ATTRS = {f.name for f in fields(MirrorSession)}
PORT_KINDS = {f.name for f in fields(VspanPorts)}


def test_every_type_has_one_entry() -> None:
    assert set(SESSION_TYPES) == set(SessionType)


@pytest.mark.parametrize("t", list(SessionType))
def test_entry_names_real_attributes(t: SessionType) -> None:
    spec = t.spec
    for lst in ("source_tx", "source_rx", "destination"):
        assert spec.accepts(lst) <= PORT_KINDS
    scalars = spec.takes | set(spec.required) | set(spec.refuses)
    assert scalars <= SESSION_ATTRS
    assert not spec.takes & set(spec.refuses)
    assert not set(spec.required) & set(spec.refuses)
    assert all(message.endswith(".") for message in (*spec.required.values(), *spec.refuses.values()))


def test_labels_are_the_vsphere_client_names() -> None:
    # vspan.md §8.2
    assert [t.label for t in SessionType] == [
        "Distributed Port Mirroring",
        "Remote Mirroring Source",
        "Remote Mirroring Destination",
        "Encapsulated Remote Mirroring (L3) Source",
        "Distributed Port Mirroring (legacy)",
    ]


def test_form_fields_are_those_the_form_showed_before() -> None:
    before = {
        DPM: {"sources", "dest_ports", "length", "sampling", "normal_io"},
        RMS: {"sources", "dest_uplinks", "encap_vlan", "preserve", "length", "sampling", "normal_io"},
        RMD: {"source_vlans", "dest_ports", "length", "sampling", "normal_io"},
        ERS: {"sources", "dest_ips", "length", "sampling", "erspan"},
        MIX: {"sources", "dest_ports", "dest_uplinks", "encap_vlan", "preserve", "length", "normal_io"},
    }
    derived = dict(sessionform.FIELDS_BY_TYPE)
    assert derived == before
    assert [t for t in SessionType if sessionform.encap_required(t)] == [RMS]


def test_accepted_lists_are_vspan_md_2_2() -> None:
    ports, wild = {"port_keys"}, {"port_keys", "wildcard_types"}
    table = {t: (t.spec.source_tx, t.spec.source_rx, t.spec.destination) for t in SessionType}
    assert table == {
        DPM: (ports, wild, ports),
        RMS: (ports, wild, {"uplink_names"}),
        RMD: (set(), {"vlans"}, ports),  # Tx must be null (QA portmirror Neg005)
        ERS: (ports, wild, {"ip_addresses"}),
        MIX: (ports, wild, {"port_keys", "uplink_names"}),
    }
    assert [t for t in SessionType if t.spec.uplink_port_destinations] == [MIX]  # §2.1


def test_accepts_text_is_what_the_messages_said_before() -> None:
    said = {
        DPM: ("ports", "ports", "ports"),
        RMS: ("ports", "ports", "uplinks"),
        RMD: ("", "VLAN IDs", "ports"),
        ERS: ("ports", "ports", "IP addresses"),
        MIX: ("ports", "ports", "ports or uplinks"),
    }
    for t, words in said.items():
        assert tuple(rules._accepts_text(t, lst) for lst in ("source_tx", "source_rx", "destination")) == words


def test_required_and_refused_fields() -> None:
    assert {t: set(t.spec.required) for t in SessionType if t.spec.required} == {RMS: {"encapsulation_vlan_id"}}
    assert {t: set(t.spec.refuses) for t in SessionType if t.spec.refuses} == {
        ERS: {"encapsulation_vlan_id"},
        MIX: {"sampling_rate"},
    }
