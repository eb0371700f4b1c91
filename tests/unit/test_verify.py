"""The verify core (tui/verify.py) on the demo lab's inventory, from readings built by hand.

Each reading is what one ``port_statistics`` call returns: ``{port key: PortStatistics}``. The
sessions are the walkthrough's (port 448, F5-LTM01, both ways to port 2258, MGTSRVR003UX, both
on esx-03) and variations of it; the warnings are the rules' own (``rules.session_warnings``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from tests.conftest import CLOUD
from tests.helpers import WALKTHROUGH_MODERN
from tui import rules, verify
from tui.backends.snapshot import SnapshotBackend
from tui.model import COUNTERS, STAT_API_NAMES, Inventory, MirrorSession, PortStatistics, RateStatus, VspanPorts
from tui.verify import Flow, Reading, Verdict

T0 = 1_800_000_000.0
"""The readings' clock (seconds since the epoch)."""


def stats(t: float, **rates: float) -> PortStatistics:
    """One port's counters at ``T0 + t`` after ``t`` seconds at ``rates`` (attribute → per second),
    from a base of 10**9 for every counter (counters never start at zero on a live switch)."""
    counters = {name: 10**9 + int(rates.get(name, 0.0) * t) for name in COUNTERS}
    return PortStatistics(read_at=T0 + t, **counters)


def readings(times: Sequence[float], **ports: dict[str, float]) -> list[Reading]:
    """Readings at ``times`` of each port (``port_448={...rates}``: key after ``port_``)."""
    return [{key.removeprefix("port_"): stats(t, **r) for key, r in ports.items()} for t in times]


BUSY = {"packets_in_unicast": 100.0, "bytes_in_unicast": 100_000.0, "packets_out_unicast": 50.0}
BUSY["bytes_out_unicast"] = 20_000.0
"""A source: 100 packets/s received from its VM (1,000 bytes each), 50 sent to it (400 bytes)."""
MIRRORED_PPS = 150.0
MIRRORED_BPS = 100 * 60 + 50 * 60.0
"""What the walkthrough's session (both ways, 60-byte frames) mirrors of :data:`BUSY`."""


def sent(pps: float, bps: float | None = None, dropped: float = 0.0) -> dict[str, float]:
    """A destination's rates: ``pps`` forwarded to it (60-byte frames unless ``bps``), ``dropped`` of them dropped."""
    return {
        "packets_out_unicast": pps,
        "bytes_out_unicast": pps * 60 if bps is None else bps,
        "packets_out_dropped": dropped,
    }


def judged(inv: Inventory, session: MirrorSession, reads: Sequence[Reading]) -> verify.VerifyResult:
    the_plan = verify.plan(inv, CLOUD, session)
    return verify.judge(inv, the_plan, reads, rules.session_warnings(inv, CLOUD, session))


def codes(result: verify.VerifyResult) -> list[str]:
    return [r.code for r in result.reasons]


WALK = WALKTHROUGH_MODERN.with_changes(key="9")
TIMES = (0.0, 2.0, 4.0)


# -- verdicts ----------------------------------------------------------------------------------


def test_mirroring(demo: Inventory) -> None:
    result = judged(demo, WALK, readings(TIMES, port_448=BUSY, port_2258=sent(160)))
    assert result.verdict is Verdict.MIRRORING and result.verdict.exit_code == 0
    assert result.expected == Flow(MIRRORED_PPS, MIRRORED_BPS)
    assert result.seconds == 4.0 and len(result.readings) == 3
    [src], [dest] = result.sources, result.destinations
    assert (src.key, src.role, src.status) == ("448", "source (both)", RateStatus.OK)
    assert dest.key == "2258" and dest.due == Flow(MIRRORED_PPS, MIRRORED_BPS)
    assert dest.mirrored == Flow(160.0, 160 * 60.0) and dest.dropped == 0.0
    assert result.summary == "Mirroring: the sources carried 150 pkt/s to mirror; the destination was sent 160 pkt/s."
    assert result.reasons == () and result.advice == ()
    assert verify.table_rows(result) == [
        ("448 · F5-LTM01 / Network adapter 2", "source (both)", "150 pkt/s", "9.0 kB/s", "", ""),
        ("2258 · MGTSRVR003UX / Network adapter 2", "destination", "160 pkt/s", "9.6 kB/s", "150 pkt/s", "0 pkt/s"),
    ]


def test_nothing_to_mirror_when_the_sources_are_idle(demo: Inventory) -> None:
    result = judged(demo, WALK, readings(TIMES, port_448={}, port_2258=sent(40)))
    assert result.verdict is Verdict.NOTHING_TO_MIRROR and result.verdict.exit_code == 1
    assert codes(result) == ["SourcesIdle"]
    assert result.summary == "Nothing to mirror: the sources were idle for 4 s."
    # The walkthrough's advice: ping the source (F5-LTM01, the IP of its Network adapter 2) from elsewhere.
    [advice] = result.advice
    assert "ping F5-LTM01 (10.20.4.10)" in advice and "172.24.4.52" in advice


def test_a_session_without_source_has_nothing_to_mirror(demo: Inventory) -> None:
    session = WALK.with_changes(source_rx=VspanPorts(), source_tx=VspanPorts())
    result = judged(demo, session, readings(TIMES, port_2258=sent(40)))
    assert result.verdict is Verdict.NOTHING_TO_MIRROR and codes(result)[0] == "NoSource"
    assert verify.plan(demo, CLOUD, session).port_keys == ("2258",)


def test_disabled_is_not_delivered_whatever_the_counters(demo: Inventory) -> None:
    """The destination's own traffic could pass for mirrored frames: a disabled session delivers nothing."""
    result = judged(demo, WALK.with_changes(enabled=False), readings(TIMES, port_448=BUSY, port_2258=sent(500)))
    assert result.verdict is Verdict.NOT_DELIVERED and result.verdict.exit_code == 1
    assert codes(result) == ["SessionDisabled", "OwnTraffic"]
    assert result.summary == "Not delivered: The session is disabled: vCenter mirrors nothing for it."


def test_destination_not_connected_is_not_delivered(demo: Inventory) -> None:
    session = WALK.with_changes(destination=VspanPorts(port_keys=("20",)))  # a free port
    result = judged(demo, session, readings(TIMES, port_448=BUSY, port_20={}))
    assert result.verdict is Verdict.NOT_DELIVERED and codes(result)[0] == "DestinationNotConnected"


def test_a_pair_on_two_hosts_is_not_delivered(demo: Inventory) -> None:
    """449 is on esx-01, 2258 on esx-03: Distributed Port Mirroring stays on one host (V28)."""
    session = WALK.with_changes(source_rx=VspanPorts(port_keys=("449",)), source_tx=VspanPorts(port_keys=("449",)))
    result = judged(demo, session, readings(TIMES, port_449=BUSY, port_2258=sent(500)))
    assert result.verdict is Verdict.NOT_DELIVERED and codes(result)[0] == "CrossHostMirror"
    assert result.destinations[0].due == Flow(0.0, 0.0)


def test_busy_sources_on_another_host_only_is_not_delivered(demo: Inventory) -> None:
    """448 (esx-03, with 2258) is idle and 449 (esx-01) busy: nothing reaches 2258, and that is no idle source."""
    both = VspanPorts(port_keys=("448", "449"))
    session = WALK.with_changes(source_rx=both, source_tx=both)
    result = judged(demo, session, readings(TIMES, port_448={}, port_449=BUSY, port_2258=sent(5)))
    assert result.verdict is Verdict.NOT_DELIVERED and codes(result)[0] == "CrossHostMirror"
    assert result.summary.startswith("Not delivered: the sources carried 150 pkt/s, none where it can reach")


def test_sampling_does_not_make_busy_sources_idle(demo: Inventory) -> None:
    """One packet in 1,000 of 150 pkt/s is 0.15 pkt/s to mirror: the sources are busy all the same."""
    result = judged(demo, WALK.with_changes(sampling_rate=1000), readings(TIMES, port_448=BUSY, port_2258=sent(3)))
    assert result.verdict is Verdict.MIRRORING
    assert result.expected is not None and result.expected.pps == pytest.approx(0.15)


def test_one_destination_of_two_not_connected_does_not_block(demo: Inventory) -> None:
    """2258 receives; 20 is a free port: the session is judged per destination, not refused outright."""
    session = WALK.with_changes(destination=VspanPorts(port_keys=("2258", "20")))
    result = judged(demo, session, readings(TIMES, port_448=BUSY, port_2258=sent(160), port_20={}))
    assert result.verdict is Verdict.NOT_DELIVERED
    assert codes(result)[0] == "ShortDelivery" and "Destination 20 · " in result.reasons[0].text
    assert "DestinationNotConnected" in codes(result)[1:]


def test_short_delivery_is_not_delivered(demo: Inventory) -> None:
    result = judged(demo, WALK, readings(TIMES, port_448=BUSY, port_2258=sent(15)))
    assert result.verdict is Verdict.NOT_DELIVERED and codes(result) == ["ShortDelivery"]
    assert "15 pkt/s, less than the 150 pkt/s" in result.reasons[0].text
    assert "Nothing in the session's configuration explains it" in result.advice[0]


def test_drops_at_the_destination(demo: Inventory) -> None:
    result = judged(demo, WALK, readings(TIMES, port_448=BUSY, port_2258=sent(150, dropped=40)))
    assert result.verdict is Verdict.DROPPED and result.verdict.exit_code == 1
    assert codes(result) == ["DestinationDrops"]
    assert result.summary == "Delivered but dropped: the destination dropped 40 pkt/s of 150 pkt/s mirrored."
    advice = " ".join(result.advice)
    assert "ethtool -G" in advice and "MTU" in advice and "sampling rate" in advice
    assert "mirrored packet length" not in advice  # the session already cuts frames to 60 bytes
    assert verify.table_rows(result)[1][5] == "40 pkt/s"


def test_a_few_drops_are_noise(demo: Inventory) -> None:
    """Below DROP_MIN_PPS (and DROP_SHARE of what is due) drops do not change the verdict."""
    result = judged(demo, WALK, readings(TIMES, port_448=BUSY, port_2258=sent(150, dropped=0.5)))
    assert result.verdict is Verdict.MIRRORING


def test_erspan_ip_destination_is_inconclusive(demo: Inventory) -> None:
    session = MirrorSession(
        key="9",
        name="to the collector",
        session_type="encapsulatedRemoteMirrorSource",
        source_rx=VspanPorts(port_keys=("448",)),
        destination=VspanPorts(ip_addresses=("192.0.2.10",)),
    )
    the_plan = verify.plan(demo, CLOUD, session)
    assert the_plan.destinations == () and the_plan.port_keys == ("448",)
    assert "IP address 192.0.2.10, outside the switch" in the_plan.unmeasured
    result = judged(demo, session, readings(TIMES, port_448=BUSY))
    assert result.verdict is Verdict.INCONCLUSIVE and codes(result) == ["NotMeasurable"]
    assert result.summary.startswith("Inconclusive: the sources carried 100 pkt/s to mirror; the destination is IP")
    # Idle sources are told first: there is nothing to look for on the collector either.
    assert judged(demo, session, readings(TIMES, port_448={})).verdict is Verdict.NOTHING_TO_MIRROR


def test_a_source_that_vanishes_is_inconclusive(demo: Inventory) -> None:
    reads = readings(TIMES, port_448=BUSY, port_2258=sent(160))
    reads[-1] = {"2258": reads[-1]["2258"]}  # 448 gone from the last reading (vMotion, removed NIC)
    result = judged(demo, WALK, reads)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.sources[0].status is RateStatus.VANISHED and result.expected is None
    assert result.reasons[0].text == (
        "Source 448 · F5-LTM01 / Network adapter 2: vCenter stopped reporting the port during the window."
    )
    assert verify.table_rows(result)[0][2] == "vCenter stopped reporting the port during the window"


def test_a_destination_never_reported_is_inconclusive(demo: Inventory) -> None:
    result = judged(demo, WALK, readings(TIMES, port_448=BUSY))
    assert result.verdict is Verdict.INCONCLUSIVE and not result.destinations[0].reported
    assert result.reasons[-1].text == (
        "Destination 2258 · MGTSRVR003UX / Network adapter 2: no counters were reported for the port."
    )


def test_verdict_exit_codes() -> None:
    assert {v: v.exit_code for v in Verdict} == {
        Verdict.MIRRORING: 0,
        Verdict.NOTHING_TO_MIRROR: 1,
        Verdict.NOT_DELIVERED: 1,
        Verdict.DROPPED: 1,
        Verdict.INCONCLUSIVE: 1,
    }


# -- per destination: hosts and uplinks ----------------------------------------------------------


def test_each_destination_is_due_only_its_hosts_sources(demo: Inventory) -> None:
    """Sources 448 (esx-03) and 449 (esx-01) to 2258 (esx-03) and 108 (esx-01): each gets its host's share."""
    session = WALK.with_changes(
        source_rx=VspanPorts(port_keys=("448", "449")),
        source_tx=VspanPorts(port_keys=("448", "449")),
        destination=VspanPorts(port_keys=("2258", "108")),
    )
    quiet = {"packets_in_unicast": 10.0, "bytes_in_unicast": 1000.0}
    result = judged(
        demo, session, readings(TIMES, port_448=BUSY, port_449=quiet, port_2258=sent(150), port_108=sent(10))
    )
    due = {d.key: d.due for d in result.destinations}
    assert due == {"2258": Flow(MIRRORED_PPS, MIRRORED_BPS), "108": Flow(10.0, 600.0)}
    assert result.expected == Flow(MIRRORED_PPS + 10.0, MIRRORED_BPS + 600.0)
    # Every destination shares a host with a source: the cross-host warnings explain, they do not block.
    assert result.verdict is Verdict.MIRRORING and set(codes(result)) == {"CrossHostMirror"}


def test_uplink_destinations_are_the_uplinks_of_the_sources_hosts(demo: Inventory) -> None:
    """The demo's RSPAN-Core: source 104 on esx-01 to uplink dvUplink4, which every host has."""
    session = next(s for s in demo.switches[CLOUD].sessions if s.name == "RSPAN-Core")
    host = demo.port(CLOUD, "104").host  # type: ignore[union-attr]
    named = [p for p in demo.ports_by_switch[CLOUD] if p.is_uplink and p.name == "dvUplink4"]
    assert len({p.host for p in named}) > 1
    the_plan = verify.plan(demo, CLOUD, session)
    assert the_plan.rx == ("104",) and the_plan.tx == ()
    assert the_plan.destinations == tuple(p.key for p in named if p.host == host) == ("3",)
    result = judged(demo, session.with_changes(enabled=True), readings(TIMES, port_104=BUSY, port_3=sent(20_000)))
    assert result.verdict is Verdict.MIRRORING and "An uplink's counters include the host's other traffic" in (
        result.summary
    )


# -- rates over the window -----------------------------------------------------------------------


def _counted(t: float, value: int) -> PortStatistics:
    return PortStatistics(read_at=T0 + t, packets_in_unicast=value)


def test_window_rates_across_a_reset_in_the_middle() -> None:
    """Reconnected between the second and third readings: the intervals on either side still count."""
    reads: list[Reading] = [{"7": _counted(t, v)} for t, v in ((0, 1000), (2, 1200), (4, 50), (6, 250))]
    r = verify.window_rates(reads, "7")
    assert r.status is RateStatus.OK and r.seconds == 4.0
    assert r.delta("packets_in_unicast") == 400 and r.rate("packets_in_unicast") == 100.0


def test_window_rates_all_reset() -> None:
    reads: list[Reading] = [{"7": _counted(0, 1000)}, {"7": _counted(2, 10)}]
    assert verify.window_rates(reads, "7").status is RateStatus.RESET


def test_window_rates_of_a_port_that_vanishes_appears_or_never_was() -> None:
    a, b, c = _counted(0, 0), _counted(2, 200), _counted(4, 400)
    assert verify.window_rates([{"7": a}, {"7": b}, {}], "7").status is RateStatus.VANISHED
    assert verify.window_rates([{}, {}, {"7": c}], "7").status is RateStatus.NEW
    assert verify.window_rates([{}, {"7": b}, {"7": c}], "7").rate("packets_in_unicast") == 100.0
    assert verify.window_rates([{}, {}], "7").status is RateStatus.VANISHED
    assert verify.window_rates([{"7": a}, {"7": a}], "7").status is RateStatus.NO_INTERVAL


def test_window_rates_count_across_a_counter_wrap() -> None:
    """A 64-bit counter at 2^64 - 100 (the API's signed long shows -100) that wraps to 100 grew by 200."""
    reads: list[Reading] = [{"7": _counted(0, -100)}, {"7": _counted(2, 100)}]
    r = verify.window_rates(reads, "7")
    assert r.status is RateStatus.OK and r.delta("packets_in_unicast") == 200 and r.rate("packets_in_unicast") == 100.0


# -- what a session mirrors of a source ----------------------------------------------------------


def test_mirrored_flow_applies_sampling_and_packet_length() -> None:
    rates = verify.window_rates(
        [
            {"1": stats(0)},
            {
                "1": stats(
                    10,
                    packets_in_unicast=400,
                    bytes_in_unicast=400_000,  # 1,000-byte frames
                    packets_in_multicast=8,
                    bytes_in_multicast=400,  # 50-byte frames: shorter than the cut
                    packets_out_unicast=1000,
                    bytes_out_unicast=1_000_000,
                )
            },
        ],
        "1",
    )
    s = WALK.with_changes(sampling_rate=4, mirrored_packet_length=60)
    assert verify.mirrored_flow(rates, "in", s) == Flow(100.0 + 2.0, 100 * 60.0 + 100.0)
    assert verify.mirrored_flow(rates, "out", s) == Flow(250.0, 250 * 60.0)
    whole = WALK.with_changes(sampling_rate=None, mirrored_packet_length=None)
    assert verify.mirrored_flow(rates, "in", whole) == Flow(408.0, 400_400.0)


def test_bytes_without_a_whole_packet_are_cut_to_nothing() -> None:
    """Counters read mid-frame (or projected, as the demo's) can move bytes and not packets in a window:
    with a packet length, no more bytes are mirrored than packets times the length."""
    rates = verify.window_rates([{"1": stats(0)}, {"1": stats(1, bytes_out_multicast=30)}], "1")
    assert verify.mirrored_flow(rates, "out", WALK) == Flow(0.0, 0.0)
    assert verify.mirrored_flow(rates, "out", WALK.with_changes(mirrored_packet_length=None)) == Flow(0.0, 30.0)


def test_a_source_mirrored_one_way_counts_that_way_only(demo: Inventory) -> None:
    ingress = WALK.with_changes(source_tx=VspanPorts())
    result = judged(demo, ingress, readings(TIMES, port_448=BUSY, port_2258=sent(100)))
    assert result.sources[0].role == "source (received)"
    assert result.expected == Flow(100.0, 100 * 60.0) and result.verdict is Verdict.MIRRORING


# -- sampling ------------------------------------------------------------------------------------


class FakeTime(threading.Event):
    """A clock and a stop event in one: waiting moves the clock on at once; ``stop_after`` readings set it."""

    def __init__(self, stop_after: int | None = None) -> None:
        super().__init__()
        self.now = 0.0
        self.stop_after = stop_after
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None and timeout > 0
        self.waits.append(timeout)
        self.now += timeout
        return self.is_set()


def counting(backend: SnapshotBackend) -> list[tuple[str, tuple[str, ...]]]:
    """Record every ``port_statistics`` call of ``backend`` (the real method still answers)."""
    calls: list[tuple[str, tuple[str, ...]]] = []
    real: Callable[..., Any] = backend.port_statistics

    def port_statistics(switch_key: str, port_keys: Sequence[str]) -> dict[str, PortStatistics]:
        calls.append((switch_key, tuple(port_keys)))
        return real(switch_key, port_keys)

    backend.port_statistics = port_statistics  # type: ignore[method-assign]
    return calls


@pytest.mark.parametrize(("seconds", "every", "expected_calls"), [(10, 2, 6), (5, 2, 4), (1, 2, 2), (3, 0.5, 7)])
def test_sample_reads_at_the_start_every_interval_and_at_the_end(
    seconds: float, every: float, expected_calls: int
) -> None:
    backend = SnapshotBackend()
    inv = backend.load()
    fake = FakeTime()
    backend.clock = lambda: T0 + fake.now  # the demo's counters move with the same fake clock
    calls = counting(backend)
    shares: list[float] = []
    session = next(s for s in inv.switches[CLOUD].sessions if s.name == "DMZ-IDS")
    the_plan = verify.plan(inv, CLOUD, session)
    reads = verify.sample(
        backend,
        the_plan,
        seconds,
        every=every,
        stop=fake,
        clock=fake.clock,
        progress=lambda share, _r: shares.append(share),
    )
    assert len(calls) == len(reads) == expected_calls
    assert calls == [(CLOUD, ("448", "449", "2241"))] * expected_calls  # one call per reading, those ports only
    assert shares[-1] == 1.0 and shares == sorted(shares)
    assert sum(fake.waits) == pytest.approx(seconds)
    result = verify.judge(inv, the_plan, reads, rules.session_warnings(inv, CLOUD, session))
    assert result.verdict is Verdict.MIRRORING and result.seconds == pytest.approx(seconds)


def test_sample_stops_when_told() -> None:
    backend = SnapshotBackend()
    inv = backend.load()
    fake = FakeTime()
    calls = counting(backend)
    the_plan = verify.plan(inv, CLOUD, inv.switches[CLOUD].sessions[0])

    def progress(_share: float, _reading: Reading) -> None:
        if len(calls) == 2:
            fake.set()

    reads = verify.sample(backend, the_plan, 10, stop=fake, clock=fake.clock, progress=progress)
    assert len(reads) == len(calls) == 2


def test_sample_refuses_a_bad_window() -> None:
    backend = SnapshotBackend()
    inv = backend.load()
    the_plan = verify.plan(inv, CLOUD, inv.switches[CLOUD].sessions[0])
    for seconds in (0.0, -1.0, verify.MAX_SECONDS + 1, float("nan")):
        with pytest.raises(ValueError, match="the window must be"):
            verify.sample(backend, the_plan, seconds)


def test_a_plan_without_ports_makes_no_call(demo: Inventory) -> None:
    backend = SnapshotBackend()
    calls = counting(backend)
    fake = FakeTime()
    empty = MirrorSession(key="9", name="empty", session_type="dvPortMirror")
    reads = verify.sample(backend, verify.plan(demo, CLOUD, empty), 2, stop=fake, clock=fake.clock)
    assert calls == [] and reads and all(r == {} for r in reads)


# -- JSON ----------------------------------------------------------------------------------------


def test_json_shape(demo: Inventory) -> None:
    result = judged(demo, WALK, readings(TIMES, port_448=BUSY, port_2258=sent(160, dropped=0.5)))
    data = result.to_json()
    assert list(data) == [
        "session",
        "verdict",
        "summary",
        "reasons",
        "advice",
        "seconds",
        "expected",
        "sources",
        "destinations",
        "samples",
    ]
    assert data["session"] == {"key": "9", "name": WALK.name, "switch": "dvSwitchCloud"}
    assert data["verdict"] == "mirroring" and data["expected"] == {"pps": MIRRORED_PPS, "bps": MIRRORED_BPS}
    [dest] = data["destinations"]
    assert dest["port"] == "2258" and dest["status"] == "ok" and dest["seconds"] == 4.0
    assert dest["due"] == {"pps": MIRRORED_PPS, "bps": MIRRORED_BPS}
    assert set(dest["rates"]) == set(STAT_API_NAMES.values()) and dest["rates"]["packetsOutDropped"] == 0.5
    assert len(data["samples"]) == 3
    first = data["samples"][0]
    assert [s["port"] for s in first] == ["448", "2258"] and first[0]["readAt"] == T0
    assert set(first[0]["counters"]) == set(STAT_API_NAMES.values())
