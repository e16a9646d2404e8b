"""Find the images that do not belong in an identity folder, by clustering their face embeddings.

    python -m tools.cluster_clean people/alice                     # dry run: lists rejects, draws a sheet
    python -m tools.cluster_clean people/alice --apply --out cleaned/alice

Agglomerative clustering (scikit-learn) of the largest face's unit embedding per image; the largest cluster
is the identity, every other image (and any image without a face) is rejected. The distance threshold
defaults to the calculator's c0 (its same/different boundary) for ``--metric euclidean``, or c0^2 / 2 for
cosine (the same boundary on unit vectors). Writes a contact sheet of the rejects (PNG) always; with
``--apply``, a clean copy (``OUT/clean``) and the rejects (``OUT/rejects``); the source is never modified.
Exit code 0 when it ran (rejects or not), 1 on errors.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tools.common.drawing import contact_sheet, save_rgb
from tools.common.embeddings import embedder_from_args
from tools.common.extras import require
from tools.common.images import list_images, read_rgb
from tools.common.progress import progress
from tools.common.service import add_service_args, parse_tool_args, tool_parser

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tools" / "tmp" / "cluster_clean"


@dataclass
class Split:
    kept: list[Path]
    rejected: list[Path]
    reasons: dict[Path, str]


def cluster_labels(vectors: np.ndarray, threshold: float, metric: str, linkage: str) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=int)
    model = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold, metric=metric, linkage=linkage)
    return model.fit_predict(vectors)


def split(paths: list[Path], vectors: list[np.ndarray | None], threshold: float, metric: str, linkage: str) -> Split:
    """Keep the largest cluster (ties: the one holding the earliest file); reject the rest and faceless images."""
    with_face = [(p, v) for p, v in zip(paths, vectors) if v is not None]
    reasons = {p: "no face" for p, v in zip(paths, vectors) if v is None}
    if not with_face:
        return Split([], list(paths), reasons)
    labels = cluster_labels(np.stack([v for _, v in with_face]), threshold, metric, linkage)
    counts = np.bincount(labels)
    best = max(range(len(counts)), key=lambda c: (counts[c], -int(np.argmax(labels == c))))
    kept = [p for (p, _), label in zip(with_face, labels) if label == best]
    for (path, _), label in zip(with_face, labels):
        if label != best:
            reasons[path] = f"cluster {label} ({counts[label]} image(s))"
    return Split(kept, [p for p in paths if p in reasons], reasons)


def default_threshold(c0: float, metric: str) -> float:
    return c0 * c0 / 2.0 if metric == "cosine" else c0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = tool_parser("python -m tools.cluster_clean", __doc__)
    parser.add_argument("folder", type=Path, help="one identity's images")
    parser.add_argument("--metric", choices=("euclidean", "cosine"), default="euclidean")
    parser.add_argument("--linkage", choices=("average", "complete", "single", "ward"), default="average")
    parser.add_argument("--distance-threshold", type=float, help="merge clusters closer than this (default: c0)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default tools/tmp/cluster_clean/NAME)")
    parser.add_argument("--apply", action="store_true", help="write the clean copy and the rejects (not a dry run)")
    parser.add_argument("--no-detect", action="store_true", help="images are aligned crops (detect_faces=false)")
    add_service_args(parser)
    return parse_tool_args(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    require("tools.cluster_clean", "sklearn")
    if args.linkage == "ward" and args.metric != "euclidean":
        print("error: ward linkage needs --metric euclidean", file=sys.stderr)
        return 1
    paths = list_images([args.folder]) if args.folder.is_dir() else []
    if not paths:
        print(f"error: no images in {args.folder}", file=sys.stderr)
        return 1
    embedder = embedder_from_args(args)
    threshold = args.distance_threshold or default_threshold(embedder.coefficients()[0], args.metric)
    vectors = [embedder.largest(p, not args.no_detect) for p in progress(paths, "embed")]
    result = split(paths, vectors, threshold, args.metric, args.linkage)
    out = args.out or DEFAULT_OUT / args.folder.name
    for path in result.rejected:
        print(f"reject {path}: {result.reasons[path]}")
    print(f"{len(result.kept)} kept, {len(result.rejected)} rejected ({args.metric}/{args.linkage}, "
          f"threshold {threshold:.4f}){'' if args.apply else ' - dry run, nothing copied'}")
    if result.rejected:
        sheet = contact_sheet([read_rgb(p) for p in result.rejected], [p.name for p in result.rejected])
        print(f"contact sheet: {save_rgb(out / 'rejects.png', sheet)}")
    if args.apply:
        for folder, files in (("clean", result.kept), ("rejects", result.rejected)):
            (out / folder).mkdir(parents=True, exist_ok=True)
            for path in files:
                shutil.copy2(path, out / folder / path.relative_to(args.folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
