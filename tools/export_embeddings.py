"""Export a folder of identities (one sub-folder of images per person) to an HDF5 gallery of embeddings.

    python -m tools.export_embeddings people/ gallery.h5 [--thumbnails 64] [--batch 32] [--no-detect]
                                      [--min-quality 0.6]

One row per image: the largest face's unit embedding, the folder name as label, the file name (relative to
the root), the box and, with ``--thumbnails S``, an S x S face thumbnail. With ``--min-quality Q`` an image
whose largest face scores under Q (``extras.QualityEstimator``: blurred, dark, tiny, turned) is skipped.
Resumable: files already in the gallery are skipped, and rows are written batch by batch, so an interrupted
export continues where it stopped.
Uses the service's pipeline (detector + calculator) or a running service (``--remote``). Layout:
tools/common/gallery.py. Exit code 0 when every image gave a face, 1 when some did not or on errors.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from tools.common import gallery
from tools.common.drawing import thumbnail
from tools.common.embeddings import embedder_from_args, unit
from tools.common.extras import require
from tools.common.images import identity_folders, read_rgb
from tools.common.progress import progress
from tools.common.quality import add_min_quality_arg, good_enough, quality_extras, slugs_with_quality
from tools.common.service import add_service_args, parse_tool_args, tool_parser


def crop(image: np.ndarray, box: dict, size: int) -> np.ndarray:
    face = image[max(box["y_min"], 0):box["y_max"], max(box["x_min"], 0):box["x_max"]]
    return thumbnail(face if face.size else image, size)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = tool_parser("python -m tools.export_embeddings", __doc__)
    parser.add_argument("root", type=Path, help="a folder holding one folder of images per identity")
    parser.add_argument("gallery", type=Path, help="the HDF5 file to create or extend")
    parser.add_argument("--batch", type=int, default=32, help="images per write (default %(default)s)")
    parser.add_argument("--thumbnails", type=int, default=0, help="store S x S face thumbnails (0 = none)")
    parser.add_argument("--no-detect", action="store_true", help="images are aligned crops (detect_faces=false)")
    add_min_quality_arg(parser)
    add_service_args(parser)
    return parse_tool_args(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    require("tools.export_embeddings", "h5py")
    if not args.root.is_dir():
        print(f"error: {args.root} is not a folder", file=sys.stderr)
        return 1
    done = gallery.known_files(args.gallery)
    todo = [(label, path) for label, files in identity_folders(args.root).items() for path in files
            if path.relative_to(args.root).as_posix() not in done]
    print(f"{len(done)} image(s) already in {args.gallery}, {len(todo)} to export")
    if not todo:
        return 0
    embedder = embedder_from_args(args, extras=quality_extras(args.min_quality))
    slugs = slugs_with_quality(("calculator",), args.min_quality)
    version, coefficients = embedder.version(), embedder.coefficients()
    missing = poor = 0
    batch: list[tuple[str, Path, dict, np.ndarray | None]] = []

    def flush() -> None:
        if batch:
            thumbs = np.stack([t for *_, t in batch]) if args.thumbnails else None
            files = [p.relative_to(args.root).as_posix() for _, p, _, _ in batch]
            boxes = np.array([[f["box"][k] for k in ("x_min", "y_min", "x_max", "y_max")] for _, _, f, _ in batch])
            gallery.append(args.gallery, np.stack([unit(f["embedding"]) for _, _, f, _ in batch]),
                           [label for label, *_ in batch], files, boxes, thumbs, version, coefficients,
                           not args.no_detect)
            batch.clear()

    for label, path in progress(todo, "export"):
        try:
            image = read_rgb(path) if args.thumbnails else None  # decoded once, for the thumbnail and the faces
            faces = embedder.faces(path, detect=not args.no_detect, limit=1, slugs=slugs, image=image)
        except Exception as error:  # noqa: BLE001 - a bad file is reported and counted, the export goes on
            print(f"FAIL {path}: {error}", file=sys.stderr)
            missing += 1
            continue
        if not faces:
            print(f"no face: {path}", file=sys.stderr)
            missing += 1
            continue
        try:
            keep = good_enough(faces[0], args.min_quality)
        except ValueError as error:  # a remote service without the quality plugin: stop, keep what is done
            flush()
            print(f"error: {error}", file=sys.stderr)
            return 1
        if not keep:
            print(f"quality {faces[0]['quality']['score']:.2f} under {args.min_quality}: {path}", file=sys.stderr)
            poor += 1
            continue
        thumb = crop(image, faces[0]["box"], args.thumbnails) if image is not None else None
        batch.append((label, path, faces[0], thumb))
        if len(batch) >= args.batch:
            flush()
    flush()
    print(f"exported {len(todo) - missing - poor} image(s) to {args.gallery} ({version}); {missing} without a face"
          + (f", {poor} under quality {args.min_quality}" if args.min_quality is not None else ""))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
