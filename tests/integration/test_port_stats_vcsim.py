"""Port counters through the vsphere backend against the vcsim test server (issue 10, item 1).

The server's traffic model (tests/vcsim/traffic.go, README "Port traffic"): ports with a connectee
and link up carry traffic whose counters grow with time; vCenter holds each port's state, and only
``RefreshDVPortState`` renews it. So counters that grow prove the backend refreshes, and the SOAP
trace shows it reads only the ports it was asked for. pyVmomi's own ``FetchDVPorts`` is the oracle
for the values.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.test_vsphere_backend import CLOUD, settings_for
from tui.backends.vsphere import VsphereBackend
from tui.model import COUNTERS, STAT_API_NAMES, Inventory, RateStatus, port_rates, rates_between

pytestmark = pytest.mark.vcsim


@pytest.fixture
def backend_for() -> Iterator[Any]:
    backends: list[VsphereBackend] = []

    def make(server: Any) -> VsphereBackend:
        b = VsphereBackend(settings_for(server))
        backends.append(b)
        return b

    yield make
    for b in backends:
        b.close()


def _cloud(inv: Inventory) -> str:
    return next(s.key for s in inv.switches.values() if s.name == CLOUD)


def _ports(inv: Inventory, switch: str, *, carrying: bool, n: int) -> list[str]:
    """``n`` port keys of ``switch`` that carry traffic (connected, link up), or that have no connectee."""
    keys = [
        p.key
        for p in inv.ports.values()
        if p.switch == switch and ((p.connectee is not None and p.link_up) if carrying else p.connectee is None)
    ]
    assert len(keys) >= n
    return sorted(keys, key=int)[:n]


def test_counters_of_the_ports_asked_for_grow_between_two_reads(vcsim: Any, backend_for: Any) -> None:
    backend: VsphereBackend = backend_for(vcsim)
    inv = backend.load()
    sw = _cloud(inv)
    keys = _ports(inv, sw, carrying=True, n=3)
    first = backend.port_statistics(sw, keys)
    time.sleep(1.1)
    second = backend.port_statistics(sw, keys)
    assert list(first) == keys and list(second) == keys
    for key in keys:
        a, b = first[key], second[key]
        assert b.read_at - a.read_at >= 1.0
        r = port_rates(a, b)
        assert r.status is RateStatus.OK
        assert r.packets_in is not None and r.packets_in > 10  # the server's slowest port: 50 unicast packets/s
        assert r.bytes_out is not None and r.bytes_out > 1000
        assert r.dropped_in == 0.0 and r.dropped_out == 0.0
        assert a.bytes_in_from_pnic is not None and b.bytes_in_from_pnic is not None  # API 7.0.3 > 6.5: sent
        assert b.bytes_in_from_pnic > a.bytes_in_from_pnic


def test_values_are_pyvmomis(vcsim: Any, backend_for: Any) -> None:
    """What the backend returns equals pyVmomi's ``FetchDVPorts`` of the same held state (no refresh between)."""
    from pyVmomi import vim

    backend: VsphereBackend = backend_for(vcsim)
    inv = backend.load()
    sw = _cloud(inv)
    keys = _ports(inv, sw, carrying=True, n=2)
    ours = backend.port_statistics(sw, keys)
    si = vcsim.connect()
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
    dvs = next(d for d in view.view if d.name == CLOUD)
    theirs = {p.key: p.state.stats for p in dvs.FetchDVPorts(vim.dvs.PortCriteria(portKey=keys))}
    for key in keys:
        for name in COUNTERS:
            assert ours[key].counter(name) == getattr(theirs[key], STAT_API_NAMES[name]), (key, name)


def test_only_those_ports_are_refreshed_and_read(start_vcsim: Any, backend_for: Any) -> None:
    server = start_vcsim(args=("-trace",))
    backend: VsphereBackend = backend_for(server)
    inv = backend.load()
    sw = _cloud(inv)
    keys = _ports(inv, sw, carrying=True, n=2)
    mark = len(server.log())
    backend.port_statistics(sw, keys)
    log = server.log()[mark:]
    calls = re.findall(r"<soapenv:Body><(\w+) xmlns=\"urn:vim25\">(.*?)</\1></soapenv:Body>", log)
    requests = [(name, body) for name, body in calls if not name.endswith("Response")]
    assert [name for name, _ in requests] == ["RefreshDVPortState", "FetchDVPorts"]
    assert re.findall(r"<portKeys>(\w+)</portKeys>", requests[0][1]) == keys
    criteria = re.search(r"<criteria[^>]*>(.*)</criteria>", requests[1][1])
    assert criteria is not None
    assert re.findall(r"<portKey>(\w+)</portKey>", criteria[1]) == keys
    reply = log[log.index("FetchDVPortsResponse") :]
    assert reply.count("<returnval>") == len(keys)


def test_unknown_port_keys_are_left_out(vcsim: Any, backend_for: Any) -> None:
    backend: VsphereBackend = backend_for(vcsim)
    inv = backend.load()
    sw = _cloud(inv)
    good = _ports(inv, sw, carrying=True, n=1)
    got = backend.port_statistics(sw, [good[0], "no-such-port", "999999"])
    assert list(got) == good
    assert backend.port_statistics(sw, ["no-such-port"]) == {}
    assert backend.port_statistics(sw, []) == {}
    assert backend.port_statistics("not a switch", good) == {}
    later = backend.port_statistics(sw, good)
    assert rates_between(got, later)[good[0]].status is RateStatus.OK


def test_a_port_with_nothing_connected_carries_nothing(vcsim: Any, backend_for: Any) -> None:
    backend: VsphereBackend = backend_for(vcsim)
    inv = backend.load()
    sw = _cloud(inv)
    idle = _ports(inv, sw, carrying=False, n=2)
    first = backend.port_statistics(sw, idle)
    time.sleep(0.3)
    second = backend.port_statistics(sw, idle)
    for key in idle:
        assert first[key].packets_in == 0 and first[key].bytes_out == 0
        r = port_rates(first[key], second[key])
        assert r.ok and r.packets_in == 0.0 and r.bytes_in == 0.0


def test_counters_stand_still_until_refreshed(vcsim: Any) -> None:
    """The server's model itself, with pyVmomi only: FetchDVPorts returns held state; RefreshDVPortState renews it."""
    from pyVmomi import vim

    si = vcsim.connect()
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
    dvs = next(d for d in view.view if d.name == CLOUD)
    connected = dvs.FetchDVPorts(vim.dvs.PortCriteria(connected=True, active=True, uplinkPort=False))
    key = connected[0].key

    def unicast_in() -> int:
        return int(dvs.FetchDVPorts(vim.dvs.PortCriteria(portKey=[key]))[0].state.stats.packetsInUnicast)

    held = unicast_in()
    time.sleep(0.3)
    assert unicast_in() == held
    dvs.RefreshDVPortState(portKeys=[key])
    assert unicast_in() > held
    with pytest.raises(vim.fault.NotFound):
        dvs.RefreshDVPortState(portKeys=[key, "no-such-port"])


def test_an_expired_session_is_renewed_for_a_read(start_vcsim: Any, backend_for: Any) -> None:
    server = start_vcsim(session_idle=1)
    backend: VsphereBackend = backend_for(server)
    inv = backend.load()
    sw = _cloud(inv)
    keys = _ports(inv, sw, carrying=True, n=1)
    time.sleep(2.5)  # the server forgets the idle session; NotAuthenticated → the backend logs in again
    assert list(backend.port_statistics(sw, keys)) == keys


def _window(backend: VsphereBackend, sw: str, keys: list[str], seconds: float = 1.5) -> dict[str, Any]:
    first = backend.port_statistics(sw, keys)
    time.sleep(seconds)
    return rates_between(first, backend.port_statistics(sw, keys))


def test_an_enabled_dvportmirror_session_delivers_same_host_sources_to_its_destination(
    start_vcsim: Any, backend_for: Any
) -> None:
    """The demo's DMZ-IDS: sources 448 (on esx-03, as the destination 2241) and 449 (on esx-01), Rx and Tx.

    The destination is forwarded 448's received and transmitted packets (enabled), nothing of 449's (another host),
    and only its own traffic once the session is disabled; sampling and the mirrored length apply.
    """
    from dataclasses import replace

    from tui.model import ChangeOperation, SessionChange

    server = start_vcsim()
    backend: VsphereBackend = backend_for(server)
    inv = backend.load()
    sw = _cloud(inv)
    session = next(s for s in inv.switches[sw].sessions if s.name == "DMZ-IDS")
    assert session.enabled and session.session_type == "dvPortMirror"
    assert inv.port(sw, "448").host == inv.port(sw, "2241").host != inv.port(sw, "449").host  # type: ignore[union-attr]
    keys = ["448", "449", "2241"]

    def edit(**changes: Any) -> None:
        nonlocal inv
        current = next(s for s in inv.switches[sw].sessions if s.key == session.key)
        result = backend.apply(inv, sw, [SessionChange(ChangeOperation.EDIT, replace(current, **changes))])
        inv = inv.with_switch(result.switch)

    enabled = _window(backend, sw, keys)
    edit(enabled=False)
    disabled = _window(backend, sw, keys)
    edit(enabled=True, sampling_rate=4, mirrored_packet_length=60)
    sampled = _window(backend, sw, keys)

    def pkts(r: Any) -> float:
        assert r.ok
        return float(r.packets_in + r.packets_out)

    # Rates are timed by the client (the middle of each refresh), so each window's rates carry a common
    # scheduling error; port 448's constant traffic, read at the same instants, calibrates it away.
    def own(window: dict[str, Any], counter: str) -> float:
        scale = float(window["448"].packets_in) / float(disabled["448"].packets_in)
        return float(getattr(disabled["2241"], counter)) * scale

    mirrored = enabled["2241"].packets_out - own(enabled, "packets_out")
    assert mirrored == pytest.approx(pkts(enabled["448"]), rel=0.01, abs=10)
    assert abs(mirrored - pkts(enabled["448"]) - pkts(enabled["449"])) > 100  # 449 is on another host
    assert enabled["2241"].packets_in == pytest.approx(own(enabled, "packets_in"), rel=0.01, abs=5)  # only "out"
    assert sampled["2241"].packets_out - own(sampled, "packets_out") == pytest.approx(
        pkts(sampled["448"]) / 4, rel=0.01, abs=10
    )
    cut_bytes = sampled["2241"].bytes_out - own(sampled, "bytes_out")
    assert cut_bytes == pytest.approx(60 * pkts(sampled["448"]) / 4, rel=0.01, abs=600)


def test_the_walkthroughs_legacy_session_delivers_on_the_server_too(start_vcsim: Any, backend_for: Any) -> None:
    """mixedDestMirror from 448 to 2258 (both on esx-03): 2258 is forwarded 448's traffic both ways."""
    from tests.helpers import WALKTHROUGH
    from tui.model import ChangeOperation, SessionChange

    server = start_vcsim()
    backend: VsphereBackend = backend_for(server)
    inv = backend.load()
    sw = _cloud(inv)
    before = _window(backend, sw, ["448", "2258"])
    backend.apply(inv, sw, [SessionChange(ChangeOperation.ADD, WALKTHROUGH)])
    after = _window(backend, sw, ["448", "2258"])
    scale = float(after["448"].packets_in) / float(before["448"].packets_in)  # the windows' timing, calibrated
    mirrored = after["2258"].packets_out - before["2258"].packets_out * scale
    assert mirrored == pytest.approx(after["448"].packets_in + after["448"].packets_out, rel=0.01, abs=10)


def test_a_dropped_read_is_retried_and_a_dead_one_says_so(vcsim: Any) -> None:
    """Both calls are idempotent: a connection cut after FetchDVPorts is retried once on a fresh connection;
    vCenter going silent is a timeout naming what was being done, never a traceback."""
    from tests.faultproxy import Fault, FaultProxy
    from tests.integration.test_fault_matrix import settings_via
    from tui.backends import ConnectionFailed

    with FaultProxy((vcsim.host, vcsim.port), lifetime=60) as proxy:
        backend = VsphereBackend(settings_via(proxy, vcsim, timeout=2.0))
        try:
            inv = backend.load()
            sw = _cloud(inv)
            keys = _ports(inv, sw, carrying=True, n=1)
            proxy.add(Fault("FetchDVPorts", "cut_after"))
            assert list(backend.port_statistics(sw, keys)) == keys
            assert proxy.fired == [("FetchDVPorts", "cut_after")]
            proxy.add(Fault("RefreshDVPortState", "stall", nth=0))
            with pytest.raises(ConnectionFailed) as err:
                backend.port_statistics(sw, keys)
            assert "did not answer within 2 s while reading port counters" in err.value.message
        finally:
            backend.close()


def test_stock_vcsim_without_refresh_says_so(start_stock_vcsim: Any, backend_for: Any) -> None:
    """govmomi's stock simulator has no RefreshDVPortState (MethodNotFound): a plain refusal, not stale counters."""
    from tui.backends import BackendError

    server = start_stock_vcsim()
    backend: VsphereBackend = backend_for(server)
    inv = backend.load()
    sw = next(iter(inv.switches))
    keys = [p.key for p in inv.ports_by_switch[sw]][:2]
    with pytest.raises(BackendError) as err:
        backend.port_statistics(sw, keys)
    assert (
        err.value.message == "this server does not implement RefreshDVPortState, so port counters cannot be read fresh"
    )


def test_a_destination_told_to_drop_counts_the_drops(start_vcsim: Any, backend_for: Any) -> None:
    """``-drop 2241=0.5``: half of what DMZ-IDS mirrors to 2241 is dropped on the way to its VM (packetsOutDropped)."""
    server = start_vcsim(args=("-drop", "2241=0.5"))
    backend: VsphereBackend = backend_for(server)
    inv = backend.load()
    sw = _cloud(inv)
    window = _window(backend, sw, ["448", "2241", "449"])
    sent = float(window["448"].packets_in + window["448"].packets_out)  # what the session mirrors (448 only)
    assert window["2241"].dropped_out == pytest.approx(sent / 2, rel=0.01, abs=5)
    assert window["449"].dropped_out == 0.0  # only the port named drops
    assert window["2241"].dropped_in == 0.0
