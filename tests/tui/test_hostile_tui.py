"""Hostile names in the TUI (issue 7 §3): nothing from data reaches the terminal raw.

Each test drives the app over the hostile lab (tests/hostile.py: terminal control sequences at
the end of every name) to one screen and renders that screen as the driver would write it
(``LayoutUpdate.render_segments``: the very string sent to the terminal). Textual's own
sequences (SGR colours, cursor moves) are removed; what remains must hold no control, C1 or
bidi character, and the payloads must show as visible escapes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.hostile import RAW, RAW_ESC, hostile_data, name_of, session_name, write_hostile_lab
from tests.tui.conftest import loaded, settle
from tests.tui.wizard_helpers import mark_walkthrough
from tui.app import DvMirrorApp, build_app
from tui.backends.snapshot import SnapshotBackend
from tui.screens.error import ErrorScreen
from tui.screens.find import FindScreen
from tui.screens.sessions import SessionsScreen
from tui.screens.wizard import SessionWizard
from tui.text import visible

_OWN_SEQUENCES = re.compile(r"\x1b\[[0-9;]*[mH]")
"""What Textual itself writes: colours and styles (SGR) and cursor positioning (CUP)."""


def terminal_output(app: DvMirrorApp) -> str:
    """The bytes the driver would write for a full repaint of the current screen, with
    Textual's own escape sequences removed (and the check that segment texts are clean)."""
    update = app.screen._compositor.render_full_update()
    for line in update.strips:
        for strip in line:
            for segment in strip:
                found = RAW_ESC.findall(segment.text)
                assert not found, f"raw characters in a rendered cell: {found!r} in {segment.text!r}"
    return _OWN_SEQUENCES.sub("", update.render_segments(app.console))


def assert_clean(app: DvMirrorApp, *shown: str) -> str:
    out = terminal_output(app)
    found = RAW.findall(out)
    assert not found, f"raw control characters reached the terminal: {found[:5]!r}"
    for text in shown:
        assert text in out, f"{text!r} not on screen"
    return out


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    return write_hostile_lab(tmp_path / "hostile.json")


def hostile_app(lab: Path) -> DvMirrorApp:
    return build_app(SnapshotBackend(lab), environ={})


async def test_explorer_tree_table_detail_and_marks_bar(lab: Path) -> None:
    app = hostile_app(lab)
    async with app.run_test(size=(200, 50), notifications=True, tooltips=True) as pilot:
        await loaded(pilot)
        await settle(pilot)
        # The tree: vCenter, datacenter and switches with payloads in their names.
        assert_clean(app, "vcsa01.lab.local\\x1b]0;pwned\\x07")
        await pilot.press("slash", *"448", "enter")
        await settle(pilot)
        await pilot.press("s")
        await pilot.press("slash", *"2258", "enter")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        # The port table and the detail panel name the VM and its NIC; the marks bar the switch.
        data = hostile_data()
        vm, sw = name_of(data, "vms", "MGTSRVR003UX"), name_of(data, "switches", "dvSwitchCloud")
        nic = next(n["label"] for v in data["vms"] if v["name"] == vm for n in v["nics"] if n["port"] == "2258")
        assert_clean(app, visible(vm), visible(nic), f"{visible(sw)}  Sources 448", "Destinations 2258")


async def test_find_screen_results(lab: Path) -> None:
    app = hostile_app(lab)
    async with app.run_test(size=(160, 40), notifications=True, tooltips=True) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"F5")
        await settle(pilot)
        assert isinstance(app.screen, FindScreen)
        assert_clean(app, "F5-LTM01\\x9b31m")


async def test_sessions_screen_wizard_review_and_toast(lab: Path) -> None:
    data = hostile_data()
    dmz = session_name(data, "DMZ-IDS")
    app = hostile_app(lab)
    async with app.run_test(size=(200, 50), notifications=True, tooltips=True) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"448", "enter")
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
        assert_clean(app, "DMZ-IDS\\x00")
        await pilot.press("e")  # the first session: DMZ-IDS, its hostile name prefilled
        await settle(pilot)
        assert isinstance(app.screen, SessionWizard)
        assert app.screen.query_one("#name").value == dmz  # type: ignore[attr-defined]  # exact in the field
        out = assert_clean(app)
        assert "DMZ-IDS␀" in out  # the Input's stand-in: one cell per character
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert_clean(app, "DMZ-IDS\\x00")  # the review
        await pilot.press("enter")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        switch = next(iter(app.inventory.switches.values())) if app.inventory else None
        assert switch is not None
        assert dmz in {s.name for sw in app.inventory.switches.values() for s in sw.sessions}  # type: ignore[union-attr]
        for _ in range(100):  # until the toast is painted (or 100 rounds)
            if "Updated session 'DMZ-IDS\\x00'" in terminal_output(app):
                break
            await pilot.pause()
        assert_clean(app, "Updated session 'DMZ-IDS\\x00'")  # the toast


async def test_error_modal_with_a_hostile_message(tmp_path: Path) -> None:
    missing = tmp_path / "gone\x1b]0;pwned\x07\u202e.json"
    app = build_app(SnapshotBackend(missing), environ={})
    async with app.run_test(size=(120, 30), notifications=True, tooltips=True) as pilot:
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert_clean(app, "gone\\x1b]0;pwned\\x07\\u202e.json")


async def test_notifications_escape_what_they_are_given(lab: Path) -> None:
    app = hostile_app(lab)
    async with app.run_test(size=(120, 30), notifications=True, tooltips=True) as pilot:
        await loaded(pilot)
        app.notify("VM x\x1b]52;c;cHduZWQ=\x07 changed\r", title="t\x9b31m", markup=False)
        await settle(pilot)
        assert_clean(app, "x\\x1b]52;c;cHduZWQ=\\x07 changed\\r", "t\\x9b31m")


async def test_unicode_digits_in_names_load_and_sort(tmp_path: Path) -> None:
    import json

    data = hostile_data()
    for i, vm in enumerate(data["vms"]):
        vm["name"] = f"vm{'²①٣１'[i % 4]}{i}"
    data["switches"][0]["sessions"][0]["key"] = "²"
    path = tmp_path / "digits.json"
    path.write_text(json.dumps(data))
    app = build_app(SnapshotBackend(path), environ={})
    async with app.run_test(size=(120, 30), notifications=True, tooltips=True) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"448", "enter", "S")
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
        assert_clean(app, "²")


async def test_read_only_from_the_environment_holds_in_the_tui(tmp_path: Path) -> None:
    from textual.widgets import Label

    from tui.__main__ import build_parser, make_backend

    cfg = tmp_path / "config.toml"
    cfg.write_text('default_profile = "prod"\n[profiles.prod]\nurl = "vc.example"\nread_only = true\n')
    for env, source in (({"DVMIRROR_READ_ONLY": "yes"}, "DVMIRROR_READ_ONLY"), ({"DVMIRROR_CONFIG": str(cfg)}, "prod")):
        args = build_parser().parse_args(["--demo"])
        backend = make_backend(args, env, interactive=False, tui=True)
        app = build_app(backend, environ={})
        async with app.run_test(size=(120, 30)) as pilot:
            await loaded(pilot)
            assert app.read_only and source in app.read_only_hint
            header = app.screen.query_one("#header-right", Label)
            assert "read-only" in str(header.render()) and source in str(header.tooltip)
            await mark_walkthrough(pilot)
            assert not isinstance(app.screen, SessionWizard)  # no wizard in read-only mode
