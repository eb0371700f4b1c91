"""The live traffic panel (``t``) against servers: the vcsim test server's moving counters, and
govmomi's stock vcsim, which has no ``RefreshDVPortState``.

The vcsim test server gives each connected, link-up port constant rates from its key
(tests/vcsim/traffic.go); pyVmomi's own ``RefreshDVPortState`` + ``FetchDVPorts`` measure the
same port independently, so the panel's rates are checked against them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import pytest

from tests.helpers import notifications, started, type_text
from tests.integration.test_vsphere_backend import CLOUD, settings_for
from tests.tui.conftest import settle
from tests.tui.test_explorer import explorer, plain
from tui.app import build_app
from tui.backends.vsphere import VsphereBackend
from tui.live_traffic import LiveStatus
from tui.model import PortStatistics
from widgets.port_detail import PortDetail

pytestmark = pytest.mark.vcsim


def counted(backend: VsphereBackend) -> list[tuple[str, list[str]]]:
    """Record each ``port_statistics`` call (switch, keys); the calls go on to the server."""
    calls: list[tuple[str, list[str]]] = []
    real = backend.port_statistics

    def wrapper(switch_key: str, port_keys: Sequence[str]) -> dict[str, PortStatistics]:
        calls.append((switch_key, list(port_keys)))
        return real(switch_key, port_keys)

    backend.port_statistics = wrapper  # type: ignore[method-assign]
    return calls


def pyvmomi_rates(server: Any, key: str, seconds: float = 1.0) -> tuple[float, float]:
    """(packets in, bytes out) per second of port ``key`` of dvSwitchCloud, measured with pyVmomi alone."""
    from pyVmomi import vim

    si = server.connect()
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
    dvs = next(d for d in view.view if d.name == CLOUD)

    def read() -> tuple[float, Any]:
        at = time.monotonic()
        dvs.RefreshDVPortState(portKeys=[key])
        (port,) = dvs.FetchDVPorts(vim.dvs.PortCriteria(portKey=[key]))
        return at, port.state.stats

    t1, a = read()
    time.sleep(seconds)
    t2, b = read()
    kinds = ("Unicast", "Multicast", "Broadcast")
    pin = sum(getattr(b, f"packetsIn{k}") - getattr(a, f"packetsIn{k}") for k in kinds)
    bout = sum(getattr(b, f"bytesOut{k}") - getattr(a, f"bytesOut{k}") for k in kinds)
    return pin / (t2 - t1), bout / (t2 - t1)


async def test_the_panel_shows_the_servers_rates_for_a_connected_port(vcsim: Any) -> None:
    backend = VsphereBackend(settings_for(vcsim))
    calls = counted(backend)
    app = build_app(backend, environ={})
    async with started(app) as pilot:
        await pilot.press("slash")
        await type_text(pilot, "MGTSRVR003UX/Network adapter 2")
        await pilot.press("enter")
        await settle(pilot)
        screen = explorer(app)
        assert screen.current_port is not None and screen.current_port.key == "2258"
        switch = screen.current_port.switch
        screen.live_interval = 1.0
        await pilot.press("t")
        deadline = time.monotonic() + 30
        while (screen.live is None or screen.live.status is not LiveStatus.RATES) and time.monotonic() < deadline:
            await pilot.pause(0.1)
        live = screen.live
        assert live is not None and live.status is LiveStatus.RATES and live.rates is not None, live
        text = plain(screen.query_one(PortDetail))
        assert "Traffic    in " in text and "pkt/s" in text and "B/s" in text
        await pilot.press("t")  # stop before measuring with pyVmomi
        await app.workers.wait_for_complete()
        assert calls and set(map(tuple, (c[1] for c in calls))) == {("2258",)}
        assert {c[0] for c in calls} == {switch}
        packets_in, bytes_out = pyvmomi_rates(vcsim, "2258")
        assert live.rates.packets_in is not None and live.rates.bytes_out is not None
        assert live.rates.packets_in == pytest.approx(packets_in, rel=0.1)
        assert live.rates.bytes_out == pytest.approx(bytes_out, rel=0.1)
        assert live.rates.dropped_in == 0.0 and live.rates.dropped_out == 0.0
        app.backend.close()


async def test_stock_vcsim_says_counters_are_not_available_and_stops(start_stock_vcsim: Any) -> None:
    server = start_stock_vcsim()
    backend = VsphereBackend(settings_for(server))
    calls = counted(backend)
    app = build_app(backend, environ={})
    async with started(app) as pilot:
        shown = notifications(app)
        screen = explorer(app)
        inv = app.inventory
        assert inv is not None
        port = next(iter(inv.ports.values()))  # the refusal does not depend on the port
        screen.go_to_port(port)
        await settle(pilot)
        assert screen.current_port is not None and screen.current_port.key == port.key
        screen.live_interval = 0.1
        await pilot.press("t")
        await app.workers.wait_for_complete()
        await settle(pilot)
        await pilot.pause(0.5)
        assert calls == [(port.switch, [port.key])]
        words = " ".join(plain(screen.query_one(PortDetail)).split())
        assert (
            "Traffic not available: this server does not implement RefreshDVPortState, so port counters cannot "
            "be read fresh; stopped (t tries again)"
        ) in words
        assert screen.live is not None and screen.live.status is LiveStatus.UNSUPPORTED
        assert shown == []
        app.backend.close()
