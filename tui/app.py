"""The Textual application: owns the backend, loads the inventory, hosts the screens.

``build_app`` is the one factory used by ``dvmirror``, the tests and the screenshot script.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.reactive import var
from textual.timer import Timer

from tui import drift, drift_store, timebox
from tui.backends import (
    EXIT_CONNECTION,
    Backend,
    BackendError,
    ChangeInterrupted,
    Followable,
    LoadProgress,
    LoginFailed,
    StaleSwitch,
    followable,
)
from tui.clipboard import CopyResult, copy_text
from tui.commands import ContextCommands, InventoryCommands
from tui.config import ConfigError, read_only_hint
from tui.contexts import Context, ContextScope
from tui.drift_store import BaselineStore
from tui.inventory_update import Delta, LiveState
from tui.keymap import resolve_keymap
from tui.lookup import LookupIndex, Target
from tui.messages import (
    AppliedChange,
    ApplyChanges,
    AppState,
    ChangeApplied,
    ChangeFailed,
    CopyRequested,
    GoTo,
    IndexBuilt,
    InventoryLoaded,
    LiveChanged,
    LoadFailed,
    LoadProgressed,
    OpenFind,
    OpenSessions,
    OpenWizard,
    SwitchContext,
)
from tui.model import ChangeOperation, Inventory, MirrorSession, SessionChange
from tui.outcome import apply_and_audit
from tui.paths import STYLES_DIR
from tui.screens.explorer import ExplorerScreen
from tui.text import visible, visible_lines
from tui.verify import DEFAULT_SECONDS
from tui.warm import InventoryCache

INDEX_DELAY = 2.0
"""Seconds after the last live update before the search index is built again (updates in a burst: once)."""

ContextBackend = Callable[[Context], Backend]
"""Makes the backend of a context (``tui.__main__.context_backend``); raises BackendError or ConfigError."""


@dataclass
class ContextView:
    """What the app holds of one context (tui/contexts.py): its connection, inventory and index,
    kept while another context is shown, so that switching back needs no reload."""

    backend: Backend | None = None
    inventory: Inventory | None = None
    index: LookupIndex | None = None
    load_progress: LoadProgress | None = None
    partial: bool = False
    complete: Inventory | None = None
    complete_at: str = ""
    error: BackendError | None = None
    """Why its last load failed (shown when switched to; the others are not affected)."""
    loading: bool = False
    loads: int = 0
    """How many loads were started (a switch back to a loaded context starts none)."""
    explorer: object = None
    """The explorer's marks and selection in this context (ExplorerScreen.save_view)."""
    drift_checked: bool = False
    """Its sessions were checked for drift once (new problems are notified from then on)."""


CACHED_WAIT = 120.0
"""Seconds a change made on the cached tree waits for the live load before it is given up."""


class DvMirrorApp(App[None]):
    """dvmirror: the vSphere Networking tree, port lookup and port mirroring."""

    TITLE = "dvmirror"
    CSS_PATH = [STYLES_DIR / "app.tcss"]
    COMMANDS = App.COMMANDS | {InventoryCommands, ContextCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit dvmirror (asks first while a wizard is open)"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help", tooltip="This help"),
    ]

    inventory: var[Inventory | None] = var(None, init=False)
    """The inventory shown (partial while the load is running)."""
    index: var[LookupIndex | None] = var(None, init=False)
    """The search index of the complete inventory (``None`` until loaded)."""
    load_progress: var[LoadProgress | None] = var(None, init=False)
    """The last step of the load (the explorer's progress bar follows it)."""
    last_change: var[AppliedChange | None] = var(None, init=False, always_update=True)
    """The changes last applied (the explorer forgets marks that became a session)."""
    session_problems: var[drift.Found] = var(dict, init=False)
    """Every session's drift and rule warnings on the last complete inventory (:mod:`tui.drift`);
    set before ``inventory``, so that what watches the inventory reads them fresh."""
    live: var[LiveState | None] = var(None, init=False, always_update=True)
    """What the update channel last reported (``None``: no channel; the header follows ``live_label``)."""

    def __init__(
        self,
        backend: Backend,
        *,
        keymap: Mapping[str, str] | None = None,
        theme: str = "",
        environ: Mapping[str, str] | None = None,
        contexts: Sequence[Context] = (),
        context_backend: ContextBackend | None = None,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.contexts = list(contexts)
        """The contexts (profiles of config.toml, and an ad hoc one) the app can switch between."""
        self._context_backend = context_backend
        self._ctx_name = next((c.name for c in self.contexts if c.current), "")
        self.views: dict[str, ContextView] = {self._ctx_name: ContextView(backend=backend)}
        """One per context visited or searched: its backend, inventory, index and load state."""
        self.environ = os.environ if environ is None else environ
        self._keymap = dict(keymap or {})
        self._theme = theme
        self.last_copy: CopyResult | None = None
        self.partial = False
        """True while the inventory shown is the partial one of a load still running."""
        self.verify_seconds = DEFAULT_SECONDS
        """The window a session verify samples (the sessions screen's ``v`` and the offer after Create)."""
        self.inventory_delta: Delta | None = None
        """What the last live update changed (``None`` after a load); set before ``inventory``."""
        self._complete: Inventory | None = None
        self._complete_at = ""
        """The last complete inventory (and when it was read), kept while a refresh runs."""
        self._cached_at = ""
        """When the cached inventory shown while the first load runs was loaded (:mod:`tui.warm`)."""
        self.explorer = ExplorerScreen()
        """The first screen, always at the bottom of the stack (palette requests go on to it)."""
        self._live_stop: threading.Event | None = None
        """Set to end the update channel running (one, for the context shown)."""
        self._index_timer: Timer | None = None
        """Builds the index once live updates pause."""
        self._baselines: dict[bool, BaselineStore] = {}
        """The session baselines (tui/drift_store.py), opened on the first complete inventory: the
        file's for vCenters, in memory for offline labs."""
        self._expiry_offered: frozenset[tuple[str, str]] = frozenset()
        """(switch, session) keys whose expiry was already said (:meth:`_offer_expire`)."""
        self._drift_of: tuple[Inventory, BaselineStore] | None = None
        """The inventory ``session_problems`` were found on, and with which baselines."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast (screens' ``notify`` comes here too) shows control characters from
        names and vCenter messages as visible escapes (:func:`tui.text.visible_lines`)."""
        super().notify(visible_lines(message), title=visible(title), severity=severity, timeout=timeout, markup=markup)

    @property
    def read_only(self) -> bool:
        """True when writes are refused."""
        return self.backend.read_only

    @property
    def read_only_hint(self) -> str:
        """Where read-only mode comes from and how to leave it ('' when read-write)."""
        if not self.read_only:
            return ""
        return read_only_hint(self.backend.settings.source("read_only"))

    @property
    def context_name(self) -> str:
        """The context shown ('' without contexts)."""
        return self._ctx_name

    def on_mount(self) -> None:
        """Show the explorer and start loading."""
        if self._keymap:
            # Old ids still work for a release (tui/keymap.py); unknown ones are reported like themes.
            keymap, notes = resolve_keymap(self._keymap, binding_ids())
            self.set_keymap(keymap)
            for note in notes:
                self.notify(note, severity="warning", markup=False)
        if self._theme:
            if self._theme in self.available_themes:
                self.theme = self._theme
            else:
                known = ", ".join(sorted(self.available_themes))
                self.notify(
                    f"Unknown theme {self._theme!r} in config.toml; known: {known}", severity="warning", markup=False
                )
        self.push_screen(self.explorer)
        if self._needs_password():
            self.ask_password()
        else:
            self.load_inventory()

    def _needs_password(self) -> bool:
        return self.backend.settings.needs_password

    def ask_password(self, reason: str = "") -> None:
        """Ask for the vCenter password, then load (escape quits)."""
        from tui.screens.connect import PasswordScreen

        settings = self.backend.settings

        backend = self.backend

        def entered(password: str | None) -> None:
            if password is None:
                if self._others_loaded():  # another context is still there: stay
                    self.views[self._ctx_name].error = LoginFailed(f"no password given for {settings.server}")
                    self.explorer.withdraw(f"No password given for {settings.server}: press r to retry, C to switch.")
                    return
                self.exit(return_code=EXIT_CONNECTION)
                return
            backend.settings = settings.with_password(password)
            if backend is self.backend:
                self.load_inventory()

        self.push_screen(PasswordScreen(settings.user, settings.server, reason), entered)

    def load_inventory(self) -> None:
        """Load the current context in a thread; results and progress arrive as messages."""
        self._start_load(self._ctx_name, self.backend)

    def _start_load(self, name: str, backend: Backend) -> None:
        view = self.views.setdefault(name, ContextView(backend=backend))
        view.loading, view.error = True, None
        view.loads += 1
        first = view.loads == 1 and view.inventory is None
        self.run_worker(
            lambda: self._load_thread(name, backend, first),
            thread=True,
            exclusive=True,
            group=f"load:{name}",
            exit_on_error=False,
            description="Loading inventory",
        )

    def _load_thread(self, name: str, backend: Backend, first: bool = False) -> None:
        cache = getattr(backend, "inventory_cache", None)
        cached = self._show_cached(name, backend, cache) if first and cache is not None else False

        def progress(step: LoadProgress) -> None:
            if step.partial is not None and not cached:  # the cached tree stays until the load is complete
                self.post_message(InventoryLoaded(step.partial, partial=True, context=name))
            self.post_message(LoadProgressed(step, context=name))

        try:
            inventory = backend.load(progress)
        except BackendError as e:
            self.post_message(LoadFailed(e, context=name))
            return
        except Exception as e:  # anything unexpected still reaches the user as a message
            error = BackendError(f"Loading failed unexpectedly: {e.__class__.__name__}: {e}")
            self.post_message(LoadFailed(error, context=name))
            return
        self.post_message(InventoryLoaded(inventory, context=name))
        if cache is not None:
            cache.save(backend.settings, inventory)  # for the next start (never for a change: apply re-reads)

    def _show_cached(self, name: str, backend: Backend, cache: InventoryCache) -> bool:
        """Post the inventory an earlier run cached (at most a day old) as a partial one, so that the
        tree is there at once; the live load replaces it when it ends (README "Warm start")."""
        from tui.warm import TUI_MAX_AGE

        cached = cache.load(backend.settings, TUI_MAX_AGE)
        if cached is None:
            return False
        when = datetime.fromtimestamp(cached.saved)
        shown = when.strftime("%H:%M") if when.date() == datetime.now().date() else when.strftime("%b %d %H:%M")
        self.post_message(InventoryLoaded(cached.inventory, partial=True, context=name, cached_at=shown))
        return True

    def on_inventory_loaded(self, message: InventoryLoaded) -> None:
        """Publish the inventory to the screens; index it for search once it is on screen."""
        if message.context != self._ctx_name:  # a context in the background: keep it for later
            view = self.views.get(message.context)
            if view is not None and not message.partial:
                view.inventory, view.index, view.loading, view.error = message.inventory, None, False, None
                view.partial, view.complete = False, None
                view.complete_at = datetime.now().strftime("%H:%M:%S")
                self.build_index(message.inventory, context=message.context)
            return
        if message.cached_at and self.inventory is not None and not self.partial:
            return  # the load ended first: a complete inventory is shown already
        self._cached_at = message.cached_at if message.partial else ""
        if not message.partial:
            self.views[self._ctx_name].loading = False
        if message.partial and not self.partial:
            self._complete = self.inventory  # what a refresh replaces (with any change applied since)
        self.partial = message.partial
        if message.update:
            self._complete_at = datetime.now().strftime("%H:%M:%S")
            self.check_drift(message.inventory, delta=message.delta)  # a drift that happens live is notified
            self.inventory_delta = message.delta
            self.inventory = message.inventory
            # The index of the new inventory is derived from the current one in proportion to the
            # change (LookupIndex.derived). When it cannot be (another inventory indexed, a portgroup
            # renamed, many changes), keep the index until a new one is built: search stays usable,
            # no progress bar. Built in full once updates pause for a moment (0.3 s at 50,000 ports).
            derived = None
            if message.delta is not None and self.index is not None:
                derived = self.index.derived(message.delta)
            if derived is not None:
                self.index = derived
                return
            if self._index_timer is not None:
                self._index_timer.stop()
            self._index_timer = self.set_timer(INDEX_DELAY, lambda: self.build_index(message.inventory, True))
            return
        if not message.partial:
            self._complete, self._complete_at = None, datetime.now().strftime("%H:%M:%S")
            self.check_drift(message.inventory)
            if self._index_timer is not None:
                self._index_timer.stop()
            self._follow(message.inventory)
        self.inventory_delta = None
        self.inventory = message.inventory
        if not message.partial:
            for warning in message.inventory.warnings:
                self.notify(warning, title="Warning", severity="warning", timeout=20, markup=False)
        if not message.partial or message.inventory.ports:  # the port map is searchable before its details
            self.index = None
            # Indexing holds the GIL for a second at 50,000 ports: paint the tree first.
            self.call_after_refresh(self.build_index, message.inventory, message.partial)

    def _drift_scope(self, inventory: Inventory) -> str:
        """Whose baselines: the vCenter's (drift_store.scope); an offline lab's are its own, so the
        demo lab and a snapshot of the same vCenter, both open as contexts, do not mix."""
        if self.backend.offline:
            return f"{self.backend.label}: {inventory.vcenter}"
        return drift_store.scope(self.backend.settings, inventory)

    def check_drift(self, inventory: Inventory, *, quiet: bool = False, delta: Delta | None = None) -> None:
        """Every session's drift and rule warnings (:mod:`tui.drift`) into ``session_problems``; the
        baselines of sessions seen for the first time are recorded. After the first check, each new
        problem is a notification (unless ``quiet``: after a change made here). ``delta``: a live
        update of the inventory checked last; only the sessions it touches are checked again."""
        view = self.views.get(self._ctx_name)
        first = view is None or not view.drift_checked
        if view is not None:
            view.drift_checked = True
        offline = self.backend.offline  # the demo lab and snapshots: baselines for this run only
        store = self._baselines.get(offline)
        if store is None:
            store = self._baselines[offline] = BaselineStore.open(None if offline else drift_store.default_path())
            if store.message:
                self.notify(store.message, title="Session baselines", severity="warning", markup=False)
        since = None
        last = self._drift_of
        if delta is not None and delta.inventory is inventory and last and last[0] is delta.base and last[1] is store:
            since = (delta, self.session_problems)
        found = store.check(self._drift_scope(inventory), inventory, since=since)
        self._drift_of = (inventory, store)
        failed = store.save()
        if failed and failed != store.message:
            store.message = failed  # said once, not on every update
            self.notify(failed, title="Session baselines", severity="warning", markup=False)
        if not first and not quiet:
            for (sw_key, key), problem in drift.new_problems(self.session_problems, found):
                sw = inventory.switches.get(sw_key)
                session = sw.session(key) if sw is not None else None
                if session is not None:
                    self.notify(drift.notice(session, problem), title="Session drift", severity="warning", markup=False)
        self.session_problems = found
        self._offer_expire(inventory)

    def _offer_expire(self, inventory: Inventory) -> None:
        """Say once (per set of sessions) that enabled sessions' time boxes have passed, and how to end them."""
        due = [(sw, s) for sw, s in timebox.expired(inventory, timebox.now_utc()) if s.enabled]
        keys = frozenset((sw.key, s.key or "") for sw, s in due)
        if not keys or keys <= self._expiry_offered:
            return
        self._expiry_offered |= keys
        names = ", ".join(f"{s.name or s.key} on {sw.name}" for sw, s in due[:3]) + (" …" if len(due) > 3 else "")
        self.notify(
            f"{len(due)} mirror session{'s' * (len(due) != 1)} past {'their' if len(due) != 1 else 'its'} time box "
            f"and still enabled: {names}. Open the sessions (S) and press E to disable them.",
            title="Expired sessions",
            severity="warning",
            timeout=20,
            markup=False,
        )

    def build_index(self, inventory: Inventory, quiet: bool = False, context: str | None = None) -> None:
        """Build the search index in a thread (``quiet``: after a live update, without a progress
        step); a newer build for the same context (the one shown by default) replaces it."""
        name = self._ctx_name if context is None else context

        def build() -> None:
            if not quiet:
                self.post_message(LoadProgressed(LoadProgress("Indexing ports for search…", 0, None), context=name))
            self.post_message(IndexBuilt(LookupIndex(inventory)))

        self.run_worker(
            build, thread=True, exclusive=True, group=f"index:{name}", exit_on_error=False, description="Indexing ports"
        )

    def on_index_built(self, message: IndexBuilt) -> None:
        """Search is ready (unless a newer inventory arrived meanwhile)."""
        if message.index.inventory is self.inventory:
            self.index = message.index
        for name, view in self.views.items():  # a context in the background
            if name != self._ctx_name and view.inventory is message.index.inventory:
                view.index = message.index

    # -- live updates ---------------------------------------------------------------------

    @property
    def live_label(self) -> str:
        """The header's word on the update channel (see :class:`tui.messages.AppState`)."""
        if followable(self.backend) is None:
            return ""  # the demo lab and snapshots do not change
        if self.partial and self._cached_at:
            return f"cached, as of {self._cached_at}"
        state = self.live
        if state is None or self._live_stop is None:
            return f"as of {self._complete_at}" if self._complete_at else ""
        if state.status == "live":
            return "live"
        if state.status == "reconnecting":
            return "reconnecting…"
        return f"updates lost: {state.reason} (r reloads)"

    def _stop_following(self) -> None:
        if self._live_stop is not None:
            self._live_stop.set()
            self._live_stop = None
        self.live = None

    def _follow(self, inventory: Inventory, *, catch_up: bool = False) -> None:
        """Start following ``inventory`` (after a complete load, or when its context is switched to:
        ``catch_up`` reads it again first, for what changed while it was not followed), ending the
        channel before: only the context shown is followed."""
        self._stop_following()
        backend = followable(self.backend)  # the demo lab and snapshots do not change
        if backend is None or not self.backend.settings.live:
            return
        self._live_stop = stop = threading.Event()
        # A daemon thread of its own, not a worker: it runs until the app ends, and nothing that
        # waits for the workers to finish (or quitting) waits for it. It is handed this context's
        # backend: a switch meanwhile does not change what it follows.
        threading.Thread(
            target=self.follow_updates, args=(backend, inventory, stop, catch_up), name="dvmirror-live", daemon=True
        ).start()

    def follow_updates(
        self, backend: Followable, inventory: Inventory, stop: threading.Event, catch_up: bool = False
    ) -> None:
        """The backend's update channel, until ``stop`` is set (in its thread); reports arrive as
        :class:`LiveChanged`, and one posted after ``stop`` is set is dropped."""

        def report(state: LiveState) -> None:
            if not stop.is_set():
                self.post_message(LiveChanged(state, stop))

        try:
            backend.follow(inventory, report, stop, resync=catch_up)
        except Exception as e:  # the channel never raises on purpose: say so rather than crash
            report(LiveState("lost", reason=f"{e.__class__.__name__}: {e}"))

    def on_live_changed(self, message: LiveChanged) -> None:
        """A new inventory from the update channel goes where a load's goes; the header follows."""
        if message.channel is not self._live_stop:
            return  # a channel already ended (a reload started another)
        state = message.state
        if state.inventory is not None and not self.partial:
            if state.resync:
                self.notify("Live updates: the inventory was read again to catch up.", timeout=4)
            loaded = InventoryLoaded(state.inventory, update=True, context=self._ctx_name, delta=state.delta)
            self.on_inventory_loaded(loaded)
        previous, self.live = self.live, state
        if state.status == "lost" and (previous is None or previous.status != "lost"):
            self.notify(f"Live updates lost: {state.reason}. Press r to reload.", severity="warning", markup=False)

    def on_load_progressed(self, message: LoadProgressed) -> None:
        """Publish the step (the explorer's progress bar follows ``load_progress``)."""
        if message.context == self._ctx_name:
            self.load_progress = message.progress

    def on_load_failed(self, message: LoadFailed) -> None:
        """Show the error with a retry; a partial inventory of the failed load is withdrawn.

        The tree of a load that stopped midway lacks VMs and ports, so it would claim "0 ports":
        the previous complete inventory comes back (a refresh, said so), or nothing is shown.
        """
        from tui.screens.error import ErrorScreen

        view = self.views.get(message.context)
        if view is not None:
            view.loading, view.error = False, message.error
        if message.context != self._ctx_name:  # shown when that context is switched to
            if view is not None and view.partial:  # its half-read tree is withdrawn, as on screen
                view.inventory, view.partial, view.complete = view.complete, False, None
            return
        if self.partial:
            self.partial = False
            previous, self._complete = self._complete, None
            self.inventory = previous
            if previous is not None:
                self.index = None
                self.call_after_refresh(self.build_index, previous)
                self.notify(
                    f"The refresh did not finish: showing the inventory as loaded at {self._complete_at}.",
                    title="Load interrupted",
                    severity="warning",
                    markup=False,
                )

        def retry(again: bool | None) -> None:
            if again and isinstance(message.error, LoginFailed):
                self.ask_password(message.error.message)
            elif again:
                self.load_inventory()
            elif self.inventory is None and self._others_loaded():
                self.explorer.withdraw(f"{self.backend.label}: {message.error.message} (r: retry, C: contexts)")
            elif self.inventory is None:
                self.exit(return_code=message.error.exit_code)

        self.push_screen(ErrorScreen(message.error, retry_label="Retry"), retry)

    # -- changes ---------------------------------------------------------------------------

    @work(thread=True, group="apply", exit_on_error=False, description="Applying a session change")
    def apply_changes(self, switch_key: str, changes: list[SessionChange], offer_verify: bool = False) -> None:
        """Send ``changes`` to one switch in a thread; the outcome arrives as a message
        (``offer_verify``: the wizard's Create, whose new session is offered a verify).

        While the tree shown is the cached one (:mod:`tui.warm`), the change waits for the live load
        and is checked and sent against it: never on the strength of a cache."""
        if self.partial and self._cached_at:
            self.call_from_thread(
                self.notify, "The tree is the cached one: the change is sent once the live load ends.", timeout=6
            )
            deadline = time.monotonic() + CACHED_WAIT
            while self.partial and self._cached_at and time.monotonic() < deadline:
                time.sleep(0.2)
            if self.partial:
                self.call_from_thread(
                    self.notify,
                    "Nothing was sent: the live load has not ended. Try again once it has.",
                    severity="error",
                    markup=False,
                )
                return
        inventory = self.inventory
        if inventory is None:
            return
        outcome = apply_and_audit(self.backend, inventory, switch_key, changes)
        if outcome.audit_error:
            self.call_from_thread(self.notify, outcome.audit_error, title="Audit log", severity="warning", markup=False)
        if outcome.applied is not None:
            self.post_message(ChangeApplied(switch_key, list(outcome.changes), outcome.applied, offer_verify))
        elif outcome.error is not None:
            self.post_message(ChangeFailed(switch_key, changes, outcome.error))

    def on_change_applied(self, message: ChangeApplied) -> None:
        """Show the re-read switch and say what happened."""
        if self.inventory is not None and message.result.switch.key in self.inventory.switches:
            changed = self.inventory.with_switch(message.result.switch)
            store = self._baselines.get(self.backend.offline)
            if store is not None and not self.partial:
                # A session changed here starts again from its ports as they are now (no SessionChanged).
                vcenter = self._drift_scope(changed)
                for change in message.changes:
                    stored = message.result.switch.session(change.session.key or "")
                    if stored is not None:
                        store.reset(vcenter, changed, message.result.switch.key, stored)
                self.check_drift(changed, quiet=True)
            self.inventory = changed
            self.index = None
            self.call_after_refresh(self.build_index, self.inventory)
        if message.result.recovered:
            self.notify(message.result.recovered, title="Connection lost", severity="warning", markup=False)
        for change in message.changes:
            s = change.session
            verb = {"add": "Created", "edit": "Updated", "remove": "Deleted"}[change.operation.value]
            name = f" {s.name!r}" if s.name else ""
            where = f" ({self.backend.label}: this run only)" if self.backend.offline else ""
            self.notify(
                f"{verb} session{name} (key {s.key}) on {message.result.switch.name}{where}.",
                title="Port mirroring",
                markup=False,
            )
        self.last_change = AppliedChange(message.switch_key, tuple(message.changes))
        if message.offer_verify:
            self.offer_verify(message)

    def offer_verify(self, message: ChangeApplied) -> None:
        """After the wizard's Create: offer to verify the session vCenter created, found by the key
        ``apply`` returned in the switch as re-read (not the draft); none when that key is not known
        or the counters could not show delivery."""
        from tui.screens.verify import VerifyOfferScreen, VerifyScreen
        from tui.verify import plan

        added = [c.session for c in message.changes if c.operation is ChangeOperation.ADD and c.session.key]
        switch = message.result.switch
        created = switch.session(added[0].key) if len(added) == 1 and added[0].key else None
        if created is None or created.key is None or self.inventory is None:
            return
        if switch.key not in self.inventory.switches:
            return
        ports = plan(self.inventory, switch.key, created)
        if ports.unmeasured or not (ports.rx or ports.tx) or not ports.destinations:
            return  # nothing the counters could show (an incomplete session, a destination outside the switch)
        key = created.key

        def answered(verify: bool | None) -> None:
            if verify:
                self.push_screen(VerifyScreen(switch.key, key, seconds=self.verify_seconds))

        self.push_screen(VerifyOfferScreen(created, switch.name, self.verify_seconds), answered)

    def on_change_failed(self, message: ChangeFailed) -> None:
        """Explain the failure; a stale switch is re-read and shown before anything is resent."""
        from tui.screens.error import ErrorScreen

        error = message.error
        fresh = error.switch if isinstance(error, (StaleSwitch, ChangeInterrupted)) else None
        # Only a re-read of a switch already shown replaces it: never a phantom switch in the tree.
        if fresh is not None and self.inventory is not None and fresh.key in self.inventory.switches:
            self.inventory = self.inventory.with_switch(fresh)
        editable = [c for c in message.changes if c.operation is not ChangeOperation.REMOVE]
        applied = isinstance(error, ChangeInterrupted) and error.applied is True
        # Whatever failed, what was typed is kept: "Review again" reopens the wizard with it.
        retry = "Review again" if editable and not applied else None

        def again(review: bool | None) -> None:
            if review and editable:
                self.open_wizard(message.switch_key, editable[0].session, editable[0].operation)

        self.push_screen(ErrorScreen(error, retry_label=retry), again)

    # -- requests from the screens (tui/messages.py) ----------------------------------------

    def on_open_wizard(self, message: OpenWizard) -> None:
        """A screen asks for the wizard."""
        self.open_wizard(message.switch_key, message.session, message.operation)

    def on_apply_changes(self, message: ApplyChanges) -> None:
        """A screen asks to send changes."""
        self.apply_changes(message.switch_key, message.changes)

    def on_open_sessions(self, message: OpenSessions) -> None:
        """Show the sessions of a switch."""
        from tui.screens.sessions import SessionsScreen

        self.push_screen(SessionsScreen(message.switch_key))

    def on_copy_requested(self, message: CopyRequested) -> None:
        """Copy, then say how it went."""
        self.copy_to_clipboard(message.text)
        how = self.last_copy.describe() if self.last_copy else "copied"
        if self.last_copy is not None and self.last_copy.blocked:  # tmux keeps it back: say so, and the fix
            self.notify(f"{message.what} {how}.", title="Not copied", severity="warning", timeout=12, markup=False)
        else:
            self.notify(
                f"{message.what} {how}.",
                title="Copied",
                timeout=6 if self.last_copy and self.last_copy.tmux else 4,
                markup=False,
            )

    def on_go_to(self, message: GoTo) -> None:
        """The palette's "Go to …": on to the explorer."""
        self.explorer.post_message(GoTo(message.target))

    def on_open_find(self, message: OpenFind) -> None:
        """The palette's "Go to port…": the explorer opens its finder if it is shown."""
        if self.screen is self.explorer:
            self.explorer.post_message(OpenFind())

    def open_wizard(
        self, switch_key: str, session: MirrorSession, operation: ChangeOperation = ChangeOperation.ADD
    ) -> None:
        """Open the session wizard; apply what it returns."""
        from tui.screens.wizard import SessionWizard

        if self.inventory is None:
            return
        if operation is ChangeOperation.EDIT and session.key:
            current = self.inventory.switches[switch_key].session(session.key)
            if current is None:
                self.notify("That session no longer exists on the switch.", severity="error")
                return

        def done(change: SessionChange | None) -> None:
            if change is not None:
                self.apply_changes(switch_key, [change], offer_verify=change.operation is ChangeOperation.ADD)

        self.push_screen(SessionWizard(self.inventory, switch_key, session, operation), done)

    def unsent_change(self) -> bool:
        """True while a session wizard is open (its change is not sent until Create)."""
        from tui.screens.wizard import SessionWizard

        return any(isinstance(s, SessionWizard) for s in self.screen_stack)

    async def action_quit(self) -> None:
        """Quit at once, even while a load waits on a silent vCenter; while a session wizard is
        open, ask first (``q``/``ctrl+q`` again in the question quits).

        The backend's close() cuts a call in progress, so the load thread ends and nothing waits
        for it; it runs in a thread because it may wait up to half a second for the backend.
        """
        from tui.screens.confirm import ConfirmQuitScreen

        if self.unsent_change() and not isinstance(self.screen, ConfirmQuitScreen):

            def answered(leave: bool | None) -> None:
                if leave:
                    self._quit_now()

            self.push_screen(ConfirmQuitScreen(), answered)
            return
        self._quit_now()

    def on_unmount(self) -> None:
        """The app ends, however: end the update channel too (its thread stops within a second)."""
        self._stop_following()

    def _quit_now(self) -> None:
        self._stop_following()
        threading.Thread(target=self._close_backend, name="dvmirror-close", daemon=True).start()
        self.exit()

    def _close_backend(self) -> None:
        backends = {id(b): b for b in [self.backend, *(v.backend for v in self.views.values())] if b is not None}
        for backend in backends.values():
            with contextlib.suppress(Exception):  # quitting must not fail
                backend.close()

    def action_refresh(self) -> None:
        """Reload the inventory from the backend."""
        self.notify("Refreshing…", timeout=2)
        self.load_inventory()

    def action_help(self) -> None:
        """Show the key map."""
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    # -- contexts (tui/contexts.py) --------------------------------------------------------

    def _others_loaded(self) -> bool:
        """True when a context other than the current one has an inventory."""
        return any(v.inventory is not None for n, v in self.views.items() if n != self._ctx_name)

    def _context_of(self, name: str) -> Context | None:
        return next((c for c in self.contexts if c.name == name), None)

    def _backend_of(self, name: str) -> Backend | None:
        """The backend of context ``name`` (made on first use); None after telling why not."""
        view = self.views.get(name)
        if view is not None and view.backend is not None:
            return view.backend
        context = self._context_of(name)
        if context is None or self._context_backend is None:
            return None
        try:
            backend = self._context_backend(context)
        except (BackendError, ConfigError) as e:
            self.views[name] = ContextView(error=e if isinstance(e, BackendError) else BackendError(str(e)))
            return None
        except Exception as e:  # a bad profile must not stop the others
            self.views[name] = ContextView(error=BackendError(f"{e.__class__.__name__}: {e}"))
            return None
        view = self.views.setdefault(name, ContextView())
        view.backend, view.error = backend, None
        return backend

    def action_contexts(self) -> None:
        """Choose the context to show (``C``)."""
        from tui.screens.contexts import ContextsScreen

        if not self.contexts:
            self.notify("No contexts: add [profiles.NAME] tables to config.toml.", severity="warning", markup=False)
            return
        if self.screen is not self.explorer:
            return

        def chosen(name: str | None) -> None:
            if name is not None:
                self.switch_context(name)

        self.push_screen(ContextsScreen(self.context_scopes(load=False)), chosen)

    def on_switch_context(self, message: SwitchContext) -> None:
        """The palette's "Context: NAME", or a finder result of another context."""
        self.switch_context(message.name, message.target)

    def switch_context(self, name: str, target: Target | None = None) -> None:
        """Show context ``name``: its own inventory if already loaded (no reload), else load it."""
        if name == self._ctx_name:
            if target is not None:
                self.explorer.post_message(GoTo(target))
            return
        if self._context_of(name) is None:
            self.notify(f"No context called {name!r}.", severity="error", markup=False)
            return
        if self.unsent_change() or self.screen is not self.explorer:
            self.notify("Close this screen first: contexts are switched from the explorer.", severity="warning")
            return
        if any(w.group == "apply" and not w.is_finished for w in self.workers):
            # Its outcome is for the switch of the context shown: wait for it.
            self.notify("A session change is being sent: switch contexts when it is done.", severity="warning")
            return
        backend = self._backend_of(name)
        view = self.views[name]
        if backend is None:
            error = view.error or BackendError(f"context {name} cannot be shown")
            self.notify(f"{name}: {error.message}", title="Context not switched", severity="error", markup=False)
            return
        current = self.views[self._ctx_name]
        current.backend, current.inventory, current.index = self.backend, self.inventory, self.index
        current.load_progress, current.partial = self.load_progress, self.partial
        current.complete, current.complete_at = self._complete, self._complete_at
        current.explorer = self.explorer.save_view()
        self._ctx_name = name
        self.backend = backend
        self.partial, self._complete, self._complete_at = view.partial, view.complete, view.complete_at
        self.explorer.restore_view(view.explorer)
        self.load_progress = view.load_progress
        self.index = view.index
        if view.inventory is not None and not view.partial:
            self.check_drift(view.inventory, quiet=True)  # its sessions' problems, before it is shown
            self._follow(view.inventory, catch_up=True)  # only the context shown is followed live
        else:
            self._stop_following()
            self.live, self.session_problems, self._drift_of = None, {}, None
        self.inventory = view.inventory
        self.explorer.show_header()
        if view.inventory is None:
            if view.error is not None:
                self.explorer.withdraw(f"{backend.label}: {view.error.message} (r: retry, C: contexts)")
                self.post_message(LoadFailed(view.error, context=name))
            elif view.loading:
                self.explorer.withdraw(f"Loading {backend.label}…")
            else:
                self.explorer.withdraw(f"Loading {backend.label}…")
                if self._needs_password():
                    self.ask_password()
                else:
                    self.load_inventory()
        elif view.index is None:
            self.call_after_refresh(self.build_index, view.inventory)
        self.notify(f"Context {name}: {self._context_of(name).where}.", timeout=3, markup=False)  # type: ignore[union-attr]
        if target is not None:
            self.explorer.post_message(GoTo(target))

    def context_scopes(self, load: bool) -> list[ContextScope]:
        """Every context (state ``current`` for the one shown), with its inventory and index if loaded; ``load``
        starts loading (in the background, never asking for a password) those not loaded yet."""
        out = []
        for c in self.contexts:
            if c.name == self._ctx_name:
                error = self.views[c.name].error
                message = error.message if error is not None and self.inventory is None else ""
                out.append(ContextScope(c.name, c.where, self.inventory, self.index, "current", message))
                continue
            view = self.views.get(c.name)
            idle = view is None or (view.inventory is None and not view.loading and view.error is None)
            if load and idle:
                backend = self._backend_of(c.name)
                view = self.views.get(c.name)
                if backend is not None and view is not None and not backend.settings.needs_password:
                    self._start_load(c.name, backend)
            if view is None:
                out.append(ContextScope(c.name, c.where))
            elif idle and view.backend is not None and view.backend.settings.needs_password:
                # Never asked in the background: switching to it (C) asks, as for any context.
                out.append(ContextScope(c.name, c.where, state="needs a password"))
            elif view.error is not None and view.inventory is None:
                out.append(ContextScope(c.name, c.where, state="failed", error=view.error.message))
            elif view.index is not None:
                out.append(ContextScope(c.name, c.where, view.inventory, view.index, "loaded"))
            else:
                state = "loading" if view.loading or view.inventory is not None else "not loaded"
                out.append(ContextScope(c.name, c.where, view.inventory, None, state))
        return out

    def copy_to_clipboard(self, text: str) -> None:
        """Copy ``text`` by OSC 52 (tmux-aware) and the local clipboard; remember the result."""
        self._clipboard = text
        driver = self._driver
        self.last_copy = copy_text(text, driver.write if driver is not None else (lambda _s: None), self.environ)


def _state(app: DvMirrorApp) -> AppState:
    """mypy checks here that the app provides what screens read through ``app_state``."""
    return app


def build_app(
    backend: Backend,
    *,
    keymap: Mapping[str, str] | None = None,
    theme: str = "",
    environ: Mapping[str, str] | None = None,
    contexts: Sequence[Context] = (),
    context_backend: ContextBackend | None = None,
) -> DvMirrorApp:
    """The application for ``backend`` (shared by the CLI, tests and screenshots); ``contexts``
    (tui/contexts.py) and ``context_backend`` let it switch to other vCenters."""
    return DvMirrorApp(
        backend, keymap=keymap, theme=theme, environ=environ, contexts=contexts, context_backend=context_backend
    )


def binding_ids() -> set[str]:
    """The id of every binding of the app and its screens: the ids config.toml's ``[keymap]`` may name."""
    import importlib
    import pkgutil

    from textual.screen import Screen

    import tui.screens

    owners: list[type] = [DvMirrorApp]
    for info in pkgutil.iter_modules(tui.screens.__path__):
        module = importlib.import_module(f"tui.screens.{info.name}")
        owners += [
            cls
            for cls in vars(module).values()
            if isinstance(cls, type) and issubclass(cls, Screen) and cls.__module__ == module.__name__
        ]
    return {b.id for cls in owners for b in getattr(cls, "BINDINGS", ()) if isinstance(b, Binding) and b.id}
