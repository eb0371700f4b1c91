"""What every rule works with: the limits of vspan.md §3, the list of problems found, a switch's
view of the inventory, and how messages name sessions and ports.

Shared by :mod:`tui.rules` (the batch), :mod:`tui.rules_errors`, :mod:`tui.rules_warnings` and
:mod:`tui.describe`. Pure Python: no Textual, no pyVmomi.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tui.model import Inventory, MirrorSession, Port, Portgroup, Problem, SessionType, Severity, Switch

# -- limits (vspan.md §3) ------------------------------------------------------------------

NAME_MAX = 80  # §3 name: 81 characters → InvalidArgument (QA vspan Neg013)
SAMPLING_MIN, SAMPLING_MAX = 1, 65535  # §3 samplingRate
PACKET_LENGTH_MIN = 60  # §3 mirroredPacketLength "cannot be less than 60"
PACKET_LENGTH_WARN = 9000  # §10.4: warn above a jumbo frame
PACKET_LENGTH_MAX = 65535  # §10.4: the app's upper bound (inferred; QA accepted 65530)
VLAN_MAX = 4094  # §3 VLAN IDs ≤ 4094
ERSPAN_ID_MAX = 1023  # §3 erspanId 0–0x3FF
ERSPAN_COS_MAX = 7  # §3 erspanCOS 0–7


@dataclass
class Findings:
    """Problems in order, without duplicates."""

    items: list[Problem] = field(default_factory=list)
    _seen: set[tuple[str, str, str, Severity]] = field(default_factory=set)

    def error(self, code: str, fld: str, message: str) -> None:
        self._add(Problem(code, message, fld, Severity.ERROR))

    def warn(self, code: str, fld: str, message: str) -> None:
        self._add(Problem(code, message, fld, Severity.WARNING))

    def _add(self, p: Problem) -> None:
        k = (p.code, p.field, p.message, p.severity)
        if k not in self._seen:
            self._seen.add(k)
            self.items.append(p)

    def sorted(self) -> list[Problem]:
        """Errors first, each group in the order found."""
        return [p for p in self.items if p.severity is Severity.ERROR] + [
            p for p in self.items if p.severity is not Severity.ERROR
        ]


@dataclass(frozen=True)
class SwitchView:
    """An inventory seen from one switch (the rules' and :mod:`tui.describe`'s view)."""

    inv: Inventory
    switch: Switch

    def port(self, key: str) -> Port | None:
        return self.inv.port(self.switch.key, key)

    def portgroup(self, port: Port | None) -> Portgroup | None:
        return self.inv.portgroups.get(port.portgroup) if port is not None and port.portgroup else None

    def port_text(self, key: str) -> str:
        """``Port 2258 (MGTSRVR003UX / Network adapter 2)``, from ``Inventory.port_label``."""
        port = self.port(key)
        if port is None:
            return f"Port {key}"
        return f"Port {key} ({self.inv.port_owner(port).strip('()')})"

    def port_ref(self, key: str) -> str:
        """:meth:`port_text` for the middle of a sentence: ``port 2258 (…)``."""
        return "p" + self.port_text(key)[1:]

    def host_name(self, host_key: str) -> str:
        return self.inv.host_name(host_key) or host_key

    def uplink_portgroups(self) -> list[Portgroup]:
        return [pg for pg in self.inv.portgroups_by_switch.get(self.switch.key, ()) if pg.uplink]

    def promiscuous(self, port: Port) -> bool:
        pg = self.portgroup(port)
        return port.promiscuous or (pg is not None and pg.promiscuous)


def session_text(s: MirrorSession) -> str:
    """How messages name a session: ``session DMZ-IDS``."""
    if s.name:
        return f"session {s.name}"
    if s.key:
        return f"session {s.key}"
    return "the new session"


def effective_type(s: MirrorSession) -> SessionType | None:
    """The type vCenter applies: unset means ``mixedDestMirror`` (§1.1, §10.3); ``None`` if unknown."""
    if not s.session_type:
        return SessionType.MIXED_DEST_MIRROR
    return s.type


def uniq(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def join(items: Iterable[object]) -> str:
    return ", ".join(str(i) for i in items)


def rx_only(s: MirrorSession) -> list[str]:
    tx = set(s.source_tx.port_keys)
    return [k for k in uniq(s.source_rx.port_keys) if k not in tx]


def source_field(s: MirrorSession, key: str) -> str:
    return "source_rx" if key in s.source_rx.port_keys else "source_tx"
