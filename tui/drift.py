"""Sessions that drift: what each mirror session's ports are now, against what they were when first seen.

A session's :class:`Baseline` is what each of its source and destination ports held when dvmirror
first saw the session (the VM and its managed object ID, the NIC key, label and MAC, the host),
with a fingerprint of the session's own configuration. :func:`drift` compares a baseline with an
inventory and gives :class:`~tui.model.Problem` s with the codes of :data:`DRIFT_CODES`;
:func:`check_session` adds the rules' own warnings (:func:`tui.rules.session_warnings`), which
cover what needs no history: a Distributed Port Mirroring pair on two hosts (``CrossHostMirror``),
a destination with nothing connected (``DestinationNotConnected``) or its link down.

A session whose configuration differs from its baseline's (renamed, its ports edited, by dvmirror
or by any other client) gets a new baseline (its ports as they are now) and one ``SessionChanged``
note (severity info). The baselines are kept by :mod:`tui.drift_store`.

Which problems count (``dvmirror sessions --check`` exits 1, :func:`counts`): every problem of
severity warning or error: the drift codes ``EndpointGone``, ``EndpointChanged``,
``EndpointMoved``, ``EndpointHostChanged`` when the vMotion split a pair on one host into two
(severity warning), and every rule warning. The notes of severity info do not:
``EndpointHostChanged`` of a vMotion that split nothing, and ``SessionChanged``.

Pure Python: no Textual, no pyVmomi.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tui import rules
from tui.model import Inventory, MirrorSession, Problem, SessionType, Severity
from tui.rules_base import effective_type, source_field, uniq

DRIFT_CODES: dict[str, str] = {
    "EndpointGone": "A source or destination port of the session no longer exists on the switch.",
    "EndpointChanged": "Another VM NIC (or nothing) is on a source or destination port than when the session "
    "was first seen, so the session mirrors something else.",
    "EndpointMoved": "The VM NIC that was on a source or destination port is now on another port (a reconnected "
    "NIC gets a new port ID); the session no longer follows it until it is edited.",
    "EndpointHostChanged": "The VM on a source or destination port runs on another host than when the session "
    "was first seen (a vMotion). A warning when it splits a pair of a type that mirrors only on one host "
    "(Distributed Port Mirroring: the rules' CrossHostMirror says so too); otherwise info.",
    "SessionChanged": "The session's configuration differs from when it was first seen (edited by dvmirror or "
    "another client); its ports as they are now become its new baseline. Info.",
}
"""Drift codes (app-level) with what each means; ``field`` is the session attribute of the port."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What one port held when the session was first seen."""

    port: str
    vm: str = ""
    """VM name ("" when no VM NIC was on the port)."""
    vm_key: str = ""
    """The VM's managed object ID (``vm-1042``)."""
    nic_key: str = ""
    """The connectee's NIC key: a VM NIC's device key (``4000``), ``vmk0``, ``vmnic2``."""
    nic: str = ""
    """The NIC's label (``Network adapter 2``)."""
    mac: str = ""
    host: str = ""
    """Host key serving the port (``host-21``)."""
    host_name: str = ""
    owner: str = ""
    """How the port was shown (:meth:`tui.model.Inventory.port_owner`): ``MGTSRVR003UX / Network adapter 2``,
    ``esx-01 vmk0``, ``(free)``."""
    entity: str = ""
    """The connectee's entity (VM or host key); "" when nothing was connected."""

    def to_json(self) -> dict[str, str]:
        return {
            "port": self.port,
            "vm": self.vm,
            "vmKey": self.vm_key,
            "nicKey": self.nic_key,
            "nic": self.nic,
            "mac": self.mac,
            "host": self.host,
            "hostName": self.host_name,
            "owner": self.owner,
            "entity": self.entity,
        }

    @classmethod
    def from_json(cls, data: object) -> Endpoint:
        """An endpoint from :meth:`to_json`'s shape; ``ValueError`` for anything else."""
        if not isinstance(data, dict):
            raise ValueError("an endpoint is not an object")
        names = {
            "port": "port",
            "vm": "vm",
            "vmKey": "vm_key",
            "nicKey": "nic_key",
            "nic": "nic",
            "mac": "mac",
            "host": "host",
            "hostName": "host_name",
            "owner": "owner",
            "entity": "entity",
        }
        values: dict[str, str] = {}
        for api, attr in names.items():
            value = data.get(api, "")
            if not isinstance(value, str) or len(value) > 1000:
                raise ValueError(f"endpoint field {api} is not a short text")
            values[attr] = value
        if not values["port"]:
            raise ValueError("an endpoint has no port")
        return cls(**values)

    @property
    def identity(self) -> tuple[str, str]:
        """What is on the port: (entity, NIC key); ``("", "")`` for nothing."""
        return (self.entity, self.nic_key)


@dataclass(frozen=True, slots=True)
class Baseline:
    """A session as first seen: its configuration's fingerprint and each port's :class:`Endpoint`."""

    fingerprint: str
    endpoints: tuple[Endpoint, ...]
    seen: str = ""
    """When it was recorded (ISO 8601, UTC), for people."""

    def endpoint(self, port: str) -> Endpoint | None:
        return next((e for e in self.endpoints if e.port == port), None)


def fingerprint(session: MirrorSession) -> str:
    """A digest of every API field of the session (its key included)."""
    text = json.dumps(session.to_api(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()[:32]


def endpoint_of(inventory: Inventory, switch_key: str, port_key: str) -> Endpoint | None:
    """What port ``port_key`` holds now, or ``None`` when the switch has no such port."""
    port = inventory.port(switch_key, port_key)
    if port is None:
        return None
    vmnic = inventory.vm_nic(port)
    c = port.connectee
    host = port.host or (vmnic[0].host if vmnic else "")
    if vmnic is not None:
        vm, nic = vmnic
        return Endpoint(
            port=port_key,
            vm=vm.name,
            vm_key=vm.key,
            nic_key=str(nic.key),
            nic=nic.label,
            mac=nic.mac or port.mac,
            host=host,
            host_name=inventory.host_name(host),
            owner=inventory.port_owner(port),
            entity=vm.key,
        )
    return Endpoint(
        port=port_key,
        nic_key=c.nic_key if c else "",
        mac=port.mac,
        host=host,
        host_name=inventory.host_name(host),
        owner=inventory.port_owner(port) if c else "nothing",
        entity=c.entity if c else "",
    )


def baseline_of(inventory: Inventory, switch_key: str, session: MirrorSession, seen: str = "") -> Baseline:
    """The session's baseline as the inventory has it now (ports the switch lacks are left out)."""
    ends = (endpoint_of(inventory, switch_key, k) for k in _keys(session))
    return Baseline(fingerprint(session), tuple(e for e in ends if e is not None), seen)


def session_port_keys(session: MirrorSession) -> list[str]:
    """The keys of the session's source and destination ports, each once."""
    return uniq((*session.source_rx.port_keys, *session.source_tx.port_keys, *session.destination.port_keys))


_keys = session_port_keys


def _role(session: MirrorSession, key: str) -> tuple[str, str]:
    """(field, word) of port ``key`` in the session: the destination wins over a source."""
    if key in session.destination.port_keys:
        return "destination", "destination"
    return source_field(session, key), "source"


def _was(e: Endpoint) -> str:
    return e.owner if e.entity else "nothing"


def _where_now(inventory: Inventory, switch_key: str, e: Endpoint) -> tuple[str, str] | None:
    """(switch key, port key) of the VM NIC that was on the port, where it is now (``None``: on no port,
    or gone). Found by the VM's managed object ID, else by its name when only one VM has it."""
    if not e.vm_key:
        return None
    vm = inventory.vms.get(e.vm_key)
    if vm is None or vm.name != e.vm:
        named = [v for v in inventory.vms.values() if v.name == e.vm]
        vm = named[0] if len(named) == 1 else vm
    if vm is None:
        return None
    nic = next((n for n in vm.nics if str(n.key) == e.nic_key), None)
    if nic is None or not nic.switch or not nic.port:
        return None
    return nic.switch, nic.port


_SAME_HOST_TYPES = (SessionType.DV_PORT_MIRROR, SessionType.MIXED_DEST_MIRROR)


def _splits(baseline: Baseline, inventory: Inventory, switch_key: str, session: MirrorSession, key: str) -> bool:
    """Whether port ``key`` and a port at the other end of the session were on one host when first seen
    and are on two now, in a session type that mirrors only on one host (V28)."""
    if effective_type(session) not in _SAME_HOST_TYPES:
        return False
    dests = uniq(session.destination.port_keys)
    others = list(session.sources()) if key in dests else dests
    was, now = baseline.endpoint(key), endpoint_of(inventory, switch_key, key)
    for other in others:
        was_other, now_other = baseline.endpoint(other), endpoint_of(inventory, switch_key, other)
        if was is None or now is None or was_other is None or now_other is None:
            continue
        if was.host and was.host == was_other.host and now.host and now_other.host and now.host != now_other.host:
            return True
    return False


def _session_name(s: MirrorSession) -> str:
    return s.name or f"session {s.key}"


def drift(baseline: Baseline, inventory: Inventory, switch_key: str, session: MirrorSession) -> list[Problem]:
    """How ``session``'s ports differ from ``baseline``: the problems of :data:`DRIFT_CODES`.

    A configuration that differs from the baseline's gives only ``SessionChanged`` (the caller
    records a new baseline). Warnings first, then the notes.
    """
    if baseline.fingerprint != fingerprint(session):
        return [
            Problem(
                "SessionChanged",
                f"{_session_name(session)} was changed since dvmirror first saw it"
                f"{f' ({baseline.seen})' if baseline.seen else ''}; its ports as they are now are its new baseline.",
                "",
                Severity.INFO,
            )
        ]
    switch = inventory.switches.get(switch_key)
    switch_name = switch.name if switch else switch_key
    warnings: list[Problem] = []
    notes: list[Problem] = []
    for key in _keys(session):
        was = baseline.endpoint(key)
        if was is None:
            continue
        fld, role = _role(session, key)
        now = endpoint_of(inventory, switch_key, key)
        if now is None:
            warnings.append(
                Problem(
                    "EndpointGone",
                    f"Port {key} ({role}) no longer exists on {switch_name}; it was {_was(was)} when first seen.",
                    fld,
                    Severity.WARNING,
                )
            )
        elif now.identity != was.identity:
            warnings.append(
                Problem(
                    "EndpointChanged",
                    f"Port {key} ({role}) was {_was(was)}, now {_was(now)}: the session mirrors "
                    f"{'to' if role == 'destination' else 'from'} something else than when first seen.",
                    fld,
                    Severity.WARNING,
                )
            )
        elif now.host and was.host and now.host != was.host:
            text = f"{role.capitalize()} {now.vm or now.owner} (port {key}) moved to host {now.host_name or now.host}"
            text += f" (from {was.host_name or was.host}: a vMotion) since the session was first seen"
            if _splits(baseline, inventory, switch_key, session, key):
                text += f"; {session.type_label} now mirrors nothing between these ports (CrossHostMirror)."
                warnings.append(Problem("EndpointHostChanged", text, fld, Severity.WARNING))
            else:
                notes.append(Problem("EndpointHostChanged", text + ".", fld, Severity.INFO))
        if was.vm_key and (now is None or now.identity != was.identity):
            place = _where_now(inventory, switch_key, was)
            if place is not None and place != (switch_key, key):
                sw, port = place
                other = inventory.switches.get(sw)
                elsewhere = "" if sw == switch_key else f" of {other.name if other else sw}"
                warnings.append(
                    Problem(
                        "EndpointMoved",
                        f"{was.owner} is now on port {port}{elsewhere}: the NIC was reconnected; edit the session "
                        f"to follow it (its {role} is still port {key}).",
                        fld,
                        Severity.WARNING,
                    )
                )
    return warnings + notes


def check_session(
    baseline: Baseline | None, inventory: Inventory, switch_key: str, session: MirrorSession
) -> list[Problem]:
    """Drift against ``baseline`` (none: nothing to compare) and the rules' warnings, warnings before notes."""
    found = drift(baseline, inventory, switch_key, session) if baseline is not None else []
    found += rules.session_warnings(inventory, switch_key, session)
    return [p for p in found if p.severity is not Severity.INFO] + [p for p in found if p.severity is Severity.INFO]


def counts(problems: Iterable[Problem]) -> bool:
    """True when any problem makes ``sessions --check`` fail: severity warning or error."""
    return any(p.severity is not Severity.INFO for p in problems)


def notice(session: MirrorSession, problem: Problem) -> str:
    """A notification's text: ``Session F5 DMZ to monitor: <the problem>``."""
    return f"Session {_session_name(session)}: {problem.message}"


Found = Mapping[tuple[str, str], Sequence[Problem]]
"""Every session's problems by (switch key, session key), as :meth:`tui.drift_store.BaselineStore.check` gives."""


def problems_of(found: Found, inventory: Inventory, switch_key: str, session: MirrorSession) -> list[Problem]:
    """The session's problems from ``found``; the rules' warnings alone for a session not in it (one
    not yet checked: a partial inventory, a session without a key)."""
    known = found.get((switch_key, session.key or ""))
    return list(known) if known is not None else rules.session_warnings(inventory, switch_key, session)


def new_problems(before: Found, after: Found) -> list[tuple[tuple[str, str], Problem]]:
    """The problems (warnings and errors, not info notes) of ``after`` that ``before`` did not have
    for the same session (by code, field and message): what a notification tells. A new
    ``CrossHostMirror`` is left out when the same session has a new ``EndpointHostChanged`` warning,
    which says it already (one vMotion, one notification)."""
    out: list[tuple[tuple[str, str], Problem]] = []
    for ident, problems in after.items():
        old = {(p.code, p.field, p.message) for p in before.get(ident, ())}
        new = [p for p in problems if p.severity is not Severity.INFO and (p.code, p.field, p.message) not in old]
        if any(p.code == "EndpointHostChanged" for p in new):
            new = [p for p in new if p.code != "CrossHostMirror"]
        out += [(ident, p) for p in new]
    return out
