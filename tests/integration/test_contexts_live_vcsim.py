"""Issue 11's "done when": two vCenters (vcsim servers) configured as contexts; in the second, the
walkthrough's monitor VM is vMotioned by another client, and the session's cross-host warning
appears within seconds without ``r``; ``dvmirror sessions --check`` then exits 1 saying why.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyVmomi")

from pyVim.task import WaitForTask  # noqa: E402
from pyVmomi import vim  # noqa: E402

from tests.helpers import WALKTHROUGH_SWITCH, notifications, run_cli_json, started  # noqa: E402
from tests.integration.test_cli_check_vcsim import MGT, setup_walkthrough, walkthrough_row  # noqa: E402
from tests.integration.test_contexts_vcsim import wait_until, write_config  # noqa: E402
from tests.integration.test_live_tui_vcsim import header  # noqa: E402
from tests.integration.test_vcsim_updates import find  # noqa: E402

pytestmark = pytest.mark.vcsim


async def test_a_vmotion_in_the_second_context_warns_live(
    start_vcsim: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.__main__ import context_backend
    from tui.app import build_app
    from tui.contexts import list_contexts

    first, second = start_vcsim(), start_vcsim()
    setup_walkthrough(capsys, second)
    config = write_config(tmp_path / "config.toml", {"dc1": first, "dc2": second}, default="dc1")
    args = argparse.Namespace(config=str(config))
    env = {"DVMIRROR_PASSWORD": second.password}
    contexts = list_contexts(args, env)
    assert [(c.name, c.current) for c in contexts] == [("dc1", True), ("dc2", False)]
    make = context_backend(args, env)
    app = build_app(make(contexts[0]), environ=env, contexts=contexts, context_backend=make)
    async with started(app) as pilot:
        await wait_until(pilot, lambda: "live" in header(app.explorer))
        await pilot.press("C", "enter")  # the highlight starts on the context after the current one
        await wait_until(pilot, lambda: app.context_name == "dc2" and app.index is not None)
        await wait_until(pilot, lambda: "live" in header(app.explorer))
        assert app.inventory is not None
        sw = app.inventory.switch_by_name(WALKTHROUGH_SWITCH)
        assert sw is not None
        (mine,) = [s for s in sw.sessions if s.name == "F5 DMZ to monitor"]
        where = (sw.key, mine.key or "")
        assert app.session_problems[where] == []
        shown = notifications(app)
        si = second.connect()
        moved = time.monotonic()
        WaitForTask(
            find(si, vim.VirtualMachine, MGT).RelocateVM_Task(
                vim.vm.RelocateSpec(host=find(si, vim.HostSystem, "host-16"))
            )
        )
        await wait_until(pilot, lambda: bool(app.session_problems.get(where)))
        took = time.monotonic() - moved
        assert [p.code for p in app.session_problems[where]] == ["EndpointHostChanged", "CrossHostMirror"]
        assert took < 10, took
        assert any(m.startswith("Session F5 DMZ to monitor: Destination MGTSRVR003UX (port 2258) moved") for m in shown)
        assert app.views["dc1"].inventory is not None  # the first context is kept, not reloaded
        assert app.views["dc1"].loads == 1
    for view in app.views.values():
        if view.backend is not None:
            view.backend.close()
    check = ("sessions", "--check", "--config", str(config), "--profile", "dc2")
    code, data, _ = run_cli_json(capsys, *check, environ=env)
    assert code == 1
    assert [p["code"] for p in walkthrough_row(data)["problems"]] == ["EndpointHostChanged", "CrossHostMirror"]


async def test_a_context_shown_again_catches_up_with_what_changed_meanwhile(
    start_vcsim: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the context shown is followed: a VM renamed in dc1 while dc2 is shown is there when dc1
    is shown again (its channel reads the inventory again), without ``r``."""
    from tests.integration.test_vcsim_updates import F5
    from tui.__main__ import context_backend
    from tui.app import build_app
    from tui.contexts import list_contexts

    first, second = start_vcsim(), start_vcsim()
    config = write_config(tmp_path / "config.toml", {"dc1": first, "dc2": second}, default="dc1")
    args = argparse.Namespace(config=str(config))
    env = {"DVMIRROR_PASSWORD": first.password}
    contexts = list_contexts(args, env)
    make = context_backend(args, env)
    app = build_app(make(contexts[0]), environ=env, contexts=contexts, context_backend=make)

    def names() -> set[str]:
        return {vm.name for vm in app.inventory.vms.values()} if app.inventory is not None else set()

    async with started(app) as pilot:
        await wait_until(pilot, lambda: "live" in header(app.explorer))
        assert "F5-LTM01" in names()
        await pilot.press("C", "enter")
        await wait_until(pilot, lambda: app.context_name == "dc2" and app.index is not None)
        WaitForTask(find(first.connect(), vim.VirtualMachine, F5).Rename_Task("F5-LTM01-meanwhile"))
        app.switch_context("dc1")
        await wait_until(pilot, lambda: app.context_name == "dc1")
        await wait_until(pilot, lambda: "F5-LTM01-meanwhile" in names())
        assert app.views["dc1"].loads == 1  # caught up by its channel, not a reload
    for view in app.views.values():
        if view.backend is not None:
            view.backend.close()
