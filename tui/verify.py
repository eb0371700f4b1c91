"""Does a mirror session deliver? Sample its ports' counters over a short window and judge.

The walkthrough ends with "verify it's working by capturing some traffic". This module does it
from vCenter's own counters (``DVPortState.stats``, :mod:`tui.port_stats`): it reads the source
and destination ports of one session a few times over a window (:func:`sample`), then compares
what the sources carried in the mirrored directions with what the destination was sent
(:func:`judge`), allowing for the sampling rate and the mirrored packet length, and names the
most likely reason when the two do not match: the rules' warnings (:mod:`tui.rules_warnings`)
that explain it, in order of likelihood.

A destination port's *out* counters are what the switch forwarded to the monitoring VM: its own
traffic plus the mirrored frames. The counters cannot tell the two apart, so "mirroring" means
the destination was sent at least :data:`DELIVERED_SHARE` of what the sources carried *and*
nothing in the configuration stops delivery; a configuration that certainly stops it (the
session is disabled, the destination is not connected, a Distributed Port Mirroring pair on two
hosts, the encapsulation VLAN not carried) gives "not delivered" whatever the counters say.

Pure Python: no Textual, no pyVmomi. The backend is anything with ``port_statistics``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from tui.inventory import Inventory
from tui.live_traffic import byte_rate, packet_rate
from tui.mirror_session import MirrorSession
from tui.port_stats import COUNTERS, STAT_API_NAMES, PortRates, PortStatistics, RateStatus, port_rates
from tui.problem import Problem
from tui.rules_base import SwitchView, effective_type, uniq
from tui.session_types import SessionType

DEFAULT_SECONDS = 10.0
"""The window ``session verify`` samples by default."""
SAMPLE_EVERY = 2.0
"""Seconds between readings inside the window: each reading is one ``port_statistics`` call."""
MIN_SECONDS = 1.0
MAX_SECONDS = 600.0
IDLE_PPS = 1.0
"""Below this many mirrored packets per second the sources carry nothing worth judging."""
DELIVERED_SHARE = 0.8
"""The destination must be sent at least this share of the packets the session should mirror."""
DROP_SHARE = 0.01
DROP_MIN_PPS = 1.0
"""Drops at the destination count when above both this rate and this share of what it should get."""

_KINDS = ("unicast", "multicast", "broadcast")


class Verdict(StrEnum):
    MIRRORING = "mirroring"
    NOTHING_TO_MIRROR = "nothing-to-mirror"
    NOT_DELIVERED = "not-delivered"
    DROPPED = "dropped"
    """Delivered to the destination port, dropped on the way to the monitoring VM."""
    INCONCLUSIVE = "inconclusive"
    """The counters cannot answer: the destination is outside the switch, or a port could not be measured."""

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def exit_code(self) -> int:
        """``session verify``'s exit code: 0 mirroring, 1 anything else."""
        return 0 if self is Verdict.MIRRORING else 1


_LABELS = {
    Verdict.MIRRORING: "Mirroring",
    Verdict.NOTHING_TO_MIRROR: "Nothing to mirror",
    Verdict.NOT_DELIVERED: "Not delivered",
    Verdict.DROPPED: "Delivered but dropped",
    Verdict.INCONCLUSIVE: "Inconclusive",
}

BLOCKING = (
    "SessionDisabled",
    "NoDestination",
    "DestinationNotConnected",
    "DestinationLinkDown",
    "CrossHostMirror",
    "EncapVlanNotCarried",
    "EncapVlanNotOnUplinks",
)
"""Reasons that stop delivery for certain, most likely first: an operator disables a session more
often than the rest happen; a monitoring VM powered off or moved is next (V28 for the host pair,
vspan.md §8.1 step 3 note for the VLANs)."""
_DESTINATION_DOWN = ("DestinationNotConnected", "DestinationLinkDown")
EXPLAINING = ("SourceVlanNotCarried", "SourceVlanNotOnUplinks", "PromiscuousPort", "MirrorLoop", "WildcardSource")
"""Warnings that may explain a shortfall without stopping delivery outright."""


class StatisticsSource(Protocol):
    def port_statistics(self, switch_key: str, port_keys: Sequence[str]) -> dict[str, PortStatistics]: ...


@dataclass(frozen=True, slots=True)
class VerifyPlan:
    """Which ports to read for one session, and what they stand for."""

    switch_key: str
    session: MirrorSession
    rx: tuple[str, ...]
    """Sources mirrored as received from their connectee: their *in* counters."""
    tx: tuple[str, ...]
    """Sources mirrored as transmitted to their connectee: their *out* counters."""
    destinations: tuple[str, ...]
    """Destination ports (given ports, and the uplink ports a session sends to by uplink name)."""
    unmeasured: str = ""
    """Why the counters cannot show delivery ('' when they can)."""

    @property
    def port_keys(self) -> tuple[str, ...]:
        return tuple(uniq((*self.rx, *self.tx, *self.destinations)))


def plan(inv: Inventory, switch_key: str, session: MirrorSession) -> VerifyPlan:
    """The ports to sample for ``session`` on switch ``switch_key``."""
    rx = tuple(uniq(session.source_rx.port_keys))
    tx = tuple(uniq(session.source_tx.port_keys))
    dests = list(uniq(session.destination.port_keys))
    names = set(session.destination.uplink_names)
    if names:
        # An uplink destination is a name; the frames leave through that uplink of each source's host.
        hosts = {p.host for k in (*rx, *tx) if (p := inv.port(switch_key, k)) is not None and p.host}
        for port in inv.ports_by_switch.get(switch_key, ()):
            if port.name in names and port.is_uplink and (not hosts or port.host in hosts):
                dests.append(port.key)
    unmeasured = ""
    t = effective_type(session)
    if session.destination.ip_addresses and not dests:
        ips = ", ".join(session.destination.ip_addresses)
        unmeasured = (
            f"the destination is IP address {ips}, outside the switch: port counters cannot show what it "
            "receives; capture on the collector"
        )
    elif t is SessionType.REMOTE_MIRROR_DEST or (session.source_rx.vlans and not rx and not tx):
        vlans = ", ".join(str(v) for v in session.source_rx.vlans) or "none"
        unmeasured = (
            f"the sources are VLANs ({vlans}) arriving from the physical network: port counters cannot "
            "show what they carry, only what the destination was sent"
        )
    return VerifyPlan(switch_key, session, rx, tx, tuple(uniq(dests)), unmeasured)


Reading = Mapping[str, PortStatistics]


def sample(
    backend: StatisticsSource,
    the_plan: VerifyPlan,
    seconds: float = DEFAULT_SECONDS,
    *,
    every: float = SAMPLE_EVERY,
    stop: threading.Event | None = None,
    progress: Callable[[float, Reading], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[Reading]:
    """Read the plan's ports now, every ``every`` seconds and at ``seconds``: one call each.

    ``progress(share done, latest reading)`` after each reading. Setting ``stop`` ends the
    window early (the readings so far are returned). Backend errors propagate.
    """
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise ValueError(f"the window must be {MIN_SECONDS:g} to {MAX_SECONDS:g} seconds, not {seconds:g}")
    stop = stop or threading.Event()
    keys = the_plan.port_keys
    start = clock()
    readings: list[Reading] = []
    while True:
        readings.append(backend.port_statistics(the_plan.switch_key, keys) if keys else {})
        elapsed = clock() - start
        if progress is not None:
            progress(min(1.0, elapsed / seconds), readings[-1])
        if elapsed >= seconds or stop.is_set():
            return readings
        if stop.wait(min(every, seconds - elapsed)):
            return readings


def window_rates(readings: Sequence[Reading], key: str) -> PortRates:
    """One port's rates over every interval of ``readings`` that gives them.

    An interval whose counters went down (reset) is left out and the rest still count, so a port
    reconnected in the middle of the window is measured on either side of it.
    """
    present = [r[key] for r in readings if key in r]
    if not present:
        return PortRates(RateStatus.VANISHED)
    if key not in readings[-1]:
        return PortRates(RateStatus.VANISHED)
    if key not in readings[0] and len(present) < 2:
        return PortRates(RateStatus.NEW)
    total: list[int | None] | None = None
    seconds = 0.0
    status = RateStatus.NO_INTERVAL
    for before, after in zip(present, present[1:], strict=False):
        r = port_rates(before, after)
        if not r.ok:
            if r.status is RateStatus.RESET:
                status = RateStatus.RESET
            continue
        seconds += r.seconds
        if total is None:
            total = list(r.deltas)
        else:
            total = [None if a is None or b is None else a + b for a, b in zip(total, r.deltas, strict=True)]
    if total is None:
        return PortRates(status)
    return PortRates(RateStatus.OK, seconds, tuple(total))


@dataclass(frozen=True, slots=True)
class Flow:
    """Packets and bytes per second."""

    pps: float
    bps: float

    def __add__(self, other: Flow) -> Flow:
        return Flow(self.pps + other.pps, self.bps + other.bps)


NO_FLOW = Flow(0.0, 0.0)


def mirrored_flow(rates: PortRates, side: str, session: MirrorSession) -> Flow:
    """What ``session`` mirrors of one source's ``side`` ("in" or "out") traffic, per second.

    One packet in ``samplingRate`` (vspan.md §3), each cut to ``mirroredPacketLength`` bytes
    (applied to each kind's mean frame size).
    """
    every = session.sampling_rate if session.sampling_rate and session.sampling_rate > 1 else 1
    length = session.mirrored_packet_length
    flow = NO_FLOW
    for kind in _KINDS:
        pps = (rates.rate(f"packets_{side}_{kind}") or 0.0) / every
        bps = (rates.rate(f"bytes_{side}_{kind}") or 0.0) / every
        if length and length > 0:  # also with no whole packet counted: no more bytes than packets cut
            bps = min(bps, pps * length)
        flow = flow + Flow(pps, bps)
    return flow


def _flow_json(f: Flow | None) -> dict[str, float] | None:
    return None if f is None else {"pps": f.pps, "bps": f.bps}


LOCAL_TYPES = (SessionType.DV_PORT_MIRROR, SessionType.MIXED_DEST_MIRROR)
"""Types that mirror to destination ports only from sources on the same host (V28, vspan.md §8)."""


def _reachable(inv: Inventory, p: VerifyPlan, dest_key: str) -> list[str]:
    """The sources whose frames can reach destination ``dest_key``: for the local types, those on its host."""
    sources = uniq((*p.rx, *p.tx))
    dest = inv.port(p.switch_key, dest_key)
    if effective_type(p.session) not in LOCAL_TYPES or dest is None or dest.is_uplink or not dest.host:
        return sources
    return [k for k in sources if (src := inv.port(p.switch_key, k)) is None or not src.host or src.host == dest.host]


@dataclass(frozen=True, slots=True)
class PortLine:
    """One port over the window, as the verify table shows it."""

    key: str
    role: str
    """``source (received)``, ``source (sent)``, ``source (both)`` or ``destination``."""
    label: str
    status: RateStatus
    rates: PortRates
    mirrored: Flow | None = None
    """Sources: what the session mirrors of this port. Destinations: what they were sent (out)."""
    due: Flow | None = None
    """Destinations: what the session should deliver to this port (its reachable sources' share)."""
    reported: bool = True
    """False when no reading had the port at all (the backend returned no counters for it)."""

    @property
    def dropped(self) -> float | None:
        """Destinations: frames to be forwarded to the port that were dropped, per second."""
        return self.rates.dropped_out

    def to_json(self) -> dict[str, Any]:
        rates = {STAT_API_NAMES[name]: self.rates.rate(name) for name in COUNTERS} if self.rates.ok else {}
        return {
            "port": self.key,
            "role": self.role,
            "label": self.label,
            "status": self.status.value,
            "seconds": round(self.rates.seconds, 3),
            "mirrored": _flow_json(self.mirrored),
            "due": _flow_json(self.due),
            "rates": rates,
        }


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.text}


@dataclass(frozen=True, slots=True)
class VerifyResult:
    verdict: Verdict
    summary: str
    """One sentence: the verdict with its numbers."""
    reasons: tuple[Reason, ...]
    advice: tuple[str, ...]
    sources: tuple[PortLine, ...]
    destinations: tuple[PortLine, ...]
    expected: Flow | None
    """What all the sources carried to mirror, sampling and length applied (None when they cannot be
    measured); each destination is owed its reachable sources' share (``PortLine.due``)."""
    seconds: float
    readings: tuple[Reading, ...] = field(repr=False)
    session: MirrorSession = field(repr=False)
    switch_name: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "session": {"key": self.session.key, "name": self.session.name, "switch": self.switch_name},
            "verdict": self.verdict.value,
            "summary": self.summary,
            "reasons": [r.to_json() for r in self.reasons],
            "advice": list(self.advice),
            "seconds": round(self.seconds, 3),
            "expected": _flow_json(self.expected),
            "sources": [p.to_json() for p in self.sources],
            "destinations": [p.to_json() for p in self.destinations],
            "samples": [
                [{"port": k, "readAt": s.read_at, "counters": s.to_api()} for k, s in reading.items()]
                for reading in self.readings
            ],
        }


def _role(key: str, p: VerifyPlan) -> str:
    if key in p.rx and key in p.tx:
        return "source (both)"
    return "source (received)" if key in p.rx else "source (sent)"


def _reasons(inv: Inventory, p: VerifyPlan, warnings: Sequence[Problem]) -> tuple[list[Reason], list[Reason]]:
    """(blocking, explaining) reasons from the session's state and its warnings, most likely first."""
    s = p.session
    by_code: dict[str, list[str]] = {}
    for w in warnings:
        by_code.setdefault(w.code, []).append(w.message)
    if not s.enabled:
        by_code.setdefault("SessionDisabled", []).insert(0, "The session is disabled: vCenter mirrors nothing for it.")
    partial: list[tuple[str, str]] = []
    sw = inv.switches.get(p.switch_key)
    if sw is not None and "CrossHostMirror" in by_code:
        # Blocking only for a destination that no source shares a host with (V28).
        ctx = SwitchView(inv, sw)
        src_hosts = {pt.host for k in (*p.rx, *p.tx) if (pt := ctx.port(k)) is not None}
        reachable = [k for k in s.destination.port_keys if (pt := ctx.port(k)) is not None and pt.host in src_hosts]
        if reachable:
            partial = [("CrossHostMirror", m) for m in by_code.pop("CrossHostMirror")]
    if any(_receives(inv, p.switch_key, k) for k in s.destination.port_keys):
        # One destination of several not connected or down: the others still receive.
        for code in _DESTINATION_DOWN:
            partial += [(code, m) for m in by_code.pop(code, ())]
    blocking = [Reason(code, m) for code in BLOCKING for m in by_code.get(code, ())]
    explaining = [Reason(code, m) for code, m in partial]
    explaining += [Reason(code, m) for code in EXPLAINING for m in by_code.get(code, ())]
    return blocking, explaining


def _receives(inv: Inventory, switch_key: str, key: str) -> bool:
    """Whether destination port ``key`` can be sent frames: connected (its NIC too) with link up,
    the opposite of the rules' DestinationNotConnected / DestinationLinkDown."""
    port = inv.port(switch_key, key)
    if port is None or not port.connected or not port.link_up:
        return False
    vmnic = inv.vm_nic(port)
    return vmnic is None or vmnic[1].connected


def _drop_advice(s: MirrorSession) -> list[str]:
    advice = [
        "The monitoring VM does not take the frames in fast enough: enlarge its NIC's receive ring "
        "(vmxnet3: `ethtool -G <nic> rx 4096` on Linux, 'Rx Ring #1 Size' on Windows) and give the VM more CPU.",
    ]
    if not s.mirrored_packet_length:
        advice.append(
            "Set a mirrored packet length (the walkthrough used 60 bytes) so the monitor receives headers only."
        )
    advice.append("Check that the monitoring NIC's MTU is at least the largest mirrored frame (jumbo frames).")
    if s.sampling_rate is None or s.sampling_rate <= 1:
        advice.append("Or mirror one packet in N with a sampling rate.")
    return advice


def _idle_advice(inv: Inventory, p: VerifyPlan) -> list[str]:
    targets: list[str] = []
    for key in (*p.rx, *p.tx):
        port = inv.port(p.switch_key, key)
        vmnic = inv.vm_nic(port) if port is not None else None
        if vmnic is not None:
            ips = vmnic[1].ips or vmnic[0].ips
            who = f"{vmnic[0].name} ({ips[0]})" if ips else vmnic[0].name
            if who not in targets:
                targets.append(who)
    sources = [port for k in uniq((*p.rx, *p.tx)) if (port := inv.port(p.switch_key, k)) is not None]
    if sources and not any(port.connected for port in sources):
        return [
            "No source port has anything connected: choose the port of the VM to watch (`dvmirror find`, or / in "
            "the explorer, finds it by name, IP or MAC) and edit the session's sources."
        ]
    target = ", ".join(targets[:3]) or "the source"
    return [
        f"Make the source talk while verifying: ping {target} from another machine, as the walkthrough "
        "pinged its F5 from 172.24.4.52, and verify again."
    ]


def judge(
    inv: Inventory, the_plan: VerifyPlan, readings: Sequence[Reading], warnings: Sequence[Problem]
) -> VerifyResult:
    """The verdict on ``readings`` of ``the_plan``'s ports; ``warnings`` are the session's (rules)."""
    p, s = the_plan, the_plan.session
    sw = inv.switches.get(p.switch_key)
    switch_name = sw.name if sw is not None else p.switch_key

    def label(key: str) -> str:
        port = inv.port(p.switch_key, key)
        return inv.port_label(port) if port is not None else f"{key} · (not in the inventory)"

    seen = {key for reading in readings for key in reading}
    sources: list[PortLine] = []
    expected: Flow | None = NO_FLOW if (p.rx or p.tx) else None
    unmeasured_sources: list[str] = []
    carried: dict[str, float] = {}
    """Packets per second each source carried in its mirrored directions, before sampling."""
    for key in uniq((*p.rx, *p.tx)):
        rates = window_rates(readings, key)
        flow: Flow | None = None
        if rates.ok:
            flow = NO_FLOW
            carried[key] = 0.0
            if key in p.rx:
                flow = flow + mirrored_flow(rates, "in", s)
                carried[key] += rates.packets_in or 0.0
            if key in p.tx:
                flow = flow + mirrored_flow(rates, "out", s)
                carried[key] += rates.packets_out or 0.0
            if expected is not None:
                expected = expected + flow
        else:
            unmeasured_sources.append(key)
        sources.append(PortLine(key, _role(key, p), label(key), rates.status, rates, flow, None, key in seen))
    if sources and len(unmeasured_sources) == len(sources):
        expected = None
    flows = {line.key: line.mirrored for line in sources if line.mirrored is not None}
    dests: list[PortLine] = []
    for key in p.destinations:
        rates = window_rates(readings, key)
        sent = Flow(rates.packets_out or 0.0, rates.bytes_out or 0.0) if rates.ok else None
        due = None if expected is None else sum((flows.get(k, NO_FLOW) for k in _reachable(inv, p, key)), NO_FLOW)
        dests.append(PortLine(key, "destination", label(key), rates.status, rates, sent, due, key in seen))
    seconds = max((line.rates.seconds for line in (*sources, *dests)), default=0.0)

    blocking, explaining = _reasons(inv, p, warnings)
    reasons: list[Reason] = [
        Reason("NotMeasured", f"Source {line.label}: {_line_status(line)}.") for line in sources if not line.rates.ok
    ]
    advice: list[str] = []

    def result(verdict: Verdict, summary: str) -> VerifyResult:
        return VerifyResult(
            verdict, summary, tuple(reasons), tuple(advice), tuple(sources), tuple(dests), expected, seconds,
            tuple(readings), s, switch_name,
        )  # fmt: skip

    if not (p.rx or p.tx or s.source_rx.vlans or s.source_rx.wildcard_types or s.source_tx.wildcard_types):
        reasons[:0] = [Reason("NoSource", "The session has no source, so there is nothing to mirror."), *blocking]
        return result(Verdict.NOTHING_TO_MIRROR, "The session has no source: nothing to mirror.")
    if blocking:
        reasons[:0] = blocking
        reasons.extend(explaining)
        got = sum(d.mirrored.pps for d in dests if d.mirrored is not None)
        if got > 0:
            reasons.append(
                Reason(
                    "OwnTraffic", f"The destination was sent {packet_rate(got)}: its own traffic, not mirrored frames."
                )
            )
        return result(Verdict.NOT_DELIVERED, f"Not delivered: {_first_sentence(blocking[0].text)}")
    busy = sum(carried.values())
    if expected is not None and busy < IDLE_PPS:
        for line in sources:
            port = inv.port(p.switch_key, line.key)
            if port is not None and not port.connected:
                reasons.append(Reason("SourceNotConnected", f"Source {line.label} has nothing connected."))
            elif port is not None and not port.link_up:
                reasons.append(Reason("SourceLinkDown", f"Source {line.label} is connected but its link is down."))
        reasons.insert(0, Reason("SourcesIdle", f"The sources carried {packet_rate(busy)} in the mirrored directions."))
        reasons.extend(explaining)
        advice.extend(_idle_advice(inv, p))
        return result(Verdict.NOTHING_TO_MIRROR, f"Nothing to mirror: the sources were idle for {seconds:.0f} s.")
    reach = [sum(carried.get(k, 0.0) for k in _reachable(inv, p, d.key)) for d in dests]
    if expected is not None and dests and all(r < IDLE_PPS for r in reach):
        # Busy sources, none of them where they can reach a destination (another host, V28).
        reasons[:0] = [r for r in explaining if r.code == "CrossHostMirror"] or [
            Reason("NoReachableSource", "No busy source can reach the destination.")
        ]
        reasons.extend(r for r in explaining if r.code != "CrossHostMirror")
        return result(
            Verdict.NOT_DELIVERED,
            f"Not delivered: the sources carried {packet_rate(busy)}, none where it can reach the destination.",
        )
    if p.unmeasured:
        reasons.append(Reason("NotMeasurable", p.unmeasured[0].upper() + p.unmeasured[1:] + "."))
        reasons.extend(explaining)
        summary = f"Inconclusive: {p.unmeasured}."
        if expected is not None:
            summary = f"Inconclusive: the sources carried {packet_rate(expected.pps)} to mirror; {p.unmeasured}."
        return result(Verdict.INCONCLUSIVE, summary)
    if expected is None or not dests or any(d.mirrored is None or d.due is None for d in dests):
        reasons.extend(
            Reason("NotMeasured", f"Destination {d.label}: {_line_status(d)}.") for d in dests if d.mirrored is None
        )
        reasons.extend(explaining)
        return result(Verdict.INCONCLUSIVE, "Inconclusive: the counters of some ports could not be measured.")
    measured = [(d, d.mirrored, d.due) for d in dests if d.mirrored is not None and d.due is not None]
    dropping = [(d, due) for d, _, due in measured if (d.dropped or 0.0) >= max(DROP_MIN_PPS, DROP_SHARE * due.pps)]
    if dropping:
        reasons.extend(
            Reason(
                "DestinationDrops",
                f"Destination {d.label} dropped {packet_rate(d.dropped or 0.0)} of the frames to be forwarded to it "
                f"(the session should deliver {packet_rate(due.pps)}).",
            )
            for d, due in dropping
        )
        reasons.extend(explaining)
        advice.extend(_drop_advice(s))
        d, due = max(dropping, key=lambda pair: pair[0].dropped or 0.0)
        return result(
            Verdict.DROPPED,
            f"Delivered but dropped: the destination dropped {packet_rate(d.dropped or 0.0)} of "
            f"{packet_rate(due.pps)} mirrored.",
        )
    short = [(d, sent, due) for d, sent, due in measured if sent.pps < DELIVERED_SHARE * due.pps]
    if short:
        reasons.extend(
            Reason(
                "ShortDelivery",
                f"Destination {d.label} was sent {packet_rate(sent.pps)}, less than the "
                f"{packet_rate(due.pps)} its sources carried to mirror.",
            )
            for d, sent, due in short
        )
        reasons.extend(explaining)
        if not explaining:
            advice.append(
                "Nothing in the session's configuration explains it: check that the monitoring VM's NIC is "
                "connected in the guest and the session in the vSphere Client, and verify again."
            )
        return result(Verdict.NOT_DELIVERED, f"Not delivered: {_first_sentence(reasons[0].text)}")
    reasons.extend(explaining)
    d, sent, due = min(measured, key=lambda m: m[1].pps - m[2].pps)
    where = "destination was" if len(dests) == 1 else "least-served destination was"
    summary = (
        f"Mirroring: the sources carried {packet_rate(due.pps)} to mirror; the {where} sent {packet_rate(sent.pps)}."
    )
    if any((port := inv.port(p.switch_key, d.key)) is not None and port.is_uplink for d in dests):
        summary += " An uplink's counters include the host's other traffic."
    return result(Verdict.MIRRORING, summary)


def _first_sentence(text: str) -> str:
    head, dot, _ = text.partition(". ")
    return head + "." if dot else text


def _line_status(line: PortLine) -> str:
    if not line.reported:
        return "no counters were reported for the port"
    return _status_text(line.rates)


def _status_text(rates: PortRates) -> str:
    return {
        RateStatus.RESET: "its counters were reset during the window (reconnected or moved?)",
        RateStatus.VANISHED: "vCenter stopped reporting the port during the window",
        RateStatus.NEW: "the port appeared during the window",
        RateStatus.NO_INTERVAL: "every reading has the same time: no rate (a snapshot holds one recorded reading)",
        RateStatus.OK: "measured",
    }[rates.status]


COLUMNS = ("Port", "Role", "Mirrored / sent", "Bytes", "Due", "Drops")
"""The side-by-side table: what each source carried to mirror, what each destination was sent."""


def table_rows(result: VerifyResult) -> list[tuple[str, ...]]:
    """One row per port for :data:`COLUMNS` (plain text; the caller escapes and styles it)."""
    rows: list[tuple[str, ...]] = []
    for line in (*result.sources, *result.destinations):
        flow = line.mirrored
        if not line.rates.ok:
            measured = (_line_status(line), "")
        else:
            measured = (packet_rate(flow.pps if flow else None), byte_rate(flow.bps if flow else None))
        due = packet_rate(line.due.pps) if line.due is not None else ""
        drops = packet_rate(line.dropped) if line.role == "destination" and line.rates.ok else ""
        rows.append((line.label, line.role, measured[0], measured[1], due, drops))
    return rows
