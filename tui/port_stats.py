"""A dvPort's traffic counters, read at a moment, and the rates between two readings.

:class:`PortStatistics` is ``DVPortState.stats`` of the vSphere API
(``DistributedVirtualSwitchPortStatistics``, pyVmomi ``vim.dvs.PortStatistics``): sixteen
required 64-bit (``long``) counters since vSphere 4.0 and two optional ones since 6.5
(``bytesInFromPnic``, ``bytesOutToPnic``), with the time dvmirror read them. :func:`port_rates`
turns two readings of one port into per-second rates, saying when that cannot be done honestly:
the counters were reset (a port reconnected or moved: they start again from zero), the port is
gone or new, or no time passed. A counter that overflowed its 64 bits is counted across the wrap.
Pure Python: no Textual, no pyVmomi.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

LONG_MIN = -(2**63)
LONG_MAX = 2**63 - 1
_MODULUS = 2**64
_WRAP_LIMIT = 2**62
"""A modular increase below this is a counter that wrapped; above it, the counters were reset.

No port moves 2^62 bytes (4.6 EB) between two readings, and a counter that was reset to (near)
zero from anywhere but the very top of its range gives a modular increase far above it."""

STAT_API_NAMES: dict[str, str] = {
    "packets_in_multicast": "packetsInMulticast",
    "packets_out_multicast": "packetsOutMulticast",
    "bytes_in_multicast": "bytesInMulticast",
    "bytes_out_multicast": "bytesOutMulticast",
    "packets_in_unicast": "packetsInUnicast",
    "packets_out_unicast": "packetsOutUnicast",
    "bytes_in_unicast": "bytesInUnicast",
    "bytes_out_unicast": "bytesOutUnicast",
    "packets_in_broadcast": "packetsInBroadcast",
    "packets_out_broadcast": "packetsOutBroadcast",
    "bytes_in_broadcast": "bytesInBroadcast",
    "bytes_out_broadcast": "bytesOutBroadcast",
    "packets_in_dropped": "packetsInDropped",
    "packets_out_dropped": "packetsOutDropped",
    "packets_in_exception": "packetsInException",
    "packets_out_exception": "packetsOutException",
    "bytes_in_from_pnic": "bytesInFromPnic",
    "bytes_out_to_pnic": "bytesOutToPnic",
}
"""Counter attribute → the API's field name, in the API's order (pyVmomi ``_typeinfo_vim``)."""
COUNTERS: tuple[str, ...] = tuple(STAT_API_NAMES)
OPTIONAL_COUNTERS: frozenset[str] = frozenset({"bytes_in_from_pnic", "bytes_out_to_pnic"})
"""Since vSphere 6.5 (API ``version11``); ``None`` when vCenter did not send them."""


@dataclass(frozen=True, slots=True)
class PortStatistics:
    """One port's counters as vCenter reported them at ``read_at``.

    "In" is what the port received from its connectee (a VM's transmitted frames, entering the
    switch), "out" what the switch forwarded to it: the API reference's "received" and
    "forwarded". A mirror destination's mirrored frames therefore count as "out". The totals
    below add unicast, multicast and broadcast.
    """

    read_at: float
    """When dvmirror read them: POSIX seconds (UTC)."""
    packets_in_multicast: int = 0
    packets_out_multicast: int = 0
    bytes_in_multicast: int = 0
    bytes_out_multicast: int = 0
    packets_in_unicast: int = 0
    packets_out_unicast: int = 0
    bytes_in_unicast: int = 0
    bytes_out_unicast: int = 0
    packets_in_broadcast: int = 0
    packets_out_broadcast: int = 0
    bytes_in_broadcast: int = 0
    bytes_out_broadcast: int = 0
    packets_in_dropped: int = 0
    packets_out_dropped: int = 0
    packets_in_exception: int = 0
    packets_out_exception: int = 0
    bytes_in_from_pnic: int | None = None
    bytes_out_to_pnic: int | None = None

    def __post_init__(self) -> None:
        for name in COUNTERS:
            value = getattr(self, name)
            if value is None and name in OPTIONAL_COUNTERS:
                continue
            if type(value) is not int or not LONG_MIN <= value <= LONG_MAX:
                raise ValueError(f"{STAT_API_NAMES[name]}: {value!r} is not a 64-bit whole number")

    @classmethod
    def from_api(cls, counters: Mapping[str, Any], read_at: float) -> PortStatistics:
        """From API field names (``{"packetsInUnicast": 5, ...}``); a missing required counter is 0."""
        kwargs: dict[str, Any] = {}
        for name, api in STAT_API_NAMES.items():
            value = counters.get(api)
            if value is None:
                value = None if name in OPTIONAL_COUNTERS else 0
            kwargs[name] = value
        return cls(read_at=read_at, **kwargs)

    def to_api(self) -> dict[str, int]:
        """API field names → values; optional counters only when present."""
        return {api: v for name, api in STAT_API_NAMES.items() if (v := getattr(self, name)) is not None}

    def counter(self, name: str) -> int | None:
        value: int | None = getattr(self, name)
        return value

    @property
    def packets_in(self) -> int:
        return self.packets_in_unicast + self.packets_in_multicast + self.packets_in_broadcast

    @property
    def packets_out(self) -> int:
        return self.packets_out_unicast + self.packets_out_multicast + self.packets_out_broadcast

    @property
    def bytes_in(self) -> int:
        return self.bytes_in_unicast + self.bytes_in_multicast + self.bytes_in_broadcast

    @property
    def bytes_out(self) -> int:
        return self.bytes_out_unicast + self.bytes_out_multicast + self.bytes_out_broadcast


class RateStatus(StrEnum):
    """Whether two readings of a port give rates, and if not why."""

    OK = "ok"
    RESET = "reset"
    """A counter went down: the port's counters started again (reconnected, moved, host restarted)."""
    VANISHED = "vanished"
    """Read the first time, not the second: the port was removed or is no longer readable."""
    NEW = "new"
    """Not read the first time: no earlier reading to compare with."""
    NO_INTERVAL = "no-interval"
    """The second reading is not later than the first."""


def counter_delta(before: int, after: int) -> int | None:
    """How much a 64-bit counter grew from ``before`` to ``after``; ``None`` if it was reset.

    The API's ``long`` is signed; the counters behind it are unsigned, so both values are read
    modulo 2^64: a counter past 2^63 − 1 (negative as a ``long``) still grows, and one that passed
    2^64 − 1 and started again near zero is counted across the wrap when the increase this implies
    is plausible (below 2^62). Any other decrease is a reset.
    """
    b, a = before % _MODULUS, after % _MODULUS
    if a >= b:
        return a - b
    wrapped = a + _MODULUS - b
    return wrapped if wrapped < _WRAP_LIMIT else None


@dataclass(frozen=True, slots=True)
class PortRates:
    """Per-second rates of one port between two readings (``status`` OK), or why there are none."""

    status: RateStatus
    seconds: float = 0.0
    """Time between the readings (0 when unknown)."""
    deltas: tuple[int | None, ...] = ()
    """Increase of each counter of :data:`COUNTERS`, in that order (``None``: not reported both
    times); empty unless ``status`` is OK."""
    wrapped: tuple[str, ...] = ()
    """Counters that wrapped between the readings (counted across the wrap)."""

    @property
    def ok(self) -> bool:
        return self.status is RateStatus.OK

    def delta(self, name: str) -> int | None:
        if not self.deltas:
            return None
        return self.deltas[COUNTERS.index(name)]

    def rate(self, name: str) -> float | None:
        """Counter ``name`` per second, or ``None``."""
        d = self.delta(name)
        return None if d is None or self.seconds <= 0 else d / self.seconds

    def _sum(self, *names: str) -> float | None:
        rates = [self.rate(n) for n in names]
        return None if any(r is None for r in rates) else sum(r for r in rates if r is not None)

    @property
    def packets_in(self) -> float | None:
        return self._sum("packets_in_unicast", "packets_in_multicast", "packets_in_broadcast")

    @property
    def packets_out(self) -> float | None:
        return self._sum("packets_out_unicast", "packets_out_multicast", "packets_out_broadcast")

    @property
    def bytes_in(self) -> float | None:
        return self._sum("bytes_in_unicast", "bytes_in_multicast", "bytes_in_broadcast")

    @property
    def bytes_out(self) -> float | None:
        return self._sum("bytes_out_unicast", "bytes_out_multicast", "bytes_out_broadcast")

    @property
    def dropped_in(self) -> float | None:
        return self.rate("packets_in_dropped")

    @property
    def dropped_out(self) -> float | None:
        return self.rate("packets_out_dropped")


def port_rates(before: PortStatistics | None, after: PortStatistics | None) -> PortRates:
    """Rates of one port from ``before`` to ``after`` (either ``None`` when it was not read)."""
    if before is None and after is None:
        raise ValueError("no reading of the port at all")
    if after is None:
        return PortRates(RateStatus.VANISHED)
    if before is None:
        return PortRates(RateStatus.NEW)
    seconds = after.read_at - before.read_at
    if not seconds > 0:  # also NaN
        return PortRates(RateStatus.NO_INTERVAL)
    deltas: list[int | None] = []
    wrapped: list[str] = []
    for name in COUNTERS:
        b, a = before.counter(name), after.counter(name)
        if b is None or a is None:
            deltas.append(None)
            continue
        d = counter_delta(b, a)
        if d is None:
            return PortRates(RateStatus.RESET, seconds)
        if a % _MODULUS < b % _MODULUS:
            wrapped.append(name)
        deltas.append(d)
    return PortRates(RateStatus.OK, seconds, tuple(deltas), tuple(wrapped))


def rates_between(before: Mapping[str, PortStatistics], after: Mapping[str, PortStatistics]) -> dict[str, PortRates]:
    """:func:`port_rates` for every port key read either time (first reading's keys first)."""
    keys = list(before) + [k for k in after if k not in before]
    return {k: port_rates(before.get(k), after.get(k)) for k in keys}


def _wrap_long(value: int) -> int:
    """``value`` as a 64-bit counter shows it: modulo 2^64, in the API's signed ``long`` range."""
    value %= _MODULUS
    return value - _MODULUS if value > LONG_MAX else value


def projected(base: PortStatistics, rates: Mapping[str, float], at: float) -> PortStatistics:
    """``base`` moved on to time ``at`` at constant ``rates`` (counter attribute → per second).

    Each counter grows by the whole units of ``rate × elapsed`` and wraps as a 64-bit counter
    does; a time before ``base.read_at`` moves nothing. Counters without a rate stay as they are
    (an optional counter that is ``None`` stays ``None``).
    """
    elapsed = max(0.0, at - base.read_at)
    kwargs: dict[str, Any] = {}
    for name in COUNTERS:
        value = base.counter(name)
        rate = rates.get(name)
        if value is not None and rate:
            value = _wrap_long(value + int(rate * elapsed))
        kwargs[name] = value
    return PortStatistics(read_at=max(at, base.read_at), **kwargs)


def added(stats: PortStatistics, amounts: Mapping[str, float]) -> PortStatistics:
    """``stats`` with the whole units of ``amounts`` (counter attribute → amount) added, wrapping as
    64-bit counters do; a counter that is ``None`` stays ``None``."""
    kwargs: dict[str, Any] = {}
    for name in COUNTERS:
        value = stats.counter(name)
        amount = int(amounts.get(name, 0))
        kwargs[name] = value if value is None or not amount else _wrap_long(value + amount)
    return PortStatistics(read_at=stats.read_at, **kwargs)
