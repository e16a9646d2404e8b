"""Turn dlib's face models into ONNX: the ResNet face recognizer and the MMOD CNN face detector."""
from __future__ import annotations

from pathlib import Path

from srcext.dlib.layers import LossMetric, LossMMOD
from srcext.dlib.netfile import DlibNet, read_net
from srcext.dlib.onnx_export import make_model
from srcext.dlib.serial import DlibFormatError
from srcext.dlib.topology import apply_template, face_resnet_template, require_plain_chain

CONVERTER_VERSION = "1"
INPUT_DOC = "input: float32 [batch, 3, rows, cols], RGB pixel values 0..255 (not normalised: the graph does it)"


def _common_metadata(net: DlibNet, source_name: str) -> dict[str, str]:
    red, green, blue = net.input.mean_rgb
    return {
        "converter": f"srcext.dlib {CONVERTER_VERSION}",
        "source": source_name,
        "input": INPUT_DOC,
        "dlib_input_layer": net.input.kind,
        "dlib_input_mean_rgb": f"{red!r},{green!r},{blue!r}",
    }


def resnet_model(net: DlibNet, source_name: str = "dlib_face_recognition_resnet_model_v1.dat"):
    """ONNX for dlib's face recognition ResNet: ``input`` [N,3,150,150] -> ``embedding`` [N,128]."""
    if not isinstance(net.loss, LossMetric):
        raise DlibFormatError(f"not a metric-learning net (loss is {type(net.loss).__name__})")
    resolved = apply_template(net, face_resnet_template())
    metadata = _common_metadata(net, source_name)
    metadata["dlib_distance_threshold"] = repr(net.loss.distance_threshold)
    return make_model(resolved, "embedding", "dlib_face_resnet", metadata)


def mmod_model(net: DlibNet, source_name: str = "mmod_human_face_detector.dat"):
    """ONNX for a plain-chain MMOD detector: ``input`` [N,3,H,W] -> ``scores`` [N,1,H',W'] (one pyramid level).

    The score map is what dlib's loss_mmod thresholds (at 0 by default) before it maps positions
    back through the layers to boxes of the detector window size and runs NMS; decoding is not part
    of the graph.
    """
    if not isinstance(net.loss, LossMMOD):
        raise DlibFormatError(f"not an MMOD detector (loss is {type(net.loss).__name__})")
    resolved = require_plain_chain(net)
    metadata = _common_metadata(net, source_name)
    width, height = net.loss.detector_windows[0]
    metadata.update({
        "dlib_detector_window": f"{width}x{height}",
        "dlib_nms_iou_threshold": repr(net.loss.nms_iou_threshold),
        "dlib_nms_percent_covered_threshold": repr(net.loss.nms_percent_covered_threshold),
    })
    return make_model(resolved, "scores", "dlib_mmod_detector", metadata)


def convert_net(net: DlibNet, source_name: str):
    """Pick the converter from the file's loss layer."""
    if isinstance(net.loss, LossMetric):
        return resnet_model(net, source_name)
    if isinstance(net.loss, LossMMOD):
        return mmod_model(net, source_name)
    raise DlibFormatError(f"no converter for loss {type(net.loss).__name__}")


def convert_resnet(dat_path: Path | str):
    """Read dlib's ``dlib_face_recognition_resnet_model_v1.dat`` and return the ONNX ModelProto."""
    return resnet_model(read_net(dat_path), Path(dat_path).name)


def convert_mmod(dat_path: Path | str):
    """Read dlib's ``mmod_human_face_detector.dat`` and return the ONNX ModelProto."""
    return mmod_model(read_net(dat_path), Path(dat_path).name)


def convert_file(dat_path: Path | str):
    """Convert whichever supported model ``dat_path`` holds."""
    return convert_net(read_net(dat_path), Path(dat_path).name)
