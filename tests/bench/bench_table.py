"""The explorer's port table on big selections: a 1,600-port portgroup and a 25,000-port switch.

    python tests/bench/bench_table.py                      # 24,000 VMs: 15 portgroups of 1,600, a 25,000-port switch
    python tests/bench/bench_table.py --runs 5 --baseline 672cf0a   # and that commit's explorer, interleaved

Prints a table; asserts nothing. Each figure is the median of the runs, measured headless (Pilot,
120x40) in a fresh process per run, from the key press: *settled* (wall) until the table lists the
new rows with nothing left to do (no debounce timer pending, the columns fitted to every row, DataTable
idle) and Pilot has seen the app idle; *CPU*, the process's CPU time over the same span; *first
frame*, until the first frame drawn with the new rows in the table. Pilot's own cost is the first
line (a key bound to nothing). Steps:

- *onto the switch*: cursor down from the datacenter node onto the switch (25,000 ports).
- *onto a portgroup*: cursor down from one 1,600-port portgroup onto the next.
- *G*: in the table of the whole switch (the last row, scrolled into view).
- *s on its last row*: mark it (the Mirror cell drawn again, the marks bar); not run when that row is
  an uplink (which cannot be marked), as in the 500-row table before issue 12.
- *filter*: ``PortTable.set_filter`` over the whole switch, a VM name found in one row (CPU only).
- *stock DataTable*: a plain Textual ``DataTable`` given the switch's 25,000 rows (8 text columns)
  with ``add_rows``, until idle: what listing every row costs a table that makes every row.

``--baseline COMMIT`` runs that commit's files (``git archive``) too, in the same loop.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests import labgen  # noqa: E402

HEADLESS = r"""
import asyncio, json, sys, time
from pathlib import Path
from textual.app import App
from textual.widgets import DataTable
from tui.app import build_app
from tui.backends.snapshot import SnapshotBackend
from widgets.inventory_tree import InventoryTree, NodeRef
import widgets.port_table
from widgets.port_table import PortTable

CAP = getattr(widgets.port_table, "MAX_ROWS", 10**9)  # before issue 12: the first 500 rows only


def pending(table):
    # The columns not yet fitted to every row (the table fits them to the rows on screen first), or
    # stock DataTable measuring its cells on idle.
    return getattr(table, "measuring", False) or table._require_update_dimensions


async def until(pilot, cond, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not cond():
        await pilot.pause()
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {cond.__doc__ or cond}")
    await pilot.pause()


FIRST = {"shown": lambda: True, "at": None}


def count_frames(screen):
    # Note the first frame drawn once FIRST["shown"]() holds (headless runs draw frames too, to no terminal).
    draw = screen._compositor_refresh

    def drawn():
        draw()
        if FIRST["at"] is None and FIRST["shown"]():
            FIRST["at"] = time.perf_counter()

    screen._compositor_refresh = drawn


async def measure(pilot, keys, cond, shown=None):
    # (wall until settled, CPU until settled, wall until the first frame showing the new rows)
    FIRST.update(shown=shown or cond, at=None)
    w, c = time.perf_counter(), time.process_time()
    await pilot.press(*keys)
    await until(pilot, cond)
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    return wall, cpu, (FIRST["at"] or w + wall) - w


async def main():
    app = build_app(SnapshotBackend(Path(sys.argv[1])), environ={})
    out = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.index is not None)
        screen = app.explorer
        tree = screen.query_one(InventoryTree)
        table = screen.query_one("#ports", PortTable)
        inv = app.inventory
        sw = next(iter(inv.switches))
        pgs = sorted((k for k in inv.ports_by_portgroup if len(inv.ports_by_portgroup[k]) == 1600),
                     key=lambda k: inv.portgroups[k].name)
        n_switch = len(inv.ports_by_switch[sw])
        tree.focus()
        count_frames(screen)

        def listed(kind, key, n):
            return lambda: screen._listing == (kind, key) and len(table.ports) == min(n, CAP)

        def listing(kind, key, n):
            # The table lists them (the debounce timer fired), with nothing left to measure.
            return lambda: listed(kind, key, n)() and not pending(table)

        async def select(ref, then=lambda: True):
            assert tree.select_ref(ref), ref
            await until(pilot, lambda: tree.cursor_node is not None and tree.cursor_node.data == ref and then())

        # Pilot's own cost: a key nothing is bound to, until idle.
        out["pilot"] = await measure(pilot, ["f19"], lambda: True)
        # Onto the switch: from a portgroup's table to the datacenter node (the table stays), then down.
        await select(NodeRef("portgroup", switch=sw, portgroup=pgs[0]), listing("portgroup", pgs[0], 1600))
        dc = tree.cursor_node.parent.parent.data
        await select(dc)
        out["switch"] = await measure(pilot, ["down"], listing("switch", sw, n_switch), listed("switch", sw, n_switch))
        # End in the switch's table, then s on the last row.
        table.focus()
        await pilot.pause()
        shown = len(table.ports)
        out["end"] = await measure(pilot, ["G"], lambda: table.cursor_row == shown - 1
                                   and table.scroll_offset.y > 0 and screen.current_port is table.ports[-1])
        mirror = table.layout_now.keys.index("mirror")
        if inv.vm_nic(table.ports[-1]) is not None:  # an uplink cannot be marked (the capped table ends on one)
            out["mark"] = await measure(pilot, ["s"], lambda: "[src" in str(table.get_row_at(shown - 1)[mirror]))
        name = inv.vm_nic(table.listed[n_switch // 2])[0].name
        c = time.process_time()
        table.set_filter(name)
        await until(pilot, lambda: not pending(table))
        out["filter"] = time.process_time() - c
        out["filter_rows"] = len(table.ports)
        table.set_filter("")
        await until(pilot, lambda: not pending(table))
        # Onto a portgroup: from one 1,600-port portgroup down to the next.
        tree.focus()
        siblings = [n.data.portgroup for n in tree.find_node(NodeRef("switch", switch=sw)).children]
        first = next(k for i, k in enumerate(siblings[:-1]) if k in pgs and siblings[i + 1] in pgs)
        await select(NodeRef("portgroup", switch=sw, portgroup=first), listing("portgroup", first, 1600))
        nxt = siblings[siblings.index(first) + 1]
        done, shown = listing("portgroup", nxt, 1600), listed("portgroup", nxt, 1600)
        out["portgroup"] = await measure(pilot, ["down"], done, shown)
        rows = [[p.key, (vn := inv.vm_nic(p)) and vn[0].name or "", vn and vn[1].label or "", inv.host_name(p.host),
                 "up" if p.link_up else "free", "", p.mac, vn and ", ".join(vn[1].ips) or ""]
                for p in inv.ports_by_switch[sw]]

    class Stock(App):
        def compose(self):
            yield DataTable()

    stock = Stock()
    async with stock.run_test(size=(120, 40)) as pilot:
        dt = stock.query_one(DataTable)
        dt.add_columns("Port", "VM / connectee", "NIC", "Host", "Link", "Mirror", "MAC", "IP")
        await pilot.pause()
        w, c = time.perf_counter(), time.process_time()
        dt.add_rows(rows)
        await until(pilot, lambda: not dt._require_update_dimensions)
        out["stock"] = (time.perf_counter() - w, time.process_time() - c)
    print(json.dumps(out))


asyncio.run(main())
"""


def run(lab: Path, repo: Path) -> dict[str, object]:
    """One headless run of the explorer of ``repo`` (this checkout, or a baseline's files)."""
    env = dict(os.environ, PYTHONPATH=str(repo))
    done = subprocess.run(
        [sys.executable, "-c", HEADLESS, str(lab)], capture_output=True, text=True, env=env, cwd=repo, check=False
    )
    if done.returncode:
        raise SystemExit(f"the headless run failed:\n{done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


STEPS = (
    ("pilot", "a key bound to nothing (Pilot's own cost)"),
    ("switch", "onto the switch (25,000 ports)"),
    ("portgroup", "onto a portgroup (1,600 ports)"),
    ("end", "G in the switch's table"),
    ("mark", "s on its last row"),
    ("filter", "filter the switch (CPU of set_filter)"),
    ("stock", "stock DataTable given the 25,000 rows"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", metavar="COMMIT", help="also run COMMIT's explorer, interleaved (git archive)")
    parser.add_argument("--json", metavar="PATH", help="write every run's figures (seconds) to PATH")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lab = Path(tmp) / "table.json"
        # One switch: 15 portgroups of 1,600 VM ports and 1,000 uplink ports (2 per host) make 25,000.
        labgen.write(labgen.scaled_lab(24000, hosts=500, portgroups=15, switches=1, free_per_pg=0), lab)
        repos = {"this checkout": REPO}
        if args.baseline:
            base = Path(tmp) / "baseline"
            base.mkdir()
            git = ["git", "-C", str(REPO), "archive", args.baseline]
            archive = subprocess.run(git, capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
            repos = {args.baseline: base, **repos}
        runs: dict[str, list[dict[str, object]]] = {name: [] for name in repos}
        for _ in range(args.runs):
            for name, repo in repos.items():
                runs[name].append(run(lab, repo))
    load = os.getloadavg()
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1) + "\n", encoding="utf-8")

    def ms(name: str, key: str, i: int) -> str:
        """The median of figure ``i`` of step ``key`` (a step's figures are a list, the filter's one number)."""
        values: list[float] = []
        for r in runs[name]:
            got = r.get(key)
            if isinstance(got, list) and i < len(got):
                values.append(float(got[i]))
            elif isinstance(got, float):
                values.append(got)
        if not values:
            return "n/a"
        return f"{statistics.median(values) * 1000:.0f} ms"

    header = ["step"]
    for name in repos:
        header += [f"{name}: settled", "CPU", "first frame"]
    rows = []
    for key, title in STEPS:
        row = [title]
        for name in repos:
            if key == "filter":
                row += ["", ms(name, key, 0), ""]
            else:
                row += [ms(name, key, 0), ms(name, key, 1), ms(name, key, 2)]
        rows.append(row)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print(
        f"(median of {args.runs} runs, interleaved; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} cores)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
