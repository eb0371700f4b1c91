"""Raw SOAP for the big responses: pyVmomi's session and connections, our streaming parser.

pyVmomi's deserializer costs about 13 µs per XML element (performance.md §2), which makes a
10,000-VM device list or port list take tens of seconds. For those responses only we send the
request pyVmomi would send (``SerializeRequest``, same cookie, same connection pool, gzip
accepted) and parse the reply with ``xml.etree``'s C-accelerated pull parser, handing each
finished top-level item to a converter and then freeing it. Faults (HTTP 500) are small and
go back through pyVmomi, so callers see the same ``vim.fault.*`` exceptions either way.

This module is imported only by :mod:`tui.backends.vsphere`, after pyVmomi is loaded; the
converters below work on plain ``xml.etree`` elements and are unit-testable without a server.
"""

from __future__ import annotations

import contextlib
import gc
import io
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from tui.backends import ConnectionFailed
from tui.model import Connectee, ConnecteeType, Nic, Port, Vm

NS = "urn:vim25"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
CHUNK = 256 * 1024


_gc_lock = threading.Lock()
_gc_depth = 0
_gc_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a big response is turned into objects.

    Parsing allocates millions of short-lived tracked objects next to a large live inventory;
    the collector's repeated scans of that inventory cost more than the parse itself (at 40,000
    VMs, 24,800 ports: 10.8 s with the collector, 1.7 s without). Reference counting still frees
    everything as usual; only cycles wait until the pause ends (a few seconds). Pauses nest and
    are thread-safe; the collector is re-enabled only if it was enabled before the first one.
    """
    global _gc_depth, _gc_was_enabled
    with _gc_lock:
        if _gc_depth == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_was_enabled:
                gc.enable()


def q(tag: str) -> str:
    """``tag`` in the vim25 namespace, as ElementTree spells it."""
    return f"{{{NS}}}{tag}"


@dataclass
class WireStats:
    """What went over the wire through :class:`RawSoap` (the pyVmomi calls are not counted)."""

    requests: int = 0
    bytes_received: int = 0
    bytes_sent: int = 0


class RawSoap:
    """Send pyVmomi-serialized requests on pyVmomi's stub; stream-parse the responses."""

    def __init__(self, stub: Any, stats: WireStats | None = None) -> None:
        self.stub = stub
        self.stats = stats or WireStats()
        self.active: Any = None
        """The connection of the response being read (for :meth:`abort`)."""
        self.aborted = False

    def abort(self) -> None:
        """Cut the response being read (from another thread) and refuse further calls.

        The reading thread then fails with a connection error.
        """
        self.aborted = True
        conn = self.active
        sock = getattr(conn, "sock", None)
        if sock is not None:
            import socket

            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _headers(self) -> dict[str, str]:
        return {
            "Cookie": self.stub.cookie,
            "SOAPAction": self.stub.versionId,
            "Content-Type": "text/xml; charset=UTF-8",
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": "dvmirror (pyVmomi session)",
        }

    def stream(self, mo: Any, method: str, args: list[Any], items: frozenset[str]) -> Iterator[ET.Element]:
        """Call ``mo.method(*args)`` and yield every finished element whose tag is in ``items``.

        Each yielded element is cleared once the consumer asks for the next one, so memory
        stays flat whatever the response size. A SOAP fault raises the pyVmomi exception.
        Socket and HTTP errors propagate as they are (the caller maps them, and may retry);
        a reply that arrived but cannot be read (unknown or corrupt content encoding, XML
        that is malformed, cut short or not a SOAP response) raises :class:`ConnectionFailed`
        with a message naming what was wrong.
        """
        from http.client import HTTPException

        if self.aborted:
            raise ConnectionAbortedError("closed")
        stub = self.stub
        info = type(mo)._GetMethodInfo(method)
        what = f"vCenter's reply to {getattr(info, 'wsdlName', None) or method}"
        body = stub.SerializeRequest(mo, info, args)
        conn = stub.GetConnection()
        self.active = conn
        reusable = False
        try:
            self.stats.requests += 1
            self.stats.bytes_sent += len(body)
            conn.request("POST", stub.path, body, self._headers())
            resp = conn.getresponse()
            cookie = resp.getheader("Set-Cookie")
            if cookie:
                stub.cookie = cookie
            decoder = _Decoder(resp.getheader("Content-Encoding", "identity"), what)
            if resp.status == 500:
                data = self._read_all(resp, decoder)
                reusable = True
                raise _fault(stub, data, info, what)
            if resp.status != 200:
                raise HTTPException(f"{resp.status} {resp.reason}")
            parser: Any = ET.XMLPullParser(events=("end",))
            last = None
            received = 0
            closing = False
            try:  # XMLPullParser reports an error from feed() at the next read_events()
                while True:
                    chunk = resp.read(CHUNK)
                    if not chunk:
                        break
                    received += len(chunk)
                    self.stats.bytes_received += len(chunk)
                    parser.feed(decoder.decode(chunk))
                    for _event, last in parser.read_events():
                        if last.tag in items:
                            yield last
                            last.clear()
                if self.aborted:
                    raise ConnectionAbortedError("closed")
                parser.feed(decoder.finish())
                closing = True
                parser.close()
                for _event, last in parser.read_events():
                    if last.tag in items:
                        yield last
                        last.clear()
            except ET.ParseError as e:
                if closing:
                    message = f"{what} ended early: the XML stops after {received} bytes"
                else:
                    message = f"{what} is not well-formed XML ({e}, within the first {received} bytes)"
                raise ConnectionFailed(message, hint=_BAD_REPLY_HINT) from None
            _check_envelope(last, what)
            reusable = True
        finally:
            self.active = None
            if reusable:
                stub.ReturnConnection(conn)
            else:
                conn.close()

    def _read_all(self, resp: Any, decoder: _Decoder) -> bytes:
        raw = resp.read()
        self.stats.bytes_received += len(raw)
        return decoder.decode(raw) + decoder.finish()


_BAD_REPLY_HINT = "vCenter, or a proxy between, sent a broken reply; try again (r)."
SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
_ENVELOPE = f"{{{SOAPENV}}}Envelope"
_BODY = f"{{{SOAPENV}}}Body"
_SOAP_FAULT = f"{{{SOAPENV}}}Fault"


def _check_envelope(root: ET.Element | None, what: str) -> None:
    """Refuse a well-formed document that is not a SOAP response (a proxy's page, say)."""
    body = root.find(_BODY) if root is not None and root.tag == _ENVELOPE else None
    if body is None:
        shown = repr(root.tag)[:80] if root is not None else "nothing"
        raise ConnectionFailed(f"{what} is not a SOAP envelope (it is {shown})", hint=_BAD_REPLY_HINT)
    # pyVmomi's SoapResponseDeserializer takes the first element whose name ends in "Response".
    if any(child.tag.endswith("Response") for child in body):
        return
    fault = body.find(_SOAP_FAULT)
    if fault is not None:
        text = (fault.findtext("faultstring") or "").strip()
        raise ConnectionFailed(f"{what} is a SOAP fault sent as a success (HTTP 200): {text[:200]!r}")
    raise ConnectionFailed(f"{what} is a SOAP envelope without a response in it", hint=_BAD_REPLY_HINT)


class _Decoder:
    """Undo a ``Content-Encoding`` piece by piece: ``identity``, ``gzip`` or ``deflate``.

    ``deflate`` should be zlib-wrapped (RFC 9110 §8.4.1.2) but servers also send raw deflate,
    and some send gzip under that name; the first two bytes tell them apart, as pyVmomi's
    ``GzipReader`` intends. Every failure is a :class:`ConnectionFailed` naming the encoding.
    """

    def __init__(self, header: str | None, what: str) -> None:
        codings = [c.strip().lower() for c in (header or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        self.what = what
        self.encoding = {"x-gzip": "gzip"}.get(codings[0], codings[0]) if len(codings) == 1 else "identity"
        if len(codings) > 1 or self.encoding not in ("identity", "gzip", "deflate"):
            raise ConnectionFailed(
                f"{what} uses the content encoding {(header or '')[:60]!r}; dvmirror reads gzip, deflate or none",
                hint=_BAD_REPLY_HINT,
            )
        self._z: Any = None
        self._head = b""

    def decode(self, data: bytes) -> bytes:
        if self.encoding == "identity":
            return data
        try:
            if self._z is None:
                self._head += data
                if len(self._head) < 2:
                    return b""
                data, self._head = self._head, b""
                self._z = zlib.decompressobj(self._wbits(data))
            out: bytes = self._z.decompress(data)
            while self._z.eof and self._z.unused_data:
                rest = self._z.unused_data
                if self.encoding != "gzip" or rest[:2] != b"\x1f\x8b":
                    raise zlib.error("data after the end of the compressed stream")
                # A gzip body may hold several members (RFC 1952 §2.2), read one after the other.
                self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
                out += self._z.decompress(rest)
            return out
        except zlib.error as e:
            raise ConnectionFailed(
                f"{self.what} is not valid {self.encoding} data ({e})", hint=_BAD_REPLY_HINT
            ) from None

    def finish(self) -> bytes:
        """What is left; raises if the compressed stream did not end."""
        if self.encoding == "identity":
            return b""
        if self._z is None and not self._head:
            return b""  # an empty body: the XML parser says what is missing
        out = self.decode(b"") if self._z is None else b""
        if self._z is None or not self._z.eof:
            raise ConnectionFailed(
                f"{self.what} ended early: the {self.encoding} data stops before its end", hint=_BAD_REPLY_HINT
            )
        return out + self._z.flush()

    def _wbits(self, head: bytes) -> int:
        if head[:2] == b"\x1f\x8b":
            return 16 + zlib.MAX_WBITS  # gzip, also when sent as "deflate"
        if self.encoding == "gzip":
            return 32 + zlib.MAX_WBITS  # gzip or zlib, detected by zlib from the header
        cmf, flg = head[0], head[1]
        if cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0:
            return zlib.MAX_WBITS  # a zlib header (RFC 1950 §2.2)
        return -zlib.MAX_WBITS  # raw deflate (RFC 1951)


def _fault(stub: Any, data: bytes, info: Any, what: str) -> BaseException:
    """The pyVmomi exception for a SOAP fault body (HTTP 500)."""
    from pyVmomi.SoapAdapter import SoapResponseDeserializer

    try:
        obj = SoapResponseDeserializer(stub).Deserialize(io.BytesIO(data), info.result)
    except Exception as e:  # expat, or a fault type this pyVmomi does not know
        return ConnectionFailed(
            f"{what} is an error (HTTP 500) whose SOAP fault cannot be read ({type(e).__name__}: {str(e)[:120]!r})",
            hint=_BAD_REPLY_HINT,
        )
    if isinstance(obj, BaseException):
        return obj
    from http.client import HTTPException

    return HTTPException("500 from vCenter without a SOAP fault")


# -- converters ---------------------------------------------------------------------------

_OBJ = q("obj")
_PROPSET = q("propSet")
_NAME = q("name")
_VAL = q("val")
_MISSING = q("missingSet")
_FAULT = q("fault")
_KEY = q("key")
_LABEL = q("label")
_DEVICEINFO = q("deviceInfo")
_MAC = q("macAddress")
_BACKING = q("backing")
_PORT = q("port")
_SWITCH_UUID = q("switchUuid")
_PG_KEY = q("portgroupKey")
_PORT_KEY = q("portKey")
_DEVICE_NAME = q("deviceName")
_OPAQUE_ID = q("opaqueNetworkId")
_OPAQUE_TYPE = q("opaqueNetworkType")
_CONNECTABLE = q("connectable")
_CONNECTED = q("connected")
_DEVICE_CONFIG_ID = q("deviceConfigId")
_IP = q("ipAddress")
_IPCONFIG = q("ipConfig")

OBJECTS = q("objects")
TOKEN = q("token")
RETURNVAL = q("returnval")


class NotAuthenticatedError(Exception):
    """A property came back with a ``NotAuthenticated`` fault (the session is gone)."""


def unescape_name(name: str) -> str:
    """vCenter stores ``/``, ``\\`` and ``%`` in entity names as ``%2f``, ``%5c``, ``%25``."""
    if "%" not in name:
        return name
    out = []
    i = 0
    while i < len(name):
        code = name[i : i + 3].lower()
        if code in ("%2f", "%5c", "%25"):
            out.append({"%2f": "/", "%5c": "\\", "%25": "%"}[code])
            i += 3
        else:
            out.append(name[i])
            i += 1
    return "".join(out)


def _bool(text: str | None) -> bool:
    return (text or "").strip().lower() in ("true", "1")


def _local(xsi_type: str | None) -> str:
    """``vim25:VirtualE1000e`` → ``VirtualE1000e``."""
    return (xsi_type or "").rsplit(":", 1)[-1]


def object_props(objects: ET.Element) -> tuple[str, dict[str, ET.Element]]:
    """``(moid, {property path: <val> element})`` for one ``ObjectContent``.

    Raises :class:`NotAuthenticatedError` if a property is missing because the session is gone.
    """
    moid = objects.findtext(_OBJ) or ""
    props: dict[str, ET.Element] = {}
    for child in objects:
        if child.tag == _PROPSET:
            name = child.findtext(_NAME) or ""
            val = child.find(_VAL)
            if val is not None:
                props[name] = val
        elif child.tag == _MISSING:
            fault = child.find(f"{_FAULT}/{_FAULT}")
            if fault is not None and _local(fault.get(XSI_TYPE)) == "NotAuthenticated":
                raise NotAuthenticatedError(moid)
    return moid, props


_NIC_TYPES = frozenset(
    {
        "VirtualEthernetCard",
        "VirtualE1000",
        "VirtualE1000e",
        "VirtualPCNet32",
        "VirtualSriovEthernetCard",
        "VirtualVmxnet",
        "VirtualVmxnet2",
        "VirtualVmxnet3",
        "VirtualVmxnet3Vrdma",
    }
)
"""``VirtualEthernetCard`` and its subtypes (pyVmomi 9.1's type map; a unit test keeps them in step)."""
_OTHER_DEVICE_TYPES = frozenset(
    {
        "ParaVirtualSCSIController",
        "VirtualAHCIController",
        "VirtualBusLogicController",
        "VirtualCdrom",
        "VirtualController",
        "VirtualDisk",
        "VirtualEnsoniq1371",
        "VirtualFloppy",
        "VirtualHdAudioCard",
        "VirtualIDEController",
        "VirtualKeyboard",
        "VirtualLsiLogicController",
        "VirtualLsiLogicSASController",
        "VirtualMachineVMCIDevice",
        "VirtualMachineVMIROM",
        "VirtualMachineVideoCard",
        "VirtualNVDIMM",
        "VirtualNVDIMMController",
        "VirtualNVMEController",
        "VirtualPCIController",
        "VirtualPCIPassthrough",
        "VirtualPS2Controller",
        "VirtualParallelPort",
        "VirtualPointingDevice",
        "VirtualPrecisionClock",
        "VirtualSATAController",
        "VirtualSCSIController",
        "VirtualSCSIPassthrough",
        "VirtualSIOController",
        "VirtualSerialPort",
        "VirtualSoundBlaster16",
        "VirtualSoundCard",
        "VirtualTPM",
        "VirtualUSB",
        "VirtualUSBController",
        "VirtualUSBXHCIController",
        "VirtualWDT",
    }
)
"""The other ``VirtualDevice`` subtypes pyVmomi 9.1 knows (not the base type): never NICs, no need to look inside."""
_NIC_FIELDS = frozenset({_MAC, q("addressType"), q("wakeOnLanEnabled"), q("uptCompatibilityEnabled")})
"""Properties only a ``VirtualEthernetCard`` has: they mark a NIC of a type this list does not know."""


def _int(text: str | None) -> int | None:
    """An ``xsd:int`` in ASCII digits (``int()`` alone would take ``٤٠٠٠`` or ``4_000``), else ``None``."""
    if text is None:
        return None
    if text.isdigit() and text.isascii():
        return int(text)
    t = text.strip()
    digits = t[1:] if t[:1] in ("+", "-") else t
    if digits.isascii() and digits.isdigit():
        return int(t)
    return None


def _is_nic(dev: ET.Element) -> bool:
    """Whether a ``VirtualDevice`` element is a network adapter, whatever its ``xsi:type``.

    A type that is not a known ``VirtualEthernetCard`` subtype (a newer vCenter's adapter)
    still counts when it carries a NIC's own properties or a network backing.
    """
    kind = dev.get(XSI_TYPE) or ""
    if ":" in kind:  # vCenter writes these types without a prefix; others may not
        kind = _local(kind)
    if kind in _NIC_TYPES:
        return True
    if kind in _OTHER_DEVICE_TYPES:
        return False
    for child in dev:
        if child.tag in _NIC_FIELDS:
            return True
        if child.tag == _BACKING and (
            _local(child.get(XSI_TYPE)).startswith("VirtualEthernetCard") or child.find(_PORT) is not None
        ):
            return True
    return False


def _nic(dev: ET.Element, ips: dict[int, tuple[str, ...]]) -> Nic | None:
    """A VM NIC from a ``VirtualEthernetCard`` element (``None`` for other devices).

    Every optional part may be missing (vCenter gives no ``macAddress`` until the VM first
    powers on, no backing, no ``portKey`` on an ephemeral portgroup): the NIC is kept with
    empty values. A key that is not an integer is kept as 0.
    """
    if not _is_nic(dev):
        return None
    key = _int(dev.findtext(_KEY)) or 0
    label = dev.findtext(f"{_DEVICEINFO}/{_LABEL}") or ""
    switch = portgroup = port = network = ""
    backing = dev.find(_BACKING)
    if backing is not None:
        p = backing.find(_PORT)
        if p is not None:
            switch = p.findtext(_SWITCH_UUID) or ""
            portgroup = p.findtext(_PG_KEY) or ""
            port = p.findtext(_PORT_KEY) or ""
        else:  # a standard (or legacy) network names itself; an opaque (NSX) network by type and id
            network = backing.findtext(_DEVICE_NAME) or ""
            if not network and backing.find(_OPAQUE_ID) is not None:
                network = f"{backing.findtext(_OPAQUE_TYPE) or 'opaque network'} {backing.findtext(_OPAQUE_ID) or ''}"
    conn = dev.find(_CONNECTABLE)
    connected = _bool(conn.findtext(_CONNECTED)) if conn is not None else True
    return Nic(
        key=key,
        label=label,
        mac=(dev.findtext(_MAC) or "").lower(),
        switch=switch,
        portgroup=portgroup,
        port=port,
        connected=connected,
        ips=ips.get(key, ()),
        network=unescape_name(network.strip()),
    )


def _guest_ips(val: ET.Element | None) -> dict[int, tuple[str, ...]]:
    """IP addresses per NIC device key from ``guest.net`` (``GuestNicInfo[]``).

    ``ipAddress`` (the flat list); when it is empty, ``ipConfig.ipAddress[].ipAddress``.
    """
    out: dict[int, tuple[str, ...]] = {}
    if val is None:
        return out
    for info in val:
        dev = _int(info.findtext(_DEVICE_CONFIG_ID))
        if dev is None:
            continue
        ips = [e.text or "" for e in info.findall(_IP)]
        if not ips:
            cfg = info.find(_IPCONFIG)
            if cfg is not None:
                ips = [e.findtext(_IP) or "" for e in cfg.findall(_IP)]
        out[dev] = out.get(dev, ()) + tuple(ip for ip in ips if ip)
    return out


def parse_vm(objects: ET.Element) -> Vm:
    """A :class:`Vm` from one ``ObjectContent`` of the VM retrieval.

    Expects the properties ``name``, ``runtime.host``, ``runtime.powerState``,
    ``config.hardware.device`` and ``guest.net`` (any may be missing).
    """
    moid, props = object_props(objects)
    ips = _guest_ips(props.get("guest.net"))
    nics: list[Nic] = []
    devices = props.get("config.hardware.device")
    if devices is not None:
        for dev in devices:
            nic = _nic(dev, ips)
            if nic is not None:
                nics.append(nic)
    name = props.get("name")
    host = props.get("runtime.host")
    power = props.get("runtime.powerState")
    return Vm(
        key=moid,
        name=unescape_name(name.text or "") if name is not None else moid,
        host=(host.text or "") if host is not None else "",
        power=(power.text or "") if power is not None else "",
        nics=tuple(nics),
    )


_CONNECTEE_TYPES = {t.value: t for t in ConnecteeType}
_CONFIG = q("config")
_SETTING = q("setting")
_SECURITY = q("securityPolicy")
_MACMGMT = q("macManagementPolicy")
_ALLOW_PROMISC = q("allowPromiscuous")
_VALUE = q("value")
_PROXY_HOST = q("proxyHost")
_CONNECTEE = q("connectee")
_ENTITY = q("connectedEntity")
_NIC_KEY = q("nicKey")
_TYPE = q("type")
_STATE = q("state")
_RUNTIME = q("runtimeInfo")
_LINK_UP = q("linkUp")


def _promiscuous(setting: ET.Element | None) -> bool:
    """Effective ``allowPromiscuous``: the MAC management policy (6.7+) wins over the security policy."""
    if setting is None:
        return False
    mac = setting.find(_MACMGMT)
    if mac is not None:
        text = mac.findtext(_ALLOW_PROMISC)
        if text is not None:
            return _bool(text)
    sec = setting.find(_SECURITY)
    if sec is not None:
        return _bool(sec.findtext(f"{_ALLOW_PROMISC}/{_VALUE}"))
    return False


def parse_port(elem: ET.Element, switch: str) -> Port:
    """A :class:`Port` from one ``DistributedVirtualPort`` (a ``returnval`` of FetchDVPorts)."""
    children = {c.tag: c for c in elem}
    config = children.get(_CONFIG)
    connectee = None
    c = children.get(_CONNECTEE)
    if c is not None:
        # Kept whatever is missing or new in it (pyVmomi returns it too): the port is in use.
        text = c.findtext(_TYPE) or ""
        ctype = _CONNECTEE_TYPES.get(text) or ConnecteeType(text)
        connectee = Connectee(type=ctype, entity=c.findtext(_ENTITY) or "", nic_key=c.findtext(_NIC_KEY) or "")
    link_up = False
    mac = ""
    state = children.get(_STATE)
    if state is not None:
        rt = state.find(_RUNTIME)
        if rt is not None:
            link_up = _bool(rt.findtext(_LINK_UP))
            mac = (rt.findtext(_MAC) or "").lower()
    proxy = children.get(_PROXY_HOST)
    pg = children.get(_PG_KEY)
    key = children.get(_KEY)
    return Port(
        key=(key.text or "") if key is not None else "",
        switch=switch,
        portgroup=(pg.text or "") if pg is not None else "",
        name=(config.findtext(_NAME) or "") if config is not None else "",
        connectee=connectee,
        host=(proxy.text or "") if proxy is not None else "",
        link_up=link_up,
        mac=mac,
        promiscuous=_promiscuous(config.find(_SETTING) if config is not None else None),
    )
