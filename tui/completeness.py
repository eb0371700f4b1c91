"""No accidental empty session (issue 9, item 5): a session with no source or no destination
mirrors nothing. vCenter accepts one (vspan.md V26), so the rules only warn (``NoSource``,
``NoDestination``); the CLI refuses it unless ``--allow-empty``, the TUI asks first.

Pure: shared by the CLI (:mod:`tui.cli_sessions.commands`) and the TUI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from tui.model import MirrorSession, Problem, Severity

EMPTY_CODES: tuple[str, ...] = ("NoSource", "NoDestination")
"""The rules' warning codes for a session that mirrors nothing (:data:`tui.rules.WARNING_CODES`)."""


def missing_ends(session: MirrorSession) -> tuple[str, ...]:
    """``("source", "destination")``, or the one of them, that ``session`` lacks; empty when it has both.

    The same test as the rules' V26 warnings: any port, uplink, VLAN, IP or wildcard counts.
    """
    missing: list[str] = []
    if not (session.source_tx or session.source_rx):
        missing.append("source")
    if not session.destination:
        missing.append("destination")
    return tuple(missing)


def describe_missing(missing: Sequence[str]) -> str:
    """``"no source"``, ``"no destination"`` or ``"no source and no destination"``."""
    return " and ".join(f"no {end}" for end in missing)


def refuse_empty(problems: Sequence[Problem], how: str) -> list[Problem]:
    """``problems`` with the empty-session warnings made errors, each message ending in ``how``
    (what confirms it, e.g. ``"add --allow-empty to send it anyway"``). The other problems are
    kept as they are, errors before warnings."""
    out = [
        replace(p, severity=Severity.ERROR, message=f"{p.message} Refused: {how}.")
        if p.code in EMPTY_CODES and p.severity is Severity.WARNING
        else p
        for p in problems
    ]
    return [p for p in out if p.severity is Severity.ERROR] + [p for p in out if p.severity is not Severity.ERROR]
