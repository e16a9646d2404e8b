"""Recognise the faces of an image (or a folder of images) against a gallery from tools.export_embeddings.

    python -m tools.recognize gallery.h5 photo.jpg [more.jpg folder/] [--threshold 0.45] [--out tools/tmp/]

Each face's nearest gallery embedding (Euclidean distance of unit vectors) is its match when the
calculator's similarity ``(tanh((c0 - d) * c1) + 1) / 2`` is >= 0.5 (c0, c1 stored in the gallery), or,
with ``--threshold D``, when d <= D; otherwise the face is ``unknown``. Prints one JSON line per face and saves
each image with the names drawn. Exit code 0 when every image was processed, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from tools.common import gallery as galleries
from tools.common.drawing import GREEN, RED, draw_faces, save_rgb
from tools.common.embeddings import embedder_from_args, similarity, unit
from tools.common.extras import require
from tools.common.images import list_images, read_rgb
from tools.common.progress import progress
from tools.common.service import add_service_args, parse_tool_args, tool_parser

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tools" / "tmp" / "recognize"
UNKNOWN = "unknown"


def match(vector: np.ndarray, gallery: galleries.Gallery, threshold: float | None) -> tuple[str, float, float]:
    """(name or unknown, distance, similarity) of the nearest gallery entry."""
    distances = np.linalg.norm(gallery.embeddings - vector[None, :], axis=1)
    nearest = int(np.argmin(distances))
    distance = float(distances[nearest])
    score = float(similarity(distance, *gallery.coefficients))
    known = distance <= threshold if threshold is not None else score >= 0.5
    return (gallery.labels[nearest] if known else UNKNOWN), distance, score


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = tool_parser("python -m tools.recognize", __doc__)
    parser.add_argument("gallery", type=Path, help="HDF5 gallery from tools.export_embeddings")
    parser.add_argument("images", nargs="+", type=Path, help="images or folders")
    parser.add_argument("--threshold", type=float, dest="distance", help="match when distance <= this")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="annotated images go here (%(default)s)")
    add_service_args(parser)
    return parse_tool_args(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    require("tools.recognize", "h5py")
    try:
        gallery = galleries.read(args.gallery)
    except (OSError, KeyError) as error:
        print(f"error: cannot read the gallery {args.gallery}: {error}", file=sys.stderr)
        return 1
    embedder = embedder_from_args(args)
    if embedder.version() != gallery.calculator_version:
        print(f"error: the gallery holds {gallery.calculator_version} embeddings, the pipeline computes "
              f"{embedder.version()}", file=sys.stderr)
        return 1
    failures = drawn = 0
    for path in progress(list_images(args.images), "recognize"):
        try:
            image = read_rgb(path)
            faces = embedder.faces(path, image=image)
        except Exception as error:  # noqa: BLE001 - one bad image is reported, the others still run
            print(f"FAIL {path}: {error}", file=sys.stderr)
            failures += 1
            continue
        labels, colors = [], []
        for face in faces:
            name, distance, score = match(unit(face["embedding"]), gallery, args.distance)
            print(json.dumps({"file": str(path), "box": face["box"], "name": name, "distance": round(distance, 4),
                              "similarity": round(score, 4)}))
            labels.append(f"{name} {score:.2f}")
            colors.append(RED if name == UNKNOWN else GREEN)
        save_rgb(args.out / f"{path.stem}.recognized.jpg", draw_faces(image, faces, labels, colors))
        drawn += 1
    if drawn:
        print(f"{drawn} annotated picture(s) in {args.out}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
