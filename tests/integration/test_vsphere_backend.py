"""The vsphere backend against the vcsim test server: contract, snapshots, session changes.

The contract: vcsim serves the demo lab, so loading it through vCenter's API must give the same
inventory as the snapshot backend reading ``demo.json`` (compared by names: managed-object IDs
may differ). Every test that changes the server starts its own (``start_vcsim``).
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests import helpers
from tests.labgen import portless_lab, scaled_lab
from tui.backends import ChangeRefused, LoadProgress, ReadOnlyError, StaleSwitch
from tui.backends.snapshot import SnapshotBackend, dump_inventory, save_inventory
from tui.backends.vsphere import VsphereBackend
from tui.config import Settings, parse_server
from tui.model import ChangeOperation, Inventory, MirrorSession, SessionChange, VspanPorts

pytestmark = pytest.mark.vcsim

CLOUD = "dvSwitchCloud"


def settings_for(server: Any, **overrides: Any) -> Settings:
    """Settings that reach ``server`` as a user would give them (``--server URL``)."""
    url = parse_server(server.url, "--server")
    base = Settings(
        server=url.host,
        port=url.port,
        scheme=url.scheme,
        path=url.path,
        user=server.user,
        password=server.password,
        ca_file=server.cert if server.tls else "",
    )
    return replace(base, **overrides)


@pytest.fixture
def backend_for() -> Iterator[Any]:
    backends: list[VsphereBackend] = []

    def make(server: Any, **overrides: Any) -> VsphereBackend:
        b = VsphereBackend(settings_for(server, **overrides))
        backends.append(b)
        return b

    yield make
    for b in backends:
        b.close()


@pytest.fixture(scope="module")
def demo() -> Inventory:
    return SnapshotBackend().load()


@pytest.fixture(scope="module")
def live(vcsim: Any) -> Iterator[Inventory]:
    b = VsphereBackend(settings_for(vcsim))
    try:
        yield b.load()
    finally:
        b.close()


# -- the contract ---------------------------------------------------------------------------


def _port_rows(inv: Inventory) -> list[str]:
    return sorted(json.dumps(inv.port_row(p), sort_keys=True, ensure_ascii=False) for p in inv.ports.values())


def _ports_by_name(inv: Inventory) -> list[tuple[Any, ...]]:
    """Every port field, with IDs replaced by names."""
    out = []
    for p in inv.ports.values():
        c = p.connectee
        who = ""
        if c is not None:
            who = inv.vms[c.entity].name if c.entity in inv.vms else inv.host_name(c.entity)
        out.append(
            (
                inv.switches[p.switch].name,
                inv.portgroups[p.portgroup].name if p.portgroup else "",
                p.key,
                p.name,
                c.type.value if c else "",
                who,
                c.nic_key if c else "",
                inv.host_name(p.host),
                p.link_up,
                p.mac,
                p.promiscuous,
            )
        )
    return sorted(out)


def _vms_by_name(inv: Inventory) -> list[tuple[Any, ...]]:
    out = []
    for vm in inv.vms.values():
        nics = tuple(
            (
                n.key,
                n.label,
                n.mac,
                inv.switches[n.switch].name if n.switch in inv.switches else n.switch,
                inv.portgroups[n.portgroup].name if n.portgroup in inv.portgroups else n.portgroup,
                n.port,
                n.connected,
                n.ips,
            )
            for n in vm.nics
        )
        out.append((vm.name, inv.host_name(vm.host), vm.power, nics))
    return sorted(out)


def _portgroups_by_name(inv: Inventory) -> list[tuple[Any, ...]]:
    return sorted(
        (
            inv.switches[pg.switch].name,
            pg.name,
            str(pg.vlan),
            pg.vlan,
            pg.binding,
            pg.promiscuous,
            pg.uplink,
            pg.num_ports,
        )
        for pg in inv.portgroups.values()
    )


def test_switches_match_the_demo_lab(live: Inventory, demo: Inventory) -> None:
    assert sorted(s.name for s in live.switches.values()) == sorted(s.name for s in demo.switches.values())
    for sw in live.switches.values():
        want = demo.switch_by_name(sw.name)
        assert want is not None
        assert sw.key == want.key, "the switch key is its UUID, the same everywhere"
        assert sw.uplink_names == want.uplink_names
        assert sw.version == want.version
        assert sw.datacenter == want.datacenter
        assert sw.config_version == want.config_version
        assert sw.capability == want.capability
        assert [s.to_api() for s in sw.sessions] == [s.to_api() for s in want.sessions]
    assert live.datacenters == demo.datacenters
    assert live.vcenter == demo.vcenter == "vcsa01.lab.local"
    assert sorted(h.name for h in live.hosts.values()) == sorted(h.name for h in demo.hosts.values())


def test_portgroups_match_the_demo_lab(live: Inventory, demo: Inventory) -> None:
    assert _portgroups_by_name(live) == _portgroups_by_name(demo)
    dmz = next(pg for pg in live.portgroups.values() if pg.name == "dvPgDMZ")
    assert str(dmz.vlan) == "204"


def test_every_port_row_matches_the_demo_lab(live: Inventory, demo: Inventory) -> None:
    assert len(live.ports) == len(demo.ports) >= 300
    assert _port_rows(live) == _port_rows(demo)
    assert _ports_by_name(live) == _ports_by_name(demo)


def test_vms_and_nics_match_the_demo_lab(live: Inventory, demo: Inventory) -> None:
    assert _vms_by_name(live) == _vms_by_name(demo)
    port = live.port(demo.switch_by_name(CLOUD).key, "448")  # type: ignore[union-attr]
    assert port is not None
    row = live.port_row(port)
    assert (row["vm"], row["nic"], row["host"], row["vlan"]) == ("F5-LTM01", "Network adapter 2", "esx-03", "204")
    krb = next(vm for vm in live.vms.values() if vm.name == "KRBCLIENT01")
    assert "172.24.4.52" in krb.ips


def test_partial_tree_comes_first(vcsim: Any, backend_for: Any) -> None:
    steps: list[LoadProgress] = []
    inv = backend_for(vcsim).load(steps.append)
    partials = [p.partial for p in steps if p.partial is not None]
    assert partials, "a partial inventory is reported before the load ends"
    first = partials[0]
    assert sorted(first.switches) == sorted(inv.switches)
    assert len(first.portgroups) == len(inv.portgroups)
    assert len(first.hosts) == len(inv.hosts)
    assert not first.ports and not first.vms
    # Progress per switch while ports are read.
    per_switch = [p for p in steps if p.message.startswith("Reading ports of")]
    assert [p.done for p in per_switch] == list(range(len(inv.switches)))
    assert all(p.total == len(inv.switches) for p in per_switch)


PORT_MAP_FIELDS = ("switch", "portgroup", "port", "vm", "mac", "host", "vlan", "connected")
"""What a port's row says before the device lists are read (no NIC label, no guest IPs)."""


def test_port_map_before_details_gives_the_same_port_rows(vcsim: Any, backend_for: Any) -> None:
    steps: list[LoadProgress] = []
    inv = backend_for(vcsim).load(steps.append)
    maps = [p.partial for p in steps if p.partial is not None and p.partial.ports]
    assert len(maps) == 1, "one port map, reported before the load ends"
    port_map = maps[0]
    assert not port_map.details and inv.details
    assert port_map.ports == inv.ports and port_map.switches == inv.switches
    assert port_map.portgroups == inv.portgroups and port_map.hosts == inv.hosts
    assert {k: (v.name, v.host, v.power) for k, v in port_map.vms.items()} == {
        k: (v.name, v.host, v.power) for k, v in inv.vms.items()
    }
    labelled = unclaimed = 0
    for key, port in inv.ports.items():
        full, early = inv.port_row(port), port_map.port_row(port_map.ports[key])
        fields: tuple[str, ...] = PORT_MAP_FIELDS
        if port.connectee is None and full["vm"]:
            # The demo lab's powered-off WEB13: its NIC's backing names port 113, which has no
            # connectee; only its device list says whose it is.
            assert early["vm"] == "" and early["mac"] == ""
            fields = tuple(f for f in fields if f not in ("vm", "mac"))
            unclaimed += 1
        assert {f: early[f] for f in fields} == {f: full[f] for f in fields}, key
        assert early["ips"] == []
        if full["vm"]:
            assert early["nic"] == "" and full["nic"].startswith("Network adapter")
            labelled += 1
    assert labelled > 50 and unclaimed == 1 and any(inv.port_row(p)["ips"] for p in inv.ports.values())
    assert port_map.portless == ()


def test_nics_on_no_port_come_with_the_device_lists(start_vcsim: Any, backend_for: Any) -> None:
    """The port map lists no NIC on no distributed port and no VM without a NIC: it cannot know them."""
    steps: list[LoadProgress] = []
    inv = backend_for(start_vcsim(lab=portless_lab())).load(steps.append)
    port_map = next(p.partial for p in steps if p.partial is not None and p.partial.ports)
    assert port_map.portless == () and not port_map.details
    assert len(inv.portless) >= 3 and inv.details
    assert {k: (v.name, v.host) for k, v in port_map.vms.items()} == {k: (v.name, v.host) for k, v in inv.vms.items()}


def test_realistic_device_lists_change_nothing(start_vcsim: Any, backend_for: Any) -> None:
    """VMs with 12 devices each (-devices 12: controllers, disk, CD-ROM, video... as real VMs
    have) load into the same inventory as VMs carrying only their NICs."""
    lab = scaled_lab(300, nics=2)
    dumps = []
    for args in ((), ("-devices", "12")):
        inv = backend_for(start_vcsim(lab=lab, args=args)).load()
        dump = dump_inventory(inv)
        dump.pop("saved")
        dumps.append(dump)
    assert dumps[0] == dumps[1] and len(dumps[0]["vms"]) == 300


class _CountRequests:
    """Counts every HTTP request any connection sends (pyVmomi's and ours)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.methods: list[str] = []
        original = http.client.HTTPConnection.request

        def request(conn: Any, method: str, url: str, body: Any = None, headers: Any = None, **kw: Any) -> Any:
            action = ""
            if isinstance(body, bytes):
                text = body.decode("utf-8", "replace")
                start = text.find("<soapenv:Body>")
                if start >= 0:
                    action = text[start + 15 : text.find(" ", start + 15)].strip("<>")
            self.methods.append(action or f"{method} {url}")
            return original(conn, method, url, body, headers or {}, **kw)

        monkeypatch.setattr(http.client.HTTPConnection, "request", request)


def test_soap_calls_grow_only_with_pages(start_vcsim: Any, backend_for: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    counts = {}
    for vms in (100, 2500):
        server = start_vcsim(lab=scaled_lab(vms))
        backend = backend_for(server)
        backend.connect()
        counter = _CountRequests(monkeypatch)
        inv = backend.load()
        monkeypatch.undo()
        assert len(inv.vms) == vms
        counts[vms] = counter.methods
    small, big = counts[100], counts[2500]
    # 2,500 VMs need two more pages of 1,000 than 100 VMs in each of the two passes over the VMs
    # (names and hosts for the port map, then device lists and guest IPs); nothing else changes.
    assert len(big) - len(small) == 4
    assert big.count("ContinueRetrievePropertiesEx") == 4
    assert big.count("RetrievePropertiesEx") == 3  # the tree, then each pass's first page
    assert big.count("FetchDVPorts") == 2
    assert len(big) <= 14


# -- snapshots --------------------------------------------------------------------------------


def test_snapshot_save_round_trip(vcsim: Any, backend_for: Any, tmp_path: Path) -> None:
    path = tmp_path / "live.json"
    saved = backend_for(vcsim).load()
    save_inventory(saved, path)
    back = SnapshotBackend(path).load()
    a, b = dump_inventory(saved), dump_inventory(back)
    a.pop("saved")
    b.pop("saved")
    assert a == b
    assert _port_rows(back) == _port_rows(saved)


# -- session changes --------------------------------------------------------------------------


def _server_sessions(server: Any, switch_name: str) -> tuple[str, list[Any]]:
    """``(configVersion, config.vspanSession)`` read straight through pyVmomi."""
    from pyVmomi import vim

    content = server.connect().RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
    try:
        dvs = next(d for d in view.view if d.name == switch_name)
        return dvs.config.configVersion, list(dvs.config.vspanSession)
    finally:
        view.DestroyView()


WALKTHROUGH = replace(helpers.WALKTHROUGH, description="walkthrough session")


def test_create_the_walkthrough_session(start_vcsim: Any, backend_for: Any) -> None:
    server = start_vcsim()
    backend = backend_for(server)
    inv = backend.load()
    cloud = inv.switch_by_name(CLOUD)
    assert cloud is not None
    result = backend.apply(inv, cloud.key, [SessionChange(ChangeOperation.ADD, WALKTHROUGH)])
    assert len(result.keys) == 1
    key = result.keys[0]
    assert key not in {s.key for s in cloud.sessions}
    assert result.switch.session(key) == replace(WALKTHROUGH, key=key)
    assert result.switch.config_version != cloud.config_version

    version, sessions = _server_sessions(server, CLOUD)
    assert version == result.switch.config_version
    s = next(s for s in sessions if s.key == key)
    assert s.name == "F5 DMZ to monitor"
    assert s.sessionType == "mixedDestMirror"
    assert list(s.sourcePortReceived.portKey) == ["448"]
    assert list(s.sourcePortTransmitted.portKey) == ["448"]
    assert list(s.destinationPort.portKey) == ["2258"]
    assert not s.destinationPort.uplinkPortName
    assert s.encapsulationVlanId == 205
    assert s.mirroredPacketLength == 60
    assert s.enabled is True
    assert s.stripOriginalVlan is False
    assert s.normalTrafficAllowed is False
    assert s.samplingRate is None
    # The two existing sessions are untouched.
    before = {x.key: x.to_api() for x in cloud.sessions}
    after = {x.key: x.to_api() for x in result.switch.sessions if x.key in before}
    assert after == before


def test_edit_keeps_untouched_fields(start_vcsim: Any, backend_for: Any) -> None:
    server = start_vcsim()
    backend = backend_for(server)
    inv = backend.load()
    cloud = inv.switch_by_name(CLOUD)
    assert cloud is not None
    old = cloud.sessions[0]
    edited = old.with_changes(name="DMZ-IDS (renamed)", mirrored_packet_length=128)
    result = backend.apply(inv, cloud.key, [SessionChange(ChangeOperation.EDIT, edited)])
    assert result.keys == (old.key,)
    assert result.switch.session(old.key or "") == edited
    # Reading the switch again from scratch gives the same: every other field survived.
    fresh = backend.load().switch_by_name(CLOUD)
    assert fresh is not None
    assert fresh.session(old.key or "") == edited
    assert fresh.sessions[1] == cloud.sessions[1]
    _, sessions = _server_sessions(server, CLOUD)
    s = next(s for s in sessions if s.key == old.key)
    assert (s.name, s.mirroredPacketLength, s.enabled, s.samplingRate) == ("DMZ-IDS (renamed)", 128, True, 1)
    assert list(s.sourcePortTransmitted.portKey) == list(old.source_tx.port_keys)


def test_edit_can_remove_the_packet_length(start_vcsim: Any, backend_for: Any) -> None:
    """vCenter merges an edit into the stored session, so an unset length is sent as -1 (whole frames)."""
    server = start_vcsim()
    backend = backend_for(server)
    inv = backend.load()
    cloud = inv.switch_by_name(CLOUD)
    assert cloud is not None
    with_length = cloud.sessions[0].with_changes(mirrored_packet_length=128)
    backend.apply(inv, cloud.key, [SessionChange(ChangeOperation.EDIT, with_length)])
    inv = backend.load()
    cleared = with_length.with_changes(mirrored_packet_length=None)
    result = backend.apply(inv, cloud.key, [SessionChange(ChangeOperation.EDIT, cleared)])
    assert result.switch.session(cleared.key or "") == cleared


def test_remove_only_that_key(start_vcsim: Any, backend_for: Any) -> None:
    server = start_vcsim()
    backend = backend_for(server)
    inv = backend.load()
    cloud = inv.switch_by_name(CLOUD)
    assert cloud is not None and len(cloud.sessions) == 2
    gone, kept = cloud.sessions[1], cloud.sessions[0]
    result = backend.apply(inv, cloud.key, [SessionChange(ChangeOperation.REMOVE, gone)])
    assert result.keys == (gone.key,)
    assert result.switch.sessions == (kept,)
    _, sessions = _server_sessions(server, CLOUD)
    assert [s.key for s in sessions] == [kept.key]


def test_a_stale_config_version_is_caught_and_nothing_is_sent(start_vcsim: Any, backend_for: Any) -> None:
    from pyVmomi import vim

    server = start_vcsim()
    backend = backend_for(server)
    inv = backend.load()
    cloud = inv.switch_by_name(CLOUD)
    assert cloud is not None
    # Someone else removes session 2 meanwhile.
    content = server.connect().RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
    dvs = next(d for d in view.view if d.name == CLOUD)
    VS = vim.dvs.VmwareDistributedVirtualSwitch
    spec = VS.ConfigSpec(
        configVersion=dvs.config.configVersion,
        vspanConfigSpec=[VS.VspanConfigSpec(operation="remove", vspanSession=VS.VspanSession(key="2"))],
    )
    task = dvs.ReconfigureDvs_Task(spec)
    while task.info.state not in ("success", "error"):
        time.sleep(0.02)
    assert task.info.state == "success"
    version_then, sessions_then = _server_sessions(server, CLOUD)

    with pytest.raises(StaleSwitch) as err:
        backend.apply(inv, cloud.key, [SessionChange(ChangeOperation.ADD, WALKTHROUGH)])
    assert err.value.problems[0].code == "ConcurrentAccess"
    assert "nothing was sent" in str(err.value)
    fresh = err.value.switch
    assert fresh is not None
    assert fresh.config_version == version_then != cloud.config_version
    assert [s.key for s in fresh.sessions] == ["1"]
    # Nothing was sent: the server is as the other client left it.
    assert _server_sessions(server, CLOUD)[0] == version_then
    assert [s.key for s in _server_sessions(server, CLOUD)[1]] == [s.key for s in sessions_then]


def test_concurrent_access_from_vcenter_becomes_stale_switch(
    start_vcsim: Any, backend_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The switch changes between our read of configVersion and our send: vCenter says ConcurrentAccess."""
    server = start_vcsim()
    backend = backend_for(server)
    inv = backend.load()
    cloud = inv.switch_by_name(CLOUD)
    assert cloud is not None
    # Another change lands first; our pre-check is made to see the old version.
    other = cloud.sessions[0].with_changes(name="changed elsewhere")
    backend.apply(inv, cloud.key, [SessionChange(ChangeOperation.EDIT, other)])
    real_read = backend._read_switch
    calls = {"n": 0}

    def stale_first(switch: Any) -> Any:
        calls["n"] += 1
        fresh = real_read(switch)
        return replace(fresh, config_version=cloud.config_version) if calls["n"] == 1 else fresh

    monkeypatch.setattr(backend, "_read_switch", stale_first)
    with pytest.raises(StaleSwitch) as err:
        backend.apply(inv, cloud.key, [SessionChange(ChangeOperation.ADD, WALKTHROUGH)])
    assert err.value.problems[0].code == "ConcurrentAccess"
    assert err.value.switch is not None and err.value.switch.session("1") == other
    assert all(s.name != WALKTHROUGH.name for s in _server_sessions(server, CLOUD)[1])


def test_our_rules_refuse_before_anything_is_sent(start_vcsim: Any, backend_for: Any) -> None:
    server = start_vcsim()
    backend = backend_for(server)
    inv = backend.load()
    cloud = inv.switch_by_name(CLOUD)
    assert cloud is not None
    version = _server_sessions(server, CLOUD)[0]
    bad = WALKTHROUGH.with_changes(destination=VspanPorts(port_keys=("448",)))  # source = destination
    with pytest.raises(ChangeRefused) as err:
        backend.apply(inv, cloud.key, [SessionChange(ChangeOperation.ADD, bad)])
    assert err.value.sent is False and err.value.exit_code == 1
    assert "VspanSameSessionPortConflict" in [p.code for p in err.value.problems]
    assert _server_sessions(server, CLOUD)[0] == version


@pytest.mark.parametrize(
    ("session", "code", "words"),
    [
        (
            WALKTHROUGH.with_changes(destination=VspanPorts(port_keys=("2241",))),
            "VspanDestPortConflict",
            "already the destination",
        ),
        (WALKTHROUGH.with_changes(destination=VspanPorts(port_keys=("99999",))), "NotFound", "could not find"),
        (WALKTHROUGH.with_changes(sampling_rate=5), "InvalidArgument", "rejected a value"),
        (WALKTHROUGH.with_changes(destination=VspanPorts(port_keys=("448",))), "VspanSameSessionPortConflict", "both"),
    ],
    ids=["dest-conflict", "unknown-port", "sampling-on-legacy", "same-session"],
)
def test_vcenter_faults_become_problems(
    start_vcsim: Any, backend_for: Any, monkeypatch: pytest.MonkeyPatch, session: MirrorSession, code: str, words: str
) -> None:
    """A bad change that gets past our rules is refused by vCenter; the fault becomes a Problem."""
    server = start_vcsim()
    backend = backend_for(server)
    inv = backend.load()
    cloud = inv.switch_by_name(CLOUD)
    assert cloud is not None
    monkeypatch.setattr(VsphereBackend, "_check_rules", staticmethod(lambda *a: ()))
    with pytest.raises(ChangeRefused) as err:
        backend.apply(inv, cloud.key, [SessionChange(ChangeOperation.ADD, session)])
    assert err.value.sent is True and err.value.exit_code == 4
    problem = err.value.problems[0]
    assert problem.code == code
    assert words in problem.message
    assert "vim." not in problem.message and "Traceback" not in problem.message
    assert [s.key for s in _server_sessions(server, CLOUD)[1]] == ["1", "2"]


def test_read_only_refuses_before_touching_the_network(live: Inventory, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = VsphereBackend(Settings(server="192.0.2.1", user="u", password="p", read_only=True))
    monkeypatch.setattr(VsphereBackend, "connect", lambda self: pytest.fail("read-only apply connected"))
    cloud = live.switch_by_name(CLOUD)
    assert cloud is not None
    with pytest.raises(ReadOnlyError):
        backend.apply(live, cloud.key, [SessionChange(ChangeOperation.ADD, WALKTHROUGH)])
    assert backend.read_only is True


def test_label() -> None:
    assert VsphereBackend(Settings(server="vcsa01.lab.local")).label == "vCenter vcsa01.lab.local"
    insecure = VsphereBackend(Settings(server="vc", insecure=True))
    assert insecure.label == "vCenter vc" and insecure.insecure and not insecure.offline
