"""The explorer while a load has read the port map but not yet the device lists (issue 12 §1).

The backend is the demo lab's snapshot backend, whose load first reports the port map a vCenter
load reports (:func:`tui.backends._load.port_map_vms`: the NICs named by the ports' connectees, no
labels, no guest IPs; ``details`` False), then waits until the test lets it finish.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from typing import Any

from textual.pilot import Pilot

from tests.tui.conftest import settle
from tui.app import DvMirrorApp, build_app
from tui.backends import LoadProgress, ProgressCallback
from tui.backends._load import port_map_vms
from tui.backends.snapshot import SnapshotBackend
from tui.model import Inventory
from tui.screens.find import FindScreen


class PortMapFirst(SnapshotBackend):
    """The demo lab, loaded as the vsphere backend does: the port map first, the rest on ``go``."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()

    def load(self, progress: ProgressCallback | None = None) -> Inventory:
        inv = super().load()
        ports = list(inv.ports.values())
        vms = port_map_vms([replace(vm, nics=()) for vm in inv.vms.values()], ports)
        port_map = Inventory.build(
            vcenter=inv.vcenter,
            source=inv.source,
            datacenters=inv.datacenters,
            hosts=list(inv.hosts.values()),
            switches=list(inv.switches.values()),
            portgroups=list(inv.portgroups.values()),
            ports=ports,
            vms=vms,
            details=False,
        )
        if progress is not None:
            progress(LoadProgress("ports read; reading NICs and IPs", partial=port_map))
        self.go.wait(30)
        return inv


async def _until(pilot: Pilot[Any], ready: Any) -> None:
    deadline = time.monotonic() + 30
    while not ready() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        await pilot.pause()
    assert ready()


async def test_search_works_on_the_port_map_and_says_ips_are_still_loading() -> None:
    backend = PortMapFirst()
    app = build_app(backend, environ={})
    assert isinstance(app, DvMirrorApp)
    async with app.run_test(size=(120, 40)) as pilot:
        try:
            await _until(pilot, lambda: app.partial and app.index is not None)
            assert app.inventory is not None and not app.inventory.details
            await pilot.press("slash", *"WEB01")
            await settle(pilot)
            finder = app.screen
            assert isinstance(finder, FindScreen)
            assert finder.hits and finder.hits[0].port is not None, "a VM is found by name from its ports"
            status = str(finder.query_one("#find-status").render())
            assert "IPs still loading" in status
            await pilot.press("escape")
        finally:
            backend.go.set()
        await _until(pilot, lambda: not app.partial and app.index is not None and app.index.inventory.details)
        await pilot.press("slash", *"WEB01")
        await settle(pilot)
        finder = app.screen
        assert isinstance(finder, FindScreen)
        assert "IPs still loading" not in str(finder.query_one("#find-status").render())
