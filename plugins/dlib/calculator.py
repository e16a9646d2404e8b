"""dlib's resnet face recognizer (128-d), on chips aligned by dlib's 5-point predictor.

Inference sits behind :class:`ChipEmbedder`, so the runtime (the converted network on ONNX Runtime, the
default, or dlib's own; option ``backend``) is chosen without touching alignment.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, ClassVar, Protocol, Sequence

import numpy as np

from facecore.align import resize_whole
from facecore.inference_runtime import INT8
from facecore.model_store import ModelNotAvailable
from facecore.plugin_api import Calculator as CalculatorBase, Face, LoadContext, ModelSpec
from plugins.dlib import models as specs
from plugins.dlib.shapes import SHAPE5_KEY, face_chip, face_shape, shape_predictor

CHIP_SIZE = 150
CHIP_PADDING = 0.25  # dlib's default, the padding the recognizer was trained with
DESCRIPTOR_SIZE = 128
#: ``whole_image`` option values: resize the whole (already aligned) image, or align it with the predictor.
WHOLE_RESIZE = "resize"
WHOLE_ALIGN = "align"  # the 5-point predictor on the whole-image box: more accurate on LFW crops


def int8_path(folder: Path) -> Path:
    """Where the int8 copy of the ResNet lives in the model store (``tools.benchmarks.quantize`` writes it)."""
    return folder / "int8" / "resnet_int8.onnx"


def int8_copy(folder: Path) -> Path:
    """The int8 copy, or a clear error saying how to make it (it needs calibration photos, so it is not
    made at start-up)."""
    path = int8_path(folder)
    if not path.exists():
        raise ModelNotAvailable(specs.RESNET_SPEC.name, path.name,
                                f"INFERENCE_PRECISION=calculator:int8 needs the int8 copy {path}: write it once with "
                                "python -m tools.benchmarks.quantize --calibration PHOTO_FOLDER (docs/benchmarks.md)")
    return path


class ChipEmbedder(Protocol):
    """(N, 150, 150, 3) uint8 RGB chips -> (N, 128) float32 descriptors, in one network run."""

    def __call__(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        """Descriptors of ``chips``, one row per chip."""


class NativeEmbedder:
    """dlib's own ``face_recognition_model_v1``; its list overload runs all chips as one batch."""

    def __init__(self, path: Path) -> None:
        import dlib

        self._net = dlib.face_recognition_model_v1(str(path))

    def __call__(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        if not chips:
            return np.zeros((0, DESCRIPTOR_SIZE), dtype=np.float32)
        vectors = self._net.compute_face_descriptor([np.ascontiguousarray(c, dtype=np.uint8) for c in chips])
        return np.array([np.asarray(v) for v in vectors], dtype=np.float32).reshape(len(chips), DESCRIPTOR_SIZE)


class OnnxEmbedder:
    """The same network converted to ONNX by ``srcext.dlib`` (equal to dlib within 1e-6): batched, and
    placed on the GPU when GPU_IDX asks for one."""

    def __init__(self, path: Path, device: Any) -> None:
        from facecore.device import describe_session
        from facecore.onnx_session import open_session

        self._session = open_session(path, device)
        self._input = self._session.get_inputs()[0].name
        self.device_description = describe_session(self._session)

    def __call__(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        if not chips:
            return np.zeros((0, DESCRIPTOR_SIZE), dtype=np.float32)
        batch = np.stack(chips).astype(np.float32).transpose(0, 3, 1, 2)  # RGB 0..255; the graph normalises
        (vectors,) = self._session.run(None, {self._input: np.ascontiguousarray(batch)})
        return np.asarray(vectors, dtype=np.float32).reshape(len(chips), DESCRIPTOR_SIZE)


def dlib_jitter(chip: np.ndarray, copies: int) -> list[np.ndarray]:
    """dlib's own ``jitter_image``: ``copies`` randomly zoomed, rotated, shifted and mirrored copies of a chip."""
    import dlib

    return [np.asarray(copy) for copy in dlib.jitter_image(np.ascontiguousarray(chip, dtype=np.uint8), copies)]


class JitteredEmbedder:
    """dlib's ``num_jitters``: a chip's descriptor is the mean over that many jittered copies of it, all run as
    one batch through the wrapped embedder. dlib's recognition example publishes it as more accurate on LFW
    (99.13 % plain, 99.3 % with 10 copies, 99.38 % with 100), at that many times the network's cost."""

    def __init__(self, inner: ChipEmbedder, copies: int,
                 jitter: Callable[[np.ndarray, int], list[np.ndarray]] = dlib_jitter) -> None:
        if copies < 2:
            raise ValueError(f"jittering needs at least 2 copies, not {copies}")
        self.inner, self.copies, self._jitter = inner, copies, jitter

    def __call__(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        if not chips:
            return self.inner(chips)
        copies = [copy for chip in chips for copy in self._jitter(chip, self.copies)]
        return self.inner(copies).reshape(len(chips), self.copies, -1).mean(axis=1, dtype=np.float64) \
            .astype(np.float32)


class Calculator(CalculatorBase):
    """Embeddings of dlib's resnet_v1 (the face_recognition library's model); raw, not unit-normalised."""

    name = "dlib.Calculator"
    models: ClassVar[tuple[ModelSpec, ...]] = (specs.RESNET_SPEC,)

    def __init__(self, model: ModelSpec | None = None) -> None:
        super().__init__(model)
        self._predictor: Any = None
        self._embedder: ChipEmbedder | None = None
        options = model.options if model is not None else {}
        #: How a ``detect_faces=false`` image becomes a chip (see docs/calibration.md for the measurement).
        self.whole_image_mode = str(options.get("whole_image", WHOLE_ALIGN))
        #: "onnx" (the converted network on ONNX Runtime, default) or "dlib" (dlib's own, one thread)
        self.backend = str(options.get("backend", "onnx"))
        self.thread_safe = self.backend == "onnx"  # dlib's own network keeps per-call tensors in the object

    def load(self, ctx: LoadContext) -> None:
        files = ctx.models.files()
        self._predictor = shape_predictor(files[specs.SHAPE5.filename])
        if self.backend == "dlib":
            import dlib

            self._embedder = NativeEmbedder(files[specs.RESNET.filename])
            self.device_description = "cuda" if dlib.DLIB_USE_CUDA else "cpu"
            return
        from srcext.dlib import convert_cached

        path = convert_cached(files[specs.RESNET.filename], ctx.models.folder / "onnx")
        if ctx.device.runtime.precision == INT8:
            path = int8_copy(ctx.models.folder)
        onnx_embedder = OnnxEmbedder(path, ctx.device)
        self._embedder = onnx_embedder
        self.device_description = onnx_embedder.device_description

    def use_onnx(self, path: Path, device: Any) -> None:
        """Run another ONNX file of the same network (a quantized copy, for tools.benchmarks.precision_lfw)."""
        self._embedder = OnnxEmbedder(path, device)

    def use_jitter(self, copies: int) -> None:
        """Average each face over ``copies`` jittered chips (dlib's num_jitters; training.evaluate --jitter)."""
        self._embedder = JitteredEmbedder(self.loaded(self._embedder), copies)

    def chip(self, face: Face) -> np.ndarray:
        """The 150x150 aligned chip of ``face``, shared through the face's crop cache."""
        if face.whole_image and self.whole_image_mode == WHOLE_RESIZE:
            return face.crop(f"dlib_whole{CHIP_SIZE}", lambda f: resize_whole(f.image, CHIP_SIZE))
        shape = face_shape(face, self.loaded(self._predictor), SHAPE5_KEY)
        return face_chip(face, shape, CHIP_SIZE, CHIP_PADDING)

    def embed(self, faces: Sequence[Face]) -> np.ndarray:
        return self._embed_chips([self.chip(face) for face in faces])

    def _embed_chips(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        return self.loaded(self._embedder)(chips)

    def warm_up(self, image: np.ndarray) -> None:
        self._embed_chips([resize_whole(image, CHIP_SIZE)])
