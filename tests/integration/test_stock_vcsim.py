"""dvmirror against govmomi's STOCK vCenter simulator, checked against govmomi's own client view.

Our test server (tests/vcsim) is written here and can share dvmirror's misreadings of vCenter.
These tests run ``simulator.VPX()`` unchanged (tests/stockvcsim/main.go) and compare what dvmirror
loads with what govmomi's client libraries (the calls govc's ``ls``, ``find``, ``device.info`` and
``dvs.portgroup.info`` use; tests/stockvcsim/govview) and pyVmomi see on the same server, for
everything stock vcsim models. What it does not model (port connectees, VSPAN, ``pg.vm``, paging)
is listed in tests/vcsim/README.md; here dvmirror must not crash, must not drop anything, and must
tell the truth about a change the server accepts and ignores.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from tests.helpers import notifications, started
from tui.__main__ import main
from tui.backends import ChangeRefused
from tui.backends.vsphere import VsphereBackend
from tui.config import Settings, parse_server
from tui.model import (
    ChangeOperation,
    Inventory,
    MirrorSession,
    SessionChange,
    SessionType,
    SwitchCapability,
    VspanPorts,
)

pytestmark = pytest.mark.vcsim

MODEL = ("-pg", "3", "-vm", "2", "-host", "2")
"""1 datacenter, 1 standalone host + a cluster of 2, 4 VMs, 1 switch with 3 portgroups + its uplink portgroup."""

StartStock = Callable[..., Any]
ROW_KEYS = {"switch", "portgroup", "port", "vm", "nic", "mac", "ips", "host", "vlan", "connected"}


def settings_for(server: Any, **overrides: Any) -> Settings:
    url = parse_server(server.url, "--server")
    values: dict[str, Any] = dict(
        server=url.host, port=url.port, scheme=url.scheme, path=url.path, user=server.user, password=server.password
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def backend_for() -> Iterator[Callable[..., VsphereBackend]]:
    backends: list[VsphereBackend] = []

    def make(server: Any, **overrides: Any) -> VsphereBackend:
        backend = VsphereBackend(settings_for(server, **overrides), timeout=20)
        backends.append(backend)
        return backend

    yield make
    for backend in backends:
        backend.close()


def cli(
    capsys: pytest.CaptureFixture[str], server: Any, *argv: str, extra: tuple[str, ...] = ()
) -> tuple[int, str, str]:
    code = main([*argv, "--server", server.url, "--user", server.user, "--password", server.password, *extra], {})
    out, err = capsys.readouterr()
    return code, out, err


def cli_json(
    capsys: pytest.CaptureFixture[str], server: Any, *argv: str, extra: tuple[str, ...] = ()
) -> tuple[int, Any]:
    code, out, err = cli(capsys, server, *argv, "--json", extra=extra)
    assert "Traceback" not in err
    return code, json.loads(out) if out.strip() else None


def vlan_of(view: dict[str, Any]) -> tuple[Any, ...]:
    """govview's VLAN in the shape of :class:`tui.model.Vlan`: (id, trunk, pvlan)."""
    kind = view["kind"]
    if kind == "vlan":
        return (view["id"], (), None)
    if kind == "trunk":
        return (None, tuple(tuple(r) for r in view["trunk"]), None)
    if kind == "pvlan":
        return (None, (), view["id"])
    return (None, (), None)


def assert_agrees_with_govmomi(inv: Inventory, view: dict[str, Any]) -> None:
    """Everything stock vcsim models, as dvmirror loaded it, equals govmomi's view of it."""
    # govview writes Go's empty (nil) lists as null.
    view = {k: ([] if v is None and k in ("switches", "portgroups") else v) for k, v in view.items()}
    assert sorted(inv.datacenters) == view["datacenters"]
    assert {(s.key, s.name, s.datacenter) for s in inv.switches.values()} == {
        (s["uuid"], s["name"], s["datacenter"]) for s in view["switches"]
    }
    assert {s.moid for s in inv.switches.values()} == {s["moid"] for s in view["switches"]}
    assert {
        (p.key, p.name, p.switch, (p.vlan.vlan_id, p.vlan.trunk, p.vlan.pvlan)) for p in inv.portgroups.values()
    } == {(p["key"], p["name"], p["switch_uuid"], vlan_of(p["vlan"])) for p in view["portgroups"]}
    assert sorted(h.name for h in inv.hosts.values()) == view["hosts"]
    ours = {
        vm.name: (
            vm.key,
            inv.host_name(vm.host),
            vm.power,
            [(n.key, n.label, n.mac, n.switch, n.portgroup, n.port, n.connected, n.network) for n in vm.nics],
        )
        for vm in inv.vms.values()
    }
    theirs = {
        vm["name"]: (
            vm["moid"],
            vm["host"],
            vm["power"],
            [
                (
                    n["key"],
                    n["label"],
                    n["mac"].lower(),
                    n["switch_uuid"],
                    n["portgroup_key"],
                    n["port_key"],
                    bool(n["connected"]),
                    n["network"],
                )
                for n in vm["nics"]
            ],
        )
        for vm in view["vms"]
    }
    assert ours == theirs
    # Ports: exactly the keys FetchDVPorts returned, per switch (repeated keys count once).
    assert {(p.switch, p.key) for p in inv.ports.values()} == {
        (uuid, p["key"]) for uuid, ports in (view["ports"] or {}).items() for p in ports or ()
    }


# -- the server is stock -----------------------------------------------------------------------


def test_stock_vcsim_is_what_the_library_ships(start_stock_vcsim: StartStock) -> None:
    """What stock vcsim 0.24.2 lacks, seen through govmomi's own client: the facts the rest relies on."""
    server = start_stock_vcsim(*MODEL)
    view = server.govview()
    assert view["about"]["api_version"] == "6.5"
    assert [s["type"] for s in view["switches"]] == ["DistributedVirtualSwitch"]  # not the VMware subtype
    assert len(view["portgroups"]) == 4  # 3 + the switch's DVUplinks portgroup
    assert all(p["vms"] == 0 for p in view["portgroups"])  # pg.vm is never filled in
    assert all(p["uplink"] is None for p in view["portgroups"])  # config.uplink is never set
    assert len(view["vms"]) == 4
    nics = [n for vm in view["vms"] for n in vm["nics"]]
    assert nics and all(n["port_key"] == "" for n in nics)  # backings name no port
    first = next(p["key"] for p in view["portgroups"] if p["name"] == "DC0_DVPG0")
    assert {n["portgroup_key"] for n in nics} == {first}  # every NIC on the first DVPG
    (ports,) = view["ports"].values()
    assert ports and all(p["connectee"] is None and p["portgroup_key"] == "" for p in ports)
    # dvs.portgroup.info's criteria (inside, portgroupKey) are ignored: every port, every time.
    assert set(view["ports_by_portgroup_criteria"].values()) == {len(ports)}


def test_version_negotiation_picks_a_listed_version(start_stock_vcsim: StartStock, backend_for: Any) -> None:
    server = start_stock_vcsim()
    with urllib.request.urlopen(server.url + "/vimServiceVersions.xml", timeout=10) as reply:  # noqa: S310 - loopback
        root = ET.fromstring(reply.read())
    (ns,) = [n for n in root.iter("namespace") if n.findtext("name") == "urn:vim25"]
    listed = {ns.findtext("version"), *(v.text for v in ns.iter("version"))}
    assert listed == {"6.5", "6.0", "5.5"}
    backend = backend_for(server)
    backend.connect()
    assert backend.api_version == "6.5"
    assert backend.api_version in listed


# -- the load agrees with govmomi --------------------------------------------------------------


def test_load_agrees_with_govmomi(start_stock_vcsim: StartStock, backend_for: Any) -> None:
    server = start_stock_vcsim(*MODEL)
    inv = backend_for(server).load()
    assert_agrees_with_govmomi(inv, server.govview())
    assert len(inv.vms) == 4 and all(vm.nics for vm in inv.vms.values())
    # Stock ports have no portgroupKey and no connectee: none is invented.
    assert all(not p.portgroup and p.connectee is None for p in inv.ports.values())
    assert inv.nic_by_port == {}
    # ...and no NIC is dropped: each one is on no port, as pyVmomi and govmomi return it.
    assert sorted((i.vm.name, i.nic.key if i.nic else None) for i in inv.portless) == sorted(
        (vm["name"], n["key"]) for vm in server.govview()["vms"] for n in vm["nics"]
    )


def test_capability_of_a_switch_without_features_supported(start_stock_vcsim: StartStock, backend_for: Any) -> None:
    """Stock switches leave capability.featuresSupported unset: dvmirror treats VSPAN as unknown
    (offers every session type as "not reported", and lets vCenter decide)."""
    server = start_stock_vcsim()
    from pyVmomi import vim

    content = server.connect().RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
    (dvs,) = view.view
    assert dvs.capability.featuresSupported is None
    assert isinstance(dvs.config, vim.dvs.VmwareDistributedVirtualSwitch.ConfigInfo)
    assert not dvs.config.configVersion and not dvs.config.vspanSession
    (switch,) = backend_for(server).load().switches.values()
    assert switch.capability == SwitchCapability.unknown()
    assert switch.capability.vspan is None and switch.capability.erspan is None
    assert set(switch.capability.offered) == {t.value for t in SessionType}
    assert all(switch.capability.supports(t.value) is None for t in SessionType)
    assert switch.sessions == () and switch.config_version == ""


def test_repeated_port_keys_and_ignored_criteria(start_stock_vcsim: StartStock, backend_for: Any) -> None:
    """Portgroups made with numPorts get port keys 0..n-1 each, so FetchDVPorts repeats them across
    portgroups (dvs.go dvPortgroups). dvmirror keeps one port per key and still drops no VM."""
    server = start_stock_vcsim(*MODEL)
    from pyVim.task import WaitForTask
    from pyVmomi import vim

    content = server.connect().RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
    (dvs,) = view.view
    specs = [
        vim.dvs.DistributedVirtualPortgroup.ConfigSpec(name=f"PG{i}", numPorts=2, type="earlyBinding") for i in (1, 2)
    ]
    WaitForTask(dvs.AddDVPortgroup_Task(specs))
    raw = dvs.FetchDVPorts(None)
    keys = [p.key for p in raw]
    assert keys.count("0") == 2 and keys.count("1") == 2  # the same keys on two portgroups
    govmomi = server.govview()
    inv = backend_for(server).load()
    assert_agrees_with_govmomi(inv, govmomi)
    assert len(inv.ports) == len(set(keys)) < len(keys)
    assert {vm["name"] for vm in govmomi["vms"]} == {vm.name for vm in inv.vms.values()}


def test_two_switches_with_one_uuid_are_not_merged(
    start_stock_vcsim: StartStock, backend_for: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stock vcsim derives a switch's UUID from its name, so with ``-dc 2`` two "DVS0" share one.
    Ports and NIC backings name a switch by UUID only: dvmirror shows the first (lowest moid), reads
    its ports once, and says so, rather than showing one switch with the other's ports."""
    server = start_stock_vcsim("-dc", "2", "-pg", "1", "-vm", "1", "-host", "1")
    view = server.govview()
    first, second = sorted(view["switches"], key=lambda s: (len(s["moid"]), s["moid"]))
    assert first["uuid"] == second["uuid"] and first["moid"] != second["moid"]
    inv = backend_for(server).load()
    (switch,) = inv.switches.values()
    assert (switch.moid, switch.key) == (first["moid"], first["uuid"])
    (warning,) = inv.warnings
    assert f"({first['moid']})" in warning and f"({second['moid']})" in warning and "same UUID" in warning
    assert sorted(p.key for p in inv.ports_by_switch[switch.key]) == sorted(
        {p["key"] for p in view["ports_by_moid"][first["moid"]]}
    )
    assert {pg.key for pg in inv.portgroups.values()} == {
        key for key, moid in view["portgroup_switch_moid"].items() if moid == first["moid"]
    }
    # Every VM of both datacenters is still found.
    assert {vm.name for vm in inv.vms.values()} == {vm["name"] for vm in view["vms"]}
    code, out, err = cli(capsys, server, "ports", "--json")
    assert code == 0 and "Traceback" not in err
    assert f"dvmirror: warning: switches DVS0 ({first['moid']}) and DVS0 ({second['moid']})" in " ".join(err.split())
    assert len(json.loads(out)) == len(inv.ports)


# -- the CLI -----------------------------------------------------------------------------------


def test_cli_reads_stock_vcsim(start_stock_vcsim: StartStock, capsys: pytest.CaptureFixture[str]) -> None:
    server = start_stock_vcsim(*MODEL)
    view = server.govview()
    code, rows = cli_json(capsys, server, "ports")
    assert code == 0
    (uuid,) = view["ports"]
    assert sorted(r["port"] for r in rows) == sorted({p["key"] for p in view["ports"][uuid]})
    assert all(r["switch"] == "DVS0" and r["connected"] is False and r["vm"] == "" for r in rows)
    assert all(
        set(r) == {"switch", "portgroup", "port", "vm", "nic", "mac", "ips", "host", "vlan", "connected"} for r in rows
    )
    key = rows[0]["port"]
    code, hits = cli_json(capsys, server, "find", key)
    assert code == 0 and [h["port"] for h in hits] == [key]
    code, hits = cli_json(capsys, server, "find", "no-such-thing-anywhere")
    assert code == 1 and hits == []
    code, sessions = cli_json(capsys, server, "sessions")
    assert code == 0 and sessions == []
    code, out, err = cli(capsys, server, "sessions")
    assert code == 0 and "Traceback" not in out + err


def test_vms_without_port_keys_stay_findable_by_name(
    start_stock_vcsim: StartStock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every stock NIC is on a portgroup with no portKey: ``find`` returns one row per NIC, port null,
    with the VM, NIC, MAC, host and state as govmomi reads them (issue 7 §1)."""
    server = start_stock_vcsim(*MODEL)
    view = server.govview()
    for vm in view["vms"]:
        code, hits = cli_json(capsys, server, "find", vm["name"])
        assert code == 0
        mine = [h for h in hits if h["vm"] == vm["name"]]
        assert [(h["nic"], h["mac"], h["host"], h["connected"], h["port"]) for h in mine] == [
            (n["label"], n["mac"].lower(), vm["host"], bool(n["connected"]), None) for n in vm["nics"]
        ]
        assert all(h["switch"] == "DVS0" and h["portgroup"] == "DC0_DVPG0" for h in mine)
        assert all(set(h) == {*ROW_KEYS, "matched", "matched_field", "matched_value", "match"} for h in hits)
        nic = vm["nics"][0]
        code, hits = cli_json(capsys, server, "find", nic["mac"].upper().replace(":", "-"))
        # Stock VMs of one pool may share a MAC (vcsim copies the template's device list): every one is listed.
        same = [(v["name"], n["label"]) for v in view["vms"] for n in v["nics"] if n["mac"] == nic["mac"]]
        assert code == 0 and (vm["name"], nic["label"]) in same
        assert sorted((h["vm"], h["nic"]) for h in hits) == sorted(same)
        assert {(h["match"], h["mac"], h["port"]) for h in hits} == {("exact", nic["mac"].lower(), None)}
    code, out, err = cli(capsys, server, "find", view["vms"][0]["name"])
    assert code == 0 and "on portgroup DC0_DVPG0 with no port assigned (no portKey)" in out
    # ports lists ports only, and says which NICs it leaves out.
    code, rows = cli_json(capsys, server, "ports", "--vm", view["vms"][0]["name"])
    assert code == 0 and rows == []
    code, out, err = cli(capsys, server, "ports", "--vm", view["vms"][0]["name"])
    assert code == 0 and "0 ports" in out and "1 VM NIC on no distributed port" in out


def test_standard_network_backings(
    start_stock_vcsim: StartStock, backend_for: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no distributed portgroup (``-pg 0``) stock VMs are on the standard "VM Network": dvmirror
    reads its name as govmomi does, and finds the VMs by name and by that network."""
    server = start_stock_vcsim("-pg", "0", "-vm", "1", "-host", "1")
    view = server.govview()
    nics = [n for vm in view["vms"] for n in vm["nics"]]
    assert nics and {(n["backing"], n["network"]) for n in nics} == {
        ("*types.VirtualEthernetCardNetworkBackingInfo", "VM Network")
    }
    inv = backend_for(server).load()
    assert_agrees_with_govmomi(inv, view)
    assert len(inv.portless) == len(nics)
    code, hits = cli_json(capsys, server, "find", "VM Network")
    assert code == 0 and sorted(h["vm"] for h in hits) == sorted(vm["name"] for vm in view["vms"])
    assert all(h["port"] is None and h["switch"] == "" and h["portgroup"] == "VM Network" for h in hits)


def vspan_sessions(server: Any) -> tuple[str, list[Any]]:
    """``(configVersion, sessions)`` of the stock switch, read back with pyVmomi."""
    from pyVmomi import vim

    content = server.connect().RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
    (dvs,) = view.view
    return str(dvs.config.configVersion or ""), list(dvs.config.vspanSession or [])


def test_session_create_dry_run(start_stock_vcsim: StartStock, capsys: pytest.CaptureFixture[str]) -> None:
    server = start_stock_vcsim(*MODEL)
    source, dest = sorted(p["key"] for p in next(iter(server.govview()["ports"].values())))[:2]
    argv = ("session", "create", "--switch", "DVS0", "--name", "probe", "--source", source, "--dest", dest)
    code, result = cli_json(capsys, server, *argv, "--dry-run")
    assert code == 0
    assert result["ok"] is True and result["dry_run"] is True and result["sent"] is False
    assert result["change"]["session"]["sourcePortReceived"]["portKey"] == [source]
    assert vspan_sessions(server) == ("", [])
    assert not Path(os.environ["DVMIRROR_AUDIT_LOG"]).exists()  # nothing sent, nothing recorded


def test_session_create_accepted_and_ignored(start_stock_vcsim: StartStock, capsys: pytest.CaptureFixture[str]) -> None:
    """Stock ReconfigureDvs_Task succeeds and ignores vspanConfigSpec (dvs.go ReconfigureDvsTask handles
    hosts only). dvmirror re-reads the switch and says the change is not there, which is the truth."""
    server = start_stock_vcsim(*MODEL)
    source, dest = sorted(p["key"] for p in next(iter(server.govview()["ports"].values())))[:2]
    argv = ("session", "create", "--switch", "DVS0", "--name", "probe", "--source", source, "--dest", dest)
    code, result = cli_json(capsys, server, *argv)
    assert code == 4
    assert result["ok"] is False and result["sent"] is True and result["stored"] is None
    assert result["change"]["session"]["key"] is None
    (problem,) = [p for p in result["problems"] if p["severity"] == "error"]
    assert problem["code"] == "NotApplied" and "'probe' is not on DVS0" in problem["message"]
    # What dvmirror said is true of the server: no session, configVersion untouched.
    assert vspan_sessions(server) == ("", [])
    entries = [json.loads(line) for line in Path(os.environ["DVMIRROR_AUDIT_LOG"]).read_text().splitlines()]
    assert [e["result"] for e in entries] == ["fault"]
    assert "NotApplied" in json.dumps(entries[0])

    code, out, err = cli(capsys, server, *argv)
    assert code == 4 and "Traceback" not in err
    assert "vCenter accepted the change to DVS0 (the task succeeded), but the switch read back afterwards" in out
    assert "Created session" not in out and "refused" not in out
    assert vspan_sessions(server) == ("", [])


def test_backend_apply_tells_the_truth(start_stock_vcsim: StartStock, backend_for: Any) -> None:
    server = start_stock_vcsim(*MODEL)
    backend = backend_for(server)
    inv = backend.load()
    (switch,) = inv.switches.values()
    a, b = sorted(p.key for p in inv.ports.values())[:2]
    session = MirrorSession(
        name="probe",
        session_type=SessionType.DV_PORT_MIRROR.value,
        source_rx=VspanPorts(port_keys=(a,)),
        destination=VspanPorts(port_keys=(b,)),
    )
    with pytest.raises(ChangeRefused) as caught:
        backend.apply(inv, switch.key, [SessionChange(ChangeOperation.ADD, session)])
    assert caught.value.sent is True and caught.value.exit_code == 4
    assert [p.code for p in caught.value.problems] == ["NotApplied"]
    assert vspan_sessions(server) == ("", [])
    # The connection is still good: a reload shows the same (empty) switch.
    assert backend.load().switches[switch.key].sessions == ()


# -- TLS ---------------------------------------------------------------------------------------


def test_tls_pinned_thumbprint_and_ca_file(
    start_stock_vcsim: StartStock, backend_for: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stock ``-tls`` serves httptest's built-in localhost certificate (a 1024-bit RSA key)."""
    server = start_stock_vcsim(*MODEL, tls=True)
    assert server.url.startswith("https://") and server.thumbprint and Path(server.cert).is_file()
    view = server.govview(pin="thumbprint")
    assert view == server.govview(pin="ca")
    inv = backend_for(server, thumbprint=server.thumbprint).load()
    assert_agrees_with_govmomi(inv, view)
    code, sessions = cli_json(capsys, server, "sessions", extra=("--thumbprint", server.thumbprint))
    assert code == 0 and sessions == []
    wrong = ":".join(["00"] * 20)
    code, out, err = cli(capsys, server, "sessions", extra=("--thumbprint", wrong))
    assert code == 3 and "is not the pinned one" in err and server.thumbprint in err
    # Go accepts the small key; OpenSSL at Debian's default security level does not, and dvmirror says so.
    code, out, err = cli(capsys, server, "sessions", "--json", extra=("--ca-file", server.cert))
    assert "Traceback" not in err
    if code != 0:
        assert code == 3 and "key too weak" in err


# -- what "not applied" means, change by change ------------------------------------------------


def test_not_applied_names_each_change_the_switch_does_not_show() -> None:
    """Stock vcsim can only show the ADD case; EDIT and REMOVE from the same re-read comparison."""
    from tui.backends._recovery import _not_applied
    from tui.model import Switch

    kept = MirrorSession(key="7", name="kept")
    gone = MirrorSession(key="8", name="gone")
    before = Switch(key="uuid", name="DVS0", sessions=(kept, gone))
    after = Switch(key="uuid", name="DVS0", sessions=(kept,))
    changes = [
        SessionChange(ChangeOperation.ADD, MirrorSession(name="new")),
        SessionChange(ChangeOperation.EDIT, gone),
        SessionChange(ChangeOperation.REMOVE, kept),
    ]
    problems = _not_applied(before, after, changes)
    assert [p.code for p in problems] == ["NotApplied"] * 3
    assert [p.message for p in problems] == [
        "Session 'new' is not on DVS0: the switch has no new session (1 in all).",
        "Session 8 'gone' is not on DVS0 any more.",
        "Session 7 'kept' is still on DVS0: it was not removed.",
    ]
    added = Switch(key="uuid", name="DVS0", sessions=(gone, MirrorSession(key="9", name="new")))
    assert _not_applied(before, added, [changes[0], changes[1], changes[2]]) == []
    # Two adds, one new session: the second is reported.
    two = [changes[0], SessionChange(ChangeOperation.ADD, MirrorSession(name="other"))]
    assert [p.message.split(":")[0] for p in _not_applied(before, added, two)] == ["Session 'other' is not on DVS0"]


# -- the TUI -----------------------------------------------------------------------------------


async def test_tui_says_the_ignored_change_is_not_there(start_stock_vcsim: StartStock) -> None:
    from tests.tui.conftest import settle
    from tui.app import build_app
    from tui.screens.error import ErrorScreen

    server = start_stock_vcsim(*MODEL)
    app = build_app(VsphereBackend(settings_for(server), timeout=20), environ={})
    async with started(app) as pilot:
        inv = app.inventory
        assert inv is not None and len(inv.vms) == 4
        (switch,) = inv.switches.values()
        a, b = sorted(p.key for p in inv.ports.values())[:2]
        session = MirrorSession(
            name="probe",
            session_type=SessionType.DV_PORT_MIRROR.value,
            source_rx=VspanPorts(port_keys=(a,)),
            destination=VspanPorts(port_keys=(b,)),
        )
        app.apply_changes(switch.key, [SessionChange(ChangeOperation.ADD, session)])
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        error = app.screen.error
        assert error.title == "Change not applied"
        assert "vCenter accepted the change to DVS0" in error.message
        assert [p.code for p in error.problems] == ["NotApplied"]  # type: ignore[attr-defined]
        assert app.inventory is not None and app.inventory.switches[switch.key].sessions == ()
        app.backend.close()
    assert vspan_sessions(server) == ("", [])


def test_the_reread_after_apply_reads_the_sessions(start_stock_vcsim: StartStock, backend_for: Any) -> None:
    """The switch is typed as the base DistributedVirtualSwitch, whose sessions dvmirror's tree does
    not ask for; the re-read after a change does ask (``config.vspanSession``), and stock vcsim
    answers it, so "not on the switch" is read from the server, not assumed."""
    server = start_stock_vcsim(*MODEL, "-trace")
    backend = backend_for(server)
    inv = backend.load()
    (switch,) = inv.switches.values()
    a, b = sorted(p.key for p in inv.ports.values())[:2]
    session = MirrorSession(name="probe", source_rx=VspanPorts(port_keys=(a,)), destination=VspanPorts(port_keys=(b,)))
    before = server.log().count("<pathSet>config.vspanSession</pathSet>")
    with pytest.raises(ChangeRefused):
        backend.apply(inv, switch.key, [SessionChange(ChangeOperation.ADD, session)])
    log = server.log()
    assert "ReconfigureDvs_Task" in log and "<vspanConfigSpec>" in log
    assert log.count("<pathSet>config.vspanSession</pathSet>") == before + 2  # before and after the change
    assert "<name>config.vspanSession</name>" in log  # and the server answered it


async def test_tui_warns_of_two_switches_with_one_uuid(start_stock_vcsim: StartStock) -> None:
    from tests.tui.conftest import settle
    from tui.app import build_app

    server = start_stock_vcsim("-dc", "2", "-pg", "1", "-vm", "1", "-host", "1")
    app = build_app(VsphereBackend(settings_for(server), timeout=20), environ={})
    shown = notifications(app)
    async with started(app) as pilot:
        await settle(pilot)
        assert app.inventory is not None and len(app.inventory.switches) == 1
        assert any("have the same UUID" in m and "only DVS0" in m for m in shown), shown
        app.backend.close()
