"""Benchmark: loading the port map from vcsim, dvmirror's loader against a naive pyVmomi walk.

Run from the repository root (needs Go + govmomi for the vcsim test server, see tests/vcsim)::

    python -m tests.bench.bench_load                      # 100, 1,000 and 10,000 VMs
    python -m tests.bench.bench_load --vms 100 1000       # only these sizes
    python -m tests.bench.bench_load --no-naive --vms 40000
    python -m tests.bench.bench_load --delay 2            # add 2 ms to every SOAP call

For each size it writes a lab with ``python -m tests.labgen scaled --vms N``, starts the vcsim
test server on it, and runs each loader in a fresh Python process (so peak RSS is the loader's
own). Each child logs in first; the figures cover the load only:

- SOAP calls: HTTP requests sent after login; received: bytes read from the socket;
- first tree: seconds until switches and portgroups are known (dvmirror's partial inventory;
  for the naive walk, when its switch/portgroup pass ends);
- full map: seconds until every port row (switch, portgroup, port, VM, NIC, host) is known;
- peak RSS of the child process (interpreter and imports included, about 30 MB).

Both loaders must produce the same rows (same SHA-1), or the run fails.

The naive walk is performance.md §1's: a container view over switches, then attribute reads
(each one a SOAP call): ``dvs.name``, ``dvs.uuid``, ``dvs.portgroup``; per portgroup ``name``,
``key``, ``config``, ``vm``; per VM ``name``, ``runtime``, ``runtime.host.name`` (cached per
host), ``config.hardware.device``, ``guest.net``; then ``FetchDVPorts`` per switch, all
deserialized by pyVmomi.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench.wire import Wire

REPO = Path(__file__).resolve().parents[2]


# -- in the child process ------------------------------------------------------------------


def _digest(rows: list[tuple[Any, ...]]) -> str:
    h = hashlib.sha1()  # noqa: S324 - a checksum, not security
    for row in sorted(rows):
        h.update("\t".join(str(v) for v in row).encode())
        h.update(b"\n")
    return h.hexdigest()


def run_dvmirror(url: str, user: str, password: str) -> dict[str, Any]:
    from tui.backends import LoadProgress
    from tui.backends.vsphere import VsphereBackend
    from tui.config import Settings, parse_server

    wire = Wire()
    u = parse_server(url, "--server")
    backend = VsphereBackend(
        Settings(server=u.host, port=u.port, scheme=u.scheme, path=u.path, user=user, password=password)
    )
    started = time.perf_counter()
    backend.connect()
    connect = time.perf_counter() - started
    wire.reset()
    first: list[float] = []
    t0 = time.perf_counter()

    def progress(step: LoadProgress) -> None:
        if step.partial is not None and not first:
            first.append(time.perf_counter() - t0)

    inv = backend.load(progress)
    full = time.perf_counter() - t0
    calls, received = wire.requests, wire.received
    rows = []
    for port in inv.ports.values():
        r = inv.port_row(port)
        rows.append((r["switch"], r["portgroup"], r["port"], r["vm"], r["nic"] if r["vm"] else "", r["host"]))
    backend.close()
    return {
        "connect": connect,
        "calls": calls,
        "received": received,
        "first": first[0] if first else full,
        "full": full,
        "rows": len(rows),
        "vms": len(inv.vms),
        "sha1": _digest(rows),
    }


def run_naive(url: str, user: str, password: str) -> dict[str, Any]:
    from urllib.parse import urlsplit

    from pyVim.connect import Disconnect, SmartConnect
    from pyVmomi import vim

    wire = Wire()
    u = urlsplit(url)
    started = time.perf_counter()
    si = SmartConnect(
        host=u.hostname,
        port=u.port,
        user=user,
        pwd=password,
        protocol=u.scheme,
        disableSslCertValidation=True,
        connectionPoolTimeout=-1,
    )
    content = si.RetrieveContent()
    connect = time.perf_counter() - started
    wire.reset()
    t0 = time.perf_counter()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
    switches = []
    for dvs in view.view:
        pgs = []
        for pg in dvs.portgroup:
            config = pg.config  # uplink flag and VLAN, as a tree would show them
            pgs.append((pg, pg.name, pg.key, config.uplink))
        switches.append((dvs, dvs.name, dvs.uuid, pgs))
    first = time.perf_counter() - t0
    host_names: dict[str, str] = {}
    nic_label: dict[tuple[str, int], str] = {}
    vm_names: dict[str, str] = {}
    for _dvs, _name, _uuid, pgs in switches:
        for pg, _pg_name, _key, _uplink in pgs:
            for vm in pg.vm:
                moid = vm._moId
                if moid in vm_names:
                    continue
                vm_names[moid] = vm.name
                runtime = vm.runtime
                host = runtime.host
                if host is not None and host._moId not in host_names:
                    host_names[host._moId] = host.name
                for dev in vm.config.hardware.device:
                    if isinstance(dev, vim.vm.device.VirtualEthernetCard):
                        nic_label[(moid, dev.key)] = dev.deviceInfo.label if dev.deviceInfo else ""
                _ips = [n.ipAddress for n in (vm.guest.net or [])]
    rows = []
    for _dvs, name, _uuid, pgs in switches:
        pg_names = {key: pg_name for _pg, pg_name, key, _uplink in pgs}
        for port in _dvs.FetchDVPorts():
            host = ""
            if port.proxyHost is not None:
                hid = port.proxyHost._moId
                if hid not in host_names:
                    host_names[hid] = port.proxyHost.name
                host = host_names[hid]
            vm_name = nic = ""
            c = port.connectee
            if c is not None and c.type == "vmVnic" and c.connectedEntity is not None:
                vm_name = vm_names.get(c.connectedEntity._moId, "")
                nic = nic_label.get((c.connectedEntity._moId, int(c.nicKey)), "")
            rows.append((name, pg_names.get(port.portgroupKey, ""), port.key, vm_name, nic if vm_name else "", host))
    full = time.perf_counter() - t0
    calls, received = wire.requests, wire.received
    view.DestroyView()
    Disconnect(si)
    return {
        "connect": connect,
        "calls": calls,
        "received": received,
        "first": first,
        "full": full,
        "rows": len(rows),
        "vms": len(vm_names),
        "sha1": _digest(rows),
    }


def child(args: argparse.Namespace) -> int:
    run = run_dvmirror if args.child == "dvmirror" else run_naive
    result = run(args.url, args.user, args.password)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))
    return 0


# -- the driver ----------------------------------------------------------------------------


def measure(approach: str, server: Any, timeout: float) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "tests.bench.bench_load",
        "--child",
        approach,
        "--url",
        server.url,
        "--user",
        server.user,
        "--password",
        server.password,
    ]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise SystemExit(f"{approach} failed:\n{out.stdout}{out.stderr}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _mb(n: float) -> str:
    return f"{n / 1e6:.2f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--vms", type=int, nargs="+", default=[100, 1000, 10000], help="lab sizes (VMs)")
    parser.add_argument("--naive", action=argparse.BooleanOptionalAction, default=True, help="also run the naive walk")
    parser.add_argument("--repeat", type=int, default=1, help="runs per loader and size (the median is shown)")
    parser.add_argument("--delay", type=int, default=0, help="milliseconds vcsim adds to every SOAP call")
    parser.add_argument(
        "--devices", type=int, default=12, help="devices per VM, NICs included, as real VMs have (vcsim -devices)"
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--child", choices=["dvmirror", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--user", help=argparse.SUPPRESS)
    parser.add_argument("--password", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    sys.path.insert(0, str(REPO))
    from tests.integration.conftest import build_vcsim, start_server

    binary = build_vcsim()
    results: list[dict[str, Any]] = []
    print(
        f"vcsim test server, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, delay {args.delay} ms; "
        f"medians of {args.repeat}",
        flush=True,
    )
    header = "| VMs | ports | loader | SOAP calls | received | first tree | full port map | peak RSS | naive/dvmirror |"
    print(header)
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|", flush=True)
    with tempfile.TemporaryDirectory(prefix="dvmirror-bench-") as tmp:
        for vms in args.vms:
            lab = Path(tmp) / f"lab-{vms}.json"
            subprocess.run(
                [sys.executable, "-m", "tests.labgen", "scaled", "--vms", str(vms), str(lab)], cwd=REPO, check=True
            )
            server = start_server(binary, lab, delay=args.delay, args=("-devices", str(args.devices)))
            try:
                by_loader: dict[str, dict[str, Any]] = {}
                for approach in ["dvmirror"] + (["naive"] if args.naive else []):
                    runs = [measure(approach, server, timeout=3600) for _ in range(args.repeat)]
                    runs.sort(key=lambda r: r["full"])
                    r = runs[len(runs) // 2]
                    r.update(vms=vms, loader=approach, server_startup=server.startup_seconds)
                    by_loader[approach] = r
                    results.append(r)
                base = by_loader["dvmirror"]
                for approach, r in by_loader.items():
                    ratio = f"{r['full'] / base['full']:.1f}x" if approach != "dvmirror" else ""
                    print(
                        f"| {vms:,} | {r['rows']:,} | {approach} | {r['calls']:,} | {_mb(r['received'])} "
                        f"| {r['first']:.2f} s | {r['full']:.2f} s | {r['peak_rss_mb']:.0f} MB | {ratio} |",
                        flush=True,
                    )
                    if r["sha1"] != base["sha1"] or r["rows"] != base["rows"]:
                        raise SystemExit(f"{approach} and dvmirror disagree at {vms} VMs: {r} vs {base}")
            finally:
                server.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
