"""Where the real models and labelled images live (``../shared``), and skips when they do not.

``../shared`` exists on developers' machines and in CI, not in a user's clone; tests that need it skip
with a reason naming the missing path.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tools.common.shared import PROJECT_ROOT, shared_root

__all__ = ["DATASETS", "MODELS", "PROJECT_ROOT", "SHARED", "shared_path"]
SHARED = shared_root()
DATASETS = SHARED / "datasets"
MODELS = SHARED / "models"


def shared_path(relative: str) -> Path:
    """The path under ``../shared``, or skip the test with a reason when it is absent."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"needs {path} (the shared models/datasets folder beside the project), absent here")
    return path
