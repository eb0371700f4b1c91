"""CLI tables on a terminal never break an identifier (issue 9, item 2).

Each table is rendered as on a terminal 80 and 120 columns wide (Rich's ``TTY_COMPATIBLE=1`` with
``COLUMNS``): every line fits, the least useful columns are left out first (and named below the
table), and every port key, VM name, NIC, MAC, IP, switch and portgroup name shown is whole on one
line. Piped output keeps every column, one line per row.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.helpers import run_cli
from tui.cli import port_cells
from tui.text import SafeText as Text
from tui.text import visible

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
HIDDEN = re.compile(r"^Hidden to fit (\d+) columns: (.*) \(-o wide\)$")


def on_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, columns: int, *argv: str
) -> tuple[int, list[str]]:
    """``dvmirror ARGV`` as on a terminal ``columns`` wide: exit code and the lines of stdout."""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", str(columns))
    code, out, _ = run_cli(capsys, *argv)
    return code, [ANSI.sub("", line) for line in out.splitlines()]


def as_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, _ = run_cli(capsys, *argv, "--json")
    assert code == 0
    return json.loads(out)


def headings(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def bounded(value: str) -> re.Pattern[str]:
    """``value`` as a whole word (not part of a longer name or address)."""
    return re.compile(r"(?<![^\s,])" + re.escape(value) + r"(?![^\s,])")


def count(lines: list[str], value: str) -> int:
    pattern = bounded(value)
    return sum(len(pattern.findall(line)) for line in lines)


PORT_KEYS = {
    "Switch": "switch",
    "Portgroup": "portgroup",
    "Port": "port",
    "VM": "vm",
    "NIC": "nic",
    "MAC": "mac",
    "IPs": "ips",
    "Host": "host",
    "VLAN": "vlan",
    "Link": "connected",
    "Matched": "matched",
}
HEADINGS = list(PORT_KEYS)
IDENTIFIERS = ("switch", "portgroup", "port", "vm", "nic", "mac", "ips", "host")


def check_port_table(lines: list[str], rows: list[dict[str, Any]], width: int) -> list[str]:
    """Assert the table fits ``width`` and shows every identifier whole; the headings shown."""
    assert lines, "no output"
    assert all(Text(line).cell_len <= width for line in lines), [line for line in lines if len(line) > width]
    shown = headings(lines[0])
    assert shown == [h for h in HEADINGS if h in shown], shown  # the order of the piped table
    assert {"Port", "VM"} <= set(shown)
    notes = [m for line in lines if (m := HIDDEN.match(line))]
    hidden = notes[0].group(2).split(", ") if notes else []
    assert int(notes[0].group(1)) == width if notes else True
    # Every default column is either shown or named as hidden.
    expected = HEADINGS if "Matched" in shown else HEADINGS[:-1]
    assert sorted(shown + hidden) == sorted(expected), (shown, hidden)
    table = lines[1 : len(lines) - len(notes)]
    cells = [
        dict(zip([*HEADINGS[:-1], "Mirror"], (t.plain for t in port_cells(r, Text(""))), strict=True))
        | {"Matched": visible(r.get("matched", ""))}
        for r in rows
    ]
    texts = ["\n".join(c[h] for h in shown) for c in cells]
    # Each identifier appears whole as often as the shown cells hold it: a split one would not.
    for column in (c for c in shown if PORT_KEYS[c] in IDENTIFIERS):
        values: set[str] = set()
        for row in rows:
            value = row[PORT_KEYS[column]]
            values.update(visible(v) for v in (value if isinstance(value, list) else [value]) if v)
        for value in values:
            pattern = bounded(value)
            want = sum(len(pattern.findall(t)) for t in texts if value in t)
            got = sum(len(pattern.findall(line)) for line in table if value in line)
            assert got == want, f"{column} {value!r}: whole {got} times, expected {want}"
    return shown


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize(
    "argv",
    [
        ["ports", "--demo"],
        ["ports", "--demo", "--switch", "dvSwitchMgmt"],
        ["find", "172.24", "--demo"],
        ["find", "9a:1b", "--demo"],
        ["find", "web", "--demo"],
        ["find", "vm[prod]", "--demo"],
    ],
    ids=["ports", "ports-mgmt", "find-ip-prefix", "find-mac-prefix", "find-web", "find-hostile"],
)
def test_port_tables_never_split_an_identifier(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str], width: int
) -> None:
    rows = as_json(capsys, *argv)
    code, lines = on_terminal(capsys, monkeypatch, width, *argv)
    assert code == 0
    body = [line for line in lines if not re.match(r"^(\d+ ports?|Not listed|  \S.*/|  … and)", line)]
    shown = check_port_table(body, rows, width)
    if argv[0] == "find":
        assert "Matched" in shown  # why each row matched is never what goes first


def test_narrow_terminal_drops_least_useful_columns_first(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, lines80 = on_terminal(capsys, monkeypatch, 80, "ports", "--demo")
    _, lines120 = on_terminal(capsys, monkeypatch, 120, "ports", "--demo")
    shown80, shown120 = headings(lines80[0]), headings(lines120[0])
    assert {"Port", "VM", "NIC", "Link"} <= set(shown80) < set(shown120)
    hidden80 = next(m.group(2) for line in lines80 if (m := HIDDEN.match(line))).split(", ")
    assert hidden80[:2] == ["VLAN", "Host"]  # the first to go
    assert "VLAN" not in shown120 and "Port" in shown120


def test_piped_output_keeps_every_column_one_line_per_row(capsys: pytest.CaptureFixture[str]) -> None:
    rows = as_json(capsys, "find", "172.24", "--demo")
    code, out, _ = run_cli(capsys, "find", "172.24", "--demo")
    lines = out.splitlines()
    assert code == 0 and headings(lines[0]) == HEADINGS
    assert len(lines) == 1 + len(rows)  # nothing wrapped, no note
    assert all("fe80::250:56ff:fe9a:1" in line for line in lines if "KDC02" in line)


def test_wide_adds_mirror_column_at_full_width(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, lines = on_terminal(capsys, monkeypatch, 80, "ports", "--demo", "--portgroup", "dvPgDMZ", "-o", "wide")
    assert code == 0
    assert headings(lines[0]) == [*HEADINGS[:-1], "Mirror"]
    assert not any(HIDDEN.match(line) for line in lines)
    f5 = next(line for line in lines if bounded("448").search(line) and "F5-LTM01" in line)
    assert "1 DMZ-IDS: source (ingress+egress)" in f5 and "00:50:56:9a:1b:2c" in f5


def test_columns_chooses_by_heading_or_json_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, lines = on_terminal(capsys, monkeypatch, 80, "find", "F5-LTM01", "--demo", "--columns", "port,MAC,connected")
    assert code == 0 and headings(lines[0]) == ["Port", "MAC", "Link"]
    assert any(re.fullmatch(r"\s*448\s+00:50:56:9a:1b:2c\s+connected\s*", line) for line in lines)
    code, out, err = run_cli(capsys, "ports", "--demo", "--columns", "port,colour")
    assert code == 2 and out == "" and "no column 'colour'" in err and "connected" in err


@pytest.mark.parametrize("width", [80, 120])
def test_sessions_table_never_splits_an_endpoint(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    sessions = as_json(capsys, "sessions", "--demo")
    code, lines = on_terminal(capsys, monkeypatch, width, "sessions", "--demo")
    assert code == 0
    table = lines[: next(i for i, line in enumerate(lines) if re.match(r"^\d+ sessions?$", line))]
    assert all(len(line) <= width for line in table)
    shown = headings(table[0])
    assert {"Key", "Name", "Status", "Sources", "Destinations"} <= set(shown)
    for s in sessions:
        assert count(table, s["name"]) == 1
        for key, label in s["portLabels"].items():
            vm = label.split(" / ")[0]
            line = next(line for line in table if bounded(key).search(line) and vm in line)
            assert bounded(vm).search(line), line
        for uplink in s["destinationPort"].get("uplinkPortName", []):
            assert count(table, f"uplink {uplink}") == 1
