"""The `face_recognition` library in-process, run by ``compare`` in the benchmark's own virtual environment.

Standalone on purpose (stdlib + face_recognition + the sibling ``peer_harness``): that environment has no
project code. Per image: decode the JPEG bytes, HOG-detect (``--upsample``), 5-point landmarks and the ResNet
encoding of every face, as ``face_recognition.face_encodings`` does by default.
"""
from __future__ import annotations

import argparse
import io
import time

try:
    import peer_harness  # run as a script in the peer's venv: this file's folder is on sys.path
except ModuleNotFoundError:  # imported from the project
    from tools.benchmarks import peer_harness


def make_processor(options: dict) -> peer_harness.Processor:
    import face_recognition  # loads the models (face_recognition_models) at import

    upsample = options["upsample"]

    def process(data: bytes) -> tuple[int, float, float]:
        started = time.perf_counter()
        image = face_recognition.load_image_file(io.BytesIO(data))
        boxes = face_recognition.face_locations(image, number_of_times_to_upsample=upsample, model="hog")
        detected = time.perf_counter()
        face_recognition.face_encodings(image, boxes)
        done = time.perf_counter()
        return len(boxes), (detected - started) * 1000.0, (done - detected) * 1000.0
    return process


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--upsample", type=int, default=1, help="face_locations' number_of_times_to_upsample")


if __name__ == "__main__":
    raise SystemExit(peer_harness.main(__doc__, make_processor, add_options))
