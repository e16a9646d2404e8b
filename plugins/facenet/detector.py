"""``facenet.FaceDetector``: MTCNN on ONNX Runtime, from the weights the ``mtcnn`` pip package ships."""
from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import ClassVar

import numpy as np

from facecore import plugin_api as api
from facecore.boxes import order_landmarks
from plugins.facenet import boxes as bx
from plugins.facenet.cascade import COMMON_STEPS, COMPREFACE_STEPS, Cascade, CascadeConfig, Detections

log = logging.getLogger(__name__)

WEIGHTS = "package:mtcnn/assets/weights"
#: The margins CompreFace adds around MTCNN boxes (left, top, right, bottom as fractions of the box).
COMPREFACE_MARGINS = (0.2126, 0.1053, 0.2231, 0.0987)

MTCNN = api.ModelSpec(
    name="mtcnn",
    files=(
        api.ModelFile("pnet.lz4", f"{WEIGHTS}/pnet.lz4",
                      "ea6b0c3e685ebee3165326ad6484acc95f2ef78f1c94fbf40a55704fa989f7b5", 27119),
        api.ModelFile("rnet.lz4", f"{WEIGHTS}/rnet.lz4",
                      "cb00e6460f3c98b0bfafaba3c0a0ded4bdf6e62cee7174d969e8670d7e757fee", 401659),
        api.ModelFile("onet.lz4", f"{WEIGHTS}/onet.lz4",
                      "94f6ea2f4cf985275ee958cdd762d17b6009348a4fb9d8c6be39ba73ffd22ca3", 1557637),
    ),
    licence="MIT (mtcnn 1.0.0 pip package; MTCNN by K. Zhang et al.)",
    options={"steps": COMMON_STEPS, "min_face": 20.0, "factor": 0.709, "margins": None},
)
#: CompreFace's stage thresholds and box margins: boxes like CompreFace's, about 2x faster, lower recall
#: on partly hidden faces (see docs/detectors.md).
MTCNN_COMPREFACE = api.ModelSpec(
    name="mtcnn_compreface", files=MTCNN.files, licence=MTCNN.licence,
    options={"steps": COMPREFACE_STEPS, "min_face": 20.0, "factor": 0.709, "margins": COMPREFACE_MARGINS},
)


@functools.lru_cache(maxsize=8)
def net_bytes(kind: str, path: Path) -> bytes:
    """The ONNX graph of one net, built once per process from its weight file."""
    from plugins.facenet import nets

    return nets.build(nets.LAYOUTS[kind], nets.load_weights(path))


class SessionNet:
    """An ONNX Runtime session as the plain callable the cascade expects."""

    def __init__(self, session: object) -> None:
        self.session = session
        self.input = session.get_inputs()[0].name  # type: ignore[attr-defined]

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        return self.session.run(None, {self.input: np.ascontiguousarray(batch, dtype=np.float32)})  # type: ignore


class FaceDetector(api.FaceDetector):
    """MTCNN (P/R/O-Net cascade) with 5 landmarks. Options of the model: ``steps`` (stage thresholds),
    ``min_face`` (pixels), ``factor`` (pyramid step) and ``margins`` (None, or CompreFace-style padding)."""

    name = "facenet.FaceDetector"
    models: ClassVar[tuple[api.ModelSpec, ...]] = (MTCNN, MTCNN_COMPREFACE)
    thread_safe = True  # ONNX Runtime sessions; the cascade keeps its state per call
    default_threshold = 0.85
    #: The nets are tiny and run ~15 times per image with numpy work in between: one ONNX thread is as fast,
    #: and spares the CPU that idle pool threads spin on between runs (docs/detectors.md: 3x on 2 cores).
    onnx_threads: ClassVar[int] = 1

    def __init__(self, model: api.ModelSpec | None = None) -> None:
        super().__init__(model)
        self.cascade: Cascade | None = None
        options = dict((model or MTCNN).options)
        self.config = CascadeConfig(min_face=float(options.get("min_face", 20.0)),
                                    factor=float(options.get("factor", 0.709)),
                                    steps=tuple(options.get("steps", COMMON_STEPS)))
        margins = options.get("margins")
        self.margins: tuple[float, float, float, float] | None = tuple(margins) if margins else None

    def load(self, ctx: api.LoadContext) -> None:
        from facecore.device import describe_session
        from facecore.onnx_session import open_session

        files = ctx.models.files()
        nets = {}
        for kind in ("pnet", "rnet", "onet"):
            session = open_session(net_bytes(kind, Path(files[f"{kind}.lz4"])), ctx.device, self.onnx_threads,
                                   detector_input=kind == "pnet")  # R- and O-Net take a batch of candidates
            nets[kind] = SessionNet(session)
            self.device_description = describe_session(session)
        self.cascade = Cascade(nets["pnet"], nets["rnet"], nets["onet"], self.config)
        log.info("MTCNN loaded on %s, stage thresholds %s", self.device_description, self.config.steps)

    def warm_up(self, image: np.ndarray) -> None:
        self.detect(image, self.default_threshold)

    def detect_raw(self, image: np.ndarray) -> Detections:
        """Every face the cascade keeps, before the caller's threshold, margins and clipping."""
        return self.loaded(self.cascade).detect(image)

    def detect(self, image: np.ndarray, threshold: float) -> list[api.DetectedFace]:
        found = self.detect_raw(image)
        keep = found.scores > threshold
        boxes, scores = found.boxes[keep], found.scores[keep]
        marks = order_landmarks(found.landmarks[keep])
        if self.margins is not None:
            boxes = bx.pad_box(boxes, self.margins)
        height, width = image.shape[:2]
        return [api.DetectedFace(api.BoundingBox(*map(float, box)).clipped(width, height), float(score),
                                 api.as_points(points))
                for box, score, points in zip(boxes, scores, marks)]
