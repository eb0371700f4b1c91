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
        stays flat whatever the response size. A SOAP fault raises the pyVmomi exception;
        socket and HTTP errors propagate as they are (the caller maps them).
        """
        from http.client import HTTPException

        if self.aborted:
            raise ConnectionAbortedError("closed")
        stub = self.stub
        info = type(mo)._GetMethodInfo(method)
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
            decoder = _decoder(resp.getheader("Content-Encoding", "identity"))
            if resp.status == 500:
                data = self._read_all(resp, decoder)
                reusable = True
                raise _fault(stub, data, info)
            if resp.status != 200:
                raise HTTPException(f"{resp.status} {resp.reason}")
            parser: Any = ET.XMLPullParser(events=("end",))
            while True:
                chunk = resp.read(CHUNK)
                if not chunk:
                    break
                self.stats.bytes_received += len(chunk)
                parser.feed(decoder.decompress(chunk) if decoder else chunk)
                yield from _finished(parser, items)
            if decoder:
                parser.feed(decoder.flush())
            parser.close()
            yield from _finished(parser, items)
            reusable = True
        finally:
            self.active = None
            if reusable:
                stub.ReturnConnection(conn)
            else:
                conn.close()

    def _read_all(self, resp: Any, decoder: Any) -> bytes:
        raw = resp.read()
        self.stats.bytes_received += len(raw)
        return decoder.decompress(raw) + decoder.flush() if decoder else raw


def _finished(parser: Any, items: frozenset[str]) -> Iterator[ET.Element]:
    """The parsed elements whose tag is in ``items``; each is emptied after the consumer's turn."""
    for _event, elem in parser.read_events():
        if elem.tag in items:
            yield elem
            elem.clear()


def _decoder(encoding: str) -> Any:
    encoding = (encoding or "identity").lower()
    if encoding == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    return None


def _fault(stub: Any, data: bytes, info: Any) -> BaseException:
    """The pyVmomi exception for a SOAP fault body."""
    from pyVmomi.SoapAdapter import SoapResponseDeserializer

    obj = SoapResponseDeserializer(stub).Deserialize(io.BytesIO(data), info.result)
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


def _nic(dev: ET.Element, ips: dict[int, tuple[str, ...]]) -> Nic | None:
    """A VM NIC from a ``VirtualEthernetCard`` element (``None`` for other devices)."""
    mac = dev.find(_MAC)
    if mac is None:
        return None
    key = int(dev.findtext(_KEY) or 0)
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
        mac=(mac.text or "").lower(),
        switch=switch,
        portgroup=portgroup,
        port=port,
        connected=connected,
        ips=ips.get(key, ()),
        network=unescape_name(network.strip()),
    )


def _guest_ips(val: ET.Element | None) -> dict[int, tuple[str, ...]]:
    """IP addresses per NIC device key from ``guest.net`` (``GuestNicInfo[]``)."""
    out: dict[int, tuple[str, ...]] = {}
    if val is None:
        return out
    for info in val:
        dev = info.findtext(_DEVICE_CONFIG_ID)
        if dev is None:
            continue
        ips = [e.text or "" for e in info.findall(_IP)]
        if not ips:
            cfg = info.find(_IPCONFIG)
            if cfg is not None:
                ips = [e.findtext(_IP) or "" for e in cfg.findall(_IP)]
        try:
            out[int(dev)] = out.get(int(dev), ()) + tuple(ip for ip in ips if ip)
        except ValueError:
            continue
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
        ctype = _CONNECTEE_TYPES.get(c.findtext(_TYPE) or "")
        entity = c.findtext(_ENTITY) or ""
        if ctype is not None and entity:
            connectee = Connectee(type=ctype, entity=entity, nic_key=c.findtext(_NIC_KEY) or "")
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
