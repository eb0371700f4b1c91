"""Suggest a tcpdump filter and command line for watching a mirror session's traffic.

Pure Python: no Textual, no pyVmomi. The functions answer the operator's next question after
creating a session (the walkthrough's "Let's capture traffic!"): what to type on the monitoring
VM, or on the remote collector, to see the mirrored frames and only those.

Where the capture runs
    * Distributed Port Mirroring, the legacy type and Remote Mirroring Destination: on the VM
      whose NIC is the destination port.
    * Remote Mirroring Source: on the RSPAN collector (a physical switch port or an RMD session
      elsewhere), which receives the frames tagged with the encapsulation VLAN.
    * Encapsulated Remote Mirroring (L3) Source: on the collector at the destination IP, which
      receives the frames inside GRE (IP protocol 47).

Which VLAN tags the capture interface sees
    ESXi applies the destination port's VLAN policy to mirrored frames (vspan.md §8.1, step 3
    note: "mirroring follows the VLAN forwarding policy"). On an access portgroup (one VLAN ID,
    VST mode) the switch removes that VLAN's tag before handing a frame to the guest, exactly as
    for normal traffic; on a trunk portgroup (VGT mode) the guest gets the tags. So:

    * legacy session with encapsulation VLAN 205 to a destination on an access portgroup of
      VLAN 205 (the walkthrough's dvPgMirror): the outer tag 205 is removed. With "preserve
      original VLAN" the source's own tag (204 for dvPgDMZ) stays inside and is seen; without it,
      frames arrive untagged;
    * the same to a destination on a trunk portgroup, or at a remote RSPAN collector (a trunk
      port): the frames carry ``vlan 205`` (and the preserved inner tag after it);
    * Remote Mirroring Destination: the RSPAN VLANs are seen only on a trunk portgroup.

    ``tagged`` overrides the guess: ``True`` when the capture interface sees the encapsulation
    tag (a VGT guest, a physical collector), ``False`` when it does not.

    tcpdump's ``vlan`` keyword shifts the offsets of everything after it, so ``vlan 10 or
    vlan 20`` tests 20 against a *second* tag. Several RSPAN VLANs therefore give a bare
    ``vlan`` (any tagged frame). On Linux guests whose NIC strips tags in hardware, a filter
    without ``vlan`` still matches tagged frames, which is why an untagged filter is the safer
    default.

Which hosts
    The host of interest (``host=``: an IP, a MAC or a hostname), or else the mirrored sources:
    each source NIC's guest IPs (``host 10.20.4.10``), or its MAC (``ether host …``) when
    VMware Tools reports no IP. Filtering on the sources keeps out the monitoring VM's own traffic
    when normal I/O is allowed on the destination. For ERSPAN the inner frame sits behind a GRE
    and ERSPAN header whose length depends on the version, so the filter stops at the outer
    header (``proto gre and dst host <collector>``); filter inner hosts after decoding, e.g. in
    Wireshark with ``ip.addr == 172.24.4.52``.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Sequence

from tui.model import EncapType, Inventory, MirrorSession, Portgroup, SessionType
from tui.rules import effective_type

_MAC = re.compile(r"(?i)^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
_PLACEHOLDER_IFACE = "IFACE"
# libpcap filter keywords: never valid as a host name in a filter.
_PCAP_WORDS = frozenset(
    [
        "host",
        "net",
        "port",
        "portrange",
        "src",
        "dst",
        "ether",
        "ip",
        "ip6",
        "arp",
        "rarp",
        "tcp",
        "udp",
        "icmp",
        "icmp6",
        "proto",
        "vlan",
        "mpls",
        "gateway",
        "broadcast",
        "multicast",
        "less",
        "greater",
        "and",
        "or",
        "not",
        "len",
        "inbound",
        "outbound",
        "link",
    ]
)


def _host_term(value: str) -> str:
    """A tcpdump primitive for one IP, network, MAC or host name; ``ValueError`` for anything else."""
    value = value.strip()
    if _MAC.match(value):
        return f"ether host {value.lower().replace('-', ':')}"
    try:
        return f"host {ipaddress.ip_address(value)}"
    except ValueError:
        pass
    if "/" in value:
        try:
            return f"net {ipaddress.ip_network(value, strict=False)}"
        except ValueError:
            pass
    if _HOSTNAME.match(value) and not value.replace(".", "").isdigit() and value.lower() not in _PCAP_WORDS:
        return f"host {value}"
    raise ValueError(f"{value!r} is not an IP address, network, MAC address or host name")


def _any_of(terms: list[str]) -> str:
    terms = list(dict.fromkeys(terms))
    if len(terms) <= 1:
        return terms[0] if terms else ""
    return "(" + " or ".join(terms) + ")"


def _source_terms(inventory: Inventory, switch_key: str, session: MirrorSession) -> list[str]:
    """``host IP`` for each source NIC's IPs, or ``ether host MAC`` when it has none."""
    terms: list[str] = []
    for key in session.sources():
        port = inventory.port(switch_key, key)
        if port is None:
            continue
        vmnic = inventory.vm_nic(port)
        ips = vmnic[1].ips if vmnic else ()
        if ips:
            terms.extend(_host_term(ip) for ip in ips)
            continue
        mac = (vmnic[1].mac if vmnic else "") or port.mac
        if mac:
            terms.append(_host_term(mac))
    return terms


def _dest_portgroups(inventory: Inventory, switch_key: str, session: MirrorSession) -> list[Portgroup]:
    out: list[Portgroup] = []
    for key in session.destination.port_keys:
        port = inventory.port(switch_key, key)
        pg = inventory.portgroups.get(port.portgroup) if port is not None else None
        if pg is not None:
            out.append(pg)
    return out


def _source_vlans(inventory: Inventory, switch_key: str, session: MirrorSession) -> set[int | None]:
    """The tag each source's frames carry on the switch: the access VLAN, 0 for none, ``None`` if varied."""
    vlans: set[int | None] = set()
    for key in session.sources():
        port = inventory.port(switch_key, key)
        pg = inventory.portgroups.get(port.portgroup) if port is not None else None
        if pg is None:
            continue
        if pg.vlan.is_trunk or pg.vlan.pvlan is not None or pg.vlan.vlan_id is None:
            vlans.add(None)
        else:
            vlans.add(pg.vlan.vlan_id)
    return vlans


def _inner_tag(inventory: Inventory, switch_key: str, session: MirrorSession) -> str:
    """The preserved original tag (``vlan 204``, ``vlan`` if several), or '' when stripped or untagged."""
    if session.strip_original_vlan:
        return ""
    tagged = {v for v in _source_vlans(inventory, switch_key, session) if v != 0}
    if not tagged:
        return ""
    if len(tagged) == 1 and None not in tagged:
        return f"vlan {next(iter(tagged))}"
    return "vlan"


def _vlan_part(
    inventory: Inventory, switch_key: str, session: MirrorSession, t: SessionType | None, tagged: bool | None
) -> str:
    enc = session.encapsulation_vlan_id
    dest_pgs = _dest_portgroups(inventory, switch_key, session)
    on_trunk = bool(dest_pgs) and all(pg.vlan.is_trunk for pg in dest_pgs)
    if t is SessionType.REMOTE_MIRROR_SOURCE and enc:
        # The collector is a trunk on the physical network: the encapsulation tag is on the wire.
        outer = tagged is not False
        return " and ".join(
            x for x in (f"vlan {enc}" if outer else "", _inner_tag(inventory, switch_key, session)) if x
        )
    if t is SessionType.MIXED_DEST_MIRROR and enc:
        outer = on_trunk if tagged is None else tagged
        return " and ".join(
            x for x in (f"vlan {enc}" if outer else "", _inner_tag(inventory, switch_key, session)) if x
        )
    if t is SessionType.REMOTE_MIRROR_DEST and session.source_rx.vlans:
        if not (on_trunk if tagged is None else tagged):
            return ""
        vlans = list(dict.fromkeys(session.source_rx.vlans))
        return f"vlan {vlans[0]}" if len(vlans) == 1 else "vlan"
    return ""


def capture_filter(
    inventory: Inventory,
    switch_key: str,
    session: MirrorSession,
    *,
    host: str | Sequence[str] | None = None,
    tagged: bool | None = None,
) -> str:
    """A tcpdump (libpcap) filter that shows ``session``'s mirrored traffic where it arrives.

    ``host`` narrows it to one host of interest (IP, network, MAC or name; ``ValueError`` if it
    is none of these). ``tagged`` says whether the capture interface sees the encapsulation
    VLAN tag (``None`` = guess from the destination portgroup: see the module docstring).
    An empty string means "capture everything".
    """
    t = effective_type(session)
    if t is SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE:
        dests = [_host_term(ip) for ip in session.destination.ip_addresses]
        return " and ".join(x for x in ("proto gre", _any_of([f"dst {d}" for d in dests])) if x)
    wanted = [host] if isinstance(host, str) else list(host or ())
    hosts = [_host_term(h) for h in wanted] if wanted else _source_terms(inventory, switch_key, session)
    if t is SessionType.REMOTE_MIRROR_DEST and not host:
        hosts = []  # the sources are VLANs from elsewhere: nothing to name
    parts = [_vlan_part(inventory, switch_key, session, t, tagged), _any_of(hosts)]
    return " and ".join(p for p in parts if p)


def capture_command(
    inventory: Inventory,
    switch_key: str,
    session: MirrorSession,
    *,
    host: str | Sequence[str] | None = None,
    tagged: bool | None = None,
    iface: str | None = None,
) -> str:
    """A full suggested command line: ``tcpdump -i <iface> -nn -e '<filter>'``.

    ``-nn`` shows addresses and ports as numbers (no DNS lookups that would add traffic of their
    own); ``-e`` prints the link-level header, so the VLAN tags and MACs of the mirrored frames
    are visible. Without ``iface`` the command says ``IFACE`` and a trailing shell comment names
    the NIC to use (the destination NIC's MAC, or the collector's address).
    """
    flt = capture_filter(inventory, switch_key, session, host=host, tagged=tagged)
    cmd = ["tcpdump", "-i", iface or _PLACEHOLDER_IFACE, "-nn", "-e"]
    if flt:
        cmd.append(flt)
    line = " ".join(shlex.quote(c) for c in cmd)
    if iface:
        return line
    hint = _where(inventory, switch_key, session)
    return f"{line}  # {hint}" if hint else line


def _where(inventory: Inventory, switch_key: str, session: MirrorSession) -> str:
    """Where to run the capture, as a short hint for the IFACE placeholder."""
    t = effective_type(session)
    if t is SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE:
        ips = ", ".join(dict.fromkeys(session.destination.ip_addresses))
        return f"IFACE: the collector's interface with address {ips}" if ips else ""
    if t is SessionType.REMOTE_MIRROR_SOURCE:
        enc = session.encapsulation_vlan_id
        return f"IFACE: the RSPAN collector's interface that receives VLAN {enc}" if enc else ""
    for key in session.destination.port_keys:
        port = inventory.port(switch_key, key)
        if port is None:
            continue
        vmnic = inventory.vm_nic(port)
        mac = (vmnic[1].mac if vmnic else "") or port.mac
        who = f"{vmnic[0].name} / {vmnic[1].label}" if vmnic else f"port {key}"
        if mac:
            return f"IFACE: the NIC with MAC {mac} ({who})"
    return ""


def interest(inventory: Inventory, text: str) -> tuple[list[str], str]:
    """``(addresses, what they are)`` for a host of interest as an operator names it.

    An IP address, network, MAC or host name stands for itself; a VM's name (exact, any case)
    stands for its guest IPs (``KRBCLIENT01`` → ``172.24.4.52``), or its MACs when VMware Tools
    reports none. ``ValueError`` says what ``text`` is not. Empty text: no host (``[]``).
    """
    text = text.strip()
    if not text:
        return [], ""
    folded = text.casefold()
    vms = [vm for vm in inventory.vms.values() if vm.name.casefold() == folded]
    if len(vms) > 1:
        raise ValueError(f"{len(vms)} VMs are named {text!r}: give an IP address")
    if vms:
        vm = vms[0]
        addresses = list(dict.fromkeys(vm.ips)) or list(dict.fromkeys(n.mac for n in vm.nics if n.mac))
        if not addresses:
            raise ValueError(f"VM {vm.name} has no guest IP (VMware Tools reports none) and no MAC")
        return addresses, f"VM {vm.name}: {', '.join(addresses)}"
    try:
        _host_term(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a VM name, IP address, network, MAC address or host name") from None
    return [text], ""


def vm_names(inventory: Inventory) -> list[str]:
    """The VM names a host of interest may be picked from (those with a guest IP or a MAC), sorted."""
    return sorted({vm.name for vm in inventory.vms.values() if vm.ips or any(n.mac for n in vm.nics)}, key=str.casefold)


def _mac_dashes(mac: str) -> str:
    return mac.upper().replace(":", "-")


def interface_lines(inventory: Inventory, switch_key: str, session: MirrorSession) -> list[str]:
    """Which interface to capture on, as precisely as the inventory says.

    For each destination port with a VM: the VM, the NIC's label, MAC and portgroup, and the
    commands that name the guest interface from the MAC. VMware Tools does not report a guest
    interface name (``GuestNicInfo`` has network, ipAddress, macAddress, connected and
    deviceConfigId, not a name), so the MAC is the one key the guest and vCenter share.
    """
    t = effective_type(session)
    if t in (SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE, SessionType.REMOTE_MIRROR_SOURCE):
        where = _where(inventory, switch_key, session).removeprefix("IFACE: ")
        return [where[:1].upper() + where[1:]] if where else []
    out: list[str] = []
    for key in dict.fromkeys(session.destination.port_keys):
        port = inventory.port(switch_key, key)
        if port is None:
            continue
        vmnic = inventory.vm_nic(port)
        pg = inventory.portgroups.get(port.portgroup)
        where = f" on {pg.name}" if pg is not None else ""
        if vmnic is None:
            out.append(f"Port {key}{where}: no VM NIC is connected to it.")
            continue
        vm, nic = vmnic
        mac = nic.mac or port.mac
        if not mac:
            out.append(f"{vm.name} / {nic.label}{where} (port {key}): vCenter reports no MAC yet.")
            continue
        ips = f", guest IP {', '.join(nic.ips)}" if nic.ips else ""
        out.append(f"{vm.name} / {nic.label}, MAC {mac}{ips}{where} (port {key})")
        out.append(f"  Linux:   ip -br link | grep -i {mac}")
        out.append(f"  Windows: Get-NetAdapter | Where-Object MacAddress -eq {_mac_dashes(mac)}")
    return out


def receiver_recipe(
    inventory: Inventory, switch_key: str, session: MirrorSession, host: Sequence[str] = ()
) -> list[str]:
    """For an Encapsulated Remote Mirroring (L3) Source: how the collector receives the frames.

    The outer capture (``proto gre and dst host <collector>``) on the collector's interface, then
    a Linux tunnel device that decapsulates them so that tcpdump sees the mirrored frames:
    ``type erspan`` for ERSPAN II (``erspan_ver 1``) and III (``erspan_ver 2``), with the ERSPAN ID
    as the key; ``type gretap`` for plain GRE. The sending side is a VMkernel interface of the
    source port's host, which the inventory does not list: the line says ``ESXI_VMK_IP``.
    ``host`` (addresses of interest) filters the decapsulated frames. Empty for the other types.
    """
    if effective_type(session) is not SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE:
        return []
    ips = list(dict.fromkeys(session.destination.ip_addresses))
    if not ips:
        return []
    collector = ips[0]
    try:
        _host_term(collector)
    except ValueError:
        return []
    hosts = sorted(
        {
            inventory.host_name(p.host) or p.host
            for k in session.sources()
            if (p := inventory.port(switch_key, k)) is not None and p.host
        }
    )
    encap = session.encap_type or EncapType.GRE.value
    flt = capture_filter(inventory, switch_key, session)
    lines = [f"On the collector {collector}: tcpdump -i IFACE -nn {shlex.quote(flt)}  # the tunnelled frames"]
    if encap in (EncapType.ERSPAN2.value, EncapType.ERSPAN3.value):
        ver = "1" if encap == EncapType.ERSPAN2.value else "2"
        key = f" seq key {session.erspan_id}" if session.erspan_id is not None else ""
        lines.append(f"ip link add erspan1 type erspan local {collector} remote ESXI_VMK_IP erspan_ver {ver}{key}")
        dev = "erspan1"
    else:
        lines.append(f"ip link add gretap1 type gretap local {collector} remote ESXI_VMK_IP")
        dev = "gretap1"
    inner = _any_of([_host_term(h) for h in host])
    lines.append(f"ip link set {dev} up && tcpdump -i {dev} -nn -e" + (f" {shlex.quote(inner)}" if inner else ""))
    who = f" of host {', '.join(hosts)}" if hosts else ""
    lines.append(f"ESXI_VMK_IP: the VMkernel address{who} that sends the mirror (not in the inventory).")
    return lines
