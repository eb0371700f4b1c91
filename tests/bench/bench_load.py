"""Benchmark: loading the port map from vcsim: dvmirror's loader, pyVmomi's PropertyCollector, a
naive pyVmomi walk, and the floor (the same requests, replies read and not parsed).

Run from the repository root (needs Go + govmomi for the vcsim test server, see tests/vcsim)::

    python -m tests.bench.bench_load                      # 1,000, 10,000 and 40,000 VMs
    python -m tests.bench.bench_load --vms 1000 10000     # only these sizes
    python -m tests.bench.bench_load --loaders dvmirror floor --vms 40000
    python -m tests.bench.bench_load --delay 20           # add 20 ms to every SOAP call
    python -m tests.bench.bench_load --devices 0          # VMs carrying only their NICs

For each size it writes a lab with ``python -m tests.labgen scaled --vms N``, starts the vcsim
test server on it with ``-devices 12`` (12 devices per VM, NICs included, as real VMs have), and
runs each loader in a fresh Python process (so peak RSS is the loader's own). Each child logs in
first; the figures cover the load only:

- requests: HTTP requests sent after login; received: bytes read from the socket;
- first tree: seconds until switches and portgroups are known (dvmirror's first partial inventory;
  for the others, when their switch/portgroup pass ends);
- full port map: seconds until every port row (switch, portgroup, port, VM, host) is known
  (dvmirror's port map, ``Inventory.details`` False);
- search ready: dvmirror's port map indexed for search (``LookupIndex``), as the explorer does;
- IPs filled: NIC labels and guest IPs known too (the load's end);
- client CPU (every thread) and peak RSS of the child process (interpreter and imports included).

Every loader must produce the same rows (SHA-1 of the port map's rows, and of the rows with NIC
labels), or the run fails. The naive walk runs only up to ``--naive-max`` VMs (10,000; 1,000 with
``--delay``) and is estimated linearly above from the largest size measured, as said in its row.

*naive* is performance.md §1's walk: a container view over switches, then attribute reads (each
one a SOAP call): ``dvs.name``, ``dvs.uuid``, ``dvs.portgroup``; per portgroup ``name``, ``key``,
``config``, ``vm``; per VM ``name``, ``runtime``, ``runtime.host.name`` (cached per host),
``config.hardware.device``, ``guest.net``; then ``FetchDVPorts`` per switch, all deserialized by
pyVmomi. *pyvmomi-pc* is performance.md's ``pc-ports`` and then the device lists: one container
view, paged ``RetrievePropertiesEx`` (switches, portgroups, hosts; VM name and host),
``FetchDVPorts`` per switch, then ``config.hardware.device`` and ``guest.net``, all deserialized by
pyVmomi. *floor* sends dvmirror's requests one after the other and reads each reply to its end
without parsing it (page tokens are found with a regular expression).
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
BACKEND_TIMEOUT = 120.0
"""Seconds dvmirror's loader waits on the network (``--timeout``) in this benchmark."""


# -- in the child process ------------------------------------------------------------------


def _digest(rows: list[tuple[Any, ...]]) -> str:
    h = hashlib.sha1()  # noqa: S324 - a checksum, not security
    for row in sorted(rows):
        h.update("\t".join(str(v) for v in row).encode())
        h.update(b"\n")
    return h.hexdigest()


def _map_digest(rows: list[tuple[Any, ...]]) -> str:
    """The port map's rows without the NIC label (not known before the device lists are read)."""
    return _digest([(sw, pg, port, vm, host) for sw, pg, port, vm, _nic, host in rows])


def _inventory_rows(inv: Any) -> list[tuple[Any, ...]]:
    rows = []
    for port in inv.ports.values():
        r = inv.port_row(port)
        rows.append((r["switch"], r["portgroup"], r["port"], r["vm"], r["nic"] if r["vm"] else "", r["host"]))
    return rows


def _cpu() -> float:
    return time.process_time()


def _backend(url: str, user: str, password: str) -> Any:
    from tui.backends.vsphere import VsphereBackend
    from tui.config import Settings, parse_server

    u = parse_server(url, "--server")
    # 120 s rather than the default 20 s to the first byte: on the shared 2-core machine, with other
    # jobs running, vcsim took longer than 20 s to start a 62 MB FetchDVPorts reply at 40,000 VMs.
    settings = Settings(
        server=u.host, port=u.port, scheme=u.scheme, path=u.path, user=user, password=password, timeout=BACKEND_TIMEOUT
    )
    return VsphereBackend(settings)


def run_dvmirror(url: str, user: str, password: str) -> dict[str, Any]:
    from tui.backends import LoadProgress
    from tui.lookup import LookupIndex

    wire = Wire()
    backend = _backend(url, user, password)
    started = time.perf_counter()
    backend.connect()
    connect = time.perf_counter() - started
    wire.reset()
    marks: dict[str, float] = {}
    map_rows: list[tuple[Any, ...]] = []
    t0, cpu0 = time.perf_counter(), _cpu()

    def progress(step: LoadProgress) -> None:
        inv = step.partial
        if inv is None:
            return
        marks.setdefault("first", time.perf_counter() - t0)
        if inv.ports and not inv.details and "map" not in marks:
            marks["map"] = time.perf_counter() - t0
            marks["map_cpu"] = _cpu() - cpu0
            marks["map_calls"], marks["map_received"] = wire.requests, wire.received
            LookupIndex(inv)  # what the explorer builds once the port map is shown
            marks["search"] = time.perf_counter() - t0
            map_rows.extend(_inventory_rows(inv))

    inv = backend.load(progress)
    full = time.perf_counter() - t0
    cpu = _cpu() - cpu0
    calls, received = wire.requests, wire.received
    rows = _inventory_rows(inv)
    backend.close()
    return {
        "connect": connect,
        "calls": calls,
        "received": received,
        "map_calls": marks.get("map_calls", calls),
        "map_received": marks.get("map_received", received),
        "first": marks.get("first", full),
        "map": marks.get("map", full),
        "map_cpu": marks.get("map_cpu", cpu),
        "search": marks.get("search"),
        "ips": full,
        "cpu": cpu,
        "rows": len(rows),
        "vms": len(inv.vms),
        "map_sha1": _map_digest(map_rows),
        "sha1": _digest(rows),
    }


def _pyvmomi_connect(url: str, user: str, password: str) -> Any:
    from urllib.parse import urlsplit

    from pyVim.connect import SmartConnect

    u = urlsplit(url)
    return SmartConnect(
        host=u.hostname,
        port=u.port,
        user=user,
        pwd=password,
        protocol=u.scheme,
        disableSslCertValidation=True,
        connectionPoolTimeout=-1,
    )


def run_naive(url: str, user: str, password: str) -> dict[str, Any]:
    from pyVim.connect import Disconnect
    from pyVmomi import vim

    wire = Wire()
    started = time.perf_counter()
    si = _pyvmomi_connect(url, user, password)
    content = si.RetrieveContent()
    connect = time.perf_counter() - started
    wire.reset()
    t0, cpu0 = time.perf_counter(), _cpu()
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
    cpu = _cpu() - cpu0
    calls, received = wire.requests, wire.received
    view.DestroyView()
    Disconnect(si)
    return {
        "connect": connect,
        "calls": calls,
        "received": received,
        "map_calls": calls,
        "map_received": received,
        "first": first,
        "map": full,
        "map_cpu": cpu,
        "search": None,
        "ips": full,
        "cpu": cpu,
        "rows": len(rows),
        "vms": len(vm_names),
        "map_sha1": _map_digest(rows),
        "sha1": _digest(rows),
    }


def _pc_pages(pc: Any, view: Any, paths: dict[Any, list[str]]) -> Any:
    """``(object, {path: value})`` of every object of ``view``, pyVmomi-deserialized, pages of 1,000."""
    from pyVmomi import vmodl

    PC = vmodl.query.PropertyCollector
    traverse = PC.TraversalSpec(name="view", type=type(view), path="view", skip=False)
    spec = PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
        propSet=[PC.PropertySpec(type=t, all=False, pathSet=p) for t, p in paths.items()],
    )
    result = pc.RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=1000))
    while result is not None:
        for oc in result.objects or ():
            yield oc.obj, {p.name: p.val for p in oc.propSet or ()}
        if not result.token:
            break
        result = pc.ContinueRetrievePropertiesEx(result.token)


def run_pyvmomi_pc(url: str, user: str, password: str) -> dict[str, Any]:
    """performance.md's pc-ports, then the device lists and guest IPs: one container view, paged
    RetrievePropertiesEx, FetchDVPorts per switch, all deserialized by pyVmomi."""
    from pyVim.connect import Disconnect
    from pyVmomi import vim

    wire = Wire()
    started = time.perf_counter()
    si = _pyvmomi_connect(url, user, password)
    content = si.RetrieveContent()
    connect = time.perf_counter() - started
    wire.reset()
    t0, cpu0 = time.perf_counter(), _cpu()
    pc = content.propertyCollector
    view = content.viewManager.CreateContainerView(
        content.rootFolder,
        [vim.DistributedVirtualSwitch, vim.dvs.DistributedVirtualPortgroup, vim.HostSystem, vim.VirtualMachine],
        True,
    )
    switches: dict[str, tuple[Any, str]] = {}
    pg_names: dict[str, str] = {}
    host_names: dict[str, str] = {}
    tree = {
        vim.DistributedVirtualSwitch: ["name", "uuid"],
        vim.dvs.DistributedVirtualPortgroup: ["name", "key", "config.distributedVirtualSwitch", "config.uplink"],
        vim.HostSystem: ["name"],
    }
    for obj, props in _pc_pages(pc, view, tree):
        if isinstance(obj, vim.DistributedVirtualSwitch):
            switches[props["uuid"]] = (obj, props["name"])
        elif isinstance(obj, vim.dvs.DistributedVirtualPortgroup):
            pg_names[props["key"]] = props["name"]
        else:
            host_names[obj._moId] = props["name"]
    first = time.perf_counter() - t0
    vm_names = {
        obj._moId: props["name"] for obj, props in _pc_pages(pc, view, {vim.VirtualMachine: ["name", "runtime.host"]})
    }
    ports: list[tuple[str, Any]] = []
    for dvs, name in switches.values():
        ports.extend((name, p) for p in dvs.FetchDVPorts())

    def rows_with(labels: dict[tuple[str, int], str]) -> list[tuple[Any, ...]]:
        rows = []
        for name, port in ports:
            host = host_names.get(port.proxyHost._moId, "") if port.proxyHost is not None else ""
            vm_name = nic = ""
            c = port.connectee
            if c is not None and c.type == "vmVnic" and c.connectedEntity is not None:
                vm_name = vm_names.get(c.connectedEntity._moId, "")
                nic = labels.get((c.connectedEntity._moId, int(c.nicKey)), "")
            rows.append((name, pg_names.get(port.portgroupKey, ""), port.key, vm_name, nic if vm_name else "", host))
        return rows

    map_rows = rows_with({})
    mapped, map_cpu = time.perf_counter() - t0, _cpu() - cpu0
    map_calls, map_received = wire.requests, wire.received
    labels: dict[tuple[str, int], str] = {}
    for obj, props in _pc_pages(pc, view, {vim.VirtualMachine: ["config.hardware.device", "guest.net"]}):
        for dev in props.get("config.hardware.device") or ():
            if isinstance(dev, vim.vm.device.VirtualEthernetCard):
                labels[(obj._moId, dev.key)] = dev.deviceInfo.label if dev.deviceInfo else ""
    rows = rows_with(labels)
    full, cpu = time.perf_counter() - t0, _cpu() - cpu0
    calls, received = wire.requests, wire.received
    view.DestroyView()
    Disconnect(si)
    return {
        "connect": connect,
        "calls": calls,
        "received": received,
        "map_calls": map_calls,
        "map_received": map_received,
        "first": first,
        "map": mapped,
        "map_cpu": map_cpu,
        "search": None,
        "ips": full,
        "cpu": cpu,
        "rows": len(rows),
        "vms": len(vm_names),
        "map_sha1": _map_digest(map_rows),
        "sha1": _digest(rows),
    }


def run_floor(url: str, user: str, password: str) -> dict[str, Any]:
    """dvmirror's SOAP requests, one after the other, each reply read to its end and thrown away:
    what the server and the socket cost without any parsing (tokens are found with a regex)."""
    import re

    from pyVmomi import vim, vmodl

    from tui.backends._load import PORTGROUP_PATHS, SWITCH_PATHS, VM_DETAIL_PATHS, VM_MAP_PATHS, VMWARE_SWITCH_PATHS
    from tui.backends._load import filter_spec as spec_for
    from tui.backends._soap import CHUNK

    vmware_dvs: Any = vim.VmwareDistributedVirtualSwitch  # type: ignore[attr-defined]  # missing from the stubs
    wire = Wire()
    backend = _backend(url, user, password)
    started = time.perf_counter()
    backend.connect()
    connect = time.perf_counter() - started
    wire.reset()
    raw, content = backend._raw, backend._content
    pc = content.propertyCollector
    token_re = re.compile(rb"<token>([^<]*)</token>")
    options = vmodl.query.PropertyCollector.RetrieveOptions(maxObjects=backend.page_size)

    def read(mo: Any, method: str, args: list[Any], keep: bool = False) -> bytes:
        conn, resp, _decoder, _what = raw._send(mo, method, args, None)
        head = b""
        while chunk := resp.read(CHUNK):
            if keep or len(head) < 4096:
                head += chunk
        raw._release(conn, True, None)
        return head

    def pages(spec: Any, keep: bool = False) -> bytes:
        kept = head = read(pc, "RetrievePropertiesEx", [[spec], options], keep)
        while m := token_re.search(head[:4096]):
            head = read(pc, "ContinueRetrievePropertiesEx", [m.group(1).decode()], keep)
            kept += head if keep else b""
        return kept

    t0, cpu0 = time.perf_counter(), _cpu()
    vcenter = backend._vcenter()
    view = content.viewManager.CreateContainerView(
        content.rootFolder,
        [
            vim.Datacenter,
            vim.Folder,
            vim.DistributedVirtualSwitch,
            vim.dvs.DistributedVirtualPortgroup,
            vim.HostSystem,
            vim.VirtualMachine,
        ],
        True,
    )
    tree = {
        vim.Datacenter: ["name"],
        vim.Folder: ["parent"],
        vim.DistributedVirtualSwitch: SWITCH_PATHS,
        vmware_dvs: VMWARE_SWITCH_PATHS,
        vim.dvs.DistributedVirtualPortgroup: [*PORTGROUP_PATHS, "config.uplink"],
        vim.HostSystem: ["name"],
    }
    tree_body = pages(spec_for(view, tree), keep=True)
    first = time.perf_counter() - t0
    pages(spec_for(view, {vim.VirtualMachine: VM_MAP_PATHS}))
    for moid in dict.fromkeys(re.findall(rb'<obj type="VmwareDistributedVirtualSwitch">([^<]+)</obj>', tree_body)):
        read(vmware_dvs(moid.decode(), backend._stub), "FetchPorts", [None])
    mapped, map_cpu = time.perf_counter() - t0, _cpu() - cpu0
    map_calls, map_received = wire.requests, wire.received
    pages(spec_for(view, {vim.VirtualMachine: VM_DETAIL_PATHS}))
    full, cpu = time.perf_counter() - t0, _cpu() - cpu0
    calls, received = wire.requests, wire.received
    del vcenter
    backend.close()
    return {
        "connect": connect,
        "calls": calls,
        "received": received,
        "map_calls": map_calls,
        "map_received": map_received,
        "first": first,
        "map": mapped,
        "map_cpu": map_cpu,
        "search": None,
        "ips": full,
        "cpu": cpu,
        "rows": None,
        "vms": None,
        "map_sha1": None,
        "sha1": None,
    }


LOADERS = {"dvmirror": run_dvmirror, "pyvmomi-pc": run_pyvmomi_pc, "floor": run_floor, "naive": run_naive}


def child(args: argparse.Namespace) -> int:
    result = LOADERS[args.child](args.url, args.user, args.password)
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
    return f"{n / 1e6:.1f} MB"


def _s(v: float | None) -> str:
    return "" if v is None else f"{v:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--vms", type=int, nargs="+", default=[1000, 10000, 40000], help="lab sizes (VMs)")
    parser.add_argument(
        "--loaders", nargs="+", default=list(LOADERS), choices=list(LOADERS), help="which loaders to run"
    )
    parser.add_argument(
        "--naive-max",
        type=int,
        help="run the naive walk only up to this many VMs, estimate it above (10,000; 1,000 with --delay)",
    )
    parser.add_argument(
        "--pc-max", type=int, default=40000, help="run pyVmomi's PropertyCollector only up to this many VMs"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per loader and size (the median is shown)")
    parser.add_argument("--delay", type=int, default=0, help="milliseconds vcsim adds to every SOAP call")
    parser.add_argument(
        "--devices", type=int, default=12, help="devices per VM, NICs included, as real VMs have (vcsim -devices)"
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--child", choices=list(LOADERS), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--user", help=argparse.SUPPRESS)
    parser.add_argument("--password", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    naive_max = args.naive_max if args.naive_max is not None else (1000 if args.delay else 10000)

    sys.path.insert(0, str(REPO))
    from tests.integration.conftest import build_vcsim, start_server

    binary = build_vcsim()
    results: list[dict[str, Any]] = []
    print(
        f"vcsim test server, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, delay {args.delay} ms, "
        f"{args.devices} devices per VM; medians of {args.repeat}; load: {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    print(
        "| VMs | ports | loader | requests | received | first tree | full port map | search ready | IPs filled "
        "| client CPU | peak RSS | map/floor | naive/this |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    naive_seen: tuple[int, dict[str, Any]] | None = None
    with tempfile.TemporaryDirectory(prefix="dvmirror-bench-") as tmp:
        for vms in args.vms:
            lab = Path(tmp) / f"lab-{vms}.json"
            subprocess.run(
                [sys.executable, "-m", "tests.labgen", "scaled", "--vms", str(vms), str(lab)], cwd=REPO, check=True
            )
            server = start_server(binary, lab, delay=args.delay, args=("-devices", str(args.devices)), timeout=900)
            try:
                by_loader: dict[str, dict[str, Any]] = {}
                for approach in args.loaders:
                    if (approach == "naive" and vms > naive_max) or (approach == "pyvmomi-pc" and vms > args.pc_max):
                        continue
                    runs = [measure(approach, server, timeout=3600) for _ in range(args.repeat)]
                    runs.sort(key=lambda r: r["map"])
                    r = runs[len(runs) // 2]
                    r.update(vms=vms, loader=approach, delay=args.delay, server_startup=server.startup_seconds)
                    by_loader[approach] = r
                    results.append(r)
                if "naive" in by_loader:
                    naive_seen = (vms, by_loader["naive"])
                elif "naive" in args.loaders and naive_seen is not None:
                    seen_vms, seen = naive_seen
                    scale = vms / seen_vms
                    by_loader["naive"] = {
                        "estimated_from": seen_vms,
                        "rows": None,
                        "calls": round(seen["calls"] * scale),
                        "received": seen["received"] * scale,
                        "first": None,
                        "map": seen["map"] * scale,
                        "search": None,
                        "ips": seen["ips"] * scale,
                        "cpu": seen["cpu"] * scale,
                        "peak_rss_mb": None,
                    }
                base = by_loader.get("dvmirror")
                floor = by_loader.get("floor")
                naive = by_loader.get("naive")
                for approach, r in by_loader.items():
                    est = r.get("estimated_from")
                    name = f"{approach} (estimated from {est:,} VMs)" if est else approach
                    to_floor = f"{r['map'] / floor['map']:.2f}x" if floor and approach != "floor" else ""
                    to_naive = f"{naive['map'] / r['map']:.1f}x" if naive and approach != "naive" else ""
                    rss = f"{r['peak_rss_mb']:.0f} MB" if r.get("peak_rss_mb") else ""
                    print(
                        f"| {vms:,} | {format(r['rows'], ',') if r['rows'] else ''} | {name} | {r['calls']:,} "
                        f"| {_mb(r['received'])} "
                        f"| {_s(r['first'])} | {_s(r['map'])} | {_s(r['search'])} | {_s(r['ips'])} "
                        f"| {_s(r['cpu'])} | {rss} | {to_floor} | {to_naive} |",
                        flush=True,
                    )
                    same = (r.get("map_sha1"), r.get("sha1"), r.get("rows")) == (
                        (base["map_sha1"], base["sha1"], base["rows"]) if base else (None, None, None)
                    )
                    if base and r.get("sha1") and not est and not same:
                        raise SystemExit(f"{approach} and dvmirror disagree at {vms} VMs: {r} vs {base}")
            finally:
                server.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
