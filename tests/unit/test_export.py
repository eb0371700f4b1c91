"""``tui.export``: every format for every session type, read back by an independent parser.

Ansible: the YAML is parsed with PyYAML and the task's options are checked against what
``community.vmware.vmware_vspan_session`` documents (its DOCUMENTATION block and the collection's
``vmware`` documentation fragment, ansible-collections/community.vmware). Python: compiled, and the
session's literals read back with ``ast``. PowerShell (no ``pwsh`` here): the string expressions are
decoded by a small reader of PowerShell's single-quote rules. JSON: ``json.loads``. Hostile names
must come back exactly and no output may hold a control character.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

import pytest
import yaml

from tui import export
from tui.backends.snapshot import SnapshotBackend
from tui.export import Format
from tui.inventory import Inventory
from tui.mirror_session import MirrorSession, VspanPorts
from tui.model import Switch
from tui.session_types import SessionType
from tui.text import has_unsafe

# The module's options and their types (DOCUMENTATION of vmware_vspan_session.py, plus the
# connection options of the collection's vmware documentation fragment).
ANSIBLE_OPTIONS: dict[str, type | tuple[type, ...]] = {
    "hostname": str,
    "username": str,
    "password": str,
    "port": int,
    "validate_certs": bool,
    "switch": str,
    "name": str,
    "state": str,
    "session_type": str,
    "enabled": bool,
    "description": str,
    "source_port_transmitted": str,
    "source_port_received": str,
    "destination_port": str,
    "encapsulation_vlan_id": int,
    "strip_original_vlan": bool,
    "mirrored_packet_length": int,
    "normal_traffic_allowed": bool,
    "sampling_rate": int,
}
ANSIBLE_TYPES = {"encapsulatedRemoteMirrorSource", "remoteMirrorDest", "remoteMirrorSource", "dvPortMirror"}

HOSTILE = [
    "vm[prod]",
    "[/x]",
    "it's 'quoted' \u2018smart\u2019 \u201a\u201b",
    '""" end of docstring',
    "{{ lookup('pipe', 'id') }} {% raw %}",
    "new\nline\ttab\x1b[31mred\x7f",
    "bidi \u202eevil\u202c",
    "back\\slash \\N{BULLET}",
    "$(rm -rf ~) `whoami` $env:PATH",
    "\tstarts with a control character",
    "\x1b\x1b",
]

P = VspanPorts
SESSIONS = {
    "dv one port": MirrorSession(
        name="dv",
        source_rx=P(port_keys=("448",)),
        source_tx=P(port_keys=("448",)),
        destination=P(port_keys=("2258",)),
        mirrored_packet_length=60,
    ),
    "dv two sources": MirrorSession(
        name="dv2", source_tx=P(port_keys=("448", "449")), destination=P(port_keys=("2258",)), sampling_rate=10
    ),
    "legacy": MirrorSession(
        name="legacy",
        session_type=SessionType.MIXED_DEST_MIRROR.value,
        source_rx=P(port_keys=("448",)),
        destination=P(port_keys=("2258",), uplink_names=("dvUplink1",)),
        encapsulation_vlan_id=205,
    ),
    "untyped": MirrorSession(name="old", session_type=None, source_rx=P(port_keys=("1",)), destination=P(("2",))),
    "rspan source": MirrorSession(
        name="rs",
        session_type=SessionType.REMOTE_MIRROR_SOURCE.value,
        source_tx=P(port_keys=("450",)),
        destination=P(uplink_names=("dvUplink1",)),
        encapsulation_vlan_id=3001,
        strip_original_vlan=True,
    ),
    "rspan dest": MirrorSession(
        name="rd",
        session_type=SessionType.REMOTE_MIRROR_DEST.value,
        source_rx=P(vlans=(1100,)),
        destination=P(port_keys=("2244",)),
        normal_traffic_allowed=True,
    ),
    "rspan dest two vlans": MirrorSession(
        name="rd2",
        session_type=SessionType.REMOTE_MIRROR_DEST.value,
        source_rx=P(vlans=(0, 1100)),
        destination=P(port_keys=("2244",)),
    ),
    "erspan": MirrorSession(
        name="er",
        session_type=SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE.value,
        source_rx=P(port_keys=("451",)),
        destination=P(ip_addresses=("192.0.2.10",)),
    ),
    "erspan v3 disabled": MirrorSession(
        name="er3",
        enabled=False,
        session_type=SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE.value,
        source_rx=P(port_keys=("451",)),
        destination=P(ip_addresses=("192.0.2.10", "2001:db8::10")),
        encap_type="erspan3",
        erspan_id=1023,
        erspan_cos=7,
        erspan_gra_nanosec=True,
    ),
    "wildcard": MirrorSession(name="wild", source_rx=P(wildcard_types=("vm",)), destination=P(port_keys=("2258",))),
    "no name": MirrorSession(source_rx=P(port_keys=("448",)), destination=P(port_keys=("2258",))),
}
EXPRESSIBLE = {"dv one port", "rspan source", "rspan dest", "erspan"}


@pytest.fixture(scope="module")
def lab() -> tuple[Inventory, Switch]:
    inventory = SnapshotBackend().load()
    return inventory, next(s for s in inventory.switches.values() if s.name == "dvSwitchCloud")


class _Loader(yaml.SafeLoader):
    pass


def _unsafe(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, str]:
    assert isinstance(node, yaml.ScalarNode)
    return {"unsafe": loader.construct_scalar(node)}


_Loader.add_constructor("!unsafe", _unsafe)


def _text(value: Any) -> Any:
    """A YAML value with Ansible's ``!unsafe`` wrapper taken off."""
    return value["unsafe"] if isinstance(value, dict) and set(value) == {"unsafe"} else value


def task_of(text: str) -> dict[str, Any]:
    tasks = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    assert isinstance(tasks, list) and len(tasks) == 1
    task: dict[str, Any] = tasks[0]
    return task


@pytest.mark.parametrize("case", sorted(SESSIONS))
def test_every_format_is_clean_text(lab: tuple[Inventory, Switch], case: str) -> None:
    inventory, switch = lab
    for fmt in Format:
        out = export.export(inventory, switch, SESSIONS[case], fmt)
        assert out.text.endswith("\n") and not has_unsafe(out.text), (case, fmt)


@pytest.mark.parametrize("case", sorted(SESSIONS))
def test_ansible_task_uses_only_documented_options(lab: tuple[Inventory, Switch], case: str) -> None:
    inventory, switch = lab
    session = SESSIONS[case]
    out = export.export(inventory, switch, session, Format.ANSIBLE)
    task = task_of(out.text)
    assert _text(task["name"]).startswith("Create mirror session")
    if case not in EXPRESSIBLE:
        # The module cannot express it: every reason is a comment, and the task runs the pyVmomi script.
        assert out.limits
        for limit in out.limits:
            assert f"#   - {limit}" in out.text
        command = task["ansible.builtin.command"]
        assert command["argv"] == ["python3", "-"]
        script = _text(command["stdin"])
        assert script == export.export(inventory, switch, session, Format.PYVMOMI).text
        compile(script, "stdin", "exec")
        assert set(task["environment"]) == {"VCENTER_HOST", "VCENTER_USER", "VCENTER_PASSWORD"}
        return
    assert out.limits == ()
    options = task[export.ANSIBLE_MODULE]
    for option, value in options.items():
        assert option in ANSIBLE_OPTIONS, option
        expected = ANSIBLE_OPTIONS[option]
        assert isinstance(value, expected) and not (expected is int and isinstance(value, bool)), (option, value)
    assert options["session_type"] in ANSIBLE_TYPES and options["session_type"] == session.session_type
    assert options["state"] == "present" and options["switch"] == switch.name and options["name"] == session.name
    if session.source_tx.port_keys:
        assert options["source_port_transmitted"] == session.source_tx.port_keys[0]
    if session.source_rx:
        received = session.source_rx.port_keys or tuple(map(str, session.source_rx.vlans))
        assert options["source_port_received"] == received[0]
    dest = session.destination
    assert options["destination_port"] == (dest.port_keys or dest.uplink_names or dest.ip_addresses)[0]
    for attr in ("encapsulation_vlan_id", "mirrored_packet_length", "sampling_rate"):
        assert options.get(attr) == getattr(session, attr)
    assert options["strip_original_vlan"] is session.strip_original_vlan
    assert options["normal_traffic_allowed"] is session.normal_traffic_allowed


def test_ansible_limits_name_each_gap() -> None:
    limits = export.ansible_limits(SESSIONS["erspan v3 disabled"])
    assert any("always creates a session enabled" in x for x in limits)
    assert any(x.startswith("destinationPort.ipAddress: 2 entries") for x in limits)
    for field in ("encapType", "erspanId", "erspanCOS", "erspanGraNanosec"):
        assert any(x.startswith(f"{field}:") for x in limits), field
    assert any("mixedDestMirror" not in x and "session type" in x for x in export.ansible_limits(SESSIONS["legacy"]))
    assert any("uplinkPortName" in x for x in export.ansible_limits(SESSIONS["legacy"]))
    assert any("wildcardPortConnecteeType" in x for x in export.ansible_limits(SESSIONS["wildcard"]))
    assert any("by name" in x for x in export.ansible_limits(SESSIONS["no name"]))
    assert any("vlans: 2 entries" in x for x in export.ansible_limits(SESSIONS["rspan dest two vlans"]))
    for case in EXPRESSIBLE:
        assert export.ansible_limits(SESSIONS[case]) == [], case


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_come_back_exactly(lab: tuple[Inventory, Switch], name: str) -> None:
    inventory, switch = lab
    session = MirrorSession(
        name=name, description=name, source_rx=P(port_keys=(name,)), destination=P(port_keys=("2258",))
    )
    hostile_switch = Switch(key=name, name=name, datacenter=switch.datacenter, config_version="1")
    for sw in (switch, hostile_switch):
        # Ansible (expressible: one port each way): the values, untemplated where Jinja could act.
        options = task_of(export.export(inventory, sw, session, Format.ANSIBLE).text)[export.ANSIBLE_MODULE]
        assert _text(options["name"]) == name and _text(options["switch"]) == sw.name
        assert _text(options["source_port_received"]) == name
        if "{{" in name or "{%" in name:
            assert options["name"] == {"unsafe": name}
        # Python: it compiles, and its literals are the values.
        script = export.export(inventory, sw, session, Format.PYVMOMI).text
        literals = _python_assignments(script)
        assert literals["s.name"] == name and literals["s.description"] == name
        assert literals["SWITCH_UUID"] == sw.key and literals["SWITCH_NAME"] == sw.name
        # PowerShell: each string expression decodes to the value.
        ps = export.export(inventory, sw, session, Format.POWERCLI).text
        assert _ps_assignment(ps, "$session.Name") == name
        assert _ps_assignment(ps, "$uuid") == sw.key
        # JSON.
        data = json.loads(export.export(inventory, sw, session, Format.JSON).text)
        assert data["session"] == session.to_api() and data["switch"] == {"name": sw.name, "uuid": sw.key}


def _python_assignments(script: str) -> dict[str, Any]:
    tree = ast.parse(script)
    out: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            out[ast.unparse(node.targets[0])] = node.value.value
    return out


_PS_TOKEN = re.compile(
    r"'((?:[^'\u2018\u2019\u201a\u201b]|['\u2018\u2019\u201a\u201b]{2})*)'|\[char\]0x([0-9A-F]{4})|( \+ )"
)


def _ps_string(expr: str) -> str:
    """Decode a string expression as PowerShell would: ``'…'`` (a doubled quote is one), ``[char]0xNNNN``, ``+``."""
    if expr.startswith("(") and expr.endswith(")"):
        expr = expr[1:-1]
        # PowerShell's + takes its meaning from the left operand: a string must come first.
        assert expr.startswith("'"), f"a string expression that does not start with a string: {expr!r}"
    out, at = [], 0
    while at < len(expr):
        m = _PS_TOKEN.match(expr, at)
        assert m is not None, f"not a PowerShell string expression at {at}: {expr!r}"
        if m.group(1) is not None:
            out.append(re.sub(r"(['\u2018\u2019\u201a\u201b])\1", r"\1", m.group(1)))
        elif m.group(2) is not None:
            out.append(chr(int(m.group(2), 16)))
        at = m.end()
    return "".join(out)


def _ps_assignment(script: str, target: str) -> str:
    line = next(x for x in script.splitlines() if x.startswith(f"{target} = "))
    return _ps_string(line[len(target) + 3 :])


@pytest.mark.parametrize("case", sorted(SESSIONS))
def test_powercli_and_python_carry_every_set_field(lab: tuple[Inventory, Switch], case: str) -> None:
    inventory, switch = lab
    session = SESSIONS[case]
    ps = export.export(inventory, switch, session, Format.POWERCLI).text
    py = export.export(inventory, switch, session, Format.PYVMOMI).text
    literals = _python_assignments(py)
    api = session.to_api()
    for field, value in api.items():
        if field == "key" or isinstance(value, dict) or value is None:
            continue
        ps_name = f"$session.{field[0].upper()}{field[1:]}"
        if field in ("name", "description") and not value:
            assert f"s.{field}" not in literals and f"{ps_name} = " not in ps
            continue
        assert literals[f"s.{field}"] == value, field
        line = next(x for x in ps.splitlines() if x.startswith(f"{ps_name} = "))
        shown = line.split(" = ", 1)[1]
        expected = {True: "$true", False: "$false"}.get(value) if isinstance(value, bool) else None
        assert shown == expected if expected else (_ps_string(shown) if isinstance(value, str) else int(shown)) == value
    for attr, api_name in (("source_tx", "sourcePortTransmitted"), ("source_rx", "sourcePortReceived"),
                           ("destination", "destinationPort")):  # fmt: skip
        ports: VspanPorts = getattr(session, attr)
        assert (f"s.{api_name} = VS.VspanPorts(" in py) == bool(ports)
        assert (f"$session.{api_name[0].upper()}{api_name[1:]} = " in ps) == bool(ports)
    assert "$change.Operation = 'add'" in ps and "$spec.ConfigVersion = $dvs.Config.ConfigVersion" in ps
