"""The annotated set a detection tool scores: truth files given on the command line, or dlib's example faces.

The default (``../shared/datasets/dlib-faces``) is imglab's ``training.xml`` + ``testing.xml`` with ``dogs.jpg``
as an image with no face at all.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from tools.common.annotations import Truth, load_all
from tools.common.shared import shared_root

SHARED_DATASETS = shared_root() / "datasets"
DLIB_FACES = SHARED_DATASETS / "dlib-faces"


def default_annotations() -> list[Path]:
    return [DLIB_FACES / "training.xml", DLIB_FACES / "testing.xml"]


def load_truths(annotations: list[Path], images_root: Path | None, negatives: list[Path]) -> dict[Path, Truth]:
    truths = load_all(annotations, images_root)
    for path in negatives:
        truths.setdefault(path, Truth())
    return dict(sorted(truths.items()))


def add_truth_args(parser: argparse.ArgumentParser) -> None:
    """``--annotations``, ``--images-root`` and ``--negatives``, read back by :func:`truths_from_args`."""
    parser.add_argument("--annotations", nargs="+", type=Path, default=None, help="truth files (default dlib-faces)")
    parser.add_argument("--images-root", type=Path, help="image folder for WIDER/FDDB (default: the file's folder)")
    parser.add_argument("--negatives", nargs="*", type=Path, default=None, help="images with no face at all")


def truths_from_args(args: argparse.Namespace, limit: int = 0) -> dict[Path, Truth]:
    """The set named by :func:`add_truth_args`' options, sorted by path; only its first ``limit`` images when set.

    Without ``--annotations`` it is dlib-faces, with ``dogs.jpg`` as a negative unless ``--negatives`` says
    otherwise; negatives that do not exist are passed over. Raises OSError/ValueError for unreadable files.
    """
    annotations = args.annotations or default_annotations()
    negatives = args.negatives if args.negatives is not None else \
        ([DLIB_FACES / "dogs.jpg"] if args.annotations is None else [])
    truths = load_truths(annotations, args.images_root, [p for p in negatives if p.exists()])
    return dict(list(truths.items())[:limit]) if limit else truths
