"""Figures for docs/mxnet-converter.md: ``python -m tests.srcext.mxnet_measure`` (needs ../shared and the oracle venv)."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from srcext.mxnet import convert
from tests.shared_data import SHARED
from tests.srcext.mxnet_oracle import mxnet_forward, relative_error
from tests.srcext.test_mxnet_oracle import REAL_MODELS, face_crops


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return float(np.median(times)) * 1000


def main() -> None:
    faces = face_crops(16)
    random = np.random.default_rng(1).uniform(0, 255, (16, 3, 112, 112)).astype(np.float32)
    for name, (symbol_rel, params_rel, _) in sorted(REAL_MODELS.items()):
        symbol, params = SHARED / symbol_rel, SHARED / params_rel
        convert_ms = _median_ms(lambda: convert(symbol, params, (1, 3, 112, 112)).SerializeToString(), 5)
        model = convert(symbol, params, (1, 3, 112, 112))
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        with tempfile.TemporaryDirectory() as folder:
            cases = [{"symbol": symbol, "params": params, "inputs": {"data": batch}} for batch in (random, faces)]
            reference = mxnet_forward(Path(folder), cases)
        errors = [relative_error(session.run(None, {"data": batch})[0], expected[0])
                  for batch, expected in zip((random, faces), reference)]
        one = _median_ms(lambda: session.run(None, {"data": faces[:1]}), 30)
        eight = _median_ms(lambda: session.run(None, {"data": faces[:8]}), 10) / 8
        print(f"{name}: convert {convert_ms:.0f} ms, {model.ByteSize() / 1e6:.2f} MB, {len(model.graph.node)} nodes; "
              f"max rel err random {errors[0]:.1e} faces {errors[1]:.1e}; "
              f"ms/face batch1 {one:.2f} batch8 {eight:.2f}")


if __name__ == "__main__":
    main()
