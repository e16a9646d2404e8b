"""Figures of the MXNet models on the shared labelled images (docs/insightface.md).

``python -m tests.plugins.insightface.measure`` prints them; the integration tests assert bounds on the same
functions. Models are imported into a temporary store and converted there, as a user's would be.
"""
from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from facecore.model_store import ModelStore
from facecore.plugin_api import Face, ModelSpec, Plugin
from plugins.insightface.calculator import Calculator
from plugins.insightface.catalogue import CALCULATORS, GENDERAGE
from plugins.insightface.detector import FaceDetector
from plugins.insightface.genderage import AgeDetector, GenderDetector
from tests.plugins.insightface.helpers import load_from, local_store, read_rgb, whole_face
from tests.shared_data import DATASETS, MODELS

#: The deepface identity groups of the datasets README, each one well-known person whose gender is plain
#: from the photos (decided by eye; img4 is the README's "woman aged 20-40").
FEMALE_GROUPS = ((1, 2, 4, 5, 6, 7, 10, 11), (8, 9, 47, 48, 49, 50, 51), (3, 12, 53, 54, 55, 56),
                 (26, 27, 28, 42, 43, 44, 45, 46), (22, 23))
MALE_GROUPS = ((13, 14, 15, 57, 58), (16, 17, 59, 61, 62), (29, 30, 31, 32, 33), (34, 35, 36, 37),
               (38, 39, 40, 41), (18, 19, 67), (20, 21), (24, 25))
DEEPFACE_GENDERS = {**{n: "female" for g in FEMALE_GROUPS for n in g}, **{n: "male" for g in MALE_GROUPS for n in g}}
#: The core detects on images downscaled to this longer side (IMG_LENGTH_LIMIT) and maps boxes back.
DETECT_SIDE = 640


def spec(models: Sequence[ModelSpec], name: str) -> ModelSpec:
    return next(m for m in models if m.name == name)


def mxnet_plugin(cls: type[Plugin], models: Sequence[ModelSpec], name: str, slug: str, source: Path,
                 root: Path) -> Plugin:
    """A plugin whose MXNet model files are imported into a store at ``root`` from ``source``."""
    model = spec(models, name)
    store = ModelStore(root, offline=True)
    if model.options["format"] == "mxnet_zip":  # the Drive zip is not here: build one from the loose files
        import zipfile

        archive = root / "insightface" / slug / name / model.options["archive"]
        archive.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive, "w") as bundle:
            for file in source.iterdir():
                bundle.write(file, f"{name}/{file.name}")
    else:
        store.import_from("insightface", slug, model, source)
    return load_from(store, cls(model))


def scrfd(root: Path) -> FaceDetector:
    detector = FaceDetector(FaceDetector.custom_model("my_scrfd"))
    load_from(local_store(root, "insightface", "detector", "my_scrfd", MODELS / "scrfd_500m_bnkps.onnx"), detector)
    return detector


def largest_face(detector: FaceDetector, image: np.ndarray) -> Face:
    """The largest face, detected as the core does it: on the image downscaled to DETECT_SIDE."""
    import cv2

    factor = min(DETECT_SIDE / max(image.shape[:2]), 1.0)
    small = image if factor == 1.0 else cv2.resize(image, (round(image.shape[1] * factor),
                                                           round(image.shape[0] * factor)),
                                                   interpolation=cv2.INTER_AREA)
    found = detector.detect(small, detector.default_threshold)
    if not found:
        return whole_face(image)
    return Face(image, max(found, key=lambda f: f.box.area).scaled(1.0 / factor))


@dataclass(frozen=True)
class Verification:
    accuracy: float
    threshold: float
    pairs: int


def best_threshold(distances: np.ndarray, same: np.ndarray) -> Verification:
    """Accuracy at the best distance threshold (same person when distance < threshold)."""
    candidates = np.concatenate([np.sort(distances), [distances.max() + 1e-6]])
    accuracies = [((distances < t) == same).mean() for t in candidates]
    best = int(np.argmax(accuracies))
    return Verification(float(accuracies[best]), float(candidates[best]), len(same))


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def lfw_verification(calculator: Calculator) -> Verification:
    """100 same pairs and 100 crossed different pairs (identity i first image, identity i+1 second image)."""
    folders = sorted(p for p in (DATASETS / "lfw-aligned-100pair").iterdir() if p.is_dir())
    firsts, seconds = zip(*[sorted(f.iterdir())[:2] for f in folders])
    a = unit(calculator.embed([whole_face(read_rgb(p)) for p in firsts]))
    b = unit(calculator.embed([whole_face(read_rgb(p)) for p in seconds]))
    same = np.linalg.norm(a - b, axis=1)
    different = np.linalg.norm(a - np.roll(b, -1, axis=0), axis=1)
    return best_threshold(np.concatenate([same, different]), np.r_[np.ones(len(same)), np.zeros(len(different))] > 0)


def deepface_verification(calculator: Calculator, detector: FaceDetector) -> Verification:
    folder = DATASETS / "deepface"
    with open(folder / "master.csv", newline="") as handle:
        pairs = [(row["file_x"], row["file_y"], row["Decision"] == "Yes") for row in csv.DictReader(handle)]
    names = sorted({n for x, y, _ in pairs for n in (x, y)})
    embedding = {n: unit(calculator.embed([largest_face(detector, read_rgb(folder / n))]))[0] for n in names}
    distances = np.array([np.linalg.norm(embedding[x] - embedding[y]) for x, y, _ in pairs])
    return best_threshold(distances, np.array([s for _, _, s in pairs]))


def genders(plugins: tuple[AgeDetector, GenderDetector], detector: FaceDetector) -> dict[int, tuple[str, int]]:
    """{deepface image number: (gender, age)} over the labelled identities."""
    age, gender = plugins
    result = {}
    for number in DEEPFACE_GENDERS:
        face = largest_face(detector, read_rgb(DATASETS / "deepface" / f"img{number}.jpg"))
        found = gender.analyze([face])[0]["gender"]["value"]
        result[number] = (found, age.analyze([face])[0]["age"]["low"])
    return result


def main() -> None:
    def show(what: str, value: object) -> None:
        print(f"{what}: {value}")  # noqa: T201 (command-line output)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        detector = scrfd(root)
        mobileface = mxnet_plugin(Calculator, CALCULATORS, "mobileface_v2", "calculator",
                                  MODELS / "mxnet" / "mobileface_v2", root)
        show("mobileface_v2 lfw-aligned-100pair", lfw_verification(mobileface))
        show("mobileface_v2 deepface master.csv", deepface_verification(mobileface, detector))
        ga = [mxnet_plugin(cls, GENDERAGE, "genderage_v1", "genderage", MODELS / "mxnet" / "genderage_v1", root)
              for cls in (AgeDetector, GenderDetector)]
        found = genders((ga[0], ga[1]), detector)
        right = sum(found[n][0] == g for n, g in DEEPFACE_GENDERS.items())
        show("genderage_v1 gender accuracy", f"{right}/{len(found)}")
        show("genderage_v1 per image (gender, age)", found)


if __name__ == "__main__":
    main()
