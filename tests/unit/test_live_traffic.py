"""The live-traffic state of one watched port and its text (tui/live_traffic.py)."""

from __future__ import annotations

import time

import pytest
from rich.console import Console
from rich.table import Table

from tui.live_traffic import (
    LiveStatus,
    LiveTraffic,
    byte_rate,
    drop_rate,
    live_subtitle,
    packet_rate,
    traffic_rows,
)
from tui.model import PortStatistics


def reading(at: float, packets_in: int = 1000, bytes_in: int = 500_000, **more: int) -> PortStatistics:
    return PortStatistics(read_at=at, packets_in_unicast=packets_in, bytes_in_unicast=bytes_in, **more)


def text(live: LiveTraffic, width: int = 100) -> str:
    grid = Table.grid(padding=(0, 2))
    for label, value in traffic_rows(live, "t"):
        grid.add_row(label, value)
    console = Console(width=width, color_system=None)
    with console.capture() as out:
        console.print(grid)
    return "\n".join(line.rstrip() for line in out.get().splitlines())


def test_first_reading_measures_second_gives_rates() -> None:
    live = LiveTraffic("sw", "448", interval=3.0)
    assert live.status is LiveStatus.WAITING and "reading the counters…" in text(live)
    live = live.with_reading(reading(100.0))
    assert live.status is LiveStatus.MEASURING and live.since == 100.0
    assert text(live) == "Traffic  measuring… (rates in 3 s)"
    live = live.with_reading(
        reading(103.0, packets_in=1000 + 3 * 377, bytes_in=500_000 + 3 * 158_000, packets_in_dropped=6)
    )
    assert live.status is LiveStatus.RATES and live.rates is not None and live.since == 100.0
    assert live.rates.packets_in == pytest.approx(377) and live.rates.dropped_in == pytest.approx(2)
    assert text(live).splitlines() == [
        "Traffic  in  377 pkt/s 158.0 kB/s drop 2/s",
        "         out   0 pkt/s  0 bytes/s drop 0/s",
    ]
    assert live.readings == 2  # the WAITING state had none


def test_counters_that_go_down_are_a_reset_and_measuring_starts_again() -> None:
    live = LiveTraffic("sw", "448").with_reading(reading(100.0)).with_reading(reading(103.0, packets_in=5000))
    live = live.with_reading(reading(106.0, packets_in=12, bytes_in=900))
    assert live.status is LiveStatus.RESET and live.rates is None and live.since == 100.0
    assert "counters were reset (the port reconnected or moved); measuring again…" in text(live)
    live = live.with_reading(reading(109.0, packets_in=42, bytes_in=1800))
    assert live.status is LiveStatus.RATES and live.rates is not None
    assert live.rates.packets_in == pytest.approx(10.0)


def test_a_port_no_longer_reported_vanished_and_comes_back_measuring() -> None:
    live = LiveTraffic("sw", "448").with_reading(reading(100.0)).with_reading(None)
    assert live.status is LiveStatus.VANISHED and live.polling and live.baseline is None
    assert "the server no longer reports this port" in text(live)
    assert live.with_reading(None).status is LiveStatus.VANISHED
    assert live.with_reading(reading(110.0)).status is LiveStatus.MEASURING


def test_never_reported_is_no_counters() -> None:
    live = LiveTraffic("sw", "2257").with_reading(None)
    assert live.status is LiveStatus.NO_COUNTERS and text(live) == "Traffic  no counters reported for this port"


def test_an_error_keeps_the_last_rates_and_the_baseline() -> None:
    live = LiveTraffic("sw", "448").with_reading(reading(100.0)).with_reading(reading(103.0, packets_in=1300))
    rates = live.rates
    failed = live.with_error("vCenter refused: \x1b[2J\u202eboom", at=time.mktime((2026, 12, 1, 9, 30, 5, 0, 0, -1)))
    assert failed.status is LiveStatus.ERROR and failed.polling and failed.rates == rates
    shown = text(failed)
    assert "reading failed at 09:30:05: vCenter refused: \\x1b[2J\\u202eboom; trying again every 3 s" in shown
    assert "\x1b" not in shown and "\u202e" not in shown
    assert "in  100 pkt/s" in shown  # the last rates stay, said to be of before
    again = failed.with_reading(reading(109.0, packets_in=1900))
    assert again.status is LiveStatus.RATES and again.rates is not None and again.rates.seconds == 6.0


def test_a_refusal_stops_polling_and_says_how_to_retry() -> None:
    live = LiveTraffic("sw", "448").with_error("no RefreshDVPortState", hint="line one\nline two", unsupported=True)
    assert not live.polling and live.status is LiveStatus.UNSUPPORTED
    assert text(live).splitlines() == [
        "Traffic  not available: no RefreshDVPortState; stopped (t tries again)",
        "         line one",
        "         line two",
    ]
    assert live_subtitle(live, "t") == "t live traffic"


def test_a_reading_at_the_same_moment_keeps_the_baseline() -> None:
    first = reading(100.0)
    live = LiveTraffic("sw", "448").with_reading(first).with_reading(reading(100.0, packets_in=1100))
    assert live.status is LiveStatus.MEASURING and live.baseline == first and live.readings == 2


def test_subtitle_says_since_when_and_how_often() -> None:
    at = time.mktime((2026, 12, 1, 14, 7, 31, 0, 0, -1))
    live = LiveTraffic("sw", "448", interval=3.0)
    assert live_subtitle(None, "t") == "t live traffic"
    assert live_subtitle(live, "t") == "live, every 3 s · t stops"
    assert live_subtitle(live.with_reading(reading(at)), "ctrl+t") == "live since 14:07:31, every 3 s · ctrl+t stops"


@pytest.mark.parametrize(
    ("value", "packets", "drops", "size"),
    [
        (None, "—", "—", "—"),
        (0.0, "0 pkt/s", "0/s", "0 bytes/s"),
        (0.33, "0.3 pkt/s", "0.3/s", "0 bytes/s"),
        (377.4, "377 pkt/s", "377/s", "377 bytes/s"),
        (999.6, "1.0 kpkt/s", "1.0 k/s", "1.0 kB/s"),
        (7212.6, "7.2 kpkt/s", "7.2 k/s", "7.2 kB/s"),
        (1.34e6, "1.3 Mpkt/s", "1.3 M/s", "1.3 MB/s"),
    ],
)
def test_rates_in_human_units(value: float | None, packets: str, drops: str, size: str) -> None:
    assert packet_rate(value) == packets and drop_rate(value) == drops and byte_rate(value) == size
