"""A warm start: the vCenter session and the last inventory, kept between runs (README "Warm start").

Two kinds of private files, in the user's cache directory (``$XDG_CACHE_HOME/dvmirror``, by
default ``~/.cache/dvmirror``; platformdirs elsewhere):

- ``sessions/<key>``: the vCenter session id of one server and user (the value of the
  ``vmware_soap_session`` cookie), never the password, as govc keeps ``~/.govmomi/sessions/<hash>``.
  The backend verifies it (``SessionManager.currentSession`` is set, for the same user) before
  using it, and logs in afresh when it is stale.
- ``inventory/<key>.json``: the last inventory of one server, user and datacenter scope: one
  header line (:class:`CacheHeader`), then the inventory in the snapshot format
  (``tail -n +2 FILE`` is a snapshot ``dvmirror --snapshot`` reads).

Both are written atomically with mode 0600 in folders of mode 0700. A file that is not a regular
file of this user, or that the group or others may read, is never read: it is ignored with a
debug message (``DVMIRROR_DEBUG=1`` shows them), as is any file that does not parse, names another
server, user or datacenter, or has another format version. Nothing here ever raises for a bad
file. ``DVMIRROR_CACHE=off`` turns both off. This module imports neither pyVmomi nor Textual.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from tui.config import Settings
    from tui.model import Inventory

log = logging.getLogger("dvmirror.warm")

ENV_SWITCH = "DVMIRROR_CACHE"
"""``off`` (or ``0``, ``no``, ``false``): neither reuse sessions nor keep inventories."""
SESSION_FORMAT = "dvmirror-session"
CACHE_FORMAT = "dvmirror-cache"
FORMAT_VERSION = 1
"""The version of both headers written and read; any other version is ignored."""
SESSION_LIMIT = 16 << 10
"""A session file is a few hundred bytes; a larger one is not read."""
DEFAULT_MAX_AGE = 300.0
"""Seconds a cached inventory answers ``find`` (``--max-age``; 5 minutes)."""
TUI_MAX_AGE = 86400.0
"""Seconds a cached inventory is shown by the TUI while its first load runs (a day)."""
_SESSION_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,512}")
"""What a session id may hold: vCenter's are hex with dashes. No quote, semicolon, space or
control character, so a planted file cannot add anything to the ``Cookie`` header."""


def enabled() -> bool:
    """False when ``DVMIRROR_CACHE`` (in the process's environment) turns the warm start off."""
    return os.environ.get(ENV_SWITCH, "").strip().lower() not in ("off", "0", "no", "false")


def cache_root() -> Path:
    """``dvmirror`` in the user's cache directory (honours ``XDG_CACHE_HOME``)."""
    import platformdirs

    return platformdirs.user_cache_path("dvmirror", appauthor=False)


def _key(*parts: str) -> str:
    """A file name for these parts: the SHA-256 of them, in hex (names can hold anything)."""
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:40]


class Unusable(Exception):
    """A private file that must not be used; ``str()`` says why (without its contents)."""


def read_private(path: Path, limit: int) -> bytes | None:
    """The bytes of ``path``, or None if there is no such file.

    Raises :class:`Unusable` unless it is a regular file (not a symlink, FIFO or device: opened
    with ``O_NOFOLLOW | O_NONBLOCK``, checked with ``fstat``), owned by this user, readable by
    nobody else (mode ``& 0o077 == 0``) and at most ``limit`` bytes long.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as e:  # ELOOP: a symlink
        raise Unusable(f"cannot be opened ({e.strerror or e})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unusable("is not a regular file")
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise Unusable(f"belongs to user id {info.st_uid}, not to this user")
        if info.st_mode & 0o077:
            raise Unusable(f"has mode {stat.S_IMODE(info.st_mode):04o}: others may read it (it must be 0600)")
        if info.st_size > limit:
            raise Unusable(f"is too large ({info.st_size:,} bytes; the limit is {limit:,})")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise Unusable(f"grew past {limit:,} bytes while being read")
        return data
    except OSError as e:
        raise Unusable(f"cannot be read ({e.strerror or e})") from None
    finally:
        os.close(fd)


def _private_folders(folder: Path) -> None:
    """``folder`` and dvmirror's cache folder above it, each 0700 (``mkdir``'s mode applies only to
    the last folder it makes, and the umask trims it): names and times of the files stay private."""
    root = cache_root()
    folders = [folder]
    while folders[-1] != root and folders[-1].parent != folders[-1] and root in folders[-1].parents:
        folders.append(folders[-1].parent)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for f in folders:
        st = f.stat()
        if st.st_uid == os.getuid() and st.st_mode & 0o077:
            f.chmod(0o700)


def write_private(path: Path, parts: list[bytes]) -> str | None:
    """Write ``parts`` to ``path`` atomically (a fresh 0600 temporary file in the same folder,
    fsync, rename); the folders are created with mode 0700. Returns why it failed, or None."""
    folder = path.parent
    tmp = ""
    try:
        _private_folders(folder)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as f:
            for part in parts:
                f.write(part)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = ""
    except OSError as e:
        return f"cannot write {path}: {e.strerror or e}"
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return None


def forget(path: Path) -> None:
    """Remove ``path`` if it is there (quietly)."""
    with contextlib.suppress(OSError):
        path.unlink()


# -- the session ------------------------------------------------------------------------------


class SessionRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The JSON of a session file."""

    format: str
    version: int
    url: str
    user: str
    session: str
    """The ``vmware_soap_session`` cookie's value."""
    api: str = ""
    """The pyVmomi version id the session spoke (``vim.version.v8_0_3_0``), to skip negotiating it."""
    saved: float = 0.0


class SessionCache:
    """Session ids of vCenters, one file per server (URL) and user, under :func:`cache_root`."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder if folder is not None else cache_root() / "sessions"

    def path(self, settings: Settings) -> Path:
        return self.folder / _key(settings.url, settings.user.lower(), f"insecure={settings.insecure}")

    def has(self, settings: Settings) -> bool:
        """True if a session file is there for this server and user (not yet verified)."""
        return self.load(settings) is not None

    def load(self, settings: Settings) -> SessionRecord | None:
        """The saved session of this server and user, or None (why: a debug message)."""
        path = self.path(settings)
        try:
            raw = read_private(path, SESSION_LIMIT)
        except Unusable as e:
            log.debug("session file %s ignored: it %s", path, e)
            return None
        if raw is None:
            log.debug("no saved session for %s@%s", settings.user, settings.url)
            return None
        try:
            record = msgspec.json.decode(raw, type=SessionRecord)
        except msgspec.MsgspecError as e:
            log.debug("session file %s ignored: not a dvmirror session file (%s)", path, e)
            return None
        why = ""
        if record.format != SESSION_FORMAT or record.version != FORMAT_VERSION:
            why = f"format {record.format!r} version {record.version}, not {SESSION_FORMAT!r} {FORMAT_VERSION}"
        elif record.url != settings.url or record.user.lower() != settings.user.lower():
            why = "it is for another server or user"
        elif not _SESSION_ID.fullmatch(record.session):
            why = "the session id holds characters a vCenter session id does not"
        if why:
            log.debug("session file %s ignored: %s", path, why)
            return None
        return record

    def save(self, settings: Settings, session: str, api: str) -> None:
        """Keep ``session`` (the cookie's value) for this server and user; quietly not if it fails."""
        if not _SESSION_ID.fullmatch(session):
            log.debug("session of %s not saved: its id is not one dvmirror would read back", settings.url)
            return
        record = SessionRecord(
            format=SESSION_FORMAT,
            version=FORMAT_VERSION,
            url=settings.url,
            user=settings.user,
            session=session,
            api=api,
            saved=time.time(),
        )
        failed = write_private(self.path(settings), [msgspec.json.encode(record), b"\n"])
        if failed:
            log.debug("session not saved: %s", failed)

    def forget(self, settings: Settings) -> None:
        forget(self.path(settings))


# -- the inventory ----------------------------------------------------------------------------


class CacheHeader(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The first line of an inventory cache file."""

    format: str
    version: int
    url: str
    user: str
    datacenter: str
    saved: float
    """When the inventory was loaded (seconds since the epoch)."""
    snapshot: int
    """The snapshot format version of the rest of the file."""


@dataclass(frozen=True)
class Cached:
    """An inventory read from the cache, and when it was loaded."""

    inventory: Inventory
    saved: float

    @property
    def age(self) -> float:
        """Seconds since it was loaded."""
        return max(0.0, time.time() - self.saved)


CLOCK_SKEW = 60.0
"""A cache saved up to this many seconds in the future is taken as new; later, it is ignored."""


class InventoryCache:
    """The last inventory of each vCenter, user and datacenter scope, under :func:`cache_root`."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder if folder is not None else cache_root() / "inventory"

    def path(self, settings: Settings) -> Path:
        return self.folder / f"{_key(settings.url, settings.user.lower(), settings.datacenter)}.json"

    def load(self, settings: Settings, max_age: float) -> Cached | None:
        """The cached inventory if it is at most ``max_age`` seconds old and is this scope's, else None."""
        from tui.backends.snapshot import SNAPSHOT_SIZE_LIMIT, VERSION, SnapshotError, decode_inventory

        path = self.path(settings)
        try:
            raw = read_private(path, SNAPSHOT_SIZE_LIMIT)
        except Unusable as e:
            log.debug("inventory cache %s ignored: it %s", path, e)
            return None
        if raw is None:
            log.debug("no cached inventory for %s", settings.url)
            return None
        line, _, body = raw.partition(b"\n")
        try:
            head = msgspec.json.decode(line, type=CacheHeader)
        except msgspec.MsgspecError as e:
            log.debug("inventory cache %s ignored: its first line is not a dvmirror cache header (%s)", path, e)
            return None
        now = time.time()
        why = ""
        if head.format != CACHE_FORMAT or head.version != FORMAT_VERSION or head.snapshot != VERSION:
            why = f"format {head.format!r} {head.version} (snapshot {head.snapshot}), not {CACHE_FORMAT!r} "
            why += f"{FORMAT_VERSION} (snapshot {VERSION})"
        elif (head.url, head.user.lower(), head.datacenter) != (
            settings.url,
            settings.user.lower(),
            settings.datacenter,
        ):
            why = "it is for another server, user or datacenter"
        elif head.saved > now + CLOCK_SKEW:
            why = "it says it was saved in the future"
        elif now - head.saved > max_age:
            log.debug("inventory cache %s not used: %.0f s old (the limit is %g s)", path, now - head.saved, max_age)
            return None
        if why:
            log.debug("inventory cache %s ignored: %s", path, why)
            return None
        try:
            inventory = decode_inventory(body, path, f"cache of {settings.url}")
        except SnapshotError as e:
            log.debug("inventory cache %s ignored: %s", path, e.message)
            return None
        return Cached(inventory, head.saved)

    def save(self, settings: Settings, inventory: Inventory, saved: float | None = None) -> None:
        """Keep ``inventory`` (loaded at ``saved``, default now) for this scope; quietly not if it fails."""
        from tui.backends import snapshot_format
        from tui.backends.snapshot import VERSION
        from tui.text import json_safe

        when = time.time() if saved is None else saved
        head = CacheHeader(
            format=CACHE_FORMAT,
            version=FORMAT_VERSION,
            url=settings.url,
            user=settings.user,
            datacenter=settings.datacenter,
            saved=when,
            snapshot=VERSION,
        )
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
        body = snapshot_format.encode(snapshot_format.from_inventory(inventory, stamp), indent=0)
        body = json_safe(body.decode("utf-8")).encode("utf-8")  # as a snapshot: `cat` of it is harmless
        failed = write_private(self.path(settings), [msgspec.json.encode(head), b"\n", body, b"\n"])
        if failed:
            log.debug("inventory not cached: %s", failed)

    def forget(self, settings: Settings) -> None:
        forget(self.path(settings))


def parse_duration(text: str) -> float:
    """``--max-age``: ``90``, ``90s``, ``5m``, ``2h``, ``1d`` or ``0`` → seconds. Raises ValueError."""
    value = text.strip().lower()
    m = re.fullmatch(r"([0-9]{1,9})(?:\.([0-9]{1,3}))?\s*(s|m|h|d)?", value)
    if not m:
        raise ValueError(f"{text!r} is not a duration (for example 90s, 5m, 2h, 1d)")
    number = float(f"{m.group(1)}.{m.group(2) or 0}")
    return number * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(3) or "s"]
