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
    keys = ["448", "449", "100", "0"]  # no mirror destination among them (2241 is: see below)
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
    """Every port has counters; those connected with link up carry traffic, a free port's are zero and
    stand still; the mirror destination carries little of its own."""
    data = _demo()
    assert {(r["switch"], r["port"]) for r in data["portStatistics"]} == {
        (p["switch"], p["key"]) for p in data["ports"]
    }
    carrying = {(p["switch"], p["key"]) for p in data["ports"] if p.get("connectee") and p.get("linkUp")}
    assert {(r["switch"], r["port"]) for r in data["portStatistics"] if r.get("rates")} == carrying
    free = {(p["switch"], p["key"]) for p in data["ports"] if not p.get("connectee")}
    assert free
    assert all(not any(r["counters"].values()) for r in data["portStatistics"] if (r["switch"], r["port"]) in free)
    rate = {
        r["port"]: r["rates"]["packetsInUnicast"]
        for r in data["portStatistics"]
        if r["switch"] == CLOUD_KEY and r.get("rates")
    }
    assert rate["2241"] < 10 < rate["448"]  # the IDS sensor vs a DMZ web server
    assert rate["0"] > 1000  # an uplink


def test_demo_counters_before_the_read_time_stand_as_recorded() -> None:
    backend = SnapshotBackend()
    backend.load()
    backend.clock = lambda: READ - 100.0
    got = backend.port_statistics(CLOUD_KEY, ["448"])["448"]
    assert got.read_at == READ
    assert got.to_api() == _record(_demo(), "448")["counters"]


def test_ports_without_records_and_unknown_ports_are_left_out(tmp_path: Path) -> None:
    data = _demo()
    free = next(p["key"] for p in data["ports"] if p["switch"] == CLOUD_KEY and p.get("connectee") is None)
    data["portStatistics"] = [r for r in data["portStatistics"] if (r["switch"], r["port"]) != (CLOUD_KEY, free)]
    backend = _backend(tmp_path, data)
    backend.load()
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
    """In a lab whose traffic moves, a port without rates is read now and has not moved (rates of 0);
    in a snapshot with no rates at all (one reading of a real vCenter), the reading is the recorded one."""
    data = _demo()
    del _record(data, "448")["rates"]
    backend = _backend(tmp_path, data)
    backend.clock = lambda: READ + 50.0
    a = backend.port_statistics(CLOUD_KEY, ["448"])
    backend.clock = lambda: READ + 60.0
    b = backend.port_statistics(CLOUD_KEY, ["448"])
    assert (a["448"].read_at, b["448"].read_at) == (READ + 50.0, READ + 60.0)
    assert a["448"].to_api() == b["448"].to_api() == _record(data, "448")["counters"]
    assert port_rates(a["448"], b["448"]).packets_in == 0.0

    for rec in data["portStatistics"]:
        rec.pop("rates", None)
    backend = _backend(tmp_path, data, "still.json")
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
            r"\$\.portStatistics\[437\]: port '0' of this switch is recorded twice",
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


# -- mirrored traffic (tui/mirror_traffic.py, the vcsim server's model) ---------------------------


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _window(backend: SnapshotBackend, clock: _Clock, keys: list[str], seconds: float = 10.0) -> dict[str, Any]:
    first = backend.port_statistics(CLOUD_KEY, keys)
    clock.now += seconds
    return rates_between(first, backend.port_statistics(CLOUD_KEY, keys))


def _own(data: dict[str, Any], port: str, counter: str) -> float:
    return float(_record(data, port)["rates"].get(counter, 0))


def _both_ways(data: dict[str, Any], port: str) -> float:
    kinds = ("Unicast", "Multicast", "Broadcast")
    return sum(_own(data, port, f"packets{d}{k}") for d in ("In", "Out") for k in kinds)


def _edit(backend: SnapshotBackend, name: str, **changes: Any) -> None:
    from dataclasses import replace

    from tui.model import ChangeOperation, SessionChange

    inv = backend.load()
    session = next(s for s in inv.switches[CLOUD_KEY].sessions if s.name == name)
    backend.apply(inv, CLOUD_KEY, [SessionChange(ChangeOperation.EDIT, replace(session, **changes))])


def test_demo_session_delivers_same_host_sources_to_its_destination() -> None:
    """DMZ-IDS: 448 (esx-03, as the destination 2241) is delivered both ways; 449 (esx-01) is not."""
    data = _demo()
    backend = SnapshotBackend()
    clock = _Clock(READ + 1000.0)
    backend.clock = clock
    keys = ["448", "449", "2241"]
    own_out = sum(_own(data, "2241", f"packetsOut{k}") for k in ("Unicast", "Multicast", "Broadcast"))
    enabled = _window(backend, clock, keys)
    assert enabled["2241"].packets_out == pytest.approx(own_out + _both_ways(data, "448"), abs=0.2)
    own_in = sum(_own(data, "2241", f"packetsIn{k}") for k in ("Unicast", "Multicast", "Broadcast"))
    assert enabled["2241"].packets_in == pytest.approx(own_in, abs=0.2)  # mirrored frames count as "out"
    before_disable = backend.port_statistics(CLOUD_KEY, ["2241"])
    _edit(backend, "DMZ-IDS", enabled=False)
    after_disable = backend.port_statistics(CLOUD_KEY, ["2241"])
    assert after_disable == before_disable  # what was delivered stays counted
    disabled = _window(backend, clock, keys)
    assert disabled["2241"].packets_out == pytest.approx(own_out, abs=0.2)
    _edit(backend, "DMZ-IDS", enabled=True, sampling_rate=4, mirrored_packet_length=60)
    sampled = _window(backend, clock, keys)
    assert sampled["2241"].packets_out == pytest.approx(own_out + _both_ways(data, "448") / 4, abs=0.2)
    own_bytes = sum(_own(data, "2241", f"bytesOut{k}") for k in ("Unicast", "Multicast", "Broadcast"))
    assert sampled["2241"].bytes_out == pytest.approx(own_bytes + 60 * _both_ways(data, "448") / 4, abs=2)


def test_the_walkthroughs_legacy_session_delivers_too() -> None:
    """The walkthrough's session as its client made it (mixedDestMirror, 448 → 2258 on esx-03, 60 bytes)."""
    from tests.helpers import WALKTHROUGH
    from tui.model import ChangeOperation, SessionChange

    data = _demo()
    backend = SnapshotBackend()
    clock = _Clock(READ + 1000.0)
    backend.clock = clock
    inv = backend.load()
    idle = _window(backend, clock, ["2258"])["2258"].packets_out
    backend.apply(inv, CLOUD_KEY, [SessionChange(ChangeOperation.ADD, WALKTHROUGH)])
    window = _window(backend, clock, ["448", "2258"])
    assert window["2258"].packets_out == pytest.approx(idle + _both_ways(data, "448"), abs=0.2)


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"session_type": "remoteMirrorSource", "destination": None}, "a remote session forwards nothing to ports"),
        ({"source_rx": None, "source_tx": None}, "no sources"),
    ],
)
def test_sessions_that_deliver_nothing_locally(changes: dict[str, Any], why: str) -> None:
    from dataclasses import replace

    from tui.model import MirrorSession, VspanPorts

    data = _demo()
    backend = SnapshotBackend()
    clock = _Clock(READ + 1000.0)
    backend.clock = clock
    own_out = sum(_own(data, "2241", f"packetsOut{k}") for k in ("Unicast", "Multicast", "Broadcast"))
    inv = backend.load()
    session = next(s for s in inv.switches[CLOUD_KEY].sessions if s.name == "DMZ-IDS")
    fields: dict[str, Any] = {k: (VspanPorts() if v is None else v) for k, v in changes.items()}
    edited: MirrorSession = replace(session, **fields)
    sw = replace(inv.switches[CLOUD_KEY], sessions=(edited,))
    backend._inventory = inv.with_switch(sw)  # as if the lab held it: the rules need not accept it
    assert _window(backend, clock, ["2241"])["2241"].packets_out == pytest.approx(own_out, abs=0.2), why
