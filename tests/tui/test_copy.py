"""Copy (issue 9, item 9): ``y`` offers what to copy with the port ID as the default, and inside
tmux the notice says what tmux does with OSC 52, as a real tmux server reports it (a private
one, on its own socket; the test never touches the user's)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import OptionList

from tests.helpers import started
from tests.tui.conftest import settle
from tui.app import DvMirrorApp, build_app
from tui.backends.snapshot import SnapshotBackend
from tui.clipboard import TMUX_FIX, copy_choices, osc52, tmux_clipboard
from tui.model import Inventory
from tui.screens.copy import CopyScreen

SIZES = [(80, 24), (120, 40)]


def app_with(environ: dict[str, str]) -> DvMirrorApp:
    return build_app(SnapshotBackend(), environ=environ)


def recording(app: DvMirrorApp) -> list[str]:
    """What the app writes to the terminal from now on."""
    written: list[str] = []
    assert app._driver is not None
    original = app._driver.write

    def write(data: str) -> None:
        written.append(data)
        original(data)

    app._driver.write = write  # type: ignore[method-assign]
    return written


def notices(app: DvMirrorApp) -> list[tuple[str, str, str]]:
    return [(n.title, n.severity, str(n.message)) for n in app._notifications]


# -- the chooser -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    ("keys", "copied"),
    [
        (("y",), "448"),
        (("enter",), "448"),
        (("m",), "00:50:56:9a:1b:2c"),
        (("i",), "10.20.4.10"),
        (("v",), "F5-LTM01"),
        (("n",), "F5-LTM01/Network adapter 2"),
        (("j", "j", "k", "enter"), "00:50:56:9a:1b:2c"),
        (("down", "down", "down", "enter"), "F5-LTM01"),
    ],
    ids=["y-again", "enter", "mac", "ip", "vm", "vm-nic", "j-k", "arrows"],
)
async def test_y_offers_what_to_copy_port_id_first(size: tuple[int, int], keys: tuple[str, ...], copied: str) -> None:
    app = app_with({})
    async with started(app, size=size) as pilot:
        written = recording(app)
        await pilot.press("slash", *"448", "enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        chooser = app.screen
        assert isinstance(chooser, CopyScreen)
        options = chooser.query_one(OptionList)
        lines = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert [line.split()[0] for line in lines] == ["y", "m", "i", "v", "n"]
        assert "Port ID" in lines[0] and lines[0].endswith("448") and options.highlighted == 0
        box = chooser.query_one("#copy-box")
        assert box.region.right <= size[0] and box.region.bottom <= size[1]  # the whole chooser in view
        assert app.clipboard != copied
        await pilot.press(*keys)
        await settle(pilot)
        assert not isinstance(app.screen, CopyScreen)
        assert app.clipboard == copied and osc52(copied) in written
        assert any(title == "Copied" and copied in message for title, _, message in notices(app))


async def test_escape_copies_nothing() -> None:
    app = app_with({})
    async with started(app) as pilot:
        written = recording(app)
        await pilot.press("slash", *"448", "enter")
        await settle(pilot)
        await pilot.press("y", "escape")
        await settle(pilot)
        assert not isinstance(app.screen, CopyScreen)
        assert not any(w.startswith("\x1b]52;") for w in written) and app.last_copy is None


def test_choices_of_a_port_without_vm(demo: Inventory) -> None:
    free = next(p for p in demo.ports.values() if p.connectee is None and not p.mac)
    assert [(c.key, c.label, c.text) for c in copy_choices(demo, free)] == [("y", "Port ID", free.key)]
    kdc = next(p for p in demo.ports.values() if (vn := demo.vm_nic(p)) and vn[0].name == "KDC02")
    ips = [c for c in copy_choices(demo, kdc) if c.label == "IP"]
    assert [(c.key, c.text) for c in ips] == [("i", "172.24.4.11"), ("", "fe80::250:56ff:fe9a:1")]


# -- tmux: what the notice says is what tmux reports ------------------------------------------


@pytest.fixture
def tmux_server(tmp_path: Path) -> Iterator[tuple[Path, str, dict[str, str]]]:
    """A private tmux server (its own socket, no config): ``(socket, pane, environ inside it)``."""
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is not installed (CI is set, so this is an error, not a skip)", pytrace=False)
        pytest.skip("tmux is not installed")
    sock = tmp_path / "tmux.sock"
    base = ["tmux", "-S", str(sock), "-f", os.devnull]
    subprocess.run([*base, "new-session", "-d", "-s", "copytest", "sleep 600"], check=True, timeout=10)
    try:
        pane = subprocess.run(
            [*base, "display", "-p", "-t", "copytest", "#{pane_id}"], capture_output=True, text=True, check=True
        ).stdout.strip()
        pid = subprocess.run(
            [*base, "display", "-p", "#{pid}"], capture_output=True, text=True, check=True
        ).stdout.strip()
        yield sock, pane, {"TMUX": f"{sock},{pid},0", "TMUX_PANE": pane}
    finally:
        subprocess.run([*base, "kill-server"], check=False, timeout=10)


def tmux_set(sock: Path, *args: str) -> None:
    subprocess.run(["tmux", "-S", str(sock), "set", *args], check=True, timeout=10)


def test_tmux_options_as_tmux_reports_them(tmux_server: tuple[Path, str, dict[str, str]]) -> None:
    sock, pane, environ = tmux_server
    state = tmux_clipboard(environ)
    assert state is not None and state.error == "" and state.set_clipboard == "external"  # tmux's default
    assert state.passthrough is False and state.gets_through is False
    assert TMUX_FIX in state.describe() and "keeps it from your terminal" in state.describe()
    tmux_set(sock, "-p", "-t", pane, "allow-passthrough", "on")  # this pane only
    state = tmux_clipboard(environ)
    assert state is not None and state.passthrough and state.gets_through
    assert "passthrough (allow-passthrough on)" in state.describe() and TMUX_FIX not in state.describe()
    tmux_set(sock, "-g", "set-clipboard", "on")
    state = tmux_clipboard(environ)
    assert state is not None and state.forwards and "forwards it" in state.describe()


def test_outside_tmux_nothing_is_asked() -> None:
    assert tmux_clipboard({}) is None
    assert tmux_clipboard({"TMUX": ""}) is None


def test_a_tmux_that_cannot_be_asked_is_said_so(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    state = tmux_clipboard({"TMUX": f"{tmp_path / 'no-such-server'},1,0"})
    assert state is not None and state.error and state.gets_through is None
    assert "could not be asked" in state.describe() and TMUX_FIX in state.describe()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_copy_notice_in_tmux_tells_the_truth(
    tmux_server: tuple[Path, str, dict[str, str]], size: tuple[int, int]
) -> None:
    sock, _, environ = tmux_server
    app = app_with(environ)
    async with started(app, size=size) as pilot:
        written = recording(app)
        await pilot.press("slash", *"448", "enter")
        await settle(pilot)
        await pilot.press("y", "y")
        await settle(pilot)
        title, severity, message = notices(app)[-1]
        assert (title, severity) == ("Not copied", "warning")
        assert "tmux keeps it from your terminal (set-clipboard external" in message and TMUX_FIX in message
        assert osc52("448") in written  # sent all the same: the fix makes the next copy arrive
        tmux_set(sock, "-g", "set-clipboard", "on")
        await pilot.press("y", "m")
        await settle(pilot)
        title, severity, message = notices(app)[-1]
        assert title == "Copied" and severity == "information"
        assert message.startswith("MAC 00:50:56:9a:1b:2c sent by OSC 52") and "tmux forwards it" in message
        assert TMUX_FIX not in message
