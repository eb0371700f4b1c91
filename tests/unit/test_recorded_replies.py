"""Real vCenter replies, recorded by pyVmomi's maintainers, replayed through dvmirror's own connection and parsers.

The cassettes come from pyVmomi's sdist (``tests/fixtures/*.yaml``, see :mod:`tests.recorded`); they are downloaded
at test time, never committed. What they hold that dvmirror reads:

- ``vimServiceVersions.xml`` from a vCenter Server 8.0.3 (build 69507950: current version ``uA046D008``, public
  versions under ``priorVersions``) in 14 cassettes, and from a vCenter 6.5 in ``pbm_check_compatibility.yaml``;
- ``RetrieveServiceContent`` and ``Login`` replies of those servers, and a refused ``Login`` (``InvalidLogin``,
  vCenter 6.0.0 build 2798252) in ``basic_connection_bad_password.yaml``;
- VM properties read one by one with pyVmomi's ``Fetch``: ``name``, ``config`` (whose ``hardware.device`` is a real
  device list), ``runtime`` and ``guest`` of the vCLS VMs in ``test_json_vm_explode_*.yaml`` and ``vm_nic_data.yaml``.
  vCLS VMs have no network adapter and no ``guest.net``, so these lists hold no ``VirtualEthernetCard``.

No cassette holds a ``RetrievePropertiesEx`` or ``FetchDVPorts`` reply (pyVmomi's tests use ``Fetch``). For the VM
reader, each recorded VM becomes one ``ObjectContent`` of a ``RetrievePropertiesEx`` reply whose values are the
recorded elements, cut out byte for byte (only the enclosing element names change, e.g. ``<device xsi:type=…>`` in
``hardware`` → ``<VirtualDevice xsi:type=…>`` in ``ArrayOfVirtualDevice``), under the recorded SOAP envelope.
pyVmomi's own deserializer reads the same bytes and is the oracle.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from tests.recorded import (
    Cassette,
    Interaction,
    ReplayServer,
    answer,
    cassette_dir,
    child_spans,
    inner,
    load_cassette,
    returnval,
)
from tui.backends import LoginFailed
from tui.backends._soap import unescape_name
from tui.backends.vsphere import _VM_PATHS, VsphereBackend
from tui.config import Settings

VCENTER_8 = [
    "basic_container_view.yaml",
    "iso8601_set_datetime.yaml",
    "root_folder_parent.yaml",
    "smart_connection.yaml",
    "test_json_datacenter_explode.yaml",
    "test_json_datastore_explode.yaml",
    "test_json_host_explode.yaml",
    "test_json_network_explode.yaml",
    "test_json_vm_explode_default.yaml",
    "test_json_vm_explode_objs.yaml",
    "test_json_vm_explode_strip_dynamic.yaml",
    "test_json_vm_explode_type.yaml",
    "test_vm_config_iso8601.yaml",
    "vm_nic_data.yaml",
]
"""Every cassette with a recorded ``vimServiceVersions.xml`` of the vCenter 8.0.3."""
VM_CASSETTES = [n for n in VCENTER_8 if n.startswith("test_json_vm_explode")] + ["vm_nic_data.yaml"]


@pytest.fixture(scope="session")
def fixtures() -> Any:
    return cassette_dir()


@cache
def _cassette(folder: str, name: str) -> Cassette:
    from pathlib import Path

    return load_cassette(Path(folder) / name)


@pytest.fixture
def cassette(fixtures: Any, request: pytest.FixtureRequest) -> Cassette:
    return _cassette(str(fixtures), request.param)


def backend_for(server: ReplayServer, user: str = "my_user") -> VsphereBackend:
    return VsphereBackend(
        Settings(server="127.0.0.1", port=server.port, scheme="http", user=user, password="recorded"), timeout=10
    )


@pytest.fixture
def backends() -> Iterator[list[VsphereBackend]]:
    made: list[VsphereBackend] = []
    yield made
    for b in made:
        b.close()


def recorded_soap_action(cassette: Cassette) -> str:
    [first] = cassette.find(soap="RetrieveServiceContent")[:1]
    return first.request_headers["soapaction"][0].strip('"')


# -- version negotiation -------------------------------------------------------------------------


def test_what_the_cassettes_hold(fixtures: Any) -> None:
    """The inventory above, checked: which cassettes hold service versions, and their shapes."""
    holding = []
    for path in sorted(fixtures.glob("*.yaml")):
        c = _cassette(str(fixtures), path.name)
        if c.service_versions is not None:
            holding.append(path.name)
    assert holding == sorted([*VCENTER_8, "pbm_check_compatibility.yaml"])
    vc8 = _cassette(str(fixtures), "vm_nic_data.yaml").service_versions
    assert vc8 is not None and b"<version>uA046D008</version><priorVersions><version>8.0.2.0</version>" in vc8.body
    bad = _cassette(str(fixtures), "basic_connection_bad_password.yaml")
    assert bad.service_versions is None and [i.soap for i in bad.interactions] == ["RetrieveServiceContent", "Login"]


@pytest.mark.parametrize("cassette", [*VCENTER_8, "pbm_check_compatibility.yaml"], indirect=True)
def test_negotiation_on_recorded_service_versions(cassette: Cassette) -> None:
    from pyVim import connect
    from pyVmomi import VmomiSupport

    with ReplayServer(cassette) as server:
        chosen = backend_for(server)._negotiate_version(None, "")
    with ReplayServer(cassette) as server:
        find = getattr(connect, "__FindSupportedVersion")
        preferred = VmomiSupport.GetServiceVersions("vim25")
        theirs = find("http", "127.0.0.1", server.port, "/sdk", preferred, None, None, 80, None)
    assert chosen == theirs  # pyVmomi's own negotiation on the same bytes
    version_id = VmomiSupport.versionIdMap[chosen]
    assert version_id == ("6.5" if cassette.name.startswith("pbm") else "8.0.2.0")
    recorded = cassette.service_versions
    assert recorded is not None and f"<version>{version_id}</version>".encode() in recorded.body
    # The recording client (pyVmomi 8.0.x) spoke the same version to this server.
    assert recorded_soap_action(cassette) == f"urn:vim25/{version_id}"


# -- login ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("gzip", [False, True], ids=["identity", "gzip"])
@pytest.mark.parametrize(
    "cassette", ["vm_nic_data.yaml", "smart_connection.yaml", "pbm_check_compatibility.yaml"], indirect=True
)
def test_connect_replays_recorded_login(cassette: Cassette, gzip: bool, backends: list[VsphereBackend]) -> None:
    with ReplayServer(cassette, gzip=gzip) as server:
        backend = backend_for(server)
        backends.append(backend)
        backend.connect()
        assert server.requests() == ["GET /sdk/vimServiceVersions.xml", "RetrieveServiceContent", "Login"]
        assert server.unanswered == []
        if gzip:
            assert [s.encoding for s in server.seen[1:]] == ["gzip", "gzip"]  # pyVmomi accepts and decodes it
    recorded_version = recorded_soap_action(cassette)
    assert [s.headers.get("SOAPAction") for s in server.seen[1:]] == [f'"{recorded_version}"'] * 2
    assert backend.api_version == recorded_version.removeprefix("urn:vim25/")
    login = server.seen[2].body.decode()
    assert re.search(r"<userName[^>]*>my_user</userName><password[^>]*>recorded</password>", login)
    about = backend._content.about
    rsc = cassette.find(soap="RetrieveServiceContent")[0].body.decode()
    assert f"<fullName>{about.fullName}</fullName>" in rsc  # what pyVmomi read from the recorded reply
    set_cookie = [i for i in cassette.interactions[:3] if "set-cookie" in i.headers]
    if set_cookie:  # the session cookie the recorded vCenter handed out is the one dvmirror carries
        assert backend._stub.cookie == set_cookie[-1].headers["set-cookie"][0]


def test_recorded_bad_password_is_login_failed(fixtures: Any, backends: list[VsphereBackend]) -> None:
    """vCenter 6.0's recorded ``InvalidLogin`` fault gives dvmirror's LoginFailed with its message and hint.

    This recording has no ``vimServiceVersions.xml`` (its client did not ask); the replay serves one that lists
    only the API version the recorded vCenter states in its own ``RetrieveServiceContent`` reply.
    """
    cassette = _cassette(str(fixtures), "basic_connection_bad_password.yaml")
    rsc = cassette.find(soap="RetrieveServiceContent")[0].body
    api = re.search(rb"<apiVersion>([0-9.]+)</apiVersion>", rsc)
    assert api is not None and api.group(1) == b"6.0"
    versions = (
        b'<?xml version="1.0" encoding="UTF-8" ?><namespaces version="1.0"><namespace><name>urn:vim25</name>'
        b"<version>" + api.group(1) + b"</version></namespace></namespaces>"
    )
    extra = {"GET /sdk/vimServiceVersions.xml": [answer(versions, chunked=False)]}
    with ReplayServer(cassette, extra=extra) as server:
        backend = backend_for(server)
        backends.append(backend)
        with pytest.raises(LoginFailed) as err:
            backend.connect()
    assert server.requests() == ["GET /sdk/vimServiceVersions.xml", "RetrieveServiceContent", "Login"]
    assert [s.answered for s in server.seen[1:]] == [0, 1]  # both recorded replies, the fault with HTTP 500
    assert cassette.interactions[1].status == 500 and b"InvalidLogin" in cassette.interactions[1].body
    assert err.value.message == "vCenter 127.0.0.1 refused the user name or password for my_user"
    assert "Check the user (e.g. administrator@vsphere.local) and the password (from default)" in err.value.hint
    assert server.seen[1].headers.get("SOAPAction") == '"urn:vim25/6.0"'
    assert re.search(r"<userName[^>]*>my_user</userName>", server.seen[2].body.decode())


# -- VMs through the streaming reader -------------------------------------------------------------


def _fetches(cassette: Cassette) -> dict[tuple[str, str], Interaction]:
    """``(moid, property) → interaction`` for the recorded ``Fetch`` calls on VMs (the first of each)."""
    out: dict[tuple[str, str], Interaction] = {}
    for i in cassette.find(soap="Fetch"):
        m = re.search(
            rb'<_this[^>]*type="VirtualMachine"[^>]*>([^<]+)</_this><prop[^>]*>([^<]+)</prop>', i.request_body
        )
        if m and i.status == 200:
            out.setdefault((m.group(1).decode(), m.group(2).decode()), i)
    return out


def _val(name: str, attrs: bytes, content: bytes) -> bytes:
    return b"<propSet><name>" + name.encode() + b"</name><val" + attrs + b">" + content + b"</val></propSet>"


def _retag(element: bytes, tag: bytes) -> bytes:
    attrs, content = inner(element)
    return b"<" + tag + attrs + b">" + content + b"</" + tag + b">"


def recorded_vms(cassette: Cassette) -> tuple[bytes, dict[str, int]]:
    """A ``RetrievePropertiesEx`` reply made of the recorded VM values, and each VM's recorded device count."""
    fetched = _fetches(cassette)
    moids = sorted({moid for moid, _prop in fetched})
    envelope = b""
    objects = []
    devices: dict[str, int] = {}
    for moid in moids:
        props = []
        config = fetched.get((moid, "config"))
        if config is not None:
            items = child_spans(config.body, "hardware", "device")
            devices[moid] = len(items)
            props.append(
                _val(
                    "config.hardware.device",
                    b' xsi:type="ArrayOfVirtualDevice"',
                    b"".join(_retag(d, b"VirtualDevice") for d in items),
                )
            )
        guest = fetched.get((moid, "guest"))
        if guest is not None:
            nets = child_spans(guest.body, "returnval", "net")
            if nets:
                props.append(
                    _val(
                        "guest.net",
                        b' xsi:type="ArrayOfGuestNicInfo"',
                        b"".join(_retag(n, b"GuestNicInfo") for n in nets),
                    )
                )
        name = fetched.get((moid, "name"))
        if name is not None:
            props.append(_val("name", *inner(returnval(name.body))))
        runtime = fetched.get((moid, "runtime"))
        if runtime is not None:
            rv = returnval(runtime.body)
            for child, path, xsi in (
                (b"host", "runtime.host", b"ManagedObjectReference"),
                (b"powerState", "runtime.powerState", b"VirtualMachinePowerState"),
            ):
                [span] = child_spans(rv, "returnval", child.decode())
                attrs, content = inner(span)
                props.append(_val(path, attrs + b' xsi:type="' + xsi + b'"', content))
        source = next(iter(i for (m, _p), i in fetched.items() if m == moid))
        envelope = source.body[: source.body.index(b"<soapenv:Body>")]
        objects.append(
            b'<objects><obj type="VirtualMachine">' + moid.encode() + b"</obj>" + b"".join(props) + b"</objects>"
        )
    body = (
        envelope
        + b'<soapenv:Body>\n<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval>'
        + b"".join(objects)
        + b"</returnval></RetrievePropertiesExResponse>\n</soapenv:Body>\n</soapenv:Envelope>"
    )
    return body, devices


def pyvmomi_vms(body: bytes, stub: Any) -> list[Any]:
    """pyVmomi's reading of the same reply: its ``ObjectContent`` list."""
    from pyVmomi import vmodl
    from pyVmomi.SoapAdapter import SoapResponseDeserializer

    info = vmodl.query.PropertyCollector._GetMethodInfo("RetrievePropertiesEx")
    result = SoapResponseDeserializer(stub).Deserialize(io.BytesIO(body), info.result)
    return list(result.objects)


@pytest.mark.parametrize("gzip", [False, True], ids=["identity", "gzip"])
@pytest.mark.parametrize("cassette", VM_CASSETTES, indirect=True)
def test_recorded_vms_through_the_stream_reader(cassette: Cassette, gzip: bool, backends: list[VsphereBackend]) -> None:
    from pyVmomi import vim

    body, devices = recorded_vms(cassette)
    extra = {"RetrievePropertiesEx": [answer(body)]}
    with ReplayServer(cassette, extra=extra, gzip=gzip) as server:
        backend = backend_for(server)
        backends.append(backend)
        backend.connect()
        view = vim.view.ContainerView("session[replay]view-1", backend._stub)
        vms = backend._read_vms(view, lambda _p: None)
        assert server.requests()[-1] == "RetrievePropertiesEx" and server.unanswered == []
        request = server.seen[-1].body.decode()
        assert '<obj type="ContainerView">session[replay]view-1</obj>' in request
        assert re.findall(r"<pathSet>([^<]+)</pathSet>", request) == _VM_PATHS
        assert server.seen[-1].encoding == ("gzip" if gzip else "identity")
    oracle = {oc.obj._moId: oc for oc in pyvmomi_vms(body, backend._stub)}
    assert sorted(oracle) == sorted(v.key for v in vms) and len(vms) >= 1
    for vm in vms:
        props = {p.name: p.val for p in oracle[vm.key].propSet}
        assert vm.name == unescape_name(props["name"]) and vm.name.startswith("vCLS-")
        host = props.get("runtime.host")
        assert vm.host == (host._moId if host is not None else "")
        assert vm.power == str(props.get("runtime.powerState") or "")
        devs = list(props.get("config.hardware.device") or [])
        if vm.key in devices:
            assert len(devs) == devices[vm.key] >= 10  # pyVmomi knew every recorded device type
        cards = [d for d in devs if isinstance(d, vim.vm.device.VirtualEthernetCard)]
        assert [n.key for n in vm.nics] == [d.key for d in cards] == []  # vCLS VMs: no network adapter
    if cassette.name.startswith("test_json"):
        assert {v.host for v in vms} <= {"host-14", "host-16"} and all(v.host for v in vms)
        assert {v.power for v in vms} == {"poweredOn"}
