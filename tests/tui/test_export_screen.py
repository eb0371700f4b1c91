"""The export view (``x`` in the sessions screen) on the demo lab: every format's text as the CLI
writes it, tab between them, ``s`` saves a new file each time (never overwriting), ``y`` copies."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from tests.helpers import notifications, started
from tests.tui.conftest import demo_app, settle
from tui import export
from tui.app import DvMirrorApp
from tui.export import Format
from tui.screens.export import ExportScreen, file_name
from tui.screens.sessions import SessionsScreen


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
async def test_x_shows_each_format_and_saves_without_overwriting(
    size: tuple[int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = demo_app()
    said = notifications(app)
    async with started(app, size) as pilot:
        assert isinstance(app, DvMirrorApp) and app.inventory is not None
        await pilot.press("S")
        await settle(pilot)
        sessions = app.screen
        assert isinstance(sessions, SessionsScreen) and sessions.current is not None
        session = sessions.current
        switch = app.inventory.switches[sessions.switch_key]
        await pilot.press("x")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        for fmt in Format:  # tab walks the formats in order
            assert screen.format is fmt
            expected = export.export(app.inventory, switch, session, fmt)
            shown = str(screen.query_one("#export-text", Static).render())
            assert shown.splitlines()[:3] == expected.text.splitlines()[:3]
            assert screen.query_one("#export-note", Static).display == bool(expected.limits)
            await pilot.press("tab")
            await settle(pilot)
        assert screen.format is Format.ANSIBLE  # round again
        await pilot.press("shift+tab")
        await settle(pilot)
        assert screen.format is Format.JSON
        await pilot.press("s", "s")
        await settle(pilot)
        first = tmp_path / file_name(session, Format.JSON)
        second = first.with_name(first.stem + "-2.json")
        text = export.export(app.inventory, switch, session, Format.JSON).text
        assert first.read_text(encoding="utf-8") == text and second.read_text(encoding="utf-8") == text
        assert any(f"Saved {first}" in n for n in said) and any(f"Saved {second}" in n for n in said)
        await pilot.press("y")
        await settle(pilot)
        assert any("JSON export" in n for n in said)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is sessions


def test_file_names_keep_only_safe_characters() -> None:
    from tui.model import MirrorSession

    assert file_name(MirrorSession(name="vm[prod] /../x\n"), Format.PYVMOMI) == "dvmirror-vm-prod-x.py"
    assert file_name(MirrorSession(key="7", name="[/]"), Format.ANSIBLE) == "dvmirror-session-7.yml"
    assert file_name(MirrorSession(key="../x/7", name=""), Format.JSON) == "dvmirror-session-x-7.json"
