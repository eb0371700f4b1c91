"""A change on its way to vCenter: ``ReconfigureDvs_Task`` sent, its task waited for, a refusal read.

:func:`send` starts the task, :func:`wait` polls it to its end, :func:`refusal` turns vCenter's
fault into a :class:`ChangeRefused` (or a :class:`StaleSwitch` for ``ConcurrentAccess``), and
:func:`settle` waits out the tasks vCenter still has queued or running on a switch after the
answer to a change was lost. Nothing here holds a connection or a lock: the backend passes in
what it has (the switch's pyVmomi object, a way to read the switch again, whether it is closing)
and runs these inside its error mapping (vspan.md §5).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tui.backends import ChangeRefused, ConnectionFailed, StaleSwitch
from tui.backends._convert import _vim, _vmodl
from tui.backends._faults import _problem_from_fault
from tui.config import Settings
from tui.model import Problem, Switch

TASK_TIMEOUT = 300.0
"""Seconds a reconfigure task (or the tasks queued before it) may take."""


class NotSent(ConnectionFailed):
    """The connection for a change was refused: the request never left dvmirror."""


def send(dvs: Any, spec: Any, current: Switch, settings: Settings, refuse: Callable[[Any], ChangeRefused]) -> Any:
    """``ReconfigureDvs_Task`` on ``dvs``; a fault raised at once (nothing changed) becomes ``refuse(fault)``.

    A refused TCP connection means the request never left: :class:`NotSent`.
    """
    vmodl = _vmodl()
    try:
        return dvs.ReconfigureDvs_Task(spec)
    except vmodl.MethodFault as fault:
        raise refuse(fault) from None
    except ConnectionRefusedError:
        s = settings
        raise NotSent(
            f"nothing is listening on {s.server}:{s.port} any more; the change to {current.name} was not sent",
            hint="Check that vCenter is running, then refresh (r) and send the change again.",
        ) from None


def refusal(
    fault: Any, switch: Switch, reread: Callable[[Switch], Switch], host_names: dict[str, str]
) -> ChangeRefused:
    """A vCenter fault as ChangeRefused, or StaleSwitch (with the switch ``reread``) for ConcurrentAccess.

    ``NotAuthenticated`` and ``InvalidLogin`` are raised as they are: the caller logs in again.
    """
    vim = _vim()
    if isinstance(fault, (vim.fault.NotAuthenticated, vim.fault.InvalidLogin)):
        raise fault
    if isinstance(fault, vim.fault.ConcurrentAccess):
        fresh = reread(switch)
        return StaleSwitch(
            f"{fresh.name} changed while the change was being sent (ConcurrentAccess); nothing was applied",
            [Problem("ConcurrentAccess", "Someone else changed the switch at the same moment; review and retry.")],
            fresh,
            sent=True,
        )
    problems = [_problem_from_fault(fault, host_names)]
    return ChangeRefused(f"vCenter refused the change: {problems[0].message}", problems, sent=True)


def wait(task: Any, refuse: Callable[[Any], ChangeRefused], closing: Callable[[], bool]) -> None:
    """Wait for a vCenter task (polling is idempotent); raise ``refuse(fault)`` when it fails."""
    delay = 0.05
    deadline = time.monotonic() + TASK_TIMEOUT
    while True:
        info = task.info
        if info.state == "success":
            return
        if info.state == "error":
            raise refuse(info.error)
        if closing():
            raise ConnectionFailed("closed while waiting for vCenter to apply the change")
        if time.monotonic() > deadline:
            raise ChangeRefused(
                f"vCenter did not finish the change within {TASK_TIMEOUT:g} s",
                [Problem("Timeout", "The task is still running; check the switch in vCenter before retrying.")],
                sent=True,
            )
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def settle(content: Any, switch: Switch, closing: Callable[[], bool]) -> None:
    """Wait (up to :data:`TASK_TIMEOUT`) for tasks on ``switch`` that vCenter has queued or is running.

    After a lost answer to ``ReconfigureDvs_Task`` the task may still be queued on a busy
    vCenter: reading the switch before it ends would report "not applied" too early.
    """
    vmodl = _vmodl()

    PC = vmodl.query.PropertyCollector
    recent = list(content.taskManager.recentTask or ())
    if not recent:
        return
    spec = PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=t, skip=False) for t in recent[-50:]],
        propSet=[PC.PropertySpec(type=type(recent[0]), pathSet=["info.entity", "info.state"])],
    )
    deadline = time.monotonic() + TASK_TIMEOUT
    delay = 0.1
    while True:
        result = content.propertyCollector.RetrievePropertiesEx([spec], PC.RetrieveOptions())
        busy = False
        for oc in (result.objects if result is not None else None) or ():
            props = {p.name: p.val for p in oc.propSet or ()}
            entity = props.get("info.entity")
            if getattr(entity, "_moId", None) == switch.moid and props.get("info.state") in ("queued", "running"):
                busy = True
        if not busy or time.monotonic() > deadline or closing():
            return
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
