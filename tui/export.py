"""A mirror session handed off to another tool: Ansible, PowerCLI, a pyVmomi script, or JSON.

Each export re-creates the session as it is (an ``add`` of every set field; vCenter gives the new
session its own key) on the switch it is on, found by UUID where the tool can (names are not
unique across datacenters). Names and every other text from vCenter are hostile: each format
quotes them so that no character can end a string or a comment early (Python ``repr``, PowerShell
single quotes with control characters spelled as ``[char]`` codes, YAML double quotes with
Jinja's delimiters marked ``!unsafe``), and comments carry only :func:`tui.text.visible` text.

What ``community.vmware.vmware_vspan_session`` can express is read off the module's own source
(ansible-collections/community.vmware, ``plugins/modules/vmware_vspan_session.py``): one port key
per direction and one destination (a port, an uplink name or an IP by session type), four session
types (no legacy ``mixedDestMirror``), no ERSPAN fields, and a created session is always enabled
(``create_vspan_session`` sets ``enabled=True`` and never reads the option). A session beyond that
gets a comment naming each gap and a task that runs the pyVmomi export instead. PowerCLI has no
port-mirroring cmdlet, so its export sends the raw ``VMwareDVSConfigSpec`` through ``Get-View``.
Pure Python: no Textual, no pyVmomi (the scripts import pyVmomi, this module only writes them).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tui.inventory import Inventory
from tui.mirror_session import API_NAMES, MirrorSession, VspanPorts
from tui.model import Switch
from tui.session_types import SessionType
from tui.text import json_text, visible


class Format(StrEnum):
    """What ``dvmirror session export --as`` writes."""

    ANSIBLE = "ansible"
    POWERCLI = "powercli"
    PYVMOMI = "pyvmomi"
    JSON = "json"


ANSIBLE_MODULE = "community.vmware.vmware_vspan_session"
ANSIBLE_TYPES = frozenset(
    {
        SessionType.DV_PORT_MIRROR,
        SessionType.REMOTE_MIRROR_SOURCE,
        SessionType.REMOTE_MIRROR_DEST,
        SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE,
    }
)
"""The module's ``session_type`` choices."""

_SCALARS = (
    "encapsulation_vlan_id",
    "strip_original_vlan",
    "mirrored_packet_length",
    "normal_traffic_allowed",
    "sampling_rate",
    "encap_type",
    "erspan_id",
    "erspan_cos",
    "erspan_gra_nanosec",
    "netstack",
)
"""Optional session fields, in API order, sent when set (``strip``/``normal traffic`` always are)."""
_ALWAYS = frozenset({"strip_original_vlan", "normal_traffic_allowed"})
_LISTS = (
    ("source_tx", "sourcePortTransmitted"),
    ("source_rx", "sourcePortReceived"),
    ("destination", "destinationPort"),
)
_PORT_FIELDS = (
    ("port_keys", "portKey"),
    ("uplink_names", "uplinkPortName"),
    ("vlans", "vlans"),
    ("ip_addresses", "ipAddress"),
    ("wildcard_types", "wildcardPortConnecteeType"),
)


@dataclass(frozen=True, slots=True)
class Export:
    """One export: its text, and what the chosen tool cannot express (then a fallback is used)."""

    format: Format
    text: str
    limits: tuple[str, ...] = ()


def export(inventory: Inventory, switch: Switch, session: MirrorSession, fmt: Format) -> Export:
    """``session`` of ``switch`` as ``fmt``."""
    if fmt is Format.ANSIBLE:
        limits = ansible_limits(session)
        return Export(fmt, _ansible(inventory, switch, session, limits), tuple(limits))
    writer: dict[Format, Callable[[Inventory, Switch, MirrorSession], str]] = {
        Format.POWERCLI: _powercli,
        Format.PYVMOMI: _pyvmomi,
        Format.JSON: _json,
    }
    return Export(fmt, writer[fmt](inventory, switch, session))


def _set_fields(session: MirrorSession) -> list[tuple[str, Any]]:
    """``(API name, value)`` of every scalar the session sets, in API order: the name and description
    when not empty, ``enabled``, the type when set, then the optional fields that are set."""
    head: list[tuple[str, Any]] = [
        *([("name", session.name)] if session.name else []),
        *([("description", session.description)] if session.description else []),
        ("enabled", session.enabled),
        *([("sessionType", session.session_type)] if session.session_type is not None else []),
    ]
    return head + [
        (API_NAMES[attr], getattr(session, attr))
        for attr in _SCALARS
        if attr in _ALWAYS or getattr(session, attr) is not None
    ]


def _port_lists(ports: VspanPorts) -> list[tuple[str, list[Any]]]:
    return [(api, list(getattr(ports, attr))) for attr, api in _PORT_FIELDS if getattr(ports, attr)]


def _title(inventory: Inventory, switch: Switch, session: MirrorSession) -> str:
    name = f'"{visible(session.name)}"' if session.name else "(no name)"
    where = f"on switch {visible(switch.name)}, vCenter {visible(inventory.vcenter)}"
    return f"mirror session {name} ({visible(session.type_label)}) {where}"


# --- Ansible -----------------------------------------------------------------------------------


def ansible_limits(session: MirrorSession) -> list[str]:
    """What ``community.vmware.vmware_vspan_session`` cannot express of ``session`` (empty: it can)."""
    out: list[str] = []
    kind = session.type
    if kind not in ANSIBLE_TYPES:
        out.append(f"the session type {visible(session.type_label)} is not one of the module's session_type choices")
    if not session.name:
        out.append("the module finds sessions by name, and this one has none")
    if not session.enabled:
        out.append("the module always creates a session enabled (it never reads its `enabled` option)")
    rmd = kind is SessionType.REMOTE_MIRROR_DEST
    allowed_rx = "vlans" if rmd else "port_keys"
    for attr, api in _LISTS:
        ports: VspanPorts = getattr(session, attr)
        if attr == "destination":
            allowed = (
                {
                    SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE: "ip_addresses",
                    SessionType.REMOTE_MIRROR_SOURCE: "uplink_names",
                }.get(kind, "port_keys")
                if kind
                else "port_keys"
            )
        elif attr == "source_rx":
            allowed = allowed_rx
        else:
            allowed = "port_keys"
        if attr == "source_tx" and rmd and ports:
            out.append(f"{api}: the module sends no transmitted sources for {SessionType.REMOTE_MIRROR_DEST.value}")
            continue
        for field_attr, field_api in _PORT_FIELDS:
            values = getattr(ports, field_attr)
            if not values:
                continue
            if field_attr != allowed:
                out.append(f"{api}.{field_api}: the module takes no {field_api} here")
            elif len(values) > 1:
                out.append(f"{api}.{field_api}: {len(values)} entries, the module takes one")
    for attr in ("encap_type", "erspan_id", "erspan_cos", "erspan_gra_nanosec", "netstack"):
        if getattr(session, attr) is not None:
            out.append(f"{API_NAMES[attr]}: the module has no option for it")
    return out


def ansible_notes(session: MirrorSession) -> list[str]:
    """What the module does beyond the session, read off its source: said in comments of the task."""
    notes = ["the module finds the switch by name (not unique across datacenters) and the session by name"]
    if session.type in (SessionType.DV_PORT_MIRROR, SessionType.REMOTE_MIRROR_DEST):
        notes.append("it also turns promiscuous mode on for the destination port")
    if session.type is SessionType.REMOTE_MIRROR_DEST:
        notes.append("it refuses a source VLAN that no portgroup of the switch uses (QueryUsedVlanIdInDvs)")
    return notes


_JINJA = ("{{", "{%", "{#", "}}", "%}", "#}")


def _yaml(value: Any) -> str:
    """A YAML scalar. Strings are double-quoted with JSON escapes (valid YAML); one holding a Jinja
    delimiter is tagged ``!unsafe`` so that Ansible does not template it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = json.dumps(str(value), ensure_ascii=True)
    return f"!unsafe {text}" if any(d in str(value) for d in _JINJA) else text


def _ansible(inventory: Inventory, switch: Switch, session: MirrorSession, limits: list[str]) -> str:
    lines = [
        f"# dvmirror export: {_title(inventory, switch, session)}.",
        "# Connection: the module's hostname/username/password options (or VMWARE_HOST, VMWARE_USER,",
        "# VMWARE_PASSWORD in the environment); the variables below are yours to define.",
    ]
    if limits:
        lines += [f"# {ANSIBLE_MODULE} cannot express this session:"]
        lines += [f"#   - {visible(limit)}" for limit in limits]
        lines += [
            "# So this task runs dvmirror's pyVmomi export instead (the same as `--as pyvmomi`), given on",
            "# its standard input; it reads VCENTER_HOST, VCENTER_USER and VCENTER_PASSWORD.",
            f"- name: {_yaml('Create ' + _plain_title(session, switch) + ' (pyVmomi)')}",
            "  ansible.builtin.command:",
            "    argv: [python3, '-']",
            # !unsafe: Ansible must not template the script (a name may hold Jinja delimiters).
            "    stdin: !unsafe |",
            *(f"      {line}" if line else "" for line in _pyvmomi(inventory, switch, session).splitlines()),
            "  environment:",
            "    VCENTER_HOST: '{{ vcenter_hostname }}'",
            "    VCENTER_USER: '{{ vcenter_username }}'",
            "    VCENTER_PASSWORD: '{{ vcenter_password }}'",
            "  delegate_to: localhost",
            "  changed_when: true",
            "",
        ]
        return "\n".join(lines)
    kind = session.type
    assert kind is not None
    options: list[tuple[str, Any]] = [
        ("switch", switch.name),
        ("name", session.name),
        ("state", "present"),
        ("session_type", kind.value),
        ("enabled", True),
    ]
    if session.description:
        options.append(("description", session.description))
    if session.source_tx.port_keys:
        options.append(("source_port_transmitted", session.source_tx.port_keys[0]))
    if session.source_rx.port_keys:
        options.append(("source_port_received", session.source_rx.port_keys[0]))
    if session.source_rx.vlans:
        options.append(("source_port_received", str(session.source_rx.vlans[0])))
    dest = session.destination
    for values in (dest.port_keys, dest.uplink_names, dest.ip_addresses):
        if values:
            options.append(("destination_port", values[0]))
    for attr, option in (
        ("encapsulation_vlan_id", "encapsulation_vlan_id"),
        ("mirrored_packet_length", "mirrored_packet_length"),
        ("sampling_rate", "sampling_rate"),
    ):
        if getattr(session, attr) is not None:
            options.append((option, getattr(session, attr)))
    options.append(("strip_original_vlan", session.strip_original_vlan))
    options.append(("normal_traffic_allowed", session.normal_traffic_allowed))
    lines += [f"# Note: {note}." for note in ansible_notes(session)]
    lines += [
        "# With state: present, an existing session of this name is removed and created again (new key).",
        f"- name: {_yaml('Create ' + _plain_title(session, switch))}",
        f"  {ANSIBLE_MODULE}:",
        "    hostname: '{{ vcenter_hostname }}'",
        "    username: '{{ vcenter_username }}'",
        "    password: '{{ vcenter_password }}'",
        *(f"    {key}: {_yaml(value)}" for key, value in options),
        "  delegate_to: localhost",
        "",
    ]
    return "\n".join(lines)


def _plain_title(session: MirrorSession, switch: Switch) -> str:
    return f"mirror session {session.name or '(no name)'} on {switch.name}"


# --- PowerCLI ----------------------------------------------------------------------------------

_PS_QUOTES = "'\u2018\u2019\u201a\u201b"
"""PowerShell ends a single-quoted string at any of these (doubling one escapes it)."""


def _ps(text: str) -> str:
    """A PowerShell string expression for ``text``: single quotes, every control or invisible
    character (as :func:`visible` sees it) spelled as ``[char]0xNN``."""
    parts: list[str] = []
    literal = ""
    for ch in text:
        if visible(ch) != ch:
            if literal:
                parts.append(f"'{literal}'")
                literal = ""
            parts.append(f"[char]0x{ord(ch):04X}")
        else:
            literal += ch * 2 if ch in _PS_QUOTES else ch
    if literal or not parts:
        parts.append(f"'{literal}'")
    if len(parts) == 1:
        return parts[0]
    if not parts[0].startswith("'"):
        # The left operand decides what + does: a [char] first would add numbers, not join text.
        parts.insert(0, "''")
    return "(" + " + ".join(parts) + ")"


def _ps_value(value: Any) -> str:
    if isinstance(value, bool):
        return "$true" if value else "$false"
    if isinstance(value, int):
        return str(value)
    return _ps(str(value))


def _powercli(inventory: Inventory, switch: Switch, session: MirrorSession) -> str:
    lines = [
        f"# dvmirror export: {_title(inventory, switch, session)}.",
        "# PowerCLI has no port mirroring cmdlet: this sends the raw VMwareDVSConfigSpec.",
        "# Run it after Connect-VIServer to that vCenter.",
        "$ErrorActionPreference = 'Stop'",
        f"$uuid = {_ps(switch.key)}",
        "$dvs = Get-View -ViewType VmwareDistributedVirtualSwitch | Where-Object { $_.Uuid -eq $uuid }",
        f"if (-not $dvs) {{ throw ('No distributed switch with UUID ' + $uuid + ', named ' + {_ps(switch.name)}) }}",
        "$session = New-Object VMware.Vim.VMwareVspanSession",
    ]
    for api, value in _set_fields(session):
        lines.append(f"$session.{api[0].upper()}{api[1:]} = {_ps_value(value)}")
    for attr, api in _LISTS:
        ports: VspanPorts = getattr(session, attr)
        if not ports:
            continue
        var = f"${api[0].lower()}{api[1:]}"
        lines.append(f"{var} = New-Object VMware.Vim.VMwareVspanPort")
        for field_api, values in _port_lists(ports):
            kind = "int" if field_api == "vlans" else "string"
            items = ", ".join(_ps_value(v) for v in values)
            lines.append(f"{var}.{field_api[0].upper()}{field_api[1:]} = [{kind}[]]@({items})")
        lines.append(f"$session.{api[0].upper()}{api[1:]} = {var}")
    lines += [
        "$before = @($dvs.Config.VspanSession | ForEach-Object { $_.Key })",
        "$change = New-Object VMware.Vim.VMwareDVSVspanConfigSpec",
        "$change.Operation = 'add'",
        "$change.VspanSession = $session",
        "$spec = New-Object VMware.Vim.VMwareDVSConfigSpec",
        "$spec.ConfigVersion = $dvs.Config.ConfigVersion",
        "$spec.VspanConfigSpec = @($change)",
        "$task = $dvs.ReconfigureDvs_Task($spec)",
        "Get-Task -Id ('Task-' + $task.Value) | Wait-Task | Out-Null",
        "$dvs.UpdateViewData('Config.VspanSession')",
        "$dvs.Config.VspanSession | Where-Object { $before -notcontains $_.Key } |",
        "    Select-Object Key, Name, Enabled, SessionType",
        "",
    ]
    return "\n".join(lines)


# --- pyVmomi -----------------------------------------------------------------------------------

_PYVMOMI_MAIN = """

def main() -> int:
    host = os.environ.get("VCENTER_HOST")
    user = os.environ.get("VCENTER_USER")
    password = os.environ.get("VCENTER_PASSWORD")
    if not (host and user and password):
        print("set VCENTER_HOST, VCENTER_USER, VCENTER_PASSWORD (VCENTER_PORT, VCENTER_INSECURE=1)", file=sys.stderr)
        return 2
    si = SmartConnect(
        host=host,
        user=user,
        pwd=password,
        port=int(os.environ.get("VCENTER_PORT", "443")),
        disableSslCertValidation=os.environ.get("VCENTER_INSECURE") == "1",
    )
    try:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
        try:
            dvs = next((d for d in view.view if d.uuid == SWITCH_UUID), None)
        finally:
            view.Destroy()
        if dvs is None:
            print(f"no distributed switch with UUID {SWITCH_UUID!r} (it was {SWITCH_NAME!r})", file=sys.stderr)
            return 1
        before = {s.key for s in dvs.config.vspanSession}
        VS = vim.dvs.VmwareDistributedVirtualSwitch
        spec = VS.ConfigSpec(
            configVersion=dvs.config.configVersion,
            vspanConfigSpec=[VS.VspanConfigSpec(operation="add", vspanSession=session())],
        )
        WaitForTask(dvs.ReconfigureDvs_Task(spec))
        for s in dvs.config.vspanSession:
            if s.key not in before:
                print(f"created session key {s.key} ({s.name!r}) on {dvs.name!r}")
        return 0
    finally:
        Disconnect(si)


if __name__ == "__main__":
    sys.exit(main())
"""


def _pyvmomi(inventory: Inventory, switch: Switch, session: MirrorSession) -> str:
    # repr() of a str escapes every non-printable character: nothing can end the literal early.
    lines = [
        "#!/usr/bin/env python3",
        f"# dvmirror export: {_title(inventory, switch, session)}.",
        '"""Re-create a mirror session (exported by dvmirror; what it is: the comment above).',
        "",
        "Connection from the environment: VCENTER_HOST, VCENTER_USER, VCENTER_PASSWORD,",
        "VCENTER_PORT (default 443), VCENTER_INSECURE=1 to skip certificate checks.",
        '"""',
        "",
        "import os",
        "import sys",
        "",
        "from pyVim.connect import Disconnect, SmartConnect",
        "from pyVim.task import WaitForTask",
        "from pyVmomi import vim",
        "",
        f"SWITCH_UUID = {switch.key!r}",
        f"SWITCH_NAME = {switch.name!r}",
        "",
        "",
        "def session() -> vim.dvs.VmwareDistributedVirtualSwitch.VspanSession:",
        "    VS = vim.dvs.VmwareDistributedVirtualSwitch",
        "    s = VS.VspanSession()",
    ]
    for api, value in _set_fields(session):
        lines.append(f"    s.{api} = {value!r}")
    for attr, api in _LISTS:
        ports: VspanPorts = getattr(session, attr)
        if ports:
            args = ", ".join(f"{field_api}={values!r}" for field_api, values in _port_lists(ports))
            lines.append(f"    s.{api} = VS.VspanPorts({args})")
    lines.append("    return s")
    return "\n".join(lines) + _PYVMOMI_MAIN


# --- JSON --------------------------------------------------------------------------------------


def export_json(inventory: Inventory, switch: Switch, session: MirrorSession) -> dict[str, Any]:
    """The session in the vSphere API's shape, with the switch and vCenter it is on."""
    return {
        "vcenter": inventory.vcenter,
        "switch": {"name": switch.name, "uuid": switch.key},
        "operation": "add",
        "session": session.to_api(),
    }


def _json(inventory: Inventory, switch: Switch, session: MirrorSession) -> str:
    return json_text(export_json(inventory, switch, session), indent=2) + "\n"
