"""Start-up and responsiveness of the explorer and the CLI, on the demo lab and at vCenter's maxima.

    python tests/bench/bench_startup.py            # demo lab and 40,000 VMs / ~50,000 ports
    python tests/bench/bench_startup.py --vms 10000 --runs 5

Prints a table; asserts nothing. Figures:

- *first frame (tmux)*: from launching ``dvmirror --snapshot LAB`` in a real tmux pane until the
  tree's first switch is on screen (polling ``tmux capture-pane`` every 10 ms), median of runs.
- *inventory shown / search ready*: the same in a headless Textual run, from process start.
- *key*: mean CPU time of a cursor-down in the tree; *expand*: CPU time to open a portgroup;
  *search*: one index search for a VM name; *find → jump*: enter in ``/`` until the port is
  selected in the tree, table and detail.
- *find CLI*: wall time of ``dvmirror find 2258 --snapshot LAB --json``, and peak RSS of each process;
  *json.load*: wall time of a Python process that only ``json.load``s the same file (issue 12's floor).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests import labgen  # noqa: E402

VM_HWM = """
def vm_hwm():
    # Peak RSS of this process image (ru_maxrss would include the parent's before exec).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

CLI_RSS = (
    VM_HWM
    + """
import contextlib, io, sys
from tui.__main__ import main
with contextlib.redirect_stdout(io.StringIO()):
    main(["find", "2258", "--snapshot", sys.argv[1], "--json"])
print(vm_hwm())
"""
)

HEADLESS = (
    VM_HWM
    + r"""
import asyncio, json, sys, time
t0 = float(sys.argv[2])
from pathlib import Path
from tui.app import build_app
from tui.backends.snapshot import SnapshotBackend
from widgets.inventory_tree import InventoryTree

async def main():
    app = build_app(SnapshotBackend(Path(sys.argv[1])), environ={})
    out = {}
    async with app.run_test(size=(120, 40)) as pilot:
        while app.inventory is None:
            await asyncio.sleep(0.002)
        out["shown"] = time.time() - t0
        while app.index is None:
            await asyncio.sleep(0.002)
        out["ready"] = time.time() - t0
        for _ in range(5):
            await pilot.pause()
        tree = app.screen.query_one(InventoryTree)
        tree.focus()
        # CPU time, not wall time: Pilot's own waiting would dominate a wall clock.
        t = time.process_time()
        for _ in range(20):
            await pilot.press("down")
        await pilot.pause(0.2)
        out["key"] = (time.process_time() - t) / 20
        t = time.process_time()
        await pilot.press("enter")
        await pilot.pause()
        out["expand"] = time.process_time() - t
        vm = sys.argv[3]
        t = time.perf_counter()
        hits = app.index.search(vm)
        out["search"] = time.perf_counter() - t
        await pilot.press("slash", *vm)
        await pilot.pause(0.3)
        t = time.perf_counter()
        await pilot.press("enter")
        for _ in range(3):
            await pilot.pause()
        port = app.screen.current_port
        out["jump"] = time.perf_counter() - t
        out["found"] = port.key if port and port.key == hits[0].port.key else None
    out["rss_mb"] = vm_hwm()
    print(json.dumps(out))

asyncio.run(main())
"""
)


def dvmirror() -> list[str]:
    exe = Path(sys.executable).with_name("dvmirror")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "tui"]


def first_frame_tmux(lab: Path, marker: str) -> float | None:
    """Seconds until ``marker`` shows in a real tmux pane running the explorer."""
    if not shutil.which("tmux"):
        return None
    session = f"dvbench{os.getpid()}"
    cmd = " ".join([*dvmirror(), "--snapshot", str(lab)])
    start = time.perf_counter()
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", cmd], check=True)
    try:
        while time.perf_counter() - start < 60:
            pane = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
            if marker in pane:
                return time.perf_counter() - start
            time.sleep(0.01)
        return None
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def headless(lab: Path, vm: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-c", HEADLESS, str(lab), repr(time.time()), vm],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=REPO,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def json_load(lab: Path) -> float:
    """Wall time of a Python process that only ``json.load``s the lab (the floor ``find`` is held to)."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import json, sys; json.load(open(sys.argv[1]))", str(lab)], check=True)
    return time.perf_counter() - t


def find_cli(lab: Path) -> tuple[float, float]:
    """Wall time of the real console script, and peak RSS of the same command run in Python."""
    t = time.perf_counter()
    subprocess.run([*dvmirror(), "find", "2258", "--snapshot", str(lab), "--json"], check=True, capture_output=True)
    wall = time.perf_counter() - t
    env = dict(os.environ, PYTHONPATH=str(REPO))
    rss = subprocess.run([sys.executable, "-c", CLI_RSS, str(lab)], capture_output=True, text=True, env=env, check=True)
    return wall, float(rss.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vms", type=int, default=40000, help="VMs of the large lab (default 40,000)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.json"
        t = time.perf_counter()
        data = labgen.scaled_lab(args.vms)
        labgen.write(data, big)
        ports = len(data["ports"])
        took, size = time.perf_counter() - t, big.stat().st_size / 1e6
        print(f"generated {args.vms:,} VMs / {ports:,} ports in {took:.1f} s ({size:.0f} MB)")
        labs = [
            ("demo lab", labgen.DEMO_PATH, "dvSwitchCloud", "MGTSRVR003UX"),
            (f"{args.vms:,} VMs", big, "dvSwitch01", "vm-00399"),
        ]
        rows = []
        for name, lab, marker, vm in labs:
            frames = [f for f in (first_frame_tmux(lab, marker) for _ in range(args.runs)) if f is not None]
            runs = [headless(lab, vm) for _ in range(args.runs)]
            clis = [find_cli(lab) for _ in range(args.runs)]
            floors = [json_load(lab) for _ in range(args.runs)]

            def med(key: str, runs: list[dict[str, float]] = runs) -> float:
                return statistics.median(r[key] for r in runs)

            rows.append(
                (
                    name,
                    f"{statistics.median(frames):.2f} s" if frames else "n/a",
                    f"{med('shown'):.2f} s",
                    f"{med('ready'):.2f} s",
                    f"{med('key') * 1000:.0f} ms",
                    f"{med('expand') * 1000:.0f} ms",
                    f"{med('search') * 1000:.0f} ms",
                    f"{med('jump') * 1000:.0f} ms",
                    f"{med('rss_mb'):.0f} MB",
                    f"{statistics.median(c[0] for c in clis):.2f} s",
                    f"{statistics.median(floors):.2f} s",
                    f"{max(c[1] for c in clis):.0f} MB",
                )
            )
            assert all(r["found"] for r in runs), f"find did not reach a port on {name}"
    header = (
        "lab",
        "first frame (tmux)",
        "inventory shown",
        "search ready",
        "key (CPU)",
        "expand (CPU)",
        "search",
        "find → jump",
        "TUI peak RSS",
        "find CLI",
        "json.load",
        "CLI peak RSS",
    )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print(f"(median of {args.runs} runs; Python {sys.version.split()[0]}, {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
