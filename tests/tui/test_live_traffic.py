"""Pilot tests of the live traffic in the port detail panel (issue 10, item 2): ``t`` on a port.

The backend is the demo lab's own (its counters move with ``SnapshotBackend.clock``); its
``port_statistics`` is wrapped only to count the calls, or, where a test says so, to answer as a
server the demo lab cannot be would (a refusal, an error, counters that start again).
The explorer's ``live_interval`` is set long and ``refresh_live`` reads when the test says, so no
test sleeps for the real 3 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.conftest import CLOUD
from tests.helpers import notifications, started, type_text
from tests.labgen import DEMO_READ
from tests.tui.conftest import demo_app, settle
from tests.tui.test_explorer import explorer, plain
from tui.app import DvMirrorApp
from tui.backends import BackendError, StatisticsUnsupported
from tui.backends.snapshot import SnapshotBackend
from tui.backends.snapshot_format import parse_time
from tui.live_traffic import LIVE_INTERVAL, LiveStatus, byte_rate, packet_rate
from tui.model import PortStatistics, port_rates
from tui.screens.explorer import ExplorerScreen
from widgets.port_detail import PortDetail
from widgets.port_table import PortTable

T0 = parse_time(DEMO_READ) + 86_400.0
"""A day after the demo lab's counters were recorded: they have moved on at their rates."""

REFUSAL = "this server does not implement RefreshDVPortState, so port counters cannot be read fresh"


class Clock:
    """The demo backend's "now", moved by the test."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


Reading = Callable[[str, Sequence[str]], dict[str, PortStatistics]]


class Calls:
    """Every ``port_statistics`` call of a backend (switch, keys) and what it returned; ``answer``
    may replace the backend's answer for a call (it gets the call's number and the real method)."""

    def __init__(self, backend: SnapshotBackend, answer: Callable[[int, Reading, str, list[str]], Any] | None = None):
        self.calls: list[tuple[str, list[str]]] = []
        self.results: list[dict[str, PortStatistics]] = []
        real: Reading = backend.port_statistics

        def counted(switch_key: str, port_keys: Sequence[str]) -> dict[str, PortStatistics]:
            keys = list(port_keys)
            self.calls.append((switch_key, keys))
            got = answer(len(self.calls), real, switch_key, keys) if answer else real(switch_key, keys)
            self.results.append(got)
            return dict(got)

        backend.port_statistics = counted  # type: ignore[method-assign]

    def __len__(self) -> int:
        return len(self.calls)


def demo(answer: Callable[[int, Reading, str, list[str]], Any] | None = None) -> tuple[DvMirrorApp, Clock, Calls]:
    app = demo_app()
    backend = app.backend
    assert isinstance(backend, SnapshotBackend)
    clock = Clock()
    backend.clock = clock
    return app, clock, Calls(backend, answer)


async def answered(pilot: Pilot[None]) -> None:
    """Wait until the reading on its way has arrived and is drawn."""
    await pilot.app.workers.wait_for_complete()
    await settle(pilot)


async def go_to(pilot: Pilot[None], key: str) -> ExplorerScreen:
    await pilot.press("slash")
    await type_text(pilot, key)
    await pilot.press("enter")
    await settle(pilot)
    screen = explorer(pilot.app)
    assert screen.current_port is not None and screen.current_port.key == key
    return screen


def manual(screen: ExplorerScreen) -> None:
    """Readings only when the test calls ``refresh_live`` (and at once when the port changes)."""
    screen.live_interval = 3600.0
    screen.live_settle = 0.0


def detail(screen: ExplorerScreen) -> str:
    return plain(screen.query_one(PortDetail))


async def test_t_shows_measuring_then_the_rates_of_the_port() -> None:
    app, clock, calls = demo()
    async with started(app) as pilot:
        screen = await go_to(pilot, "448")
        manual(screen)
        panel = screen.query_one(PortDetail)
        assert "Traffic" not in detail(screen)
        assert panel.border_subtitle == "t live traffic"
        await pilot.press("t")
        await answered(pilot)
        assert calls.calls == [(CLOUD, ["448"])]
        assert "Traffic    measuring… (rates in 3600 s)" in detail(screen)
        assert str(panel.border_subtitle).startswith("live since ")
        clock.now += 3.0
        screen.refresh_live()
        await answered(pilot)
        assert calls.calls == [(CLOUD, ["448"])] * 2
        live = screen.live
        assert live is not None and live.status is LiveStatus.RATES and live.rates is not None
        expected = port_rates(calls.results[0]["448"], calls.results[1]["448"])
        assert live.rates == expected and expected.seconds == 3.0
        assert expected.packets_in and expected.packets_in > 0 and expected.packets_out and expected.packets_out > 0
        assert expected.bytes_in and expected.bytes_in > 0 and expected.bytes_out and expected.bytes_out > 0
        text = detail(screen)
        inbound = f"in  {packet_rate(expected.packets_in)} {byte_rate(expected.bytes_in)} drop 0/s"
        outbound = f"out {packet_rate(expected.packets_out)} {byte_rate(expected.bytes_out)} drop 0/s"
        assert inbound in text and outbound in text, text
        assert "measuring" not in text


async def test_one_call_per_refresh_for_that_port_only() -> None:
    app, clock, calls = demo()
    async with started(app) as pilot:
        screen = await go_to(pilot, "2258")
        manual(screen)
        await pilot.press("t")
        await answered(pilot)
        for n in range(2, 6):
            clock.now += 3.0
            screen.refresh_live()
            await answered(pilot)
            assert len(calls) == n
            assert screen.live is not None and screen.live.readings == n
        assert calls.calls == [(CLOUD, ["2258"])] * 5


async def test_readings_follow_the_interval_by_themselves() -> None:
    """At a short interval the panel reads on its own: each reading is one call for the port."""
    app, clock, calls = demo()
    async with started(app) as pilot:
        screen = await go_to(pilot, "448")
        screen.live_interval = 0.05
        await pilot.press("t")
        deadline = time.monotonic() + 10
        while (screen.live is None or screen.live.readings < 4) and time.monotonic() < deadline:
            clock.now += 0.05
            await pilot.pause(0.05)
        assert screen.live is not None and screen.live.readings >= 4
        assert len(calls) - screen.live.readings in (0, 1)  # one may be on its way
        assert set(map(tuple, (c[1] for c in calls.calls))) == {("448",)}


async def test_selecting_another_port_polls_that_port() -> None:
    app, clock, calls = demo()
    async with started(app) as pilot:
        screen = await go_to(pilot, "448")
        manual(screen)
        await pilot.press("t")
        await answered(pilot)
        table = screen.query_one(PortTable)
        table.focus()
        await pilot.press("down")  # 449 (WEB-DMZ02), next in dvPgDMZ
        await answered(pilot)
        assert screen.current_port is not None and screen.current_port.key == "449"
        assert calls.calls == [(CLOUD, ["448"]), (CLOUD, ["449"])]
        assert screen.live is not None and screen.live.port == "449" and screen.live.status is LiveStatus.MEASURING
        clock.now += 3.0
        screen.refresh_live()
        await answered(pilot)
        assert calls.calls[-1] == (CLOUD, ["449"])
        assert screen.live.status is LiveStatus.RATES
        assert screen.live.rates == port_rates(calls.results[1]["449"], calls.results[2]["449"])
        assert "Port 449" in str(screen.query_one(PortDetail).border_title)


async def test_moving_through_the_table_reads_only_the_port_it_stops_on() -> None:
    app, _clock, calls = demo()
    async with started(app) as pilot:
        screen = await go_to(pilot, "448")
        screen.live_interval = 3600.0
        screen.live_settle = 2.0  # longer than three key presses take, even on a loaded machine
        await pilot.press("t")
        await answered(pilot)
        screen.query_one(PortTable).focus()
        await pilot.press("down", "down", "down")  # 449, 450, 451 quicker than the settle delay
        await pilot.pause(screen.live_settle + 0.3)
        await answered(pilot)
        assert calls.calls == [(CLOUD, ["448"]), (CLOUD, ["451"])]


async def test_t_again_stops_the_readings() -> None:
    app, clock, calls = demo()
    async with started(app) as pilot:
        screen = await go_to(pilot, "448")
        screen.live_interval = 0.05
        await pilot.press("t")
        deadline = time.monotonic() + 10
        while len(calls) < 3 and time.monotonic() < deadline:
            clock.now += 0.05
            await pilot.pause(0.05)
        await pilot.press("t")
        await answered(pilot)
        stopped = len(calls)
        assert stopped >= 3
        await pilot.pause(0.4)
        assert len(calls) == stopped
        assert screen.live is None and not screen.live_on
        assert "Traffic" not in detail(screen)
        assert screen.query_one(PortDetail).border_subtitle == "t live traffic"


async def test_no_readings_while_another_screen_is_on_top() -> None:
    app, clock, calls = demo()
    async with started(app) as pilot:
        screen = await go_to(pilot, "448")
        screen.live_interval = 0.05
        await pilot.press("t")
        await pilot.pause(0.2)
        await pilot.press("S")  # the sessions screen
        await settle(pilot)
        assert app.screen is not screen
        await answered(pilot)
        before = len(calls)
        await pilot.pause(0.4)
        assert len(calls) == before
        await pilot.press("escape")  # back to the explorer: watching again, from scratch
        await settle(pilot)
        assert app.screen is screen
        deadline = time.monotonic() + 10
        while len(calls) < before + 2 and time.monotonic() < deadline:
            clock.now += 0.05
            await pilot.pause(0.05)
        assert len(calls) >= before + 2 and calls.calls[-1] == (CLOUD, ["448"])


async def test_a_server_without_counters_is_said_once_and_not_asked_again() -> None:
    def refuse(n: int, real: Reading, switch: str, keys: list[str]) -> Any:
        raise StatisticsUnsupported(REFUSAL, hint="vCenter has offered it since vSphere 4.0; a simulator may not.")

    app, _clock, calls = demo(refuse)
    async with started(app) as pilot:
        shown = notifications(app)
        screen = await go_to(pilot, "448")
        screen.live_interval = 0.05
        await pilot.press("t")
        await answered(pilot)
        await pilot.pause(0.4)
        assert len(calls) == 1
        words = " ".join(detail(screen).split())
        assert f"Traffic not available: {REFUSAL}; stopped (t tries again)" in words
        assert "vCenter has offered it since vSphere 4.0; a simulator may not." in words
        assert screen.live is not None and screen.live.status is LiveStatus.UNSUPPORTED
        assert screen.query_one(PortDetail).border_subtitle == "t live traffic"
        assert shown == []  # said in the panel, once: no toast
        await pilot.press("t")  # asked for again: one more try
        await answered(pilot)
        assert len(calls) == 2 and screen.live_on


async def test_other_errors_are_shown_escaped_and_the_next_reading_tries_again() -> None:
    def flaky(n: int, real: Reading, switch: str, keys: list[str]) -> Any:
        if n == 2:
            raise BackendError("vCenter refused a request while reading port counters: \x1b]0;pwned\x07 busy")
        if n == 3:
            raise RuntimeError("something odd")
        return real(switch, keys)

    app, clock, calls = demo(flaky)
    async with started(app) as pilot:
        shown = notifications(app)
        screen = await go_to(pilot, "448")
        manual(screen)
        await pilot.press("t")
        await answered(pilot)
        clock.now += 3.0
        screen.refresh_live()
        await answered(pilot)
        text = detail(screen)
        assert "reading failed at" in text and "\\x1b]0;pwned\\x07 busy" in text and "\x1b" not in text
        assert screen.live is not None and screen.live.status is LiveStatus.ERROR and screen.live.polling
        clock.now += 3.0
        screen.refresh_live()
        await answered(pilot)
        assert "RuntimeError: something odd" in detail(screen)
        clock.now += 3.0
        screen.refresh_live()
        await answered(pilot)
        assert screen.live.status is LiveStatus.RATES
        assert screen.live.rates is not None and screen.live.rates.seconds == 9.0  # since the last good reading
        assert "reading failed" not in detail(screen)
        assert len(calls) == 4 and shown == []


async def test_counters_that_went_down_say_reset_and_measure_again() -> None:
    """The port reconnected between two readings: its counters started again from zero."""
    restart: dict[str, PortStatistics] = {}

    def reconnected(n: int, real: Reading, switch: str, keys: list[str]) -> Any:
        got = real(switch, keys)
        if n < 3:
            return got
        first = restart.setdefault("448", got["448"])
        since = {name: got["448"].counter(name) for name in ("packets_in_unicast", "bytes_in_unicast")}
        return {
            "448": PortStatistics(
                read_at=got["448"].read_at,
                packets_in_unicast=(since["packets_in_unicast"] or 0) - (first.packets_in_unicast or 0) + 10,
                bytes_in_unicast=(since["bytes_in_unicast"] or 0) - (first.bytes_in_unicast or 0) + 600,
            )
        }

    app, clock, calls = demo(reconnected)
    async with started(app) as pilot:
        screen = await go_to(pilot, "448")
        manual(screen)
        await pilot.press("t")
        for _ in range(2):
            await answered(pilot)
            clock.now += 3.0
            screen.refresh_live()
        await answered(pilot)
        assert screen.live is not None and screen.live.status is LiveStatus.RESET
        assert "counters were reset (the port reconnected or moved); measuring again…" in detail(screen)
        clock.now += 3.0
        screen.refresh_live()
        await answered(pilot)
        assert screen.live.status is LiveStatus.RATES
        assert screen.live.rates is not None and screen.live.rates.packets_in and screen.live.rates.packets_in > 0
        assert len(calls) == 4


async def test_a_port_without_counters_and_a_port_that_vanished() -> None:
    def gone(n: int, real: Reading, switch: str, keys: list[str]) -> Any:
        return real(switch, keys) if n == 1 else {}

    app, clock, calls = demo(gone)
    async with started(app) as pilot:
        screen = await go_to(pilot, "448")
        manual(screen)
        await pilot.press("t")
        await answered(pilot)
        clock.now += 3.0
        screen.refresh_live()
        await answered(pilot)
        assert "the server no longer reports this port" in detail(screen)
        assert screen.live is not None and screen.live.polling

    def never(n: int, real: Reading, switch: str, keys: list[str]) -> Any:
        return {}  # a server that reports no counters for the port (the demo lab has them for every port)

    app, _clock, calls = demo(never)
    async with started(app) as pilot:
        screen = await go_to(pilot, "2258")
        manual(screen)
        screen.query_one(PortTable).focus()
        await pilot.press("up")  # 2257, a free port
        await pilot.press("t")
        await answered(pilot)
        assert screen.current_port is not None and screen.current_port.key == "2257"
        assert calls.calls == [(CLOUD, ["2257"])]
        assert "Traffic    no counters reported for this port" in detail(screen)


async def test_t_without_a_port_says_select_one() -> None:
    app, _clock, calls = demo()
    async with started(app) as pilot:
        shown = notifications(app)
        screen = explorer(app)
        await settle(pilot)
        # As after a failed load: no port shown. The key's action runs at once, before the table (still
        # being filled on a loaded machine) may highlight a row again.
        screen.withdraw("No inventory: the load was interrupted.")
        assert screen.current_port is None
        screen.action_live_traffic()
        await answered(pilot)
        assert shown == ["Select a port first (in the tree or the table)."]
        assert len(calls) == 0 and not explorer(app).live_on


async def test_the_palette_offers_live_traffic_with_its_key() -> None:
    from tests.tui.conftest import palette_run

    app, _clock, calls = demo()
    async with started(app) as pilot:
        screen = await go_to(pilot, "448")
        manual(screen)
        prompts = await palette_run(pilot, "live traffic")
        assert prompts and prompts[0].startswith("Live traffic of the port")
        await answered(pilot)
        assert screen.live_on and calls.calls == [(CLOUD, ["448"])]


async def test_quitting_while_watching_is_immediate() -> None:
    """A reading that hangs (a silent vCenter) ends when the backend is closed; q does not wait for it."""
    import threading

    released = threading.Event()

    def hang(n: int, real: Reading, switch: str, keys: list[str]) -> Any:
        released.wait(30)
        return {}

    app, _clock, calls = demo(hang)
    backend = app.backend
    backend.close = released.set  # type: ignore[method-assign]  # as the vsphere backend's close cuts the call
    async with started(app) as pilot:
        screen = await go_to(pilot, "448")
        await pilot.press("t")
        await pilot.pause(0.1)
        assert len(calls) == 1
        started_at = time.monotonic()
        await pilot.press("q")
        await pilot.pause()
    assert time.monotonic() - started_at < 2.0
    assert released.is_set()
    assert screen.live_interval == LIVE_INTERVAL


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_rates_fit_the_panel(size: tuple[int, int]) -> None:
    app, clock, _calls = demo()
    async with started(app, size=size) as pilot:
        screen = await go_to(pilot, "448")
        manual(screen)
        await pilot.press("t")
        await answered(pilot)
        clock.now += 3.0
        screen.refresh_live()
        await answered(pilot)
        panel = screen.query_one(PortDetail)
        width = panel.content_region.width
        lines = app.console.render_lines(panel.content, app.console.options.update_width(width))  # type: ignore[arg-type]
        text = ["".join(seg.text for seg in line).rstrip() for line in lines]
        assert any(line.startswith("Traffic    in ") and line.endswith("drop 0/s") for line in text), text
        assert any(line.strip().startswith("out ") and line.endswith("drop 0/s") for line in text), text


async def test_finding_another_port_while_watching_watches_that_one() -> None:
    """The finder is a screen on top (no readings meanwhile); its jump shows another port, which is watched next."""
    app, _clock, calls = demo()
    async with started(app) as pilot:
        screen = await go_to(pilot, "448")
        manual(screen)
        await pilot.press("t")
        await answered(pilot)
        await go_to(pilot, "2258")
        await pilot.pause(screen.live_settle + 0.1)
        await answered(pilot)
        assert calls.calls == [(CLOUD, ["448"]), (CLOUD, ["2258"])]
        assert screen.live is not None and screen.live.port == "2258" and screen.live.status is LiveStatus.MEASURING


async def test_a_remapped_key_is_the_one_the_panel_names() -> None:
    from tui.app import build_app

    backend = SnapshotBackend()
    calls = Calls(backend)
    app = build_app(backend, keymap={"explorer.live_traffic": "T"}, environ={})
    async with started(app) as pilot:
        screen = await go_to(pilot, "448")
        manual(screen)
        panel = screen.query_one(PortDetail)
        assert panel.border_subtitle == "T live traffic"
        await pilot.press("t")
        await answered(pilot)
        assert len(calls) == 0
        await pilot.press("T")
        await answered(pilot)
        assert calls.calls == [(CLOUD, ["448"])]
        assert str(panel.border_subtitle).endswith("· T stops")
