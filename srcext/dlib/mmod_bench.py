"""Milliseconds per 640 px image: dlib's MMOD detector against the ONNX one (``python -m srcext.dlib.mmod_bench``).

Also prints the largest confidence difference and whether the rectangles agree, so the speed figure
and the equality figure come from the same run.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np


def _load(path: Path, width: int) -> np.ndarray:
    from PIL import Image

    photo = Image.open(path).convert("RGB")
    return np.asarray(photo.resize((width, round(photo.height * width / photo.width)), Image.Resampling.BILINEAR))


def _median_ms(run, image: np.ndarray, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(image)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    import dlib
    import face_recognition_models
    import onnx

    from srcext.dlib import MmodDetector, convert_mmod

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("images", nargs="+", type=Path)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    dat = Path(face_recognition_models.__file__).parent / "models" / "mmod_human_face_detector.dat"
    reference = dlib.cnn_face_detection_model_v1(str(dat))
    ours = MmodDetector(onnx.load_from_string(convert_mmod(dat).SerializeToString()))
    for path in args.images:
        image = _load(path, args.width)
        want = sorted(((d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom(), d.confidence)
                       for d in reference(image, 0)), key=lambda item: -item[4])
        got = [(d.left, d.top, d.right, d.bottom, d.confidence) for d in ours(image)]
        same = len(want) == len(got) and all(a[:4] == b[:4] for a, b in zip(want, got))
        rel = max((abs(a[4] - b[4]) / abs(a[4]) for a, b in zip(want, got)), default=0.0)
        dlib_ms = _median_ms(lambda img: reference(img, 0), image, args.repeats)
        onnx_ms = _median_ms(ours, image, args.repeats)
        print(f"{path.name} {image.shape[1]}x{image.shape[0]}: dlib {dlib_ms:.0f} ms, onnx {onnx_ms:.0f} ms, "
              f"{len(got)} faces, rects equal {same}, max rel confidence diff {rel:.1e}")


if __name__ == "__main__":
    main()
