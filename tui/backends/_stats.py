"""Port traffic counters from vCenter: refresh a few ports' state, then read only those ports.

vCenter holds each dvPort's state (``DVPortState``: runtime info and ``stats``) and renews it
from the hosts when asked: ``RefreshDVPortState(portKeys)`` on the switch. Then
``FetchDVPorts`` with ``PortCriteria(portKey=[...])`` returns just those ports, whose
``state.stats`` (``DistributedVirtualSwitchPortStatistics``) are read here; nothing else of the
reply is used. Two small calls through pyVmomi's own stub, whatever the size of the switch.

Nothing here holds a connection or a lock: the backend runs :func:`read_port_statistics` inside
its error mapping and retries (both calls are idempotent).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from tui.backends import BackendError, StatisticsUnsupported
from tui.backends._convert import _vim, _vmodl
from tui.model import STAT_API_NAMES, PortStatistics
from tui.text import visible


def read_port_statistics(
    dvs: Any, port_keys: Sequence[str], clock: Callable[[], float] = time.time
) -> dict[str, PortStatistics]:
    """The counters of ``port_keys`` on switch ``dvs`` (its pyVmomi object), refreshed first.

    Keys the switch does not have are left out. ``RefreshDVPortState`` declares ``NotFound``
    (pyVmomi's type table): when vCenter raises it, the keys that exist are asked for
    (``FetchDVPortKeys``, keys only) and refreshed alone, so one unknown key does not hide the
    others. ``read_at`` is the middle of the refresh call: vCenter took the counters from the
    hosts during it.
    """
    vim, vmodl = _vim(), _vmodl()
    wanted = list(dict.fromkeys(str(k) for k in port_keys))
    if not wanted:
        return {}
    start = clock()
    try:
        dvs.RefreshDVPortState(portKeys=wanted)
    except (vmodl.fault.MethodNotFound, vmodl.fault.NotSupported):
        # govmomi's stock vcsim: reading the held state instead would show counters that never move.
        raise StatisticsUnsupported(
            "this server does not implement RefreshDVPortState, so port counters cannot be read fresh",
            hint="vCenter has offered it since vSphere 4.0; a simulator may not.",
        ) from None
    except vim.fault.NotFound:
        known = set(dvs.FetchDVPortKeys(vim.dvs.PortCriteria(portKey=wanted)) or ())
        wanted = [k for k in wanted if k in known]
        if not wanted:
            return {}
        start = clock()
        dvs.RefreshDVPortState(portKeys=wanted)
    read_at = (start + clock()) / 2
    ports = dvs.FetchDVPorts(vim.dvs.PortCriteria(portKey=wanted)) or ()
    asked = set(wanted)
    out: dict[str, PortStatistics] = {}
    for port in ports:
        key = str(getattr(port, "key", "") or "")
        if key not in asked or key in out:  # a server that ignores the criteria sends every port
            continue
        stats = getattr(getattr(port, "state", None), "stats", None)
        if stats is None:
            continue
        out[key] = _statistics(key, stats, read_at)
    return {k: out[k] for k in wanted if k in out}


def _statistics(key: str, stats: Any, read_at: float) -> PortStatistics:
    counters: dict[str, int | None] = {}
    for api in STAT_API_NAMES.values():
        value = getattr(stats, api, None)
        counters[api] = None if value is None else int(value)
    try:
        return PortStatistics.from_api(counters, read_at)
    except ValueError as e:
        raise BackendError(
            f"vCenter sent a traffic counter of port {visible(key)} that cannot be read ({visible(str(e))})"
        ) from None
