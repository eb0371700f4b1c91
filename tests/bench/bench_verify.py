"""Benchmark: the cost of ``dvmirror session verify`` against vcsim, on the demo lab and at 40,000 VMs.

Run from the repository root (needs Go + govmomi for the vcsim test server, see tests/vcsim)::

    python -m tests.bench.bench_verify                  # demo lab and 40,000 VMs, a 10 s window
    python -m tests.bench.bench_verify --vms 10000 --seconds 4 --runs 3

For each lab it adds one Distributed Port Mirroring session with two ports on one host (the
walkthrough's 448 → 2258 on the demo lab; the first two VM ports of one host on the large lab),
starts the vcsim test server on it and runs the real CLI in a fresh Python process::

    dvmirror session verify --server URL ... --session bench --seconds N --json

Inside that process the socket is counted (HTTP requests, bytes sent and received) and the time
taken (process CPU of every thread, wall), split into phases:

- *inventory*: login and load (``tui.cli.load``): this grows with the switch, and is printed apart;
- *window*: ``tui.verify.sample``, every reading of the session's ports (``RefreshDVPortState``
  + ``FetchDVPorts`` of those ports): this must not grow with the switch;
- *rest*: the verdict, the JSON output and the logout.

The run fails unless the window made the same number of requests at every size and its bytes
stayed within 5 % (port keys and counter values differ in length from lab to lab).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.bench.wire import Wire

REPO = Path(__file__).resolve().parents[2]
SESSION = "bench"


# -- in the child process ------------------------------------------------------------------


def _now(wire: Wire) -> dict[str, float]:
    return {
        "requests": wire.requests,
        "sent": wire.sent,
        "received": wire.received,
        "cpu": time.process_time(),
        "wall": time.perf_counter(),
    }


def _delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: after[k] - before[k] for k in before}


def child(args: argparse.Namespace) -> int:
    """Run the CLI once in this process; print the phases as one JSON line."""
    from tui import verify
    from tui.__main__ import main
    from tui.cli_sessions import commands

    wire = Wire()
    phases: dict[str, dict[str, float]] = {}

    def timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def run(*a: Any, **k: Any) -> Any:
            before = _now(wire)
            try:
                return func(*a, **k)
            finally:
                phases[name] = _delta(before, _now(wire))

        return run

    commands.load = timed("inventory", commands.load)
    verify.sample = timed("window", verify.sample)
    out = io.StringIO()
    argv = ["session", "verify", "--server", args.url, "--user", args.user, "--password", args.password]
    argv += ["--session", SESSION, "--seconds", str(args.seconds), "--json"]
    start = _now(wire)
    with contextlib.redirect_stdout(out):
        code = main(argv, environ={})
    total = _delta(start, _now(wire))
    result = json.loads(out.getvalue())
    rest = {k: total[k] - phases["inventory"][k] - phases["window"][k] for k in total}
    print(
        json.dumps(
            {
                "code": code,
                "verdict": result["verdict"],
                "readings": len(result["samples"]),
                "json_bytes": len(out.getvalue().encode()),
                "inventory": phases["inventory"],
                "window": phases["window"],
                "rest": rest,
                "total": total,
            }
        )
    )
    return 0


# -- the driver ----------------------------------------------------------------------------


def _add_session(data: dict[str, Any], source: str | None = None, dest: str | None = None) -> tuple[str, str, int]:
    """Add session ``bench`` (dvPortMirror, ``source`` both ways to ``dest``) to the first switch;
    without ports, the first two VM ports of one host. Returns (source, dest, ports on the switch)."""
    from tests import labgen

    switch = data["switches"][0]
    ports = [p for p in data["ports"] if p["switch"] == switch["key"]]
    if source is None or dest is None:
        by_host: dict[str, list[str]] = {}
        for p in ports:
            c = p.get("connectee") or {}
            if c.get("type", "vmVnic") == "vmVnic" and c and p.get("linkUp"):
                by_host.setdefault(p["host"], []).append(p["key"])
        source, dest = next(keys[:2] for keys in by_host.values() if len(keys) >= 2)
    session = labgen._session("900", SESSION, "dvPortMirror", rx=[source], tx=[source], dst=[dest])
    session["mirroredPacketLength"] = 60
    switch.setdefault("sessions", []).append(session)
    return source, dest, len(ports)


def _labs(vms: list[int], directory: Path) -> Iterator[tuple[str, Path, int]]:
    """(name, lab file, ports on the session's switch) for the demo lab and each size."""
    from tests import labgen

    data = labgen.demo_lab()
    _, _, n = _add_session(data, "448", "2258")
    path = directory / "demo.json"
    labgen.write(data, path)
    yield "demo lab", path, n
    for count in vms:
        data = labgen.scaled_lab(count)
        _, _, n = _add_session(data)
        path = directory / f"lab-{count}.json"
        labgen.write(data, path)
        yield f"{count:,} VMs", path, n


def measure(server: Any, seconds: float, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "tests.bench.bench_verify", "--child", "--url", server.url]
    cmd += ["--user", server.user, "--password", server.password, "--seconds", str(seconds)]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise SystemExit(f"the verify run failed:\n{out.stdout}{out.stderr}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _kb(n: float) -> str:
    return f"{n / 1000:,.1f} kB" if n < 1e6 else f"{n / 1e6:,.2f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("--vms", type=int, nargs="*", default=[40000], help="sizes of the large labs (VMs)")
    parser.add_argument("--seconds", type=float, default=10.0, help="the verify window (default 10)")
    parser.add_argument("--runs", type=int, default=1, help="runs per lab (the median by window CPU is shown)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--user", help=argparse.SUPPRESS)
    parser.add_argument("--password", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    sys.path.insert(0, str(REPO))
    from tests.integration.conftest import build_vcsim, start_server

    binary = build_vcsim()
    print(
        f"vcsim test server, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; a {args.seconds:g} s window; "
        f"median of {args.runs} run(s)",
        flush=True,
    )
    print("| lab | switch ports | phase | requests | sent | received | client CPU | wall |")
    print("|---|---:|---|---:|---:|---:|---:|---:|", flush=True)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="dvmirror-bench-") as tmp:
        for name, lab, ports in _labs(args.vms, Path(tmp)):
            server = start_server(binary, lab)
            try:
                runs = [measure(server, args.seconds, timeout=1800) for _ in range(args.runs)]
            finally:
                server.stop()
            runs.sort(key=lambda r: r["window"]["cpu"])
            r = runs[len(runs) // 2]
            if r["code"] != 0 or r["verdict"] != "mirroring":
                raise SystemExit(f"{name}: expected mirroring (exit 0), got {r['verdict']} (exit {r['code']})")
            r.update(lab=name, ports=ports, server_startup=server.startup_seconds)
            results.append(r)
            for phase in ("inventory", "window", "rest"):
                p = r[phase]
                label = f"window ({r['readings']} readings)" if phase == "window" else phase
                print(
                    f"| {name} | {ports:,} | {label} | {p['requests']:,.0f} | {_kb(p['sent'])} | {_kb(p['received'])} "
                    f"| {p['cpu'] * 1000:,.0f} ms | {p['wall']:.2f} s |",
                    flush=True,
                )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    base = results[0]["window"]
    for r in results[1:]:
        w = r["window"]
        same = w["requests"] == base["requests"] and all(
            abs(w[k] - base[k]) <= 0.05 * base[k] for k in ("sent", "received")
        )
        if not same:
            raise SystemExit(f"the window's cost grew with the switch: {r['lab']} {w} vs {results[0]['lab']} {base}")
    print("The window's requests and bytes are the same at every size.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
