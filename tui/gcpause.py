"""Pausing Python's cyclic garbage collector around bulk work (loads, snapshot reads, index builds).

Pure standard library: the backends, the snapshot reader and the lookup index all use it.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_gc_lock = threading.Lock()
_gc_depth = 0
_gc_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a big response is turned into objects.

    Parsing allocates millions of short-lived tracked objects next to a large live inventory;
    the collector's repeated scans of that inventory cost more than the parse itself (at 40,000
    VMs, 24,800 ports: 10.8 s with the collector, 1.7 s without). Reference counting still frees
    everything as usual; only cycles wait until the pause ends (a few seconds). Pauses nest and
    are thread-safe; the collector is re-enabled only if it was enabled before the first one.
    """
    global _gc_depth, _gc_was_enabled
    with _gc_lock:
        if _gc_depth == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_was_enabled:
                gc.enable()


FREEZE_AT = 5_000
"""Ports from which a finished inventory (or its index) is frozen (:func:`freeze_large`)."""


def freeze_large(ports: int) -> None:
    """Move every object the collector tracks to its permanent generation (``gc.freeze``) when
    ``ports`` is at least :data:`FREEZE_AT`: what was just built outlives the next scans.

    After a pause every object made during it is young, so the next collections go over all of
    them, and every full collection goes over them again: at 40,000 VMs 0.5 s of CPU for the next
    200,000 small allocations and 0.2 s per full collection, 0.04 s and 0.003 s once frozen
    (bench_snapshot.py). Frozen objects are still freed when nothing refers to them (the
    inventory and the index hold no reference cycles); only a cycle that becomes garbage later
    waits for ``gc.unfreeze``, which is why a small inventory (tests, the demo lab) is not frozen,
    and why only the CLI freezes (:func:`tui.cli.load`: a process that ends with the command): in the
    app, garbage made meanwhile by other threads, and screens dismissed later, would stay for good.
    """
    if ports >= FREEZE_AT:
        gc.freeze()
