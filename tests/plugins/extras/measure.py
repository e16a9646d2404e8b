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

from facecore.device import Device
from facecore.model_store import ModelStore
from facecore.plugin_api import Face, FacePlugin
from plugins.extras.catalogue import AIZOO, FER_EMOTION, FER_GENDER, MINIFASNET
from plugins.extras.fer import EmotionDetector, GenderDetector
from plugins.extras.liveness import LivenessDetector
from plugins.extras.mask import MaskDetector
from plugins.extras.quality import QualityEstimator
from tests.plugins.extras.helpers import detected_faces, largest_face, loaded_from_shared, read_rgb
from tests.plugins.extras.labels import DEEPFACE_GENDERS, NOT_SMILING, SMILING
from tests.plugins.extras.masks import MASK_COLOURS, draw_eye_band, draw_mask
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
    plugin = loaded_from_shared(LivenessDetector(MINIFASNET[0]), root, "antispoof-minifasnet")
    for path in sorted((MODELS / "antispoof-minifasnet" / "samples").glob("image_*.jpg")):
        faces = detected_faces(read_rgb(path))
        answer = plugin.analyze(faces)[0]["liveness"]
        show(f"liveness {path.stem}", f"{answer['value']} {answer['probability']:.4f} "
             f"({per_face_ms(lambda f=faces: plugin.analyze(f), len(faces)):.1f} ms/face, both models)")


def quality() -> None:
    plugin = QualityEstimator()
    by_blur, by_dark = [], []
    for photo in PHOTOS:
        face = largest_face(DATASETS / "deepface" / photo)
        image = face.image
        side = min(face.detection.box.width, face.detection.box.height)

        def score(pixels: np.ndarray) -> float:
            return plugin.analyze([Face(pixels, face.detection)])[0]["quality"]["score"]
        by_blur.append([score(blurred(image, s * side / 112)) for s in BLUR_SIGMAS])
        by_dark.append([score(darkened(image, d)) for d in DARKNESS])
    show("quality mean score by blur sigma " + str(BLUR_SIGMAS), np.round(np.mean(by_blur, axis=0), 3).tolist())
    show("quality min..max by blur", [f"{lo:.2f}..{hi:.2f}" for lo, hi in zip(np.min(by_blur, 0), np.max(by_blur, 0))])
    show("quality mean score by darkness " + str(DARKNESS), np.round(np.mean(by_dark, axis=0), 3).tolist())
    show("quality min..max by darkness", [f"{lo:.2f}..{hi:.2f}" for lo, hi in zip(np.min(by_dark, 0), np.max(by_dark, 0))])
    faces = [largest_face(DATASETS / "deepface" / p) for p in PHOTOS]
    show("quality ms/face", f"{per_face_ms(lambda: plugin.analyze([Face(f.image, f.detection) for f in faces]), len(faces)):.2f}")


def deepface(number: int) -> Face:
    face = largest_face(DATASETS / "deepface" / f"img{number}.jpg")
    return Face(face.image, face.detection)


def gender_plugins(root: Path) -> dict[str, FacePlugin]:
    """Every gender plugin that runs here on the same MTCNN detections."""
    from plugins.dlib.age_gender import GenderDetector as DlibGender
    from plugins.insightface.catalogue import GENDERAGE
    from plugins.insightface.genderage import GenderDetector as InsightfaceGender
    from tests.plugins.insightface.measure import mxnet_plugin

    fer = loaded_from_shared(GenderDetector(FER_GENDER[0]), root, "emotion-fer")
    dlib = DlibGender(DlibGender.find_model(None))
    dlib.load(ModelStore(root, offline=True).context_for(dlib, Device()))
    insight = mxnet_plugin(InsightfaceGender, GENDERAGE, "genderage_v1", "genderage", MODELS / "mxnet" / "genderage_v1",
                           root)
    return {"extras.GenderDetector@gender_mini_xception": fer, "dlib.GenderDetector": dlib,
            "insightface.GenderDetector@genderage_v1": insight}


def genders(root: Path) -> None:
    for name, plugin in gender_plugins(root).items():
        found = {n: plugin.analyze([deepface(n)])[0]["gender"]["value"] for n in DEEPFACE_GENDERS}
        wrong = sorted(n for n, g in DEEPFACE_GENDERS.items() if found[n] != g)
        show(f"gender {name}", f"{len(found) - len(wrong)}/{len(found)} right, wrong: {wrong}")
    fer = loaded_from_shared(GenderDetector(FER_GENDER[0]), root, "emotion-fer")
    from plugins.extras.fer_model import Margin

    for margin in ((0.0, 0.0), (0.1, 0.2), (0.15, 0.3), (0.2, 0.4)):
        assert fer.classifier is not None
        fer.classifier.margin = Margin(*margin)
        right = sum(fer.analyze([deepface(n)])[0]["gender"]["value"] == g for n, g in DEEPFACE_GENDERS.items())
        show(f"gender extras, crop margin {margin}", f"{right}/{len(DEEPFACE_GENDERS)}")
    faces = [deepface(n) for n in list(DEEPFACE_GENDERS)[:8]]
    show("gender extras ms/face (8 faces a call)", f"{per_face_ms(lambda: fer.analyze([Face(f.image, f.detection) for f in faces]), 8):.2f}")


def emotions(root: Path) -> None:
    plugin = loaded_from_shared(EmotionDetector(FER_EMOTION[0]), root, "emotion-fer")
    found = {n: plugin.analyze([deepface(n)])[0]["emotion"]["value"] for n in SMILING + NOT_SMILING}
    show("emotion: smiling faces called happy", f"{sum(found[n] == 'happy' for n in SMILING)}/{len(SMILING)}")
    show("emotion: not-smiling faces not called happy",
         f"{sum(found[n] != 'happy' for n in NOT_SMILING)}/{len(NOT_SMILING)}, "
         f"called: {sorted(found[n] for n in NOT_SMILING)}")


def masks(root: Path) -> None:
    plugin = loaded_from_shared(MaskDetector(AIZOO[0]), root, "facemask-aizoo")
    photos = sorted(p for p in (DATASETS / "deepface").glob("img*.jpg"))
    faces = [largest_face(p) for p in photos]
    bare = sum(plugin.analyze([Face(f.image, f.detection)])[0]["mask"]["value"] == "without_mask" for f in faces)
    show("mask: deepface portraits as they are, without_mask", f"{bare}/{len(faces)}")
    for colour in MASK_COLOURS:
        caught = sum(plugin.analyze([Face(draw_mask(f.image, f, colour), f.detection)])[0]["mask"]["value"]
                     == "with_mask" for f in faces)
        banded = sum(plugin.analyze([Face(draw_eye_band(f.image, f, colour), f.detection)])[0]["mask"]["value"]
                     == "with_mask" for f in faces)
        show(f"mask: drawn mask RGB {colour} caught", f"{caught}/{len(faces)}; same colour over the eyes "
             f"(control) called with_mask {banded}/{len(faces)}")
    show("mask ms/face", f"{per_face_ms(lambda: plugin.analyze([Face(f.image, f.detection) for f in faces[:8]]), 8):.1f}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        liveness(Path(tmp) / "a")
        genders(Path(tmp) / "b")
        emotions(Path(tmp) / "c")
        masks(Path(tmp) / "d")
    quality()


if __name__ == "__main__":
    main()
