"""Fit a calculator's similarity coefficients (c0, c1) on labelled face pairs, and time the dlib family.

``python -m tools.calibrate_similarity [--shared DIR] [--write docs/calibration.md] [--timing]``

CompreFace turns the Euclidean distance d of two unit-normalised embeddings into a similarity
``(tanh((c0 - d) * c1) + 1) / 2``. Here c0 is the distance threshold that maximises verification
accuracy (so similarity 0.5 is the best yes/no boundary), and c1 is the slope of a logistic fit of
P(same | d) with its midpoint held at c0; since ``(tanh(x) + 1) / 2 = sigmoid(2x)``, c1 is half the
fitted logistic slope.

Pairs (``../shared/datasets``): ``deepface/master.csv`` (file_x, file_y, Decision; faces found by
``dlib.FaceDetector`` (HOG), largest face) and ``lfw-aligned-100pair`` (100 same-person pairs: each
identity's two images; 100 different-person pairs: identity k's first image with identity k+1's second,
identities in name order; whole-image mode, as ``detect_faces=false``).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from facecore.config import DEFAULTS
from facecore.errors import StartupError
from facecore.model_store import ModelNotAvailable
from facecore.plugin_api import BoundingBox, DetectedFace, Face
from tools.common.embeddings import similarity, unit  # noqa: F401 - similarity: re-exported for callers
from tools.common.images import read_rgb
from tools.common.pairs import Pair, folder_pairs, read_csv_pairs
from tools.common.progress import progress
from tools.common.service import tool_parser
from tools.common.shared import shared_root

log = logging.getLogger(__name__)

DEFAULT_DOC = Path(__file__).resolve().parents[1] / "docs" / "calibration.md"
BEGIN = "<!-- calibrate_similarity: begin (generated, do not edit by hand) -->"
END = "<!-- calibrate_similarity: end -->"
DETECTION_LENGTH_LIMIT = DEFAULTS.img_length_limit  # detect on the image the service would see
SLOPE_RIDGE = 1.0  # keeps the logistic slope finite when the pairs are perfectly separated


# --------------------------------------------------------------------------------------------- fitting
def best_threshold(distances: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """The distance threshold t (same when d < t) with the highest accuracy, and that accuracy.

    Candidates are the midpoints between consecutive sorted distances; ties keep the smallest t.
    """
    d = np.asarray(distances, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    order = np.argsort(d, kind="stable")
    ds, ys = d[order], y[order]
    # Threshold after the k-th smallest distance: pairs 0..k-1 called same.
    same_below = np.concatenate([[0], np.cumsum(ys)])
    diff_above = (~ys).sum() - np.concatenate([[0], np.cumsum(~ys)])
    correct = same_below + diff_above
    k = int(np.argmax(correct))
    if k == 0:
        t = ds[0] - 1e-6
    elif k == len(ds):
        t = ds[-1] + 1e-6
    else:
        t = (ds[k - 1] + ds[k]) / 2.0
    return float(t), float(correct[k] / len(ds))


def fit_slope(distances: np.ndarray, labels: np.ndarray, c0: float, ridge: float = SLOPE_RIDGE) -> float:
    """Slope a >= 0 of P(same | d) = sigmoid(a * (c0 - d)), by Newton's method on the penalised likelihood."""
    x = c0 - np.asarray(distances, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    a = 1.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-a * x))
        gradient = float(((p - y) * x).sum()) + ridge * a
        hessian = float((p * (1.0 - p) * x * x).sum()) + ridge
        step = gradient / hessian
        a = max(a - step, 1e-6)
        if abs(step) < 1e-10:
            break
    return a


def fit_similarity_coefficients(distances: Sequence[float], labels: Sequence[bool]) -> tuple[float, float, float]:
    """``(c0, c1, accuracy)`` for CompreFace's ``(tanh((c0 - d) * c1) + 1) / 2`` from labelled distances."""
    d = np.asarray(distances, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    if d.shape != y.shape or d.size == 0:
        raise ValueError(f"need matching, non-empty distances and labels, got {d.shape} and {y.shape}")
    c0, accuracy = best_threshold(d, y)
    c1 = fit_slope(d, y, c0) / 2.0
    return c0, c1, accuracy


def accuracy_at(distances: np.ndarray, labels: np.ndarray, threshold: float) -> float:
    return float(np.mean((np.asarray(distances) < threshold) == np.asarray(labels, dtype=bool)))


def roc_auc(distances: np.ndarray, labels: np.ndarray) -> float:
    """P(a same pair is closer than a different pair), ties counted half."""
    d = np.asarray(distances, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    same, diff = d[y][:, None], d[~y][None, :]
    return float(((same < diff).sum() + 0.5 * (same == diff).sum()) / (same.size * diff.size))


# --------------------------------------------------------------------------------------------- data
def deepface_pairs(folder: Path) -> list[Pair]:
    """deepface's ``master.csv`` pairs (file_x, file_y, Decision Yes/No), images beside it."""
    return read_csv_pairs(folder / "master.csv")


def lfw_pairs(folder: Path) -> list[Pair]:
    """100 same pairs and 100 different pairs, crossing identities in name order."""
    return folder_pairs(folder)


# --------------------------------------------------------------------------------------------- embedding
class DlibFaces:
    """dlib.FaceDetector (HOG) + dlib.Calculator, age and gender, loaded from the pip-packaged weights by the
    service's own pipeline builder (detection downscaled, mapped back and sorted as the service does it)."""

    def __init__(self) -> None:
        from facecore.config import load_settings
        from tools.common.service import build

        settings = load_settings().with_overrides(
            detector="dlib.FaceDetector", calculator="dlib.Calculator",
            extras=("dlib.AgeDetector", "dlib.GenderDetector"),
            img_length_limit=DETECTION_LENGTH_LIMIT, det_prob_threshold=None, warm_up=False, models_offline=True,
            models_root=Path(tempfile.gettempdir()) / "facecore-calibration")
        self.pipeline = build(settings)
        self.calculator = self.pipeline.calculator
        self.age = self.pipeline.face_plugins["age"]
        self.gender = self.pipeline.face_plugins["gender"]

    def largest_face(self, image: np.ndarray) -> Face | None:
        found = self.pipeline.detect(image, self.pipeline.default_threshold)  # largest first
        return Face(image, found[0]) if found else None

    @staticmethod
    def whole_face(image: np.ndarray) -> Face:
        height, width = image.shape[:2]
        return Face(image, DetectedFace(BoundingBox(0.0, 0.0, float(width), float(height)), 1.0), whole_image=True)

    def embed_paths(self, paths: Sequence[Path], whole_image: bool) -> dict[Path, np.ndarray | None]:
        vectors: dict[Path, np.ndarray | None] = {}
        for path in progress(list(dict.fromkeys(paths)), "embed"):
            image = read_rgb(path)
            face = self.whole_face(image) if whole_image else self.largest_face(image)
            vectors[path] = None if face is None else unit(self.calculator.embed([face])[0])
        return vectors


def pair_distances(pairs: Sequence[Pair], vectors: dict[Path, np.ndarray | None]) -> tuple[np.ndarray, np.ndarray, int]:
    """Distances and labels of the pairs whose two images both gave a face; and how many were dropped."""
    kept = [p for p in pairs if vectors[p.a] is not None and vectors[p.b] is not None]
    d = np.array([np.linalg.norm(vectors[p.a] - vectors[p.b]) for p in kept])  # type: ignore[operator]
    return d, np.array([p.same for p in kept], dtype=bool), len(pairs) - len(kept)


# --------------------------------------------------------------------------------------------- timing
def time_plugins(faces_source: DlibFaces, images: Sequence[np.ndarray], repeats: int = 5) -> dict[str, float]:
    """Milliseconds per face, alignment included (fresh Face objects, so no cached chips)."""
    detected = [faces_source.largest_face(image) for image in images]
    detections = [(f.image, f.detection) for f in detected if f is not None][:8]

    def fresh(count: int) -> list[Face]:
        return [Face(image, detection) for image, detection in detections[:count]]

    def per_face(run, count: int) -> float:
        best = float("inf")
        for _ in range(repeats):
            faces = fresh(count)
            started = time.perf_counter()
            run(faces)
            best = min(best, (time.perf_counter() - started) * 1000.0 / count)
        return best

    def age_gender(faces: list[Face]) -> None:
        faces_source.age.analyze(faces)
        faces_source.gender.analyze(faces)

    per_face(faces_source.calculator.analyze, 1)  # warm-up
    return {
        "faces": float(len(detections)),
        "load_average": os.getloadavg()[0],
        "calculator_batch1": per_face(faces_source.calculator.analyze, 1),
        "calculator_batch8": per_face(faces_source.calculator.analyze, len(detections)),
        "age_gender_batch1": per_face(age_gender, 1),
        "age_gender_batch8": per_face(age_gender, len(detections)),
    }


# --------------------------------------------------------------------------------------------- report
@dataclass(frozen=True)
class SetResult:
    name: str
    pairs: int
    dropped: int
    accuracy: float
    threshold: float
    auc: float
    accuracy_at_c0: float


def describe(name: str, d: np.ndarray, y: np.ndarray, dropped: int, c0: float) -> SetResult:
    threshold, accuracy = best_threshold(d, y)
    return SetResult(name, len(d), dropped, accuracy, threshold, roc_auc(d, y), accuracy_at(d, y, c0))


def render_doc(command: str, c0: float, c1: float, accuracy: float, sets: Sequence[SetResult],
               timing: dict[str, float] | None, whole_resize: SetResult | None = None) -> str:
    rows = "\n".join(f"| {s.name} | {s.pairs} | {s.dropped} | {s.accuracy:.3f} | {s.threshold:.4f} | {s.auc:.4f} | "
                     f"{s.accuracy_at_c0:.3f} |" for s in sets)
    text = f"""## dlib.Calculator similarity coefficients

Generated by `{command}` (CPU, this repository's pinned packages).

CompreFace's similarity of two embeddings is `(tanh((c0 - d) * c1) + 1) / 2`, d the Euclidean distance of
the unit-normalised vectors. c0 is the accuracy-maximising distance threshold over all pairs below (so
similarity 0.5 is the best same/different boundary); c1 is half the slope of a logistic fit of
P(same | d) with its midpoint held at c0 (`(tanh(x) + 1) / 2 = sigmoid(2x)`).

**c0 = {c0:.6f}, c1 = {c1:.6f}** (accuracy {accuracy:.3f} over all pairs), in `plugins/dlib/models.py`.

| pairs | n | dropped (no face) | best accuracy | its threshold | ROC AUC | accuracy at c0 |
|---|---|---|---|---|---|---|
{rows}

deepface: `master.csv` pairs, largest `dlib.FaceDetector` (HOG) face on the image downscaled to 640 px.
LFW: `lfw-aligned-100pair` in whole-image mode (`detect_faces=false`), 100 same pairs plus 100 different
pairs (identity k's first image with identity k+1's second, names sorted). The best-threshold accuracies
are optimistic (threshold chosen on the same pairs).
"""
    if whole_resize:
        text += f"""
Whole-image mode: aligning the whole image with the 5-point predictor (the shipped `whole_image: align`)
vs resizing it to 150x150 (`whole_image: resize`) on the LFW pairs: best accuracy {sets[1].accuracy:.3f} vs
{whole_resize.accuracy:.3f}, ROC AUC {sets[1].auc:.4f} vs {whole_resize.auc:.4f}.
"""
    if timing:
        t = {key: f"{value:.1f}" for key, value in timing.items()}
        text += f"""
## Speed (ms per face, CPU, best of 5, alignment included)

| plugin | batch 1 | batch {int(timing['faces'])} |
|---|---|---|
| dlib.Calculator (5-point predictor + chip + resnet) | {t['calculator_batch1']} | {t['calculator_batch8']} |
| dlib.AgeDetector + dlib.GenderDetector | {t['age_gender_batch1']} | {t['age_gender_batch8']} |

Measured on {os.cpu_count()} cores with a 1-minute load average of {t['load_average']} (other work running
beside it); dlib-bin is built without CUDA, and dlib's batched descriptor call gains nothing per face on the
CPU (it exists for the GPU build). The batch and one-by-one embeddings are identical (tested within 1e-5).
"""
    return text


def write_section(path: Path, section: str) -> None:
    """Replace the generated section of ``path`` (between BEGIN and END), or create the file with it."""
    block = f"{BEGIN}\n{section.rstrip()}\n{END}\n"
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        path.write_text(head + block.rstrip("\n") + tail)
    else:
        path.write_text((text.rstrip() + "\n\n" if text else "# Calibration\n\n") + block)


def main(argv: Sequence[str] | None = None) -> int:
    parser = tool_parser("python -m tools.calibrate_similarity", __doc__)
    parser.add_argument("--shared", type=Path, default=shared_root(), help="the shared models/datasets folder")
    parser.add_argument("--write", type=Path, nargs="?", const=DEFAULT_DOC, default=None,
                        help=f"write the figures to this Markdown file (default {DEFAULT_DOC})")
    parser.add_argument("--timing", action="store_true", help="also time the calculator and age+gender")
    parser.add_argument("--compare-whole-image", action="store_true",
                        help="also embed the LFW pairs with the whole image resized instead of aligned")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    datasets = args.shared / "datasets"
    missing = [folder for folder in (datasets / "deepface", datasets / "lfw-aligned-100pair") if not folder.is_dir()]
    if missing:
        print(f"error: {missing[0]} is not a folder; --shared names the folder holding datasets/", file=sys.stderr)
        return 1
    try:
        return calibrate(args, datasets)
    except (OSError, ValueError, StartupError, ModelNotAvailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def calibrate(args: argparse.Namespace, datasets: Path) -> int:
    dlib_faces = DlibFaces()
    deepface = deepface_pairs(datasets / "deepface")
    lfw = lfw_pairs(datasets / "lfw-aligned-100pair")
    d1, y1, drop1 = pair_distances(deepface, dlib_faces.embed_paths([p for q in deepface for p in (q.a, q.b)], False))
    d2, y2, drop2 = pair_distances(lfw, dlib_faces.embed_paths([p for q in lfw for p in (q.a, q.b)], True))
    whole_resize = None
    if args.compare_whole_image:
        dlib_faces.calculator.whole_image_mode = "resize"
        d3, y3, drop3 = pair_distances(lfw, dlib_faces.embed_paths([p for q in lfw for p in (q.a, q.b)], True))
        dlib_faces.calculator.whole_image_mode = "align"
        whole_resize = describe("LFW, whole image resized", d3, y3, drop3, 0.0)
        log.info("LFW with whole-image resize instead: best accuracy %.3f, AUC %.4f", whole_resize.accuracy,
                 whole_resize.auc)
    c0, c1, accuracy = fit_similarity_coefficients(np.concatenate([d1, d2]), np.concatenate([y1, y2]))
    sets = [describe("deepface master.csv", d1, y1, drop1, c0), describe("LFW aligned 100+100", d2, y2, drop2, c0),
            describe("all", np.concatenate([d1, d2]), np.concatenate([y1, y2]), drop1 + drop2, c0)]
    for s in sets:
        log.info("%s: %d pairs (%d dropped), best accuracy %.3f at t=%.4f, AUC %.4f, accuracy at c0 %.3f",
                 s.name, s.pairs, s.dropped, s.accuracy, s.threshold, s.auc, s.accuracy_at_c0)
    log.info("accuracy %.4f  t = c0 = %.6f  c1 = %.6f", accuracy, c0, c1)
    timing = None
    if args.timing:
        images = [read_rgb(datasets / "deepface" / f"img{k}.jpg") for k in (1, 3, 8, 13, 16, 20, 22, 24)]
        timing = time_plugins(dlib_faces, images)
        log.info("ms per face: %s", {k: round(v, 1) for k, v in timing.items()})
    if args.write:
        command = " ".join(["python -m tools.calibrate_similarity --write"] + (["--timing"] if args.timing else [])
                           + (["--compare-whole-image"] if args.compare_whole_image else []))
        write_section(args.write, render_doc(command, c0, c1, accuracy, sets, timing, whole_resize))
        log.info("wrote %s", args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
