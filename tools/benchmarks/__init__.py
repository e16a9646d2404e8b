"""Benchmarks: the service against the library users would pick instead, and the FLOP floor of each model.

``python -m tools.benchmarks.compare`` (throughput and latency), ``python -m tools.benchmarks.flops`` (floor),
``python -m tools.benchmarks.profile_request`` (where a default-plugins request spends its time),
``python -m tools.benchmarks.dlib_chips`` (what dlib's face chips cost, by face and photo size).
"""
from tools.common.shared import PROJECT_ROOT, shared_root

__all__ = ["PROJECT_ROOT", "SHARED"]
#: The shared models and datasets (read-only), as for the tests (FACECORE_SHARED or ../shared).
SHARED = shared_root()
