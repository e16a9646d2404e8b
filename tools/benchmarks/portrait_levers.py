"""What the two answer-changing levers left for issue 15's portrait target would save, each way in its own process.

``python -m tools.benchmarks.portrait_levers [--rounds 3] [--repeats 3] [--images 20] [PHOTO_DIR]``. The default
plugins (``FACE_THREADS=1``, one ONNX thread, OpenCV on one thread) answer every photo ``--repeats`` times, in
process, four ways: as the service does now; with the large JPEGs (longer side >= 1280 px) decoded at half scale
(libjpeg's DCT scaling); with YuNet enlarging the 640-px copy ``--scale`` times instead of 1.25
(tools.benchmarks.yunet_scales: 1.1 is the smallest that keeps issue 15's point 4 floor on WIDER FACE); and both.
Each way runs in a fresh process, the ways alternated over ``--rounds`` so that a machine drifting in speed
drifts for all of them. Prints CPU ms per photo per round, the median, and each way's ratio to "now".
Neither lever is taken (docs/benchmarks.md, seventh series): half-scale decoding moves every large photo's
embedding and halves every coordinate a plugin reports, and a smaller enlargement loses AP on small faces.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

from tools.benchmarks import SHARED

WAYS = {  # name: (decode large photos at half scale, YuNet at --scale)
    "now": (False, False),
    "half-decode": (True, False),
    "yunet-scale": (False, True),
    "both": (True, True),
}


def cpu_ms_per_photo(way: str, folder: Path, images: int, repeats: int, min_side: int, scale: float) -> float:
    """This process's CPU per photo answering the photos ``repeats`` times ``way``'s way (after one warm-up)."""
    halve, rescaled = WAYS[way]
    os.environ.update(FACE_THREADS="1", ONNX_THREADS="1")
    if rescaled:
        from tools.benchmarks.yunet_scales import register_scales

        os.environ["FACE_DETECTION_PLUGIN"] = register_scales([scale])[0]
    import cv2

    from facecore.app import build_pipeline
    from facecore.config import load_settings
    from facecore.imaging import decode_image
    from tools.benchmarks.images import pick
    from tools.benchmarks.reduced_decode import SLUGS, decode_half, is_large

    cv2.setNumThreads(1)
    pipeline = build_pipeline(load_settings())
    photos = [path.read_bytes() for path in pick(folder, images)]
    decoders = [decode_half if halve and is_large(data, min_side) else decode_image for data in photos]

    def answer_all() -> None:
        for data, decode in zip(photos, decoders):
            pipeline.find_faces(decode(data), threshold=None, limit=0, slugs=list(SLUGS))

    answer_all()
    started = time.process_time()
    for _ in range(repeats):
        answer_all()
    return (time.process_time() - started) * 1000.0 / (repeats * len(photos))


def ratios(per_way: dict[str, list[float]]) -> dict[str, float]:
    """Each way's median CPU against "now"'s: how many times less CPU per photo."""
    now = statistics.median(per_way["now"])
    return {way: now / statistics.median(values) for way, values in per_way.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.benchmarks.portrait_levers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, default=SHARED / "datasets" / "deepface")
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--min-side", type=int, default=1280, help="longer side from which a photo is halved")
    parser.add_argument("--scale", type=float, default=1.1, help="YuNet's enlargement in the rescaled ways")
    parser.add_argument("--child", choices=list(WAYS), help=argparse.SUPPRESS)  # one measuring process
    args = parser.parse_args(argv)
    if not list(args.folder.glob("*.jpg")):
        print(f"no JPEG in {args.folder}", file=sys.stderr)
        return 1
    if args.child:
        print(f"{cpu_ms_per_photo(args.child, args.folder, args.images, args.repeats, args.min_side, args.scale):.2f}")
        return 0
    per_way: dict[str, list[float]] = {way: [] for way in WAYS}
    for _ in range(args.rounds):
        for way in WAYS:
            child = subprocess.run(
                [sys.executable, "-m", "tools.benchmarks.portrait_levers", str(args.folder), "--child", way,
                 "--images", str(args.images), "--repeats", str(args.repeats), "--min-side", str(args.min_side),
                 "--scale", str(args.scale)],
                check=True, capture_output=True, text=True)
            per_way[way].append(float(child.stdout.split()[-1]))
    print(f"YuNet x{args.scale:g} in the rescaled ways; photos of at least {args.min_side} px halved in the others\n")
    print("| way | CPU ms per photo, each round | median | less CPU than now |")
    print("|---|---|---:|---:|")
    for way, ratio in ratios(per_way).items():
        rounds = ", ".join(f"{value:.1f}" for value in per_way[way])
        print(f"| {way} | {rounds} | {statistics.median(per_way[way]):.1f} | {ratio:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
