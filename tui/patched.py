"""Immutable mappings that share one large dictionary and hold only what changed since it.

A live update (:mod:`tui.inventory_update`) changes a few VMs and ports of an inventory of tens of
thousands; copying the inventory's dictionaries for each update would make its cost grow with the
inventory. :func:`patch` gives a :class:`Patched` mapping instead: the previous dictionary, shared
and never modified, plus a small dictionary of the entries set since and the keys removed. A point
lookup is two dictionary lookups; the first iteration builds the flat dictionary once (what any
reader iterating pays anyway) and keeps it, and the next patch starts from it. When the patched
entries pass :func:`budget` (√n, at least 64) the mapping is flattened at once, so a chain of
updates never holds more than that and one update costs O(changed entries + √n), amortized.

:func:`regroup` does the same for the inventory's groups (portgroup or switch → its ports, in
order): a group holding a replaced port is built again when it is first read, by the reader that
asked for the whole group.

Iteration order is a dictionary's, as if the changes had been made on a copy: a replaced key keeps
its place, a new key comes last. Keys given as ``moved`` (a renamed VM) are placed again by
``order`` (bisect, in a base already in that order) when the mapping is flattened. Equal to any
mapping with the same items, like a ``dict``. Pure Python.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Hashable, ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from collections.abc import Set as AbstractSet
from math import isqrt
from typing import Any, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
G = TypeVar("G", bound=Hashable)
T = TypeVar("T")

_MISSING: Any = object()
MOVED_SORT = 16
"""More keys to place again than this: the flat dictionary is sorted by ``order`` instead (stable)."""


def budget(n: int) -> int:
    """How many patched entries a mapping over ``n`` entries holds before it is flattened."""
    return max(64, isqrt(n))


class Patched(Mapping[K, V]):
    """``base`` (shared, never modified) with ``top`` set and ``gone`` removed; read-only. Build with :func:`patch`."""

    __slots__ = ("_base", "_flat", "_gone", "_len", "_moved", "_order", "_top")

    def __init__(
        self,
        base: dict[K, V],
        top: dict[K, V],
        gone: frozenset[K],
        moved: tuple[K, ...] = (),
        order: Callable[[V], Any] | None = None,
    ) -> None:
        self._base, self._top, self._gone, self._moved, self._order = base, top, gone, moved, order
        self._flat: dict[K, V] | None = None
        self._len = len(base) - len(gone) + sum(1 for k in top if k not in base)

    def _flatten(self) -> dict[K, V]:
        flat = self._flat
        if flat is None:
            flat = _flat(self._base, self._top, self._gone, self._moved, self._order)
            self._flat = flat  # two threads may both build it: the same dictionary
        return flat

    def __getitem__(self, key: K) -> V:
        flat = self._flat
        if flat is not None:
            return flat[key]
        value = self._top.get(key, _MISSING)
        if value is not _MISSING:
            return value
        if key in self._gone:
            raise KeyError(key)
        return self._base[key]

    def get(self, key: K, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        flat = self._flat
        if flat is not None:
            return key in flat
        return key in self._top or (key in self._base and key not in self._gone)

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[K]:
        return iter(self._flatten())

    def keys(self) -> KeysView[K]:
        return self._flatten().keys()

    def values(self) -> ValuesView[V]:
        return self._flatten().values()

    def items(self) -> ItemsView[K, V]:
        return self._flatten().items()

    def _views(self) -> list[tuple[dict[K, V], Mapping[K, V], AbstractSet[K]]]:
        """``(base, set, removed)`` ways of reading this mapping (flattened or not)."""
        out: list[tuple[dict[K, V], Mapping[K, V], AbstractSet[K]]] = []
        if self._flat is not None:
            out.append((self._flat, {}, frozenset()))
        out.append((self._base, self._top, self._gone))
        return out

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        theirs: list[tuple[object, Mapping[Any, Any], AbstractSet[Any]]] = []
        theirs += other._views() if isinstance(other, Patched) else [(other, {}, frozenset())]
        for base, top, gone in self._views():
            for their_base, their_top, their_gone in theirs:
                if base is their_base:  # one dictionary under both: only what either patched may differ
                    assert isinstance(other, Mapping)
                    keys = {*top, *gone, *their_top, *their_gone}
                    return all(self.get(k, _MISSING) == other.get(k, _MISSING) for k in keys)
        if isinstance(other, Patched):
            other = other._flatten()
        if not isinstance(other, Mapping):
            return NotImplemented
        return self._flatten() == (other if isinstance(other, dict) else dict(other.items()))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Patched({self._flatten()!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (self._flatten(),))


def _flat(
    base: dict[K, V], top: dict[K, V], gone: frozenset[K], moved: tuple[K, ...], order: Callable[[V], Any] | None
) -> dict[K, V]:
    flat = dict(base)
    for key in gone:
        del flat[key]
    flat.update(top)
    if not moved or order is None:
        return flat
    if len(moved) > MOVED_SORT:
        return dict(sorted(flat.items(), key=lambda kv: order(kv[1])))
    # Taken out first, then each put back at its place: bisect needs the others in order.
    was = {k: i for i, k in enumerate(flat)}
    out = [k for k in dict.fromkeys(moved) if k in flat]
    placing = [(k, flat.pop(k)) for k in out]
    keys, values = list(flat), list(flat.values())
    for key, value in placing:
        # In ``order``, as every load and build gives them: the place is found in O(log n) comparisons.
        # Among equal ones (two VMs of one name), where it was before, as the stable sort above keeps it.
        rank = order(value)
        lo, hi = bisect.bisect_left(values, rank, key=order), bisect.bisect_right(values, rank, key=order)
        to = lo + bisect.bisect_left(keys[lo:hi], was[key], key=was.__getitem__)
        keys.insert(to, key)
        values.insert(to, value)
    return dict(zip(keys, values, strict=True))


def patch(
    mapping: Mapping[K, V],
    updates: Mapping[K, V] | Iterable[tuple[K, V]] = (),
    removed: Iterable[K] = (),
    *,
    moved: Iterable[K] = (),
    order: Callable[[V], Any] | None = None,
) -> Mapping[K, V]:
    """``mapping`` with ``removed`` taken out, then ``updates`` set; ``mapping`` is not modified.

    ``moved`` (keys of ``updates``) are placed again by ``order`` when the result is flattened.
    Costs the size of the change (plus the entries patched since the last flatten, at most
    :func:`budget`), not the size of ``mapping``.
    """
    if isinstance(mapping, Patched):
        if mapping._flat is not None:
            base, top, gone, was_moved = mapping._flat, {}, set(), ()
        else:
            base, top, gone, was_moved = mapping._base, dict(mapping._top), set(mapping._gone), mapping._moved
            order = order or mapping._order
    elif isinstance(mapping, dict):
        base, top, gone, was_moved = mapping, {}, set(), ()
    else:
        base, top, gone, was_moved = dict(mapping.items()), {}, set(), ()
    for key in removed:
        top.pop(key, None)
        if key in base:
            gone.add(key)
    pairs = updates.items() if isinstance(updates, Mapping) else updates
    for key, value in pairs:
        top[key] = value
        gone.discard(key)
    moved_now = (*was_moved, *moved)
    result = Patched(base, top, frozenset(gone), moved_now, order)
    if len(top) + len(gone) > budget(len(base)):
        return result._flatten()
    return result


class Regrouped(Mapping[G, tuple[T, ...]]):
    """Groups of ``base`` (shared) with some members replaced; a group is built again when first read.

    Build with :func:`regroup`. Each replaced member is kept with the member it replaced in ``base``
    (so two of one chain compare in the size of what they replaced); where each member sits in its
    base group is found when a group is first built, once for the whole chain over one base."""

    __slots__ = ("_base", "_built", "_ident", "_pending", "_positions", "_size")

    def __init__(
        self,
        base: Mapping[G, tuple[T, ...]],
        pending: dict[G, dict[Hashable, tuple[T, T]]],
        ident: Callable[[T], Hashable],
        positions: dict[G, dict[Hashable, int]],
    ) -> None:
        self._base, self._pending, self._ident, self._positions = base, pending, ident, positions
        self._built: dict[G, tuple[T, ...]] = {}
        self._size = sum(len(v) for v in pending.values())

    def _where(self, group: G) -> dict[Hashable, int]:
        where = self._positions.get(group)
        if where is None:
            ident = self._ident
            where = {ident(m): i for i, m in enumerate(self._base[group])}
            self._positions[group] = where  # two threads may both find it: equal dictionaries
        return where

    def __getitem__(self, group: G) -> tuple[T, ...]:
        members = self._base[group]
        replaced = self._pending.get(group)
        if replaced is None:
            return members
        built = self._built.get(group)
        if built is None:
            where = self._where(group)
            copy = list(members)
            for key, (_, member) in replaced.items():
                copy[where[key]] = member
            built = tuple(copy)
            self._built[group] = built  # two threads may both build it: equal tuples
        return built

    def get(self, group: G, default: Any = None) -> Any:
        try:
            return self[group]
        except KeyError:
            return default

    def __contains__(self, group: object) -> bool:
        return group in self._base

    def __len__(self) -> int:
        return len(self._base)

    def __iter__(self) -> Iterator[G]:
        return iter(self._base)

    def _flatten(self) -> dict[G, tuple[T, ...]]:
        return {g: self[g] for g in self._base}

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if isinstance(other, Regrouped) and other._base is self._base:
            # One base under both: only the members either replaced may differ.
            mine, theirs = self._pending, other._pending
            for group in {*mine, *theirs}:
                a, b = mine.get(group, {}), theirs.get(group, {})
                if a is b:
                    continue
                for key in {*a, *b}:
                    ea, eb = a.get(key), b.get(key)
                    va = ea[1] if ea is not None else eb[0]  # type: ignore[index]
                    vb = eb[1] if eb is not None else ea[0]  # type: ignore[index]
                    if va != vb:
                        return False
            return True
        if other is self._base:
            return all(new == was for r in self._pending.values() for was, new in r.values())
        if isinstance(other, Regrouped):
            other = other._flatten()
        if not isinstance(other, Mapping):
            return NotImplemented
        return self._flatten() == (other if isinstance(other, dict) else dict(other.items()))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Regrouped({self._flatten()!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (self._flatten(),))


def regroup(
    groups: Mapping[G, tuple[T, ...]],
    replaced: Iterable[tuple[G, T, T]],
    ident: Callable[[T], Hashable],
) -> Mapping[G, tuple[T, ...]]:
    """``groups`` with, for each ``(group, old, new)`` of ``replaced``, ``new`` in place of ``old`` (the member
    of that group with the same ``ident``, which the caller guarantees is there); ``groups`` is not modified.
    A group not in ``groups`` is left out."""
    if isinstance(groups, Regrouped):
        base, pending, positions = groups._base, dict(groups._pending), groups._positions
        ident = groups._ident
    else:
        base, pending, positions = groups, {}, {}
    copied: set[G] = set()
    for group, old, new in replaced:
        if group not in base:
            continue
        if group not in copied:
            pending[group] = dict(pending.get(group, {}))
            copied.add(group)
        key = ident(new)
        was = pending[group].get(key)
        pending[group][key] = (was[0] if was is not None else old, new)  # the member of the base it replaces
    result = Regrouped(base, pending, ident, positions)
    if isinstance(groups, Regrouped):  # groups already built stay built
        result._built.update((g, b) for g, b in groups._built.items() if g not in copied)
    if result._size > budget(len(base)):
        return result._flatten()
    return result
