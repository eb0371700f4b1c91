"""config.toml and the files settings name: read safely, every key checked against the table.

:func:`load_config_file` reads the profile file (a regular file of at most
:data:`CONFIG_SIZE_LIMIT` bytes of UTF-8 TOML) and refuses passwords and unknown or mistyped
keys, naming the TOML path (``profiles.lab.urll: unknown setting``); the keys and types of a
profile come from :data:`tui.setting_table.SETTINGS`. :func:`read_regular_file` is the one way
dvmirror reads a file it was pointed at (FIFOs, devices and huge files are refused at once).

The check stays hand-written, unlike the snapshot format's msgspec Structs: msgspec names a value
of a table of profiles ``$.profiles[...].url`` (not which profile) and lists no known keys, and the
table of settings already declares each profile key and its kind once.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from tui.setting_table import (
    ALLOWED_SESSIONS,
    BOOL,
    PROFILE_KEYS,
    SECONDS,
    SETTINGS,
    TOP_LEVEL_KEYS,
    URL,
    ConfigError,
    normalize_thumbprint,
    parse_server,
    profile_timeout,
)
from tui.text import has_unsafe, visible

CONFIG_SIZE_LIMIT = 1 << 20
"""config.toml and known-hosts files larger than this (1 MiB) are refused."""

_PASSWORD_KEYS = ("password", "passwd", "pwd", "pass", "secret")


# -- config.toml ----------------------------------------------------------------------


def default_config_path() -> Path:
    """``config.toml`` in the platform's user config directory (``~/.config/dvmirror`` on Linux)."""
    from platformdirs import user_config_path

    return user_config_path("dvmirror", appauthor=False) / "config.toml"


class FileProblem(Exception):
    """A file that must not be read: ``str(error)`` says why (without the file name)."""


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``limit`` bytes.

    Opened with ``O_NONBLOCK`` and checked with ``fstat`` before reading, so a FIFO, a device
    (``/dev/zero``, ``/dev/urandom``), a socket or a directory is refused at once instead of
    hanging or reading forever. Raises :class:`FileProblem` (and ``FileNotFoundError`` for a
    missing file, so that callers can treat that case on its own).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as e:
        raise FileProblem(f"cannot be opened ({e.strerror or e})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileProblem("is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem("is not a regular file (a FIFO, a device or a socket): refused")
        if info.st_size > limit:
            raise FileProblem(f"is too large ({info.st_size:,} bytes; the limit is {limit:,})")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew while being read
            raise FileProblem(f"is too large (more than {limit:,} bytes)")
        return b"".join(chunks)
    except OSError as e:
        raise FileProblem(f"cannot be read ({e.strerror or e})") from None
    finally:
        os.close(fd)


def load_config_file(path: Path, *, required: bool, profile_errors: dict[str, str] | None = None) -> dict[str, Any]:
    """Read and check the TOML profile file. A missing default file is an empty config.

    Only a regular file of at most :data:`CONFIG_SIZE_LIMIT` bytes of UTF-8 TOML is read;
    anything else is a :class:`ConfigError` naming the file. With ``profile_errors``, a profile
    whose own keys or values are bad does not fail the file: its message is put there under its
    name (the profile stays in the contents, unchecked: its user must refuse it). A password
    anywhere still fails the whole file.
    """
    try:
        raw = read_regular_file(path, CONFIG_SIZE_LIMIT)
    except FileNotFoundError:
        if required:
            raise ConfigError(f"config file {path} does not exist") from None
        return {}
    except FileProblem as e:
        raise ConfigError(f"config file {path} {e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {e.start} cannot be decoded)") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from None
    except RecursionError:
        raise ConfigError(f"config file {path} is nested too deeply") from None
    except ValueError as e:  # e.g. an integer of more than 4,300 digits
        raise ConfigError(f"config file {path} has a value that cannot be read: {e}") from None
    _check_config(data, path, profile_errors)
    return data


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _dotted(*keys: str) -> str:
    """A TOML key path as it would be written: ``profiles.lab.url``, ``profiles."my lab".url``."""
    return ".".join(k if _BARE_KEY.fullmatch(k) else '"' + visible(k).replace('"', '\\"') + '"' for k in keys)


_PROFILE_TYPES: dict[str, str] = {s.profile: s.kind for s in SETTINGS if s.profile}


def _check_config(data: dict[str, Any], path: Path, profile_errors: dict[str, str] | None = None) -> None:
    """Refuse passwords on disk and unknown or mistyped keys; flatten ``[keymap.SCREEN]`` tables.
    A bad profile's message goes to ``profile_errors`` when given (see :func:`load_config_file`)."""
    _refuse_passwords(data, path, "")
    _known_keys(data, TOP_LEVEL_KEYS, path)
    for key in ("default_profile", "theme"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError(f"{path}: {key} must be text")
    if "keymap" in data:
        data["keymap"] = _flat_keymap(data["keymap"], path)
    if ALLOWED_SESSIONS in data:
        data[ALLOWED_SESSIONS] = _session_names(data[ALLOWED_SESSIONS], path, ALLOWED_SESSIONS)
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError(f"{path}: profiles must be tables such as [profiles.lab]")
    for name, prof in profiles.items():
        try:
            _check_profile(name, prof, path)
        except ConfigError as e:
            if profile_errors is None:
                raise
            profile_errors[name] = str(e)


def _check_profile(name: str, prof: Any, path: Path) -> None:
    if not isinstance(prof, dict):
        raise ConfigError(f"{path}: [{_dotted('profiles', name)}] must be a table")
    _known_keys(prof, PROFILE_KEYS, path, "profiles", name)
    for key, value in prof.items():
        if key == ALLOWED_SESSIONS:
            prof[key] = _session_names(value, path, _dotted("profiles", name, key))
        else:
            _check_profile_value(_PROFILE_TYPES[key], value, path, _dotted("profiles", name, key))


def _session_names(value: Any, path: Path, where: str) -> tuple[str, ...]:
    """``allowed_sessions``: a list of session names (as vCenter takes them: at most 80 characters)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'{path}: {where} must be a list of session names, such as ["DMZ-IDS"]')
    for v in value:
        if len(v) > 80 or has_unsafe(v):
            raise ConfigError(
                f"{path}: {where}: {visible(v)!r} is not a session name (at most 80 characters, no control characters)"
            )
    return tuple(value)


def _known_keys(table: dict[str, Any], known: tuple[str, ...], path: Path, *where: str) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(
                f"{path}: {_dotted(*where, key)}: unknown setting {visible(key)!r} (known: {', '.join(known)})"
            )


def _check_profile_value(kind: str, value: Any, path: Path, where: str) -> None:
    if kind == SECONDS:
        profile_timeout(value, f"{path}: {where}")
        return
    if not isinstance(value, bool if kind == BOOL else str):
        raise ConfigError(f"{path}: {where} must be {'true or false' if kind == BOOL else 'text'}")
    if kind == URL and isinstance(value, str) and parse_server(value, f"{path}: {where}").password:
        raise ConfigError(
            f"{path}: {where} contains a password. dvmirror never keeps passwords on disk; "
            "remove it and use DVMIRROR_PASSWORD, the OS keyring or the prompt"
        )


def _flat_keymap(keymap: Any, path: Path) -> dict[str, str]:
    """``[keymap]`` as binding id → keys; ``explorer.find = "f"`` (a TOML dotted key) and a
    ``[keymap.explorer]`` table both give the id ``explorer.find``."""
    if not isinstance(keymap, dict):
        raise ConfigError(f'{path}: [keymap] must be a table of binding id = "keys"')
    flat: dict[str, str] = {}
    for name, value in keymap.items():
        items = value.items() if isinstance(value, dict) else [("", value)]
        for action, key in items:
            binding_id = f"{name}.{action}" if action else name
            if not isinstance(key, str) or not key or visible(key) != key:  # no control characters
                raise ConfigError(f'{path}: keymap.{visible(binding_id)} must be a key name such as "s" or "ctrl+f"')
            flat[binding_id] = key
    return flat


def _refuse_passwords(data: dict[str, Any], path: Path, prefix: str) -> None:
    for key, value in data.items():
        if key.lower() in _PASSWORD_KEYS:
            where = f"[{prefix}] " if prefix else ""
            raise ConfigError(
                f"{path}: {where}has a {key!r} key. dvmirror never reads passwords from files; remove it "
                "and use DVMIRROR_PASSWORD (or GOVC_PASSWORD), the OS keyring or the prompt"
            )
        if isinstance(value, dict):
            _refuse_passwords(value, path, f"{prefix}.{key}" if prefix else key)


def check_not_special(path: Path, what: str) -> None:
    """Refuse a FIFO, device, socket or directory where a file is expected (reading it would
    hang or fail obscurely); a missing file is left to the code that opens it."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if stat.S_ISDIR(mode):
        raise ConfigError(f"{what} {path} is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise ConfigError(f"{what} {path} is not a regular file (a FIFO, a device or a socket): refused")


def read_known_hosts(files: str, host_port: str) -> str:
    """The thumbprint pinned for ``host_port`` in govc known-hosts file(s).

    ``files`` is a list separated by ``os.pathsep``; missing files are skipped as govc does.
    Returns '' when there is no entry. Raises :class:`ConfigError` for an unreadable file or
    a malformed thumbprint.
    """
    found = ""
    for name in files.split(os.pathsep):
        if not name:
            continue
        path = Path(os.path.expanduser(name))
        try:
            lines = read_regular_file(path, CONFIG_SIZE_LIMIT).decode("utf-8").splitlines()
        except FileNotFoundError:
            continue
        except FileProblem as e:
            raise ConfigError(f"known-hosts file {path} {e}") from None
        except UnicodeDecodeError as e:
            raise ConfigError(f"known-hosts file {path} is not UTF-8 text (byte {e.start} cannot be decoded)") from None
        for n, line in enumerate(lines, 1):
            parts = line.strip().split(" ", 1)
            if len(parts) != 2 or line.lstrip().startswith("#"):
                continue
            key = parts[0] if re.search(r":\d+$", parts[0]) else f"{parts[0]}:443"
            if key == host_port:
                found = normalize_thumbprint(parts[1], f"{path}:{n}")
    return found
