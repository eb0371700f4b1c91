"""Live updates (issue 11 item 1): :meth:`VsphereBackend.follow` against the vcsim test server.

Each change is made by a second pyVmomi client, as a colleague or vCenter itself would; the
followed inventory must then equal what a fresh load reads (so an updated object is read exactly
like a loaded one), and the channel must survive a restarted server and an ended session.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("pyVmomi")

from pyVim.task import WaitForTask  # noqa: E402
from pyVmomi import vim  # noqa: E402

from tests.integration.test_vcsim_updates import CLOUD, F5, add_session, find, nic_spec, switch  # noqa: E402
from tests.integration.test_vsphere_backend import settings_for  # noqa: E402
from tui.backends.vsphere import VsphereBackend  # noqa: E402
from tui.inventory import Inventory  # noqa: E402
from tui.inventory_update import LiveState  # noqa: E402

pytestmark = pytest.mark.vcsim


class Following:
    """A backend following its server in a thread; ``states`` receives what it reports."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.backend = VsphereBackend(settings_for(server))
        self.inventory: Inventory = self.backend.load()
        self.states: queue.Queue[LiveState] = queue.Queue()
        self.seen: list[LiveState] = []
        self.stop = threading.Event()
        self.raw_requests = self.backend.stats.requests
        """Streamed requests before the channel started (after it: its ``WaitForUpdatesEx`` and reads)."""
        self.thread = threading.Thread(
            target=self.backend.follow, args=(self.inventory, self.states.put, self.stop), daemon=True
        )
        self.thread.start()
        self.until(lambda s: s.status == "live")

    def until(self, done: Callable[[LiveState], bool], seconds: float = 15) -> LiveState:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                state = self.states.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(state)
            if state.inventory is not None:
                self.inventory = state.inventory
            if done(state):
                return state
        raise AssertionError(f"not reported within {seconds} s; saw {[(s.status, s.reason) for s in self.seen]}")

    def updated(self, check: Callable[[Inventory], bool], seconds: float = 15) -> Inventory:
        self.until(lambda s: s.inventory is not None and check(s.inventory), seconds)
        return self.inventory

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.backend.close()


@pytest.fixture
def following(start_vcsim: Any) -> Iterator[Callable[..., Following]]:
    made: list[Following] = []

    def start(**kwargs: Any) -> Following:
        f = Following(start_vcsim(**kwargs))
        made.append(f)
        return f

    yield start
    for f in made:
        f.close()


def same_as_a_load(f: Following) -> None:
    """The followed inventory is what a full load reads now."""
    fresh = VsphereBackend(settings_for(f.server))
    try:
        loaded = fresh.load()
    finally:
        fresh.close()
    assert f.inventory == loaded


def test_a_session_added_by_another_client(following: Any) -> None:
    f = following()
    old = f.inventory
    before = old.switches[CLOUD]
    add_session(switch(f.server.connect()), "from-b")
    inv = f.updated(lambda i: "from-b" in [s.name for s in i.switches[CLOUD].sessions])
    assert int(inv.switches[CLOUD].config_version) == int(before.config_version) + 1
    assert inv.vms is old.vms and inv.ports is old.ports, "a switch change leaves VMs and ports as they were"
    same_as_a_load(f)


def test_a_vmotion_that_splits_the_dmz_ids_pair(following: Any) -> None:
    """DMZ-IDS mirrors 448 (F5-LTM01, esx-03) to 2241 (esx-03): after F5-LTM01 moves to esx-01 the
    source port is on another host than the destination, in the followed inventory."""
    f = following()
    dmz = next(s for s in f.inventory.switches[CLOUD].sessions if s.key == "1")
    assert "448" in dmz.source_rx.port_keys and "2241" in dmz.destination.port_keys
    assert f.inventory.ports[(CLOUD, "448")].host == f.inventory.ports[(CLOUD, "2241")].host == "host-21"
    si = f.server.connect()
    WaitForTask(
        find(si, vim.VirtualMachine, F5).RelocateVM_Task(vim.vm.RelocateSpec(host=find(si, vim.HostSystem, "host-11")))
    )
    inv = f.updated(lambda i: i.ports[(CLOUD, "448")].host == "host-11")
    assert inv.vms[F5].host == "host-11"
    assert inv.ports[(CLOUD, "100")].host == "host-11"
    assert inv.ports[(CLOUD, "2241")].host == "host-21"
    same_as_a_load(f)


def test_a_vm_renamed(following: Any) -> None:
    f = following()
    WaitForTask(find(f.server.connect(), vim.VirtualMachine, F5).Rename_Task("AAA-renamed"))
    inv = f.updated(lambda i: i.vms[F5].name == "AAA-renamed")
    names = [vm.name.lower() for vm in inv.vms.values()]
    assert names == sorted(names) and "aaa-renamed" in names, "VMs stay in name order"
    assert f.seen[-1].changed == 1
    same_as_a_load(f)


def test_a_nic_reconnected_to_a_new_port(following: Any) -> None:
    f = following()
    si = f.server.connect()
    vm = find(si, vim.VirtualMachine, F5)
    WaitForTask(vm.ReconfigVM_Task(nic_spec(vm, 4001, portgroup="dvportgroup-44")))

    def moved(i: Inventory) -> bool:
        nic = next(n for n in i.vms[F5].nics if n.key == 4001)
        return nic.port != "448" and i.nic_by_port.get((CLOUD, nic.port), (None, None))[1] == nic

    inv = f.updated(moved)
    nic = next(n for n in inv.vms[F5].nics if n.key == 4001)
    assert nic.portgroup == "dvportgroup-44"
    assert inv.ports[(CLOUD, "448")].connectee is None
    assert inv.ports[(CLOUD, nic.port)].connectee.entity == F5
    same_as_a_load(f)


def test_a_portgroup_vlan_changed(following: Any) -> None:
    f = following()
    pg = find(f.server.connect(), vim.dvs.DistributedVirtualPortgroup, "dvportgroup-44")
    spec = vim.dvs.DistributedVirtualPortgroup.ConfigSpec(
        configVersion=pg.config.configVersion,
        defaultPortConfig=vim.dvs.VmwareDistributedVirtualSwitch.VmwarePortConfigPolicy(
            vlan=vim.dvs.VmwareDistributedVirtualSwitch.VlanIdSpec(vlanId=77, inherited=False)
        ),
    )
    WaitForTask(pg.ReconfigureDVPortgroup_Task(spec))
    name = f.inventory.portgroups["dvportgroup-44"].name
    inv = f.updated(lambda i: str(i.portgroups["dvportgroup-44"].vlan) == "77")
    assert inv.portgroups["dvportgroup-44"].name == name
    same_as_a_load(f)


def test_the_channel_survives_a_restarted_server(following: Any, start_vcsim: Any) -> None:
    f = following()
    port = f.server.port
    f.server.stop()
    f.until(lambda s: s.status == "reconnecting")
    f.server = start_vcsim(args=("-listen", f"127.0.0.1:{port}"))
    f.until(lambda s: s.status == "live" and s.resync, seconds=40)
    WaitForTask(find(f.server.connect(), vim.VirtualMachine, F5).Rename_Task("after-restart"))
    f.updated(lambda i: i.vms[F5].name == "after-restart")
    same_as_a_load(f)


def test_the_channel_survives_an_ended_session(following: Any) -> None:
    f = following()
    with f.backend._lock:
        f.backend._content.sessionManager.Logout()  # the session is gone on the server, as after an expiry
    f.until(lambda s: s.status == "live" and s.resync, seconds=30)
    WaitForTask(find(f.server.connect(), vim.VirtualMachine, F5).Rename_Task("after-logout"))
    f.updated(lambda i: i.vms[F5].name == "after-logout")


def test_an_idle_session_expiry(following: Any) -> None:
    """``-session-idle``: the follower's bounded waits keep the session in use, so it never expires."""
    f = following(session_idle=2)
    time.sleep(4)
    WaitForTask(find(f.server.connect(), vim.VirtualMachine, F5).Rename_Task("still-live"))
    f.updated(lambda i: i.vms[F5].name == "still-live")
    assert all(s.status == "live" for s in f.seen)


def test_stop_ends_a_pending_wait_at_once(following: Any) -> None:
    f = following()
    time.sleep(0.3)  # a WaitForUpdatesEx is pending
    started = time.monotonic()
    f.stop.set()
    f.thread.join(5)
    assert not f.thread.is_alive()
    assert time.monotonic() - started < 1.5
    # Nothing changed: the channel's only streamed requests were its first and its pending WaitForUpdatesEx.
    assert f.backend.stats.requests - f.raw_requests >= 2
