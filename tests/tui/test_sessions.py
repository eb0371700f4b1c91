"""Pilot tests of mirror sessions on the demo lab: the walkthrough through the wizard, problems
beside fields, the sessions screen (enable/disable, edit, clone, delete), stale switches."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Button, DataTable, Static

from tests.conftest import CLOUD
from tests.helpers import notifications, started
from tests.tui.conftest import demo_app, loaded, settle
from tests.tui.test_explorer import plain
from tests.tui.wizard_helpers import (
    choose_type,
    fill_walkthrough,
    mark_walkthrough,
    review_and_create,
    tick,
    type_into,
    wizard,
)
from tui.backends.snapshot import SnapshotBackend
from tui.model import ChangeOperation, MirrorSession, SessionChange, VspanPorts
from tui.screens.confirm import ConfirmScreen
from tui.screens.error import ErrorScreen
from tui.screens.explorer import ExplorerScreen
from tui.screens.sessions import ConfirmDeleteScreen, SessionsScreen
from tui.screens.verify import VerifyOfferScreen
from widgets.port_detail import PortDetail


def text_of(screen, selector: str) -> str:  # type: ignore[no-untyped-def]
    widget = screen.query_one(selector, Static)
    return str(widget.render())


async def test_walkthrough_legacy_form() -> None:
    """The walkthrough as its client made it: legacy type, VLAN 205, 60-byte packets."""
    app = demo_app()
    async with started(app) as pilot:
        await mark_walkthrough(pilot)
        w = wizard(pilot)
        assert w.form.sources == "448" and w.form.dest_ports == "2258"
        await fill_walkthrough(pilot)
        assert [p.code for p in w.problems] == ["MixedDestDeprecated"]
        await review_and_create(pilot)
        assert isinstance(app.screen, ExplorerScreen)
        switch = app.inventory.switches[CLOUD]  # type: ignore[union-attr]
        created = next(s for s in switch.sessions if s.name == "F5 DMZ to monitor")
        api = created.to_api()
        assert api["sessionType"] == "mixedDestMirror"
        assert api["sourcePortReceived"]["portKey"] == ["448"] and api["sourcePortTransmitted"]["portKey"] == ["448"]
        assert api["destinationPort"]["portKey"] == ["2258"]
        assert api["encapsulationVlanId"] == 205 and api["mirroredPacketLength"] == 60 and api["enabled"] is True
        assert api["samplingRate"] is None  # the legacy type cannot carry it
        assert [s.key for s in switch.sessions] == ["1", "2", created.key]
        screen = app.screen
        assert isinstance(screen, ExplorerScreen) and not screen.marks  # marks used up
        # Both ports list the session, with their role.
        assert "F5 DMZ to monitor  destination" in plain(screen.query_one(PortDetail))
        await pilot.press("slash", *"448", "enter")
        await settle(pilot)
        assert "F5 DMZ to monitor  source (ingress+egress)" in plain(screen.query_one(PortDetail))
        # It shows in the sessions screen.
        await pilot.press("S")
        await settle(pilot)
        sessions = app.screen
        assert isinstance(sessions, SessionsScreen)
        assert [s.name for s in sessions.sessions] == ["DMZ-IDS", "RSPAN-Core", "F5 DMZ to monitor"]


async def test_walkthrough_modern_form_explains() -> None:
    app = demo_app()
    async with started(app) as pilot:
        await mark_walkthrough(pilot)
        w = wizard(pilot)
        assert w.form.session_type.value == "dvPortMirror"
        await tick(pilot, "length-on")
        await type_into(pilot, "length", "60")
        notes = text_of(w, "#notes")
        assert "share host esx-03" in notes
        assert "Encapsulation does not apply to Distributed Port Mirroring" in notes
        assert not w.query_one("#row-encap").display  # the field does not apply, so it is hidden
        assert w.problems == []
        await review_and_create(pilot)
        created = app.inventory.switches[CLOUD].sessions[-1]  # type: ignore[union-attr]
        assert (created.session_type, created.mirrored_packet_length, created.enabled) == ("dvPortMirror", 60, True)
        assert created.source_rx.port_keys == ("448",) and created.destination.port_keys == ("2258",)


async def test_problem_beside_field_blocks_create() -> None:
    app = demo_app()
    async with started(app) as pilot:
        await mark_walkthrough(pilot)
        w = wizard(pilot)
        await tick(pilot, "length-on")
        await type_into(pilot, "length", "59")
        problem = text_of(w, "#problem-length")
        assert w.query_one("#problem-length").display and "InvalidArgument" in problem and "60" in problem
        await type_into(pilot, "dest-ports", "2241")  # DMZ-IDS's destination
        assert "VspanDestPortConflict" in text_of(w, "#problem-dest")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert w.query_one("#apply", Button).disabled
        await pilot.press("escape")  # back to the form
        await settle(pilot)
        await type_into(pilot, "dest-ports", "nosuchvm")
        problem = text_of(w, "#problem-dest")
        assert "NotFound" in problem and "'nosuchvm' is not a port ID" in problem
        await pilot.press("escape")  # cancel: the form changed, so it asks first (issue 9)
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")  # Discard: nothing sent
        await settle(pilot)
        assert isinstance(app.screen, ExplorerScreen)
        assert len(app.inventory.switches[CLOUD].sessions) == 2  # type: ignore[union-attr]


async def test_every_type_shows_its_own_fields() -> None:
    app = demo_app()
    async with started(app) as pilot:
        await mark_walkthrough(pilot)
        w = wizard(pilot)
        expected = {
            "dvPortMirror": {"#row-sources", "#row-dest-ports"},
            "remoteMirrorSource": {"#row-sources", "#row-dest-uplinks", "#row-encap"},
            "remoteMirrorDest": {"#row-source-vlans", "#row-dest-ports"},
            "encapsulatedRemoteMirrorSource": {"#row-sources", "#row-dest-ips", "#row-erspan"},
            "mixedDestMirror": {"#row-sources", "#row-dest-ports", "#row-dest-uplinks", "#row-encap"},
        }
        rows = {"#row-sources", "#row-source-vlans", "#row-dest-ports", "#row-dest-uplinks", "#row-dest-ips"}
        rows |= {"#row-encap", "#row-erspan"}
        for api_name, shown in expected.items():
            await choose_type(pilot, api_name)
            visible = {r for r in rows if w.query_one(r).display}
            assert visible == shown, api_name
        # RSPAN source needs an encapsulation VLAN: said beside the field.
        await choose_type(pilot, "remoteMirrorSource")
        assert "encapsulation" in text_of(w, "#problem-encap").lower()


async def test_sessions_screen_toggle_edit_clone_delete() -> None:
    app = demo_app()
    async with started(app) as pilot:
        await pilot.press("S")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        table = screen.query_one("#sessions-table", DataTable)
        assert table.row_count == 2
        before = app.inventory.switches[CLOUD]  # type: ignore[union-attr]
        # Disable DMZ-IDS: an edit that keeps every other field.
        await pilot.press("space")
        await app.workers.wait_for_complete()
        await settle(pilot)
        after = app.inventory.switches[CLOUD]  # type: ignore[union-attr]
        before_1 = before.session("1")
        assert before_1 is not None
        assert after.session("1") == replace(before_1, enabled=False)
        assert after.session("2") == before.session("2")
        # Edit: rename, nothing else changes.
        await pilot.press("e")
        await settle(pilot)
        await type_into(pilot, "name", "DMZ-IDS-2")
        await review_and_create(pilot)
        edited = app.inventory.switches[CLOUD].session("1")  # type: ignore[union-attr]
        assert edited == replace(before_1, enabled=False, name="DMZ-IDS-2")
        # Clone: a new session that must get a new destination (one session per destination).
        await pilot.press("c")
        await settle(pilot)
        w = wizard(pilot)
        assert "VspanDestPortConflict" in text_of(w, "#problem-dest")
        await type_into(pilot, "dest-ports", "IDS-SENSOR02")
        await review_and_create(pilot)
        names = [s.name for s in app.inventory.switches[CLOUD].sessions]  # type: ignore[union-attr]
        assert names == ["DMZ-IDS-2", "RSPAN-Core", "DMZ-IDS-2 (copy)"]
        # Delete RSPAN-Core: the name must be typed.
        assert isinstance(app.screen, SessionsScreen)
        await pilot.press("down")
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDeleteScreen)
        await pilot.press(*"RSPAN", "enter")  # not the whole name: refused
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDeleteScreen)
        await pilot.press(*"-Core", "enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
        keys = [s.key for s in app.inventory.switches[CLOUD].sessions]  # type: ignore[union-attr]
        assert keys == ["1", "3"]


async def test_read_only_hides_and_refuses() -> None:
    app = demo_app(read_only=True)
    async with started(app) as pilot:
        await pilot.press("slash", *"448", "enter", "s", "m")
        await settle(pilot)
        assert isinstance(app.screen, ExplorerScreen)  # no wizard in read-only mode
        await pilot.press("S")
        await settle(pilot)
        await pilot.press("space", "D", "n")
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
        assert not app.screen.active_bindings.get("n")
        assert [s.enabled for s in app.inventory.switches[CLOUD].sessions] == [True, False]  # type: ignore[union-attr]
        # The backend refuses too, whatever the UI does.
        app.apply_changes(CLOUD, [SessionChange(ChangeOperation.REMOVE, MirrorSession(key="1"))])
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen) and "read-only" in app.screen.error.message
        assert len(app.inventory.switches[CLOUD].sessions) == 2  # type: ignore[union-attr]


async def test_racing_change_is_caught_and_reread() -> None:
    """Someone else changes the switch after we loaded it: nothing is resent blindly."""
    backend = SnapshotBackend()
    from tui.app import build_app

    app = build_app(backend, environ={})
    async with started(app) as pilot:
        seen = app.inventory
        assert seen is not None
        # The other operator adds a session directly.
        other = MirrorSession(name="other", source_rx=VspanPorts(port_keys=("104",)), destination=VspanPorts(("2259",)))
        backend.apply(seen, CLOUD, [SessionChange(ChangeOperation.ADD, other)])
        await pilot.press("S", "space")  # disable DMZ-IDS from our stale view
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert "ConcurrentAccess" in [p.code for p in app.screen.error.problems]  # type: ignore[attr-defined]
        await pilot.press("escape")
        await settle(pilot)
        switch = app.inventory.switches[CLOUD]  # type: ignore[union-attr]
        assert [s.name for s in switch.sessions] == ["DMZ-IDS", "RSPAN-Core", "other"]  # re-read, shown
        assert switch.session("1").enabled is True  # type: ignore[union-attr]  # our change was not sent


async def test_hostile_session_name_everywhere() -> None:
    """A session called "[/x] vm[prod]" shows literally in the wizard, the toast and the sessions screen."""
    app = demo_app()
    notes = notifications(app)
    async with started(app) as pilot:
        await mark_walkthrough(pilot)
        await type_into(pilot, "name", "[/x] vm[prod]")
        await review_and_create(pilot)
        app.export_screenshot()  # the toast renders
        assert any("[/x] vm[prod]" in n for n in notes)
        await pilot.press("S", "end")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        table = screen.query_one("#sessions-table", DataTable)
        assert "[/x] vm[prod]" in [table.get_row_at(i)[1].plain for i in range(table.row_count)]
        app.export_screenshot()
        await pilot.press("e")
        await settle(pilot)
        assert wizard(pilot).query_one("#wizard").border_title is not None
        app.export_screenshot()


async def test_hostile_uplink_names_and_a_vanished_switch(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Uplink names are vCenter text too; a change to a switch that is gone is refused with a message."""
    from tests import labgen
    from tui.app import build_app

    lab = labgen.demo_lab()
    lab["switches"][0]["uplinkNames"] = ["[/x]", "up[link]"]
    path = tmp_path / "lab.json"
    labgen.write(lab, path)
    app = build_app(SnapshotBackend(path), environ={})
    async with started(app) as pilot:
        await mark_walkthrough(pilot)
        await choose_type(pilot, "mixedDestMirror")
        app.export_screenshot()  # the uplink list renders "[/x]" literally
        await pilot.press("escape")
        await settle(pilot)
        app.apply_changes("no-such-switch", [SessionChange(ChangeOperation.REMOVE, MirrorSession(key="1"))])
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert [p.code for p in app.screen.error.problems] == ["NotFound"]  # type: ignore[attr-defined]


async def test_selection_survives_an_inventory_without_it() -> None:
    """A refresh (or vCenter's partial inventory) may lack the selected VM: nothing crashes."""
    app = demo_app()
    async with started(app) as pilot:
        await pilot.press("slash", *"448", "enter", "up")  # the F5-LTM01 VM node
        await settle(pilot)
        inv = app.inventory
        assert inv is not None
        app.inventory = replace(inv, vms={}, nic_by_port={})
        await settle(pilot)
        assert isinstance(app.screen, ExplorerScreen)
        app.inventory = inv
        await settle(pilot)
        assert app.screen.query_one(DataTable).row_count > 0


async def test_walkthrough_by_keyboard_alone_at_80x24() -> None:
    """No mouse, no focus tricks: only the keys an operator types in a small SSH window."""
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await mark_walkthrough(pilot)  # / 448 enter s / 2258 enter d m
        keys = [
            *["down"] * 4,  # the type list starts on Distributed Port Mirroring; the legacy type is 5th
            "enter",
            "tab",  # name
            *"F5 DMZ to monitor",
            *["tab"] * 7,  # enabled, description, expires after, sources, destinations, uplinks, encapsulation
            "space",
            "tab",  # encapsulation VLAN
            *"205",
            "tab",  # preserve original VLAN
            "tab",  # packet length
            "space",
            "tab",  # bytes
            *"60",
            "ctrl+r",
            "enter",  # Create has the focus in the review
        ]
        for key in keys:
            await pilot.press(key)
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, VerifyOfferScreen)  # verify it now? esc: not now
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ExplorerScreen)
        created = app.inventory.switches[CLOUD].sessions[-1]  # type: ignore[union-attr]
        assert (created.name, created.session_type) == ("F5 DMZ to monitor", "mixedDestMirror")
        assert (created.encapsulation_vlan_id, created.mirrored_packet_length) == (205, 60)
        assert created.source_rx.port_keys == created.source_tx.port_keys == ("448",)
        assert created.destination.port_keys == ("2258",)
