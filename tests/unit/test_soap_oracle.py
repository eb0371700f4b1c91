"""pyVmomi is the oracle for dvmirror's streaming SOAP parser (``tui/backends/_soap.py``).

Hypothesis builds random pyVmomi objects (VM device lists of every NIC kind next to disks,
controllers and CD-ROMs; every backing; guest NIC info; DVPorts of every connectee type; hostile
names; optional properties left out everywhere). pyVmomi's own ``SoapSerializer`` writes them
into the envelope a vCenter sends (``RetrievePropertiesExResponse`` / ``FetchDVPortsResponse``),
then the same bytes are read twice: by pyVmomi's ``SoapResponseDeserializer`` and by dvmirror
(``RawSoap.stream`` + ``parse_vm`` / ``parse_port``). What dvmirror builds must equal what the
oracle's objects say, field by field, with dvmirror's documented mapping applied to them:

- MACs are lower-cased; an absent MAC, label, portgroup, port key or backing is ``""``;
- a NIC without ``connectable`` counts as connected; guest IPs come from ``ipAddress``, else
  from ``ipConfig.ipAddress``, empty strings dropped;
- pyVmomi does not unescape entity names; vSphere's ``ManagedEntity.name`` documentation says
  ``/``, ``\\`` and ``%`` are stored as ``%2f``, ``%5c`` and ``%25`` (either case), and a ``%``
  that does not start one of these is itself. :func:`documented_unescape` below applies that
  rule to the oracle's value (written here independently of ``unescape_name``);
- a VM without a ``name`` property is named by its moid;
- promiscuous: ``macManagementPolicy.allowPromiscuous`` when set, else
  ``securityPolicy.allowPromiscuous.value``, else false.

Seeded (``derandomize``), bounded, and without an example database, so CI runs the same examples.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import re
from io import StringIO
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyVmomi import SoapAdapter, VmomiSupport, vim, vmodl

from tui.backends._soap import OBJECTS, RETURNVAL, TOKEN, RawSoap, parse_port, parse_vm
from tui.model import Connectee, ConnecteeType, Nic, Port, Vm

VERSION = VmomiSupport.newestVersions.GetName("vim")
PC = vmodl.query.PropertyCollector
D = vim.vm.device
DVPORT_BACKING = D.VirtualEthernetCard.DistributedVirtualPortBackingInfo
SWITCH = "50 36 4e 6c 5b 8f 2e 3d-1a 2b 3c 4d 5e 6f 70 81"

SETTINGS = settings(
    max_examples=120,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- serializing as vCenter does ----------------------------------------------------------


def envelope(method: str, result: Any) -> bytes:
    """The HTTP body vCenter sends for ``method`` returning ``result``, written by pyVmomi's serializer.

    ``SoapSerializer`` with the envelope's namespace map, vim25 as the default namespace and no
    ``versionId`` attribute (vCenter puts none on replies), inside ``<{method}Response>``.
    pyVmomi writes a moref's ``xsi:type`` as ``ManagedObject`` where vCenter writes
    ``ManagedObjectReference``; vCenter's spelling is used (pyVmomi reads both).
    """
    info = _method(method)
    ns = VmomiSupport.GetWsdlNamespace(VERSION)
    ns_map = SoapAdapter.SOAP_NSMAP.copy()
    ns_map[ns] = ""
    out = StringIO()
    serializer = SoapAdapter.SoapSerializer(out, VERSION, ns_map)
    serializer.outermostAttrs = ""
    serializer.Serialize(
        result, VmomiSupport.Object(name="returnval", type=info.result, version=VERSION, flags=VmomiSupport.F_OPTIONAL)
    )
    body = out.getvalue().replace('xsi:type="ManagedObject"', 'xsi:type="ManagedObjectReference"')
    return (
        f"{SoapAdapter.XML_HEADER}\n{SoapAdapter.SOAP_ENVELOPE_START}{SoapAdapter.SOAP_BODY_START}"
        f'<{info.wsdlName}Response xmlns="{ns}">{body}</{info.wsdlName}Response>'
        f"{SoapAdapter.SOAP_BODY_END}{SoapAdapter.SOAP_ENVELOPE_END}"
    ).encode()


def _method(method: str) -> Any:
    if method == "RetrievePropertiesEx":
        return PC._GetMethodInfo(method)
    return vim.DistributedVirtualSwitch._GetMethodInfo(method)


def oracle(method: str, body: bytes) -> Any:
    """What pyVmomi returns for that body."""
    stub = SoapAdapter.SoapStubAdapter(host="127.0.0.1", port=-9, version=VERSION)
    return SoapAdapter.SoapResponseDeserializer(stub).Deserialize(body, _method(method).result)


# -- reading it as dvmirror does ----------------------------------------------------------


class _Response:
    """An HTTP response handing out the body ``step`` bytes at a time (chunk edges anywhere)."""

    status = 200
    reason = "OK"

    def __init__(self, body: bytes, step: int) -> None:
        self.body = io.BytesIO(body)
        self.step = step

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return default

    def read(self, n: int = -1) -> bytes:
        return self.body.read(self.step if n < 0 else min(n, self.step))


class _Connection:
    def __init__(self, response: _Response) -> None:
        self.response = response

    def request(self, *args: Any) -> None:
        pass

    def getresponse(self) -> _Response:
        return self.response

    def close(self) -> None:
        pass


class _Stub:
    cookie = ""
    versionId = '"urn:vim25/9.1.1.0"'
    path = "/sdk"

    def __init__(self, response: _Response) -> None:
        self.connection = _Connection(response)
        self.returned = False

    def SerializeRequest(self, mo: Any, info: Any, args: list[Any]) -> bytes:  # noqa: N802 - pyVmomi's name
        return b""

    def GetConnection(self) -> _Connection:  # noqa: N802
        return self.connection

    def ReturnConnection(self, conn: _Connection) -> None:  # noqa: N802
        self.returned = True


def dvmirror(method: str, body: bytes, step: int) -> list[Any]:
    """dvmirror's objects for that body, through ``RawSoap.stream`` as the backend reads it."""
    stub = _Stub(_Response(body, step))
    mo: Any = vmodl.query.PropertyCollector if method == "RetrievePropertiesEx" else vim.DistributedVirtualSwitch
    out: list[Any] = []
    if method == "RetrievePropertiesEx":
        for elem in RawSoap(stub).stream(mo("pc"), method, [], frozenset({OBJECTS, TOKEN})):
            out.append(elem.text if elem.tag == TOKEN else parse_vm(elem))
    else:
        out = [parse_port(e, SWITCH) for e in RawSoap(stub).stream(mo("dvs-1"), method, [], frozenset({RETURNVAL}))]
    assert stub.returned, "a complete reply leaves the connection reusable"
    return out


# -- the documented mapping, applied to the oracle's objects ------------------------------

_ESCAPE = re.compile(r"%(2[fF]|5[cC]|25)")


def documented_unescape(name: str) -> str:
    """vSphere API, ``ManagedEntity.name``: ``%2f``/``%2F`` is ``/``, ``%5c``/``%5C`` is ``\\``, ``%25`` is ``%``."""
    return _ESCAPE.sub(lambda m: {"2f": "/", "5c": "\\", "25": "%"}[m.group(1).lower()], name)


def expected_vm(oc: Any) -> Vm:
    props = {p.name: p.val for p in oc.propSet}
    ips: dict[int, tuple[str, ...]] = {}
    for g in props.get("guest.net") or []:
        chosen = list(g.ipAddress)
        if not chosen and g.ipConfig is not None:
            chosen = [a.ipAddress for a in g.ipConfig.ipAddress]
        ips[g.deviceConfigId] = ips.get(g.deviceConfigId, ()) + tuple(ip for ip in chosen if ip)
    nics = []
    for d in props.get("config.hardware.device") or []:
        if not isinstance(d, D.VirtualEthernetCard):
            continue
        port = d.backing.port if isinstance(d.backing, DVPORT_BACKING) else None
        network = ""
        if isinstance(d.backing, D.VirtualEthernetCard.OpaqueNetworkBackingInfo):
            network = f"{d.backing.opaqueNetworkType or 'opaque network'} {d.backing.opaqueNetworkId or ''}"
        elif isinstance(d.backing, D.VirtualDevice.DeviceBackingInfo) and port is None:
            network = getattr(d.backing, "deviceName", None) or ""
        nics.append(
            Nic(
                key=d.key,
                label=(d.deviceInfo.label or "") if d.deviceInfo is not None else "",
                mac=(d.macAddress or "").lower(),
                switch=(port.switchUuid or "") if port is not None else "",
                portgroup=(port.portgroupKey or "") if port is not None else "",
                port=(port.portKey or "") if port is not None else "",
                connected=bool(d.connectable.connected) if d.connectable is not None else True,
                ips=ips.get(d.key, ()),
                network=documented_unescape(network.strip()),
            )
        )
    name = props.get("name")
    host = props.get("runtime.host")
    power = props.get("runtime.powerState")
    return Vm(
        key=oc.obj._moId,
        name=documented_unescape(name) if name is not None else oc.obj._moId,
        host=host._moId if host is not None else "",
        power=str(power) if power is not None else "",
        nics=tuple(nics),
    )


def expected_port(p: Any) -> Port:
    c = p.connectee
    connectee = None
    if c is not None:
        connectee = Connectee(
            type=ConnecteeType(c.type or ""),
            entity=c.connectedEntity._moId if c.connectedEntity is not None else "",
            nic_key=c.nicKey or "",
        )
    rt = p.state.runtimeInfo if p.state is not None else None
    setting = p.config.setting
    promiscuous = False
    mac_policy = getattr(setting, "macManagementPolicy", None)
    security = getattr(setting, "securityPolicy", None)
    if mac_policy is not None and mac_policy.allowPromiscuous is not None:
        promiscuous = mac_policy.allowPromiscuous
    elif security is not None and security.allowPromiscuous is not None:
        promiscuous = bool(security.allowPromiscuous.value)
    return Port(
        key=p.key,
        switch=SWITCH,
        portgroup=p.portgroupKey or "",
        name=p.config.name or "",
        connectee=connectee,
        host=p.proxyHost._moId if p.proxyHost is not None else "",
        link_up=rt.linkUp if rt is not None else False,
        mac=((rt.macAddress or "") if rt is not None else "").lower(),
        promiscuous=promiscuous,
    )


# -- strategies ---------------------------------------------------------------------------

HOSTILE = [
    "&",
    "<",
    ">",
    "&amp;",
    "]]>",
    '"',
    "'",
    "%",
    "%2f",
    "%2F",
    "%25",
    "%5c",
    "%5C",
    "%252f",
    "%2",
    "vm[prod]",
    "[/x]",
    "/",
    "\\",
    " ",
    "\t",
    "\n",
    "\r\n",
    "é",
    "网络",
    "²①٣",
    "\u202e",
    "\U0001f600",
]
# Any character XML 1.0 can carry (pyVmomi escapes only & < >, so the rest goes through raw).
CHARS = st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"], exclude_characters="\ufffe\uffff")
TEXT = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(CHARS, max_size=4)), max_size=5).map("".join)


def opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The value, or the property left out (``None``)."""
    return st.one_of(st.none(), strategy)


MOID = st.integers(1, 99999)
KEY = st.integers(-1, 10**6)
BOOL = st.booleans()
MAC = st.builds(
    lambda b, upper: ":".join(f"{x:02X}" if upper else f"{x:02x}" for x in b),
    st.binary(min_size=6, max_size=6),
    BOOL,
)
HOST = MOID.map(lambda n: vim.HostSystem(f"host-{n}"))
DESCRIPTION = st.builds(vim.Description, label=TEXT, summary=TEXT)
CONNECT_INFO = st.builds(
    D.VirtualDevice.ConnectInfo,
    startConnected=BOOL,
    allowGuestControl=BOOL,
    connected=BOOL,
    status=opt(st.sampled_from(["ok", "recoverableError", "unrecoverableError", "untried"])),
)
PORT_CONNECTION = st.builds(
    vim.dvs.PortConnection,
    switchUuid=st.one_of(st.just(SWITCH), st.just(""), TEXT),
    portgroupKey=opt(st.one_of(MOID.map(lambda n: f"dvportgroup-{n}"), TEXT)),
    portKey=opt(st.one_of(st.integers(0, 5000).map(str), TEXT)),
    connectionCookie=opt(st.integers(0, 2**31 - 1)),
)
NIC_BACKING = st.one_of(
    st.none(),
    st.builds(DVPORT_BACKING, port=PORT_CONNECTION),
    st.builds(
        D.VirtualEthernetCard.OpaqueNetworkBackingInfo,
        opaqueNetworkId=TEXT,
        opaqueNetworkType=st.sampled_from(["nsx.LogicalSwitch", "nsx.Segment"]),
    ),
    st.builds(
        D.VirtualEthernetCard.NetworkBackingInfo,
        deviceName=TEXT,
        network=opt(MOID.map(lambda n: vim.Network(f"network-{n}"))),
        useAutoDetect=opt(BOOL),
    ),
    st.builds(D.VirtualEthernetCard.LegacyNetworkBackingInfo, deviceName=TEXT),
)
NIC_KINDS = [
    D.VirtualVmxnet3,
    D.VirtualE1000,
    D.VirtualE1000e,
    D.VirtualPCNet32,
    D.VirtualVmxnet2,
    D.VirtualVmxnet3Vrdma,
    D.VirtualSriovEthernetCard,
]


@st.composite
def nics(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(NIC_KINDS))
    nic = kind(
        key=draw(KEY),
        deviceInfo=draw(opt(DESCRIPTION)),
        backing=draw(NIC_BACKING),
        connectable=draw(opt(CONNECT_INFO)),
        controllerKey=draw(opt(st.integers(100, 120))),
        unitNumber=draw(opt(st.integers(0, 20))),
        addressType=draw(opt(st.sampled_from(["assigned", "generated", "manual"]))),
        macAddress=draw(opt(MAC)),
        wakeOnLanEnabled=draw(opt(BOOL)),
    )
    if kind is D.VirtualSriovEthernetCard and draw(BOOL):
        nic.allowGuestOSMtuChange = draw(BOOL)
        nic.sriovBacking = D.VirtualSriovEthernetCard.SriovBackingInfo(
            physicalFunctionBacking=D.VirtualPCIPassthrough.DeviceBackingInfo(
                id="0000:3b:00.0", deviceId="1572", systemId="5f0c", vendorId=0x8086, deviceName=""
            )
        )
    return nic


@st.composite
def other_devices(draw: st.DrawFn) -> Any:
    """Devices that are not NICs, some with a backing and a ``connectable`` of their own."""
    key = draw(KEY)
    info = draw(opt(DESCRIPTION))
    kind = draw(st.sampled_from(["disk", "ide", "scsi", "cdrom", "pci", "video", "keyboard", "usb"]))
    if kind == "disk":
        return D.VirtualDisk(
            key=key,
            deviceInfo=info,
            capacityInKB=draw(st.integers(0, 2**40)),
            controllerKey=1000,
            unitNumber=0,
            backing=D.VirtualDisk.FlatVer2BackingInfo(fileName=draw(TEXT), diskMode="persistent", thinProvisioned=True),
        )
    if kind == "ide":
        return D.VirtualIDEController(key=key, deviceInfo=info, busNumber=draw(st.integers(0, 1)), device=[3000])
    if kind == "scsi":
        return D.ParaVirtualSCSIController(key=key, deviceInfo=info, busNumber=0, sharedBus="noSharing")
    if kind == "cdrom":
        return D.VirtualCdrom(
            key=key,
            deviceInfo=info,
            backing=draw(
                st.one_of(
                    st.none(),
                    st.builds(D.VirtualCdrom.RemotePassthroughBackingInfo, deviceName=TEXT, exclusive=BOOL),
                    st.builds(D.VirtualCdrom.IsoBackingInfo, fileName=TEXT),
                )
            ),
            connectable=draw(opt(CONNECT_INFO)),
        )
    if kind == "pci":
        return D.VirtualPCIController(key=key, deviceInfo=info, busNumber=0)
    if kind == "video":
        return D.VirtualVideoCard(key=key, deviceInfo=info, videoRamSizeInKB=4096, numDisplays=1)
    if kind == "keyboard":
        return D.VirtualKeyboard(key=key, deviceInfo=info)
    return D.VirtualUSBController(key=key, deviceInfo=info, busNumber=0, autoConnectDevices=draw(BOOL))


IP = st.one_of(st.ip_addresses().map(str), st.just(""), TEXT)


@st.composite
def guest_nics(draw: st.DrawFn, keys: list[int]) -> Any:
    ip_config = draw(
        opt(
            st.builds(
                vim.net.IpConfigInfo,
                ipAddress=st.lists(
                    st.builds(vim.net.IpConfigInfo.IpAddress, ipAddress=IP, prefixLength=st.integers(0, 128)),
                    max_size=3,
                ),
            )
        )
    )
    return vim.vm.GuestInfo.NicInfo(
        network=draw(opt(TEXT)),
        ipAddress=draw(st.lists(IP, max_size=3)),
        macAddress=draw(opt(MAC)),
        connected=draw(BOOL),
        # -1 is the documented "no virtual device"; the others are keys of this VM's devices or not.
        deviceConfigId=draw(st.one_of(st.sampled_from([-1, *keys]), KEY) if keys else st.one_of(st.just(-1), KEY)),
        ipConfig=ip_config,
    )


@st.composite
def vms(draw: st.DrawFn) -> Any:
    devices = draw(st.lists(st.one_of(nics(), other_devices()), max_size=6))
    props = []
    if draw(st.integers(0, 9)):
        props.append(vmodl.DynamicProperty(name="name", val=draw(TEXT)))
    if draw(BOOL):
        props.append(vmodl.DynamicProperty(name="runtime.host", val=draw(HOST)))
    if draw(BOOL):
        state = draw(st.sampled_from(["poweredOn", "poweredOff", "suspended"]))
        props.append(vmodl.DynamicProperty(name="runtime.powerState", val=vim.VirtualMachine.PowerState(state)))
    if draw(st.integers(0, 5)):
        # pyVmomi's stubs omit the .Array types it makes at run time.
        props.append(vmodl.DynamicProperty(name="config.hardware.device", val=D.VirtualDevice.Array(devices)))  # type: ignore[attr-defined]
    if draw(BOOL):
        keys = [d.key for d in devices]
        guest = draw(st.lists(guest_nics(keys), max_size=4))
        props.append(vmodl.DynamicProperty(name="guest.net", val=vim.vm.GuestInfo.NicInfo.Array(guest)))  # type: ignore[attr-defined]
    draw(st.randoms()).shuffle(props)
    return PC.ObjectContent(obj=vim.VirtualMachine(f"vm-{draw(MOID)}"), propSet=props)


CONNECTEE_TYPES = [*(t.value for t in ConnecteeType), "dpuVnic"]
ENTITY = st.one_of(MOID.map(lambda n: vim.VirtualMachine(f"vm-{n}")), HOST)
CONNECTEE = st.builds(
    vim.dvs.PortConnectee,
    connectedEntity=opt(ENTITY),
    nicKey=opt(st.one_of(st.sampled_from(["4000", "vmk0", "vmnic2"]), TEXT)),
    type=opt(st.sampled_from(CONNECTEE_TYPES)),
    addressHint=opt(st.just("00:50:56:9a:1b:2c")),
)
BOOL_POLICY = st.builds(vim.BoolPolicy, inherited=BOOL, value=opt(BOOL))
SETTING = st.one_of(
    st.none(),
    st.builds(vim.dvs.DistributedVirtualPort.Setting, blocked=opt(BOOL_POLICY)),
    st.builds(
        vim.dvs.VmwareDistributedVirtualSwitch.VmwarePortConfigPolicy,
        blocked=opt(BOOL_POLICY),
        securityPolicy=opt(
            st.builds(
                vim.dvs.VmwareDistributedVirtualSwitch.SecurityPolicy,
                inherited=BOOL,
                allowPromiscuous=opt(BOOL_POLICY),
                macChanges=opt(BOOL_POLICY),
            )
        ),
        macManagementPolicy=opt(
            st.builds(
                vim.dvs.VmwareDistributedVirtualSwitch.MacManagementPolicy,
                inherited=BOOL,
                allowPromiscuous=opt(BOOL),
                forgedTransmits=opt(BOOL),
            )
        ),
    ),
)
STATS = vim.dvs.PortStatistics(**{p.name: 0 for p in vim.dvs.PortStatistics._GetPropertyList() if not p.flags & 4})
STATE = st.builds(
    vim.dvs.DistributedVirtualPort.State,
    runtimeInfo=opt(
        st.builds(
            vim.dvs.DistributedVirtualPort.RuntimeInfo,
            linkUp=BOOL,
            blocked=BOOL,
            macAddress=opt(MAC),
            trunkingMode=opt(BOOL),
            linkPeer=opt(TEXT),
        )
    ),
    stats=st.just(STATS),
)
PORT = st.builds(
    vim.dvs.DistributedVirtualPort,
    key=st.one_of(st.integers(0, 5000).map(str), TEXT),
    config=st.builds(
        vim.dvs.DistributedVirtualPort.ConfigInfo,
        name=opt(TEXT),
        description=opt(TEXT),
        setting=SETTING,
        configVersion=st.just("3"),
    ),
    dvsUuid=st.just(SWITCH),
    portgroupKey=opt(MOID.map(lambda n: f"dvportgroup-{n}")),
    proxyHost=opt(HOST),
    connectee=opt(CONNECTEE),
    conflict=BOOL,
    state=opt(STATE),
    connectionCookie=opt(st.integers(0, 2**31 - 1)),
    lastStatusChange=st.just(datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)),
)
STEP = st.sampled_from([1, 7, 64, 1000, 1 << 20])


# -- the properties ------------------------------------------------------------------------


@SETTINGS
@given(objects=st.lists(vms(), min_size=1, max_size=4), token=opt(TEXT.filter(bool)), step=STEP)
def test_vm_pages_read_as_pyvmomi_reads_them(objects: list[Any], token: str | None, step: int) -> None:
    body = envelope("RetrievePropertiesEx", PC.RetrieveResult(objects=objects, token=token))
    result = oracle("RetrievePropertiesEx", body)
    got = dvmirror("RetrievePropertiesEx", body, step)
    # The oracle, not the generated value: XML itself reads a raw "\r\n" as "\n" (pyVmomi too).
    assert (result.token is None) == (token is None)
    if token is not None:
        assert got[0] == result.token
        got = got[1:]
    assert len(got) == len(result.objects) == len(objects)
    for vm, oc in zip(got, result.objects, strict=True):
        want = expected_vm(oc)
        assert vm.key == want.key
        assert vm.name == want.name
        assert (vm.host, vm.power) == (want.host, want.power)
        assert len(vm.nics) == len(want.nics), "every NIC pyVmomi returns is kept, and nothing else"
        for nic, want_nic in zip(vm.nics, want.nics, strict=True):
            assert nic == want_nic


@SETTINGS
@given(ports=st.lists(PORT, max_size=5), step=STEP)
def test_fetch_dvports_read_as_pyvmomi_reads_it(ports: list[Any], step: int) -> None:
    body = envelope("FetchPorts", ports)
    result = oracle("FetchPorts", body)
    got = dvmirror("FetchPorts", body, step)
    assert len(got) == len(result) == len(ports)
    for port, p in zip(got, result, strict=True):
        want = expected_port(p)
        assert port.key == want.key
        assert (port.portgroup, port.name, port.host) == (want.portgroup, want.name, want.host)
        assert port.connectee == want.connectee
        assert port.connected is (p.connectee is not None)
        assert (port.link_up, port.mac, port.promiscuous) == (want.link_up, want.mac, want.promiscuous)


# -- the oracle's own sanity ------------------------------------------------------------------


def test_the_envelope_has_vcenters_shape() -> None:
    oc = PC.ObjectContent(
        obj=vim.VirtualMachine("vm-1"),
        propSet=[
            vmodl.DynamicProperty(name="name", val="a&b%2f"),
            vmodl.DynamicProperty(name="runtime.host", val=vim.HostSystem("host-9")),
            vmodl.DynamicProperty(name="config.hardware.device", val=D.VirtualDevice.Array([])),  # type: ignore[attr-defined]
        ],
    )
    text = envelope("RetrievePropertiesEx", PC.RetrieveResult(objects=[oc])).decode()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope ')
    assert '<soapenv:Body><RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects>' in text
    assert '<obj type="VirtualMachine">vm-1</obj>' in text
    assert '<val xsi:type="xsd:string">a&amp;b%2f</val>' in text
    assert '<val xsi:type="ManagedObjectReference" type="HostSystem">host-9</val>' in text
    assert '<val xsi:type="ArrayOfVirtualDevice"></val>' in text
    assert "versionId" not in text
    port = vim.dvs.DistributedVirtualPort(
        key="7",
        config=vim.dvs.DistributedVirtualPort.ConfigInfo(configVersion="1"),
        dvsUuid=SWITCH,
        conflict=False,
        lastStatusChange=datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC),
    )
    ports = envelope("FetchPorts", [port]).decode()
    assert "<FetchDVPortsResponse " in ports and "<returnval><key>7</key>" in ports


def test_the_device_types_are_pyvmomis() -> None:
    """``_NIC_TYPES`` is every ``VirtualEthernetCard`` subtype pyVmomi knows; ``_OTHER_DEVICE_TYPES`` the rest."""
    from tui.backends._soap import _NIC_TYPES, _OTHER_DEVICE_TYPES

    devices = [t for t in VmomiSupport.GetWsdlTypes() if isinstance(t, type) and issubclass(t, D.VirtualDevice)]
    nic_types = {VmomiSupport.GetWsdlName(t) for t in devices if issubclass(t, D.VirtualEthernetCard)}
    others = {VmomiSupport.GetWsdlName(t) for t in devices if not issubclass(t, D.VirtualEthernetCard)}
    assert nic_types == _NIC_TYPES
    assert others - {"VirtualDevice"} == _OTHER_DEVICE_TYPES, "the base type is looked into (it could be a NIC)"


@pytest.mark.parametrize(
    ("raw", "name"),
    [("a%2fb%2Fc", "a/b/c"), ("x%5cy%5C", "x\\y\\"), ("100%25", "100%"), ("%252f", "%2f"), ("50%", "50%")],
)
def test_documented_unescape_agrees_with_unescape_name(raw: str, name: str) -> None:
    from tui.backends._soap import unescape_name

    assert documented_unescape(raw) == unescape_name(raw) == name


# -- types pyVmomi does not know (hand-written, as a newer vCenter could send them) --------

NEW_TYPES = (
    f"{SoapAdapter.XML_HEADER}\n{SoapAdapter.SOAP_ENVELOPE_START}{SoapAdapter.SOAP_BODY_START}"
    '<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval>'
    '<objects><obj type="VirtualMachine">vm-5</obj>'
    '<propSet><name>name</name><val xsi:type="xsd:string">db%2f01 [new hw]</val></propSet>'
    '<propSet><name>config.hardware.device</name><val xsi:type="ArrayOfVirtualDevice">'
    # an adapter type this pyVmomi does not know, fully populated
    '<VirtualDevice xsi:type="VirtualVmxnet9"><key>4000</key><deviceInfo><label>Network adapter 1</label>'
    "<summary>DVSwitch</summary></deviceInfo>"
    '<backing xsi:type="VirtualEthernetCardDistributedVirtualPortBackingInfo"><port>'
    f"<switchUuid>{SWITCH}</switchUuid><portgroupKey>dvportgroup-43</portgroupKey><portKey>100</portKey></port>"
    "</backing><connectable><startConnected>true</startConnected><allowGuestControl>true</allowGuestControl>"
    "<connected>true</connected></connectable><addressType>assigned</addressType>"
    "<macAddress>00:50:56:AA:00:01</macAddress></VirtualDevice>"
    # a known adapter with a backing subtype this pyVmomi does not know; no MAC yet, no portKey
    '<VirtualDevice xsi:type="VirtualVmxnet3"><key>4001</key><deviceInfo><label>Network adapter 2</label>'
    '<summary>x</summary></deviceInfo><backing xsi:type="VirtualEthernetCardSegmentBackingInfo"><port>'
    f"<switchUuid>{SWITCH}</switchUuid><portgroupKey>dvportgroup-44</portgroupKey></port></backing>"
    "</VirtualDevice>"
    # an unknown type known as a NIC only by its network backing, or only by a NIC's own field
    '<VirtualDevice xsi:type="VirtualFutureNic"><key>4002</key>'
    '<backing xsi:type="VirtualEthernetCardNetworkBackingInfo"><deviceName>VM Network</deviceName></backing>'
    "</VirtualDevice>"
    '<VirtualDevice xsi:type="VirtualFutureNic"><key>4003</key><addressType>generated</addressType></VirtualDevice>'
    # an unknown device that is not a NIC (it has a connectable and a backing of its own)
    '<VirtualDevice xsi:type="VirtualHologram"><key>9000</key><deviceInfo><label>Hologram 1</label>'
    '<summary>h</summary></deviceInfo><backing xsi:type="VirtualHologramBackingInfo"><deviceName>h0</deviceName>'
    "</backing><connectable><startConnected>true</startConnected><allowGuestControl>false</allowGuestControl>"
    "<connected>true</connected></connectable></VirtualDevice>"
    "</val></propSet></objects></returnval></RetrievePropertiesExResponse>"
    f"{SoapAdapter.SOAP_BODY_END}{SoapAdapter.SOAP_ENVELOPE_END}"
).encode()

NEW_PORTS = (
    f"{SoapAdapter.XML_HEADER}\n{SoapAdapter.SOAP_ENVELOPE_START}{SoapAdapter.SOAP_BODY_START}"
    '<FetchDVPortsResponse xmlns="urn:vim25">'
    '<returnval><key>100</key><config><name></name><setting xsi:type="VMwareDVSPortSettingNext">'
    "<macManagementPolicy><inherited>true</inherited><allowPromiscuous>true</allowPromiscuous>"
    "</macManagementPolicy></setting><configVersion>1</configVersion></config>"
    f"<dvsUuid>{SWITCH}</dvsUuid><portgroupKey>dvportgroup-43</portgroupKey>"
    '<connectee><connectedEntity type="VirtualMachine">vm-5</connectedEntity><nicKey>4000</nicKey>'
    "<type>vmVnic</type></connectee><conflict>false</conflict>"
    "<lastStatusChange>2026-01-02T03:04:05Z</lastStatusChange></returnval>"
    "<returnval><key>101</key><config><configVersion>1</configVersion></config>"
    f"<dvsUuid>{SWITCH}</dvsUuid>"
    '<connectee><connectedEntity type="HostSystem">host-7</connectedEntity><nicKey>dpu0</nicKey>'
    "<type>dpuVnic</type></connectee><conflict>false</conflict>"
    "<lastStatusChange>2026-01-02T03:04:05Z</lastStatusChange></returnval>"
    "</FetchDVPortsResponse>"
    f"{SoapAdapter.SOAP_BODY_END}{SoapAdapter.SOAP_ENVELOPE_END}"
).encode()


def test_unknown_device_and_backing_types_keep_the_vm_and_its_nics() -> None:
    """pyVmomi refuses the whole reply (``KeyError`` from its type lookup); dvmirror keeps every NIC."""
    with pytest.raises(KeyError, match="VirtualVmxnet9"):
        oracle("RetrievePropertiesEx", NEW_TYPES)
    (vm,) = dvmirror("RetrievePropertiesEx", NEW_TYPES, 1 << 20)
    assert (vm.key, vm.name) == ("vm-5", "db/01 [new hw]")
    assert [n.key for n in vm.nics] == [4000, 4001, 4002, 4003], "the hologram is not a NIC"
    a, b, c, d = vm.nics
    assert (a.label, a.mac, a.switch, a.portgroup, a.port, a.connected) == (
        "Network adapter 1",
        "00:50:56:aa:00:01",
        SWITCH,
        "dvportgroup-43",
        "100",
        True,
    )
    assert (b.mac, b.switch, b.portgroup, b.port) == ("", SWITCH, "dvportgroup-44", ""), "no MAC, no portKey"
    assert (c.label, c.mac, c.switch, d.mac) == ("", "", "", "")

    from tui.lookup import LookupIndex
    from tui.model import Inventory

    ports = dvmirror("FetchPorts", NEW_PORTS, 64)
    inv = Inventory.build(
        vcenter="vc", source="test", datacenters=[], hosts=[], switches=[], portgroups=[], ports=ports, vms=[vm]
    )
    port = inv.port(SWITCH, "100")
    assert port is not None and inv.vm_nic(port) == (vm, a)
    hits = LookupIndex(inv).search("db/01")
    assert [h.port.key for h in hits if h.port is not None] == ["100"], "the row is findable by VM name"
    portless = sorted(h.portless.nic.key for h in hits if h.portless is not None and h.portless.nic is not None)
    assert portless == [4001, 4002, 4003], "so are the NICs on no port"


def test_an_unknown_setting_subtype_and_connectee_type() -> None:
    """pyVmomi fails on the unknown setting type; a new connectee type alone it passes through as text.

    dvmirror reads both ports; the new connectee type stays visible (the port is not shown free).
    """
    with pytest.raises(KeyError, match="VMwareDVSPortSettingNext"):
        oracle("FetchPorts", NEW_PORTS)
    second_only = NEW_PORTS.replace(
        NEW_PORTS[NEW_PORTS.index(b"<returnval>") : NEW_PORTS.index(b"<returnval><key>101")], b""
    )
    (from_pyvmomi,) = oracle("FetchPorts", second_only)
    assert from_pyvmomi.connectee.type == "dpuVnic"
    first, second = dvmirror("FetchPorts", NEW_PORTS, 7)
    assert first.promiscuous is True and first.connectee == Connectee(ConnecteeType.VM_VNIC, "vm-5", "4000")
    assert second.connected and second.connectee is not None
    assert second.connectee.type.value == "dpuVnic" and second.connectee.type not in list(ConnecteeType)
    assert (second.connectee.entity, second.connectee.nic_key, second.is_uplink) == ("host-7", "dpu0", False)
    assert second == expected_port(from_pyvmomi)


REQUIRED_BUT_MISSING = (
    f"{SoapAdapter.XML_HEADER}\n{SoapAdapter.SOAP_ENVELOPE_START}{SoapAdapter.SOAP_BODY_START}"
    '<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval>'
    '<objects><obj type="VirtualMachine">vm-6</obj>'
    '<propSet><name>config.hardware.device</name><val xsi:type="ArrayOfVirtualDevice">'
    # no switchUuid in the port, no label in deviceInfo, no connected in connectable
    '<VirtualDevice xsi:type="VirtualE1000"><key>4000</key><deviceInfo><summary>s</summary></deviceInfo>'
    '<backing xsi:type="VirtualEthernetCardDistributedVirtualPortBackingInfo"><port><portKey>7</portKey></port>'
    "</backing><connectable><startConnected>true</startConnected></connectable></VirtualDevice>"
    # no key at all, an empty backing
    '<VirtualDevice xsi:type="VirtualVmxnet3"><backing xsi:type="VirtualEthernetCardNetworkBackingInfo"/>'
    "<macAddress></macAddress></VirtualDevice>"
    "</val></propSet>"
    '<propSet><name>guest.net</name><val xsi:type="ArrayOfGuestNicInfo">'
    "<GuestNicInfo><ipAddress>192.0.2.1</ipAddress><connected>true</connected></GuestNicInfo>"
    "<GuestNicInfo><connected>true</connected><deviceConfigId>4000</deviceConfigId></GuestNicInfo>"
    "</val></propSet></objects></returnval></RetrievePropertiesExResponse>"
    f"{SoapAdapter.SOAP_BODY_END}{SoapAdapter.SOAP_ENVELOPE_END}"
).encode()


def test_required_fields_left_out_are_read_as_pyvmomi_reads_them() -> None:
    """pyVmomi's deserializer does not insist on required fields; neither does dvmirror, and they agree."""
    result = oracle("RetrievePropertiesEx", REQUIRED_BUT_MISSING)
    (vm,) = dvmirror("RetrievePropertiesEx", REQUIRED_BUT_MISSING, 64)
    want = expected_vm(result.objects[0])
    # One deliberate difference: pyVmomi reads an unset required int as 0, so its keyless NIC
    # "gets" the IPs of the guest NIC that names no device. dvmirror attaches those to no NIC.
    assert result.objects[0].propSet[1].val[0].deviceConfigId == 0 and want.nics[1].ips == ("192.0.2.1",)
    assert vm == dataclasses.replace(want, nics=(want.nics[0], dataclasses.replace(want.nics[1], ips=())))
    a, b = vm.nics
    assert (a.key, a.label, a.switch, a.port, a.connected, a.ips) == (4000, "", "", "7", False, ())
    assert (b.key, b.mac, b.switch, b.connected) == (0, "", "", True), "no key: kept, as 0"
