"""Live traffic of one port: what the port detail panel shows while it watches a port.

The explorer reads one port's counters every :data:`LIVE_INTERVAL` seconds (one
``Backend.port_statistics`` call for that port alone) and folds each reading, or the error that
came instead, into a :class:`LiveTraffic`. That state says what can honestly be shown: nothing
yet, "measuring" (one reading: no rate before a second one), rates between the last two
readings, counters that were reset (measure again), a port the server no longer reports, an
error (shown, and tried again at the next interval), or a server that cannot give counters at
all (said once; the explorer stops asking). :func:`traffic_rows` renders it as rows of the
panel's grid; every text from the server goes through :func:`tui.text.visible` there.

"In" is what the port received from its connectee (the VM sent it), "out" what the switch
forwarded to it (:mod:`tui.port_stats`). Pure: Rich for the text, no Textual, no pyVmomi.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from enum import StrEnum

from rich.console import RenderableType
from rich.filesize import decimal
from rich.table import Table

from tui.port_stats import PortRates, PortStatistics, RateStatus, port_rates
from tui.text import LineText as Text
from tui.text import SafeText

LIVE_INTERVAL = 3.0
"""Seconds between two readings of the watched port."""
LIVE_SETTLE = 0.3
"""Seconds the explorer waits after the port shown changed before reading the new one (moving
the cursor through a table reads only the port it stops on)."""


class LiveStatus(StrEnum):
    """What the last reading (or its failure) allows the panel to say."""

    WAITING = "waiting"
    """No answer yet."""
    MEASURING = "measuring"
    """One reading: rates need a second one."""
    RATES = "rates"
    """Rates between the last two readings."""
    RESET = "reset"
    """The counters went down: the port's counters started again; measuring again from this reading."""
    VANISHED = "vanished"
    """The port was read before and is no longer reported."""
    NO_COUNTERS = "no-counters"
    """The server has never reported counters for this port."""
    ERROR = "error"
    """The last reading failed; the next interval tries again."""
    UNSUPPORTED = "unsupported"
    """The server cannot give counters at all: nothing more is asked."""


@dataclass(frozen=True, slots=True)
class LiveTraffic:
    """What is known of one watched port, reading after reading (each ``with_*`` returns a new state)."""

    switch: str
    port: str
    interval: float = LIVE_INTERVAL
    status: LiveStatus = LiveStatus.WAITING
    since: float | None = None
    """``read_at`` of the first reading: when watching began (POSIX seconds)."""
    baseline: PortStatistics | None = None
    """The last reading, which the next one is compared with."""
    rates: PortRates | None = None
    """Rates between the last two readings that gave them (kept through an error)."""
    rates_at: float | None = None
    """``read_at`` of the reading that ended ``rates``."""
    error: str = ""
    hint: str = ""
    error_at: float | None = None
    readings: int = 0
    """Answers folded in (readings and failures): one per request."""

    @property
    def polling(self) -> bool:
        """False once the server said it cannot give counters."""
        return self.status is not LiveStatus.UNSUPPORTED

    def with_reading(self, stats: PortStatistics | None) -> LiveTraffic:
        """Fold in one reading of the port (``None``: the server did not report it)."""
        n = self.readings + 1
        if stats is None:
            if self.baseline is not None or self.status is LiveStatus.VANISHED:
                return replace(self, status=LiveStatus.VANISHED, baseline=None, rates=None, error="", readings=n)
            return replace(self, status=LiveStatus.NO_COUNTERS, error="", readings=n)
        since = self.since if self.since is not None else stats.read_at
        if self.baseline is None:
            return replace(self, status=LiveStatus.MEASURING, since=since, baseline=stats, error="", readings=n)
        rates = port_rates(self.baseline, stats)
        if rates.status is RateStatus.OK:
            return replace(
                self,
                status=LiveStatus.RATES,
                since=since,
                baseline=stats,
                rates=rates,
                rates_at=stats.read_at,
                error="",
                readings=n,
            )
        if rates.status is RateStatus.RESET:
            return replace(self, status=LiveStatus.RESET, since=since, baseline=stats, rates=None, error="", readings=n)
        # No time passed since the last reading (a clock that did not move): keep comparing with it.
        status = self.status if self.status is not LiveStatus.ERROR else LiveStatus.MEASURING
        return replace(self, status=status, error="", readings=n)

    def with_error(
        self, message: str, *, hint: str = "", unsupported: bool = False, at: float | None = None
    ) -> LiveTraffic:
        """Fold in a failed reading: ``unsupported`` when asking again cannot help."""
        status = LiveStatus.UNSUPPORTED if unsupported else LiveStatus.ERROR
        when = time.time() if at is None else at
        return replace(self, status=status, error=message, hint=hint, error_at=when, readings=self.readings + 1)


# -- text ---------------------------------------------------------------------------------------


def _scaled(value: float) -> tuple[str, str]:
    """``value`` as a number and a decimal prefix: ``("0.3", "")``, ``("377", "")``, ``("7.2", "k")``."""
    for prefix in ("", "k", "M", "G", "T"):
        if abs(value) < 999.5 or prefix == "T":
            if prefix:
                return f"{value:.1f}", prefix
            return (f"{value:.1f}" if 0 < abs(value) < 9.95 and value != int(value) else f"{value:.0f}"), ""
        value /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


def packet_rate(value: float | None) -> str:
    """Packets per second as people read them (``—`` when unknown)."""
    if value is None:
        return "—"
    number, prefix = _scaled(value)
    return f"{number} {prefix}pkt/s"


def drop_rate(value: float | None) -> str:
    """Dropped packets per second, short: ``0/s``, ``2.5/s``, ``1.2 k/s``."""
    if value is None:
        return "—"
    number, prefix = _scaled(value)
    return f"{number} {prefix}/s" if prefix else f"{number}/s"


def byte_rate(value: float | None) -> str:
    """Bytes per second with Rich's decimal file sizes: ``158.0 kB/s``, ``12.3 MB/s``, ``999 bytes/s``."""
    return "—" if value is None else f"{decimal(round(value))}/s"


def clock_time(at: float | None) -> str:
    """``HH:MM:SS`` local time of POSIX seconds ``at``."""
    return "?" if at is None else time.strftime("%H:%M:%S", time.localtime(at))


def _rates_grid(rates: PortRates) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(no_wrap=True)
    for label, packets, size, dropped in (
        ("in", rates.packets_in, rates.bytes_in, rates.dropped_in),
        ("out", rates.packets_out, rates.bytes_out, rates.dropped_out),
    ):
        drops = Text(f"drop {drop_rate(dropped)}")
        if dropped:
            drops.stylize("bold red")
        else:
            drops.stylize("dim")
        grid.add_row(Text(label, style="bold"), Text(packet_rate(packets)), Text(byte_rate(size)), drops)
    return grid


def traffic_rows(live: LiveTraffic, key: str) -> list[tuple[str, RenderableType]]:
    """Rows (label, value) for the panel's grid: the rates, or what stands in for them.

    ``key`` is the key that toggles live traffic, for the line that says how to retry.
    """
    every = f"every {live.interval:g} s"
    status = live.status
    rows: list[tuple[str, RenderableType]] = []
    if live.rates is not None and status in (LiveStatus.RATES, LiveStatus.ERROR):
        rows.append(("Traffic", _rates_grid(live.rates)))
    elif status is LiveStatus.WAITING:
        rows.append(("Traffic", Text("reading the counters…", style="italic")))
    elif status is LiveStatus.MEASURING:
        rows.append(("Traffic", Text(f"measuring… (rates in {live.interval:g} s)")))
    elif status is LiveStatus.RESET:
        rows.append(("Traffic", Text("counters were reset (the port reconnected or moved); measuring again…")))
    elif status is LiveStatus.VANISHED:
        rows.append(("Traffic", Text("the server no longer reports this port (removed or moved?)")))
    elif status is LiveStatus.NO_COUNTERS:
        rows.append(("Traffic", Text("no counters reported for this port")))
    if status is LiveStatus.UNSUPPORTED:
        text = Text("not available: ", style="bold") + Text(live.error)
        text.append(f"; stopped ({key} tries again)", style="dim")
        rows.append(("Traffic", text))
        if live.hint:
            rows.append(("", SafeText(live.hint, style="dim")))
        return rows
    if status is LiveStatus.ERROR:
        line = Text(f"reading failed at {clock_time(live.error_at)}: ", style="bold") + Text(live.error)
        line.append(f"; trying again {every}", style="dim")
        if live.rates is not None:
            line.append(f" (rates above as of {clock_time(live.rates_at)})", style="dim")
        rows.append(("Traffic" if live.rates is None else "", line))
    return rows


def live_subtitle(live: LiveTraffic | None, key: str) -> str:
    """The panel's lower border while watching: since when, how often, how to stop."""
    if live is None or not live.polling:
        return f"{key} live traffic"
    since = f"live since {clock_time(live.since)}" if live.since is not None else "live"
    return f"{since}, every {live.interval:g} s · {key} stops"
