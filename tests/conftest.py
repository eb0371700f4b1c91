"""Shared fixtures: the demo lab, and isolation from the developer's own config."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import WALKTHROUGH as WALKTHROUGH  # the walkthrough is declared in tests/helpers.py
from tui.backends.snapshot import SnapshotBackend
from tui.model import Inventory, Port

CLOUD = "50 36 4e 6c 5b 8f 2e 3d-1a 2b 3c 4d 5e 6f 70 81"
MGMT = "50 36 77 02 9c 41 d0 0e-8b 13 55 e2 07 6a 4c 90"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep every test away from the real config, audit log and vCenter variables."""
    home = tmp_path_factory.mktemp("home")
    for name in list(__import__("os").environ):
        if name.startswith(("GOVC_", "VMWARE_", "DVMIRROR_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    # Saved sessions and inventories (tui/warm.py) are off unless a test turns them on
    # (monkeypatch.delenv("DVMIRROR_CACHE")): a second command of a test reads vCenter as it is.
    monkeypatch.setenv("DVMIRROR_CACHE", "off")
    monkeypatch.setenv("DVMIRROR_AUDIT_LOG", str(home / "audit.jsonl"))
    # Demo-lab and snapshot changes go to the practice log only; the same file here, so that
    # tests of the audit trail can use the demo lab (tests/unit/test_hostile.py unsets it).
    monkeypatch.setenv("DVMIRROR_PRACTICE_LOG", str(home / "audit.jsonl"))
    monkeypatch.delenv("TMUX", raising=False)
    yield


@pytest.fixture
def demo() -> Inventory:
    """A fresh copy of the demo lab."""
    return SnapshotBackend().load()


def port(inv: Inventory, key: str, switch: str = CLOUD) -> Port:
    """Port ``key`` on ``switch`` (dvSwitchCloud by default)."""
    p = inv.port(switch, key)
    assert p is not None, f"no port {key}"
    return p


REPO = Path(__file__).resolve().parent.parent
