"""Prepare and restore a monitor port through a backend, audited and remembered; for the CLI and the TUI.

:func:`prepare` applies a reviewed :class:`~tui.monitor.MonitorPlan` (``backend.monitor_apply``),
writes one audit entry (:func:`tui.audit.record_monitor`: operation ``monitorPrepare`` with the
specs sent) and remembers where the NIC was (:mod:`tui.monitor_store`); :func:`restore` puts it back
(``monitorRestore``). Both return a :class:`MonitorOutcome` with the audit result (``ok``,
``refused``, ``fault``, ``error``) and the CLI exit code, and never raise for a backend failure.
Blocking: the app calls them from a worker thread. No Textual, no pyVmomi.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from tui import audit, monitor_store
from tui.backends import EXIT_FAULT, EXIT_OK, EXIT_PROBLEMS, Backend, BackendError, ChangeInterrupted, ChangeRefused
from tui.config import redact_url
from tui.model import Inventory, Problem
from tui.monitor import MonitorPlan, MonitorRequest, MonitorResult, RestoreRecord, find_vm


class MonitorBackend(Backend, Protocol):
    """A backend that can prepare a monitor port (both of dvmirror's do)."""

    def monitor_plan(self, inventory: Inventory, request: MonitorRequest) -> MonitorPlan: ...

    def monitor_apply(self, inventory: Inventory, plan: MonitorPlan) -> MonitorResult: ...

    def monitor_restore(
        self, inventory: Inventory, record: RestoreRecord, *, remove_portgroup: bool = False, dry_run: bool = False
    ) -> tuple[dict[str, Any] | None, Problem, MonitorResult | None]: ...


@dataclass(frozen=True, slots=True)
class MonitorOutcome:
    """What happened, for people and for ``--json``."""

    result: str
    """``ok``, ``refused`` (nothing sent), ``fault`` (vCenter refused), ``error`` (failed; see message),
    ``unknown`` (the connection failed after sending), ``nothing`` (nothing to do)."""
    exit_code: int
    done: MonitorResult | None = None
    problems: tuple[Problem, ...] = ()
    message: str = ""
    spec: dict[str, Any] | None = None
    """(restore) the ``VirtualMachineConfigSpec`` sent or, on a dry run, that would be."""
    notices: tuple[str, ...] = field(default_factory=tuple)
    """The audit log or the records file could not be written: why."""


_stores: weakref.WeakKeyDictionary[Any, monitor_store.MonitorStore] = weakref.WeakKeyDictionary()


def store_for(backend: Backend) -> monitor_store.MonitorStore:
    """The records of ``backend``: the file for vCenter, memory (for the run) for the demo lab and snapshots."""
    store = _stores.get(backend)
    if store is None:
        store = monitor_store.MonitorStore.open(None if backend.offline else monitor_store.default_path())
        _stores[backend] = store
    elif store.path is not None:
        fresh = store._read()  # another dvmirror may have written meanwhile
        if store.path is not None:
            store.records = fresh
    return store


def scope(backend: Backend, inventory: Inventory) -> str:
    """Which vCenter a record belongs to: the SDK URL without credentials, else vCenter's own name."""
    s = backend.settings
    return redact_url(s.url) if s.server else inventory.vcenter


def _failure(e: BackendError) -> tuple[str, int, tuple[Problem, ...]]:
    if isinstance(e, ChangeInterrupted):
        return {False: "error", True: "ok", None: "unknown"}[e.applied], e.exit_code, tuple(e.problems)
    if isinstance(e, ChangeRefused):
        return ("fault" if e.sent else "refused"), e.exit_code, tuple(e.problems)
    return "error", e.exit_code, (Problem(type(e).__name__, e.message),)


def prepare(backend: MonitorBackend, inventory: Inventory, plan: MonitorPlan) -> MonitorOutcome:
    """Apply a reviewed plan (errors in it: refused, nothing sent), audit it, remember where the NIC was."""
    switch = plan.switch.name if plan.switch else plan.request.switch
    if plan.nothing_to_do:
        return MonitorOutcome("nothing", EXIT_OK, problems=plan.problems)
    change: dict[str, Any] = {
        "operation": "monitorPrepare",
        "vm": plan.vm.name if plan.vm else plan.request.vm,
        "nic": plan.nic.label if plan.nic else plan.request.nic,
        "portgroup": plan.portgroup_name,
        "vlan": plan.request.vlan,
        "createDVPortgroupSpec": plan.create_spec,
        "reconfigVMSpec": plan.reconfig_spec,
    }
    warnings = tuple(p for p in plan.problems if p not in plan.errors)
    notices: list[str] = []
    store = store_for(backend)
    pending: RestoreRecord | None = None
    # Written before anything is sent, so a move that happens (even one whose answer is lost) can be
    # undone; a record of this NIC kept from an earlier prepare keeps where it was first.
    if (
        not plan.errors
        and plan.vm is not None
        and plan.nic is not None
        and not store.find(scope(backend, inventory), plan.vm.key, plan.nic.key)
    ):
        pending = _record(backend, inventory, plan, plan.portgroup.key if plan.portgroup else "", False)
        stored = store.put(pending)
        if stored:
            notices.append(stored)
    try:
        if plan.errors:
            raise ChangeRefused("the checks found errors; nothing was sent", plan.errors, sent=False)
        done = backend.monitor_apply(inventory, plan)
    except BackendError as e:
        if pending is not None and isinstance(e, ChangeRefused) and not e.sent:
            store.drop(pending)  # known not to have moved: nothing to undo
        result, code, problems = _failure(e)
        failure = audit.record_monitor(backend, inventory, switch, change, result, (*problems, *warnings))
        return MonitorOutcome(
            result, code, problems=(*problems, *warnings), message=str(e), notices=(failure,) if failure else ()
        )
    except Exception as e:  # never a traceback
        problem = Problem("Unexpected", f"{e.__class__.__name__}: {e}")
        audit.record_monitor(backend, inventory, switch, change, "error", (problem,))
        return MonitorOutcome("error", EXIT_FAULT, problems=(problem,), message=f"The change failed unexpectedly: {e}")
    change["port"] = done.port
    change["portgroupKey"] = done.portgroup_key
    failure = audit.record_monitor(backend, inventory, switch, change, "ok", warnings)
    if failure:
        notices.append(failure)
    stored = store.put(_record(backend, inventory, plan, done.portgroup_key, done.created))
    if stored and stored not in notices:
        notices.append(stored)
    return MonitorOutcome("ok", EXIT_OK, done=done, problems=warnings, notices=tuple(notices))


def _record(
    backend: MonitorBackend, inventory: Inventory, plan: MonitorPlan, to_portgroup: str, created: bool
) -> RestoreRecord:
    """Where the plan's NIC is now, and where it goes."""
    assert plan.vm is not None and plan.nic is not None
    return RestoreRecord(
        vcenter=scope(backend, inventory),
        vm_key=plan.vm.key,
        vm_name=plan.vm.name,
        nic_key=plan.nic.key,
        nic_label=plan.nic.label,
        switch=plan.nic.switch,
        portgroup=plan.nic.portgroup,
        port=plan.nic.port,
        to_portgroup=to_portgroup,
        created_portgroup=created,
        at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def restore(
    backend: MonitorBackend,
    inventory: Inventory,
    vm_name: str,
    nic: str = "",
    *,
    remove_portgroup: bool = False,
    dry_run: bool = False,
) -> MonitorOutcome:
    """Put the NIC ``monitor prepare`` moved back where it was (the record says where)."""
    store = store_for(backend)
    vm = find_vm(inventory, vm_name)
    if vm is None:
        return MonitorOutcome(
            "refused",
            EXIT_PROBLEMS,
            problems=(Problem("VmNotFound", f"No VM called {vm_name} in {inventory.vcenter}."),),
        )
    records = store.find(scope(backend, inventory), vm.key)
    if nic:
        low = nic.strip().lower()
        records = [r for r in records if r.nic_label.lower() == low or str(r.nic_key) == low]
    if not records:
        why = f" ({store.message})" if store.message else ""
        return MonitorOutcome(
            "refused",
            EXIT_PROBLEMS,
            problems=(
                Problem(
                    "NothingToRestore",
                    f"dvmirror has no record of moving an adapter of {vm.name}{' (' + nic + ')' if nic else ''}{why}.",
                ),
            ),
        )
    if len(records) > 1:
        labels = ", ".join(f'"{r.nic_label}"' for r in records)
        return MonitorOutcome(
            "refused",
            EXIT_PROBLEMS,
            problems=(
                Problem("NicAmbiguous", f"dvmirror moved several adapters of {vm.name} ({labels}): choose --nic."),
            ),
        )
    record = records[0]
    switch = inventory.switches.get(record.switch)
    switch_name = switch.name if switch else record.switch
    change: dict[str, Any] = {"operation": "monitorRestore", **record.to_json()}
    try:
        spec, note, done = backend.monitor_restore(
            inventory, record, remove_portgroup=remove_portgroup, dry_run=dry_run
        )
    except BackendError as e:
        result, code, problems = _failure(e)
        failure = audit.record_monitor(backend, inventory, switch_name, change, result, problems)
        return MonitorOutcome(result, code, problems=problems, message=str(e), notices=(failure,) if failure else ())
    if spec is None:
        if note.code == "AlreadyThere":
            store.drop(record)
            return MonitorOutcome("nothing", EXIT_OK, problems=(note,))
        return MonitorOutcome("refused", EXIT_PROBLEMS, problems=(note,))
    if done is None:  # dry run
        return MonitorOutcome("dry-run", EXIT_OK, problems=(note,), spec=spec)
    change["reconfigVMSpec"] = spec
    change["removedPortgroup"] = done.removed
    notices = [n for n in (audit.record_monitor(backend, inventory, switch_name, change, "ok", (note,)),) if n]
    dropped = store.drop(record)
    if dropped:
        notices.append(dropped)
    return MonitorOutcome("ok", EXIT_OK, done=done, problems=(note, *done.warnings), spec=spec, notices=tuple(notices))
