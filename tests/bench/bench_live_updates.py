"""Benchmark: the cost of one live update (issue 11) at 10,000 and 40,000 VMs, and idle CPU with live on.

Run from the repository root (needs Go + govmomi for the vcsim test server, see tests/vcsim)::

    python -m tests.bench.bench_live_updates                 # 10,000 and 40,000 VMs
    python -m tests.bench.bench_live_updates --vms 10000 --runs 3

For each size it writes a lab with ``python -m tests.labgen scaled --vms N``, starts the vcsim test
server, loads the inventory and follows it (:meth:`VsphereBackend.follow`, in a thread, as the app
does). Another process (a pyVmomi client) then makes one change at a time: a VM rename, then a
vMotion of a VM to another host. Per change, from the moment it is asked for until the new
inventory is posted: this process's CPU time (every thread; the changing client and the server are
other processes), HTTP requests, bytes sent and received on the socket, wall time, and how many
objects changed. Then 10 s with nothing changing: CPU and requests. First, the app's side: a
snapshot-backed app at the same size handling one update (screens, then the search index rebuilt
in its thread). Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

CHANGER = r"""
import sys
from pyVim.connect import SmartConnect
from pyVim.task import WaitForTask
from pyVmomi import vim
host, port, user, pwd = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
si = SmartConnect(host=host, port=port, user=user, pwd=pwd, protocol="http")
def ref(kind, moid):
    obj = kind(moid)
    obj._stub = si._stub
    return obj
for line in sys.stdin:
    verb, moid, arg = line.split()
    if verb == "session":  # session 1 of switch moid renamed, as another client would
        dvs = ref(vim.dvs.VmwareDistributedVirtualSwitch, moid)
        session = next(s for s in dvs.config.vspanSession if s.key == "1")
        session.name = arg
        VSW = vim.dvs.VmwareDistributedVirtualSwitch
        spec = VSW.ConfigSpec(
            configVersion=dvs.config.configVersion,
            vspanConfigSpec=[VSW.VspanConfigSpec(operation="edit", vspanSession=session)],
        )
        WaitForTask(dvs.ReconfigureDvs_Task(spec))
        print("ok", flush=True)
        continue
    vm = ref(vim.VirtualMachine, moid)
    if verb == "rename":
        WaitForTask(vm.Rename_Task(arg))
    else:
        WaitForTask(vm.RelocateVM_Task(vim.vm.RelocateSpec(host=ref(vim.HostSystem, arg))))
    print("ok", flush=True)
"""


def run_lab(server: Any, runs: int, idle: float) -> dict[str, Any]:
    from tests.bench.wire import Wire
    from tests.integration.test_vsphere_backend import settings_for
    from tui.backends.vsphere import VsphereBackend
    from tui.drift_store import BaselineStore
    from tui.inventory_update import LiveState

    wire = Wire()
    backend = VsphereBackend(settings_for(server))
    started = time.monotonic()
    inv = backend.load()
    load_s = time.monotonic() - started
    states: queue.Queue[LiveState] = queue.Queue()
    stop = threading.Event()
    thread = threading.Thread(target=backend.follow, args=(inv, states.put, stop), daemon=True)
    started = time.monotonic()
    thread.start()
    while states.get(timeout=600).status != "live":
        pass
    start_s = time.monotonic() - started
    changer = subprocess.Popen(
        [sys.executable, "-c", CHANGER, server.host, str(server.port), server.user, server.password],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert changer.stdin is not None and changer.stdout is not None
    # A VM with a NIC on a distributed port, and a host of its switch it is not on.
    vm = next(v for v in inv.vms.values() if any(n.port for n in v.nics))
    port_hosts = {p.host for p in inv.ports_by_switch[vm.nics[0].switch] if p.host}
    out: dict[str, Any] = {"vms": len(inv.vms), "ports": len(inv.ports), "load_s": load_s, "start_s": start_s}
    # The app checks every session for drift on each new inventory (tui/app.py check_drift): the same here.
    first_switch = next(iter(inv.switches.values()))
    store = BaselineStore.open(None)
    found = store.check("bench", inv)
    out["sessions"] = len(found)
    try:
        for kind in KINDS:
            measured = []
            for i in range(runs):
                current = inv.vms[vm.key]
                target = first_switch.moid if kind == "session" else vm.key
                if kind == "rename":
                    arg = f"{vm.name}-r{i}"
                elif kind == "session":
                    arg = f"edited-{i}"
                else:
                    arg = sorted(port_hosts - {current.host})[i % max(1, len(port_hosts) - 1)]
                time.sleep(1.5)  # let any pending wait return, so one update is measured
                while not states.empty():
                    states.get()
                r0, s0, b0, c0, t0 = wire.requests, wire.sent, wire.received, time.process_time(), time.monotonic()
                changer.stdin.write(f"{kind} {target} {arg}\n")
                changer.stdin.flush()
                changer.stdout.readline()
                while True:
                    state = states.get(timeout=120)
                    if state.inventory is not None:
                        break
                c1, t1 = time.process_time(), time.monotonic()
                since = (state.delta, found) if state.delta is not None and state.delta.base is inv else None
                found = store.check("bench", state.inventory, since=since)
                drift_cpu = time.process_time() - c1
                inv = state.inventory
                if kind == "session":
                    done = any(x.name == arg for x in inv.switches[first_switch.key].sessions)
                else:
                    done = inv.vms[vm.key].name == arg if kind == "rename" else inv.vms[vm.key].host == arg
                measured.append(
                    {
                        "requests": wire.requests - r0,
                        "sent": wire.sent - s0,
                        "received": wire.received - b0,
                        "cpu": c1 - c0,
                        "drift": drift_cpu,
                        "wall": t1 - t0,
                        "changed": state.changed,
                        "applied": done,
                    }
                )
            out[kind] = measured
        time.sleep(1.5)
        r0, c0 = wire.requests, time.process_time()
        time.sleep(idle)
        out["idle"] = {"seconds": idle, "cpu": time.process_time() - c0, "requests": wire.requests - r0}
    finally:
        changer.stdin.close()
        changer.wait(10)
        stop.set()
        thread.join(5)
        backend.close()
    return out


APP_SIDE = r"""
import asyncio, json, sys, time
from dataclasses import replace
from pathlib import Path
from tests.tui.conftest import loaded
from tui.app import INDEX_DELAY, build_app
from tui.backends.snapshot import SnapshotBackend
from tui.inventory_update import Change, Delta, apply_change
from tui.messages import InventoryLoaded
from widgets.inventory_tree import InventoryTree

async def main():
    app = build_app(SnapshotBackend(Path(sys.argv[1])), environ={})
    out = []
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        tree = app.screen.query_one(InventoryTree)
        tree.focus()
        for key in ("right", "down", "right", "down", "down"):  # open a switch and a portgroup
            await pilot.press(key)
        await pilot.pause()
        for i in range(int(sys.argv[2])):
            row = {}
            # The first VM (in the portgroup open, listed in the table), then the last one (off screen).
            for where, order in (("", iter), ("far_", reversed)):
                inv = app.inventory
                vm = next(v for v in order(list(inv.vms.values())) if any(n.port for n in v.nics))
                change = Change(vms=(replace(vm, name=vm.name + f"-{i}"),))
                new = apply_change(inv, change)
                c0, t0 = time.process_time(), time.perf_counter()
                app.post_message(InventoryLoaded(new, update=True, delta=Delta(inv, change, new)))
                while app.inventory is not new:
                    await asyncio.sleep(0.005)
                await pilot.pause()
                c1, t1 = time.process_time(), time.perf_counter()
                await asyncio.sleep(INDEX_DELAY + 0.2)
                await app.workers.wait_for_complete()  # the search index, rebuilt in a thread
                row[where + "cpu"], row[where + "wall"] = c1 - c0, t1 - t0
                row[where + "index_cpu"] = time.process_time() - c1
            out.append(row)
    print(json.dumps(out))

asyncio.run(main())
"""


KINDS = ("rename", "vmotion", "session")
"""The changes measured: a VM renamed, moved to another host, a session renamed by another client."""
SESSIONS = 50
"""Mirror sessions added to the scaled lab (its first switch), for the drift check."""


def with_sessions(data: dict[str, Any], count: int) -> dict[str, Any]:
    """``data`` (a ``tests.labgen`` lab) with ``count`` Distributed Port Mirroring sessions on its first
    switch, each from one VM's port to the next VM's, spread over the whole lab (the first VM's included)."""
    from tests import labgen

    switch = data["switches"][0]
    used = [
        p["key"]
        for p in data["ports"]
        if p["switch"] == switch["key"] and (p.get("connectee") or {}).get("type") == "vmVnic"
    ]
    step = max(2, len(used) // count)
    switch["sessions"] = [
        labgen._session(str(i + 1), f"bench-{i + 1}", "dvPortMirror", rx=[used[i * step]], dst=[used[i * step + 1]])
        for i in range(min(count, len(used) // 2))
    ]
    return data


def app_side(vms: int, runs: int) -> list[dict[str, float]]:
    """The app's handling of one update at ``vms`` VMs (snapshot-backed, headless), in a fresh process."""
    from tests import labgen

    with tempfile.TemporaryDirectory(prefix="dvmirror-bench-") as tmp:
        lab = Path(tmp) / "lab.json"
        labgen.write(labgen.scaled_lab(vms), lab)
        env = dict(os.environ, PYTHONPATH=str(REPO))
        out = subprocess.run(
            [sys.executable, "-c", APP_SIDE, str(lab), str(runs)], cwd=REPO, env=env, capture_output=True, text=True
        )
        if out.returncode != 0:
            raise SystemExit(f"app side failed:\n{out.stdout}{out.stderr}")
        return list(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.bench_live_updates", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--vms", type=int, nargs="*", default=[10000, 40000], help="scaled lab sizes")
    parser.add_argument("--runs", type=int, default=5, help="changes measured per kind and lab (the median is shown)")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle measured")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--app-only", action="store_true", help="only the app's side of an update")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    print("App side (a VM renamed, posted as the channel posts it; tree with a switch and portgroup open):")
    print("| VMs | VM renamed | screens updated: CPU | wall | then the search index (thread, 2 s later): CPU |")
    print("|---:|---|---:|---:|---:|", flush=True)
    for vms in args.vms:
        m = app_side(vms, args.runs)
        mid = {k: statistics.median(x[k] for x in m) for k in m[0]}
        for where, what in (("", "in the table"), ("far_", "off screen")):
            print(
                f"| {vms:,} | {what} | {mid[where + 'cpu'] * 1000:.0f} ms | {mid[where + 'wall'] * 1000:.0f} ms "
                f"| {mid[where + 'index_cpu'] * 1000:.0f} ms |"
            )
    if args.app_only:
        return 0
    from tests import labgen
    from tests.integration.conftest import build_vcsim, start_server

    binary = build_vcsim()
    print(f"vcsim test server, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; medians of {args.runs}")
    print(f"drift check: as the app does on each update, {SESSIONS} sessions on the first switch")
    print("| lab | load | follow start | change | objects | requests | sent | received | client CPU | drift | wall |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="dvmirror-bench-") as tmp:
        for vms in args.vms:
            lab = Path(tmp) / f"lab-{vms}.json"
            labgen.write(with_sessions(labgen.scaled_lab(vms), SESSIONS), lab)
            server = start_server(binary, lab, timeout=600)
            try:
                r = run_lab(server, args.runs, args.idle)
            finally:
                server.stop()
            results.append(r)
            name = f"{r['vms']:,} VMs, {r['ports']:,} ports"
            for kind in KINDS:
                m = r[kind]

                def med(field: str, m: list[dict[str, Any]] = m) -> float:
                    return statistics.median(x[field] for x in m)

                ok = "" if all(x["applied"] for x in m) else " (not all applied!)"
                print(
                    f"| {name} | {r['load_s']:.1f} s | {r['start_s']:.1f} s | {kind}{ok} | {med('changed'):.0f} "
                    f"| {med('requests'):.0f} | {med('sent'):,.0f} B | {med('received'):,.0f} B "
                    f"| {med('cpu') * 1000:.1f} ms | {med('drift') * 1000:.1f} ms | {med('wall') * 1000:.0f} ms |",
                    flush=True,
                )
            idle = r["idle"]
            print(
                f"| {name} | | | idle {idle['seconds']:.0f} s | | {idle['requests']} | | "
                f"| {idle['cpu'] * 1000:.1f} ms ({idle['cpu'] / idle['seconds'] * 100:.2f} %) | | |",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
