"""Where dvmirror's files are: stylesheets in a checkout and in an installed wheel alike."""

from __future__ import annotations

from pathlib import Path

STYLES_DIR = Path(__file__).resolve().parent.parent / "styles"
"""``styles/`` beside ``tui/`` (hatch ships it in the wheel at the same place)."""
