"""Marked ports: the sources and destinations of the next mirror session (pure).

Marks live on one switch only, because a session belongs to one switch. Pressing ``s``
on a port cycles its source direction both → ingress → egress → off; ``d`` toggles a
destination. A port is never source and destination at once: marking one role clears
the other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tui.model import Direction, MirrorSession, Port, VspanPorts

_CYCLE: dict[Direction | None, Direction | None] = {
    None: Direction.BOTH,
    Direction.BOTH: Direction.INGRESS,
    Direction.INGRESS: Direction.EGRESS,
    Direction.EGRESS: None,
}


class MarkError(ValueError):
    """A mark that cannot be made (another switch, an uplink...)."""


@dataclass(frozen=True, slots=True)
class Marks:
    """Immutable set of marks; every operation returns a new one."""

    switch: str = ""
    sources: tuple[tuple[str, Direction], ...] = ()
    destinations: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.sources or self.destinations)

    def source_direction(self, key: str) -> Direction | None:
        """The direction ``key`` is marked with, if it is a source."""
        return dict(self.sources).get(key)

    def role(self, key: str) -> str:
        """``S↔``/``S→``/``S←``/``D`` style short role for tables, or ''."""
        direction = self.source_direction(key)
        if direction is not None:
            return {Direction.BOTH: "src ⇄", Direction.INGRESS: "src in", Direction.EGRESS: "src out"}[direction]
        return "dest" if key in self.destinations else ""

    def _check(self, port: Port, switch_name: str, marked_switch_name: str) -> None:
        if self and self.switch and port.switch != self.switch:
            raise MarkError(
                f"Port {port.key} is on {switch_name}, but the marked ports are on {marked_switch_name}: "
                "a mirror session lives on one switch. Press x to clear the marks first."
            )

    def cycle_source(self, port: Port, switch_name: str = "", marked_switch_name: str = "") -> Marks:
        """Mark ``port`` as a source, or move it to the next direction (then off)."""
        self._check(port, switch_name, marked_switch_name)
        if port.is_uplink:
            raise MarkError(f"Port {port.key} is an uplink port: uplinks can be mirror destinations, never sources.")
        nxt = _CYCLE[self.source_direction(port.key)]
        sources = [(k, d) for k, d in self.sources if k != port.key]
        if nxt is not None:
            sources.append((port.key, nxt))
        dests = tuple(k for k in self.destinations if k != port.key)
        return self._settle(port.switch, tuple(sources), dests)

    def toggle_destination(self, port: Port, switch_name: str = "", marked_switch_name: str = "") -> Marks:
        """Mark ``port`` as a destination, or unmark it."""
        self._check(port, switch_name, marked_switch_name)
        if port.key in self.destinations:
            return self._settle(port.switch, self.sources, tuple(k for k in self.destinations if k != port.key))
        sources = tuple((k, d) for k, d in self.sources if k != port.key)
        return self._settle(port.switch, sources, (*self.destinations, port.key))

    def _settle(self, switch: str, sources: tuple[tuple[str, Direction], ...], dests: tuple[str, ...]) -> Marks:
        if not sources and not dests:
            return Marks()
        return replace(self, switch=switch, sources=sources, destinations=dests)

    def to_session(self, base: MirrorSession | None = None) -> MirrorSession:
        """A session pre-filled with these marks (ports in the API's Rx/Tx/destination lists)."""
        rx = tuple(k for k, d in self.sources if d in (Direction.BOTH, Direction.INGRESS))
        tx = tuple(k for k, d in self.sources if d in (Direction.BOTH, Direction.EGRESS))
        session = base or MirrorSession()
        return replace(
            session,
            source_rx=VspanPorts(port_keys=rx),
            source_tx=VspanPorts(port_keys=tx),
            destination=VspanPorts(port_keys=tuple(self.destinations)),
        )
