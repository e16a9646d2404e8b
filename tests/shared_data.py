"""Where the real models and labelled images live (``../shared``), and skips when they do not.

``../shared`` exists on developers' machines and in CI, not in a user's clone; tests that need it skip
with a reason naming the missing path.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FACECORE_SHARED", PROJECT_ROOT.parent / "shared"))
DATASETS = SHARED / "datasets"
MODELS = SHARED / "models"


def shared_path(relative: str) -> Path:
    """The path under ``../shared``, or skip the test with a reason when it is absent."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"needs {path} (the shared models/datasets folder beside the project), absent here")
    return path
