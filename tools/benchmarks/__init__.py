"""Benchmarks: the service against the library users would pick instead, and the FLOP floor of each model.

``python -m tools.benchmarks.compare`` (throughput and latency), ``python -m tools.benchmarks.flops`` (floor),
``python -m tools.benchmarks.profile_request`` (where a default-plugins request spends its time).
"""
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: The shared models and datasets (read-only), one place for every benchmark; FACECORE_SHARED as in the tests.
SHARED = Path(os.environ.get("FACECORE_SHARED", PROJECT_ROOT.parent / "shared"))
