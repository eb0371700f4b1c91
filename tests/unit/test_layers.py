"""Layering (DESIGN.md §2): the pure modules import neither Textual nor pyVmomi, the demo
lab never loads pyVmomi, and the import-linter contracts in pyproject.toml hold."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def _modules_after(code: str) -> set[str]:
    script = code + "\nimport sys\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return {line.split(".")[0] for line in out.splitlines()}


def test_pure_modules_import_no_ui_or_vsphere() -> None:
    loaded = _modules_after(
        "import tui.model, tui.rules, tui.lookup, tui.config, tui.marks, tui.clipboard, tui.backends.snapshot, "
        "tui.describe, tui.sessionform, tui.outcome, tui.keymap, tui.setting_table, tui.configfile"
    )
    assert "textual" not in loaded
    assert "pyVmomi" not in loaded and "pyVim" not in loaded


def test_render_uses_rich_but_not_textual() -> None:
    loaded = _modules_after("import tui.render")
    assert "rich" in loaded
    assert "textual" not in loaded
    assert "pyVmomi" not in loaded and "pyVim" not in loaded


def test_import_contracts_hold() -> None:
    """`lint-imports` with the contracts of pyproject.toml, so README's test command checks them too."""
    run = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"]
        + ["--no-cache", "--no-logo"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_demo_cli_does_not_import_pyvmomi() -> None:
    loaded = _modules_after(
        "import io, contextlib\nfrom tui.__main__ import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    assert main(['find', '2258', '--demo', '--json']) == 0"
    )
    assert "pyVmomi" not in loaded and "textual" not in loaded


def test_demo_tui_does_not_import_pyvmomi() -> None:
    loaded = _modules_after(
        "import asyncio\nfrom tui.app import build_app\nfrom tui.backends.snapshot import SnapshotBackend\n"
        "async def go():\n"
        "    app = build_app(SnapshotBackend())\n"
        "    async with app.run_test() as pilot:\n"
        "        await app.workers.wait_for_complete()\n"
        "        await pilot.pause()\n"
        "        assert app.index is not None\n"
        "asyncio.run(go())"
    )
    assert "textual" in loaded
    assert "pyVmomi" not in loaded and "pyVim" not in loaded
