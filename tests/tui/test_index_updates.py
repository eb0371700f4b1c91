"""After a live update the app's search index is derived from the previous one at once (issue 11's
leftover): the finder finds the new name right away, and gives what a full build of the new
inventory gives; what cannot be derived (a portgroup renamed) is built in full once updates pause."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from textual.widgets import OptionList

from tests.helpers import started
from tests.tui.conftest import demo_app, loaded, settle
from tui.app import INDEX_DELAY, DvMirrorApp
from tui.inventory_update import Change, Delta, apply_change
from tui.lookup import LookupIndex
from tui.messages import InventoryLoaded
from tui.screens.find import FindScreen


def hits(index: LookupIndex, query: str) -> list[tuple[object, str, str, str]]:
    return [(h.target, h.field.name, h.match.name, h.text) for h in index.search(query, limit=None)]


async def test_a_renamed_vm_is_found_by_its_new_name_right_after_the_update() -> None:
    app = demo_app()
    async with started(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        assert isinstance(app, DvMirrorApp) and app.index is not None and app.inventory is not None
        before, inv = app.index, app.inventory
        vm = next(v for v in inv.vms.values() if v.name == "F5-LTM01")
        change = Change(vms=(replace(vm, name="F5-LTM77"),))
        new = apply_change(inv, change)
        app.post_message(InventoryLoaded(new, update=True, delta=Delta(inv, change, new)))
        await settle(pilot)
        assert app.inventory is new
        index = app.index
        assert index is not None and index.inventory is new, "the index follows the update at once"
        assert index._base is before, "derived from the index before, not built again"
        for query in ("F5-LTM77", "F5", "ltm", "Network adapter", "448"):
            assert hits(index, query) == hits(LookupIndex(new), query), query
        await pilot.press("slash", *"F5-LTM77")
        await settle(pilot)
        finder = app.screen
        assert isinstance(finder, FindScreen)
        assert finder.hits and all(h.text == "F5-LTM77" for h in finder.hits)
        assert finder.query_one("#find-results", OptionList).option_count == len(finder.hits)


async def test_a_renamed_portgroup_is_indexed_in_full_once_updates_pause() -> None:
    app = demo_app()
    async with started(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        assert isinstance(app, DvMirrorApp) and app.index is not None and app.inventory is not None
        before, inv = app.index, app.inventory
        pg = next(p for p in inv.portgroups.values() if p.name == "dvPgMirror")
        change = Change(portgroups=(replace(pg, name="dvPgRenamed"),))
        new = apply_change(inv, change)
        app.post_message(InventoryLoaded(new, update=True, delta=Delta(inv, change, new)))
        await settle(pilot)
        assert app.index is before, "kept, searchable, until the full build"
        await asyncio.sleep(INDEX_DELAY + 0.3)
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert app.index is not None and app.index.inventory is new and app.index._base is None
        assert hits(app.index, "dvPgRenamed") == hits(LookupIndex(new), "dvPgRenamed") != []
