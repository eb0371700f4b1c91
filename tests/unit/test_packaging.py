"""Packaging: the wheel carries the styles and the demo lab, and the console script works
from another directory in a fresh virtual environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO
from tui.paths import STYLES_DIR


def test_every_css_path_exists() -> None:
    from tui.app import DvMirrorApp

    for path in DvMirrorApp.CSS_PATH:
        assert Path(path).is_file(), path
    assert (STYLES_DIR / "app.tcss").is_file()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("dvmirror-*.whl")
    return path


def test_wheel_contents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "styles/app.tcss" in names
    assert "tui/backends/labs/demo.json" in names
    assert "tui/__main__.py" in names and "widgets/inventory_tree.py" in names
    assert not any(n.startswith("tests/") for n in names)
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "dvmirror = tui.__main__:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_installed_wheel_runs_from_elsewhere(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    # Dependencies come from the package index; the wheel itself from the build above.
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True, timeout=600)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(env_dir / "bin" / "dvmirror"), "find", "2258", "--demo", "--json"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(done.stdout)
    assert rows[0]["port"] == "2258" and rows[0]["vm"] == "MGTSRVR003UX"
    # The styles load from the installed package too.
    check = (
        "from pathlib import Path; from tui.app import DvMirrorApp; "
        "assert all(Path(p).is_file() for p in DvMirrorApp.CSS_PATH)"
    )
    subprocess.run([str(py), "-c", check], cwd=elsewhere, env=env, check=True)


def test_ci_runs_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0].strip() for b in readme.split("```sh\n")[1:]]
    test_command = next(b for b in blocks if "pytest" in b)
    demo_command = next(b for b in blocks if "dvmirror --demo" in b)
    assert test_command in ci.splitlines()
    assert demo_command.startswith("python3 -m venv .venv && .venv/bin/pip install -e .")
