"""The finder at keyboard speed: the search index at 60,000 ports, key by key, and after a live update.

    python -m tests.bench.bench_finder                   # 48,000 VMs (59,520 ports), 10,000 and 40,000 for updates
    python -m tests.bench.bench_finder --vms 10000 --no-app
    python -m tests.bench.bench_finder --baseline 672cf0a

Prints tables; asserts nothing (but stops if the two indexes disagree). For a ``tests.labgen scaled``
lab, in one process:

- *build*: CPU time to build the index of the loaded inventory: today's ``LookupIndex`` and the one at
  git revision ``--baseline`` (a linear scan of every value per search), both with the cyclic garbage
  collector paused as the app does (median of 3).
- *per key*: typing queries one key at a time (``vm-00399``, an IP, a MAC, a NIC label, a portgroup):
  CPU of ``search(prefix, limit=201)`` (what the finder asks) for each prefix; median and worst key.
  Every prefix's hits are compared between the two indexes.
- *in the app*: the headless app on a snapshot of the lab, ``/`` then the same keys one by one; per
  key, wall time of the finder's own handling (search, first screenful of lines into the list), and
  from the key until the list holds that query's first screenful, then all 200 (Pilot's own key
  delivery included: the cost of a key the finder ignores is printed next to it).
- *update*: CPU of ``LookupIndex.derived`` for one live update (a VM renamed; a VM moved to another
  host with its ports; a NIC reconnected to another port), then of the first search of the derived
  index, next to a full build of the new inventory.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

BASELINE = "672cf0a"
"""The last revision with the linear-scan index."""

QUERIES = ["vm-00399", "10.0.1.144", "00:50:56:9a:0e:11", "network adapter 1", "dvpg0012", "esx-0042"]


def baseline_module(rev: str, folder: Path) -> ModuleType:
    text = subprocess.run(
        ["git", "show", f"{rev}:tui/lookup.py"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    path = folder / "lookup_baseline.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("lookup_baseline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["lookup_baseline"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def cpu(fn: Any, *args: Any) -> tuple[float, Any]:
    t = time.process_time()
    out = fn(*args)
    return time.process_time() - t, out


def same(a: list[Any], b: list[Any]) -> bool:
    return [(h.target, h.field.name, h.match.name, h.text) for h in a] == [
        (h.target, h.field.name, h.match.name, h.text) for h in b
    ]


def index_side(lab: Path, rev: str, folder: Path) -> dict[str, Any]:
    from tui.backends.snapshot import SnapshotBackend
    from tui.gcpause import gc_paused
    from tui.lookup import LookupIndex

    old = baseline_module(rev, folder)
    inv = SnapshotBackend(lab).load()
    builds: dict[str, list[float]] = {"new": [], "old": []}
    for _ in range(3):
        with gc_paused():
            t, index = cpu(LookupIndex, inv)
            builds["new"].append(t)
            t, before = cpu(old.LookupIndex, inv)
            builds["old"].append(t)
    gc.freeze()
    keys: dict[str, list[float]] = {"new": [], "old": []}
    for query in QUERIES:
        for n in range(1, len(query) + 1):
            prefix = query[:n]
            t_new, hits = cpu(index.search, prefix, 201)
            t_old, expected = cpu(before.search, prefix, 201)
            if not same(hits, expected):
                raise SystemExit(f"the indexes disagree on {prefix!r}")
            keys["new"].append(t_new)
            keys["old"].append(t_old)
    return {
        "ports": len(inv.ports),
        "build": {k: statistics.median(v) for k, v in builds.items()},
        "key_median": {k: statistics.median(v) for k, v in keys.items()},
        "key_max": {k: max(v) for k, v in keys.items()},
        "keys": len(keys["new"]),
    }


def update_side(lab: Path) -> dict[str, Any]:
    from tui.backends.snapshot import SnapshotBackend
    from tui.inventory_update import Change, Delta, apply_change
    from tui.lookup import LookupIndex

    inv = SnapshotBackend(lab).load()
    index = LookupIndex(inv)
    vms = [v for v in inv.vms.values() if any(n.port for n in v.nics)]
    vm, other = vms[len(vms) // 2], vms[len(vms) // 3]
    hosts = list(inv.hosts)
    free = next(p for p in inv.ports.values() if p.connectee is None and (p.switch, p.key) not in inv.nic_by_port)
    nic = next(n for n in vm.nics if n.port)
    moved_ports = tuple(replace(inv.ports[(n.switch, n.port)], host=hosts[0]) for n in other.nics if n.port)
    changes = {
        "rename": Change(vms=(replace(vm, name=vm.name + "-renamed"),)),
        "vMotion": Change(vms=(replace(other, host=hosts[0]),), ports=moved_ports),
        "reconnect": Change(
            vms=(
                replace(
                    vm,
                    nics=tuple(
                        replace(n, port=free.key, switch=free.switch, portgroup=free.portgroup) if n is nic else n
                        for n in vm.nics
                    ),
                ),
            ),
            ports=(
                replace(inv.ports[(nic.switch, nic.port)], connectee=None),
                replace(free, connectee=inv.ports[(nic.switch, nic.port)].connectee),
            ),
        ),
    }
    out: dict[str, Any] = {"ports": len(inv.ports)}
    for kind, change in changes.items():
        new = apply_change(inv, change)
        delta = Delta(inv, change, new)
        t_derive, derived = cpu(index.derived, delta)
        assert derived is not None, kind
        t_search, hits = cpu(derived.search, vm.name[:5], 201)
        t_full, full = cpu(LookupIndex, new)
        if not same(hits, full.search(vm.name[:5], 201)):
            raise SystemExit(f"the derived index disagrees with a full build after {kind}")
        out[kind] = {"derive": t_derive, "first_search": t_search, "full": t_full}
    return out


APP = r"""
import asyncio, json, sys, time
from pathlib import Path
from tests.tui.conftest import loaded
from textual.widgets import OptionList
from tui.app import build_app
from tui.backends.snapshot import SnapshotBackend
from tui.screens.find import FIRST, FindScreen

async def main():
    app = build_app(SnapshotBackend(Path(sys.argv[1])), environ={})
    out, handled, whole = [], [], []
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        for query in json.loads(sys.argv[2]):
            await pilot.press("slash")
            await pilot.pause()
            finder = app.screen
            assert isinstance(finder, FindScreen)
            results = finder.query_one("#find-results", OptionList)
            search = finder._search
            def timed(text, search=search):
                t = time.perf_counter()
                search(text)
                handled.append(time.perf_counter() - t)
            finder._search = timed
            for n, key in enumerate(query, 1):
                want = app.index.search(query[:n], limit=201)
                t = time.perf_counter()
                await pilot.press(key)
                first, shown = min(FIRST, len(want)), min(200, len(want))
                while [h.target for h in finder.hits] != [h.target for h in want] or results.option_count < first:
                    if time.perf_counter() - t > 30:
                        raise SystemExit(f"the finder did not show the results of {query[:n]!r}")
                    await asyncio.sleep(0.001)
                out.append(time.perf_counter() - t)
                while results.option_count != shown:
                    await asyncio.sleep(0.001)
                whole.append(time.perf_counter() - t)
            await pilot.press("escape")
            await pilot.pause()
    print(json.dumps([out, handled, whole]))

asyncio.run(main())
"""


def app_side(lab: Path) -> list[list[float]]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-c", APP, str(lab), json.dumps(QUERIES)], cwd=REPO, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"app side failed:\n{done.stdout}{done.stderr}")
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


IDLE = r"""
import asyncio, json, sys, time
from pathlib import Path
from tests.tui.conftest import loaded
from tui.app import build_app
from tui.backends.snapshot import SnapshotBackend

async def main():
    app = build_app(SnapshotBackend(Path(sys.argv[1])), environ={})
    out = []
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("slash")
        await pilot.pause()
        for _ in range(20):
            t = time.perf_counter()
            await pilot.press("home")  # the input's cursor is at its start already
            await pilot.pause()
            out.append(time.perf_counter() - t)
    print(json.dumps(out))

asyncio.run(main())
"""


def app_idle(lab: Path) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", IDLE, str(lab)], cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"app side failed:\n{done.stdout}{done.stderr}")
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_finder", description=__doc__.split("\n\n")[0])
    parser.add_argument("--vms", type=int, default=48000, help="VMs of the lab searched (default 48,000: 59,520 ports)")
    parser.add_argument("--update-vms", type=int, nargs="*", default=[10000, 40000], help="lab sizes for updates")
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the linear-scan index")
    parser.add_argument("--no-app", action="store_true", help="skip the headless app")
    args = parser.parse_args(argv)
    from tests import labgen

    with open("/proc/loadavg") as f:
        print(f"load average: {' '.join(f.read().split()[:3])}")
    with tempfile.TemporaryDirectory(prefix="dvmirror-bench-") as tmp:
        folder = Path(tmp)
        lab = folder / "lab.json"
        labgen.write(labgen.scaled_lab(args.vms), lab)
        r = index_side(lab, args.baseline, folder)
        print(f"\n{args.vms:,} VMs, {r['ports']:,} ports; {r['keys']} keys typed ({', '.join(QUERIES)})")
        print("| index | build (CPU) | per key: median | per key: worst |")
        print("|---|---:|---:|---:|")
        for k, name in (("old", f"linear scan ({args.baseline})"), ("new", "today")):
            print(
                f"| {name} | {r['build'][k] * 1000:,.0f} ms | {r['key_median'][k] * 1000:.1f} ms"
                f" | {r['key_max'][k] * 1000:.1f} ms |"
            )
        if not args.no_app:
            keys, handled, whole = app_side(lab)
            for what, times in (
                ("the finder's search and first screenful", handled),
                ("key to the first screenful in the list (Pilot)", keys),
                ("key to all 200 in the list (Pilot)", whole),
            ):
                print(
                    f"in the app, per key, {what}: median {statistics.median(times) * 1000:.0f} ms,"
                    f" 90th percentile {sorted(times)[int(len(times) * 0.9)] * 1000:.0f} ms,"
                    f" worst {max(times) * 1000:.0f} ms"
                )
            idle = app_idle(lab)
            print(f"  (Pilot's own cost of a key the finder ignores: median {statistics.median(idle) * 1000:.0f} ms)")
        print("\nOne live update: the index derived from the previous one, then its first search (CPU)")
        print("| VMs | ports | change | derive | first search | full build |")
        print("|---:|---:|---|---:|---:|---:|")
        for vms in args.update_vms:
            lab = folder / f"lab{vms}.json"
            labgen.write(labgen.scaled_lab(vms), lab)
            u = update_side(lab)
            for kind in ("rename", "vMotion", "reconnect"):
                x = u[kind]
                print(
                    f"| {vms:,} | {u['ports']:,} | {kind} | {x['derive'] * 1000:.2f} ms"
                    f" | {x['first_search'] * 1000:.1f} ms | {x['full'] * 1000:,.0f} ms |"
                )
    with open("/proc/loadavg") as f:
        print(f"load average: {' '.join(f.read().split()[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
