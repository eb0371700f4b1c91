"""The bulk replies' XML, element by element, as model objects: VMs with their NICs, and ports.

:mod:`._soap` streams a ``RetrievePropertiesEx`` or ``FetchDVPorts`` reply and hands each finished
top-level element (an ``ObjectContent``, a ``DistributedVirtualPort``) to :func:`parse_vm` or
:func:`parse_port`. These work on plain ``xml.etree`` elements: no pyVmomi, unit-testable
without a server. Every part of an element may be missing or hostile; nothing here raises
for it except :class:`NotAuthenticatedError` (the session is gone).
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from tui.model import STAT_API_NAMES, Connectee, ConnecteeType, Nic, Port, Vm
from tui.text import ascii_digits

NS = "urn:vim25"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


def q(tag: str) -> str:
    """``tag`` in the vim25 namespace, as ElementTree spells it."""
    return f"{{{NS}}}{tag}"


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


_STATS = q("stats")
_STAT_TAGS = {q(api): api for api in STAT_API_NAMES.values()}


def parse_port_counters(elem: ET.Element) -> dict[str, int | None] | None:
    """``state.stats`` of one ``DistributedVirtualPort`` (API counter name → value), or ``None`` when
    the port has none. Unknown counters are ignored; a value that is not a whole number raises
    ``ValueError`` (the caller names the port)."""
    state = elem.find(_STATE)
    stats = state.find(_STATS) if state is not None else None
    if stats is None:
        return None
    out: dict[str, int | None] = dict.fromkeys(STAT_API_NAMES.values())
    for child in stats:
        api = _STAT_TAGS.get(child.tag)
        if api is not None:
            text = (child.text or "").strip()
            if len(text) > 20 or not ascii_digits(text.removeprefix("-")):  # xsd:long: ASCII digits only
                raise ValueError(f"{api} is not a whole number of at most 20 digits")
            out[api] = int(text)
    return out
