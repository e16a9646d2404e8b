"""LFW through the service's own pipeline: a detector finds the face, the named calculator aligns and embeds it.

How a published figure is reproduced depends on where the faces come from. dlib's 99.38 % for its ResNet was
measured on chips aligned by its 5-point shape predictor from boxes of its own HOG detector, the predictor's
training boxes (``--detector dlib.FaceDetector@hog``); another detector's boxes sit elsewhere on the face and
the predictor's points drift with them. Two choices are made for LFW's photos, each centred on its subject:

- of several faces in a photo, the one nearest the centre is the subject (not the largest);
- a photo the detector finds no face in is not dropped: the median of the detector's own boxes on the other
  photos (as fractions of the photo's size) is cut out and sent with ``detect_faces=false``, so the
  calculator aligns that region itself (the dlib calculator runs its 5-point predictor on it). Their count
  is reported; ``fallback=False`` drops their pairs instead.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from tools.common.pairs import Pair

Box = tuple[float, float, float, float]  # x_min, y_min, x_max, y_max as fractions of the photo's width/height


#: How two embeddings are compared: the service's unit vectors (Euclidean distance of unit vectors, monotone in
#: cosine similarity), or the raw vectors, as dlib's ResNet was trained (metric loss on raw Euclidean distance,
#: same person below 0.6).
COSINE = "cosine"
EUCLIDEAN = "euclidean"
DISTANCES = (COSINE, EUCLIDEAN)


@dataclass
class PhotoEmbeddings:
    """The calculator's embeddings per photo as it returns them (None: no face at all), and which photos the
    detector missed."""

    vectors: dict[Path, np.ndarray | None]
    missed: list[Path] = field(default_factory=list)
    fallback_box: Box | None = None  #: the region embedded for the missed photos (None: they were dropped)


def central_face(faces: Sequence[dict[str, Any]], width: int, height: int) -> dict[str, Any] | None:
    """The face whose box centre is nearest the photo's centre (LFW's subject), or None."""
    def distance(face: dict[str, Any]) -> float:
        box = face["box"]
        return float(np.hypot((box["x_min"] + box["x_max"]) / 2 - width / 2,
                              (box["y_min"] + box["y_max"]) / 2 - height / 2))

    return min(faces, key=distance) if faces else None


def relative_box(face: dict[str, Any], width: int, height: int) -> Box:
    box = face["box"]
    return box["x_min"] / width, box["y_min"] / height, box["x_max"] / width, box["y_max"] / height


def median_box(boxes: Sequence[Box]) -> Box:
    x0, y0, x1, y1 = np.median(np.asarray(boxes, dtype=np.float64), axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def cut(image: np.ndarray, box: Box) -> np.ndarray:
    """The region ``box`` of ``image`` (clipped to it)."""
    height, width = image.shape[:2]
    x0, x1 = max(int(round(box[0] * width)), 0), min(int(round(box[2] * width)), width)
    y0, y1 = max(int(round(box[1] * height)), 0), min(int(round(box[3] * height)), height)
    return np.ascontiguousarray(image[y0:y1, x0:x1])


def embed_photos(files: Sequence[Path], embedder: Any, fallback: bool = True) -> PhotoEmbeddings:
    """Each photo's central face through ``embedder`` (tools.common.embeddings.Embedder on a local pipeline)."""
    from tools.common.images import read_rgb
    from tools.common.progress import progress

    result = PhotoEmbeddings({})
    boxes: list[Box] = []
    for path in progress(files, "embed"):
        image = read_rgb(path)
        height, width = image.shape[:2]
        face = central_face(embedder.faces(path, image=image), width, height)
        if face is None:
            result.missed.append(path)
            result.vectors[path] = None
            continue
        boxes.append(relative_box(face, width, height))
        result.vectors[path] = np.asarray(face["embedding"], dtype=np.float64)
    if fallback and result.missed and boxes:
        result.fallback_box = median_box(boxes)
        for path in result.missed:
            faces = embedder.faces(path, detect=False, image=cut(read_rgb(path), result.fallback_box))
            result.vectors[path] = np.asarray(faces[0]["embedding"], dtype=np.float64) if faces else None
    return result


@dataclass
class PairDistances:
    """One distance per kept pair, its label and fold, and how many pairs were dropped."""

    distances: np.ndarray
    same: np.ndarray
    folds: np.ndarray
    dropped: int = 0


def pair_distances(pairs: Sequence[Pair], photos: PhotoEmbeddings, distance: str = COSINE) -> PairDistances:
    """Distances (``distance``: COSINE compares unit vectors, EUCLIDEAN the raw ones), same-labels and folds of
    the pairs whose two photos have an embedding; the dropped count."""
    if distance not in DISTANCES:
        raise ValueError(f"distance must be one of {DISTANCES}, not {distance!r}")
    from tools.common.embeddings import unit

    vectors = photos.vectors if distance == EUCLIDEAN else \
        {path: None if v is None else unit(v) for path, v in photos.vectors.items()}
    kept = [p for p in pairs if vectors.get(p.a) is not None and vectors.get(p.b) is not None]
    distances = np.array([float(np.linalg.norm(vectors[p.a] - vectors[p.b])) for p in kept])
    return PairDistances(distances, np.array([p.same for p in kept], dtype=bool),
                         np.array([p.fold for p in kept], dtype=int), len(pairs) - len(kept))
