"""What flows between the app and its screens: messages up, reactive state down.

Screens (and the command palette) never import the app. They post one of the requests below
(:class:`OpenWizard`, :class:`ApplyChanges`, :class:`OpenSessions`, :class:`CopyRequested`,
:class:`GoTo`, :class:`OpenFind`) and read what they need through :func:`app_state`, whose
reactives (``inventory``, ``index``, ``load_progress``, ``last_change``, ``session_problems``) they ``watch``.
The app's own workers report with the load and change messages at the end, the explorer's
live-traffic worker with :class:`LiveTrafficRead`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from textual.message import Message

from tui.backends import ApplyResult, Backend, BackendError, LoadProgress
from tui.contexts import ContextScope
from tui.drift import Found
from tui.inventory_update import Delta, LiveState
from tui.lookup import LookupIndex, Target
from tui.model import ChangeOperation, Inventory, MirrorSession, PortStatistics, SessionChange

if TYPE_CHECKING:
    from textual.app import App

    from tui.clipboard import CopyResult


@dataclass(frozen=True)
class AppliedChange:
    """The changes vCenter (or the snapshot) last accepted on one switch."""

    switch_key: str
    changes: tuple[SessionChange, ...]


class AppState(Protocol):
    """The part of the app a screen reads (the app is checked against it in tui/app.py)."""

    @property
    def backend(self) -> Backend:
        """Where the inventory comes from (label, insecure, offline)."""
        ...

    @property
    def inventory(self) -> Inventory | None:
        """The inventory shown (partial while a load runs)."""
        ...

    @property
    def inventory_delta(self) -> Delta | None:
        """What the last live update changed (``None`` after a load): set before ``inventory``."""
        ...

    @property
    def index(self) -> LookupIndex | None:
        """The search index of the complete inventory."""
        ...

    @property
    def load_progress(self) -> LoadProgress | None:
        """The last step of the load (for the progress bar)."""
        ...

    @property
    def last_change(self) -> AppliedChange | None:
        """The last change applied."""
        ...

    @property
    def session_problems(self) -> Found:
        """Every session's drift and rule warnings on the last complete inventory (:func:`tui.drift.problems_of`)."""
        ...

    @property
    def last_copy(self) -> CopyResult | None:
        """How the last copy to the clipboard went."""
        ...

    @property
    def read_only(self) -> bool:
        """True when writes are refused."""
        ...

    @property
    def live_label(self) -> str:
        """The update channel's state for the header: ``live``, ``as of HH:MM:SS``, ``reconnecting…`` ...

        ('' for the demo lab and snapshots, which do not change)."""
        ...

    @property
    def partial(self) -> bool:
        """True while the inventory shown is the partial one of a load still running."""
        ...

    @property
    def verify_seconds(self) -> float:
        """The window a session verify samples (tests shorten it)."""
        ...

    @property
    def read_only_hint(self) -> str:
        """Where read-only mode comes from and how to leave it."""
        ...

    @property
    def context_name(self) -> str:
        """The context shown (tui/contexts.py; '' when dvmirror runs without contexts)."""
        ...

    def context_scopes(self, load: bool) -> list[ContextScope]:
        """Every context with what is known of it (``current``: the one shown); ``load`` starts loading
        those not loaded yet (for the finder's search of every context)."""
        ...


def app_state(app: App[Any]) -> AppState:
    """``app`` (a screen's ``self.app``) as the state screens read, without importing tui.app."""
    return cast(AppState, app)


# -- requests: screens → app ---------------------------------------------------------------


@dataclass
class OpenWizard(Message):
    """Open the session wizard on ``session``; the app applies what it returns."""

    switch_key: str
    session: MirrorSession
    operation: ChangeOperation = ChangeOperation.ADD


@dataclass
class ApplyChanges(Message):
    """Send ``changes`` to one switch."""

    switch_key: str
    changes: list[SessionChange]


@dataclass
class OpenSessions(Message):
    """Show the mirror sessions of a switch."""

    switch_key: str


@dataclass
class CopyRequested(Message):
    """Copy ``text`` to the clipboard; the app says "<what> <how it went>."."""

    text: str
    what: str


@dataclass
class GoTo(Message, bubble=False):
    """Show a port (or a NIC on no port) in the explorer.

    Posted to the app, which posts it on to the explorer; it does not bubble (no echo back).
    Textual reads ``bubble`` from the class keyword: a ``bubble = False`` in the body is
    overwritten by ``Message.__init_subclass__`` (and the explorer's copy came back to the app).
    """

    target: Target


@dataclass
class OpenFind(Message, bubble=False):
    """Open the finder if the explorer is the screen shown (posted on like :class:`GoTo`)."""


@dataclass
class SwitchContext(Message):
    """Show another context (tui/contexts.py), then go to ``target`` of its inventory if given."""

    name: str
    target: Target | None = None


# -- reports: the app's workers → app -------------------------------------------------------


@dataclass
class InventoryLoaded(Message):
    """A load finished (or a partial inventory is ready to show)."""

    inventory: Inventory
    partial: bool = False
    update: bool = False
    """A live update of the inventory shown (not a load): screens keep selection, expansion and marks."""
    context: str = ""
    """The context whose load this is (tui/contexts.py; '' without contexts)."""
    delta: Delta | None = None
    """An update's change and the inventory it was applied to (the tree then updates only what changed)."""
    cached_at: str = ""
    """A partial inventory from the cache of an earlier run (:mod:`tui.warm`): when it was loaded (``17:02``)."""


@dataclass
class LiveChanged(Message):
    """The update channel reported (a new inventory, or its state); ``channel`` (its stop event) names which."""

    state: LiveState
    channel: threading.Event


@dataclass
class IndexBuilt(Message):
    """The search index of the loaded inventory is ready."""

    index: LookupIndex


@dataclass
class LoadProgressed(Message):
    """A step of the load, for the progress bar."""

    progress: LoadProgress
    context: str = ""

    def can_replace(self, message: Message) -> bool:
        """Coalesce progress floods."""
        return (
            isinstance(message, LoadProgressed) and message.progress.partial is None and message.context == self.context
        )


@dataclass
class LoadFailed(Message):
    """The load failed with a message for the user."""

    error: BackendError
    context: str = ""


@dataclass
class ChangeApplied(Message):
    """vCenter (or the snapshot) accepted a session change."""

    switch_key: str
    changes: list[SessionChange]
    result: ApplyResult
    offer_verify: bool = False
    """The change came from the wizard's Create: offer to verify the new session."""


@dataclass
class ChangeFailed(Message):
    """A session change was refused, failed, or found the switch changed meanwhile."""

    switch_key: str
    changes: list[SessionChange]
    error: BackendError


# -- reports: the explorer's live-traffic worker → the explorer ------------------------------


@dataclass
class LiveTrafficRead(Message):
    """One reading of the port the explorer watches (``stats``; ``None``: not reported), or the
    error that came instead (``unsupported``: the server cannot give counters at all).

    ``generation`` names the watch it belongs to: a reading for a port no longer watched is dropped.
    """

    generation: int
    stats: PortStatistics | None = None
    error: str = ""
    hint: str = ""
    unsupported: bool = False
    at: float = 0.0
    """When the error came (POSIX seconds)."""
