"""The vcsim server's mirror traffic model (``tests/vcsim/mirror.go``) on every session type, through the
vsphere backend (RefreshDVPortState + FetchDVPorts by key).

The same lab and expectations as ``tests/unit/test_mirror_traffic.py`` runs on the demo/snapshot backend
(``tests/mirror_lab.py``), so the server and the demo deliver alike; a last test compares the two directly.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests import mirror_lab as ml
from tests.integration.test_vsphere_backend import settings_for
from tui.backends.vsphere import VsphereBackend
from tui.model import ChangeOperation, SessionChange, rates_between

pytestmark = pytest.mark.vcsim

WINDOW = 1.5


def _scale(on: dict[Any, Any], off: dict[Any, Any], switch: str) -> float:
    """The two windows' timing error, from a port no session delivers to (its traffic is constant)."""
    ref = (switch, ml.REFERENCE[switch])
    return float(on[ref].packets_in) / float(off[ref].packets_in)


@pytest.fixture(scope="module")
def windows(start_module_vcsim: Any) -> Iterator[tuple[dict[Any, Any], dict[Any, Any]]]:
    results = []
    backends = []
    for enabled in (True, False):
        server = start_module_vcsim(lab=ml.mirror_lab(enabled=enabled))
        backend = VsphereBackend(settings_for(server))
        backends.append(backend)
        backend.load()
        results.append(ml.measure(backend, lambda: time.sleep(WINDOW)))
    yield results[0], results[1]
    for b in backends:
        b.close()


@pytest.mark.parametrize("case", ml.CASES, ids=[c.name for c in ml.CASES])
def test_each_session_type_delivers_exactly_when_vcenter_would(case: ml.Case, windows: Any) -> None:
    on, off = windows
    got = ml.gain(case, on, off, _scale(on, off, case.switch))
    packets, nbytes = ml.expected(case, on)
    assert got["packets_out"] == pytest.approx(packets, rel=0.01, abs=8)
    assert got["bytes_out"] == pytest.approx(nbytes, rel=0.01, abs=3000)
    assert got["bytes_out_to_pnic"] == pytest.approx(nbytes if case.uplink else 0.0, rel=0.01, abs=3000)
    assert got["packets_in"] == pytest.approx(0.0, abs=8)
    if case.parts:
        assert packets > 20  # a real delivery: the server's slowest port sends 25 packets/s


def test_the_demo_and_the_server_deliver_the_same_share(windows: Any, tmp_path: Path) -> None:
    """Each destination's gain over what the model predicts from its sources, on both backends: the same
    (1 where a session delivers; nothing on either where none does), though their ports' own rates differ."""
    demo_on, demo_off = ml.demo_windows(tmp_path)
    on, off = windows
    for case in ml.CASES:
        ours = ml.gain(case, on, off, _scale(on, off, case.switch))
        theirs = ml.gain(case, demo_on, demo_off)
        if case.parts:
            (want_p, want_b), (demo_p, demo_b) = ml.expected(case, on), ml.expected(case, demo_on)
            assert ours["packets_out"] / want_p == pytest.approx(theirs["packets_out"] / demo_p, rel=0.02), case.name
            assert ours["bytes_out"] / want_b == pytest.approx(theirs["bytes_out"] / demo_b, rel=0.02), case.name
        else:
            assert abs(ours["packets_out"]) < 8 and abs(theirs["packets_out"]) < 0.3, case.name


def test_disabling_a_remote_source_on_one_switch_stops_the_destination_on_another(start_vcsim: Any) -> None:
    """Counters never go back: what JUMP01 received before RSPAN-310 was disabled stays counted."""
    server = start_vcsim(lab=ml.mirror_lab())
    backend = VsphereBackend(settings_for(server))
    try:
        inv = backend.load()
        keys = [ml.JUMP01, ml.JUMP04]
        first = backend.port_statistics(ml.MGMT, keys)
        time.sleep(WINDOW)
        mid = backend.port_statistics(ml.MGMT, keys)
        session = next(s for s in inv.switches[ml.CLOUD].sessions if s.name == "RSPAN-310")
        backend.apply(inv, ml.CLOUD, [SessionChange(ChangeOperation.EDIT, replace(session, enabled=False))])
        after_change = backend.port_statistics(ml.MGMT, keys)
        time.sleep(WINDOW)
        last = backend.port_statistics(ml.MGMT, keys)
        for name in ("packets_out_unicast", "bytes_out_unicast"):
            assert after_change[ml.JUMP01].counter(name) >= mid[ml.JUMP01].counter(name)  # type: ignore[operator]
        was, now = rates_between(first, mid), rates_between(after_change, last)
        scale = float(now[ml.JUMP04].packets_in or 0) / float(was[ml.JUMP04].packets_in or 1)
        drop = float(was[ml.JUMP01].packets_out or 0) * scale - float(now[ml.JUMP01].packets_out or 0)
        assert drop > 100  # F5-LTM01's traffic (both ways) stopped arriving
    finally:
        backend.close()
