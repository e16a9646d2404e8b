"""Scan images with the configured plugins (locally, or a running service) and draw what was found.

    python -m tools.scan photo.jpg folder/                 # local: the service's pipeline, env settings
    IMG_NAMES=a.jpg,b.jpg python -m tools.scan              # as the seed's scan tool (names under sample_images/)
    python -m tools.scan --remote http://localhost:3000 photo.jpg   # or USE_REMOTE=true ML_URL=...
    python -m tools.scan --annotations sample_images/annotations.json sample_images/

Prints the /find_faces JSON per image (embeddings shortened unless --full), saves each image with boxes,
landmarks, gender/age and probabilities drawn (``--out``, default tools/tmp/). With annotations (nose
points, boxes: see tools/common/annotations.py) it reports missed and extra faces and exits 1 on any.
Exit code: 0 all well, 1 errors against the annotations or an image failed, 2 bad usage.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from tools.common.annotations import Truth, boxes_of, load_all, score_image
from tools.common.drawing import GREEN, RED, draw_faces, face_label, save_rgb
from tools.common.images import list_images, read_rgb
from tools.common.progress import progress
from tools.common.service import (
    ALL_SLUGS,
    add_service_args,
    build,
    local_find_faces,
    parse_tool_args,
    remote_from_env,
    settings_from_args,
    tool_parser,
)

log = logging.getLogger("tools.scan")
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tools" / "tmp"
SAMPLE_IMAGES = ROOT / "sample_images"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = tool_parser("python -m tools.scan", __doc__)
    parser.add_argument("images", nargs="*", type=Path, help="image files or folders (default: IMG_NAMES)")
    parser.add_argument("--plugins", default=",".join(ALL_SLUGS), help="face_plugins to ask (default: %(default)s)")
    parser.add_argument("--annotations", type=Path, nargs="*", default=[], help="truth files (json/csv/xml/...)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for drawn images (%(default)s)")
    parser.add_argument("--full", action="store_true", help="print whole embeddings")
    add_service_args(parser)
    return parse_tool_args(parser, argv)


def images_from(args: argparse.Namespace) -> list[Path]:
    if args.images:
        return list_images(args.images)
    names = [n.strip() for n in os.environ.get("IMG_NAMES", "").split(",") if n.strip()]
    return [SAMPLE_IMAGES / name if not Path(name).exists() else Path(name) for name in names]


def shortened(body: dict[str, Any]) -> dict[str, Any]:
    faces = []
    for face in body["result"]:
        face = dict(face)
        if "embedding" in face:
            face["embedding"] = [round(v, 4) for v in face["embedding"][:4]] + [f"... {len(face['embedding'])} values"]
        faces.append(face)
    return {**body, "result": faces}


def report_errors(path: Path, truth: Truth, faces: list[dict[str, Any]]) -> tuple[int, list[tuple[int, int, int]]]:
    """Print missed/extra faces; return the error count and a colour per face (red = extra)."""
    score = score_image(truth, boxes_of(faces))
    colors = [RED if i in score.extra else GREEN for i in range(len(faces))]
    every = np.vstack([truth.boxes[:, :2] / 2 + truth.boxes[:, 2:] / 2, truth.noses]) if truth.faces else []
    for index in score.missed:
        x, y = every[index]
        print(f"ERROR {path.name}: missed the face at ({x:.0f}, {y:.0f})", file=sys.stderr)
    for index in score.extra:
        box = faces[index]["box"]
        print(f"ERROR {path.name}: extra face {box} (no labelled face there)", file=sys.stderr)
    return score.errors, colors


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    paths = images_from(args)
    if not paths:
        print("error: no images (give paths or IMG_NAMES=a.jpg,b.jpg)", file=sys.stderr)
        return 2
    truths = load_all(args.annotations) if args.annotations else {}
    truths = {p.resolve(): t for p, t in truths.items()}
    slugs = tuple(s for s in args.plugins.replace(",", " ").split() if s)
    remote = remote_from_env(args.remote)
    pipeline = None if remote else build(settings_from_args(args))
    errors = failures = pictures = 0
    for path in progress(paths, "scan"):
        try:
            image = read_rgb(path)
            if remote:
                body = remote.find_faces(path, slugs, threshold=args.threshold)
            else:
                body = local_find_faces(pipeline, image, slugs, threshold=args.threshold)
        except Exception as error:  # noqa: BLE001 - one bad image must not stop the scan; it fails the run
            failures += 1
            print(f"FAIL {path}: {error}", file=sys.stderr)
            continue
        faces = body["result"]
        print(json.dumps({"file": str(path), **(body if args.full else shortened(body))}))
        truth = truths.get(path.resolve())
        colors = None
        if truth is not None:
            found_errors, colors = report_errors(path, truth, faces)
            errors += found_errors
        drawn = draw_faces(image, faces, [face_label(f) for f in faces], colors,
                           truth_points=truth.noses if truth else None, truth_boxes=truth.boxes if truth else None)
        log.info("saved %s", save_rgb(args.out / f"{path.stem}.scan.jpg", drawn))
        pictures += 1
    if pictures:
        print(f"{pictures} drawn picture(s) in {args.out}", file=sys.stderr)
    if truths:
        print(f"{errors} detection error(s) against the annotations", file=sys.stderr)
    return 1 if errors or failures else 0


if __name__ == "__main__":
    sys.exit(main())
