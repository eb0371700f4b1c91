"""The TUI against the vcsim test server: the same explorer as on the demo lab, the walkthrough
created through the wizard and read back with pyVmomi, vCenter's own refusals, and login."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from textual.widgets import Input

from tests.helpers import started
from tests.integration.test_vsphere_backend import settings_for
from tests.tui.conftest import loaded, settle
from tests.tui.test_explorer import plain
from tests.tui.wizard_helpers import fill_walkthrough, mark_walkthrough, review_and_create, tick, type_into, wizard
from tui.app import build_app
from tui.backends.vsphere import VsphereBackend
from tui.clipboard import osc52
from tui.screens.connect import PasswordScreen
from tui.screens.error import ErrorScreen
from tui.screens.explorer import ExplorerScreen
from widgets.inventory_tree import InventoryTree
from widgets.port_detail import PortDetail

pytestmark = pytest.mark.vcsim


def vim_sessions(server: Any) -> dict[str, Any]:
    """The sessions of dvSwitchCloud as vCenter stores them, read with pyVmomi."""
    from pyVmomi import vim

    si = server.connect()
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
    dvs = next(d for d in view.view if d.name == "dvSwitchCloud")
    return {s.name: s for s in dvs.config.vspanSession}


async def test_explorer_on_vcsim_finds_and_copies(vcsim: Any) -> None:
    app = build_app(VsphereBackend(settings_for(vcsim)), environ={})
    async with started(app) as pilot:
        screen = app.screen
        assert isinstance(screen, ExplorerScreen)
        assert app.inventory is not None and app.inventory.vcenter == "vcsa01.lab.local"
        tree = screen.query_one(InventoryTree)
        assert tree.cursor_node is not None and str(tree.cursor_node.label).startswith("dvSwitchCloud")
        await pilot.press("slash", *"MGTSRVR003UX/Network adapter 2", "enter")
        await settle(pilot)
        assert screen.current_port is not None and screen.current_port.key == "2258"
        text = plain(screen.query_one(PortDetail))
        assert "dvPgMirror" in text and "esx-03" in text
        written: list[str] = []
        assert app._driver is not None
        app._driver.write = written.append  # type: ignore[assignment]
        await pilot.press("y", "y")  # the copy chooser; y again copies the port ID
        assert app.clipboard == "2258" and osc52("2258") in written
        app.backend.close()


@pytest.mark.parametrize("form", ["legacy", "modern"])
async def test_walkthrough_through_the_wizard_reads_back(start_vcsim: Any, form: str) -> None:
    server = start_vcsim()
    app = build_app(VsphereBackend(settings_for(server)), environ={})
    async with started(app) as pilot:
        await mark_walkthrough(pilot)
        if form == "legacy":  # as the walkthrough's client made it
            await fill_walkthrough(pilot)
        else:  # Distributed Port Mirroring: both ports are on esx-03, no encapsulation needed
            await type_into(pilot, "name", "F5 DMZ to monitor")
            await tick(pilot, "length-on")
            await type_into(pilot, "length", "60")
            assert wizard(pilot).problems == []
        await review_and_create(pilot)
        assert isinstance(app.screen, ExplorerScreen), app.screen
        stored = vim_sessions(server)["F5 DMZ to monitor"]
        assert stored.sessionType == ("mixedDestMirror" if form == "legacy" else "dvPortMirror")
        assert list(stored.sourcePortReceived.portKey) == ["448"]
        assert list(stored.sourcePortTransmitted.portKey) == ["448"]
        assert list(stored.destinationPort.portKey) == ["2258"]
        assert stored.mirroredPacketLength == 60 and stored.enabled is True
        assert stored.encapsulationVlanId == (205 if form == "legacy" else None)
        # The app shows what vCenter stored (re-read), in the detail of both ports.
        assert "F5 DMZ to monitor  destination" in plain(app.screen.query_one(PortDetail))
        app.backend.close()


async def test_vcenter_refusal_is_shown(start_vcsim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A change that slips past our rules is refused by vCenter, and the app says why."""
    server = start_vcsim()
    backend = VsphereBackend(settings_for(server))
    monkeypatch.setattr(VsphereBackend, "_check_rules", staticmethod(lambda *_args: ()))
    app = build_app(backend, environ={})
    async with started(app) as pilot:
        await pilot.press("slash", *"449", "enter")
        await settle(pilot)
        await pilot.press("s", "slash", *"2241", "enter")  # DMZ-IDS's destination again
        await settle(pilot)
        await pilot.press("d", "m")
        await settle(pilot)
        w = wizard(pilot)
        w._update = lambda: None  # type: ignore[method-assign]  # bypass the wizard's checks as well
        from tui.model import ChangeOperation, SessionChange

        w.dismiss(SessionChange(ChangeOperation.ADD, w.built.session))
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        error = app.screen.error
        assert [p.code for p in error.problems] == ["VspanDestPortConflict"]  # type: ignore[attr-defined]
        assert error.exit_code == 4
        assert set(vim_sessions(server)) == {"DMZ-IDS", "RSPAN-Core"}  # nothing half-applied
        app.backend.close()


async def test_password_modal_then_wrong_password_retry(vcsim: Any) -> None:
    backend = VsphereBackend(replace(settings_for(vcsim), password=""))
    app = build_app(backend, environ={})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, PasswordScreen)
        await pilot.press(*"wrong", "enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen) and app.screen.error.title == "Login failed"
        assert "wrong" not in app.screen.error.message
        await pilot.click("#retry")
        await settle(pilot)
        assert isinstance(app.screen, PasswordScreen)
        app.screen.query_one(Input).value = ""
        await pilot.press(*vcsim.password, "enter")
        await app.workers.wait_for_complete()
        await loaded(pilot)
        assert isinstance(app.screen, ExplorerScreen) and len(app.inventory.switches) == 2  # type: ignore[union-attr]
        app.backend.close()


async def test_nothing_listening_offers_retry() -> None:
    from tui.config import Settings

    app = build_app(VsphereBackend(Settings(server="127.0.0.1", port=9, user="u", password="p")), environ={})
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert app.screen.error.exit_code == 3
        assert app.screen.query("#retry")
        await pilot.click("#close")
        await settle(pilot)
    assert app.return_code == 3


async def test_untrusted_certificate_modal(vcsim_tls: Any) -> None:
    server = vcsim_tls
    app = build_app(VsphereBackend(replace(settings_for(server), ca_file="")), environ={})
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        error = app.screen.error
        assert error.title == "Certificate not trusted" and server.thumbprint in error.hint
        app.export_screenshot()  # the hint renders (it holds "[...]"-free plain text)


async def test_server_stopped_during_the_load_offers_retry(start_vcsim: Any) -> None:
    from tests.labgen import scaled_lab

    server = start_vcsim(lab=scaled_lab(3000), delay=150)
    app = build_app(VsphereBackend(settings_for(server), page_size=500), environ={})
    async with app.run_test(size=(120, 40)) as pilot:
        while app.inventory is None:  # the tree shows (switches and portgroups) ...
            await pilot.pause(0.05)
        server.proc.kill()  # ... then vCenter goes away while VMs and ports are read
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        # Said as what it is (not "nothing is listening"), and the half-read tree is withdrawn.
        assert app.screen.error.title == "Load interrupted" and app.screen.query("#retry")
        assert "was interrupted" in app.screen.error.message
        assert "Traceback" not in app.screen.error.message
        assert app.inventory is None
        app.backend.close()


async def test_expired_session_is_renewed_on_refresh(start_vcsim: Any) -> None:
    import asyncio

    server = start_vcsim(session_idle=1)
    app = build_app(VsphereBackend(settings_for(server)), environ={})
    async with started(app) as pilot:
        await asyncio.sleep(2.5)  # vCenter forgets the idle session
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await loaded(pilot)
        assert isinstance(app.screen, ExplorerScreen) and len(app.inventory.ports) == 437  # type: ignore[union-attr]
        app.backend.close()
