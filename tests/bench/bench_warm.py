"""Benchmark: the warm start of ``dvmirror find`` (tui/warm.py), whole process, against vcsim.

Run from the repository root (needs Go + govmomi for the vcsim test server, see tests/vcsim)::

    python -m tests.bench.bench_warm                      # the demo lab, 10,000 and 40,000 VMs
    python -m tests.bench.bench_warm --vms 0 10000 --runs 5   # 0 is the demo lab
    python -m tests.bench.bench_warm --delay 20           # 20 ms more per SOAP call (a remote vCenter)

For each size it starts the vcsim test server on a lab of ``python -m tests.labgen scaled``, then
times the real console script ``dvmirror find VM --json`` from launch to exit, each in a fresh
process with its own ``XDG_CACHE_HOME`` (medians of ``--runs``):

- *cold*: no saved session, no cached inventory (``--fresh``): versions, login, the full load,
  then the session and the inventory are saved;
- *session reused*: ``--fresh`` again: the saved session is verified and used (no
  ``vimServiceVersions.xml``, no ``Login``), the load is the same;
- *warm (cache)*: no ``--fresh``: answered from the cached inventory, not one request;
- *snapshot*: ``find --snapshot`` of the same inventory (the cache file without its header line);
- *python*: ``python -c pass``, the floor of any process.

Then the warm run is taken apart in one process (import, cache read and decode, index, search,
JSON out), to show what stands in the way of the 0.3 s target. Prints a table; asserts nothing
but that each mode says what it did (the debug messages name the reused session and the cache).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

BREAKDOWN = r"""
import json, sys, time
t0 = time.perf_counter()
import tui.__main__, tui.cli
from tui.config import Settings
from tui.lookup import LookupIndex
from tui.warm import InventoryCache
t1 = time.perf_counter()
url, user, vm = sys.argv[1:4]
from tui.config import parse_server
u = parse_server(url, "--server")
settings = Settings(server=u.host, port=u.port, scheme=u.scheme, path=u.path, user=user)
cached = InventoryCache().load(settings, 3600)
t2 = time.perf_counter()
index = LookupIndex(cached.inventory)
t3 = time.perf_counter()
hits = index.search(vm, limit=None)
t4 = time.perf_counter()
rows = [cached.inventory.row(h.target) for h in hits]
import io
tui.cli.emit_json(rows, io.StringIO())
t5 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "cache": t2 - t1, "index": t3 - t2, "search": t4 - t3, "json": t5 - t4,
                  "ports": len(cached.inventory.ports), "hits": len(hits)}))
"""


def dvmirror() -> list[str]:
    exe = Path(sys.executable).with_name("dvmirror")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "tui"]


CPU: dict[str, list[float]] = {}
"""CPU seconds (user + system) of each mode's processes: on a shared machine wall time includes
waiting for a core, CPU time does not."""


def run(argv: list[str], env: dict[str, str], mode: str = "") -> tuple[float, str, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO, timeout=3600)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if mode:
        CPU.setdefault(mode, []).append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv[:4])}… failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, done.stdout, done.stderr


def measure(server: Any, vm: str, runs: int, tmp: Path) -> dict[str, Any]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GOVC_", "VMWARE_", "DVMIRROR_"))}
    cache_home = tmp / "cache"
    env = dict(base, XDG_CACHE_HOME=str(cache_home), DVMIRROR_DEBUG="1", PYTHONPATH=str(REPO))
    flags = ["--server", server.url, "--user", server.user, "--password", server.password]
    find = [*dvmirror(), "find", vm, "--json", *flags]
    out: dict[str, list[float]] = {"cold": [], "reused": [], "warm": [], "snapshot": [], "python": []}
    for _ in range(runs):
        subprocess.run(["rm", "-rf", str(cache_home)], check=True)
        wall, _, err = run([*find, "--fresh"], env, "cold")
        assert "no saved session" in err, err[-500:]
        out["cold"].append(wall)
        wall, _, err = run([*find, "--fresh"], env, "reused")
        assert "reusing the saved session" in err, err[-500:]
        out["reused"].append(wall)
        wall, rows, err = run(find, env, "warm")
        assert "from the cache of" in err and "reusing" not in err, err[-500:]
        assert json.loads(rows), "the warm find found nothing"
        out["warm"].append(wall)
    [cached] = (cache_home / "dvmirror" / "inventory").iterdir()
    snap = tmp / "snapshot.json"
    snap.write_bytes(cached.read_bytes().partition(b"\n")[2])
    size = cached.stat().st_size
    for _ in range(runs):
        out["snapshot"].append(run([*dvmirror(), "find", vm, "--json", "--snapshot", str(snap)], env, "snapshot")[0])
        out["python"].append(run([sys.executable, "-c", "pass"], env, "python")[0])
    parts = subprocess.run(
        [sys.executable, "-c", BREAKDOWN, server.url, server.user, vm],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=True,
    )
    medians: dict[str, Any] = {k: statistics.median(v) for k, v in out.items()}
    medians["cpu"] = {k: statistics.median(v) for k, v in CPU.items()}
    CPU.clear()
    medians["breakdown"] = json.loads(parts.stdout.strip().splitlines()[-1])
    medians["cache_mb"] = size / 1e6
    return medians


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_warm", description=__doc__.split("\n\n")[0])
    parser.add_argument("--vms", type=int, nargs="+", default=[0, 10000, 40000], help="lab sizes (0: the demo lab)")
    parser.add_argument("--runs", type=int, default=3, help="runs per mode (the median is shown)")
    parser.add_argument("--delay", type=int, default=0, help="milliseconds vcsim adds to every SOAP call")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from tests.integration.conftest import build_vcsim, start_server

    binary = build_vcsim()
    load = os.getloadavg()
    print(
        f"vcsim test server, {os.cpu_count()} CPUs, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, "
        f"Python {sys.version.split()[0]}, delay {args.delay} ms; whole process, medians of {args.runs}",
        flush=True,
    )
    print("Wall time (CPU time of the process in brackets).")
    print("| lab | ports | cache | cold | session reused | warm (cache) | snapshot | python | warm breakdown |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|", flush=True)
    with tempfile.TemporaryDirectory(prefix="dvmirror-bench-warm-") as tmp_name:
        tmp = Path(tmp_name)
        for vms in args.vms:
            lab: Path | None = None
            vm = "MGTSRVR003UX"
            if vms:
                lab = tmp / f"lab-{vms}.json"
                subprocess.run(
                    [sys.executable, "-m", "tests.labgen", "scaled", "--vms", str(vms), str(lab)], cwd=REPO, check=True
                )
                vm = "vm-00399"
            server = start_server(binary, lab, delay=args.delay, timeout=600)
            try:
                r = measure(server, vm, args.runs, tmp)
            finally:
                server.stop()
            b = r["breakdown"]

            def cell(mode: str, r: dict[str, Any] = r) -> str:
                return f"{r[mode]:.2f} s ({r['cpu'][mode]:.2f})"

            parts = ", ".join(f"{k} {b[k] * 1000:.0f}" for k in ("import", "cache", "index", "search", "json"))
            name = f"{vms:,} VMs" if vms else "demo lab"
            print(
                f"| {name} | {b['ports']:,} | {r['cache_mb']:.1f} MB | {cell('cold')} | {cell('reused')} "
                f"| {cell('warm')} | {cell('snapshot')} | {cell('python')} | {parts} ms |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
