"""Round trips against the vcsim test server (issue 7): every session type with every field set,
edited (name), disabled/enabled and cloned through the CLI and the TUI, read back with pyVmomi
and compared on the wire with pyVmomi's serializer; a snapshot saved from vcsim and loaded
again; and a switch capability vCenter leaves unset, offered as unknown."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

from tests.conftest import CLOUD
from tests.helpers import started
from tests.integration.conftest import VcsimServer
from tests.integration.test_vsphere_backend import settings_for
from tests.roundtrip import CLONE_DEST, DPM, ERS, FULL, MIX, RMD, RMS, TYPES, differences, lab, renamed
from tests.tui.conftest import settle
from tests.tui.wizard_helpers import review_and_create, type_into
from tui.__main__ import main
from tui.app import build_app
from tui.backends._convert import session_from_vim
from tui.backends.snapshot import SnapshotBackend
from tui.backends.vsphere import VsphereBackend
from tui.model import SessionType, SwitchCapability
from tui.screens.sessions import SessionsScreen

pytestmark = pytest.mark.vcsim

VERSION = "vim.version.v7_0_3_0"


@pytest.fixture(scope="module")
def server(start_module_vcsim: Callable[..., VcsimServer]) -> VcsimServer:
    """One server on the round-trip lab; each test changes only its own type's session."""
    return start_module_vcsim(lab())


def vim_sessions(server: VcsimServer) -> dict[str, Any]:
    """dvSwitchCloud's sessions as the server stores them, read with pyVmomi, by key."""
    from pyVmomi import vim

    si = server.connect()
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
    try:
        dvs = next(d for d in view.view if d.name == "dvSwitchCloud")
        return {s.key: s for s in dvs.config.vspanSession or ()}
    finally:
        view.Destroy()


def wire(session: Any, **changes: Any) -> bytes:
    """The session as pyVmomi serializes it, with ``changes`` applied to a copy."""
    from pyVmomi import SoapAdapter

    s = copy.deepcopy(session)
    for name, value in changes.items():
        setattr(s, name, value)
    return bytes(SoapAdapter.Serialize(s, version=VERSION))


PORT_LISTS = ("sourcePortTransmitted", "sourcePortReceived", "destinationPort")


def _has_items(p: Any) -> bool:
    return p is not None and any(
        list(getattr(p, n) or ())
        for n in ("portKey", "uplinkPortName", "wildcardPortConnecteeType", "vlans", "ipAddress")
    )


def cli(capsys: pytest.CaptureFixture[str], server: VcsimServer, *argv: str) -> tuple[int, Any]:
    conn = ["--server", server.url, "--user", server.user, "--password", server.password]
    code = main([*argv, *conn, "--json"], environ={})
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else err)


@pytest.mark.parametrize("t", TYPES)
def test_cli_edit_disable_enable_on_vcsim(server: VcsimServer, capsys: pytest.CaptureFixture[str], t: str) -> None:
    s = FULL[t]
    key = str(s.key)
    x0 = vim_sessions(server)[key]
    assert session_from_vim(x0) == s, "the lab's session as vcsim serves it (wildcards and netstack included)"
    where = ("--switch", "dvSwitchCloud", "--session", key)
    code, result = cli(capsys, server, "session", "edit", *where, "--name", renamed(s).name)
    assert code == 0, result
    x1 = vim_sessions(server)[key]
    assert x1.name == renamed(s).name
    assert wire(x1, name=x0.name) == wire(x0), "only the name changed, byte for byte"
    for verb, enabled in (
        (("disable", False), ("enable", True)) if s.enabled else (("enable", True), ("disable", False))
    ):
        code, result = cli(capsys, server, "session", verb, *where)
        assert code == 0, result
        x2 = vim_sessions(server)[key]
        assert x2.enabled is enabled
        assert wire(x2, name=x0.name, enabled=x0.enabled) == wire(x0)
    code, result = cli(capsys, server, "session", "edit", *where, "--name", s.name)
    assert code == 0, result
    assert wire(vim_sessions(server)[key]) == wire(x0)


async def test_tui_edit_toggle_clone_on_vcsim(server: VcsimServer) -> None:
    """The sessions screen and the wizard against vcsim, for every type in one run."""
    app = build_app(VsphereBackend(settings_for(server)), environ={})
    async with started(app) as pilot:
        await pilot.press("S")
        await settle(pilot)
        for t in TYPES:
            s = FULL[t]
            key = str(s.key)
            x0 = vim_sessions(server)[key]
            screen = app.screen
            assert isinstance(screen, SessionsScreen), type(screen).__name__

            async def select() -> None:
                row = [x.key for x in screen.sessions].index(key)  # noqa: B023
                screen.query_one("#sessions-table", DataTable).move_cursor(row=row)  # noqa: B023
                await settle(pilot)

            await select()
            await pilot.press("e")
            await settle(pilot)
            await type_into(pilot, "name", f"{x0.name} tui")
            await review_and_create(pilot)
            x1 = vim_sessions(server)[key]
            assert (x1.name, wire(x1, name=x0.name)) == (f"{x0.name} tui", wire(x0)), t
            await select()
            await pilot.press("space")
            await app.workers.wait_for_complete()
            await settle(pilot)
            x2 = vim_sessions(server)[key]
            assert x2.enabled is not x0.enabled and wire(x2, name=x0.name, enabled=x0.enabled) == wire(x0), t
            await select()
            before = set(vim_sessions(server))
            await pilot.press("c")
            await settle(pilot)
            if CLONE_DEST[t]:
                await type_into(pilot, "dest-ports", str(CLONE_DEST[t]))
            await review_and_create(pilot)
            after = vim_sessions(server)
            (new_key,) = set(after) - before
            clone = after[new_key]
            dest = copy.deepcopy(x2.destinationPort)
            if CLONE_DEST[t]:
                dest.portKey = [str(CLONE_DEST[t])]
            assert clone.name == f"{x0.name} tui (copy)"
            # A new session sends no empty port list (an empty list and none mean the same), so the
            # lab's empty <sourcePortTransmitted/> of the original is absent from the clone.
            empty = {n: None for n in PORT_LISTS if not _has_items(getattr(x2, n))}
            assert wire(clone, key=x2.key, name=x2.name, destinationPort=dest, **empty) == wire(
                x2, destinationPort=dest, **empty
            ), t
        app.backend.close()


def test_snapshot_saved_from_vcsim_keeps_every_field(
    server: VcsimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "saved.json"
    conn = ["--server", server.url, "--user", server.user, "--password", server.password]
    assert main(["snapshot", "save", str(out), *conn], environ={}) == 0, capsys.readouterr()
    saved = SnapshotBackend(out).load().switches[CLOUD]
    live = {k: session_from_vim(v) for k, v in vim_sessions(server).items()}
    assert {s.key: s for s in saved.sessions} == live
    for s in FULL.values():  # the other tests put every session back as it was, or changed only name/enabled
        got = live[str(s.key)]
        assert differences(got, s, ignore=("name", "enabled")) == {}


# -- unknown capability ---------------------------------------------------------------------------

ALL = tuple(t.value for t in SessionType)


def lab_with(capability: dict[str, Any]) -> dict[str, Any]:
    data = lab()
    cloud = next(s for s in data["switches"] if s["key"] == CLOUD)
    cloud["capability"] = capability
    return data


@pytest.mark.parametrize(
    ("capability", "expected"),
    [
        (  # featuresSupported not reported at all
            {"vspan": None, "sessionTypes": [], "unknownSessionTypes": list(ALL), "erspan": None},
            SwitchCapability.unknown(),
        ),
        (  # vspanCapability not reported
            {"vspan": True, "sessionTypes": [], "unknownSessionTypes": list(ALL), "erspan": None},
            SwitchCapability.unknown(True),
        ),
        (  # every session-type flag unset, ERSPAN reported
            {"vspan": True, "sessionTypes": [], "unknownSessionTypes": list(ALL), "erspan": False},
            SwitchCapability(vspan=True, session_types=(), unknown_types=ALL, erspan=False),
        ),
        (  # only erspanProtocolSupported unset
            {"vspan": True, "sessionTypes": [DPM, RMS, RMD, ERS, MIX], "erspan": None},
            SwitchCapability(erspan=None),
        ),
        (  # a type reported as unsupported stays unsupported
            {"vspan": True, "sessionTypes": [DPM, MIX], "erspan": True},
            SwitchCapability(session_types=(DPM, MIX)),
        ),
    ],
    ids=["no featuresSupported", "no vspanCapability", "no type flags", "no erspan flag", "reported"],
)
def test_unset_capability_reads_as_unknown(
    start_vcsim: Any, tmp_path: Path, capability: dict[str, Any], expected: SwitchCapability
) -> None:
    server = start_vcsim(lab_with(capability))
    backend = VsphereBackend(settings_for(server))
    try:
        cap = backend.load().switches[CLOUD].capability
    finally:
        backend.close()
    assert cap == expected
    # What vcsim sends, as pyVmomi reads it.
    from pyVmomi import vim

    si = server.connect()
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
    dvs = next(d for d in view.view if d.name == "dvSwitchCloud")
    features = dvs.capability.featuresSupported
    view.Destroy()
    if expected.vspan is None:
        assert features is None
    elif not expected.session_types and expected.erspan is None:
        assert features.vspanCapability is None
    else:
        assert features.vspanCapability.erspanProtocolSupported is expected.erspan


def test_one_unset_type_flag_reads_as_false_through_pyvmomi(start_vcsim: Any) -> None:
    """pyVmomi gives an unset *required* flag its default, False (VmomiSupport.DataObject.__init__),
    so a single missing session-type flag cannot be told from "not supported": dvmirror refuses
    that type as vCenter reported it (the limit of reading replies through pyVmomi)."""
    server = start_vcsim(
        lab_with({"vspan": True, "sessionTypes": [DPM, RMS, RMD, MIX], "unknownSessionTypes": [ERS], "erspan": True})
    )
    backend = VsphereBackend(settings_for(server))
    try:
        cap = backend.load().switches[CLOUD].capability
    finally:
        backend.close()
    assert cap.supports(ERS) is False and cap.supports(DPM) is True


def test_cli_creates_a_session_of_unknown_support(
    start_vcsim: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_vcsim(
        lab_with({"vspan": True, "sessionTypes": [], "unknownSessionTypes": list(ALL), "erspan": None})
    )
    code, result = cli(
        capsys,
        server,
        "session",
        "create",
        "--switch",
        "dvSwitchCloud",
        "--type",
        ERS,
        "--name",
        "to the collector",
        "--source",
        "448",
        "--dest-ip",
        "192.0.2.50",
        "--encap-type",
        "erspan2",
        "--erspan-id",
        "9",
    )
    assert code == 0, result
    codes = {(p["code"], p["field"]) for p in result["problems"]}
    assert {("CapabilityUnknown", "sessionType"), ("CapabilityUnknown", "encapType")} <= codes
    created = next(s for s in vim_sessions(server).values() if s.name == "to the collector")
    assert (created.sessionType, created.encapType, created.erspanId) == (ERS, "erspan2", 9)
    # A snapshot saved from that vCenter keeps "unknown".
    out = tmp_path / "unknown.json"
    conn = ["--server", server.url, "--user", server.user, "--password", server.password]
    assert main(["snapshot", "save", str(out), *conn], environ={}) == 0, capsys.readouterr()
    assert SnapshotBackend(out).load().switches[CLOUD].capability == SwitchCapability.unknown(True)


def test_an_edit_at_an_older_api_version_keeps_netstack(start_vcsim: Any) -> None:
    """pyVmomi drops properties newer than the negotiated version (vspan.md §1.8 pitfall 3): at 6.5
    an edit cannot carry netstack (6.7). vCenter merges an edit (§5.2), so the stored value stays."""
    from pyVmomi import SoapAdapter, vim

    from tui.backends import _convert
    from tui.model import ChangeOperation, SessionChange

    server = start_vcsim(lab())
    si = server.connect()
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
    dvs = next(d for d in view.view if d.name == "dvSwitchCloud")
    view.Destroy()
    s = FULL[ERS]
    current = _convert._switch_from_props(
        dvs._moId,
        {"uuid": CLOUD, "name": dvs.name, "config.configVersion": dvs.config.configVersion},
        "",
    )
    current = replace(current, sessions=(s,))
    spec = _convert._config_spec(current, [SessionChange(ChangeOperation.EDIT, renamed(s))])
    # Speak 6.5 from here on, as a session negotiated with an older vCenter would (vcsim lists
    # only 7.0.3, so pyVmomi cannot negotiate 6.5 itself); the request then has no <netstack>.
    si._stub.version = "vim.version.version11"
    assert b"netstack" not in SoapAdapter.Serialize(spec, version=si._stub.version)
    assert b"netstack" in SoapAdapter.Serialize(spec, version=VERSION)
    task = dvs.ReconfigureDvs_Task(spec)
    deadline = time.monotonic() + 30
    while task.info.state not in ("success", "error") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert task.info.state == "success", task.info.error
    after = session_from_vim(vim_sessions(server)[str(s.key)])
    assert after == renamed(s), differences(after, renamed(s))
