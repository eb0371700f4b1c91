"""A hostile lab: the demo lab with terminal control sequences in every name.

Each name keeps its demo text (so ``find F5-LTM01`` still works) and gets one of
:data:`PAYLOADS` appended: sequences that would set the terminal title, clear the screen,
write the clipboard, start a C1 CSI, reverse the line, return the carriage, back up, or end
the string early, if a terminal ever received them raw.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

from tests import labgen

PAYLOADS = (
    "\x1b]0;pwned\x07",  # OSC 0: set the window title
    "\x1b[2J",  # CSI: clear the screen
    "\x1b]52;c;cHduZWQ=\x07",  # OSC 52: write the clipboard
    "\x9b31m",  # C1 CSI (one byte on 8-bit terminals)
    "\u202e",  # right-to-left override
    "\r",  # carriage return: overwrite the line
    "\b",  # backspace
    "\x00",  # NUL
    "\x7f",  # DEL
    "\u2028",  # line separator
    "\u2066",  # left-to-right isolate
    "\x85",  # C1 next line
)

RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
"""What must never reach the terminal from data (a newline may: it is layout)."""

RAW_ESC = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
"""Every unsafe character, newline included (for one-line texts such as a JSON string)."""

VISIBLE = ("\\x1b]0;pwned\\x07", "\\x1b[2J", "\\x1b]52;c;cHduZWQ=\\x07", "\\x9b31m", "\\u202e", "\\r", "\\x08")
"""How the payloads show: the escapes a user sees instead."""


def hostile_data() -> dict[str, Any]:
    """The demo lab's snapshot JSON with a payload at the end of every name."""
    data = labgen.demo_lab()
    payload = itertools.cycle(PAYLOADS)

    def bad(text: str) -> str:
        return text + next(payload)

    data["vcenter"] = bad(data["vcenter"])
    data["datacenters"] = [bad(d) for d in data["datacenters"]]
    for h in data["hosts"]:
        h["name"] = bad(h["name"])
    renamed_dc = dict(zip(labgen.demo_lab()["datacenters"], data["datacenters"], strict=True))
    for sw in data["switches"]:
        sw["name"] = bad(sw["name"])
        sw["datacenter"] = renamed_dc.get(sw["datacenter"], sw["datacenter"])
        for s in sw["sessions"]:
            s["name"] = bad(s["name"])
            s["description"] = bad(s.get("description") or "")
    for pg in data["portgroups"]:
        pg["name"] = bad(pg["name"])
    for p in data["ports"]:
        if p.get("name"):
            p["name"] = bad(p["name"])
    for vm in data["vms"]:
        vm["name"] = bad(vm["name"])
        for nic in vm["nics"]:
            nic["label"] = bad(nic["label"])
    return data


def write_hostile_lab(path: Path) -> Path:
    """Write the hostile lab to ``path`` (as bytes: the payloads are written raw, as a hostile
    snapshot would hold them) and return ``path``."""
    path.write_text(json.dumps(hostile_data(), ensure_ascii=False), encoding="utf-8")
    return path


def name_of(data: dict[str, Any], kind: str, start: str) -> str:
    """The hostile name in ``data[kind]`` that starts with ``start``."""
    for item in data[kind]:
        if item["name"].startswith(start):
            return str(item["name"])
    raise KeyError(start)


def session_name(data: dict[str, Any], start: str) -> str:
    for sw in data["switches"]:
        for s in sw["sessions"]:
            if s["name"].startswith(start):
                return str(s["name"])
    raise KeyError(start)
