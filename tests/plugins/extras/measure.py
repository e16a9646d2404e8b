"""Figures of the extras family on the shared photos (docs/benchmarks.md, "Face plugins of the extras family").

``python -m tests.plugins.extras.measure`` prints them; the integration tests assert on the same steps. Models
are copied into a temporary store and converted there, as a user's would be.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from plugins.extras.catalogue import MINIFASNET
from plugins.extras.liveness import LivenessDetector
from plugins.extras.quality import QualityEstimator
from src.plugin_api import Face
from tests.plugins.extras.helpers import detected_faces, read_rgb, store_with
from tests.plugins.extras.test_quality import PHOTOS, blurred, darkened
from tests.shared_data import DATASETS, MODELS

BLUR_SIGMAS = (0, 0.7, 1.5, 3, 6)  # pixels of the 112-px aligned crop
DARKNESS = (1.0, 0.7, 0.45, 0.25, 0.1)  # factors on every pixel


def show(what: str, value: object) -> None:
    print(f"{what}: {value}")  # noqa: T201 (command-line output)


def per_face_ms(run: Callable[[], object], faces: int, repeats: int = 20) -> float:
    """Median milliseconds per face of ``run`` (one call over ``faces`` faces)."""
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000 / faces)
    return float(np.median(times))


def liveness(root: Path) -> None:
    plugin = LivenessDetector("extras.LivenessDetector", MINIFASNET[0])
    plugin.load(store_with(root, "liveness", MINIFASNET[0], "antispoof-minifasnet"))
    for path in sorted((MODELS / "antispoof-minifasnet" / "samples").glob("image_*.jpg")):
        faces = detected_faces(read_rgb(path))
        answer = plugin.analyze(faces)[0]["liveness"]
        show(f"liveness {path.stem}", f"{answer['value']} {answer['probability']:.4f} "
             f"({per_face_ms(lambda f=faces: plugin.analyze(f), len(faces)):.1f} ms/face, both models)")


def quality() -> None:
    plugin = QualityEstimator("extras.QualityEstimator", None)
    by_blur, by_dark = [], []
    for photo in PHOTOS:
        image = read_rgb(DATASETS / "deepface" / photo)
        face = max(detected_faces(image), key=lambda f: f.detection.box.area)
        side = min(face.detection.box.width, face.detection.box.height)

        def score(pixels: np.ndarray) -> float:
            return plugin.analyze([Face(pixels, face.detection)])[0]["quality"]["score"]
        by_blur.append([score(blurred(image, s * side / 112)) for s in BLUR_SIGMAS])
        by_dark.append([score(darkened(image, d)) for d in DARKNESS])
    show("quality mean score by blur sigma " + str(BLUR_SIGMAS), np.round(np.mean(by_blur, axis=0), 3).tolist())
    show("quality min..max by blur", [f"{lo:.2f}..{hi:.2f}" for lo, hi in zip(np.min(by_blur, 0), np.max(by_blur, 0))])
    show("quality mean score by darkness " + str(DARKNESS), np.round(np.mean(by_dark, axis=0), 3).tolist())
    show("quality min..max by darkness", [f"{lo:.2f}..{hi:.2f}" for lo, hi in zip(np.min(by_dark, 0), np.max(by_dark, 0))])
    faces = [max(detected_faces(read_rgb(DATASETS / "deepface" / p)), key=lambda f: f.detection.box.area)
             for p in PHOTOS]
    show("quality ms/face", f"{per_face_ms(lambda: plugin.analyze([Face(f.image, f.detection) for f in faces]), len(faces)):.2f}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        liveness(Path(tmp))
    quality()


if __name__ == "__main__":
    main()
