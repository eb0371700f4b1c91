"""Render the README's SVG screenshots from the demo lab.

    python screenshots/make.py            # writes screenshots/*.svg
    python screenshots/make.py --out DIR  # somewhere else

Each scene drives the real app headlessly with key presses, like a user would.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from textual.widgets import Input  # noqa: E402

from tests.helpers import SteppedClock  # noqa: E402
from tui.app import build_app  # noqa: E402
from tui.backends.snapshot import SnapshotBackend  # noqa: E402

MARKED = ("slash", *"448", "enter", "s", "slash", *"2258", "enter", "d")

# name: (terminal size, keys); "@walkthrough" fills the wizard as the walkthrough did, "@host" puts the
# cursor in the review's host of interest (the keys after it type there), "@rates" reads the watched
# port (``t``) again a second later, so that the panel shows rates, "@clock" makes the demo lab's
# counters move 2 s per reading (a verify's numbers are the same on every run). After Create, "enter"
# takes the offer to verify the new session and "escape" declines it.
SCENES: dict[str, tuple[tuple[int, int], Sequence[str]]] = {
    "explorer": ((120, 40), ("slash", *"448", "enter")),
    "find": ((120, 40), ("slash", *"172.24")),
    "marks": ((120, 40), MARKED),
    "help": ((120, 40), ("question_mark",)),
    "explorer-80x24": ((80, 24), ("slash", *"2258", "enter")),
    "traffic": ((120, 40), (*MARKED, "m", "@walkthrough", "ctrl+r", "enter", "escape", "t", "@rates")),
    "wizard": ((120, 40), (*MARKED, "m", "@walkthrough")),
    "review": ((120, 40), (*MARKED, "m", "@walkthrough", "ctrl+r")),
    "capture": ((120, 40), (*MARKED, "m", "@walkthrough", "ctrl+r", "@host", *"KRBCLIENT01")),
    "sessions": ((120, 40), (*MARKED, "m", "@walkthrough", "ctrl+r", "enter", "escape", "S", "down", "down")),
    "verify": ((120, 40), (*MARKED, "m", "@walkthrough", "@clock", "ctrl+r", "enter", "enter")),
    "monitor": ((120, 40), ("slash", *"2258", "enter", "P", "ctrl+r")),
    "monitor-done": ((120, 40), ("slash", *"2258", "enter", "P", "ctrl+r", "enter")),
    "verify-disabled": (
        (120, 40),
        (*MARKED, "m", "@walkthrough", "@clock", "ctrl+r", "enter", "escape", "S", "down", "down", "space", "v"),
    ),
}


WALKTHROUGH_LAB = {"monitor", "monitor-done"}
"""Scenes on ``dvmirror --walkthrough``: the demo lab before dvPgMirror exists."""


async def render(name: str, size: tuple[int, int], keys: Sequence[str], out: Path) -> Path:
    """Run one scene and save its SVG."""
    app = build_app(SnapshotBackend(lab="walkthrough" if name in WALKTHROUGH_LAB else ""), environ={})
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        for key in keys:
            if key == "@walkthrough":
                from tests.tui.wizard_helpers import fill_walkthrough

                await fill_walkthrough(pilot)
            elif key == "@host":
                app.screen.query_one("#capture-host", Input).focus()
            elif key == "@rates":
                await pilot.pause(1.0)
                app.screen.refresh_live()  # type: ignore[attr-defined]
            elif key == "@clock":
                assert isinstance(app.backend, SnapshotBackend)
                app.backend.clock = SteppedClock()
            else:
                await pilot.press(key)
            await pilot.pause(0.05)
            await app.workers.wait_for_complete()
        for _ in range(3):
            await pilot.pause()
        app.clear_notifications()
        for screen in app.screen_stack:  # the toasts of the change, on the screen under a modal too
            for rack in screen.query("ToastRack"):
                rack.remove_children()
        await pilot.pause()
        for widget in app.screen.query(Input):
            widget.cursor_blink = False
        await pilot.pause()
        return Path(app.save_screenshot(f"{name}.svg", str(out)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("scenes", nargs="*", default=list(SCENES), help="which scenes (default: all)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.scenes:
        size, keys = SCENES[name]
        print(asyncio.run(render(name, size, keys, args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
