"""The finder's results are complete (issue 9, item 7): each line says why it matched with the
whole value (a MAC or IP found by its first digits shows the MAC or IP), and never wraps, at
80x24 and 120x40."""

from __future__ import annotations

import pytest
from textual.widgets import OptionList

from tests.helpers import started
from tests.tui.conftest import demo_app, settle
from tui.lookup import Field, LookupIndex, Match
from tui.model import Inventory
from tui.screens.find import FindScreen

SIZES = [(80, 24), (120, 40)]


async def results_for(size: tuple[int, int], query: str) -> tuple[list[str], int, FindScreen]:
    """The plain text of every result line for ``query``, and the list's width."""
    app = demo_app()
    async with started(app, size=size) as pilot:
        await pilot.press("slash", *query)
        await settle(pilot)
        finder = app.screen
        assert isinstance(finder, FindScreen)
        results = finder.query_one("#find-results", OptionList)
        lines = [str(results.get_option_at_index(i).prompt) for i in range(results.option_count)]
        # One screen line per result: nothing wrapped onto a second line.
        assert results.virtual_size.height == results.option_count
        return lines, results.content_region.width, finder


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("9a:1b", {"100": "mac: 00:50:56:9a:1b:2b", "448": "mac: 00:50:56:9a:1b:2c"}),
        ("0050.569a.1b", {"100": "mac: 00:50:56:9a:1b:2b", "448": "mac: 00:50:56:9a:1b:2c"}),
        ("172.24.4.5", {"302": "ip: 172.24.4.52"}),
        ("MGTSRVR003UX", {"300": "vm: MGTSRVR003UX", "2258": "vm: MGTSRVR003UX"}),
        ("2258", {"2258": "port: 2258"}),
        ("dvPgMirror", {"2258": "portgroup: dvPgMirror"}),
    ],
    ids=["mac-prefix", "mac-other-notation", "ip-prefix", "vm", "port", "portgroup"],
)
async def test_each_result_says_why_with_the_whole_value(
    size: tuple[int, int], query: str, why: dict[str, str]
) -> None:
    lines, width, finder = await results_for(size, query)
    assert lines and all(len(line) <= width for line in lines), (width, lines)
    by_port = {h.port.key: line for h, line in zip(finder.hits, lines, strict=True) if h.port is not None}
    for port, reason in why.items():
        assert port in by_port, (port, lines)
        line = by_port[port]
        assert line.split()[0] == port and reason in line, line
    # Every line says why, not only those whose reason is off the line.
    assert all(f"{h.field.label}: " in line for h, line in zip(finder.hits, lines, strict=True))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_vm_and_nic_stay_whole_portgroup_and_host_go_first(size: tuple[int, int]) -> None:
    lines, width, _ = await results_for(size, "172.24.4")
    kdc = next(line for line in lines if line.split()[0] == "303")
    assert "KDC01 / Network adapter 1" in kdc and "ip: 172.24.4.10" in kdc
    if size[0] >= 120:
        assert "dvPgServers" in kdc and "esx-01" in kdc
    else:
        assert "esx-01" not in kdc  # the host went first to keep the rest whole


def test_hit_reason_has_the_whole_mac_and_ip(demo: Inventory) -> None:
    index = LookupIndex(demo)
    mac = index.search("00:50:56:9a:1b")
    assert {h.reason for h in mac if h.port is not None and h.port.key == "448"} == {"mac: 00:50:56:9a:1b:2c"}
    assert all(h.field is Field.MAC and h.match is Match.PREFIX for h in mac)
    ip = index.search("172.24.4.5")
    assert [h.reason for h in ip] == ["ip: 172.24.4.52"]


async def test_more_results_than_a_screen_come_after_the_first_laid_out_as_one_list() -> None:
    """The first screenful is in the list at once, the rest after the paint, every line in the
    columns of the whole list, and a stale search's rest never lands in a newer one's list."""
    from tui.screens.find import FIRST, LIMIT

    app = demo_app()
    async with started(app, size=(120, 40)) as pilot:
        await pilot.press("slash", "1")
        finder = app.screen
        assert isinstance(finder, FindScreen)
        results = finder.query_one("#find-results", OptionList)
        await settle(pilot)
        assert len(finder.hits) > FIRST, "the demo lab has more ports with a 1 than a screenful"
        assert results.option_count == min(LIMIT, len(finder.hits))
        lines = [str(results.get_option_at_index(i).prompt) for i in range(results.option_count)]
        whole = finder._labels([("", finder.inventory, h) for h in finder.hits[:LIMIT]])
        assert lines == [str(t) for t in whole]
        finder._search("1")  # searched again, then at once another query: only its results remain
        finder._search("MGTSRVR003UX")
        await settle(pilot)
        assert results.option_count == len(finder.hits) == 2
