"""The Backend protocol's optional capability of following changes (tui/backends/__init__.py ``Followable``)."""

from __future__ import annotations

import inspect

from tui.backends import Backend, Followable, followable
from tui.backends.snapshot import SnapshotBackend
from tui.backends.vsphere import VsphereBackend


def test_vcenter_can_follow_and_offline_labs_cannot() -> None:
    assert issubclass(VsphereBackend, Followable)
    demo = SnapshotBackend()
    assert followable(demo) is None, "the demo lab and snapshots do not change under dvmirror"
    assert not hasattr(Backend, "follow"), "an optional capability, not every backend's"


def test_follow_is_declared_as_the_vsphere_backend_has_it() -> None:
    declared = inspect.signature(Followable.follow)
    actual = inspect.signature(VsphereBackend.follow)
    assert list(declared.parameters) == list(actual.parameters) == ["self", "inventory", "on_update", "stop", "resync"]
    assert actual.parameters["resync"].kind is inspect.Parameter.KEYWORD_ONLY
