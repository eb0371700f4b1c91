"""The demo/snapshot backend's mirror traffic model (``tui/mirror_traffic.py``) on every session type.

The same lab and expectations as ``tests/integration/test_mirror_traffic_vcsim.py`` runs on the vcsim
server (``tests/mirror_lab.py``), so the demo and the server deliver alike.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests import mirror_lab as ml
from tui.model import ChangeOperation, Inventory, SessionChange, rates_between
from tui.rules import session_warnings


@pytest.fixture(scope="module")
def windows(tmp_path_factory: pytest.TempPathFactory) -> tuple[ml.Windows, ml.Windows]:
    return ml.demo_windows(tmp_path_factory.mktemp("mirror"))


@pytest.mark.parametrize("case", ml.CASES, ids=[c.name for c in ml.CASES])
def test_each_session_type_delivers_exactly_when_vcenter_would(case: ml.Case, windows: Any) -> None:
    on, off = windows
    got = ml.gain(case, on, off)
    packets, nbytes = ml.expected(case, on)
    assert got["packets_out"] == pytest.approx(packets, abs=0.3)
    assert got["bytes_out"] == pytest.approx(nbytes, abs=3)
    assert got["bytes_out_to_pnic"] == pytest.approx(nbytes if case.uplink else 0.0, abs=3)
    assert got["packets_in"] == pytest.approx(0.0, abs=0.3) and got["bytes_in"] == pytest.approx(0.0, abs=3)
    if not case.parts:
        assert packets == 0.0 and abs(got["packets_out"]) < 0.3
    else:
        assert packets > 1.0  # a real delivery, not a rounding


def _warnings(inv: Inventory, switch: str, name: str) -> set[str]:
    sw = inv.switches[switch]
    session = next(s for s in sw.sessions if s.name == name)
    return {p.code for p in session_warnings(inv, switch, session)}


@pytest.mark.parametrize(
    ("switch", "name", "code"),
    [
        (ml.CLOUD, "RSPAN-3100-not-trunked", "EncapVlanNotOnUplinks"),
        (ml.CLOUD, "Legacy-to-uplink-3300-not-trunked", "EncapVlanNotOnUplinks"),
        (ml.CLOUD, "Legacy-encap-not-carried", "EncapVlanNotCarried"),
        (ml.CLOUD, "Legacy-source-vlan-not-carried", "SourceVlanNotCarried"),
        (ml.MGMT, "RMD-320-not-trunked-here", "SourceVlanNotOnUplinks"),
    ],
)
def test_each_blocked_session_is_one_the_rules_warn_about(switch: str, name: str, code: str, tmp_path: Path) -> None:
    """The model and the app's rules use one condition: what does not deliver is what a rule warns about."""
    backend, _ = ml.snapshot_backend(tmp_path, ml.mirror_lab(), "lab.json")
    assert code in _warnings(backend.load(), switch, name)


@pytest.mark.parametrize(
    ("switch", "name"),
    [
        (ml.CLOUD, "RSPAN-310"),
        (ml.CLOUD, "Legacy-to-uplink-330"),
        (ml.CLOUD, "Walkthrough"),
        (ml.CLOUD, "Legacy-same-vlan"),
    ],
)
def test_sessions_that_deliver_have_no_vlan_warning(switch: str, name: str, tmp_path: Path) -> None:
    backend, _ = ml.snapshot_backend(tmp_path, ml.mirror_lab(), "lab.json")
    vlan_codes = {"EncapVlanNotOnUplinks", "EncapVlanNotCarried", "SourceVlanNotCarried", "SourceVlanNotOnUplinks"}
    assert not _warnings(backend.load(), switch, name) & vlan_codes


def test_disabling_a_remote_source_stops_the_remote_destination_without_going_back(tmp_path: Path) -> None:
    """Cross-switch: disabling RSPAN-310 on dvSwitchCloud stops what JUMP01 on dvSwitchMgmt receives; what
    it already received stays counted, and from then on it carries only its own traffic."""
    data = ml.mirror_lab()
    backend, clock = ml.snapshot_backend(tmp_path, data, "lab.json")
    keys = [ml.JUMP01]
    before = backend.port_statistics(ml.MGMT, keys)
    clock.now += 10
    mid = backend.port_statistics(ml.MGMT, keys)
    inv = backend.load()
    session = next(s for s in inv.switches[ml.CLOUD].sessions if s.name == "RSPAN-310")
    backend.apply(inv, ml.CLOUD, [SessionChange(ChangeOperation.EDIT, replace(session, enabled=False))])
    assert backend.port_statistics(ml.MGMT, keys) == mid  # nothing lost at the change
    clock.now += 10
    after = backend.port_statistics(ml.MGMT, keys)
    was = rates_between(before, mid)[ml.JUMP01]
    now = rates_between(mid, after)[ml.JUMP01]
    record = next(r for r in data["portStatistics"] if r["switch"] == ml.MGMT and r["port"] == ml.JUMP01)
    own = sum(record["rates"].get(f"packetsOut{k}", 0) for k in ("Unicast", "Multicast", "Broadcast"))
    assert was.packets_out is not None and was.packets_out > own + 50
    assert now.packets_out == pytest.approx(own, abs=0.3)
