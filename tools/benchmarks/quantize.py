"""int8 copies of an ONNX network by ONNX Runtime's static quantization, calibrated on real inputs.

QDQ format, weights int8 per output channel, activations uint8 with ranges from the calibration batches
(MinMax). Used by ``tools.benchmarks.precision_lfw`` for ``dlib.Calculator``; the service itself does not load
int8 models yet (docs/benchmarks.md).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np


def quantize_int8(source: Path, target: Path, batches: list[np.ndarray]) -> Path:
    """Write the int8 copy of ``source`` to ``target``, calibrated on ``batches`` (inputs of the first input)."""
    import onnxruntime
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    name = onnxruntime.InferenceSession(str(source), providers=["CPUExecutionProvider"]).get_inputs()[0].name

    class Batches(CalibrationDataReader):
        def __init__(self) -> None:
            self.feeds: Iterator[dict[str, np.ndarray]] = iter({name: b.astype(np.float32)} for b in batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.feeds, None)

    target.parent.mkdir(parents=True, exist_ok=True)
    quantize_static(str(source), str(target), Batches(), quant_format=QuantFormat.QDQ, per_channel=True,
                    weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8)
    return target
