"""Layering (DESIGN.md §2): the pure modules import neither Textual nor pyVmomi, the demo
lab never loads pyVmomi, screens and widgets never import the app, no import cycle, and the
import-linter contracts in pyproject.toml hold."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def _modules_after(code: str) -> set[str]:
    script = code + "\nimport sys\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return {line.split(".")[0] for line in out.splitlines()}


def test_pure_modules_import_no_ui_or_vsphere() -> None:
    loaded = _modules_after(
        "import tui.model, tui.rules, tui.lookup, tui.config, tui.marks, tui.clipboard, tui.backends.snapshot, "
        "tui.describe, tui.sessionform, tui.outcome, tui.keymap, tui.setting_table, tui.configfile, "
        "tui.session_types, tui.mirror_session, tui.problem, tui.inventory_objects, tui.inventory, "
        "tui.rules_base, tui.rules_errors, tui.rules_warnings, tui.live_traffic"
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


def _modules(*packages: str) -> dict[str, Path]:
    """Every module of ``packages`` (dotted name → file), read from the source tree."""
    found: dict[str, Path] = {}
    for package in packages:
        root = REPO / package.replace(".", "/")
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(path: Path, name: str, *, top_level_only: bool) -> set[str]:
    """The modules ``path`` imports (relative imports resolved; ``if TYPE_CHECKING:`` blocks left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for orelse in child.orelse:
                    visit(ast.Module(body=[orelse], type_ignores=[]), top)
                continue
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import) and (inner or not top_level_only):
                found.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom) and (inner or not top_level_only):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                found.add(base)
                found.update(f"{base}.{a.name}" for a in child.names)
            visit(child, inner)

    visit(tree, True)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of ``graph`` (empty when there is none)."""
    state: dict[str, int] = {}
    path: list[str] = []

    def walk(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        state[node] = 2
        path.pop()
        return []

    for node in sorted(graph):
        if node not in state and (found := walk(node)):
            return found
    return []


OWN = _modules("tui", "widgets")


def test_screens_and_widgets_never_import_the_app() -> None:
    """Messages up, reactives down (tui/messages.py): nothing below the app reaches for it,
    not even inside a function or for typing."""
    below = {n: p for n, p in OWN.items() if n.startswith(("tui.screens", "widgets")) or n == "tui.commands"}
    below["tui.messages"] = OWN["tui.messages"]
    assert len(below) >= 12, sorted(below)
    for name, path in below.items():
        source = path.read_text(encoding="utf-8")
        assert "tui.app" not in _imports(path, name, top_level_only=False), name
        assert "from tui import app" not in source and "import tui.app" not in source, name
    for name in below:
        if name.startswith("widgets"):
            assert not {i for i in _imports(OWN[name], name, top_level_only=False) if i.startswith("tui.screens")}, name


def test_no_import_cycle_at_load_or_at_run_time() -> None:
    """Neither module-level imports nor the imports inside functions form a cycle."""
    for top_level_only in (True, False):
        graph = {n: _imports(p, n, top_level_only=top_level_only) & OWN.keys() - {n} for n, p in OWN.items()}
        assert _cycle(graph) == [], f"import cycle ({'load' if top_level_only else 'run'} time)"


def test_every_module_imports_in_a_fresh_interpreter_without_the_app() -> None:
    """Each screen, widget, the palette provider and the messages load on their own, and none pulls in the app."""
    below = sorted(n for n in OWN if n.startswith(("tui.screens", "widgets")) or n in ("tui.commands", "tui.messages"))
    script = (
        "import importlib, sys\n"
        f"for name in {below!r}:\n"
        "    importlib.import_module(name)\n"
        "assert 'tui.app' not in sys.modules, 'a screen or widget imported tui.app'\n"
        f"for name in {sorted(OWN)!r}:\n"
        "    importlib.import_module(name)\n"
        "print('\\n'.join(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert set(OWN) <= set(out.stdout.splitlines())
