"""One way to open ONNX Runtime sessions: device placement and thread counts decided in one place."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from src.device import Device, onnx_providers


def open_session(model: Path | bytes, device: Device, threads: int | None = None) -> Any:
    """An ``onnxruntime.InferenceSession`` on ``device`` with a bounded thread pool: ``threads`` when a
    plugin knows better (MTCNN's many small nets), else the device's share of the cores (from Settings)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or device.threads or (os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Idle pool threads must not spin: with several workers on few cores, spinning steals the CPU
    # another worker is computing on (MTCNN measured 314 ms with spinning, 77 ms without, 2 cores).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    source = model if isinstance(model, bytes) else str(model)
    return onnxruntime.InferenceSession(source, sess_options=options, providers=onnx_providers(device))
