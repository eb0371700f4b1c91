"""A problem with a change, in plain words: a rule the app checks, or a fault vCenter returned.

Pure Python: no Textual, no pyVmomi.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How serious a problem is: errors block a change, warnings do not; an info note
    (:mod:`tui.drift`) is only shown."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Problem:
    """A rule violation or a vCenter fault, in plain words."""

    code: str
    """vCenter's fault name (``VspanPortConflict``) or an app warning code."""
    message: str
    field: str = ""
    """The session field concerned (model attribute name), or empty."""
    severity: Severity = Severity.ERROR

    def to_json(self) -> dict[str, str]:
        """The CLI JSON shape."""
        return {"code": self.code, "severity": self.severity.value, "field": self.field, "message": self.message}
