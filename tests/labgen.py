"""Lab generator: the bundled demo lab and scaled synthetic labs, as snapshot JSON.

``python -m tests.labgen demo`` rewrites ``tui/backends/labs/demo.json`` (a test checks that
the committed file equals this output). ``python -m tests.labgen scaled --vms 40000 OUT`` writes
a large lab for benchmarks; the vcsim test server loads the same files.

Everything is deterministic: no randomness, no clock.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from tui.port_stats import STAT_API_NAMES

DEMO_PATH = Path(__file__).resolve().parent.parent / "tui" / "backends" / "labs" / "demo.json"

CLOUD = "50 36 4e 6c 5b 8f 2e 3d-1a 2b 3c 4d 5e 6f 70 81"
MGMT = "50 36 77 02 9c 41 d0 0e-8b 13 55 e2 07 6a 4c 90"


class Lab:
    """Accumulates snapshot JSON objects."""

    def __init__(self, vcenter: str, datacenter: str) -> None:
        self.vcenter = vcenter
        self.datacenter = datacenter
        self.hosts: list[dict[str, Any]] = []
        self.switches: list[dict[str, Any]] = []
        self.portgroups: list[dict[str, Any]] = []
        self.ports: list[dict[str, Any]] = []
        self.vms: list[dict[str, Any]] = []
        self._free: dict[str, list[str]] = {}
        self._mac = 0
        self._pg_seq = 40
        self._vm_seq = 1000

    def host(self, name: str) -> str:
        key = f"host-{11 + len(self.hosts) * 5}"
        self.hosts.append({"key": key, "name": name})
        return key

    def switch(
        self, key: str, name: str, moid: str, version: str, uplinks: list[str], types: list[str] | None = None
    ) -> None:
        self.switches.append(
            {
                "key": key,
                "name": name,
                "moid": moid,
                "datacenter": self.datacenter,
                "version": version,
                "uplinkNames": uplinks,
                "configVersion": "12",
                "capability": {
                    "vspan": True,
                    "sessionTypes": types
                    or [
                        "dvPortMirror",
                        "remoteMirrorSource",
                        "remoteMirrorDest",
                        "encapsulatedRemoteMirrorSource",
                        "mixedDestMirror",
                    ],
                    "erspan": True,
                },
                "sessions": [],
            }
        )

    def portgroup(
        self,
        switch: str,
        name: str,
        vlan: dict[str, Any],
        keys: range | list[int],
        *,
        binding: str = "earlyBinding",
        promiscuous: bool = False,
        uplink: bool = False,
        create_free: bool = True,
    ) -> str:
        key = f"dvportgroup-{self._pg_seq}"
        self._pg_seq += 1
        self.portgroups.append(
            {
                "key": key,
                "name": name,
                "switch": switch,
                "vlan": vlan,
                "binding": binding,
                "promiscuous": promiscuous,
                "uplink": uplink,
                "numPorts": len(keys) if create_free else 0,
            }
        )
        self._free[key] = [str(k) for k in keys]
        if create_free:
            for k in keys:
                self.ports.append(self._port(str(k), switch, key, promiscuous))
        return key

    def _port(self, key: str, switch: str, pg: str, promiscuous: bool) -> dict[str, Any]:
        return {
            "key": key,
            "switch": switch,
            "portgroup": pg,
            "name": "",
            "connectee": None,
            "host": "",
            "linkUp": False,
            "mac": "",
            "promiscuous": promiscuous,
        }

    def _find_port(self, switch: str, key: str) -> dict[str, Any]:
        for p in self.ports:
            if p["switch"] == switch and p["key"] == key:
                return p
        raise KeyError(key)

    def _take(self, pg: str, key: str | None) -> str:
        free = self._free[pg]
        if key is None:
            return free.pop(0)
        free.remove(key)
        return key

    def mac(self) -> str:
        self._mac += 1
        return f"00:50:56:9a:{(self._mac >> 8) & 0xFF:02x}:{self._mac & 0xFF:02x}"

    def connect(
        self, pgkey: str, host: str, connectee: dict[str, Any], mac: str, port: str | None = None, name: str = ""
    ) -> str:
        pg = next(p for p in self.portgroups if p["key"] == pgkey)
        key = self._take(pgkey, port)
        if pg["binding"] == "ephemeral":
            entry = self._port(key, pg["switch"], pgkey, pg["promiscuous"])
            self.ports.append(entry)
            pg["numPorts"] += 1
        else:
            entry = self._find_port(pg["switch"], key)
        entry.update(connectee=connectee, host=host, linkUp=True, mac=mac, name=name)
        return key

    def vm(
        self,
        name: str,
        host: str,
        nics: list[tuple[str, str | None, list[str]]],
        *,
        power: str = "poweredOn",
        macs: list[str] | None = None,
    ) -> str:
        """Add a VM; ``nics`` is ``[(portgroup key, port key or None, [ips])]``."""
        key = f"vm-{self._vm_seq}"
        self._vm_seq += 1
        out = []
        for i, (pg, port, ips) in enumerate(nics):
            nic_key = 4000 + i
            mac = macs[i] if macs and i < len(macs) else self.mac()
            switch = next(p for p in self.portgroups if p["key"] == pg)["switch"]
            connected = power == "poweredOn"
            pkey = (
                self.connect(pg, host, {"type": "vmVnic", "entity": key, "nicKey": str(nic_key)}, mac, port)
                if connected
                else (self._take(pg, port))
            )
            if not connected:
                self._find_port(switch, pkey)["mac"] = ""
            out.append(
                {
                    "key": nic_key,
                    "label": f"Network adapter {i + 1}",
                    "mac": mac,
                    "switch": switch,
                    "portgroup": pg,
                    "port": pkey,
                    "connected": connected,
                    "ips": ips if connected else [],
                }
            )
        self.vms.append({"key": key, "name": name, "host": host, "power": power, "nics": out})
        return key

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "dvmirror-snapshot",
            "version": 1,
            "vcenter": self.vcenter,
            "datacenters": [self.datacenter],
            "hosts": self.hosts,
            "switches": self.switches,
            "portgroups": self.portgroups,
            "ports": self.ports,
            "vms": self.vms,
        }


def demo_lab() -> dict[str, Any]:
    """The demo lab of DESIGN.md §6."""
    lab = Lab("vcsa01.lab.local", "DC-Cloud")
    esx = [lab.host(f"esx-0{i}") for i in range(1, 5)]
    uplinks = [f"dvUplink{i}" for i in range(1, 5)]
    lab.switch(CLOUD, "dvSwitchCloud", "dvs-21", "7.0.3", uplinks)
    lab.switch(MGMT, "dvSwitchMgmt", "dvs-22", "6.6.0", ["dvUplink1", "dvUplink2"])

    # dvSwitchCloud ------------------------------------------------------------------
    up = lab.portgroup(CLOUD, "dvSwitchCloud-DVUplinks", {"trunk": [[0, 4094]]}, range(0, 16), uplink=True)
    for h, host in enumerate(esx):
        for u in range(4):
            lab.connect(
                up, host, {"type": "pnic", "entity": host, "nicKey": f"vmnic{u}"}, lab.mac(), str(h * 4 + u), uplinks[u]
            )
    vmk = lab.portgroup(CLOUD, "dvPgMgmt-VMK", {"id": 10}, range(16, 32))
    vmo = lab.portgroup(CLOUD, "dvPgvMotion", {"id": 11}, range(32, 48))
    for host in esx:
        lab.connect(vmk, host, {"type": "hostVmkVnic", "entity": host, "nicKey": "vmk0"}, lab.mac())
        lab.connect(vmo, host, {"type": "hostVmkVnic", "entity": host, "nicKey": "vmk1"}, lab.mac())
    web = lab.portgroup(CLOUD, "dvPgWeb", {"id": 100}, range(100, 164))
    app = lab.portgroup(CLOUD, "dvPgApp", {"id": 110}, range(200, 264))
    srv = lab.portgroup(CLOUD, "dvPgServers", {"id": 120}, range(300, 364))
    dmz = lab.portgroup(CLOUD, "dvPgDMZ", {"id": 204}, range(416, 464))
    mir = lab.portgroup(CLOUD, "dvPgMirror", {"id": 205}, range(2240, 2272))
    ids = lab.portgroup(CLOUD, "dvPgIDS-Trunk", {"trunk": [[1, 4094]]}, range(2300, 2316), promiscuous=True)
    eph = lab.portgroup(
        CLOUD, "dvPgLab-Ephemeral", {"id": 300}, range(3000, 3032), binding="ephemeral", create_free=False
    )
    hostile = lab.portgroup(CLOUD, "dvPg[prod]", {"id": 130}, range(500, 516))

    # The walkthrough's two ports, fixed.
    lab.vm(
        "F5-LTM01",
        esx[2],
        [(web, None, ["10.20.1.10"]), (dmz, "448", ["10.20.4.10"])],
        macs=["00:50:56:9a:1b:2b", "00:50:56:9a:1b:2c"],
    )
    lab.vm("WEB-DMZ02", esx[0], [(dmz, "449", ["10.20.4.12"])], macs=["00:50:56:9a:44:01"])
    lab.vm("MGTSRVR003UX", esx[2], [(srv, None, ["172.24.4.20"]), (mir, "2258", ["192.168.205.5"])])
    lab.vm("IDS-SENSOR01", esx[2], [(srv, None, ["172.24.4.21"]), (mir, "2241", [])])
    lab.vm("KRBCLIENT01", esx[1], [(srv, None, ["172.24.4.52"])])
    lab.vm("KDC01", esx[0], [(srv, None, ["172.24.4.10"])])
    lab.vm("KDC02", esx[3], [(srv, None, ["172.24.4.11", "fe80::250:56ff:fe9a:1"])])
    for i in range(3, 8):
        lab.vm(f"WEB-DMZ0{i}", esx[i % 4], [(dmz, None, [f"10.20.4.{10 + i * 2}"])])
    for i in range(1, 13):
        lab.vm(f"WEB{i:02d}", esx[i % 4], [(web, None, [f"10.20.1.{20 + i}"])])
    for i in range(1, 11):
        lab.vm(
            f"APP{i:02d}", esx[(i + 1) % 4], [(app, None, [f"10.20.2.{20 + i}"]), (srv, None, [f"172.24.4.{100 + i}"])]
        )
    for i in range(1, 7):
        lab.vm(f"DB{i:02d}", esx[(i + 2) % 4], [(srv, None, [f"172.24.4.{60 + i}"])])
    lab.vm(
        "SQL-CLUSTER01",
        esx[1],
        [(srv, None, ["172.24.4.70"]), (app, None, ["10.20.2.70"]), (srv, None, ["172.24.4.71"])],
    )
    lab.vm("IDS-SENSOR02", esx[3], [(ids, None, [])])
    lab.vm("PCAP-PROBE01", esx[0], [(ids, None, [])])
    lab.vm("WEB13", esx[2], [(web, None, [])], power="poweredOff")
    for i in range(1, 6):
        lab.vm(f"lab-runner-{i}", esx[i % 4], [(eph, None, [f"10.30.0.{10 + i}"])])
    lab.vm("vm[prod]", esx[1], [(hostile, None, ["10.20.3.5"])])
    lab.vm("[/x]", esx[2], [(hostile, None, ["10.20.3.6"])])
    lab.vm("Überwachung-01 📡", esx[3], [(hostile, None, ["10.20.3.7"])])

    # dvSwitchMgmt -------------------------------------------------------------------
    up2 = lab.portgroup(MGMT, "dvSwitchMgmt-DVUplinks", {"trunk": [[0, 4094]]}, range(0, 8), uplink=True)
    for h, host in enumerate(esx):
        for u in range(2):
            lab.connect(
                up2,
                host,
                {"type": "pnic", "entity": host, "nicKey": f"vmnic{4 + u}"},
                lab.mac(),
                str(h * 2 + u),
                f"dvUplink{u + 1}",
            )
    oob = lab.portgroup(MGMT, "dvPgOOB", {"id": 900}, range(10, 42))
    bak = lab.portgroup(MGMT, "dvPgBackup", {"id": 910}, range(50, 82))
    odd = lab.portgroup(MGMT, "[/x]", {"pvlan": 999}, range(90, 98))
    for i in range(1, 5):
        lab.vm(f"JUMP0{i}", esx[i % 4], [(oob, None, [f"10.99.0.{10 + i}"])])
    for i in range(1, 5):
        lab.vm(
            f"BACKUP-PROXY0{i}", esx[i % 4], [(bak, None, [f"10.91.0.{10 + i}"]), (oob, None, [f"10.99.0.{50 + i}"])]
        )
    lab.vm("NTP01", esx[0], [(oob, None, ["10.99.0.123"]), (odd, None, [])])

    sw = lab.switches[0]
    sw["sessions"] = [
        _session(
            "1",
            "DMZ-IDS",
            "dvPortMirror",
            rx=["448", "449"],
            tx=["448", "449"],
            dst=["2241"],
            desc="DMZ web tier to the IDS sensor",
        ),
        _session(
            "2",
            "RSPAN-Core",
            "remoteMirrorSource",
            rx=["104"],
            dst_uplinks=["dvUplink4"],
            enabled=False,
            encap=310,
            desc="Web01 ingress to the core RSPAN VLAN",
        ),
    ]
    data = lab.to_json()
    data["version"] = 2
    data["portStatistics"] = demo_traffic(data)
    return data


DEMO_READ = "2026-11-28T06:00:00Z"
"""When the demo lab's counters were "read"; they move on from there at their rates."""


def _unit(seed: bytes, i: int) -> float:
    """A number in [0, 1) from ``seed`` and ``i`` (deterministic: a hash, not a random generator)."""
    digest = hashlib.blake2b(seed + bytes([i]), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def demo_traffic(data: dict[str, Any]) -> list[dict[str, Any]]:
    """``portStatistics`` for every port of ``data``: moving counters for those that carry traffic
    (a connectee, link up), still ones for a connectee with link down, zeros for a free port.

    Rates per second from a hash of switch and port key: VM ports 20-800 unicast packets in, 0.5-1.5
    times that out, frames of 200-1400 bytes, a little multicast and broadcast, 20-70 % of the bytes
    through an uplink; uplink ports several thousand packets, all through the pnic; VMkernel ports
    little; a mirror session's destination (a monitor VM) almost none of its own. The counters at
    :data:`DEMO_READ` are one to thirty-one days of that traffic.
    """
    destinations = {
        (sw["key"], k)
        for sw in data["switches"]
        for s in sw.get("sessions") or ()
        for k in s["destinationPort"]["portKey"]
    }
    out: list[dict[str, Any]] = []
    for port in data["ports"]:
        connectee = port.get("connectee")
        if connectee is None:
            # A free port has counters too, all zero (as vCenter and the vcsim test server report them).
            zero = dict.fromkeys(STAT_API_NAMES.values(), 0)
            out.append({"switch": port["switch"], "port": port["key"], "read": DEMO_READ, "counters": zero})
            continue
        seed = f"{port['switch']}/{port['key']}".encode()
        u = [_unit(seed, i) for i in range(10)]
        kind = connectee.get("type", "vmVnic")
        if kind == "pnic":
            pkts, share = 2000 + 18000 * u[0], 1.0
        elif kind == "vmVnic":
            pkts, share = 20 + 780 * u[0], 0.2 + 0.5 * u[1]
        else:
            pkts, share = 5 + 45 * u[0], 0.5
        if (port["switch"], port["key"]) in destinations:
            pkts = 1 + 4 * u[0]
        size_in, size_out = 200 + 1200 * u[2], 200 + 1200 * u[3]
        pkt_out = pkts * (0.5 + u[4])
        multi_in, multi_out = 1 + 3 * u[5], u[6]
        broad_in, broad_out = 1 + 2 * u[7], 0.5 * u[8]
        rates = {
            "packetsInMulticast": round(multi_in, 1),
            "packetsOutMulticast": round(multi_out, 1),
            "bytesInMulticast": round(multi_in * 120),
            "bytesOutMulticast": round(multi_out * 120),
            "packetsInUnicast": round(pkts),
            "packetsOutUnicast": round(pkt_out),
            "bytesInUnicast": round(pkts * size_in),
            "bytesOutUnicast": round(pkt_out * size_out),
            "packetsInBroadcast": round(broad_in, 1),
            "packetsOutBroadcast": round(broad_out, 1),
            "bytesInBroadcast": round(broad_in * 90),
            "bytesOutBroadcast": round(broad_out * 90),
        }
        rates["bytesInFromPnic"] = round(
            share * (rates["bytesInUnicast"] + rates["bytesInMulticast"] + rates["bytesInBroadcast"])
        )
        rates["bytesOutToPnic"] = round(
            share * (rates["bytesOutUnicast"] + rates["bytesOutMulticast"] + rates["bytesOutBroadcast"])
        )
        uptime = 86400 * (1 + 30 * u[9])
        counters = {
            name: int(rates.get(name, 0) * uptime)
            for name in (
                "packetsInMulticast",
                "packetsOutMulticast",
                "bytesInMulticast",
                "bytesOutMulticast",
                "packetsInUnicast",
                "packetsOutUnicast",
                "bytesInUnicast",
                "bytesOutUnicast",
                "packetsInBroadcast",
                "packetsOutBroadcast",
                "bytesInBroadcast",
                "bytesOutBroadcast",
                "packetsInDropped",
                "packetsOutDropped",
                "packetsInException",
                "packetsOutException",
                "bytesInFromPnic",
                "bytesOutToPnic",
            )
        }
        record: dict[str, Any] = {
            "switch": port["switch"],
            "port": port["key"],
            "read": DEMO_READ,
            "counters": counters,
        }
        if port.get("linkUp"):  # link down: the counters of its uptime stand still
            record["rates"] = {k: v for k, v in rates.items() if v}
        out.append(record)
    return out


EDGE = "50 36 aa 00 00 00 00 01-00 00 00 00 00 00 00 01"


def portless_lab() -> dict[str, Any]:
    """A small lab of VMs whose NICs are on no distributed port, one of each kind pyVmomi can return.

    ``EDGE01`` has one NIC on a port and one on a standard network; the others have no port at
    all: a standard network, an opaque (NSX) network, no backing, a distributed portgroup with no
    port key (as govmomi's stock vcsim gives every NIC), the same disconnected, a port key the
    switch does not have, a port another VM's NIC holds, and a VM without any NIC.
    """
    lab = Lab("vcsa-edge.lab.local", "DC-Edge")
    esx = [lab.host("esx-e1"), lab.host("esx-e2")]
    lab.switch(EDGE, "dvSwitchEdge", "dvs-31", "8.0.0", ["dvUplink1"])
    edge = lab.portgroup(EDGE, "dvPgEdge", {"id": 50}, range(0, 8))
    lab.vm(
        "EDGE01",
        esx[0],
        [(edge, "1", ["10.50.1.10"])],
        macs=["00:50:56:ab:00:01"],
    )

    def nic(n: int, mac: str, ips: list[str], connected: bool = True, **backing: str) -> dict[str, Any]:
        return {
            "key": 4000 + n,
            "label": f"Network adapter {n + 1}",
            "mac": mac,
            "switch": backing.get("switch", ""),
            "portgroup": backing.get("portgroup", ""),
            "port": backing.get("port", ""),
            "connected": connected,
            "ips": ips,
        } | ({"network": backing["network"]} if "network" in backing else {})

    def vm(name: str, host: str, nics: list[dict[str, Any]], power: str = "poweredOn") -> None:
        key = f"vm-{lab._vm_seq}"
        lab._vm_seq += 1
        lab.vms.append({"key": key, "name": name, "host": host, "power": power, "nics": nics})

    lab.vms[0]["nics"].append(nic(1, "00:50:56:ab:00:02", ["192.168.7.10"], network="VM Network"))
    vm("STD-ONLY01", esx[0], [nic(0, "00:50:56:ab:01:01", ["10.60.0.5"], network="VM Network")])
    vm("NSX-APP01", esx[1], [nic(0, "00:50:56:ab:02:01", ["10.70.0.5"], network="nsx.LogicalSwitch 2d4f-77aa")])
    vm("NOBACKING01", esx[1], [nic(0, "00:50:56:ab:03:01", [])], power="poweredOff")
    vm("STOCKLIKE01", esx[0], [nic(0, "00:50:56:ab:04:01", ["10.50.1.40"], switch=EDGE, portgroup=edge)])
    vm("DISCO01", esx[1], [nic(0, "00:50:56:ab:05:01", [], connected=False, switch=EDGE, portgroup=edge)])
    vm("GHOST01", esx[0], [nic(0, "00:50:56:ab:06:01", [], switch=EDGE, portgroup=edge, port="99")])
    vm("CLAIM01", esx[0], [nic(0, "00:50:56:ab:07:01", [], switch=EDGE, portgroup=edge, port="1")])
    vm("NONIC01", esx[1], [])
    vm("NOMAC01", esx[1], [nic(0, "", [], switch=EDGE, portgroup=edge)], power="poweredOff")
    return lab.to_json()


def _session(
    key: str,
    name: str,
    stype: str,
    *,
    rx: list[str] | None = None,
    tx: list[str] | None = None,
    dst: list[str] | None = None,
    dst_uplinks: list[str] | None = None,
    enabled: bool = True,
    encap: int | None = None,
    desc: str = "",
) -> dict[str, Any]:
    def ports(keys: list[str] | None = None, uplinks: list[str] | None = None) -> dict[str, list[Any]]:
        return {"portKey": keys or [], "uplinkPortName": uplinks or [], "vlans": [], "ipAddress": []}

    return {
        "key": key,
        "name": name,
        "description": desc,
        "enabled": enabled,
        "sessionType": stype,
        "sourcePortTransmitted": ports(tx),
        "sourcePortReceived": ports(rx),
        "destinationPort": ports(dst, dst_uplinks),
        "encapsulationVlanId": encap,
        "stripOriginalVlan": False,
        "mirroredPacketLength": None,
        "normalTrafficAllowed": False,
        "samplingRate": 1,
        "encapType": None,
        "erspanId": None,
        "erspanCOS": None,
        "erspanGraNanosec": None,
        "netstack": None,
    }


def scaled_lab(
    vms: int, *, hosts: int = 0, portgroups: int = 0, switches: int = 2, nics: int = 1, free_per_pg: int = 8
) -> dict[str, Any]:
    """A synthetic lab shaped like performance.md's: VMs spread over hosts and portgroups.

    Defaults scale hosts and portgroups with the VM count (one host per 50 VMs, one portgroup
    per 50 VMs, at least 2 each), each portgroup keeping ``free_per_pg`` free ports, and each
    host 2 uplink ports per switch.
    """
    hosts = hosts or max(2, vms // 50)
    portgroups = portgroups or max(2, vms // 50)
    lab = Lab("vcsa-scale.lab.local", "DC-Scale")
    host_keys = [lab.host(f"esx-{i + 1:04d}") for i in range(hosts)]
    sw_keys = [f"50 00 00 00 00 00 00 {s:02x}-00 00 00 00 00 00 00 00" for s in range(switches)]
    for s, key in enumerate(sw_keys):
        lab.switch(key, f"dvSwitch{s + 1:02d}", f"dvs-{s + 1}", "7.0.3", ["dvUplink1", "dvUplink2"])
    next_key = dict.fromkeys(sw_keys, 0)
    for s, key in enumerate(sw_keys):
        up = lab.portgroup(
            key, f"dvSwitch{s + 1:02d}-DVUplinks", {"trunk": [[0, 4094]]}, range(0, 2 * hosts), uplink=True
        )
        for h, host in enumerate(host_keys):
            for u in range(2):
                lab.connect(
                    up,
                    host,
                    {"type": "pnic", "entity": host, "nicKey": f"vmnic{u}"},
                    lab.mac(),
                    str(h * 2 + u),
                    f"dvUplink{u + 1}",
                )
        next_key[key] = 2 * hosts
    per_pg = -(-vms * nics // portgroups)
    pgs = []
    for p in range(portgroups):
        sw = sw_keys[p % switches]
        start = next_key[sw]
        size = per_pg + free_per_pg
        next_key[sw] = start + size
        vlan: dict[str, Any] = {"trunk": [[1000, 1999]]} if p % 10 == 9 else {"id": 100 + p}
        pgs.append(lab.portgroup(sw, f"dvPg{p + 1:04d}", vlan, range(start, start + size)))
    # Fast path: connect ports by index instead of searching the port list.
    index = {(p["switch"], p["key"]): p for p in lab.ports}
    lab._find_port = lambda switch, key: index[(switch, key)]  # type: ignore[method-assign]
    n = 0
    for v in range(vms):
        host = host_keys[v % hosts]
        nic_specs: list[tuple[str, str | None, list[str]]] = []
        for _ in range(nics):
            nic_specs.append((pgs[n % portgroups], None, [f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"]))
            n += 1
        lab.vm(f"vm-{v + 1:05d}", host, nic_specs)
    return lab.to_json()


def write(data: dict[str, Any], path: Path) -> None:
    """Write lab JSON with the layout the committed demo lab uses."""
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.labgen", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="rewrite the bundled demo lab")
    d.add_argument("out", nargs="?", type=Path, default=DEMO_PATH)
    s = sub.add_parser("scaled", help="write a synthetic lab")
    s.add_argument("out", type=Path)
    s.add_argument("--vms", type=int, default=1000)
    s.add_argument("--hosts", type=int, default=0)
    s.add_argument("--portgroups", type=int, default=0)
    s.add_argument("--switches", type=int, default=2)
    s.add_argument("--nics", type=int, default=1)
    p = sub.add_parser("portless", help="write the small lab of VMs whose NICs are on no distributed port")
    p.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "demo":
        write(demo_lab(), args.out)
    elif args.cmd == "portless":
        write(portless_lab(), args.out)
    else:
        write(
            scaled_lab(args.vms, hosts=args.hosts, portgroups=args.portgroups, switches=args.switches, nics=args.nics),
            args.out,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
