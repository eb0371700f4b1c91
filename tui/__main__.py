"""``dvmirror``: parse arguments, choose a backend, run the TUI or a subcommand.

Source and connection options are accepted before or after the subcommand
(``dvmirror --demo find 2258`` and ``dvmirror find 2258 --demo`` are the same).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from tui import cli, cli_contexts, cli_monitor, cli_sessions, cli_table, config
from tui.argrecord import Recorder
from tui.backends import Backend, BackendError, LoginFailed
from tui.text import visible, visible_lines

DESCRIPTION = """\
Browse vSphere distributed switches (switch → portgroup → VM → port), find which port a VM,
NIC, IP or MAC is on, and set up port mirroring (VSPAN) sessions, from a terminal.

Without a subcommand dvmirror starts the interactive explorer."""

EPILOG = """\
examples:
  dvmirror --demo                              explore the bundled demo lab
  dvmirror --walkthrough                       the demo lab before the walkthrough (no dvPgMirror yet)
  dvmirror --server vcsa01.lab.local --user admin@vsphere.local
  dvmirror find MGTSRVR003UX --demo            which port is this VM on?
  dvmirror ports --portgroup dvPgDMZ --json    ports of a portgroup as JSON
  GOVC_URL=user@vcsa01 dvmirror sessions       govc's and Ansible's variables work too

exit codes: 0 ok, 1 problems found or nothing matched (nothing sent), 2 usage error,
3 connection or login failure, 4 vCenter fault."""


EXIT_CODES = """\
exit codes: 0 ok, 1 problems found or nothing matched (nothing sent), 2 usage error,
3 connection or login failure, 4 vCenter fault."""

PORTS_EPILOG = f"""\
examples:
  dvmirror ports --demo --portgroup dvPgDMZ       every port of a portgroup
  dvmirror ports --demo --vm F5-LTM01             the ports of one VM
  dvmirror ports --switch dvSwitchCloud --connected --json
  dvmirror ports --demo -o wide                   every column, and the sessions using each port
  dvmirror ports --demo --columns port,vm,mac,connected

On a terminal the table drops its least useful columns to fit (named under it); piped output
has every column.

{EXIT_CODES}"""

FIND_EPILOG = f"""\
examples:
  dvmirror find MGTSRVR003UX --demo               which port is this VM on?
  dvmirror find 172.24.4.52 --demo --json         by guest IP, as JSON
  dvmirror find 0050.569a.1b2c --demo             by MAC, in any notation
  dvmirror find 00:50:56:9a --demo                by the first digits of a MAC (or an IP)
  dvmirror find "F5-LTM01/Network adapter 2" --demo -o wide
  dvmirror find MGTSRVR003UX --all               in every context of config.toml, in parallel

Each row says why it matched (Matched: "mac: 00:50:56:9a:1b:2c"; JSON: matched,
matched_field, matched_value, match).

{EXIT_CODES}"""

CONTEXTS_EPILOG = f"""\
examples:
  dvmirror contexts                               every profile of config.toml; * marks the current one
  dvmirror contexts --json
  dvmirror find MGTSRVR003UX --all                search every context at once

A context's url and user come from its profile (--server and GOVC_URL do not replace them);
a --server on the command line is one more, ad hoc, context.

{EXIT_CODES}"""

SNAPSHOT_EPILOG = f"""\
examples:
  dvmirror snapshot save lab.json --server vcsa01.lab.local --user admin@vsphere.local
  dvmirror snapshot save lab.json --demo --force
  dvmirror --snapshot lab.json                    explore it later, offline

{EXIT_CODES}"""


class Parser(argparse.ArgumentParser):
    """``argparse`` whose messages (usage errors quote the values given) never write a control
    character from a flag to the terminal raw (:func:`tui.text.visible_lines`)."""

    def _print_message(self, message: str, file: Any = None) -> None:
        super()._print_message(visible_lines(message) if message else message, file)


def _source_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("inventory source")
    exclusive = group.add_mutually_exclusive_group()
    exclusive.add_argument("--demo", action="store_true", help="use the bundled demo lab (no vCenter needed)")
    exclusive.add_argument(
        "--walkthrough",
        action="store_true",
        help="the demo lab before the walkthrough: no dvPgMirror yet (see `dvmirror monitor prepare`)",
    )
    exclusive.add_argument(
        "--snapshot", metavar="FILE", type=Path, help="use a snapshot saved by `dvmirror snapshot save`"
    )
    config.add_connection_arguments(parser)


def _cache_arguments(parser: argparse.ArgumentParser) -> None:
    """``--max-age`` and ``--fresh``: whether the last inventory may answer (README "Warm start")."""
    from tui.warm import DEFAULT_MAX_AGE

    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--max-age",
        metavar="DURATION",
        type=cli.max_age,
        default=DEFAULT_MAX_AGE,
        help=f"answer from the inventory cached by an earlier run if it is at most this old "
        f"(90s, 5m, 2h; 0: never; default {DEFAULT_MAX_AGE / 60:g}m)",
    )
    group.add_argument("--fresh", action="store_true", help="always read vCenter (the cache is refreshed)")


def build_parser() -> argparse.ArgumentParser:
    """The full ``dvmirror`` argument parser."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = Parser(prog="dvmirror", description=DESCRIPTION, epilog=EPILOG, formatter_class=formatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "--show-config",
        action="store_true",
        help="show each connection setting and where it comes from (flag, variable, profile), then exit",
    )
    _source_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def command(name: str, help: str, description: str = "", epilog: str = EPILOG) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=description or help, formatter_class=formatter, epilog=epilog)
        return p

    def finish(p: argparse.ArgumentParser) -> None:
        # The source options again after the subcommand; left out there, they keep what was given before it.
        added = Recorder(p)
        _source_arguments(cast(argparse.ArgumentParser, added))
        for action in added.added:
            action.default = argparse.SUPPRESS

    ports = command("ports", "list ports (all, or of a switch, portgroup or VM)", epilog=PORTS_EPILOG)
    ports.add_argument("--switch", metavar="S", help="only this distributed switch")
    ports.add_argument("--portgroup", metavar="P", help="only this portgroup")
    ports.add_argument("--vm", metavar="V", help="only the ports of this VM")
    ports.add_argument("--connected", action="store_true", help="only connected ports")
    ports.add_argument("--json", action="store_true", help="JSON rows instead of a table")
    _cache_arguments(ports)
    cli_table.add_arguments(ports, cli.PORT_COLUMNS)
    ports.set_defaults(func=cli.cmd_ports)
    finish(ports)

    find = command(
        "find",
        "find the ports of a VM, NIC, IP, MAC or port ID",
        "Find ports by VM name, NIC label, guest IP, MAC (any notation: 00:50:56:9a:1b:2c, "
        "0050.569a.1b2c, ...), port ID or portgroup. Exact matches come first, then substrings. "
        "Exit code 1 when nothing matches.",
        epilog=FIND_EPILOG,
    )
    find.add_argument("term", help="what to look for")
    find.add_argument("--json", action="store_true", help="JSON rows instead of a table")
    find.add_argument(
        "--all",
        action="store_true",
        help="search every context (the profiles of config.toml) in parallel; each row names its context",
    )
    _cache_arguments(find)
    cli_table.add_arguments(find, cli.FIND_COLUMNS)
    find.set_defaults(func=cli.cmd_find)
    finish(find)

    contexts = command(
        "contexts",
        "list the contexts (the profiles of config.toml), the current one marked",
        epilog=CONTEXTS_EPILOG,
    )
    contexts.add_argument("--json", action="store_true", help="JSON rows instead of a table")
    contexts.set_defaults(func=None, standalone=cli_contexts.cmd_contexts)
    finish(contexts)

    snapshot = command("snapshot", "record an inventory for offline use", epilog=SNAPSHOT_EPILOG)
    snap_sub = snapshot.add_subparsers(dest="snapshot_command", metavar="ACTION", required=True)
    save = snap_sub.add_parser(
        "save", help="save the inventory to FILE", formatter_class=formatter, epilog=SNAPSHOT_EPILOG
    )
    save.add_argument("file", metavar="FILE", help="where to write the snapshot (JSON)")
    save.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    save.add_argument(
        "--no-counters",
        action="store_true",
        help="leave the ports' traffic counters out (saves one request per switch and the file's portStatistics)",
    )
    save.set_defaults(func=cli.cmd_snapshot_save)
    finish(save)

    cli_sessions.add_commands(command, finish)
    cli_monitor.add_commands(command, finish)
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("dvmirror")
    except Exception:
        return "(not installed)"


def make_backend(args: argparse.Namespace, environ: Mapping[str, str], interactive: bool, tui: bool = False) -> Backend:
    """The backend the arguments ask for. Raises BackendError or cli.UsageError."""
    walkthrough = getattr(args, "walkthrough", False)
    if getattr(args, "demo", False) or getattr(args, "snapshot", None) or walkthrough:
        from tui.backends.snapshot import SnapshotBackend

        # DVMIRROR_READ_ONLY and a profile's read_only hold here too, not only --read-only.
        read_only, source = config.resolve_read_only(args, environ)
        lab = "walkthrough" if walkthrough else ""
        offline = SnapshotBackend(
            getattr(args, "snapshot", None), read_only=read_only, read_only_source=source, lab=lab
        )
        allowed = config.allowed_sessions(args, environ)
        if allowed is not None:
            offline.settings = dataclasses.replace(offline.settings, allowed_sessions=allowed)
        return offline
    settings = config.resolve_settings(args, environ)
    if not settings.server:
        raise cli.UsageError(
            "no vCenter given: use --server (or GOVC_URL, VMWARE_HOST, a profile in config.toml), "
            "or --demo for the bundled demo lab"
        )
    settings = config.keyring_password(settings)
    from tui.backends.vsphere import VsphereBackend

    sessions, inventories = _warm_caches()
    if tui:  # the TUI asks for a password in a modal, logs in afresh and out on quit (README "Warm start")
        return VsphereBackend(settings, inventory_cache=inventories)
    ask = _password_prompt(settings, interactive)
    saved = sessions is not None and sessions.has(settings)
    cached = inventories is not None and _may_be_cached(args)
    if settings.needs_password and not saved and not cached:
        settings = settings.with_password(ask())
    # Otherwise asked only when a login turns out to be needed: a saved session may do.
    return VsphereBackend(
        settings,
        session_cache=sessions,
        inventory_cache=inventories,
        ask_password=ask if settings.needs_password else None,
    )


def _warm_caches() -> tuple[Any, Any]:
    """The CLI's session and inventory caches (:mod:`tui.warm`), or ``(None, None)`` with ``DVMIRROR_CACHE=off``
    (read from the process's environment, as ``XDG_CACHE_HOME`` is)."""
    from tui import warm

    if not warm.enabled():
        return None, None
    return warm.SessionCache(), warm.InventoryCache()


def _may_be_cached(args: argparse.Namespace) -> bool:
    """True for a command that may answer from the inventory cache (``find``, ``ports``), unless ``--fresh``."""
    return getattr(args, "func", None) in (cli.cmd_find, cli.cmd_ports) and not getattr(args, "fresh", False)


def _password_prompt(settings: config.Settings, interactive: bool) -> Callable[[], str]:
    """Ask for the password on the terminal; never when nobody can answer (LoginFailed)."""

    def ask() -> str:
        if not interactive:
            raise LoginFailed(
                f"no password for {settings.user or 'the user'} on {settings.server}",
                hint="Set DVMIRROR_PASSWORD (or GOVC_PASSWORD / VMWARE_PASSWORD); "
                "standard input is not a terminal, so dvmirror cannot ask.",
            )
        import getpass

        who = f"{settings.user}@{settings.server}" if settings.user else settings.server
        try:
            return getpass.getpass(f"Password for {who}: ")
        except EOFError:  # ctrl+d at the prompt
            raise LoginFailed(f"no password given for {who}") from None

    return ask


def context_backend(args: argparse.Namespace, environ: Mapping[str, str]) -> cli_contexts.BackendFactory:
    """A factory of the backend of a context (:mod:`tui.contexts`); it never asks for a password."""
    from tui.contexts import Context

    def make(context: Context) -> Backend:
        if context.offline:
            from tui.backends.snapshot import SnapshotBackend

            read_only, source = config.resolve_read_only(args, environ)
            path = None if context.offline == "demo" else Path(context.offline)
            return SnapshotBackend(path, read_only=read_only, read_only_source=source)
        if context.settings is None:
            raise cli.UsageError(context.error or f"context {context.name} has no settings")
        from tui.backends.vsphere import VsphereBackend

        return VsphereBackend(config.keyring_password(context.settings))

    return make


EXIT_BROKEN_PIPE = 141
"""Exit code when the reader of standard output went away (128 + SIGPIPE, as the shell reports
a command killed by SIGPIPE)."""


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Entry point of the ``dvmirror`` console script.

    Output to a closed pipe (``dvmirror ports --json | head -1``) ends quietly with exit 141,
    as Python's documentation recommends ("Note on SIGPIPE"): standard output is pointed at
    ``/dev/null`` so that the interpreter's last flush cannot fail again.
    """
    try:
        try:
            code = _main(argv, environ)
        except SystemExit:  # argparse: --help, --version, a usage error
            sys.stdout.flush()
            raise
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    return code


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests): nothing to flush
        pass


def _bad_arguments(argv: Sequence[str]) -> str | None:
    """A message for command-line arguments that are not UTF-8 (``sys.argv`` holds them as
    surrogate escapes, which cannot be printed, compared with names or sent to vCenter)."""
    for i, arg in enumerate(argv, 1):
        if config.not_utf8(arg):
            shown = visible(arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"))
            return f"argument {i} ({shown}) is not valid UTF-8 text"
    return None


def _debug_messages() -> None:
    """``DVMIRROR_DEBUG=1``: dvmirror's debug messages (why a saved session or cached inventory
    was not used, :mod:`tui.warm`) on stderr, as ``dvmirror: debug: …``."""
    import logging

    class Stderr(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            sys.stderr.write(f"dvmirror: debug: {visible(record.getMessage())}\n")

    logger = logging.getLogger("dvmirror")
    logger.setLevel(logging.DEBUG)
    if not any(type(h).__name__ == "Stderr" for h in logger.handlers):
        logger.addHandler(Stderr())


def _main(argv: Sequence[str] | None, environ: Mapping[str, str] | None) -> int:
    env = os.environ if environ is None else environ
    if (env.get("DVMIRROR_DEBUG") or os.environ.get("DVMIRROR_DEBUG", "")).strip() not in ("", "0"):
        _debug_messages()
    problem = _bad_arguments(sys.argv[1:] if argv is None else argv)
    if problem:
        return cli.report_usage(problem)
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    interactive = sys.stdin.isatty()
    backend: Backend | None = None
    try:
        if args.show_config:
            return cli.show_config(config.resolve_settings(args, env))
        standalone = getattr(args, "standalone", None)
        if standalone is not None:
            return int(standalone(args, env))
        if func is cli.cmd_find and getattr(args, "all", False):
            import getpass

            return cli_contexts.find_all(args, env, interactive, context_backend(args, env), getpass.getpass)
        backend = make_backend(args, env, interactive, tui=func is None)
        if func is None:
            from tui.app import build_app
            from tui.contexts import list_contexts

            keymap, theme = config.preferences(args, env)
            contexts = list_contexts(args, env)
            if all(c.adhoc for c in contexts):  # no profiles: nothing to switch to
                contexts = []
            app = build_app(
                backend, keymap=keymap, theme=theme, contexts=contexts, context_backend=context_backend(args, env)
            )
            app.run()
            return app.return_code or 0
        return int(func(backend, args))
    except cli.UsageError as e:
        return cli.report_usage(str(e))
    except config.ConfigError as e:  # bad settings (flags, variables, config.toml) are usage errors
        return cli.report_usage(str(e))
    except BackendError as e:
        return cli.report_error(e)
    except KeyboardInterrupt:
        return 130
    finally:
        if backend is not None:
            backend.close()


if __name__ == "__main__":
    sys.exit(main())
