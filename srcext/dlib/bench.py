"""Time the converted face ResNet against dlib: ms per face, dlib one at a time vs ONNX Runtime batches.

    python -m srcext.dlib.bench [--repeats N] [--threads T] [--gpu]

Uses random 150x150 chips (timing does not depend on content) and reports the median of repeats.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable


def _median_ms(run: Callable[[], object], faces: int, repeats: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000.0 / faces)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    import dlib
    import face_recognition_models
    import numpy as np
    import onnxruntime as ort

    from srcext.dlib import convert_cached

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0 = its default)")
    parser.add_argument("--gpu", action="store_true", help="also time the CUDA provider when available")
    args = parser.parse_args(argv)

    dat = Path(face_recognition_models.__file__).parent / "models" / "dlib_face_recognition_resnet_model_v1.dat"
    chips = np.random.default_rng(0).integers(0, 256, size=(8, 150, 150, 3), dtype=np.uint8)
    batch = chips.transpose(0, 3, 1, 2).astype(np.float32)
    recognizer = dlib.face_recognition_model_v1(str(dat))
    lines = [f"dlib {dlib.__version__} (DLIB_USE_CUDA={dlib.DLIB_USE_CUDA}), one chip per call: "
             f"{_median_ms(lambda: [recognizer.compute_face_descriptor(c, 0) for c in chips], 8, args.repeats):.1f}"
             " ms/face"]
    with tempfile.TemporaryDirectory() as folder:
        model = convert_cached(dat, folder)
        providers = [["CPUExecutionProvider"]]
        if args.gpu and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.append(["CUDAExecutionProvider", "CPUExecutionProvider"])
        for provider in providers:
            options = ort.SessionOptions()
            options.intra_op_num_threads = args.threads
            session = ort.InferenceSession(str(model), sess_options=options, providers=provider)
            for size in (1, 8):
                def run(size=size):
                    for start in range(0, 8, size):
                        session.run(None, {"input": batch[start:start + size]})
                lines.append(f"onnxruntime {ort.__version__} {provider[0]}, batch {size}: "
                             f"{_median_ms(run, 8, args.repeats):.1f} ms/face")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
