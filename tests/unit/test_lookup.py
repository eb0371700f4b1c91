"""The lookup index: every identifier kind, MAC notations, ranking, hostile names."""

from __future__ import annotations

import pytest

from tui.lookup import Field, Hit, LookupIndex, Match, ResolveError, normalize_mac, resolve_port
from tui.model import Inventory


@pytest.fixture
def index(demo: Inventory) -> LookupIndex:
    return LookupIndex(demo)


def port_key(hit: Hit) -> str:
    """The key of the hit's port (every hit in these tests is on a port)."""
    assert hit.port is not None, hit
    return hit.port.key


def keys(index: LookupIndex, query: str) -> list[str]:
    return [port_key(h) for h in index.search(query)]


@pytest.mark.parametrize(
    ("query", "port", "field"),
    [
        ("MGTSRVR003UX", "2258", Field.VM),
        ("mgtsrvr003ux", "2258", Field.VM),
        ("F5-LTM01/Network adapter 2", "448", Field.VM_NIC),
        ("172.24.4.52", "302", Field.IP),
        ("10.20.4.10", "448", Field.IP),
        ("fe80::250:56ff:fe9a:1", None, Field.IP),
        ("2258", "2258", Field.PORT),
        ("00:50:56:9a:1b:2c", "448", Field.MAC),
    ],
)
def test_exact_matches(index: LookupIndex, query: str, port: str | None, field: Field) -> None:
    hits = index.search(query)
    assert hits, query
    assert hits[0].match is Match.EXACT
    assert hits[0].field is field
    if port is not None:
        assert port in [port_key(h) for h in hits if h.match is Match.EXACT]


@pytest.mark.parametrize(
    "notation", ["00:50:56:9a:1b:2c", "00-50-56-9A-1B-2C", "0050.569a.1b2c", "0050569A1B2C", " 00:50:56:9A:1B:2C "]
)
def test_mac_in_any_notation(index: LookupIndex, notation: str) -> None:
    hits = index.search(notation)
    assert [(port_key(h), h.field, h.match) for h in hits] == [("448", Field.MAC, Match.EXACT)]


def test_partial_mac(index: LookupIndex) -> None:
    hits = index.search("9a:1b:2")
    assert {port_key(h) for h in hits} == {"100", "448"}
    assert all(h.field is Field.MAC for h in hits)


def test_normalize_mac() -> None:
    assert normalize_mac("0050.569a.1b2c") == "0050569a1b2c"
    assert normalize_mac("00:50:56:9a:1b") is None
    assert normalize_mac("zz:50:56:9a:1b:2c") is None


def test_vm_with_several_nics_gives_one_row_per_port(index: LookupIndex) -> None:
    assert sorted(keys(index, "MGTSRVR003UX")) == ["2258", "300"]
    assert len(keys(index, "SQL-CLUSTER01")) == 3


def test_exact_before_prefix_before_substring(index: LookupIndex) -> None:
    hits = index.search("web")
    assert hits and all(h.match is not Match.EXACT for h in hits)
    prefix = [h for h in hits if h.match is Match.PREFIX]
    substring = [h for h in hits if h.match is Match.SUBSTRING]
    assert prefix and substring
    assert hits.index(prefix[-1]) < hits.index(substring[0])
    # natural order: WEB2 before WEB10
    names = [h.text for h in prefix if h.field is Field.VM]
    assert names.index("WEB02") < names.index("WEB10")


def test_port_key_exact_beats_substring(index: LookupIndex) -> None:
    hits = index.search("448")
    assert port_key(hits[0]) == "448" and hits[0].match is Match.EXACT


@pytest.mark.parametrize("name", ["vm[prod]", "[/x]", "Überwachung-01 📡"])
def test_hostile_names_are_plain_text(index: LookupIndex, name: str) -> None:
    hits = index.search(name)
    assert hits[0].text == name and hits[0].match is Match.EXACT


def test_portgroup_and_nic_queries(index: LookupIndex, demo: Inventory) -> None:
    dmz = [h for h in index.search("dvPgDMZ") if h.match is Match.EXACT]
    assert len(dmz) == 48
    vmk = index.search("vmk0")
    assert {port_key(h) for h in vmk if h.match is Match.EXACT} == {"16", "17", "18", "19"}


def test_nothing_and_empty(index: LookupIndex) -> None:
    assert index.search("no-such-thing") == []
    assert index.search("   ") == []


def test_limit(index: LookupIndex) -> None:
    assert len(index.search("dvPg", limit=5)) == 5
    assert len(index.search("dvPg", limit=None)) > 200


def test_resolve_port(demo: Inventory) -> None:
    assert resolve_port(demo, "2258").key == "2258"
    assert resolve_port(demo, "f5-ltm01/network adapter 2").key == "448"
    assert resolve_port(demo, "KRBCLIENT01").key == "302"
    assert resolve_port(demo, "[/x]").key == "501"
    with pytest.raises(ResolveError) as ambiguous:
        resolve_port(demo, "F5-LTM01")
    assert len(ambiguous.value.candidates) == 2
    assert any("448 · F5-LTM01 / Network adapter 2" in c for c in ambiguous.value.candidates)
    with pytest.raises(ResolveError, match="no port, VM or VM/NIC"):
        resolve_port(demo, "NOPE")
    # Port keys repeat across switches: port 10 exists on both.
    with pytest.raises(ResolveError, match="ambiguous"):
        resolve_port(demo, "20")


@pytest.mark.parametrize(
    ("text", "ref", "direction"),
    [
        ("448", "448", "both"),
        ("448:ingress", "448", "ingress"),
        ("448:in", "448", "ingress"),
        ("448:RX", "448", "ingress"),
        ("F5-LTM01/Network adapter 2:egress", "F5-LTM01/Network adapter 2", "egress"),
        ("vm:odd", "vm:odd", "both"),
    ],
)
def test_split_direction(text: str, ref: str, direction: str) -> None:
    from tui.lookup import split_direction

    assert split_direction(text) == (ref, direction)
