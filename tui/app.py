"""The Textual application: owns the backend, loads the inventory, hosts the screens.

``build_app`` is the one factory used by ``dvmirror``, the tests and the screenshot script.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.reactive import var

from tui.backends import Backend, BackendError, LoadProgress
from tui.clipboard import CopyResult, copy_text
from tui.lookup import LookupIndex
from tui.model import Inventory
from tui.paths import STYLES_DIR
from tui.screens.palette import InventoryCommands


@dataclass
class InventoryLoaded(Message):
    """A load finished (or a partial inventory is ready to show)."""

    inventory: Inventory
    partial: bool = False


@dataclass
class IndexBuilt(Message):
    """The search index of the loaded inventory is ready."""

    index: LookupIndex


@dataclass
class LoadProgressed(Message):
    """A step of the load, for the progress bar."""

    progress: LoadProgress

    def can_replace(self, message: Message) -> bool:
        """Coalesce progress floods."""
        return isinstance(message, LoadProgressed) and message.progress.partial is None


@dataclass
class LoadFailed(Message):
    """The load failed with a message for the user."""

    error: BackendError


class DvMirrorApp(App[None]):
    """dvmirror: the vSphere Networking tree, port lookup and port mirroring."""

    TITLE = "dvmirror"
    CSS_PATH = [STYLES_DIR / "app.tcss"]
    COMMANDS = App.COMMANDS | {InventoryCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Quit dvmirror"),
        Binding("question_mark", "help", "Help", key_display="?", id="help", tooltip="This help"),
    ]

    inventory: var[Inventory | None] = var(None, init=False)
    """The inventory shown (partial while the load is running)."""
    index: var[LookupIndex | None] = var(None, init=False)
    """The search index of the complete inventory (``None`` until loaded)."""

    def __init__(
        self,
        backend: Backend,
        *,
        keymap: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.environ = os.environ if environ is None else environ
        self._keymap = dict(keymap or {})
        self.last_copy: CopyResult | None = None

    @property
    def read_only(self) -> bool:
        """True when writes are refused."""
        return self.backend.read_only

    def on_mount(self) -> None:
        """Show the explorer and start loading."""
        from tui.screens.explorer import ExplorerScreen

        if self._keymap:
            self.set_keymap(self._keymap)
        self.push_screen(ExplorerScreen())
        self.load_inventory()

    @work(thread=True, exclusive=True, group="load", exit_on_error=False, description="Loading inventory")
    def load_inventory(self) -> None:
        """Load in a thread; results and progress arrive as messages."""

        def progress(step: LoadProgress) -> None:
            if step.partial is not None:
                self.post_message(InventoryLoaded(step.partial, partial=True))
            self.post_message(LoadProgressed(step))

        try:
            inventory = self.backend.load(progress)
        except BackendError as e:
            self.post_message(LoadFailed(e))
            return
        except Exception as e:  # anything unexpected still reaches the user as a message
            self.post_message(LoadFailed(BackendError(f"Loading failed unexpectedly: {e.__class__.__name__}: {e}")))
            return
        self.post_message(InventoryLoaded(inventory))

    def on_inventory_loaded(self, message: InventoryLoaded) -> None:
        """Publish the inventory to the screens; index it for search once it is on screen."""
        self.inventory = message.inventory
        if not message.partial:
            self.index = None
            # Indexing holds the GIL for a second at 50,000 ports: paint the tree first.
            self.call_after_refresh(self.build_index, message.inventory)

    @work(thread=True, exclusive=True, group="index", exit_on_error=False, description="Indexing ports")
    def build_index(self, inventory: Inventory) -> None:
        """Build the search index in a thread."""
        self.post_message(LoadProgressed(LoadProgress("Indexing ports for search…", 0, None)))
        self.post_message(IndexBuilt(LookupIndex(inventory)))

    def on_index_built(self, message: IndexBuilt) -> None:
        """Search is ready (unless a newer inventory arrived meanwhile)."""
        if message.index.inventory is self.inventory:
            self.index = message.index

    def on_load_progressed(self, message: LoadProgressed) -> None:
        """Move the explorer's progress bar."""
        from tui.screens.explorer import ExplorerScreen

        step = message.progress
        for screen in self.screen_stack:
            if isinstance(screen, ExplorerScreen):
                screen.update_progress(step.done, step.total, step.message)

    def on_load_failed(self, message: LoadFailed) -> None:
        """Show the error with a retry."""
        from tui.screens.error import ErrorScreen

        def retry(again: bool | None) -> None:
            if again:
                self.load_inventory()
            elif self.inventory is None:
                self.exit(return_code=message.error.exit_code)

        self.push_screen(ErrorScreen(message.error, retry_label="Retry"), retry)

    def action_refresh(self) -> None:
        """Reload the inventory from the backend."""
        self.notify("Refreshing…", timeout=2)
        self.load_inventory()

    def action_help(self) -> None:
        """Show the key map."""
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def copy_to_clipboard(self, text: str) -> None:
        """Copy ``text`` by OSC 52 (tmux-aware) and the local clipboard; remember the result."""
        self._clipboard = text
        driver = self._driver
        self.last_copy = copy_text(text, driver.write if driver is not None else (lambda _s: None), self.environ)


def build_app(
    backend: Backend, *, keymap: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> DvMirrorApp:
    """The application for ``backend`` (shared by the CLI, tests and screenshots)."""
    return DvMirrorApp(backend, keymap=keymap, environ=environ)
