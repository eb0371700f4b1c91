"""The domain model in one import: every name of the modules below, for ``from tui.model import X``.

Frozen dataclasses shared by every layer. Nothing here imports Textual or pyVmomi. Backends
convert what they read into these objects; the UI, the CLI, the lookup index and the rules only
ever see these. Each idea has its own module:

- :mod:`tui.session_types`: what each session type takes (the table of vspan.md §2.2);
- :mod:`tui.mirror_session`: a mirror session and a change to it, in the API's shape;
- :mod:`tui.inventory_objects`: hosts, VMs, NICs, switches, portgroups and ports;
- :mod:`tui.inventory`: the inventory with its indexes and queries;
- :mod:`tui.problem`: a problem with a change, in plain words;
- :mod:`tui.port_stats`: a port's traffic counters and the rates between two readings.

Field names follow the vSphere API where an operator would recognise them. Mirror
sessions keep the API's camelCase names in JSON (see ``MirrorSession.to_api``) so the
CLI output reads like ``config.vspanSession``.
"""

from __future__ import annotations

from tui.inventory import Inventory, PortlessNic
from tui.inventory_objects import (
    Binding,
    Connectee,
    ConnecteeType,
    Host,
    Nic,
    Port,
    Portgroup,
    Switch,
    SwitchCapability,
    Vlan,
    Vm,
    new_session,
)
from tui.mirror_session import API_NAMES, ChangeOperation, Direction, MirrorSession, SessionChange, VspanPorts
from tui.port_stats import (
    COUNTERS,
    STAT_API_NAMES,
    PortRates,
    PortStatistics,
    RateStatus,
    counter_delta,
    port_rates,
    projected,
    rates_between,
)
from tui.problem import Problem, Severity
from tui.session_types import SESSION_TYPES, EncapType, SessionType, SessionTypeSpec

__all__ = [
    "API_NAMES",
    "COUNTERS",
    "SESSION_TYPES",
    "STAT_API_NAMES",
    "Binding",
    "ChangeOperation",
    "Connectee",
    "ConnecteeType",
    "Direction",
    "EncapType",
    "Host",
    "Inventory",
    "MirrorSession",
    "Nic",
    "Port",
    "PortRates",
    "PortStatistics",
    "Portgroup",
    "PortlessNic",
    "Problem",
    "RateStatus",
    "SessionChange",
    "SessionType",
    "SessionTypeSpec",
    "Severity",
    "Switch",
    "SwitchCapability",
    "Vlan",
    "Vm",
    "VspanPorts",
    "counter_delta",
    "new_session",
    "port_rates",
    "projected",
    "rates_between",
]
