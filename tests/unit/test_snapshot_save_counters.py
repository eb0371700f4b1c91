"""``dvmirror snapshot save`` from the demo lab and from snapshots: the counters go into ``portStatistics``
as read at the save, without rates, and a replay shows them unchanged."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests import labgen
from tests.helpers import run_cli as run
from tui.backends import snapshot_format as fmt
from tui.backends.snapshot import SnapshotBackend, save_inventory
from tui.model import PortStatistics

READ = fmt.parse_time(labgen.DEMO_READ)


def test_demo_save_records_the_counters_of_every_port_the_demo_has(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "demo.json"
    code, _, err = run(capsys, "--demo", "snapshot", "save", str(path))
    assert code == 0 and "Saved 2 switches, 437 ports, 61 VMs and the counters of 437 ports" in err
    saved = json.loads(path.read_text())
    demo = labgen.demo_lab()
    assert [(r["switch"], r["port"]) for r in saved["portStatistics"]] == [
        (r["switch"], r["port"]) for r in demo["portStatistics"]
    ]
    for rec, base in zip(saved["portStatistics"], demo["portStatistics"], strict=True):
        assert rec.get("rates") is None
        assert fmt.parse_time(rec["read"]) > READ
        for api, value in rec["counters"].items():
            assert value >= base["counters"][api]  # moved on from the demo's reading, never back
        if base.get("rates", {}).get("packetsInUnicast"):
            assert rec["counters"]["packetsInUnicast"] > base["counters"]["packetsInUnicast"]


def test_what_is_saved_is_what_the_demo_backend_gives_at_that_moment(tmp_path: Path) -> None:
    """Oracle: the demo backend's own ``port_statistics`` at the same instant (mirrored traffic included)."""
    backend = SnapshotBackend()
    backend.clock = lambda: READ + 5000.0
    inv, counters, missing = backend.load_with_counters()
    assert missing == "" and len(counters) == len(inv.ports)  # the demo lab has counters for every port
    oracle = SnapshotBackend()
    oracle.clock = lambda: READ + 5000.0
    for sw in inv.switches:
        keys = [p.key for p in inv.ports_by_switch[sw]]
        for key, stats in oracle.port_statistics(sw, keys).items():
            assert counters[(sw, key)] == stats
    path = tmp_path / "saved.json"
    save_inventory(inv, path, counters)
    replay = SnapshotBackend(path)
    replay.clock = lambda: READ + 99999.0
    for (sw, key), stats in counters.items():
        got = replay.port_statistics(sw, [key])[key]
        assert got.to_api() == stats.to_api()  # no rates: as recorded, however late
        assert got.read_at == pytest.approx(stats.read_at, abs=1e-5)


def test_no_counters(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "demo.json"
    code, _, err = run(capsys, "--demo", "snapshot", "save", "--no-counters", str(path))
    assert code == 0 and err == f"Saved 2 switches, 437 ports, 61 VMs to {path}\n"
    assert "portStatistics" not in json.loads(path.read_text())


def test_a_snapshot_without_counters_saves_without_and_says_why(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data: dict[str, Any] = copy.deepcopy(labgen.demo_lab())
    data["version"] = 1
    del data["portStatistics"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data), encoding="utf-8")
    path = tmp_path / "new.json"
    code, _, err = run(capsys, "--snapshot", str(old), "snapshot", "save", str(path))
    assert code == 0
    assert "No port counters saved: the snapshot old.json records no port counters." in err
    saved = json.loads(path.read_text())
    assert saved["version"] == 2 and "portStatistics" not in saved


def test_counters_of_ports_not_in_the_inventory_are_left_out(tmp_path: Path) -> None:
    inv = SnapshotBackend().load()
    stats = PortStatistics.from_api({"packetsInUnicast": 7}, READ)
    sw = next(iter(inv.switches))
    path = tmp_path / "x.json"
    save_inventory(inv, path, {(sw, "448"): stats, (sw, "no-such-port"): stats, ("no-switch", "448"): stats})
    records = json.loads(path.read_text())["portStatistics"]
    assert [(r["switch"], r["port"]) for r in records] == [(sw, "448")]


# -- the load's own counters: state.stats of FetchDVPorts, read by the streaming parser ----------


def _port_xml(stats: str) -> Any:
    from xml.etree import ElementTree as ET

    return ET.fromstring(
        '<returnval xmlns="urn:vim25"><key>448</key><state><runtimeInfo><linkUp>true</linkUp></runtimeInfo>'
        f"{stats}</state></returnval>"
    )


def test_the_parser_reads_state_stats_as_the_api_names_them() -> None:
    from tui.backends._parse import parse_port_counters

    got = parse_port_counters(
        _port_xml("<stats><packetsInUnicast>12</packetsInUnicast><bytesOutToPnic>0</bytesOutToPnic>"
                  "<somethingNew>5</somethingNew></stats>")
    )  # fmt: skip
    assert got is not None
    assert got["packetsInUnicast"] == 12 and got["bytesOutToPnic"] == 0 and got["bytesInFromPnic"] is None
    assert "somethingNew" not in got
    stats = PortStatistics.from_api(got, READ)
    assert stats.packets_in_unicast == 12 and stats.bytes_in_from_pnic is None and stats.packets_out_unicast == 0
    assert parse_port_counters(_port_xml("")) is None  # no stats: no record, not zeros


@pytest.mark.parametrize("value", ["", "twelve", "1.5", "١٢", "1" * 21, "0x10"])
def test_a_hostile_counter_is_refused_by_name(value: str) -> None:
    from tui.backends._parse import parse_port_counters

    with pytest.raises(ValueError, match="packetsInUnicast is not a whole number of at most 20 digits"):
        parse_port_counters(_port_xml(f"<stats><packetsInUnicast>{value}</packetsInUnicast></stats>"))


def test_a_counter_out_of_the_64_bit_range_is_a_clear_backend_error() -> None:
    """Through the load's reader: the port is named, nothing is half-read."""
    from tui.backends import BackendError
    from tui.backends._load import read_ports_and_counters

    class Raw:
        def stream(self, *_args: Any) -> Any:
            yield _port_xml(f"<stats><packetsInUnicast>{2**63}</packetsInUnicast></stats>")

    with pytest.raises(BackendError, match="vCenter sent a traffic counter of port 448 that cannot be read"):
        read_ports_and_counters(Raw(), None, "sw", READ)


def test_a_backend_without_load_with_counters_reads_the_connected_ports_after_the_load(tmp_path: Path) -> None:
    """The generic path (any other Backend): one ``port_statistics`` per switch, for the connected ports."""
    import argparse

    from tui import cli

    calls: list[tuple[str, int]] = []

    class Plain(SnapshotBackend):
        load_with_counters = None  # type: ignore[assignment]

        def port_statistics(self, switch_key: str, port_keys: Any) -> dict[str, PortStatistics]:
            calls.append((switch_key, len(port_keys)))
            return super().port_statistics(switch_key, port_keys)

    backend = Plain()
    path = tmp_path / "plain.json"
    assert cli.cmd_snapshot_save(backend, argparse.Namespace(file=str(path), force=False, no_counters=False)) == 0
    inv = backend.load()
    assert calls == [(sw, sum(1 for p in inv.ports_by_switch[sw] if p.connectee is not None)) for sw in inv.switches]
    assert len(json.loads(path.read_text())["portStatistics"]) == sum(n for _, n in calls)
