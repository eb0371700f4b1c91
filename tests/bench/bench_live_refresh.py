"""Benchmark: the cost of one live-traffic refresh of one port (``t`` in the explorer), by switch size.

Run from the repository root (needs Go + govmomi for the vcsim test server, see tests/vcsim)::

    python -m tests.bench.bench_live_refresh                  # the demo lab and 40,000 VMs
    python -m tests.bench.bench_live_refresh --vms 10000 --runs 50
    python -m tests.bench.bench_live_refresh --no-explorer    # the refresh outside Textual only

For each lab (the demo lab, then ``python -m tests.labgen scaled --vms N`` labs) it starts the vcsim
test server, then in a fresh Python process logs in, loads the inventory and watches one connected
port of the largest switch. One refresh is what the panel does every 3 s, measured two ways:

- *refresh*: ``VsphereBackend.port_statistics(switch, [port])`` (``RefreshDVPortState`` then
  ``FetchDVPorts`` for that key), folding the reading into ``LiveTraffic`` and rendering the
  panel's rows to text, in the calling thread;
- *explorer*: in the headless app, ``ExplorerScreen.refresh_live()`` until the reading is folded in
  and drawn (the request runs in the explorer's thread worker, as it does every 3 s).

Figures per refresh, median of the runs: HTTP requests, bytes sent and received on the socket,
client CPU time (the whole process: every thread) and wall time. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench.wire import Wire

REPO = Path(__file__).resolve().parents[2]


# -- in the child process ------------------------------------------------------------------


def _backend(url: str, user: str, password: str) -> Any:
    from tui.backends.vsphere import VsphereBackend
    from tui.config import Settings, parse_server

    u = parse_server(url, "--server")
    return VsphereBackend(
        Settings(server=u.host, port=u.port, scheme=u.scheme, path=u.path, user=user, password=password)
    )


def _watched(inv: Any) -> tuple[str, str, int]:
    """(switch key, port key, ports on that switch): a connected, link-up port in the middle of the largest switch."""
    switch = max(inv.ports_by_switch, key=lambda k: len(inv.ports_by_switch[k]))
    ports = [p for p in inv.ports_by_switch[switch] if p.connectee is not None and p.link_up]
    port = ports[len(ports) // 2]
    return switch, port.key, len(inv.ports_by_switch[switch])


def _sample(wire: Wire, before: tuple[int, int, int], cpu: float, wall: float) -> dict[str, float]:
    after = wire.snapshot()
    return {
        "requests": after[0] - before[0],
        "sent": after[1] - before[1],
        "received": after[2] - before[2],
        "cpu": time.process_time() - cpu,
        "wall": time.perf_counter() - wall,
    }


def run_refresh(url: str, user: str, password: str, runs: int) -> dict[str, Any]:
    from rich.console import Console
    from rich.table import Table

    from tui.live_traffic import LiveStatus, LiveTraffic, traffic_rows

    wire = Wire()
    backend = _backend(url, user, password)
    inv = backend.load()
    switch, key, size = _watched(inv)
    live = LiveTraffic(switch, key)
    console = Console(width=46, file=open(os.devnull, "w"), color_system=None)  # noqa: SIM115 - the child exits
    samples = []
    for _ in range(runs + 1):
        time.sleep(0.05)  # the server's counters move with time
        before, cpu, wall = wire.snapshot(), time.process_time(), time.perf_counter()
        got = backend.port_statistics(switch, [key])
        live = live.with_reading(got.get(key))
        grid = Table.grid()
        for label, value in traffic_rows(live, "t"):
            grid.add_row(label, value)
        console.print(grid)
        samples.append(_sample(wire, before, cpu, wall))
    backend.close()
    assert live.status is LiveStatus.RATES, live
    return {"switch_ports": size, "port": key, "ports": len(inv.ports), "vms": len(inv.vms), "runs": samples[1:]}


def run_explorer(url: str, user: str, password: str, runs: int) -> dict[str, Any]:
    import asyncio

    from tui.app import build_app
    from tui.live_traffic import LiveStatus
    from tui.screens.explorer import ExplorerScreen

    wire = Wire()
    backend = _backend(url, user, password)
    app = build_app(backend, environ={})
    out: dict[str, Any] = {}

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            while app.index is None:  # noqa: ASYNC110 - polling is what is measured
                await asyncio.sleep(0.01)
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, ExplorerScreen) and app.inventory is not None
            switch, key, size = _watched(app.inventory)
            port = app.inventory.port(switch, key)
            assert port is not None
            screen.go_to_port(port)
            await pilot.pause()
            screen.live_interval = 3600.0  # readings only when asked
            await pilot.press("t")
            while screen.live is None or screen.live.readings < 1:  # noqa: ASYNC110
                await asyncio.sleep(0.001)
            samples = []
            for _ in range(runs):
                await asyncio.sleep(0.05)
                assert screen.live is not None
                n = screen.live.readings
                before, cpu, wall = wire.snapshot(), time.process_time(), time.perf_counter()
                screen.refresh_live()
                while screen.live.readings == n:  # noqa: ASYNC110
                    await asyncio.sleep(0.0005)
                await pilot.pause()  # drawn
                samples.append(_sample(wire, before, cpu, wall))
            assert screen.live.status is LiveStatus.RATES, screen.live
            out.update(switch_ports=size, port=key, ports=len(app.inventory.ports), vms=len(app.inventory.vms))
            out["runs"] = samples
            await pilot.press("t")
        backend.close()

    asyncio.run(main())
    return out


def child(args: argparse.Namespace) -> int:
    run = run_refresh if args.child == "refresh" else run_explorer
    print(json.dumps(run(args.url, args.user, args.password, args.runs)))
    return 0


# -- the driver ----------------------------------------------------------------------------


def measure(mode: str, server: Any, runs: int) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "tests.bench.bench_live_refresh", "--child", mode, "--runs", str(runs)]
    cmd += ["--url", server.url, "--user", server.user, "--password", server.password]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{out.stdout}{out.stderr}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _median(runs: list[dict[str, float]], field: str) -> float:
    return statistics.median(r[field] for r in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.bench_live_refresh", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--vms", type=int, nargs="*", default=[40000], help="scaled lab sizes after the demo lab")
    parser.add_argument("--runs", type=int, default=20, help="refreshes measured per lab and way (the median is shown)")
    parser.add_argument("--explorer", action=argparse.BooleanOptionalAction, default=True, help="also in the app")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--child", choices=["refresh", "explorer"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--user", help=argparse.SUPPRESS)
    parser.add_argument("--password", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    sys.path.insert(0, str(REPO))
    from tests.integration.conftest import DEMO_LAB, build_vcsim, start_server

    binary = build_vcsim()
    print(f"vcsim test server, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; medians of {args.runs}")
    print("| lab | ports on the switch | way | requests | sent | received | client CPU | wall |")
    print("|---|---:|---|---:|---:|---:|---:|---:|", flush=True)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="dvmirror-bench-") as tmp:
        labs: list[tuple[str, Path]] = [("demo lab", DEMO_LAB)]
        for vms in args.vms:
            lab = Path(tmp) / f"lab-{vms}.json"
            subprocess.run(
                [sys.executable, "-m", "tests.labgen", "scaled", "--vms", str(vms), str(lab)], cwd=REPO, check=True
            )
            labs.append((f"{vms:,} VMs", lab))
        for name, lab in labs:
            server = start_server(binary, lab)
            try:
                for mode in ["refresh"] + (["explorer"] if args.explorer else []):
                    r = measure(mode, server, args.runs)
                    r.update(lab=name, way=mode)
                    results.append(r)
                    runs = r["runs"]
                    print(
                        f"| {name} ({r['vms']:,} VMs, {r['ports']:,} ports) | {r['switch_ports']:,} | {mode} "
                        f"| {_median(runs, 'requests'):.0f} | {_median(runs, 'sent'):,.0f} B "
                        f"| {_median(runs, 'received'):,.0f} B | {_median(runs, 'cpu') * 1000:.1f} ms "
                        f"| {_median(runs, 'wall') * 1000:.1f} ms |",
                        flush=True,
                    )
            finally:
                server.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
