"""Port counters in snapshots (format version 2, ``portStatistics``) and the demo lab's moving traffic."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests import labgen
from tui.backends import SnapshotError
from tui.backends import snapshot_format as fmt
from tui.backends.snapshot import SnapshotBackend, save_inventory
from tui.model import COUNTERS, STAT_API_NAMES, PortStatistics, RateStatus, port_rates, rates_between

READ = fmt.parse_time(labgen.DEMO_READ)
CLOUD_KEY = labgen.CLOUD


def _demo() -> dict[str, Any]:
    return copy.deepcopy(labgen.demo_lab())


def _backend(tmp_path: Path, data: dict[str, Any], name: str = "lab.json") -> SnapshotBackend:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return SnapshotBackend(path)


def _record(data: dict[str, Any], port: str) -> dict[str, Any]:
    return next(r for r in data["portStatistics"] if r["switch"] == CLOUD_KEY and r["port"] == port)


def test_demo_counters_grow_at_their_recorded_rates() -> None:
    backend = SnapshotBackend()
    backend.load()
    data = _demo()
    keys = ["448", "449", "2241", "0"]
    backend.clock = lambda: READ + 3600.0
    first = backend.port_statistics(CLOUD_KEY, keys)
    backend.clock = lambda: READ + 3610.0
    second = backend.port_statistics(CLOUD_KEY, keys)
    assert list(first) == keys
    for key, r in rates_between(first, second).items():
        assert r.status is RateStatus.OK and r.seconds == 10.0
        rec = _record(data, key)
        for name in COUNTERS:
            api = STAT_API_NAMES[name]
            want = rec["rates"].get(api, 0)
            assert r.rate(name) == pytest.approx(want, abs=0.11), (key, api)  # whole units per reading
        assert first[key].packets_in_unicast == rec["counters"]["packetsInUnicast"] + int(
            3600 * rec["rates"]["packetsInUnicast"]
        )


def test_demo_traffic_is_believable() -> None:
    """Every connected port with link up carries traffic; the mirror destination carries little of its own."""
    data = _demo()
    carrying = {(p["switch"], p["key"]) for p in data["ports"] if p.get("connectee") and p.get("linkUp")}
    assert {(r["switch"], r["port"]) for r in data["portStatistics"]} == carrying
    rate = {r["port"]: r["rates"]["packetsInUnicast"] for r in data["portStatistics"] if r["switch"] == CLOUD_KEY}
    assert rate["2241"] < 10 < rate["448"]  # the IDS sensor vs a DMZ web server
    assert rate["0"] > 1000  # an uplink


def test_demo_counters_before_the_read_time_stand_as_recorded() -> None:
    backend = SnapshotBackend()
    backend.load()
    backend.clock = lambda: READ - 100.0
    got = backend.port_statistics(CLOUD_KEY, ["448"])["448"]
    assert got.read_at == READ
    assert got.to_api() == _record(_demo(), "448")["counters"]


def test_ports_without_records_and_unknown_ports_are_left_out() -> None:
    backend = SnapshotBackend()
    inv = backend.load()
    free = next(p.key for p in inv.ports.values() if p.switch == CLOUD_KEY and p.connectee is None)
    assert backend.port_statistics(CLOUD_KEY, [free, "no-such-port", "448"]).keys() == {"448"}
    assert backend.port_statistics("no-such-switch", ["448"]) == {}


def test_version_1_still_reads_and_has_no_counters(tmp_path: Path) -> None:
    data = _demo()
    data["version"] = 1
    del data["portStatistics"]
    backend = _backend(tmp_path, data)
    inv = backend.load()
    assert len(inv.vms) == len(data["vms"])
    assert backend.port_statistics(CLOUD_KEY, ["448"]) == {}


def test_recorded_counters_without_rates_stand_still(tmp_path: Path) -> None:
    data = _demo()
    rec = _record(data, "448")
    del rec["rates"]
    backend = _backend(tmp_path, data)
    backend.clock = lambda: READ + 50.0
    a = backend.port_statistics(CLOUD_KEY, ["448"])
    backend.clock = lambda: READ + 60.0
    b = backend.port_statistics(CLOUD_KEY, ["448"])
    assert a == b and a["448"].read_at == READ
    assert port_rates(a["448"], b["448"]).status is RateStatus.NO_INTERVAL


def test_save_writes_version_2_with_the_counters_given(tmp_path: Path) -> None:
    backend = SnapshotBackend()
    inv = backend.load()
    stats = PortStatistics.from_api({"packetsInUnicast": 5, "bytesInFromPnic": 7}, READ + 0.25)
    path = tmp_path / "saved.json"
    save_inventory(inv, path)
    assert json.loads(path.read_text())["version"] == 2
    assert "portStatistics" not in json.loads(path.read_text())
    snap = fmt.from_inventory(inv, "2026-12-01T00:00:00Z", [fmt.port_statistics_json(CLOUD_KEY, "448", stats)])
    path.write_bytes(fmt.encode(snap))
    back = SnapshotBackend(path)
    back.load()
    assert back.port_statistics(CLOUD_KEY, ["448"]) == {"448": stats}


def _mutate(data: dict[str, Any], change: Any) -> dict[str, Any]:
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version=1), r"\$\.portStatistics: not part of version 1 \(it came with version 2\)"),
        (
            lambda d: d["portStatistics"][0].update(read="yesterday"),
            r"\$\.portStatistics\[0\]\.read: expected a UTC time such as 2026-11-28T06:00:00Z",
        ),
        (
            lambda d: d["portStatistics"][0].update(read="2026-13-01T00:00:00Z"),
            r"\$\.portStatistics\[0\]\.read: '2026-13-01T00:00:00Z' is not a date and time",
        ),
        (lambda d: d["portStatistics"][0].update(port="9999"), r"\$\.portStatistics\[0\]: no port '9999' on switch"),
        (
            lambda d: d["portStatistics"].append(dict(d["portStatistics"][0])),
            r"\$\.portStatistics\[112\]: port '0' of this switch is recorded twice",
        ),
        (
            lambda d: d["portStatistics"][0]["counters"].update(packetsInUnicats=1),
            r"\$\.portStatistics\[0\]\.counters: unknown field 'packetsInUnicats' \(did you mean 'packetsInUnicast'",
        ),
        (
            lambda d: d["portStatistics"][0]["counters"].update(bytesInUnicast=2**63),
            r"\$\.portStatistics\[0\]\.counters\.bytesInUnicast: a whole number out of range",
        ),
        (
            lambda d: d["portStatistics"][0]["rates"].update(packetsInUnicast=-1),
            r"\$\.portStatistics\[0\]\.rates\.packetsInUnicast: a number of at least 0 is needed",
        ),
        (
            lambda d: d["portStatistics"][0]["rates"].update(bytesInUnicast=1e16),
            r"\$\.portStatistics\[0\]\.rates\.bytesInUnicast: a number of at most 1e\+15 is needed",
        ),
        (lambda d: d["portStatistics"][0].pop("counters"), r"\$\.portStatistics\[0\]\.counters: missing"),
        (lambda d: d.update(portStatistics={}), r"\$\.portStatistics: expected a list, found an object"),
    ],
)
def test_bad_statistics_are_refused_with_their_path(tmp_path: Path, change: Any, message: str) -> None:
    backend = _backend(tmp_path, _mutate(_demo(), change))
    with pytest.raises(SnapshotError, match=message):
        backend.load()
