"""``dvmirror snapshot save`` writes every port's counters (snapshot format 2, ``portStatistics``) from
vCenter at the cost of one ``RefreshDVPortState`` per switch: the counters come from the load's own
``FetchDVPorts``. pyVmomi's ``FetchDVPorts`` of the same held state is the oracle for the values."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli as run
from tests.integration.test_cli_vcsim import server_args
from tui.backends.snapshot import SnapshotBackend
from tui.model import COUNTERS, STAT_API_NAMES

pytestmark = pytest.mark.vcsim


def _requests(log: str) -> list[tuple[str, str]]:
    calls = re.findall(r"<soapenv:Body><(\w+) xmlns=\"urn:vim25\">(.*?)</\1></soapenv:Body>", log, re.S)
    return [(name, body) for name, body in calls if not name.endswith("Response")]


def _held(server: Any) -> dict[tuple[str, str], Any]:
    """Every port's ``state.stats`` as the server holds them, by pyVmomi (no refresh)."""
    from pyVmomi import vim

    si = server.connect()
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
    out = {}
    for dvs in view.view:
        for port in dvs.FetchDVPorts(vim.dvs.PortCriteria()):
            out[(dvs.uuid, port.key)] = port.state.stats
    return out


def test_save_writes_every_ports_counters_with_one_refresh_per_switch(
    start_vcsim: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    server = start_vcsim(args=("-trace",))
    path = tmp_path / "live.json"
    mark = len(server.log())
    code, _, err = run(capsys, *server_args(server), "snapshot", "save", str(path))
    assert code == 0, err
    assert "Saved 2 switches, 437 ports, 61 VMs and the counters of 437 ports" in err
    names = [name for name, _ in _requests(server.log()[mark:])]
    refreshes = [body for name, body in _requests(server.log()[mark:]) if name == "RefreshDVPortState"]
    assert len(refreshes) == 2 and all("portKeys" not in body for body in refreshes)  # all ports, one call each
    assert names.count("FetchDVPorts") == 2  # the load's own, one per switch: no second fetch
    held = _held(server)  # nothing refreshed since: what the save read
    data = json.loads(path.read_text())
    assert data["version"] == 2
    records = {(r["switch"], r["port"]): r for r in data["portStatistics"]}
    assert set(records) == set(held)
    for where, rec in records.items():
        assert "rates" not in rec or rec["rates"] is None  # one reading: no rates
        for name in COUNTERS:
            api = STAT_API_NAMES[name]
            assert rec["counters"][api] == getattr(held[where], api), (where, api)
    connected = [r for r in data["portStatistics"] if r["counters"]["packetsInUnicast"] > 0]
    assert len(connected) > 100  # the server's traffic: every connected port with link up has some


def test_a_saved_snapshot_replays_its_counters_unchanged(
    start_vcsim: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    server = start_vcsim()
    path = tmp_path / "live.json"
    code, _, err = run(capsys, *server_args(server), "snapshot", "save", str(path))
    assert code == 0, err
    held = _held(server)
    backend = SnapshotBackend(path)
    inv = backend.load()
    cloud = next(s.key for s in inv.switches.values() if s.name == "dvSwitchCloud")
    keys = ["448", "2241", "0", "2300"]
    backend.clock = lambda: 4e9  # long after the reading: nothing moves without rates
    later = backend.port_statistics(cloud, keys)
    assert list(later) == keys
    for key in keys:
        assert later[key].to_api() == {api: getattr(held[(cloud, key)], api) for api in STAT_API_NAMES.values()}
    again = tmp_path / "again.json"
    code, _, err = run(capsys, "--snapshot", str(path), "snapshot", "save", str(again))
    assert code == 0, err
    first, second = json.loads(path.read_text()), json.loads(again.read_text())
    assert second["portStatistics"] == first["portStatistics"]  # a copy of a copy keeps the reading


def test_no_counters_skips_the_refresh_and_the_section(
    start_vcsim: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    server = start_vcsim(args=("-trace",))
    path = tmp_path / "live.json"
    mark = len(server.log())
    code, _, err = run(capsys, *server_args(server), "snapshot", "save", "--no-counters", str(path))
    assert code == 0 and f"Saved 2 switches, 437 ports, 61 VMs to {path}\n" == err
    assert "RefreshDVPortState" not in [name for name, _ in _requests(server.log()[mark:])]
    assert "portStatistics" not in json.loads(path.read_text())


def test_a_server_without_refresh_saves_without_counters_and_says_so(
    start_stock_vcsim: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    server = start_stock_vcsim()
    path = tmp_path / "stock.json"
    code, _, err = run(capsys, *server_args(server), "snapshot", "save", str(path))
    assert code == 0, err
    assert (
        "No port counters saved: this server does not implement RefreshDVPortState, so port counters cannot be "
        "read fresh." in err
    )
    assert "portStatistics" not in json.loads(path.read_text())
