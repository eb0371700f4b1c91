"""The port statistics model and the rates between two readings (tui/port_stats.py)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from tui.model import (
    COUNTERS,
    STAT_API_NAMES,
    PortStatistics,
    RateStatus,
    counter_delta,
    port_rates,
    rates_between,
)

PYVMOMI_TYPEINFO = Path(str(__import__("pyVmomi").__file__)).parent / "_typeinfo_vim.py"


def test_counter_names_are_pyvmomis_in_its_order() -> None:
    """The oracle: pyVmomi's type table of vim.dvs.PortStatistics (names, order, which are optional)."""
    line = next(
        x for x in PYVMOMI_TYPEINFO.read_text().splitlines() if x.startswith('CreateDataType("vim.dvs.PortStatistics"')
    )
    import ast

    props = ast.literal_eval(line[line.index("[") : line.rindex("]") + 1].replace("F_OPTIONAL", "4"))
    assert [p[0] for p in props] == list(STAT_API_NAMES.values())
    assert [p[0] for p in props if p[3] == 4] == ["bytesInFromPnic", "bytesOutToPnic"]
    assert all(p[1] == "long" for p in props)
    assert [f.name for f in dataclasses.fields(PortStatistics)] == ["read_at", *COUNTERS]


def _stats(t: float, **counters: int | None) -> PortStatistics:
    return PortStatistics(read_at=t, **counters)  # type: ignore[arg-type]


def test_from_api_and_to_api_round_trip() -> None:
    api = {name: i * 1000 + 7 for i, name in enumerate(STAT_API_NAMES.values())}
    s = PortStatistics.from_api(api, 12.5)
    assert s.to_api() == api
    assert s.packets_in_unicast == api["packetsInUnicast"]
    assert s.packets_in == api["packetsInUnicast"] + api["packetsInMulticast"] + api["packetsInBroadcast"]
    assert s.bytes_out == api["bytesOutUnicast"] + api["bytesOutMulticast"] + api["bytesOutBroadcast"]
    old = PortStatistics.from_api({"packetsInUnicast": 3}, 1.0)  # a pre-6.5 vCenter: no pnic counters
    assert old.bytes_in_from_pnic is None and old.packets_out_dropped == 0
    assert "bytesInFromPnic" not in old.to_api()


@pytest.mark.parametrize("bad", [2**63, -(2**63) - 1, 1.5, "5", True, None])
def test_counters_must_be_64_bit_whole_numbers(bad: object) -> None:
    with pytest.raises(ValueError, match="packetsInUnicast"):
        PortStatistics(read_at=0.0, packets_in_unicast=bad)  # type: ignore[arg-type]


def test_rates_per_second() -> None:
    a = _stats(100.0, packets_in_unicast=1000, bytes_in_unicast=64_000, packets_out_dropped=5, bytes_in_from_pnic=10)
    b = _stats(110.0, packets_in_unicast=3000, bytes_in_unicast=192_000, packets_out_dropped=25, bytes_in_from_pnic=60)
    r = port_rates(a, b)
    assert r.status is RateStatus.OK and r.ok
    assert r.seconds == 10.0
    assert r.rate("packets_in_unicast") == 200.0
    assert r.packets_in == 200.0
    assert r.bytes_in == 12_800.0
    assert r.dropped_out == 2.0
    assert r.dropped_in == 0.0
    assert r.rate("bytes_in_from_pnic") == 5.0
    assert r.rate("bytes_out_to_pnic") is None  # not reported
    assert r.delta("packets_in_unicast") == 2000
    assert r.wrapped == ()


def test_counter_wrap_is_counted_across() -> None:
    top = 2**63 - 1
    # past the signed maximum: the API's long turns negative, the counter still grew by 10
    assert counter_delta(top - 4, -(2**63) + 5) == 10
    # past 2^64 - 1 (as a long: -1) and on from zero
    assert counter_delta(-3, 6) == 9
    a = _stats(0.0, bytes_out_unicast=-3, packets_out_unicast=top)
    b = _stats(2.0, bytes_out_unicast=6, packets_out_unicast=-(2**63) + 1)
    r = port_rates(a, b)
    assert r.ok
    assert r.rate("bytes_out_unicast") == 4.5
    assert r.delta("packets_out_unicast") == 2
    assert r.wrapped == ("bytes_out_unicast",)


def test_counter_reset_gives_no_rates() -> None:
    assert counter_delta(5_000_000, 120) is None
    assert counter_delta(2**62, 0) is None
    a = _stats(0.0, packets_in_unicast=9_000_000, bytes_in_unicast=900_000_000)
    b = _stats(5.0, packets_in_unicast=40, bytes_in_unicast=900_000_100)
    r = port_rates(a, b)
    assert r.status is RateStatus.RESET and not r.ok
    assert r.seconds == 5.0
    assert r.rate("bytes_in_unicast") is None and r.packets_in is None


def test_vanished_new_and_timeless_ports() -> None:
    s = _stats(1.0, packets_in_unicast=1)
    assert port_rates(s, None).status is RateStatus.VANISHED
    assert port_rates(None, s).status is RateStatus.NEW
    assert port_rates(s, s).status is RateStatus.NO_INTERVAL
    assert port_rates(_stats(2.0), _stats(1.0)).status is RateStatus.NO_INTERVAL
    assert port_rates(_stats(math.nan), _stats(1.0)).status is RateStatus.NO_INTERVAL
    assert port_rates(s, None).rate("packets_in_unicast") is None
    with pytest.raises(ValueError):
        port_rates(None, None)


def test_rates_between_samples_of_several_ports() -> None:
    before = {"10": _stats(0.0, packets_in_unicast=10), "11": _stats(0.0), "12": _stats(0.0, bytes_in_unicast=9)}
    after = {"10": _stats(4.0, packets_in_unicast=30), "12": _stats(4.0, bytes_in_unicast=1), "13": _stats(4.0)}
    out = rates_between(before, after)
    assert list(out) == ["10", "11", "12", "13"]
    assert out["10"].packets_in == 5.0
    assert out["11"].status is RateStatus.VANISHED
    assert out["12"].status is RateStatus.RESET
    assert out["13"].status is RateStatus.NEW


def test_statistics_are_frozen() -> None:
    s = _stats(1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.packets_in_unicast = 5  # type: ignore[misc]


def test_projected_moves_counters_on_at_their_rates_and_wraps() -> None:
    from tui.model import projected

    base = _stats(100.0, packets_in_unicast=10, bytes_out_unicast=2**63 - 2, bytes_in_from_pnic=None)
    rates = {"packets_in_unicast": 2.5, "bytes_out_unicast": 1.0, "bytes_in_from_pnic": 9.0}
    later = projected(base, rates, 104.0)
    assert later.read_at == 104.0
    assert later.packets_in_unicast == 20
    assert later.bytes_out_unicast == -(2**63) + 2  # past the signed maximum, as a 64-bit counter shows it
    assert later.bytes_in_from_pnic is None  # not reported stays not reported
    assert port_rates(base, later).rate("bytes_out_unicast") == 1.0  # and the rate is counted across the wrap
    assert projected(base, rates, 50.0) == base  # a clock before the reading moves nothing
