"""``libfacedetection.FaceDetector``: YuNet as Shiqi Yu's libfacedetection runs it, from the ``yuface`` wheel.

The weights are compiled into ``libfacedetection.so`` (BSD-3-Clause), so the detector works offline with no
model file; the store checks that library's sha256, which pins the network.

By default the plugin does not call the library: at load it reads the weights out of the library
(:mod:`srcext.libfacedetection`), builds the same network as an ONNX graph in memory (7 ms; nothing is
written, so there is no cache to keep in step with the library) and runs it on ONNX Runtime or OpenVINO like
every ONNX plugin (``INFERENCE_BACKEND``, ``ONNX_THREADS``, ``/status``). The library is SSE-only and
single-threaded; the graph gives the same faces (tests/plugins/libfacedetection/test_equality.py) at a
fraction of the CPU (docs/detectors.md). Its outputs are decoded as the library does: score sqrt(cls * obj),
candidates from 0.2 up (the library's own floor), greedy NMS at IoU 0.45, measured against the library.

When the library's tables cannot be read as the YuNet we know (an ELF reader error, another layer table),
the plugin logs one warning and calls ``yuface.yuface.detect`` instead: it takes a BGR uint8 image and
returns int16 rows (score in percent, x, y, w, h, 5 landmarks, one unused column), truncated to integers.
The library parallelises with its own OpenMP runtime, whose idle threads spin: that path runs on one thread,
2.4x faster in wall time than two on the shared 2-core machine.
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
from plugins.insightface.blob import fit_input, to_blob
from plugins.insightface.boxes import to_faces
from plugins.insightface.yunet import YunetDecoder

log = logging.getLogger(__name__)

LIBRARY = "package:yuface/libfacedetection.so"
LIBRARY_SHA256 = "7fc3c140b563f449ce7cb5bd102ece650681e5bfeffc87efe79272be1932c4f4"
#: The library keeps candidates scoring at least this (measured: its lowest score on WIDER photos is 0.20).
SCORE_FLOOR = 0.2
#: Its NMS drops a box overlapping a better one by more than this (IoU): 0.45 gives the library's faces.
NMS_IOU = 0.45

YUNET = api.ModelSpec(
    name="yunet",
    files=(api.ModelFile("libfacedetection.so", LIBRARY, LIBRARY_SHA256, 323913),),
    licence="BSD-3-Clause (libfacedetection by Shiqi Yu et al., yuface 2023.5.1 pip package)",
    options={"scale": 1.0},
)
#: The image enlarged 1.25x first: smaller faces reach the network's smallest anchors (docs/detectors.md).
YUNET_UPSCALED = api.ModelSpec(name="yunet_upscaled", files=YUNET.files, licence=YUNET.licence,
                               options={"scale": 1.25})
#: The same two, computed by the library itself (``yuface.detect``): for comparison, and the way back.
LIBRARY_MODELS = tuple(api.ModelSpec(name=f"{m.name}_library", files=m.files, licence=m.licence,
                                     options={**m.options, "engine": "library"}) for m in (YUNET_UPSCALED, YUNET))


class FaceDetector(api.FaceDetector):
    """YuNet from libfacedetection's weights on ONNX Runtime (or the library itself when its weights cannot be
    read); not declared thread-safe because the library fallback keeps buffers: the pipeline serialises it."""

    name = "libfacedetection.FaceDetector"
    models: ClassVar[tuple[api.ModelSpec, ...]] = (YUNET_UPSCALED, YUNET, *LIBRARY_MODELS)  # the first: default
    threads: ClassVar[int] = 1  # the library fallback's OpenMP threads
    default_threshold = 0.85  # CompreFace's and MTCNN's; at 0.8 a dog in dlib-faces counts

    def __init__(self, model: api.ModelSpec | None = None) -> None:
        super().__init__(model)
        self.session: Any = None
        self._detect: Any = None
        self._set_threads: Any = None
        self.scale = float((model or YUNET_UPSCALED).options.get("scale", 1.0))
        self.engine = str((model or YUNET_UPSCALED).options.get("engine", "onnx"))
        self.decoder = YunetDecoder()

    def load(self, ctx: api.LoadContext) -> None:
        if importlib.util.find_spec("yuface") is None:
            raise api.PluginError("the yuface package is not installed (wheels exist for x86-64 Linux and Windows "
                                  "only); choose FACE_DETECTION_PLUGIN=facenet.FaceDetector (MTCNN) elsewhere")
        library = ctx.models.files()["libfacedetection.so"]  # checks the sha256: the weights are compiled into it
        graph = None if self.engine == "library" else library_graph(library)
        if graph is not None:
            from facecore.device import describe_session
            from facecore.onnx_session import open_session

            self.session = open_session(graph, ctx.device, detector_input=True)
            self.output_names = [o.name for o in self.session.get_outputs()]
            self.device_description = describe_session(self.session)
        else:
            import yuface.yuface as native

            self._detect = native.detect
            self._set_threads = openmp_thread_setter(Path(native.__file__).parent)
            self.device_description = "cpu"
        log.info("libfacedetection loaded, %s, %s", (self.model or YUNET_UPSCALED).name,
                 "its weights on ONNX" if graph is not None else "the library itself")

    def warm_up(self, image: np.ndarray) -> None:
        self.detect(image, self.default_threshold)

    def detect(self, image: np.ndarray, threshold: float) -> list[api.DetectedFace]:
        height, width = image.shape[:2]
        if self.scale != 1.0:
            import cv2

            size = (round(width * self.scale), round(height * self.scale))
            image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
        if self.session is None:
            return self._detect_with_library(image, threshold, width, height)
        canvas, _ = fit_input(image, None, self.decoder.multiple)  # zero padding to 32, as the library pads
        outputs = self.session.run(self.output_names, {"input": to_blob(canvas, self.decoder.norm)})
        floor = max(threshold, SCORE_FLOOR - 1e-6)  # the decoder keeps scores above its floor
        found = self.decoder.decode(dict(zip(self.output_names, outputs)), canvas.shape[1], canvas.shape[0], floor)
        if self.scale != 1.0:
            found = found.scaled(1.0 / self.scale)
        return to_faces(found, threshold, width, height, iou=NMS_IOU)

    def _detect_with_library(self, image: np.ndarray, threshold: float, width: int, height: int
                             ) -> list[api.DetectedFace]:
        detect = self.loaded(self._detect)
        if self._set_threads is not None:
            self._set_threads(self.threads)  # OpenMP keeps the count per calling thread
        rows = np.asarray(detect(np.ascontiguousarray(image[:, :, ::-1])), dtype=np.float64).reshape(-1, 16)
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


def library_graph(library: Path) -> bytes | None:
    """YuNet's ONNX graph from ``library``'s weights, or None (one warning) when they cannot be read as such."""
    from srcext.libfacedetection.elf import ElfError
    from srcext.libfacedetection.yunet import graph_from_library

    try:
        return graph_from_library(library)
    except (ElfError, OSError) as error:
        log.warning("libfacedetection: cannot rebuild YuNet from %s (%s); calling the library itself", library, error)
        return None


def openmp_thread_setter(package: Path) -> Any:
    """``omp_set_num_threads`` of the OpenMP runtime the wheel bundles (``yuface.libs/libgomp-*.so``), or None."""
    for library in sorted((package.parent / f"{package.name}.libs").glob("libgomp*.so*")):
        try:
            return ctypes.CDLL(str(library)).omp_set_num_threads
        except (OSError, AttributeError) as error:
            log.warning("cannot set libfacedetection's threads through %s: %s", library, error)
    return None
