"""Non-interactive subcommands with Rich tables and ``--json`` (DESIGN.md §10).

Every command takes a loaded backend and the parsed arguments and returns an exit code:
0 ok, 1 problems found / nothing matched (nothing sent), 2 usage error, 3 connection or
login failure, 4 vCenter fault.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

import msgspec
from rich.console import Console
from rich.segment import Segment
from rich.table import Table

from tui.backends import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, Backend, BackendError, LoadProgress
from tui.cli_table import Column, ColumnError, render
from tui.config import Settings
from tui.gcpause import freeze_large
from tui.lookup import LookupIndex
from tui.model import Inventory, Port, PortlessNic, PortStatistics, Switch
from tui.text import SafeText as Text
from tui.text import ascii_digits, json_safe, json_text, visible, visible_lines
from tui.warm import DEFAULT_MAX_AGE, Cached, parse_duration


class UsageError(Exception):
    """Bad arguments that argparse could not catch (exit 2)."""


class SafeConsole(Console):
    """A Rich console that shows any control character left in the text it writes as a
    visible escape (:func:`tui.text.visible_lines`).

    The texts of this CLI are :class:`tui.text.SafeText` already; this is the last line of
    defence for anything else (a plain string, a future table): only Rich's own control
    segments (cursor moves of the progress line) and styles reach the terminal as sequences.
    """

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        safe = (seg if seg.control else Segment(visible_lines(seg.text), seg.style) for seg in buffer)
        return super()._render_buffer(safe)

    fits_terminal = False
    """Tables are fitted to the terminal's width (:func:`console`)."""

    def on_broken_pipe(self) -> None:
        """The reader went away: let :func:`tui.__main__.main` end quietly with exit 141 (Rich
        itself would exit 1, the code of a failure)."""
        self.quiet = True
        raise BrokenPipeError


def whole_number(text: str) -> int:
    """An ``argparse`` type: a whole number in ASCII digits (``int()`` also takes ``٣`` and
    ``１``, which no operator means), with an optional minus sign and at most 18 digits.

    The range is checked by the rules, which name vCenter's fault for a value out of range.
    """
    digits = text.strip()
    if not ascii_digits(digits.removeprefix("-")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (digits 0-9)")
    if len(digits) > 18:
        raise argparse.ArgumentTypeError(f"{text[:24]!r}… is too long for a number")
    return int(digits)


def console(stream: TextIO | None = None) -> Console:
    """A console that never interprets vCenter names as markup or emoji, and never writes a
    control character from data (:class:`SafeConsole`).

    Piped output is not cut to 80 columns: a script reading the table gets whole values. On a
    terminal (or with ``TTY_COMPATIBLE=1``, Rich's switch, which the tests use with ``COLUMNS``)
    tables are fitted to its width (:mod:`tui.cli_table`); ``fits_terminal`` says which.
    """
    out = stream or sys.stdout
    try:
        tty = out.isatty()
    except ValueError:  # a closed stream
        tty = False
    tty = tty or os.environ.get("TTY_COMPATIBLE") == "1"
    con = SafeConsole(file=out, markup=False, emoji=False, highlight=False, soft_wrap=False, width=None if tty else 400)
    con.fits_terminal = tty
    return con


def err_console() -> Console:
    """Console for messages on stderr."""
    return console(sys.stderr)


def load(backend: Backend, quiet: bool) -> Inventory:
    """Load the inventory, with a transient progress line on stderr when interactive; a live
    inventory is kept in the backend's inventory cache, if it has one (:mod:`tui.warm`).

    A large one is frozen for the cyclic garbage collector (:func:`tui.gcpause.freeze_large`): it
    lives until the command ends, and the collector's scans of it would cost more than the command.
    """
    inventory = _loading(backend, quiet, backend.load, lambda inv: inv)
    cache = getattr(backend, "inventory_cache", None)
    if cache is not None:
        cache.save(backend.settings, inventory)
    freeze_large(len(inventory.ports))
    return inventory


def load_or_cached(backend: Backend, args: argparse.Namespace) -> tuple[Inventory, Cached | None]:
    """The cache decision of ``find`` and ``ports``: the backend's cached inventory when one of
    at most ``--max-age`` is there and ``--fresh`` is not given (a note on stderr says how old it
    is), else a live load (which refreshes the cache)."""
    cache = getattr(backend, "inventory_cache", None)
    if cache is not None and not getattr(args, "fresh", False):
        max_age = getattr(args, "max_age", None)
        cached = cache.load(backend.settings, DEFAULT_MAX_AGE if max_age is None else max_age)
        if cached is not None:
            err = err_console()
            for warning in cached.inventory.warnings:
                err.print(Text(f"dvmirror: warning: {warning}"))
            err.print(Text(f"dvmirror: {cache_note(cached)} (--fresh reads vCenter)", style="dim"))
            return cached.inventory, cached
    return load(backend, getattr(args, "json", False)), None


def cache_note(cached: Cached) -> str:
    """``from the cache of 17:02:11 (42 s old)``."""
    when = datetime.fromtimestamp(cached.saved).strftime("%H:%M:%S")
    age = cached.age
    shown = f"{age:.0f} s" if age < 120 else f"{age / 60:.0f} min" if age < 7200 else f"{age / 3600:.1f} h"
    return f"from the cache of {when} ({shown} old)"


def cache_field(cached: Cached) -> dict[str, Any]:
    """The ``cache`` field of a JSON row answered from the cache: when it was loaded, and its age."""
    saved = datetime.fromtimestamp(cached.saved, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"saved": saved, "age_seconds": round(cached.age, 1)}


def max_age(text: str) -> float:
    """An ``argparse`` type: ``--max-age`` (``90``, ``90s``, ``5m``, ``2h``, ``1d``) in seconds."""
    try:
        return parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


_Loaded = TypeVar("_Loaded")


def _loading(
    backend: Backend,
    quiet: bool,
    run: Callable[..., _Loaded],
    inventory_of: Callable[[_Loaded], Inventory],
) -> _Loaded:
    """``run(progress)`` (a load), with a transient progress line on stderr when interactive, then
    the warnings of the inventory it read (``inventory_of`` finds it in what ``run`` returns)."""
    err = err_console()
    if getattr(backend, "ask_password", None) is not None:
        backend.connect()  # type: ignore[attr-defined]  # a password may be asked for: not under the progress line
    if quiet or not err.is_terminal:
        result = run()
    else:
        # Status texts name switches and files: Text, so that "[/x]" is never read as markup.
        with err.status(Text(f"Loading {backend.label}…")) as status:

            def progress(step: LoadProgress) -> None:
                total = f"/{step.total}" if step.total else ""
                status.update(Text(f"{step.message} {step.done}{total}" if step.done else step.message))

            result = run(progress)
    for warning in inventory_of(result).warnings:  # on stderr, so --json output stays clean
        err.print(Text(f"dvmirror: warning: {warning}"))
    return result


def emit_json(data: Any, stream: TextIO | None = None) -> None:
    """Write ``data`` as JSON (UTF-8 names kept as they are; control, C1 and bidi characters
    as ``\\uXXXX`` escapes, :func:`tui.text.json_text`)."""
    out = stream or sys.stdout
    try:  # msgspec's encoder, in C, writes what json.dumps(indent=2) writes, 10x faster
        text = json_safe(msgspec.json.format(msgspec.json.encode(data), indent=2).decode("utf-8"))
    except (TypeError, ValueError, OverflowError):  # a type it does not know, a lone surrogate
        text = json_text(data, indent=2)
    out.write(text)
    out.write("\n")


def find_switch(inventory: Inventory, name: str) -> Switch:
    """The switch called ``name`` (or with that UUID); a usage error naming the known ones."""
    sw = inventory.switch_by_name(name)
    if sw is None:
        known = ", ".join(sorted(s.name for s in inventory.switches.values())) or "none"
        raise UsageError(f"no switch called {name!r} (known: {known})")
    return sw


def select_ports(inventory: Inventory, switch: str | None, portgroup: str | None, vm: str | None) -> list[Port]:
    """Ports filtered by switch, portgroup and VM name (case-insensitive, exact names)."""
    sw_key = find_switch(inventory, switch).key if switch else None
    ports: Iterable[Port] = inventory.ports.values()
    if sw_key:
        ports = [p for p in ports if p.switch == sw_key]
    if portgroup:
        low = portgroup.lower()
        keys = {pg.key for pg in inventory.portgroups.values() if pg.name.lower() == low or pg.key == portgroup}
        if not keys:
            raise UsageError(f"no portgroup called {portgroup!r}")
        ports = [p for p in ports if p.portgroup in keys]
    if vm:
        low = vm.lower()
        vms = {v.key for v in inventory.vms.values() if v.name.lower() == low}
        if not vms:
            raise UsageError(f"no VM called {vm!r}")
        ports = [p for p in ports if (vn := inventory.vm_nic(p)) is not None and vn[0].key in vms]
    return list(ports)


def select_portless(
    inventory: Inventory, switch: str | None, portgroup: str | None, vm: str | None
) -> list[PortlessNic]:
    """The NICs on no port that the filters of :func:`select_ports` would cover (for a note)."""
    items: Iterable[PortlessNic] = inventory.portless
    if switch:
        key = find_switch(inventory, switch).key
        items = [i for i in items if i.nic is not None and i.nic.switch == key]
    if portgroup:
        low = portgroup.lower()
        keys = {pg.key for pg in inventory.portgroups.values() if pg.name.lower() == low or pg.key == portgroup}
        items = [i for i in items if i.nic is not None and i.nic.portgroup in keys]
    if vm:
        low = vm.lower()
        items = [i for i in items if i.vm.name.lower() == low]
    return list(items)


NOTE_LINES = 10
"""Reasons listed under a table for NICs on no port; the rest are counted."""


def portless_note(inventory: Inventory, items: Sequence[PortlessNic], listed: bool) -> Text:
    """Why each NIC has no port (the first few), for under a table."""
    n = len(items)
    bare = sum(1 for i in items if i.nic is None)
    parts = [f"{n - bare} VM NIC{'s' * (n - bare != 1)}"] if n > bare else []
    parts += [f"{bare} VM{'s' * (bare != 1)} without a NIC"] if bare else []
    what = f"{' and '.join(parts)} on no distributed port"
    if listed:
        head = f"{what} (Port: none; such a NIC cannot be mirrored):"
    else:
        head = f"Not listed (ports lists ports; `dvmirror find VM` shows them): {what}:"
    text = Text(head, style="dim")
    for item in items[:NOTE_LINES]:
        nic = item.nic.label if item.nic else "(no NIC)"
        text.append(f"\n  {item.vm.name} / {nic}: {inventory.nic_place(item)}", style="dim")
    if n > NOTE_LINES:
        text.append(f"\n  … and {n - NOTE_LINES} more", style="dim")
    return text


PORT_COLUMNS: tuple[Column, ...] = (
    Column("Switch", "switch", rank=8),
    Column("Portgroup", "portgroup", rank=7),
    Column("Port", "port", rank=0, justify="right"),
    Column("VM", "vm", rank=1),
    Column("NIC", "nic", rank=3),
    Column("MAC", "mac", rank=6),
    Column("IPs", "ips", rank=5, wrap=True),
    Column("Host", "host", rank=9),
    Column("VLAN", "vlan", rank=10),
    Column("Link", "connected", rank=4),
    Column("Mirror", "mirror", rank=11, wide=True, wrap=True),
)
"""The columns of ``ports`` and ``find``, least useful last by rank (VLAN, host and switch go
first on a narrow terminal; port, VM and NIC stay). ``Mirror`` (the sessions that use the port)
is shown with ``-o wide``."""

FIND_COLUMNS: tuple[Column, ...] = (*PORT_COLUMNS, Column("Matched", "matched", rank=2, wrap=True))
"""``find`` adds why each row matched (last, as before; kept before all but the port and the VM)."""


def _mirror_cell(inventory: Inventory, target: Port | PortlessNic) -> Text:
    """The sessions that use a port: ``1 DMZ-IDS: source (ingress+egress)``, one per line."""
    if not isinstance(target, Port):
        return Text("")
    uses = inventory.sessions_of_port(target)
    return Text("\n".join(visible(" ".join(filter(None, (s.key, s.name))) + f": {role}") for s, role in uses))


def port_cells(row: dict[str, Any], mirror: Text) -> list[Text]:
    """The cells of one row of :data:`PORT_COLUMNS`."""
    portless = row["port"] is None
    link = "no port" if portless else "connected" if row["connected"] else "free"
    # visible(): a name is one line; a newline in it is shown as \n, not as a new row.
    return [
        Text(visible(row["switch"])),
        Text(visible(row["portgroup"])),
        Text("none", style="dim") if portless else Text(visible(row["port"]), style="bold"),
        Text(visible(row["vm"] or ("" if row["nic"] else "(free)"))),
        Text(visible(row["nic"]) if row["nic"] is not None else "(no NIC)"),
        Text(visible(row["mac"])),
        Text(visible(", ".join(row["ips"]))),
        Text(visible(row["host"])),
        Text(visible(row["vlan"])),
        Text(link),
        mirror,
    ]


def print_port_table(
    out: Console,
    inventory: Inventory,
    targets: Sequence[Port | PortlessNic],
    rows: Sequence[dict[str, Any]],
    args: argparse.Namespace,
    find: bool,
) -> None:
    """The table of ``ports`` (``find``: with the Matched column), fitted to the terminal."""
    wide = getattr(args, "output", "table") == "wide" or getattr(args, "columns", None) is not None
    cells = [
        port_cells(row, _mirror_cell(inventory, t) if wide else Text("")) for t, row in zip(targets, rows, strict=True)
    ]
    if find:
        cells = [[*c, Text(visible(row["matched"]), style="dim")] for c, row in zip(cells, rows, strict=True)]
    columns = FIND_COLUMNS if find else PORT_COLUMNS
    try:
        render(out, columns, cells, getattr(args, "output", "table"), getattr(args, "columns", None))
    except ColumnError as e:
        raise UsageError(str(e)) from None


def cmd_ports(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror ports``: list ports, optionally filtered."""
    inventory, cached = load_or_cached(backend, args)
    ports = select_ports(inventory, args.switch, args.portgroup, args.vm)
    if args.connected:
        ports = [p for p in ports if p.connected]
    rows = [inventory.port_row(p) for p in ports]
    if cached is not None and args.json:
        for row in rows:
            row["cache"] = cache_field(cached)
    if args.json:
        emit_json(rows)
    else:
        out = console()
        print_port_table(out, inventory, ports, rows, args, find=False)
        out.print(Text(f"{len(rows)} port{'s' * (len(rows) != 1)}", style="dim"))
        if not args.connected or args.vm:
            loose = select_portless(inventory, args.switch, args.portgroup, args.vm)
            if loose:
                out.print(portless_note(inventory, loose, listed=False))
    return EXIT_OK


def cmd_find(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror find TERM``: one row per matching port, best match first.

    A VM NIC on no port (and a VM without a NIC) matches too, with ``port`` null. Each row says
    why it matched: ``matched`` (``mac: 00:50:56:9a:1b:2c``, as the Matched column shows it),
    ``matched_field`` and ``matched_value`` (the whole value: a MAC or IP found by its prefix
    shows the MAC or IP), and ``match`` (exact, prefix or substring).
    """
    term = args.term.strip()
    if not term:
        raise UsageError("the search term is empty")
    inventory, cached = load_or_cached(backend, args)
    if not inventory.details:  # a port map read before the device lists: no guest IP is known yet
        err_console().print(Text("IPs still loading: a search by IP finds nothing yet.", style="yellow"))
    hits = LookupIndex(inventory).search(term, limit=None)
    rows = []
    for hit in hits:
        row = inventory.row(hit.target)
        row["matched"] = hit.reason
        row["matched_field"] = hit.field.label
        row["matched_value"] = hit.text
        row["match"] = hit.match.name.lower()
        if cached is not None:
            row["cache"] = cache_field(cached)
        rows.append(row)
    if args.json:
        emit_json(rows)
    elif rows:
        out = console()
        print_port_table(out, inventory, [h.target for h in hits], rows, args, find=True)
        loose = [item for hit in hits if (item := hit.portless) is not None]
        if loose:
            out.print(portless_note(inventory, loose, listed=True))
    else:
        err_console().print(Text(f"No port matches {term!r}.", style="bold"))
    return EXIT_OK if rows else EXIT_PROBLEMS


def cmd_snapshot_save(backend: Backend, args: argparse.Namespace) -> int:
    """``dvmirror snapshot save FILE``: record the inventory for offline use."""
    from tui.backends.snapshot import save_inventory

    path = Path(args.file)
    if path.is_dir():
        raise UsageError(f"{path} is a directory; give a file name")
    if path.exists() and not args.force:
        raise UsageError(f"{path} exists; add --force to overwrite it")
    counters: dict[tuple[str, str], PortStatistics] = {}
    missing = ""
    if args.no_counters:
        inventory = load(backend, False)
    else:
        inventory, counters, missing = load_with_counters(backend)
    save_inventory(inventory, path, counters)
    counts = f"{len(inventory.switches)} switches, {len(inventory.ports)} ports, {len(inventory.vms)} VMs"
    if counters:
        counts += f" and the counters of {len(counters)} ports"
    err = err_console()
    err.print(Text(f"Saved {counts} to {path}"))
    if missing:
        err.print(Text(f"No port counters saved: {missing}."))
    return EXIT_OK


def load_with_counters(backend: Backend) -> tuple[Inventory, dict[tuple[str, str], PortStatistics], str]:
    """The inventory with every port's counters, in as few requests as the backend can.

    The vsphere and snapshot backends read them with the load (``load_with_counters``); any other
    backend reads, after the load, the ports that have something connected, one call per switch."""
    reader = getattr(backend, "load_with_counters", None)
    if reader is not None:
        result: tuple[Inventory, dict[tuple[str, str], PortStatistics], str] = _loading(
            backend, False, reader, lambda r: r[0]
        )
        return result
    inventory = load(backend, False)
    counters: dict[tuple[str, str], PortStatistics] = {}
    for sw in inventory.switches:
        keys = [p.key for p in inventory.ports_by_switch.get(sw, ()) if p.connectee is not None]
        if keys:
            counters.update(((sw, k), st) for k, st in backend.port_statistics(sw, keys).items())
    return inventory, counters, "" if counters else "the backend gave none"


def show_config(settings: Settings) -> int:
    """``dvmirror --show-config``: every setting, its value and its source (password masked)."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in ("Setting", "Value", "From"):
        table.add_column(name)
    for setting, value, source in settings.explain():
        table.add_row(Text(visible(setting)), Text(visible(value)), Text(visible(source), style="dim"))
    console().print(table)
    return EXIT_OK


def report_error(error: BackendError) -> int:
    """Print a backend error on stderr; return its exit code."""
    err = err_console()
    err.print(Text(f"dvmirror: {error.message}", style="bold"))
    if error.hint:
        err.print(Text(error.hint))
    for problem in getattr(error, "problems", []):
        err.print(Text(f"  {problem.code}: {problem.message}"))
    return error.exit_code


def report_usage(message: str) -> int:
    """Print a usage error; return 2."""
    err_console().print(Text(f"dvmirror: {message}", style="bold"))
    return EXIT_USAGE
