"""The hand-off of a session to another tool (``x`` in the sessions screen): :mod:`tui.export`'s
Ansible task, PowerCLI script, pyVmomi script or JSON, to copy or save.

The same text as ``dvmirror session export --as FORMAT``. ``tab``/``shift+tab`` switch formats
(the arrows scroll), ``y`` copies (OSC 52 in an SSH session, as every copy), ``s`` saves it in the
working directory under a name made of the session's (never overwriting a file), ``esc`` closes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static, Tab, Tabs

from tui import export
from tui.export import Format
from tui.messages import CopyRequested
from tui.model import Inventory, MirrorSession, Switch
from tui.text import SafeText as Text
from tui.text import visible

LABELS = {Format.ANSIBLE: "Ansible", Format.POWERCLI: "PowerCLI", Format.PYVMOMI: "pyVmomi", Format.JSON: "JSON"}
SUFFIX = {Format.ANSIBLE: "yml", Format.POWERCLI: "ps1", Format.PYVMOMI: "py", Format.JSON: "json"}


def file_name(session: MirrorSession, fmt: Format) -> str:
    """``dvmirror-<session name>.<suffix>``: letters, digits, ``_``, ``-`` and single dots only."""
    stem = re.sub(r"[^A-Za-z0-9._-]+|\.{2,}", "-", session.name)
    key = re.sub(r"[^A-Za-z0-9_-]+", "-", session.key or "new").strip("-")[:20] or "new"
    stem = re.sub(r"-{2,}", "-", stem).strip("-.")[:60] or f"session-{key}"
    return f"dvmirror-{stem}.{SUFFIX[fmt]}"


def save(directory: Path, name: str, text: str) -> Path:
    """Write ``text`` to a new file ``name`` in ``directory`` (``-2``, ``-3``… before the suffix if taken)."""
    stem, dot, suffix = name.rpartition(".")
    for n in range(1, 100):
        path = directory / (name if n == 1 else f"{stem}-{n}{dot}{suffix}")
        try:
            with open(path, "x", encoding="utf-8") as f:
                f.write(text)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"{name} and 98 numbered copies already exist in {directory}")


class ExportScreen(ModalScreen[None]):
    """One session as an Ansible task, a PowerCLI or pyVmomi script, or JSON."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="export.close"),
        Binding("tab", "format(1)", "Next format", id="export.next_format", show=False, priority=True),
        Binding("shift+tab", "format(-1)", "Previous format", id="export.previous_format", show=False, priority=True),
        Binding("y", "copy", "Copy", id="export.copy", tooltip="Copy the text"),
        Binding("s", "save", "Save", id="export.save", tooltip="Save it in the working directory"),
    ]

    def __init__(self, inventory: Inventory, switch: Switch, session: MirrorSession) -> None:
        super().__init__()
        self.inventory = inventory
        self.switch = switch
        self.session = session
        self.format = Format.ANSIBLE
        self.current = export.export(inventory, switch, session, self.format)

    def compose(self) -> ComposeResult:
        """Formats, the text, what is not expressible."""
        with Vertical(id="export-box"):
            yield Tabs(*(Tab(LABELS[f], id=f"export-{f.value}") for f in Format), id="export-formats")
            yield Static(id="export-note")
            with VerticalScroll(id="export-body"):
                yield Static(id="export-text")
            yield Static(
                Text("tab format · y copy · s save in the working directory · esc close", style="dim"),
                id="export-keys",
            )

    def on_mount(self) -> None:
        """Title; the body has the focus (up/down scroll)."""
        name = visible(self.session.name) or f"key {visible(self.session.key or '')}"
        self.query_one("#export-box").border_title = f"Export {name} · {visible(self.switch.name)}"
        self.query_one("#export-formats", Tabs).can_focus = False
        self.query_one("#export-body").focus()
        self._show()

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        """A format chosen (keys or mouse)."""
        if event.tab.id:
            self.format = Format(event.tab.id.removeprefix("export-"))
            self._show()

    def _show(self) -> None:
        self.current = export.export(self.inventory, self.switch, self.session, self.format)
        note = self.query_one("#export-note", Static)
        if self.current.limits:
            note.update(
                Text(
                    f"{export.ANSIBLE_MODULE} cannot express this session "
                    f"({'; '.join(self.current.limits)}): the task runs the pyVmomi script instead.",
                    style="italic",
                )
            )
        note.display = bool(self.current.limits)
        self.query_one("#export-text", Static).update(Text(self.current.text.rstrip("\n")))
        self.query_one("#export-body", VerticalScroll).scroll_home(animate=False)

    def action_format(self, step: int) -> None:
        """The next or previous format."""
        tabs = self.query_one("#export-formats", Tabs)
        if step > 0:
            tabs.action_next_tab()
        else:
            tabs.action_previous_tab()

    def action_copy(self) -> None:
        """Copy the text shown."""
        self.post_message(CopyRequested(self.current.text, f"{LABELS[self.format]} export"))

    def action_save(self) -> None:
        """Save the text shown in a new file in the working directory."""
        try:
            path = save(Path(os.getcwd()), file_name(self.session, self.format), self.current.text)
        except OSError as e:
            self.notify(f"Not saved: {visible(str(e))}", severity="error", markup=False)
            return
        self.notify(f"Saved {visible(str(path))}", markup=False)

    def action_close(self) -> None:
        """Back to the sessions."""
        self.dismiss(None)
