"""InsightFace's own Python package in-process, run by ``compare`` in its own virtual environment.

Standalone on purpose (stdlib + insightface + the sibling ``peer_harness``): that environment has no project
code. ``--model-dir`` holds the ONNX files the service is given too (SCRFD-500M and an ArcFace-style
calculator); ``insightface.app.FaceAnalysis`` loads them through its ``model_zoo`` (which routes each file by its
inputs and outputs) with the detection and recognition modules only. Per image: decode the JPEG bytes with
OpenCV, ``FaceAnalysis.get`` (SCRFD on the image letterboxed into ``--det-size``, then per face the 5-point
alignment and the embedding). Detect ms are timed around the library's own ``det_model.detect``.
"""
from __future__ import annotations

import argparse
import time

try:
    import peer_harness  # run as a script in the peer's venv: this file's folder is on sys.path
except ModuleNotFoundError:  # imported from the project
    from tools.benchmarks import peer_harness


def make_processor(options: dict) -> peer_harness.Processor:
    import cv2
    import numpy as np
    import onnxruntime
    from insightface.app import FaceAnalysis

    session_options = onnxruntime.SessionOptions()
    if options["threads"] > 0:  # 0: ONNX Runtime's own default (one thread per core)
        session_options.intra_op_num_threads = options["threads"]
        session_options.inter_op_num_threads = 1
    app = FaceAnalysis(name=options["model_dir"], allowed_modules=["detection", "recognition"],
                       providers=["CPUExecutionProvider"], sess_options=session_options)
    if set(app.models) != {"detection", "recognition"}:
        raise SystemExit(f"{options['model_dir']}: FaceAnalysis found {sorted(app.models)}, "
                         "wants detection and recognition")
    size = options["det_size"]
    app.prepare(ctx_id=-1, det_thresh=options["det_thresh"], det_size=(size, size))
    detect = app.det_model.detect
    spent = [0.0]

    def timed_detect(*args, **kwargs):
        started = time.perf_counter()
        try:
            return detect(*args, **kwargs)
        finally:
            spent[0] = (time.perf_counter() - started) * 1000.0
    app.det_model.detect = timed_detect

    def process(data: bytes) -> tuple[int, float, float]:
        started = time.perf_counter()
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        decoded = time.perf_counter()
        faces = app.get(image)
        total = (time.perf_counter() - decoded) * 1000.0
        detect_ms = (decoded - started) * 1000.0 + spent[0]
        return len(faces), detect_ms, total - spent[0]
    return process


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model-dir", required=True, help="folder with the detector and calculator ONNX files")
    parser.add_argument("--det-size", type=int, default=640, help="SCRFD input (letterboxed square), default 640")
    parser.add_argument("--det-thresh", type=float, default=0.5, help="FaceAnalysis.prepare's det_thresh")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads per process")


if __name__ == "__main__":
    raise SystemExit(peer_harness.main(__doc__, make_processor, add_options))
