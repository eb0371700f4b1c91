"""Writing a private file atomically: a fresh 0600 temporary file beside it, fsync, then a rename.

The temporary file is created exclusively (``tempfile.mkstemp``: ``O_EXCL``, a random name, mode
0600), so nothing planted at a predictable name is followed or reused, and a reader sees the old
file or the new one, never half of one. Pure standard library (the stores of session baselines and
monitor-port records use it).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, mode 0600 (its folder made 0700 if missing). Raises ``OSError``."""
    path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
