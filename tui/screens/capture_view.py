"""The capture step, the operator's: a host of interest, the filter to edit, the interface to use.

:class:`CapturePanel` is the wizard review's last part; :class:`CaptureScreen` shows the same
panel for a session of the sessions screen. The host of interest is typed as an IP, a network,
a MAC or a VM's name (suggested from the inventory as you type: ``KRBCLIENT01`` stands for
``172.24.4.52``); the filter follows it and can then be edited by hand. The interface is named
as precisely as the inventory allows (the destination NIC's VM, label, MAC and portgroup). For
an Encapsulated Remote Mirroring (L3) Source the collector's recipe is shown instead: the outer
GRE/ERSPAN filter and the Linux tunnel device that decapsulates the frames.
"""

from __future__ import annotations

import shlex

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Label, Static

from tui import capture
from tui.messages import CopyRequested
from tui.model import Inventory, MirrorSession, SessionType
from tui.rules import effective_type
from tui.text import SafeText as Text
from widgets.safe_input import SafeInput as Input


class CapturePanel(Vertical):
    """Host of interest, filter and the command or recipe for one session."""

    DEFAULT_CSS = """
    CapturePanel { height: auto; }
    CapturePanel .row { height: auto; }
    CapturePanel .capture-label { width: 18; text-style: bold; }
    CapturePanel Input { width: 1fr; background: $boost; }
    CapturePanel .capture-hint { margin-left: 18; height: auto; color: $text-muted; }
    CapturePanel #capture-how { height: auto; margin-top: 1; }
    """

    def __init__(
        self,
        inventory: Inventory,
        switch_key: str,
        session: MirrorSession,
        *,
        copy_keys: str = "y or ctrl+y",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.copy_keys = copy_keys
        """The keys that copy the filter where the panel is shown (said in its title)."""
        self.inventory = inventory
        self.switch_key = switch_key
        self.session = session
        self.hosts: list[str] = []
        """The addresses of interest the host field stands for."""

    def compose(self) -> ComposeResult:
        """Title, host of interest, filter, how."""
        yield Static(id="capture-title")
        with Horizontal(classes="row"):
            yield Label("Host of interest", classes="capture-label")
            yield Input(
                placeholder="e.g. 172.24.4.52, or a VM's name such as KRBCLIENT01",
                id="capture-host",
                compact=True,
                suggester=SuggestFromList(capture.vm_names(self.inventory), case_sensitive=False),
            )
        yield Static(id="capture-host-hint", classes="capture-hint")
        with Horizontal(classes="row"):
            yield Label("Capture filter", classes="capture-label")
            yield Input(placeholder="(empty: every mirrored frame)", id="capture-filter", compact=True)
        yield Static(id="capture-how")

    def on_mount(self) -> None:
        """The filter for the session as it is."""
        self.show(self.session)

    def on_descendant_focus(self) -> None:
        """Bring the whole panel into view: the filter and the command follow what is typed."""
        self.call_after_refresh(self.scroll_visible, animate=False)

    @property
    def erspan(self) -> bool:
        """Whether the destination is a collector's IP (the recipe, not a local capture)."""
        return effective_type(self.session) is SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE

    @property
    def filter(self) -> str:
        """The filter as it stands (the operator may have edited it)."""
        return self.query_one("#capture-filter", Input).value.strip()

    def show(self, session: MirrorSession) -> None:
        """Show ``session``: the filter is regenerated from it and the host of interest."""
        self.session = session
        title = "Receive on the collector" if self.erspan else "Capture on the destination"
        self.query_one("#capture-title", Static).update(
            Text(f"\n{title} ({self.copy_keys} copies the filter)", style="bold")
        )
        self._regenerate()

    @on(Input.Changed, "#capture-host")
    def _host_changed(self) -> None:
        self._regenerate()

    @on(Input.Changed, "#capture-filter")
    def _filter_changed(self) -> None:
        self._how()

    def _regenerate(self) -> None:
        hint = self.query_one("#capture-host-hint", Static)
        text = self.query_one("#capture-host", Input).value
        try:
            self.hosts, said = capture.interest(self.inventory, text)
        except ValueError as e:
            self.hosts = []
            hint.update(Text(f"✗ {e}", style="red"))
            hint.display = True
        else:
            hint.update(Text(said))
            hint.display = bool(said)
        try:
            flt = capture.capture_filter(
                self.inventory, self.switch_key, self.session, host=None if self.erspan else self.hosts
            )
        except ValueError:  # a destination IP tcpdump cannot take (the rules say so)
            flt = ""
        box = self.query_one("#capture-filter", Input)
        if box.value != flt:
            box.value = flt  # Input.Changed then redraws the how
        else:
            self._how()

    def _how(self) -> None:
        how = Text()
        if self.erspan:
            try:
                lines = capture.receiver_recipe(self.inventory, self.switch_key, self.session, self.hosts)
            except ValueError:
                lines = []
            how.append("\n".join(lines))
        else:
            cmd = ["tcpdump", "-i", "IFACE", "-nn", "-e"] + ([self.filter] if self.filter else [])
            how.append(" ".join(shlex.quote(c) for c in cmd), style="bold")
            where = capture.interface_lines(self.inventory, self.switch_key, self.session)
            if where:
                how.append("\nIFACE: " + "\n".join(where))
        self.query_one("#capture-how", Static).update(how)


class CaptureScreen(ModalScreen[None]):
    """The capture panel for a session of the sessions screen."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="capture.close"),
        Binding("ctrl+y", "copy_filter", "Copy filter", id="capture.copy_filter"),
    ]

    def __init__(self, inventory: Inventory, switch_key: str, session: MirrorSession) -> None:
        super().__init__()
        self.inventory = inventory
        self.switch_key = switch_key
        self.session = session

    def compose(self) -> ComposeResult:
        """The panel and two buttons."""
        with Vertical(id="capture-box"):
            yield CapturePanel(self.inventory, self.switch_key, self.session, copy_keys="ctrl+y", id="capture-panel")
            with Horizontal(id="capture-buttons"):
                yield Button("Copy filter", id="capture-copy", compact=True)
                yield Button("Close", id="capture-close", compact=True)

    def on_mount(self) -> None:
        """Title; the host field has the focus."""
        name = self.session.name or f"key {self.session.key}"
        self.query_one("#capture-box").border_title = Text(f"Capture for session {name}").plain.replace("[", "\\[")
        self.query_one("#capture-host", Input).focus()

    def action_close(self) -> None:
        """Back to the sessions."""
        self.dismiss(None)

    def action_copy_filter(self) -> None:
        """Copy the filter as edited."""
        flt = self.query_one(CapturePanel).filter
        if flt:
            self.post_message(CopyRequested(flt, f"Capture filter {flt}"))

    @on(Button.Pressed, "#capture-copy")
    def _copy(self) -> None:
        self.action_copy_filter()

    @on(Button.Pressed, "#capture-close")
    def _close(self) -> None:
        self.dismiss(None)
