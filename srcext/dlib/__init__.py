"""dlib DNN (``.dat``) reader and ONNX converter for dlib's face recognizer and MMOD face detector.

``convert_resnet(dat) -> onnx.ModelProto`` (input [N,3,150,150] RGB 0..255 -> ``embedding`` [N,128]),
``convert_mmod(dat)`` (input [N,3,H,W] -> ``scores``), ``convert_cached(dat, out_dir) -> Path``,
``read_net(dat) -> DlibNet`` for the raw layers. ``MmodDetector.from_onnx(onnx)(rgb) -> [Detection]`` runs
the converted MMOD detector on dlib's tiled pyramid and decodes it as dlib does.
"""
from srcext.dlib.cache import convert_cached
from srcext.dlib.convert import CONVERTER_VERSION, convert_file, convert_mmod, convert_resnet
from srcext.dlib.mmod_decode import Detection
from srcext.dlib.mmod_detector import MmodDetector
from srcext.dlib.netfile import DlibNet, read_net
from srcext.dlib.serial import DlibFormatError

__all__ = [
    "CONVERTER_VERSION",
    "DlibFormatError",
    "DlibNet",
    "Detection",
    "MmodDetector",
    "convert_cached",
    "convert_file",
    "convert_mmod",
    "convert_resnet",
    "read_net",
]
