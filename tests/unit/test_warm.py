"""The warm start's private files (tui/warm.py): saved sessions and cached inventories, and every
file that must be ignored (corrupt, planted, readable by others, another scope or format)."""

from __future__ import annotations

import json
import logging
import os
import stat
import time
from dataclasses import replace
from pathlib import Path

import pytest

from tui import warm
from tui.config import Settings
from tui.model import Inventory
from tui.warm import Cached, InventoryCache, SessionCache, parse_duration, read_private

SETTINGS = Settings(server="vcsa01.lab.local", user="administrator@vsphere.local", password="s3cret!")


@pytest.fixture
def sessions(tmp_path: Path) -> SessionCache:
    return SessionCache(tmp_path / "sessions")


@pytest.fixture
def inventories(tmp_path: Path) -> InventoryCache:
    return InventoryCache(tmp_path / "inventory")


def debug_lines(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)


# -- where and how the files are written ------------------------------------------------------


def test_the_cache_folder_follows_xdg_cache_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert warm.cache_root() == tmp_path / "xdg" / "dvmirror"
    assert SessionCache().folder == tmp_path / "xdg" / "dvmirror" / "sessions"
    assert InventoryCache().folder == tmp_path / "xdg" / "dvmirror" / "inventory"


def test_dvmirror_cache_off_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, on in (("off", False), ("0", False), ("No", False), ("", True), ("on", True)):
        monkeypatch.setenv("DVMIRROR_CACHE", value)
        assert warm.enabled() is on, value


def test_a_session_is_saved_0600_without_the_password(sessions: SessionCache) -> None:
    sessions.save(SETTINGS, "52a1b2c3-d4e5-f607-1829-3a4b5c6d7e8f", "vim.version.v8_0_3_0")
    path = sessions.path(SETTINGS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert "s3cret!" not in text and "password" not in text
    record = sessions.load(SETTINGS)
    assert record is not None and record.session == "52a1b2c3-d4e5-f607-1829-3a4b5c6d7e8f"
    assert record.api == "vim.version.v8_0_3_0" and record.url == "https://vcsa01.lab.local/sdk"
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file left behind"


def test_one_file_per_server_and_user(sessions: SessionCache) -> None:
    other_user = replace(SETTINGS, user="readonly@vsphere.local")
    other_server = replace(SETTINGS, server="vcsa02.lab.local")
    other_port = replace(SETTINGS, port=8443)
    paths = {sessions.path(s) for s in (SETTINGS, other_user, other_server, other_port)}
    assert len(paths) == 4
    sessions.save(SETTINGS, "abc", "vim.version.v8_0_3_0")
    assert sessions.load(other_user) is None and sessions.load(other_server) is None
    assert sessions.path(replace(SETTINGS, user="Administrator@VSPHERE.local")) == sessions.path(SETTINGS)
    assert sessions.path(replace(SETTINGS, password="other")) == sessions.path(SETTINGS)


# -- files that must be ignored ---------------------------------------------------------------


def _plant(path: Path, data: bytes, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_bytes(data)
    path.chmod(mode)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "not a dvmirror session file"),
        (b"\x00\xff garbage", "not a dvmirror session file"),
        (b"[1, 2]", "not a dvmirror session file"),
        (b'{"format": "dvmirror-session"}', "not a dvmirror session file"),
        (b'{"format":"dvmirror-session","version":1,"url":1,"user":"u","session":"x"}', "not a dvmirror session"),
        (b'{"format":"other","version":1,"url":"u","user":"u","session":"x"}', "format 'other'"),
        (b'{"format":"dvmirror-session","version":2,"url":"u","user":"u","session":"x"}', "version 2"),
    ],
)
def test_corrupt_session_files_are_ignored(
    sessions: SessionCache, caplog: pytest.LogCaptureFixture, data: bytes, why: str
) -> None:
    _plant(sessions.path(SETTINGS), data)
    with caplog.at_level(logging.DEBUG, logger="dvmirror.warm"):
        assert sessions.load(SETTINGS) is None
    assert why in debug_lines(caplog)


def _record(**fields: object) -> bytes:
    base = {
        "format": "dvmirror-session",
        "version": 1,
        "url": SETTINGS.url,
        "user": SETTINGS.user,
        "session": "52a1b2c3",
        "api": "vim.version.v8_0_3_0",
        "saved": time.time(),
    }
    return json.dumps({**base, **fields}).encode()


@pytest.mark.parametrize(
    "session",
    ['52a1"; evil=1', "52a1\r\nX-Injected: yes", "", "x" * 600, "52 a1", "s\u00e9ssion"],
)
def test_a_session_id_that_could_change_the_cookie_header_is_refused(
    sessions: SessionCache, caplog: pytest.LogCaptureFixture, session: str
) -> None:
    _plant(sessions.path(SETTINGS), _record(session=session))
    with caplog.at_level(logging.DEBUG, logger="dvmirror.warm"):
        assert sessions.load(SETTINGS) is None
    assert "the session id holds characters" in debug_lines(caplog)
    sessions.save(SETTINGS, session, "vim.version.v8_0_3_0")  # nor is one written
    assert sessions.load(SETTINGS) is None


def test_a_file_for_another_server_under_this_name_is_ignored(
    sessions: SessionCache, caplog: pytest.LogCaptureFixture
) -> None:
    _plant(sessions.path(SETTINGS), _record(url="https://evil.example/sdk"))
    with caplog.at_level(logging.DEBUG, logger="dvmirror.warm"):
        assert sessions.load(SETTINGS) is None
    assert "another server or user" in debug_lines(caplog)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_file_others_may_read_is_not_read(
    sessions: SessionCache, caplog: pytest.LogCaptureFixture, mode: int
) -> None:
    _plant(sessions.path(SETTINGS), _record(), mode)
    with caplog.at_level(logging.DEBUG, logger="dvmirror.warm"):
        assert sessions.load(SETTINGS) is None
    assert f"has mode {mode:04o}: others may read it" in debug_lines(caplog)
    sessions.path(SETTINGS).chmod(0o600)
    assert sessions.load(SETTINGS) is not None, "the same file, private, is read"


def test_a_file_of_another_user_is_not_read(
    sessions: SessionCache, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = sessions.path(SETTINGS)
    _plant(path, _record())
    owner = path.stat().st_uid
    monkeypatch.setattr(os, "getuid", lambda: owner + 1)  # as if another user ran dvmirror
    with caplog.at_level(logging.DEBUG, logger="dvmirror.warm"):
        assert sessions.load(SETTINGS) is None
    assert f"belongs to user id {owner}, not to this user" in debug_lines(caplog)


def test_a_symlink_fifo_or_folder_is_not_read(tmp_path: Path) -> None:
    target = tmp_path / "real"
    _plant(target, _record())
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(warm.Unusable, match="cannot be opened"):
        read_private(link, 1000)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    started = time.monotonic()
    with pytest.raises(warm.Unusable, match="not a regular file"):
        read_private(fifo, 1000)
    assert time.monotonic() - started < 1, "a FIFO never blocks the read"
    folder = tmp_path / "folder"
    folder.mkdir(mode=0o700)
    with pytest.raises(warm.Unusable):
        read_private(folder, 1000)
    assert read_private(tmp_path / "missing", 1000) is None


def test_a_file_too_large_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big"
    _plant(path, b"x" * 2000)
    with pytest.raises(warm.Unusable, match="too large"):
        read_private(path, 1000)
    assert read_private(path, 2000) == b"x" * 2000


def test_an_unwritable_folder_is_a_quiet_failure(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.DEBUG, logger="dvmirror.warm"):
        SessionCache(blocker / "sessions").save(SETTINGS, "abc", "vim.version.v8_0_3_0")
        InventoryCache(blocker / "inventory").save(SETTINGS, _demo())
    assert "session not saved: cannot write" in debug_lines(caplog)
    assert "inventory not cached: cannot write" in debug_lines(caplog)


# -- the inventory cache ----------------------------------------------------------------------


def _demo() -> Inventory:
    from tui.backends.snapshot import SnapshotBackend

    return SnapshotBackend().load()


def _rows(inv: Inventory) -> list[dict[str, object]]:
    return [inv.port_row(p) for p in inv.ports.values()]


def test_the_cached_inventory_is_the_inventory(inventories: InventoryCache) -> None:
    inv = _demo()
    inventories.save(SETTINGS, inv)
    path = inventories.path(SETTINGS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "s3cret!" not in path.read_text()
    cached = inventories.load(SETTINGS, 300)
    assert isinstance(cached, Cached) and cached.age < 5
    assert _rows(cached.inventory) == _rows(inv)
    assert set(cached.inventory.vms) == set(inv.vms) and cached.inventory.vcenter == inv.vcenter


def test_the_rest_of_the_cache_file_is_a_snapshot(inventories: InventoryCache, tmp_path: Path) -> None:
    from tui.backends.snapshot import SnapshotBackend

    inv = _demo()
    inventories.save(SETTINGS, inv)
    body = inventories.path(SETTINGS).read_bytes().partition(b"\n")[2]
    (tmp_path / "snap.json").write_bytes(body)
    assert _rows(SnapshotBackend(tmp_path / "snap.json").load()) == _rows(inv)


def test_an_old_cache_is_not_used(inventories: InventoryCache, caplog: pytest.LogCaptureFixture) -> None:
    inventories.save(SETTINGS, _demo(), saved=time.time() - 600)
    with caplog.at_level(logging.DEBUG, logger="dvmirror.warm"):
        assert inventories.load(SETTINGS, 300) is None
    assert "600 s old (the limit is 300 s)" in debug_lines(caplog)
    cached = inventories.load(SETTINGS, 900)
    assert cached is not None and 599 < cached.age < 610
    assert inventories.load(SETTINGS, 0) is None, "--max-age 0: never"


def test_a_cache_of_another_scope_is_not_used(inventories: InventoryCache) -> None:
    inventories.save(SETTINGS, _demo())
    for other in (
        replace(SETTINGS, datacenter="DC-Paris"),
        replace(SETTINGS, user="readonly@vsphere.local"),
        replace(SETTINGS, server="vcsa02.lab.local"),
    ):
        assert inventories.load(other, 300) is None
        # even if the file is copied to that scope's name: its header names the scope
        inventories.path(other).write_bytes(inventories.path(SETTINGS).read_bytes())
        inventories.path(other).chmod(0o600)
        assert inventories.load(other, 300) is None
    assert inventories.load(SETTINGS, 300) is not None


def _rewrite_header(inventories: InventoryCache, **fields: object) -> None:
    path = inventories.path(SETTINGS)
    head, _, body = path.read_bytes().partition(b"\n")
    path.write_bytes(json.dumps({**json.loads(head), **fields}).encode() + b"\n" + body)


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"version": 2}, "format 'dvmirror-cache' 2"),
        ({"version": 0}, "format 'dvmirror-cache' 0"),
        ({"snapshot": 1}, "(snapshot 1)"),
        ({"snapshot": 3}, "(snapshot 3)"),
        ({"format": "dvmirror-snapshot"}, "format 'dvmirror-snapshot'"),
        ({"saved": time.time() + 3600}, "saved in the future"),
        ({"saved": "yesterday"}, "not a dvmirror cache header"),
        ({"extra": 1}, "not a dvmirror cache header"),
    ],
)
def test_another_format_is_ignored(
    inventories: InventoryCache, caplog: pytest.LogCaptureFixture, fields: dict[str, object], why: str
) -> None:
    inventories.save(SETTINGS, _demo())
    _rewrite_header(inventories, **fields)
    with caplog.at_level(logging.DEBUG, logger="dvmirror.warm"):
        assert inventories.load(SETTINGS, 300) is None
    assert why in debug_lines(caplog)


@pytest.mark.parametrize("cut", ["truncated", "garbage", "empty body", "no header", "bad reference"])
def test_a_corrupt_cache_is_ignored(inventories: InventoryCache, caplog: pytest.LogCaptureFixture, cut: str) -> None:
    inventories.save(SETTINGS, _demo())
    path = inventories.path(SETTINGS)
    raw = path.read_bytes()
    head, _, body = raw.partition(b"\n")
    data = {
        "truncated": raw[: len(raw) // 2],
        "garbage": head + b"\n\xff\xfe{{{",
        "empty body": head + b"\n",
        "no header": body,
        "bad reference": head + b"\n" + body.replace(b'"portgroup": "dvportgroup-', b'"portgroup": "nowhere-', 1),
    }[cut]
    path.write_bytes(data)
    with caplog.at_level(logging.DEBUG, logger="dvmirror.warm"):
        assert inventories.load(SETTINGS, 300) is None
    assert f"inventory cache {path} ignored" in debug_lines(caplog)


def test_a_cache_others_may_read_is_not_read(inventories: InventoryCache, caplog: pytest.LogCaptureFixture) -> None:
    inventories.save(SETTINGS, _demo())
    inventories.path(SETTINGS).chmod(0o644)
    with caplog.at_level(logging.DEBUG, logger="dvmirror.warm"):
        assert inventories.load(SETTINGS, 300) is None
    assert "has mode 0644" in debug_lines(caplog)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0), ("90", 90), ("90s", 90), ("5m", 300), ("2h", 7200), ("1d", 86400), ("1.5m", 90), (" 10S ", 10)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "-5m", "5 minutes", "1e9", "5mm", "nan", "٣m", "1" * 12])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("session_user", "user", "same"),
    [
        ("user", "user", True),
        ("VSPHERE.LOCAL\\Administrator", "administrator@vsphere.local", True),
        ("VSPHERE.LOCAL\\Administrator", "Administrator", True),
        ("root", "root", True),
        ("VSPHERE.LOCAL\\admin", "administrator@vsphere.local", False),
        ("OTHER.DOMAIN\\Administrator", "administrator@vsphere.local", False),
        ("readonly@vsphere.local", "administrator@vsphere.local", False),
        ("", "user", False),
    ],
)
def test_whose_session_it_is(session_user: str, user: str, same: bool) -> None:
    """vCenter names the session's user ``DOMAIN\\name``; dvmirror logs in as ``name@domain``."""
    from tui.backends.vsphere import _same_user

    assert _same_user(session_user, user) is same


def test_cache_folders_are_private_whatever_the_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    old = os.umask(0o022)
    try:
        root = warm.cache_root()
        assert warm.write_private(root / "sessions" / "x", [b"{}"]) is None
    finally:
        os.umask(old)
    for folder in (root, root / "sessions"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    (root / "sessions").chmod(0o755)  # loosened by hand: tightened again on the next write
    assert warm.write_private(root / "sessions" / "y", [b"{}"]) is None
    assert stat.S_IMODE((root / "sessions").stat().st_mode) == 0o700
