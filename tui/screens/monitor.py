"""Prepare a monitor port (``P`` on a VM's port in the explorer, or from the wizard's empty destination).

The walkthrough's steps 1-3 in one dialog: the VM and its adapter, the mirroring VLAN (a free one
suggested: 205 unless another portgroup of the switch uses it), the portgroup name (dvPgMirror).
``Review`` (ctrl+r) plans it (:func:`tui.monitor.plan` through the backend, which reads the VM's
``changeVersion``) and shows the checks and the exact ``CreateDVPortgroup_Task`` /
``ReconfigVM_Task`` specs; ``Apply`` sends them (:func:`tui.monitor_ops.prepare`, audited) and shows
the adapter's new port. ``Use port N`` closes with :class:`MonitorDone`: the explorer refreshes, the
wizard takes the port as its destination. Backend calls run in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static

from tui import monitor, monitor_ops
from tui.messages import app_state
from tui.model import Inventory, Severity
from tui.monitor import DEFAULT_PORTGROUP, DEFAULT_VLAN, MonitorPlan, MonitorRequest, MonitorResult
from tui.text import SafeText as Text
from tui.text import json_text


@dataclass(frozen=True, slots=True)
class MonitorDone:
    """The adapter is on the mirror portgroup: its port, and the inventory read afterwards."""

    port: str
    switch_key: str
    inventory: Inventory | None
    result: MonitorResult | None = None


class MonitorScreen(ModalScreen[MonitorDone | None]):
    """Prepare a monitor port: review the checks and the specs, then apply."""

    DEFAULT_CSS = """
    MonitorScreen { align: center middle; }
    #monitor-box { width: 96%; max-width: 132; height: 92%; border: round $primary; background: $surface;
                   padding: 0 1; }
    #monitor-fields { height: auto; }
    #monitor-fields .row { height: 1; }
    #monitor-fields Label { width: 16; }
    #monitor-fields Input { width: 1fr; }
    #monitor-review { height: 1fr; background: $boost; }
    #monitor-buttons { height: 1; align-horizontal: right; }
    #monitor-status { width: 1fr; }
    """

    BINDINGS = [
        Binding("escape", "close", "Close", id="monitor.close"),
        Binding("ctrl+r", "review", "Review", id="monitor.review", tooltip="Check and show the specs to send"),
    ]

    def __init__(
        self, vm: str = "", nic: str = "", switch_key: str = "", vlan: int | None = None, *, pin_switch: bool = False
    ) -> None:
        super().__init__()
        self.vm, self.nic, self.switch_key = vm, nic, switch_key
        self.pin_switch = pin_switch
        """Plan on ``switch_key`` only (the wizard's switch), not on whatever switch the NIC is on."""
        self.vlan = vlan
        self.plan: MonitorPlan | None = None
        self.done: MonitorDone | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        inv = app_state(self.app).inventory
        vlan = self.vlan
        if vlan is None:
            sw = self.switch_key or (next(iter(inv.switches), "") if inv else "")
            vlan = monitor.free_vlan(inv, sw, DEFAULT_VLAN, DEFAULT_PORTGROUP) if inv and sw else DEFAULT_VLAN
        with Vertical(id="monitor-box"):
            with Vertical(id="monitor-fields"):
                for label, ident, value, hint in (
                    ("VM", "monitor-vm", self.vm, "the monitor VM, e.g. MGTSRVR003UX"),
                    ("Adapter", "monitor-nic", self.nic, "e.g. Network adapter 2 (empty: the one that fits)"),
                    ("Mirroring VLAN", "monitor-vlan", str(vlan), "1-4094, free on the switch"),
                    ("Portgroup", "monitor-portgroup", DEFAULT_PORTGROUP, "created if the switch has none"),
                ):
                    with Horizontal(classes="row"):
                        yield Label(label)
                        yield Input(value, placeholder=hint, id=ident, compact=True)
            with VerticalScroll(id="monitor-review"):
                yield Static(Text("ctrl+r (Review) checks the request and shows what will be sent."), id="monitor-text")
            with Horizontal(id="monitor-buttons"):
                yield Static(id="monitor-status")
                yield Button("Close", id="monitor-close", compact=True)
                yield Button("Review", id="monitor-review-button", compact=True)
                yield Button("Apply", id="monitor-apply", compact=True, disabled=True)
                yield Button("Use port", id="monitor-use", compact=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#monitor-box").border_title = "Prepare a monitor port"
        self.query_one("#monitor-use").display = False
        first = "#monitor-vlan" if self.vm else "#monitor-vm"
        self.query_one(first, Input).focus()

    def _request(self) -> MonitorRequest | None:
        text = self.query_one("#monitor-vlan", Input).value.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 5):
            self._status(f"{text[:20]!r} is not a VLAN ID (1-4094).")
            return None
        return MonitorRequest(
            vm=self.query_one("#monitor-vm", Input).value.strip(),
            nic=self.query_one("#monitor-nic", Input).value.strip(),
            vlan=int(text),
            portgroup=self.query_one("#monitor-portgroup", Input).value.strip() or DEFAULT_PORTGROUP,
            switch=self.switch_key if self.pin_switch else "",
        )

    def _status(self, text: str) -> None:
        self.query_one("#monitor-status", Static).update(Text(text))

    @on(Input.Changed)
    def _edited(self) -> None:
        if self.done is None:
            self.plan = None
            self.query_one("#monitor-apply", Button).disabled = True

    @on(Input.Submitted)
    @on(Button.Pressed, "#monitor-review-button")
    def action_review(self) -> None:
        request = self._request()
        inv = app_state(self.app).inventory
        if request is None or inv is None or self.busy or self.done is not None:
            return
        if not request.vm:
            self._status("Give the VM.")
            return
        self.busy = True
        self._status("Checking…")
        self._plan(inv, request)

    @work(thread=True, exclusive=True, group="monitor")
    def _plan(self, inv: Inventory, request: MonitorRequest) -> None:
        backend = cast(monitor_ops.MonitorBackend, app_state(self.app).backend)
        try:
            plan = backend.monitor_plan(inv, request)
        except Exception as e:  # a connection failure: said, never a traceback
            self.app.call_from_thread(self._failed, f"{e}")
            return
        self.app.call_from_thread(self._show_plan, plan)

    def _failed(self, text: str) -> None:
        self.busy = False
        self._status(text.splitlines()[0][:200] if text else "failed")
        self.query_one("#monitor-text", Static).update(Text(text))

    def _show_plan(self, plan: MonitorPlan) -> None:
        self.busy = False
        self.plan = plan
        parts: list[str] = []
        vm = plan.vm.name if plan.vm else plan.request.vm
        nic = plan.nic.label if plan.nic else "?"
        parts.append(f"{vm} / {nic} → {plan.portgroup_name} (VLAN {plan.request.vlan})")
        parts.append("")
        parts.append("Checks:")
        if not plan.problems:
            parts.append("  ok: VLAN free, adapter, host membership and addresses checked")
        for p in plan.problems:
            mark = {Severity.ERROR: "✗ error", Severity.WARNING: "! warning", Severity.INFO: "· note"}[p.severity]
            parts.append(f"  {mark} {p.code}: {p.message}")
        if plan.create_spec is not None:
            teaming = f" (uplink teaming copied from {plan.template.name})" if plan.template else ""
            parts += ["", f"1. CreateDVPortgroup_Task{teaming}:", json_text(plan.create_spec, indent=2)]
        if plan.reconfig_spec is not None and not plan.nothing_to_do:
            step = "2." if plan.create_spec is not None else "1."
            parts += ["", f"{step} ReconfigVM_Task on {vm}:", json_text(plan.reconfig_spec, indent=2)]
        self.query_one("#monitor-text", Static).update(Text("\n".join(parts)))
        apply = self.query_one("#monitor-apply", Button)
        if plan.nothing_to_do and plan.nic is not None and plan.nic.port:
            self._ready(MonitorDone(plan.nic.port, plan.nic.switch, app_state(self.app).inventory))
            return
        apply.disabled = not plan.ok or app_state(self.app).read_only
        if not plan.ok:
            self._status(f"{len(plan.errors)} error(s): nothing can be sent.")
        elif app_state(self.app).read_only:
            self._status("Read-only mode: nothing can be sent.")
        else:
            self._status("Review the specs, then Apply.")
            apply.focus()

    @on(Button.Pressed, "#monitor-apply")
    def _apply(self) -> None:
        inv, plan = app_state(self.app).inventory, self.plan
        if inv is None or plan is None or not plan.ok or self.busy:
            return
        self.busy = True
        self.query_one("#monitor-apply", Button).disabled = True
        self._status("Sending…")
        self._send(inv, plan)

    @work(thread=True, exclusive=True, group="monitor")
    def _send(self, inv: Inventory, plan: MonitorPlan) -> None:
        backend = cast(monitor_ops.MonitorBackend, app_state(self.app).backend)
        outcome = monitor_ops.prepare(backend, inv, plan)
        fresh: Inventory | None = None
        if outcome.done is not None:
            try:
                fresh = backend.load()
            except Exception:  # the change is made; the explorer's refresh will say what went wrong
                fresh = None
        self.app.call_from_thread(self._sent, outcome, fresh)

    def _sent(self, outcome: monitor_ops.MonitorOutcome, fresh: Inventory | None) -> None:
        self.busy = False
        done = outcome.done
        if done is None:
            lines = [outcome.message or outcome.result, *(f"  {p.code}: {p.message}" for p in outcome.problems)]
            self._failed("\n".join(lines))
            return
        made = f"Created {done.portgroup} ({done.portgroup_key}). " if done.created else ""
        text = f"{made}{done.nic} of {done.vm} is on {done.portgroup}, port {done.port or '?'}."
        said = [*outcome.notices, *(f"{p.code}: {p.message}" for p in outcome.problems)]
        for notice in outcome.notices:  # e.g. the restore record not saved: the move cannot be undone by dvmirror
            self.notify(notice, severity="warning", markup=False)
        self.query_one("#monitor-text", Static).update(
            Text("\n".join([text, *said, "", f"Port {done.port} is ready to be the destination of a mirror session."]))
        )
        switch = next((n.switch for v in (fresh.vms.values() if fresh else ()) if v.name == done.vm for n in v.nics
                       if n.label == done.nic), "")  # fmt: skip
        self._ready(MonitorDone(done.port, switch or self.switch_key, fresh, done))
        self.app.call_later(self.app.run_action, "refresh")  # the app shows the inventory as it is now

    def _ready(self, done: MonitorDone) -> None:
        self.done = done
        use = self.query_one("#monitor-use", Button)
        use.label = f"Use port {done.port}"
        use.display = True
        self.query_one("#monitor-apply", Button).display = False
        self._status(f"Port {done.port} is ready to be the destination.")
        use.focus()

    @on(Button.Pressed, "#monitor-use")
    def _use(self) -> None:
        self.dismiss(self.done)

    @on(Button.Pressed, "#monitor-close")
    def action_close(self) -> None:
        self.dismiss(self.done)
