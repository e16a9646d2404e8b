"""What decoding large JPEGs at half their size would save, and how far it would move the answers.

``python -m tools.benchmarks.reduced_decode [--images 20] [--min-side 1280] [PHOTO_DIR]``. For each JPEG whose
longer side is at least ``--min-side``, the default plugins (``FACE_THREADS=1``, one ONNX thread) run twice, in
process: on the photo decoded as the service decodes it, and on libjpeg's 1/2-scale decoding (DCT scaling, a
quarter of the pixels), every plugin on that copy. Printed: CPU ms per photo both ways, and per face (matched
by IoU) how far the embedding moved, whether gender and the age bracket stayed. A measurement for issue 15,
not a service path: the answers move, and a real one would fall back to full resolution for small faces.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from tools.benchmarks import SHARED
from tools.benchmarks.images import pick
from tools.common.annotations import iou_matrix

SLUGS = ("calculator", "age", "gender", "landmarks", "pose")


@dataclass(frozen=True)
class FaceShift:
    photo: str
    width_px: int  # the face box's width in the full photo
    iou: float  # the half-scale box (scaled back) against the full one
    embedding_distance: float  # Euclidean, as dlib's 0.6 same-person threshold is
    same_gender: bool
    same_age: bool


def decode_half(data: bytes) -> np.ndarray:
    """RGB at 1/2 scale by libjpeg's DCT scaling (OpenCV's ``IMREAD_REDUCED_COLOR_2``)."""
    import cv2

    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_COLOR_2 | cv2.IMREAD_IGNORE_ORIENTATION)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=bgr)


def is_large(data: bytes, min_side: int) -> bool:
    """Whether the JPEG's longer side is at least ``min_side`` (read from an eighth-scale decode: cheap)."""
    import cv2

    eighth = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8)
    return eighth is not None and max(eighth.shape) * 8 >= min_side


def box_rows(faces: Sequence, factor: float = 1.0) -> np.ndarray:
    """(N, 4) x_min, y_min, x_max, y_max of the faces' boxes, multiplied by ``factor`` (half scale -> full)."""
    boxes = [f.detection.box for f in faces]
    return np.array([[b.x_min, b.y_min, b.x_max, b.y_max] for b in boxes], dtype=np.float64).reshape(-1, 4) * factor


def compare(photo: str, full_faces: Sequence, half_faces: Sequence, factor: float = 2.0) -> list[FaceShift]:
    """One row per face of the full-resolution run that the half-scale run found too (best IoU)."""
    if not full_faces or not half_faces:
        return []
    ious = iou_matrix(box_rows(full_faces), box_rows(half_faces, factor))
    rows = []
    for face, row in zip(full_faces, ious):
        best = int(np.argmax(row))
        a, b = face.fragments, half_faces[best].fragments
        width = round(face.detection.box.x_max - face.detection.box.x_min)
        rows.append(FaceShift(photo, width, round(float(row[best]), 3),
                              float(np.linalg.norm(np.asarray(a["embedding"]) - np.asarray(b["embedding"]))),
                              a["gender"]["value"] == b["gender"]["value"], a["age"]["low"] == b["age"]["low"]))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.benchmarks.reduced_decode", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, default=SHARED / "datasets" / "deepface")
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--min-side", type=int, default=1280, help="longer side from which a photo is halved")
    args = parser.parse_args(argv)
    os.environ.setdefault("FACE_THREADS", "1")
    os.environ.setdefault("ONNX_THREADS", "1")

    from facecore.app import build_pipeline
    from facecore.config import load_settings
    from facecore.imaging import decode_image

    pipeline = build_pipeline(load_settings())
    rows: list[FaceShift] = []
    cpu = {"full": 0.0, "half": 0.0}
    photos = 0
    for path in pick(args.folder, args.images):
        data = path.read_bytes()
        if not is_large(data, args.min_side):
            continue
        photos += 1
        for warm in (True, False):  # the first round warms caches and is not counted
            runs = {}
            for way, decode in (("full", decode_image), ("half", decode_half)):
                started = time.process_time()
                runs[way] = pipeline.find_faces(decode(data), threshold=None, limit=0, slugs=list(SLUGS)).faces
                if not warm:
                    cpu[way] += time.process_time() - started
        rows += compare(path.name, runs["full"], runs["half"])
        if len(runs["full"]) != len(runs["half"]):
            print(f"{path.name}: {len(runs['full'])} faces at full size, {len(runs['half'])} at half")
    if not photos:
        print(f"no JPEG of at least {args.min_side} px in {args.folder}", file=sys.stderr)
        return 1
    print("| photo | face width px | IoU | embedding distance | same gender | same age bracket |")
    print("|---|---:|---:|---:|---|---|")
    for row in rows:
        print(f"| {row.photo} | {row.width_px} | {row.iou:.3f} | {row.embedding_distance:.4f} | {row.same_gender} | "
              f"{row.same_age} |")
    distances = [row.embedding_distance for row in rows]
    print(f"\n{photos} photos of at least {args.min_side} px: {1000 * cpu['full'] / photos:.1f} CPU ms per photo "
          f"decoded whole, {1000 * cpu['half'] / photos:.1f} at half scale; embedding distance median "
          f"{statistics.median(distances):.4f}, max {max(distances):.4f}; gender kept "
          f"{sum(r.same_gender for r in rows)}/{len(rows)}, age bracket kept "
          f"{sum(r.same_age for r in rows)}/{len(rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
