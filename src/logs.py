"""Logging set-up: one line per event, a request id on request lines, never image content."""
from __future__ import annotations

import logging
import sys


def configure(level: str) -> None:
    root = logging.getLogger()
    if not any(getattr(h, "_facecore", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._facecore = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper())
