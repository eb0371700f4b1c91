"""tui/patched.py: mappings that share a dictionary and hold only what changed read like the dictionary changed."""

from __future__ import annotations

import copy
import pickle
import random
from typing import Any

import pytest

from tui.patched import Patched, Regrouped, budget, patch, regroup


def test_a_chain_of_patches_reads_like_a_dictionary_changed_in_place() -> None:
    """Replacements, new keys and removals, patch after patch (flattened on the way): the same items,
    lookups, length and order as a dict changed the same way."""
    rnd = random.Random(11)
    ref = {f"k{i}": i for i in range(500)}
    mapping: dict[str, int] | Patched[str, int] = dict(ref)
    fresh = 500
    removed: set[str] = set()
    for step in range(400):
        updates, gone = {}, []
        for _ in range(rnd.randint(1, 6)):
            roll = rnd.random()
            live = list(ref)
            if roll < 0.5:
                key = rnd.choice(live)
                updates[key] = ref[key] = -step
            elif roll < 0.8:
                key = f"k{fresh}"
                fresh += 1
                updates[key] = ref[key] = step
            else:
                key = rnd.choice([k for k in live if k not in updates])
                gone.append(key)
                del ref[key]
                removed.add(key)
        before = dict(mapping.items())
        after = patch(mapping, updates, gone)
        assert dict(mapping.items()) == before, "the mapping patched is not modified"
        probe = rnd.sample(sorted(ref), 5) + rnd.sample(sorted(removed), min(3, len(removed)))
        for key in probe:  # point lookups first: before any iteration flattens it
            assert (key in after) == (key in ref)
            assert after.get(key, "none") == ref.get(key, "none")
        assert len(after) == len(ref)
        if step % 7 == 0:  # sometimes iterated (flattened), sometimes patched again unread
            assert list(after) == list(ref) and list(after.values()) == list(ref.values())
            assert after == ref and ref == after
        mapping = after  # type: ignore[assignment]
    assert dict(mapping.items()) == ref and list(mapping) == list(ref)


def test_lookups_do_not_flatten_and_a_patch_holds_only_the_change() -> None:
    base = {i: str(i) for i in range(10_000)}
    p = patch(base, {3: "three", 10_001: "new"}, [5])
    assert isinstance(p, Patched)
    assert p[3] == "three" and p[10_001] == "new" and 5 not in p and p.get(5) is None and p[4] == "4"
    with pytest.raises(KeyError):
        p[5]
    assert len(p) == 10_000
    assert p._base is base and p._flat is None, "shared, not copied; lookups build nothing"
    q = patch(p, {4: "four"})
    assert isinstance(q, Patched) and q._base is base and len(q._top) == 3
    assert q[3] == "three" and q[4] == "four" and p[4] == "4"


def test_past_its_budget_a_patch_is_flattened() -> None:
    base = {i: i for i in range(10_000)}
    assert budget(10_000) == 100 and budget(10) == 64
    p: object = base
    for i in range(100):
        p = patch(p, {i: -i})  # type: ignore[arg-type]
        assert isinstance(p, Patched)
    flat = patch(p, {100: -100})  # type: ignore[arg-type]
    assert type(flat) is dict and flat == {i: (-i if i <= 100 else i) for i in range(10_000)}


def test_moved_keys_are_placed_by_their_order() -> None:
    names = {f"vm-{i}": f"n{i:04d}" for i in range(1000)}
    base = dict(sorted(names.items(), key=lambda kv: kv[1]))
    p = patch(base, {"vm-3": "zzz"}, moved=["vm-3"], order=str.lower)
    p = patch(p, {"vm-900": "aaa", "vm-5": "n0500x"}, moved=["vm-900", "vm-5"])  # the order is kept
    p = patch(p, {"vm-3": "n0001x"}, moved=["vm-3"])  # moved twice
    expected = dict(sorted({**base, "vm-3": "n0001x", "vm-900": "aaa", "vm-5": "n0500x"}.items(), key=lambda kv: kv[1]))
    assert list(p.items()) == list(expected.items())
    many = patch(base, {k: "m" + v for k, v in list(base.items())[:40]}, moved=list(base)[:40], order=str.lower)
    assert list(many.values()) == sorted(many.values())


def test_copies_are_plain_dictionaries() -> None:
    p = patch({1: "a", 2: "b"}, {2: "c"})
    assert copy.deepcopy(p) == {1: "a", 2: "c"} and pickle.loads(pickle.dumps(p)) == {1: "a", 2: "c"}
    assert p != {1: "a", 2: "b"} and p != [1, 2]


def test_regroup_builds_a_group_again_only_when_read() -> None:
    groups = {"a": ((1, "x"), (2, "y"), (3, "z")), "b": ((4, "w"),)}
    r = regroup(groups, [("a", (2, "y"), (2, "Y")), ("nowhere", (9, "q"), (9, "Q"))], ident=lambda m: m[0])
    assert isinstance(r, Regrouped)
    assert r["b"] is groups["b"], "a group without a replaced member is shared"
    assert r["a"] == ((1, "x"), (2, "Y"), (3, "z")) and groups["a"][1] == (2, "y")
    r2 = regroup(r, [("a", (3, "z"), (3, "Z")), ("b", (4, "w"), (4, "W"))], ident=lambda m: m[0])
    assert r2 == {"a": ((1, "x"), (2, "Y"), (3, "Z")), "b": ((4, "W"),)}
    assert r == {"a": ((1, "x"), (2, "Y"), (3, "z")), "b": ((4, "w"),)}, "the first is unchanged"
    assert list(r2) == ["a", "b"] and len(r2) == 2 and "nowhere" not in r2 and r2.get("nowhere") is None


def test_equality_of_mappings_sharing_a_dictionary_reads_only_what_was_patched() -> None:
    """Versions of one chain compared with each other (and with plain copies) give what comparing their
    items gives, both ways, equal or not; a patch back to the same values is equal again."""
    rnd = random.Random(5)
    base = {i: i for i in range(2000)}
    versions: list[Any] = [base]
    for step in range(150):
        current = versions[-1]
        keys = rnd.sample(range(2000), 3)
        if step % 10 == 9:  # the same values again: equal to the version before
            updates = {k: current[k] for k in keys if k in current}
            versions.append(patch(current, updates))
            assert versions[-1] == current and current == versions[-1]
            continue
        versions.append(patch(current, {k: -step for k in keys[:2]}, keys[2:] if step % 3 == 0 else ()))
        if step % 4 == 0:
            list(versions[-1])  # flattened now and then
    for _ in range(300):
        a, b = rnd.choice(versions), rnd.choice(versions)
        expected = dict(a.items()) == dict(b.items())
        assert (a == b) is expected and (b == a) is expected
        assert (a == dict(b.items())) is expected and (dict(a.items()) == b) is expected
    one, two = patch(base, {1: "x"}), patch(base, {2: "x"})
    assert one != two and one != base and patch(one, {1: 1}) == base


def test_equality_of_regrouped_groups_compares_the_replaced_members() -> None:
    groups = {"a": tuple((i, "x") for i in range(100)), "b": ((500, "w"),)}
    ident = lambda m: m[0]  # noqa: E731
    one = regroup(groups, [("a", (7, "x"), (7, "y"))], ident)
    again = regroup(one, [("a", (7, "y"), (7, "x"))], ident)  # back as it was
    other = regroup(one, [("b", (500, "w"), (500, "v"))], ident)
    same = regroup(groups, [("a", (7, "x"), (7, "y"))], ident)
    assert one != groups and groups != one and one == same and same == one
    assert again == groups and groups == again and again != one and one != again
    assert other != one and one != other and other == {"a": one["a"], "b": ((500, "v"),)}
    assert regroup(groups, [("a", (8, "x"), (8, "x"))], ident) == groups, "replaced by an equal member"
