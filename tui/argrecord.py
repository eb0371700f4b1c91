"""Keep the options added to an argparse parser or group, without argparse's private lists.

``argparse`` keeps a parser's actions in private attributes (``_actions``); the actions
themselves are public (``add_argument`` returns one). :class:`Recorder` stands in for a parser
or an argument group, adds through it and keeps every action added, also through the groups it
hands out: ``tui.__main__`` marks the source options repeated after a subcommand, and the
session commands learn their field flags (``tui.cli_sessions.parser``), from what was recorded.
"""

from __future__ import annotations

import argparse
from typing import Any


class Recorder:
    """A parser or argument group (``target``) that records each action added through it."""

    def __init__(self, target: Any, added: list[argparse.Action] | None = None) -> None:
        self._target = target
        self.added: list[argparse.Action] = [] if added is None else added
        """Every action added through this recorder and the groups it handed out, in order."""

    def add_argument(self, *flags: str, **kwargs: Any) -> argparse.Action:
        """``add_argument`` of the target; the action is recorded."""
        action: argparse.Action = self._target.add_argument(*flags, **kwargs)
        self.added.append(action)
        return action

    def add_argument_group(self, *args: Any, **kwargs: Any) -> Recorder:
        """A group of the target whose actions are recorded here too."""
        return Recorder(self._target.add_argument_group(*args, **kwargs), self.added)

    def add_mutually_exclusive_group(self, **kwargs: Any) -> Recorder:
        """A mutually exclusive group of the target whose actions are recorded here too."""
        return Recorder(self._target.add_mutually_exclusive_group(**kwargs), self.added)

    @property
    def defaults(self) -> dict[str, Any]:
        """``{dest: default}`` of every option recorded."""
        return {a.dest: a.default for a in self.added if a.option_strings}
