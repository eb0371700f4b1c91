"""The snapshot format's Structs: unknown fields, JSON paths in words, the session shape, output."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests import labgen
from tests.hostile import RAW, hostile_data
from tests.roundtrip import FULL
from tui.backends import SnapshotError
from tui.backends import snapshot_format as fmt
from tui.backends.snapshot import SnapshotBackend, dump_inventory, parse_inventory, save_inventory
from tui.cli import emit_json
from tui.model import API_NAMES, Inventory, MirrorSession, VspanPorts
from tui.text import json_text


def _errors(tmp_path: Path, data: Any) -> tuple[str, str]:
    """The message for ``data`` read from a file (msgspec first) and as parsed JSON."""
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SnapshotError) as from_file:
        SnapshotBackend(path).load()
    with pytest.raises(SnapshotError) as from_dict:
        parse_inventory(json.loads(json.dumps(data)), "snapshot snap.json")
    return from_file.value.message, from_dict.value.message


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["ports"][0].update(promiscous=True), "$.ports[0]: unknown field 'promiscous' (did you mean "),
        (lambda d: d.update(extra=1), "$: unknown field 'extra' (known: format, version, saved, vcenter, "),
        (lambda d: d["vms"][0]["nics"][0].update(mac=None, zz=1), "$.vms[0].nics[0]: unknown field 'zz'"),
        (lambda d: d["vms"][0]["nics"][0].update(key=2**64), "$.vms[0].nics[0].key: a whole number out of range"),
        (lambda d: d["hosts"][0].pop("name"), "$.hosts[0].name: missing"),
        (lambda d: d["vms"][2].update(nics={}), "$.vms[2].nics: expected a list, found an object"),
        (lambda d: d["ports"][1].update(name=7), "$.ports[1].name: expected text, found a number"),
        (lambda d: d["portgroups"][1].update(binding="x"), "$.portgroups[1].binding: 'x' is not one of earlyBinding"),
        (lambda d: d["switches"][0]["sessions"][0].update(typo=1), "$.switches[0].sessions[0]: unknown field 'typo'"),
        (
            lambda d: d["switches"][0]["sessions"][0]["destinationPort"].update(portKey=[448]),
            "$.switches[0].sessions[0].destinationPort.portKey[0]: expected text, found a number",
        ),
        (lambda d: d.update(format="other", hosts=1), "$.format: expected 'dvmirror-snapshot', found 'other'"),
        (lambda d: d.update(version=3, hosts=1), "$.version: version 3 is not supported"),
        (lambda d: d.pop("version"), "$.version: missing"),
    ],
)
def test_problems_name_the_json_path_the_same_from_a_file_or_parsed(tmp_path: Path, mutate: Any, message: str) -> None:
    data = labgen.demo_lab()
    mutate(data)
    from_file, from_dict = _errors(tmp_path, data)
    assert from_file == from_dict
    assert from_file.startswith(f"snapshot snap.json: {message}"), from_file


def test_names_from_the_file_are_shown_escaped(tmp_path: Path) -> None:
    data = labgen.demo_lab()
    data["ports"][0]["\x1b]0;pwned\x07"] = 1
    message, _ = _errors(tmp_path, data)
    assert "unknown field '\\x1b]0;pwned\\x07'" in message and not RAW.search(message)
    del data["ports"][0]["\x1b]0;pwned\x07"]
    data["portgroups"][0]["binding"] = "\x1b[2J\u202e"
    message, _ = _errors(tmp_path, data)
    assert "binding: '\\x1b[2J\\u202e' is not one of earlyBinding, lateBinding, ephemeral" in message
    assert not RAW.search(message)


def test_every_snapshot_field_reads_back(tmp_path: Path) -> None:
    """What the writer writes, the strict reader takes (nothing is written that is not declared)."""
    data = hostile_data()
    inv = parse_inventory(data, "hostile")
    again = parse_inventory(json.loads(json.dumps(dump_inventory(inv))), "again")
    assert (again.switches, again.portgroups, again.ports, again.vms) == (
        inv.switches,
        inv.portgroups,
        inv.ports,
        inv.vms,
    )


def test_the_writer_writes_what_json_dumps_wrote(tmp_path: Path) -> None:
    """Saved snapshots keep their bytes: json.dumps(indent=1) with C1 and bidi escaped."""
    inv = parse_inventory(hostile_data(), "hostile")
    path = tmp_path / "saved.json"
    save_inventory(inv, path)
    written = path.read_text(encoding="utf-8")
    data = json.loads(written)
    assert written == json_text(data, indent=1) + "\n"
    assert not RAW.search(written)


def test_session_shape_is_the_models() -> None:
    """SessionJson carries every MirrorSession attribute under its API name, as to_api writes it."""
    session_fields = {f.name for f in dataclasses.fields(MirrorSession)}
    assert set(fmt.SessionJson.__struct_fields__) == session_fields == set(API_NAMES)
    assert set(fmt.SessionJson.__struct_encode_fields__) == set(MirrorSession().to_api())
    assert set(fmt.SessionPortsJson.__struct_fields__) == {f.name for f in dataclasses.fields(VspanPorts)}
    for s in [*FULL.values(), MirrorSession(), MirrorSession(key="9", source_rx=VspanPorts(wildcard_types=("pnic",)))]:
        written = msgspec.json.decode(msgspec.json.encode(fmt.session_json(s)))
        assert written == json.loads(json.dumps(s.to_api()))
        assert list(written) == list(s.to_api())  # the API's order
        assert fmt.session_from_json(msgspec.convert(s.to_api(), fmt.SessionJson)) == s


def test_old_shapes_still_read(demo: Inventory) -> None:
    """null where a value may be left out, a numeric session key, no capability or vlan."""
    data = labgen.demo_lab()
    data["ports"][0].update(name=None, mac=None, connectee=None, linkUp=None)
    data["portgroups"][0].pop("vlan")
    data["switches"][0].pop("capability")
    data["switches"][0]["sessions"][0]["key"] = 1
    data["switches"][0]["sessions"][0]["enabled"] = None
    inv = parse_inventory(data, "old")
    port = inv.ports[next(iter(inv.ports))]
    assert (port.name, port.mac, port.connectee, port.link_up) == ("", "", None, False)
    assert inv.switches[data["switches"][0]["key"]].sessions[0].key == "1"
    assert inv.switches[data["switches"][0]["key"]].sessions[0].enabled is True


def test_emit_json_writes_what_json_dumps_wrote(demo: Inventory) -> None:
    rows = [demo.port_row(p) for p in demo.ports.values()]
    hostile = {"name": "a\x1b]0;x\x07\u202e\x85\u2028b", "n": [1, 2.5, None, True], "e": {}, "l": []}
    for data in (rows, hostile, {"lone": "\udcff"}):  # the last one msgspec refuses: json.dumps writes it
        out = io.StringIO()
        emit_json(data, out)
        assert out.getvalue() == json_text(data, indent=2) + "\n"
