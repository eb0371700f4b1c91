"""The streaming SOAP parser of the vsphere backend, on canned vCenter responses (no server)."""

from __future__ import annotations

import gzip
import io
import threading
import zlib
from collections.abc import Callable, Generator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tui.backends import ConnectionFailed
from tui.backends._soap import (
    OBJECTS,
    RETURNVAL,
    TOKEN,
    NotAuthenticatedError,
    RawSoap,
    parse_port,
    parse_vm,
    unescape_name,
)
from tui.model import ConnecteeType

ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" '
    'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<soapenv:Body>{}</soapenv:Body></soapenv:Envelope>"
)

VM_PAGE = ENVELOPE.format(
    '<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><token>tok-1</token>'
    '<objects><obj type="VirtualMachine">vm-1000</obj>'
    '<propSet><name>config.hardware.device</name><val xsi:type="ArrayOfVirtualDevice">'
    '<VirtualDevice xsi:type="VirtualIDEController"><key>200</key><deviceInfo><label>IDE 0</label>'
    "<summary>IDE 0</summary></deviceInfo><busNumber>0</busNumber></VirtualDevice>"
    '<VirtualDevice xsi:type="VirtualVmxnet3"><key>4000</key><deviceInfo><label>Network adapter 1</label>'
    "<summary>DVSwitch: 50 36</summary></deviceInfo>"
    '<backing xsi:type="VirtualEthernetCardDistributedVirtualPortBackingInfo"><port>'
    "<switchUuid>50 36 4e</switchUuid><portgroupKey>dvportgroup-43</portgroupKey><portKey>100</portKey>"
    "<connectionCookie>17</connectionCookie></port></backing>"
    "<connectable><startConnected>true</startConnected><allowGuestControl>true</allowGuestControl>"
    "<connected>true</connected><status>ok</status></connectable>"
    "<addressType>assigned</addressType><macAddress>00:50:56:9A:1B:2B</macAddress></VirtualDevice>"
    '<VirtualDevice xsi:type="VirtualE1000e"><key>4001</key><deviceInfo><label>Network adapter 2</label>'
    "</deviceInfo>"
    '<backing xsi:type="VirtualEthernetCardNetworkBackingInfo"><deviceName>VM Network</deviceName></backing>'
    "<connectable><connected>false</connected></connectable>"
    "<macAddress>00:50:56:9a:00:02</macAddress></VirtualDevice>"
    "</val></propSet>"
    '<propSet><name>guest.net</name><val xsi:type="ArrayOfGuestNicInfo">'
    "<GuestNicInfo><network>dvPgWeb</network><ipAddress>10.20.1.10</ipAddress>"
    "<ipAddress>fe80::250:56ff:fe9a:1b2b</ipAddress><macAddress>00:50:56:9a:1b:2b</macAddress>"
    "<connected>true</connected><deviceConfigId>4000</deviceConfigId></GuestNicInfo>"
    "<GuestNicInfo><connected>false</connected><deviceConfigId>4001</deviceConfigId>"
    "<ipConfig><ipAddress><ipAddress>192.0.2.7</ipAddress><prefixLength>24</prefixLength></ipAddress>"
    "</ipConfig></GuestNicInfo>"
    "<GuestNicInfo><connected>false</connected><deviceConfigId>-1</deviceConfigId></GuestNicInfo>"
    "</val></propSet>"
    '<propSet><name>name</name><val xsi:type="xsd:string">web%2f01 [prod]</val></propSet>'
    '<propSet><name>runtime.host</name><val type="HostSystem" xsi:type="ManagedObjectReference">host-21</val>'
    "</propSet>"
    '<propSet><name>runtime.powerState</name><val xsi:type="VirtualMachinePowerState">poweredOn</val></propSet>'
    "</objects>"
    '<objects><obj type="VirtualMachine">vm-1001</obj>'
    '<propSet><name>name</name><val xsi:type="xsd:string">bare</val></propSet></objects>'
    "</returnval></RetrievePropertiesExResponse>"
)

PORTS = ENVELOPE.format(
    '<FetchDVPortsResponse xmlns="urn:vim25">'
    "<returnval><key>448</key><config><generation>3</generation><name></name>"
    '<setting xsi:type="VMwareDVSPortSetting"><blocked><inherited>true</inherited><value>false</value></blocked>'
    '<vlan xsi:type="VmwareDistributedVirtualSwitchVlanIdSpec"><inherited>true</inherited><vlanId>204</vlanId></vlan>'
    "<securityPolicy><inherited>true</inherited><allowPromiscuous><inherited>true</inherited><value>true</value>"
    "</allowPromiscuous></securityPolicy>"
    "<macManagementPolicy><inherited>true</inherited><allowPromiscuous>false</allowPromiscuous>"
    "</macManagementPolicy></setting></config>"
    "<dvsUuid>50 36 4e</dvsUuid><portgroupKey>dvportgroup-46</portgroupKey>"
    '<proxyHost type="HostSystem">host-21</proxyHost>'
    '<connectee><connectedEntity type="VirtualMachine">vm-1000</connectedEntity><nicKey>4001</nicKey>'
    "<type>vmVnic</type></connectee><conflict>false</conflict>"
    "<state><runtimeInfo><linkUp>true</linkUp><blocked>false</blocked><trunkingMode>false</trunkingMode>"
    "<macAddress>00:50:56:9A:1B:2C</macAddress></runtimeInfo>"
    "<stats><packetsInMulticast>0</packetsInMulticast></stats></state></returnval>"
    "<returnval><key>0</key><config><name>dvUplink1</name>"
    '<setting xsi:type="VMwareDVSPortSetting"><securityPolicy><allowPromiscuous><value>true</value>'
    "</allowPromiscuous></securityPolicy></setting></config>"
    "<portgroupKey>dvportgroup-40</portgroupKey>"
    '<connectee><connectedEntity type="HostSystem">host-11</connectedEntity><nicKey>vmnic0</nicKey>'
    "<type>pnic</type></connectee></returnval>"
    "<returnval><key>9</key><config/><conflict>false</conflict></returnval>"
    "</FetchDVPortsResponse>"
)


def _items(xml: str, tags: frozenset[str], convert: Callable[[Any], Any]) -> list[Any]:
    """Run RawSoap on a canned response; convert each item during its turn (it is emptied after)."""
    out: list[Any] = []
    raw = RawSoap(FakeStub([FakeResponse(200, xml.encode())]))
    for elem in raw.stream(FakeMo(), "M", [], tags):
        out.append(elem.text if elem.tag == TOKEN else convert(elem))
    return out


class FakeResponse:
    def __init__(self, status: int, body: bytes, encoding: str = "identity") -> None:
        self.status = status
        self.reason = "OK" if status == 200 else "Internal Server Error"
        self.body = io.BytesIO(body)
        self.headers = {"Content-Encoding": encoding}

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    def read(self, n: int = -1) -> bytes:
        return self.body.read(n)


class FakeConnection:
    def __init__(self, response: FakeResponse) -> None:
        self.response = response
        self.sent: list[tuple[str, str, bytes, dict[str, str]]] = []
        self.closed = False

    def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> None:
        self.sent.append((method, path, body, headers))

    def getresponse(self) -> FakeResponse:
        return self.response

    def close(self) -> None:
        self.closed = True


class FakeStub:
    """Just what RawSoap uses of pyVmomi's SoapStubAdapter."""

    cookie = 'vmware_soap_session="abc"'
    versionId = '"urn:vim25/7.0.3.0"'
    path = "/sdk"

    def __init__(self, responses: list[FakeResponse]) -> None:
        self.connections = [FakeConnection(r) for r in responses]
        self.returned: list[FakeConnection] = []

    def SerializeRequest(self, mo: Any, info: Any, args: list[Any]) -> bytes:  # noqa: N802 - pyVmomi's name
        return b"<request/>"

    def GetConnection(self) -> FakeConnection:  # noqa: N802
        return self.connections.pop(0)

    def ReturnConnection(self, conn: FakeConnection) -> None:  # noqa: N802
        self.returned.append(conn)


class FakeMo:
    @classmethod
    def _GetMethodInfo(cls, name: str) -> Any:  # noqa: N802
        return None


def test_vms_from_a_page() -> None:
    items = _items(VM_PAGE, frozenset({OBJECTS, TOKEN}), parse_vm)
    assert items[0] == "tok-1"
    vms = items[1:]
    assert [vm.key for vm in vms] == ["vm-1000", "vm-1001"]
    vm = vms[0]
    assert vm.name == "web/01 [prod]", "vCenter's %2f escape is undone"
    assert (vm.host, vm.power) == ("host-21", "poweredOn")
    assert [n.key for n in vm.nics] == [4000, 4001], "only network adapters, not the IDE controller"
    a, b = vm.nics
    assert (a.label, a.mac, a.switch, a.portgroup, a.port, a.connected) == (
        "Network adapter 1",
        "00:50:56:9a:1b:2b",
        "50 36 4e",
        "dvportgroup-43",
        "100",
        True,
    )
    assert a.ips == ("10.20.1.10", "fe80::250:56ff:fe9a:1b2b")
    assert (b.label, b.switch, b.port, b.connected) == ("Network adapter 2", "", "", False)
    assert b.ips == ("192.0.2.7",), "from ipConfig when ipAddress is absent"
    assert vms[1].nics == () and vms[1].host == ""


def test_ports_from_fetch_dvports() -> None:
    ports = _items(PORTS, frozenset({RETURNVAL}), lambda e: parse_port(e, "SW"))
    assert [p.key for p in ports] == ["448", "0", "9"]
    p = ports[0]
    assert (p.switch, p.portgroup, p.host, p.link_up, p.mac) == (
        "SW",
        "dvportgroup-46",
        "host-21",
        True,
        "00:50:56:9a:1b:2c",
    )
    assert p.connectee is not None
    assert (p.connectee.type, p.connectee.entity, p.connectee.nic_key) == (ConnecteeType.VM_VNIC, "vm-1000", "4001")
    assert p.promiscuous is False, "the MAC management policy (6.7+) wins over the security policy"
    up = ports[1]
    assert up.name == "dvUplink1" and up.promiscuous is True and up.is_uplink
    free = ports[2]
    assert free.connectee is None and free.portgroup == "" and not free.link_up


def test_gzip_responses_are_decompressed() -> None:
    body = gzip.compress(PORTS.encode())
    stub = FakeStub([FakeResponse(200, body, "gzip")])
    raw = RawSoap(stub)
    keys = [e.findtext("{urn:vim25}key") for e in raw.stream(FakeMo(), "M", [], frozenset({RETURNVAL}))]
    assert keys == ["448", "0", "9"]
    sent = stub.returned[0].sent[0]
    assert sent[3]["Accept-Encoding"] == "gzip, deflate"
    assert sent[3]["Cookie"] == FakeStub.cookie
    assert raw.stats.bytes_received == len(body) and raw.stats.requests == 1


def test_items_are_emptied_after_their_turn() -> None:
    """Memory stays flat: a consumed item does not keep its subtree."""
    kept = _items(PORTS, frozenset({RETURNVAL}), lambda e: e)
    assert [len(e) for e in kept] == [0, 0, 0]


def test_a_connection_abandoned_mid_stream_is_closed_not_reused() -> None:
    stub = FakeStub([FakeResponse(200, PORTS.encode())])
    stream = RawSoap(stub).stream(FakeMo(), "M", [], frozenset({RETURNVAL}))
    next(stream)
    assert isinstance(stream, Generator)
    stream.close()
    assert stub.returned == []


def test_truncated_response_raises() -> None:
    """A body that ends mid-XML is a ConnectionFailed naming it (not a bare ParseError); not reused."""
    stub = FakeStub([FakeResponse(200, PORTS.encode()[:900])])
    with pytest.raises(ConnectionFailed, match=r"reply to M ended early: the XML stops after 900 bytes"):
        list(RawSoap(stub).stream(FakeMo(), "M", [], frozenset({RETURNVAL})))
    assert stub.returned == []


def test_http_error_status_raises() -> None:
    from http.client import HTTPException

    stub = FakeStub([FakeResponse(503, b"busy")])
    with pytest.raises(HTTPException, match="503"):
        list(RawSoap(stub).stream(FakeMo(), "M", [], frozenset({RETURNVAL})))


def test_missing_property_because_the_session_is_gone() -> None:
    xml = ENVELOPE.format(
        '<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="VirtualMachine">vm-1</obj>'
        '<missingSet><path>name</path><fault><fault xsi:type="NotAuthenticated"><object>vm-1</object>'
        "<privilegeId>System.Read</privilegeId></fault><localizedMessage></localizedMessage></fault></missingSet>"
        "</objects></returnval></RetrievePropertiesExResponse>"
    )
    with pytest.raises(NotAuthenticatedError):
        _items(xml, frozenset({OBJECTS}), parse_vm)


@pytest.mark.parametrize(
    ("raw", "name"),
    [("plain", "plain"), ("a%2fb", "a/b"), ("a%2Fb%5cc", "a/b\\c"), ("100%25", "100%"), ("50%", "50%"), ("%2", "%2")],
)
def test_unescape_name(raw: str, name: str) -> None:
    assert unescape_name(raw) == name


FAULT = ENVELOPE.format(
    "<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>The session is not authenticated.</faultstring>"
    '<detail><NotAuthenticatedFault xmlns="urn:vim25" xsi:type="NotAuthenticated">'
    '<object type="PropertyCollector">propertyCollector</object><privilegeId>System.View</privilegeId>'
    "</NotAuthenticatedFault></detail></soapenv:Fault>"
)


def test_a_soap_fault_is_raised_as_pyvmomi_would() -> None:
    from pyVmomi import SoapStubAdapter, vim, vmodl

    stub = SoapStubAdapter(host="127.0.0.1", port=-9, version="vim.version.v7_0_3_0")
    conn = FakeConnection(FakeResponse(500, FAULT.encode()))
    returned: list[Any] = []
    stub.GetConnection = lambda: conn  # type: ignore[method-assign]
    stub.ReturnConnection = returned.append  # type: ignore[method-assign]
    pc = vmodl.query.PropertyCollector("propertyCollector", stub)
    PC = vmodl.query.PropertyCollector
    spec = PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=vim.VirtualMachine("vm-1", stub))],
        propSet=[PC.PropertySpec(type=vim.VirtualMachine, pathSet=["name"])],
    )
    options = PC.RetrieveOptions(maxObjects=10)
    with pytest.raises(vim.fault.NotAuthenticated) as err:
        list(RawSoap(stub).stream(pc, "RetrievePropertiesEx", [[spec], options], frozenset({OBJECTS})))
    assert err.value.privilegeId == "System.View"
    assert returned == [conn], "the connection is reused after a complete fault response"
    body = conn.sent[0][2].decode()
    assert "<RetrievePropertiesEx" in body and "<maxObjects>10</maxObjects>" in body


def test_gc_pause_nests_and_restores() -> None:
    import gc

    from tui.gcpause import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "the outer pause still holds"
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled(), "a collector that was off stays off"
    finally:
        gc.enable()


# -- content encodings over a real HTTP connection (loopback server, pyVmomi's stub) -----------

VM_KEYS = ["vm-1000", "vm-1001"]


def _raw_deflate(data: bytes) -> bytes:
    z = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return z.compress(data) + z.flush()


class _Reply:
    """What the loopback server answers: status, Content-Encoding, body and how it is framed."""

    def __init__(self, body: bytes, encoding: str | None = None, framing: str = "length", status: int = 200) -> None:
        self.body, self.encoding, self.framing, self.status = body, encoding, framing, status


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests.append(dict(self.headers))
        reply: _Reply = self.server.replies.pop(0)
        self.send_response(reply.status)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        if reply.encoding is not None:
            self.send_header("Content-Encoding", reply.encoding)
        if reply.framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(reply.body), 7):  # tiny chunks: the gzip header is split too
                piece = reply.body[i : i + 7]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif reply.framing == "close":  # no length: the body ends when the connection does
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(reply.body)
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def _server() -> Iterator[Any]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def loopback(_server: Any) -> Any:
    """An HTTP server on 127.0.0.1 answering each POST with the next of ``replies``."""
    _server.replies = []
    _server.requests = []
    return _server


def _retrieve(server: Any, *replies: _Reply) -> list[Any]:
    """``RetrievePropertiesEx`` through ``RawSoap`` on a real pyVmomi stub talking to ``server``."""
    from pyVmomi import SoapStubAdapter, vim, vmodl

    server.replies.extend(replies)
    stub = SoapStubAdapter(host="127.0.0.1", port=-server.server_address[1], version="vim.version.v8_0_3_0")
    try:
        pc = vmodl.query.PropertyCollector("propertyCollector", stub)
        PC = vmodl.query.PropertyCollector
        spec = PC.FilterSpec(
            objectSet=[PC.ObjectSpec(obj=vim.VirtualMachine("vm-1", stub))],
            propSet=[PC.PropertySpec(type=vim.VirtualMachine, pathSet=["name"])],
        )
        args = [[spec], PC.RetrieveOptions(maxObjects=10)]
        items = frozenset({OBJECTS, TOKEN})
        return [
            e.text if e.tag == TOKEN else parse_vm(e)
            for e in RawSoap(stub).stream(pc, "RetrievePropertiesEx", args, items)
        ]
    finally:
        stub.DropConnections()


ENCODED = {
    "identity": (None, lambda b: b),
    "gzip": ("gzip", gzip.compress),
    "x-gzip": ("x-gzip", gzip.compress),
    "GZIP": ("GZIP", gzip.compress),
    "gzip, two members": ("gzip", lambda b: gzip.compress(b[:500]) + gzip.compress(b[500:])),
    "deflate (zlib)": ("deflate", zlib.compress),
    "deflate (raw)": ("deflate", _raw_deflate),
    "deflate (gzip, as Apache sends it)": ("deflate", gzip.compress),
}


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
@pytest.mark.parametrize("name", list(ENCODED))
def test_every_content_encoding_and_framing(loopback: Any, name: str, framing: str) -> None:
    header, encode = ENCODED[name]
    got = _retrieve(loopback, _Reply(encode(VM_PAGE.encode()), header, framing))
    assert got[0] == "tok-1" and [vm.key for vm in got[1:]] == VM_KEYS
    assert got[1:] == _items(VM_PAGE, frozenset({OBJECTS, TOKEN}), parse_vm)[1:], "same objects as uncompressed"
    assert loopback.requests[0]["Accept-Encoding"] == "gzip, deflate"


def test_gzip_agrees_with_pyvmomis_own_call(loopback: Any) -> None:
    """pyVmomi's ``InvokeMethod`` (its ``GzipReader``) on the same gzip reply returns the same VMs."""
    from pyVmomi import SoapStubAdapter, vim, vmodl

    ours = _retrieve(loopback, _Reply(gzip.compress(VM_PAGE.encode()), "gzip", "chunked"))
    loopback.replies.append(_Reply(gzip.compress(VM_PAGE.encode()), "gzip", "chunked"))
    stub = SoapStubAdapter(host="127.0.0.1", port=-loopback.server_address[1], version="vim.version.v8_0_3_0")
    PC = vmodl.query.PropertyCollector
    spec = PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=vim.VirtualMachine("vm-1", stub))],
        propSet=[PC.PropertySpec(type=vim.VirtualMachine, pathSet=["name"])],
    )
    result = PC("propertyCollector", stub).RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=10))
    stub.DropConnections()
    assert result is not None
    assert result.token == ours[0]
    assert [oc.obj._moId for oc in result.objects] == [vm.key for vm in ours[1:]]
    names = [next(p.val for p in oc.propSet if p.name == "name") for oc in result.objects]
    assert [unescape_name(n) for n in names] == [vm.name for vm in ours[1:]]


_GZ = gzip.compress(VM_PAGE.encode())
_FAULT_500 = _Reply(gzip.compress(FAULT.encode()), "gzip", "chunked", status=500)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (_Reply(b"\x1f\x8b\x08\x00garbage, not gzip at all", "gzip"), r"is not valid gzip data \(Error -3"),
        (_Reply(_GZ[: len(_GZ) // 2], "gzip"), r"ended early: the gzip data stops before its end"),
        (_Reply(_GZ[: len(_GZ) // 2], "gzip", "chunked"), r"ended early: the gzip data stops before its end"),
        (_Reply(_GZ + b"trailing junk", "gzip"), r"is not valid gzip data \(data after the end"),
        (_Reply(b"\x1f", "gzip"), r"ended early: the gzip data stops"),
        (_Reply(b"\x78\x9c\xff\xff\xff\xff garbage", "deflate"), r"is not valid deflate data"),
        (_Reply(b"\x00\x01garbage", "deflate", "close"), r"is not valid deflate data"),
        (_Reply(zlib.compress(VM_PAGE.encode())[:300], "deflate", "chunked"), r"ended early: the deflate data"),
        (_Reply(b"<html><body>proxy says no</body></html>"), r"is not a SOAP envelope \(it is 'html'\)"),
        (_Reply(b"this is not XML <<<", None, "chunked"), r"is not well-formed XML \(syntax error"),
        (_Reply(VM_PAGE.encode()[:2000], None, "close"), r"ended early: the XML stops after 2000 bytes"),
        (_Reply(b"", None, "close"), r"ended early: the XML stops after 0 bytes"),
        (_Reply(gzip.compress(VM_PAGE.encode()), "br"), r"uses the content encoding 'br'"),
        (_Reply(gzip.compress(VM_PAGE.encode()), "gzip, br"), r"uses the content encoding 'gzip, br'"),
        (_Reply(b"<garbage", "identity", status=500), r"HTTP 500\) whose SOAP fault cannot be read"),
        (_Reply(b"\x1f\x8bxx", "gzip", status=500), r"is not valid gzip data"),
        (_Reply(ENVELOPE.format("<Nothing/>").encode()), r"is a SOAP envelope without a response"),
        (_Reply(FAULT.encode()), r"is a SOAP fault sent as a success \(HTTP 200\): 'The session is not authent"),
    ],
)
def test_a_reply_that_cannot_be_read_is_a_clear_connection_failure(loopback: Any, reply: _Reply, message: str) -> None:
    with pytest.raises(ConnectionFailed, match=message) as err:
        _retrieve(loopback, reply)
    assert str(err.value).startswith("vCenter's reply to RetrievePropertiesEx ")
    assert err.value.__cause__ is None, "no zlib/expat exception attached"
    assert err.value.__context__ is None or err.value.__suppress_context__


def test_a_gzip_fault_is_raised_as_pyvmomi_would(loopback: Any) -> None:
    from pyVmomi import vim

    with pytest.raises(vim.fault.NotAuthenticated):
        _retrieve(loopback, _FAULT_500)
