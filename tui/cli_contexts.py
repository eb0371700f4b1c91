"""``dvmirror contexts`` and ``dvmirror find TERM --all``: every configured vCenter at once.

``find --all`` loads every context (:mod:`tui.contexts`) in parallel, in a bounded pool of
threads, each with its own connection and the usual timeouts, and searches each inventory with
:class:`tui.lookup.LookupIndex`. A context that fails (unreachable, wrong password, no password)
is reported with its name and does not hold up the others.

Passwords are never asked for several contexts at once: a context with no password (none given,
none in the keyring) is asked for only when it is the only such one and standard input is a
terminal (before any load starts); otherwise it is reported as needing a password.

Exit codes: 0 when any context has an answer; 1 when none has but at least one was searched;
when every context failed, their exit code if they all agree, else 3.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table

from tui import cli
from tui.backends import EXIT_CONNECTION, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, Backend, BackendError, LoginFailed
from tui.config import ConfigError, keyring_password
from tui.contexts import Context, list_contexts
from tui.lookup import Hit, LookupIndex
from tui.model import Inventory
from tui.text import SafeText as Text
from tui.text import visible

POOL_SIZE = 8
"""At most this many contexts are loaded at once."""

BackendFactory = Callable[[Context], Backend]


class SettingsError(BackendError, title="Bad settings", exit_code=EXIT_USAGE):
    """A context whose settings cannot be used (a bad profile value, no url)."""


def needs_password_hint(context: Context) -> str:
    """What to do for a context that has no password (the prompt is only for one context)."""
    who = f"{context.settings.user}@{context.settings.server}" if context.settings else "USER@HOST"
    return (
        f"Search it alone (dvmirror find TERM --profile {shlex.quote(context.name)}) to be asked for it, "
        f"or store it in the OS keyring (keyring set dvmirror {shlex.quote(who)})."
    )


def cmd_contexts(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """``dvmirror contexts``: the profiles of config.toml, the current one marked."""
    contexts = list_contexts(args, environ)
    if args.json:
        cli.emit_json([c.row() for c in contexts])
        return EXIT_OK
    if not contexts:
        cli.err_console().print(Text("No contexts: add [profiles.NAME] tables to config.toml.", style="bold"))
        return EXIT_PROBLEMS
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in ("", "Context", "vCenter", "User", "Mode", "Note"):
        table.add_column(name)
    for c in contexts:
        row = c.row()
        notes = [n for n, on in (("default", c.default), ("ad hoc", c.adhoc)) if on]
        mode = "read-only" if row["read_only"] else ""
        table.add_row(
            Text("*" if c.current else ""),
            Text(visible(c.name), style="bold" if c.current else ""),
            Text(visible(row["url"] or "(none)")),
            Text(visible(row["user"])),
            Text(mode),
            Text(visible(c.error) if c.error else ", ".join(notes), style="red" if c.error else "dim"),
        )
    cli.console().print(table)
    return EXIT_OK


@dataclass
class ContextAnswer:
    """What one context gave: its hits in its inventory, or why it could not be searched."""

    context: Context
    inventory: Inventory | None = None
    hits: list[Hit] = field(default_factory=list)
    error: BackendError | None = None


def prepare(
    contexts: list[Context], interactive: bool, ask: Callable[[str], str]
) -> tuple[list[Context], list[ContextAnswer]]:
    """``(contexts to load, answers of those that cannot be)``: settings errors, and passwords
    (the keyring first; one prompt only when exactly one context needs it and ``interactive``)."""
    ready: list[Context] = []
    failed: list[ContextAnswer] = []
    waiting: list[Context] = []
    for c in contexts:
        if c.settings is None:
            failed.append(ContextAnswer(c, error=SettingsError(c.error or "no settings")))
            continue
        if c.offline:
            ready.append(c)
            continue
        settings = keyring_password(c.settings)
        c = Context(c.name, settings, c.error, c.current, c.default, c.adhoc, c.offline)
        (waiting if settings.needs_password else ready).append(c)
    if len(waiting) == 1 and interactive:
        c = waiting.pop()
        assert c.settings is not None
        try:
            password = ask(f"Password for {c.settings.user}@{c.settings.server} (context {c.name}): ")
        except EOFError:
            password = ""
        if password:
            ready.append(Context(c.name, c.settings.with_password(password), "", c.current, c.default, c.adhoc))
        else:
            waiting.append(c)
    for c in waiting:
        assert c.settings is not None
        failed.append(
            ContextAnswer(
                c,
                error=LoginFailed(
                    f"needs a password for {c.settings.user} on {c.settings.server}",
                    hint=needs_password_hint(c),
                ),
            )
        )
    order = {c.name: i for i, c in enumerate(contexts)}
    ready.sort(key=lambda c: order[c.name])
    return ready, failed


def search_context(context: Context, factory: BackendFactory, term: str) -> ContextAnswer:
    """Load one context and search it (in a worker thread); never raises."""
    try:
        backend = factory(context)
    except (BackendError, ConfigError, cli.UsageError) as e:
        error = e if isinstance(e, BackendError) else SettingsError(str(e))
        return ContextAnswer(context, error=error)
    try:
        inventory = backend.load()
        return ContextAnswer(context, inventory, LookupIndex(inventory).search(term, limit=None))
    except BackendError as e:
        return ContextAnswer(context, error=e)
    except Exception as e:  # anything unexpected is this context's failure, not the others'
        return ContextAnswer(context, error=BackendError(f"unexpected {e.__class__.__name__}: {e}"))
    finally:
        with contextlib.suppress(Exception):  # closing must not lose the answer
            backend.close()


def search_all(
    contexts: list[Context], factory: BackendFactory, term: str, done: Callable[[ContextAnswer], None] | None = None
) -> list[ContextAnswer]:
    """Search every context in parallel (at most :data:`POOL_SIZE` at once); answers in the
    contexts' order. ``done`` is called (in the caller's thread) as each answer arrives."""
    answers: dict[str, ContextAnswer] = {}
    if not contexts:
        return []
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(POOL_SIZE, len(contexts))) as pool:
        futures = [pool.submit(search_context, c, factory, term) for c in contexts]
        for future in concurrent.futures.as_completed(futures):
            answer = future.result()
            answers[answer.context.name] = answer
            if done is not None:
                done(answer)
    return [answers[c.name] for c in contexts]


def answer_rows(answer: ContextAnswer) -> list[dict[str, Any]]:
    """The JSON rows of one context's hits: ``find --json``'s rows with ``context`` and ``vcenter``."""
    inventory = answer.inventory
    if inventory is None:
        return []
    rows = []
    for hit in answer.hits:
        row: dict[str, Any] = {"context": answer.context.name, "vcenter": answer.context.vcenter}
        row.update(inventory.row(hit.target))
        row["matched"] = hit.reason
        row["matched_field"] = hit.field.label
        row["matched_value"] = hit.text
        row["match"] = hit.match.name.lower()
        rows.append(row)
    return rows


def error_row(answer: ContextAnswer) -> dict[str, Any]:
    """The JSON ``errors`` entry of a context that failed."""
    error = answer.error
    assert error is not None
    return {
        "context": answer.context.name,
        "vcenter": answer.context.vcenter,
        "error": error.message,
        "hint": error.hint,
        "exit_code": error.exit_code,
    }


def exit_code(answers: list[ContextAnswer]) -> int:
    """0 when any answer, 1 when none but some context was searched, else the failures' code."""
    if any(a.hits for a in answers):
        return EXIT_OK
    if any(a.error is None for a in answers):
        return EXIT_PROBLEMS
    codes = {a.error.exit_code for a in answers if a.error is not None}
    return codes.pop() if len(codes) == 1 else EXIT_CONNECTION


def find_all(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    interactive: bool,
    factory: BackendFactory,
    ask: Callable[[str], str],
) -> int:
    """``dvmirror find TERM --all``."""
    term = args.term.strip()
    if not term:
        raise cli.UsageError("the search term is empty")
    contexts = list_contexts(args, environ)
    if not contexts:
        raise cli.UsageError("no contexts: add [profiles.NAME] tables to config.toml (or give --server)")
    ready, failed = prepare(contexts, interactive, ask)
    err = cli.err_console()
    out = cli.console()

    def report(answer: ContextAnswer) -> None:
        if answer.error is not None:
            err.print(Text(f"dvmirror: context {answer.context.name}: {answer.error.message}", style="bold"))
            if answer.error.hint:
                err.print(Text(f"  {answer.error.hint}"))
            return
        if args.json:
            return
        assert answer.inventory is not None
        where = answer.context.where
        heading = f"{answer.context.name} ({where})" if where else answer.context.name
        if not answer.hits:
            out.print(Text(f"{heading}: no port matches {term!r}.", style="dim"))
            return
        out.print(Text(heading, style="bold"))
        rows = answer_rows(answer)
        targets = [h.target for h in answer.hits]
        cli.print_port_table(out, answer.inventory, targets, rows, args, find=True)

    for answer in failed:
        report(answer)
    answers = [*failed, *search_all(ready, factory, term, report)]
    order = {c.name: i for i, c in enumerate(contexts)}
    answers.sort(key=lambda a: order[a.context.name])
    if args.json:
        cli.emit_json(
            {
                "results": [row for a in answers for row in answer_rows(a)],
                "errors": [error_row(a) for a in answers if a.error is not None],
            }
        )
    return exit_code(answers)
