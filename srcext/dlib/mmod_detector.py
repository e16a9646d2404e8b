"""dlib's MMOD CNN face detector on ONNX Runtime: tiled pyramid (numpy) -> converted net -> loss_mmod decoding.

``MmodDetector.from_onnx(path)(image)`` returns what ``dlib.cnn_face_detection_model_v1(dat)(image, 0)``
returns: the same rectangles and confidences (see docs/dlib-converter.md for the measured differences).
The converted graph normalises RGB 0..255 itself; dlib builds its pyramid levels *after* normalising,
with zeros (the mean colour) between them, so the detector feeds the graph a normalised tiled image
through a copy of the model without its first two nodes (``strip_input_normalisation``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from srcext.dlib.mmod_decode import Detection, NmsRule, OutputMap, decode
from srcext.dlib.mmod_pyramid import PyramidLayout, build_tiled_pyramid

SessionFactory = Callable[[bytes], Any]
POOL_OPS = ("MaxPool", "AveragePool")


@dataclass(frozen=True)
class MmodSettings:
    """What decoding needs, read from the converted model's metadata and graph."""

    window: tuple[int, int]
    nms: NmsRule
    mean_rgb: tuple[float, float, float]
    mapping: OutputMap


def _attr(node: Any, name: str, default: list[int]) -> list[int]:
    for attribute in node.attribute:
        if attribute.name == name:
            return list(attribute.ints)
    return default


def output_map(model: Any) -> OutputMap:
    """Compose the score-to-input position map from the graph's Conv/pool nodes (a plain chain)."""
    layers = []
    for node in reversed(model.graph.node):
        if node.op_type != "Conv" and node.op_type not in POOL_OPS:
            continue
        kernel = _attr(node, "kernel_shape", [])
        if not kernel:  # Conv without kernel_shape: read it from the weights
            weights = next(init for init in model.graph.initializer if init.name == node.input[1])
            kernel = list(weights.dims[2:])
        stride = _attr(node, "strides", [1, 1])
        pads = _attr(node, "pads", [0, 0, 0, 0])
        layers.append(((kernel[0], kernel[1]), (stride[0], stride[1]), (pads[0], pads[1])))
    return OutputMap.from_layers(layers)


def read_settings(model: Any) -> MmodSettings:
    """The window, NMS rule and mean colour that ``srcext.dlib.convert_mmod`` recorded."""
    props = {prop.key: prop.value for prop in model.metadata_props}
    try:
        width, height = (int(v) for v in props["dlib_detector_window"].split("x"))
        nms = NmsRule(float(props["dlib_nms_iou_threshold"]), float(props["dlib_nms_percent_covered_threshold"]))
        red, green, blue = (float(v) for v in props["dlib_input_mean_rgb"].split(","))
    except (KeyError, ValueError) as error:
        raise ValueError(f"not a converted dlib MMOD model (metadata: {error})") from error
    return MmodSettings((width, height), nms, (red, green, blue), output_map(model))


def strip_input_normalisation(model: Any) -> Any:
    """A copy of the converted model whose ``input`` is already ``(pixel - mean) / 256``."""
    import onnx

    stripped = onnx.ModelProto()
    stripped.CopyFrom(model)
    graph = stripped.graph
    input_name = graph.input[0].name
    sub = next((n for n in graph.node if n.op_type == "Sub" and n.input[0] == input_name), None)
    mul = next((n for n in graph.node if sub is not None and n.op_type == "Mul" and n.input[0] == sub.output[0]), None)
    if sub is None or mul is None:
        raise ValueError("the model does not start with the converter's (input - mean) * 1/256 nodes")
    dropped = {sub.input[1], mul.input[1]}
    normalised = mul.output[0]
    kept = [n for n in graph.node if n is not sub and n is not mul]
    for node in kept:
        for i, name in enumerate(node.input):
            if name == normalised:
                node.input[i] = input_name
    del graph.node[:]
    graph.node.extend(kept)
    initializers = [init for init in graph.initializer if init.name not in dropped]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    return stripped


def cpu_session(model_bytes: bytes) -> Any:
    """A plain CPU ONNX Runtime session (tests, benchmarks); the plugin passes ``facecore.onnx_session``'s."""
    import onnxruntime

    return onnxruntime.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])


class MmodDetector:
    """Runs the converted MMOD net on dlib's tiled pyramid and decodes it like ``loss_mmod_``."""

    def __init__(self, model: Any, session_factory: SessionFactory = cpu_session) -> None:
        self.settings = read_settings(model)
        self.session = session_factory(strip_input_normalisation(model).SerializeToString())
        self._input = self.session.get_inputs()[0].name

    @classmethod
    def from_onnx(cls, path: Path | str, session_factory: SessionFactory = cpu_session) -> "MmodDetector":
        import onnx

        return cls(onnx.load(str(path)), session_factory)

    def score_map(self, image: np.ndarray) -> tuple[np.ndarray, PyramidLayout]:
        """The (rows, cols) score map of ``image``'s tiled pyramid, and the pyramid's layout."""
        image = np.ascontiguousarray(image, dtype=np.uint8)
        tiled, layout = build_tiled_pyramid(image, self.settings.mean_rgb)
        (scores,) = self.session.run(None, {self._input: tiled[np.newaxis]})
        return np.asarray(scores)[0, 0], layout

    def __call__(self, image: np.ndarray, threshold: float = 0.0) -> list[Detection]:
        """Faces in an (H, W, 3) RGB uint8 image: rectangles in its pixels, best first."""
        if image.shape[0] == 0 or image.shape[1] == 0:
            return []
        scores, layout = self.score_map(image)
        settings = self.settings
        return decode(scores, layout, settings.mapping, settings.window, settings.nms, threshold)
