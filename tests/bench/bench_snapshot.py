"""Benchmark: reading and writing snapshots, and encoding ``--json``, at 10,000 and 40,000 VMs.

Run from the repository root::

    python -m tests.bench.bench_snapshot                       # 10,000 and 40,000 VMs, 3 runs
    python -m tests.bench.bench_snapshot --vms 1000 --runs 5
    python -m tests.bench.bench_snapshot --baseline d5ffde6    # the hand-written reader to compare

For each size it writes a lab with ``tests.labgen.scaled_lab`` (one host and one portgroup per
50 VMs, 2 switches, one NIC per VM), then runs each loader in a fresh Python process (so that its
peak RSS is its own) and prints the fastest and the median run, the least CPU time, and the
median peak RSS (and how much it grew during the load):

- *json.loads* and *msgspec (untyped)*: only parse the file into dicts and lists (the floors);
- *hand-written (REV)*: ``SnapshotBackend.load`` of ``tui/backends/snapshot.py`` as it was at git
  revision REV (``json.loads``, then a reader that checks every field by hand), run against
  today's model;
- *dvmirror*: today's ``SnapshotBackend.load`` (``msgspec`` decodes into the format's Structs,
  ``tui/backends/snapshot_format.py``, which are converted to the model);
- *dvmirror, gc paused*: the same with Python's cyclic garbage collector off (issue 12 §3: most
  of the conversion's time is the collector scanning the growing inventory).

The readers must give the same inventory (compared field by field) or the run stops.

Then, in one process on the loaded inventory (the fastest of the runs): writing the snapshot (``save_inventory`` of REV
and of today), and the ``--json`` output of ``dvmirror ports`` (every port row) with
``json.dumps(indent=2)`` (``tui.text.json_text``) and with ``msgspec`` (``tui.cli.emit_json``).
Figures, not assertions: absolute times move with the machine's load; compare within a size.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BASELINE = "d5ffde6"
"""The last revision whose snapshot reader was hand-written."""
LOADERS = ("json.loads", "msgspec (untyped)", "hand-written", "dvmirror", "dvmirror, gc paused")


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def baseline_module(rev: str, folder: Path) -> ModuleType:
    """``tui/backends/snapshot.py`` at ``rev``, imported as a module of its own."""
    source = subprocess.run(
        ["git", "show", f"{rev}:tui/backends/snapshot.py"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    path = folder / f"snapshot_{rev}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"_snapshot_{rev}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- in the child process ------------------------------------------------------------------


def child(loader: str, lab: Path, rev: str, folder: Path) -> dict[str, Any]:
    """Load ``lab`` with ``loader``; the time and memory of that alone."""
    import msgspec  # noqa: F401 - imported before the clock starts, as tui imports it

    from tui.backends import snapshot

    old = baseline_module(rev, folder) if loader == "hand-written" else None
    before = _rss_kib("VmRSS")
    cpu = time.process_time()
    start = time.perf_counter()
    if loader == "json.loads":
        result: Any = json.loads(lab.read_bytes())
    elif loader == "msgspec (untyped)":
        result = msgspec.json.decode(lab.read_bytes())
    elif old is not None:
        result = old.SnapshotBackend(lab).load()
    elif loader == "dvmirror":
        result = snapshot.SnapshotBackend(lab).load()
    else:
        gc.disable()
        result = snapshot.SnapshotBackend(lab).load()
        gc.enable()
    seconds = time.perf_counter() - start
    out: dict[str, Any] = {
        "seconds": seconds,
        "cpu": time.process_time() - cpu,
        "peak_mib": _rss_kib("VmHWM") / 1024,
        "grew_mib": (_rss_kib("VmHWM") - before) / 1024,
    }
    if loader != "json.loads" and loader != "msgspec (untyped)":
        out["digest"] = _digest(result)
    return out


def _digest(inv: Any) -> str:
    """A fingerprint of every field of the inventory (model objects compare by value)."""
    import hashlib

    parts = (inv.vcenter, inv.datacenters, inv.hosts, inv.switches, inv.portgroups, inv.ports, inv.vms)
    return hashlib.sha1(repr(parts).encode()).hexdigest()


def encode_child(lab: Path, rev: str, folder: Path, runs: int) -> dict[str, float]:
    """Writing the snapshot and ``ports --json``, old and new, on one loaded inventory."""
    from tui import cli
    from tui.backends import snapshot
    from tui.text import json_text

    old = baseline_module(rev, folder)
    inv = snapshot.SnapshotBackend(lab).load()
    rows = [inv.port_row(p) for p in inv.ports.values()]
    out: dict[str, list[float]] = {k: [] for k in ("save hand-written", "save dvmirror", "json.dumps", "msgspec")}
    texts: dict[str, str] = {}
    for _ in range(runs):
        for name, save in (("save hand-written", old.save_inventory), ("save dvmirror", snapshot.save_inventory)):
            target = folder / f"{name.split()[-1]}.json"
            start = time.perf_counter()
            save(inv, target)
            out[name].append(time.perf_counter() - start)
        start = time.perf_counter()
        texts["json.dumps"] = json_text(rows, indent=2) + "\n"
        out["json.dumps"].append(time.perf_counter() - start)
        buffer = io.StringIO()
        start = time.perf_counter()
        cli.emit_json(rows, buffer)
        out["msgspec"].append(time.perf_counter() - start)
        texts["msgspec"] = buffer.getvalue()
    saved = [json.loads((folder / f"{n}.json").read_text(encoding="utf-8")) for n in ("hand-written", "dvmirror")]
    for data in saved:
        data.pop("saved")
    if saved[0] != saved[1]:
        raise SystemExit("the two writers wrote different snapshots")
    written = [
        re.sub(rb'"saved": "[^"]*"', b"", (folder / f"{n}.json").read_bytes()) for n in ("hand-written", "dvmirror")
    ]
    same_bytes = written[0] == written[1]
    result = {k: min(v) for k, v in out.items()}
    result["same --json text"] = float(texts["json.dumps"] == texts["msgspec"])
    result["same snapshot bytes"] = float(same_bytes)
    result["rows"] = float(len(rows))
    result["json MB"] = len(texts["msgspec"].encode()) / 1e6
    return result


# -- the parent ----------------------------------------------------------------------------


def _run_child(*args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    r = subprocess.run(
        [sys.executable, "-m", "tests.bench.bench_snapshot", *args], cwd=REPO, capture_output=True, text=True, env=env
    )
    if r.returncode != 0:
        raise SystemExit(f"child {args[:2]} failed:\n{r.stderr}")
    result: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vms", type=int, nargs="+", default=[10_000, 40_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the hand-written reader")
    parser.add_argument("--child", nargs=2, metavar=("LOADER", "LAB"), help=argparse.SUPPRESS)
    parser.add_argument("--encode", metavar="LAB", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]), args.baseline, Path(args.folder))))
        return 0
    if args.encode:
        print(json.dumps(encode_child(Path(args.encode), args.baseline, Path(args.folder), args.runs)))
        return 0

    from tests import labgen

    print(f"hand-written = tui/backends/snapshot.py at {args.baseline}; {args.runs} runs, a fresh process each;")
    print("ratios of the fastest runs (the machine's other load only ever adds time)")
    with tempfile.TemporaryDirectory(prefix="dvmirror-bench-") as tmp:
        folder = Path(tmp)
        for vms in args.vms:
            lab = folder / f"lab{vms}.json"
            labgen.write(labgen.scaled_lab(vms), lab)
            size = lab.stat().st_size / 1e6
            print(f"\n{vms:,} VMs, {size:.1f} MB")
            heads = ("load (min)", "(median)", "CPU (min)", "peak RSS", "RSS grew")
            print(f"  {'loader':<24} " + " ".join(f"{h:>10}" for h in heads))
            figures: dict[str, dict[str, float]] = {}
            digests: set[str] = set()
            for loader in LOADERS:
                runs = [
                    _run_child("--child", loader, str(lab), "--baseline", args.baseline, "--folder", tmp)
                    for _ in range(args.runs)
                ]
                digests |= {r["digest"] for r in runs if "digest" in r}
                f = {k: statistics.median(r[k] for r in runs) for k in ("seconds", "peak_mib", "grew_mib")}
                f["min"] = min(r["seconds"] for r in runs)
                f["cpu"] = min(r["cpu"] for r in runs)
                figures[loader] = f
                label = f"hand-written ({args.baseline})" if loader == "hand-written" else loader
                print(f"  {label:<24} {f['min']:>9.3f}s {f['seconds']:>9.3f}s {f['cpu']:>9.3f}s"
                      f" {f['peak_mib']:>7.0f} MB {f['grew_mib']:>7.0f} MB")  # fmt: skip
            if len(digests) != 1:
                raise SystemExit("the two readers gave different inventories")
            for what in ("min", "cpu"):
                old, new = figures["hand-written"][what], figures["dvmirror"][what]
                floor = figures["json.loads"][what]
                print(f"  dvmirror ({'wall' if what == 'min' else 'CPU'}): {old / new:.1f}x faster than the"
                      f" hand-written reader; {new / floor:.2f}x json.loads")  # fmt: skip
            e = _run_child("--encode", str(lab), "--baseline", args.baseline, "--folder", tmp, "--runs", str(args.runs))
            old, new = e["save hand-written"], e["save dvmirror"]
            print(f"  save snapshot: hand-written {old:.3f}s, dvmirror {new:.3f}s ({old / new:.1f}x);"
                  f" same bytes: {bool(e['same snapshot bytes'])}")  # fmt: skip
            print(f"  ports --json ({e['rows']:,.0f} rows, {e['json MB']:.1f} MB): json.dumps {e['json.dumps']:.3f}s,"
                  f" msgspec {e['msgspec']:.3f}s ({e['json.dumps'] / e['msgspec']:.1f}x); same text: "
                  f"{bool(e['same --json text'])}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
