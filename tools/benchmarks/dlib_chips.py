"""What a dlib face chip costs, and whether cutting it from a crop around the face would save anything.

``python -m tools.benchmarks.dlib_chips [--repeats 20] PHOTO...``. For the largest face of each photo it times
the three chips the dlib plugins cut (150 px padding 0.25, 64 and 32 px padding 0.2), interleaved, three ways:
on the photo as it is, on the same face pasted into a photo with 4x the pixels, and on a copied crop around
the face (origin a multiple of 64) with the chip's rectangle moved into it. It also checks that the other two
ways give chips bitwise equal to the first. Measured answer (docs/benchmarks.md, issue 15): dlib already builds
its pyramid only over the chip's own neighbourhood, so the cost follows the face, not the photo.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from plugins.dlib import age_gender, calculator
from tools.common.images import read_rgb

#: (size, padding) of dlib.Calculator, dlib.AgeDetector and dlib.GenderDetector, read from the plugins
CHIPS = ((calculator.CHIP_SIZE, calculator.CHIP_PADDING), (age_gender.AgeDetector.chip_size, age_gender.CHIP_PADDING),
         (age_gender.GenderDetector.chip_size, age_gender.CHIP_PADDING))
CROP_ALIGN = 64


@dataclass
class ChipCost:
    """One face: its chip rectangle's side and the median ms of all its chips, per way of cutting them."""

    photo: str
    pixels: int
    rect_px: int
    median_ms: dict[str, float]
    equal: dict[str, bool]


def chip_details(shape: Any, size: int, padding: float) -> Any:
    """The geometry ``dlib.get_face_chip`` uses: its binding takes the padding as a C float, so round it so too."""
    import dlib

    return dlib.get_face_chip_details(shape, size, float(np.float32(padding)))


def cut_from_crop(image: np.ndarray, details: Any) -> np.ndarray:
    """The chip cut from a copied crop around it: the rotated rectangle plus 64 px, origin on a 64 px grid."""
    import dlib

    rect = details.rect
    half = max(rect.width(), rect.height()) * 0.75 + 64
    centre_x, centre_y = (rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2
    x0 = max(0, int(centre_x - half) // CROP_ALIGN * CROP_ALIGN)
    y0 = max(0, int(centre_y - half) // CROP_ALIGN * CROP_ALIGN)
    crop = np.ascontiguousarray(image[y0:int(centre_y + half) + 2, x0:int(centre_x + half) + 2])
    moved = dlib.drectangle(rect.left() - x0, rect.top() - y0, rect.right() - x0, rect.bottom() - y0)
    return dlib.extract_image_chip(crop, dlib.chip_details(moved, dlib.chip_dims(details.rows, details.cols),
                                                           details.angle))


def four_times_the_pixels(image: np.ndarray) -> np.ndarray:
    """The photo in the top-left corner of a black one twice as wide and high: same face, 4x the pixels."""
    height, width = image.shape[:2]
    bigger = np.zeros((2 * height, 2 * width, 3), dtype=np.uint8)
    bigger[:height, :width] = image
    return bigger


def measure(name: str, image: np.ndarray, shape: Any, repeats: int) -> ChipCost:
    import dlib

    bigger = four_times_the_pixels(image)
    details = [chip_details(shape, size, padding) for size, padding in CHIPS]
    ways: dict[str, Callable[[], list[np.ndarray]]] = {
        "photo": lambda: [dlib.get_face_chip(image, shape, size=s, padding=p) for s, p in CHIPS],
        "4x pixels": lambda: [dlib.get_face_chip(bigger, shape, size=s, padding=p) for s, p in CHIPS],
        "crop": lambda: [cut_from_crop(image, d) for d in details],
    }
    reference = ways["photo"]()
    equal = {way: all(np.array_equal(a, b) for a, b in zip(reference, cut())) for way, cut in ways.items()}
    times: dict[str, list[float]] = {way: [] for way in ways}
    for _ in range(repeats):  # interleaved, so that the machine's load hits every way alike
        for way, cut in ways.items():
            started = time.perf_counter()
            cut()
            times[way].append((time.perf_counter() - started) * 1000.0)
    return ChipCost(name, image.shape[0] * image.shape[1], int(round(details[0].rect.width())),
                    {way: statistics.median(t) for way, t in times.items()}, equal)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.benchmarks.dlib_chips", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos", type=Path, nargs="+")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)

    import dlib

    from facecore.app import build_pipeline
    from facecore.config import load_settings
    from facecore.model_store import package_path
    from plugins.dlib import models as specs
    from plugins.dlib.shapes import box_to_rect

    pipeline = build_pipeline(load_settings())
    predictor = dlib.shape_predictor(str(package_path(specs.SHAPE5.source)))
    for photo in args.photos:
        image = read_rgb(photo)
        found = pipeline.detect(image, pipeline.default_threshold)
        if not found:
            sys.stdout.write(f"{photo.name}: no face\n")
            continue
        largest = max(found, key=lambda face: face.box.area)
        cost = measure(photo.name, image, predictor(image, box_to_rect(largest.box)), args.repeats)
        ways = "; ".join(f"{way} {ms:.2f} ms{'' if cost.equal[way] else ' (NOT EQUAL)'}"
                         for way, ms in cost.median_ms.items())
        sys.stdout.write(f"{cost.photo} {cost.pixels / 1e6:.1f} Mpx, chip rectangle {cost.rect_px} px, "
                         f"3 chips per face: {ways}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
