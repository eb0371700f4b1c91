"""Binding ids: one ``<screen>.<action>`` scheme, the old ids as aliases, unknown ids reported."""

from __future__ import annotations

import re

import pytest
from textual.binding import Binding

from tui.keymap import RENAMED, resolve_keymap

KNOWN = {"app.quit", "explorer.find", "help.close", "find.close", "error.close", "sessions.new"}


def _owners() -> list[type]:
    import importlib
    import pkgutil

    from textual.screen import Screen

    import tui.screens
    from tui.app import DvMirrorApp

    owners: list[type] = [DvMirrorApp]
    for info in pkgutil.iter_modules(tui.screens.__path__):
        module = importlib.import_module(f"tui.screens.{info.name}")
        owners += [c for c in vars(module).values() if isinstance(c, type) and issubclass(c, Screen)]
    return owners


def test_every_binding_id_is_screen_dot_action_with_one_prefix_per_screen() -> None:
    prefixes: dict[str, type] = {}
    for owner in _owners():
        ids = [b.id for b in getattr(owner, "BINDINGS", ()) if isinstance(b, Binding) and b.id]
        for binding_id in ids:
            assert re.fullmatch(r"[a-z]+(?:_[a-z]+)*\.[a-z]+(?:_[a-z]+)*", binding_id), (owner, binding_id)
        for prefix in {i.split(".")[0] for i in ids}:
            assert prefixes.setdefault(prefix, owner) is owner, (prefix, owner)
        assert len({i.split(".")[0] for i in ids}) <= 1, (owner, ids)


def test_every_old_id_points_at_a_real_binding() -> None:
    from tui.app import binding_ids

    ids = binding_ids()
    assert len(ids) >= 26
    for old, new in RENAMED.items():
        assert old not in ids and new and set(new) <= ids, (old, new)


def test_readme_keymap_section_lists_exactly_the_binding_ids() -> None:
    from pathlib import Path

    from tui.app import binding_ids

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    listed = section.split("Keymap ids", 1)[1].split("\n\n", 1)[0]
    assert set(re.findall(r"`([a-z_]+\.[a-z_]+)`", listed)) == binding_ids()
    old = section.split("Keymap ids", 1)[1]
    for name in RENAMED:
        assert f"`{name}`" in old, name


def test_new_ids_pass_through() -> None:
    assert resolve_keymap({"explorer.find": "f", "app.quit": "Q"}, KNOWN) == (
        {"explorer.find": "f", "app.quit": "Q"},
        [],
    )


def test_an_old_id_stands_for_its_new_ones_with_a_note() -> None:
    keymap, notes = resolve_keymap({"close": "x", "find": "f"}, KNOWN)
    assert keymap == {"help.close": "x", "find.close": "x", "error.close": "x", "explorer.find": "f"}
    assert notes == [
        "keymap id 'close' in config.toml is an old name and goes in the next release; "
        "use 'help.close' and 'find.close' and 'error.close'",
        "keymap id 'find' in config.toml is an old name and goes in the next release; use 'explorer.find'",
    ]


@pytest.mark.parametrize("order", [("find", "explorer.find"), ("explorer.find", "find")])
def test_the_new_id_beats_the_old_one(order: tuple[str, str]) -> None:
    given = {"find": "old", "explorer.find": "new"}
    keymap, _ = resolve_keymap({k: given[k] for k in order}, KNOWN)
    assert keymap == {"explorer.find": "new"}


def test_unknown_ids_are_reported_once_with_the_known_ones() -> None:
    keymap, notes = resolve_keymap({"explorer.fnd": "f", "zap": "z", "app.quit": "Q"}, KNOWN)
    assert keymap == {"app.quit": "Q"}
    assert notes == [f"Unknown keymap ids 'explorer.fnd', 'zap' in config.toml; known: {', '.join(sorted(KNOWN))}"]


def test_keymap_module_imports_no_textual() -> None:
    import subprocess
    import sys

    code = (
        "import sys, tui.keymap, tui.configfile, tui.setting_table; "
        "print(any(m.split('.')[0] in ('textual', 'pyVmomi') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
