"""Marks: direction cycling, one switch, one role per port, session pre-fill."""

from __future__ import annotations

import pytest

from tests.conftest import MGMT, port
from tui.marks import MarkError, Marks
from tui.model import Direction, Inventory


def test_source_cycles_both_ingress_egress_off(demo: Inventory) -> None:
    p = port(demo, "448")
    m = Marks()
    seen = []
    for _ in range(4):
        m = m.cycle_source(p)
        seen.append(m.source_direction("448"))
    assert seen == [Direction.BOTH, Direction.INGRESS, Direction.EGRESS, None]
    assert not m and m.switch == ""


def test_roles_are_exclusive(demo: Inventory) -> None:
    p = port(demo, "448")
    m = Marks().cycle_source(p).toggle_destination(p)
    assert m.sources == () and m.destinations == ("448",)
    m = m.cycle_source(p)
    assert m.destinations == () and m.source_direction("448") is Direction.BOTH


def test_one_switch_only(demo: Inventory) -> None:
    m = Marks().cycle_source(port(demo, "448"))
    with pytest.raises(MarkError, match="Port 10 is on dvSwitchMgmt, but the marked ports are on dvSwitchCloud"):
        m.toggle_destination(port(demo, "10", MGMT), "dvSwitchMgmt", "dvSwitchCloud")
    cleared = Marks()
    assert cleared.toggle_destination(port(demo, "10", MGMT)).switch == MGMT


def test_uplink_cannot_be_a_source(demo: Inventory) -> None:
    with pytest.raises(MarkError, match="uplink"):
        Marks().cycle_source(port(demo, "0"))


def test_to_session(demo: Inventory) -> None:
    m = Marks().cycle_source(port(demo, "448"))
    m = m.cycle_source(port(demo, "449")).cycle_source(port(demo, "449"))  # ingress
    m = m.toggle_destination(port(demo, "2258"))
    s = m.to_session()
    assert s.source_rx.port_keys == ("448", "449")
    assert s.source_tx.port_keys == ("448",)
    assert s.destination.port_keys == ("2258",)
    assert m.role("448") == "src ⇄" and m.role("449") == "src in" and m.role("2258") == "dest" and m.role("1") == ""
