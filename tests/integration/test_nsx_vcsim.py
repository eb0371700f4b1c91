"""An NSX-backed portgroup (``config.backingType`` ``nsx``, vSphere 7.0) read from the vcsim test
server, kept through a snapshot, and named by the NsxPort guard rail."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_cli_sessions_vcsim import CLOUD, run
from tests.integration.test_vsphere_backend import settings_for
from tui.backends.snapshot import parse_inventory, save_inventory
from tui.backends.vsphere import VsphereBackend

pytestmark = pytest.mark.vcsim

DEMO = Path(__file__).resolve().parents[2] / "tui" / "backends" / "labs" / "demo.json"


def test_nsx_portgroup_is_read_kept_and_warned(
    start_vcsim: Callable[..., Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lab = json.loads(DEMO.read_text(encoding="utf-8"))
    dmz = next(pg for pg in lab["portgroups"] if pg["name"] == "dvPgDMZ")
    dmz["nsx"] = True
    server = start_vcsim(lab)
    backend = VsphereBackend(settings_for(server))
    try:
        inv = backend.load()
    finally:
        backend.close()
    assert {pg.name for pg in inv.portgroups.values() if pg.nsx} == {"dvPgDMZ"}
    saved = tmp_path / "nsx.json"
    save_inventory(inv, saved)
    again = parse_inventory(json.loads(saved.read_text(encoding="utf-8")), "snapshot")
    assert {pg.name for pg in again.portgroups.values() if pg.nsx} == {"dvPgDMZ"}
    written = json.loads(saved.read_text(encoding="utf-8"))["portgroups"]
    assert [pg["name"] for pg in written if "nsx" in pg] == ["dvPgDMZ"]  # only where true
    code, result, err = run(
        capsys, server, "session", "create", "--switch", CLOUD, "--source", "448", "--dest", "2258", "--dry-run"
    )
    assert code == 0, err
    nsx = [p for p in result["problems"] if p["code"] == "NsxPort"]
    assert [p["field"] for p in nsx] == ["sourcePortReceived", "sourcePortTransmitted"], result["problems"]
    assert "NSX port mirroring applies to it instead" in nsx[0]["message"]
