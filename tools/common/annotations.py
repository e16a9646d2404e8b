"""Ground truth for detection: readers of dlib/imglab XML, WIDER FACE, FDDB and nose-point files, and matching.

Every reader returns ``{image path: Truth}``. A face is either a box (x1, y1, x2, y2) or, in nose-point
files, one point on the nose. Boxes marked ignore (imglab ``ignore='1'``, WIDER ``invalid=1``) neither count
as faces nor make a detection on them false.

Nose-point files (our own format, see ``sample_images/README.md``): JSON ``{"image.jpg": [[x, y], ...]}``
or CSV with a header ``file,x,y`` (one row per face; a row with empty x,y declares an image with no face).
Image names are relative to the annotation file's folder.
"""
from __future__ import annotations

import csv
import json
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    from facecore.plugin_api import DetectedFace

MATCH_IOU = 0.4


def _boxes(rows: list[list[float]] | None = None) -> np.ndarray:
    return np.asarray(rows or [], dtype=np.float64).reshape(-1, 4)


@dataclass
class Truth:
    """The faces labelled in one image."""

    boxes: np.ndarray = field(default_factory=_boxes)
    noses: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    ignore: np.ndarray = field(default_factory=_boxes)

    @property
    def faces(self) -> int:
        return len(self.boxes) + len(self.noses)


@dataclass
class ImageScore:
    """One image's result: labelled faces, matches, and which labels were missed / detections were extra."""

    faces: int
    matched: int
    missed: list[int]  # indices into the truth (boxes, then noses)
    extra: list[int]  # indices into the detections

    @property
    def errors(self) -> int:
        return len(self.missed) + len(self.extra)


# --------------------------------------------------------------------------------------------- readers
def read_imglab(path: Path) -> dict[Path, Truth]:
    """dlib's imglab XML: ``<image file=...><box top left width height [ignore='1']/>``."""
    truths: dict[Path, Truth] = {}
    for image in ET.parse(path).getroot().iter("image"):
        kept, ignored = [], []
        for box in image.iter("box"):
            left, top = float(box.get("left", 0)), float(box.get("top", 0))
            row = [left, top, left + float(box.get("width", 0)), top + float(box.get("height", 0))]
            (ignored if box.get("ignore", "0") == "1" else kept).append(row)
        truths[path.parent / image.get("file", "")] = Truth(boxes=_boxes(kept), ignore=_boxes(ignored))
    return truths


def read_wider(path: Path, images_root: Path | None = None) -> dict[Path, Truth]:
    """WIDER FACE ``wider_face_*_bbx_gt.txt``: name, count, then ``x y w h blur expr illum invalid occl pose``.

    An image with no face still has one all-zero line. ``images_root`` defaults to the file's folder.
    """
    root = images_root or path.parent
    lines = [line.strip() for line in path.read_text().splitlines()]
    truths: dict[Path, Truth] = {}
    at = 0
    while at < len(lines):
        if not lines[at]:
            at += 1
            continue
        name, count = lines[at], int(lines[at + 1])
        rows = [[float(v) for v in line.split()] for line in lines[at + 2:at + 2 + max(count, 1)]]
        at += 2 + max(count, 1)
        kept, ignored = [], []
        for values in rows[:count]:
            x, y, w, h = values[:4]
            if w <= 0 or h <= 0:
                continue
            invalid = len(values) > 7 and values[7] == 1
            (ignored if invalid else kept).append([x, y, x + w, y + h])
        truths[root / name] = Truth(boxes=_boxes(kept), ignore=_boxes(ignored))
    return truths


def read_wider_list(path: Path, images_root: Path | None = None) -> dict[Path, Truth]:
    """The WIDER FACE list used by YOLO/RetinaFace training code (``label.txt``): ``# <event>/<file>.jpg``
    then one ``x y w h [landmarks...]`` line per face, no count and no flags; images sit in ``images/``."""
    root = images_root or path.parent / "images"
    truths: dict[Path, Truth] = {}
    rows: list[list[float]] = []
    name = ""
    for line in [*path.read_text().splitlines(), "# "]:
        line = line.strip()
        if line.startswith("#"):
            if name:
                truths[root / name] = Truth(boxes=_boxes([[x, y, x + w, y + h] for x, y, w, h in rows
                                                          if w > 0 and h > 0]))
            name, rows = line[1:].strip(), []
        elif line:
            rows.append([float(v) for v in line.split()[:4]])
    return truths


def is_wider_list(path: Path) -> bool:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.readline().startswith("#")


def ellipse_box(major: float, minor: float, angle: float, cx: float, cy: float) -> list[float]:
    """The axis-aligned box around an ellipse whose major axis makes ``angle`` radians with the x axis."""
    half_w = math.hypot(major * math.cos(angle), minor * math.sin(angle))
    half_h = math.hypot(major * math.sin(angle), minor * math.cos(angle))
    return [cx - half_w, cy - half_h, cx + half_w, cy + half_h]


def read_fddb(path: Path, images_root: Path | None = None, suffix: str = ".jpg") -> dict[Path, Truth]:
    """FDDB ``FDDB-fold-NN-ellipseList.txt``: name (no suffix), count, ``major minor angle cx cy 1`` per face."""
    root = images_root or path.parent
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    truths: dict[Path, Truth] = {}
    at = 0
    while at < len(lines):
        name, count = lines[at], int(lines[at + 1])
        rows = [ellipse_box(*[float(v) for v in line.split()[:5]]) for line in lines[at + 2:at + 2 + count]]
        at += 2 + count
        truths[root / f"{name}{suffix}"] = Truth(boxes=_boxes(rows))
    return truths


def read_noses(path: Path) -> dict[Path, Truth]:
    """Our nose-point format, JSON or CSV (see the module's docstring)."""
    points: dict[Path, list[list[float]]] = {}
    if path.suffix.lower() == ".json":
        for name, rows in json.loads(path.read_text()).items():
            points[path.parent / name] = [[float(x), float(y)] for x, y in rows]
    else:
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                faces = points.setdefault(path.parent / row["file"].strip(), [])
                if (row.get("x") or "").strip():
                    faces.append([float(row["x"]), float(row["y"])])
    return {name: Truth(noses=np.asarray(rows, dtype=np.float64).reshape(-1, 2)) for name, rows in points.items()}


def load_annotations(path: Path, images_root: Path | None = None) -> dict[Path, Truth]:
    """Any supported file, recognised by its name: ``*.xml`` imglab, ``*ellipse*`` FDDB, ``*.json``/``*.csv``
    noses, any other ``*.txt`` WIDER FACE (``*_bbx_gt.txt`` or the ``# name`` list)."""
    name = path.name.lower()
    if name.endswith(".xml"):
        return read_imglab(path)
    if name.endswith((".json", ".csv")):
        return read_noses(path)
    if "ellipse" in name:
        return read_fddb(path, images_root)
    if name.endswith(".txt"):
        return read_wider_list(path, images_root) if is_wider_list(path) else read_wider(path, images_root)
    raise ValueError(f"{path}: unknown annotation format (xml, *ellipse*.txt, *_bbx_gt.txt, json, csv)")


def load_all(paths: list[Path], images_root: Path | None = None) -> dict[Path, Truth]:
    merged: dict[Path, Truth] = {}
    for path in paths:
        for image, truth in load_annotations(path, images_root).items():
            if image in merged:  # the same image in two files: its faces add up
                old = merged[image]
                truth = Truth(np.vstack([old.boxes, truth.boxes]), np.vstack([old.noses, truth.noses]),
                              np.vstack([old.ignore, truth.ignore]))
            merged[image] = truth
    return merged


# --------------------------------------------------------------------------------------------- matching
def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-12)


def greedy_pairs(scores: np.ndarray, floor: float) -> list[tuple[int, int]]:
    """One-to-one pairs (row, col), best score first, with score >= floor."""
    scores = scores.copy()
    pairs = []
    while scores.size and scores.max() >= floor:
        row, col = np.unravel_index(np.argmax(scores), scores.shape)
        pairs.append((int(row), int(col)))
        scores[row, :], scores[:, col] = -np.inf, -np.inf
    return pairs


def nose_scores(noses: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """How well each nose fits each box: 1 at the box centre, 0 on its border, -inf outside."""
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    half_w = np.maximum((boxes[:, 2] - boxes[:, 0]) / 2, 1e-9)
    half_h = np.maximum((boxes[:, 3] - boxes[:, 1]) / 2, 1e-9)
    dx = np.abs(noses[:, None, 0] - cx[None, :]) / half_w[None, :]
    dy = np.abs(noses[:, None, 1] - cy[None, :]) / half_h[None, :]
    score = 1.0 - np.maximum(dx, dy)
    return np.where(score >= 0, score, -np.inf)


def score_image(truth: Truth, found: np.ndarray) -> ImageScore:
    """Match detections ``found`` (K, 4) to the labels: IoU >= 0.4 for boxes, the nose inside the box for noses."""
    found = np.asarray(found, dtype=np.float64).reshape(-1, 4)
    free = list(range(len(found)))
    matched_truth: set[int] = set()
    if len(truth.boxes) and free:
        for row, col in greedy_pairs(iou_matrix(truth.boxes, found), MATCH_IOU):
            matched_truth.add(row)
            free.remove(col)
    if len(truth.noses) and free:
        for row, col in greedy_pairs(nose_scores(truth.noses, found[free]), 0.0):
            matched_truth.add(len(truth.boxes) + row)
            free[col] = -1
        free = [c for c in free if c >= 0]
    if len(truth.ignore) and free:
        ious = iou_matrix(found[free], truth.ignore)
        free = [c for c, best in zip(free, ious.max(axis=1)) if best < MATCH_IOU]
    missed = [i for i in range(truth.faces) if i not in matched_truth]
    return ImageScore(truth.faces, len(matched_truth), missed, free)


def boxes_of(result: list[dict]) -> np.ndarray:
    """(K, 4) boxes from a /find_faces ``result`` list."""
    return _boxes([[f["box"]["x_min"], f["box"]["y_min"], f["box"]["x_max"], f["box"]["y_max"]] for f in result])


def detection_boxes(faces: Sequence[DetectedFace]) -> np.ndarray:
    """(K, 4) boxes of a detector's faces, in the same layout as :func:`boxes_of`, for :func:`score_image`."""
    return _boxes([[f.box.x_min, f.box.y_min, f.box.x_max, f.box.y_max] for f in faces])
