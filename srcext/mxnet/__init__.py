"""Run MXNet face models without MXNet: read ``-symbol.json`` + ``.params`` and convert them to ONNX.

``convert`` builds the ONNX model in memory; ``convert_cached`` writes ``<prefix>.onnx`` next to the
sources (or into a cache folder) and rebuilds it only when the sources or the converter change.
"""
from .cache import convert_cached, onnx_path_for
from .convert import CONVERTER_VERSION, convert
from .errors import MxnetConversionError
from .gluon_zoo import convert_gluon, convert_gluon_cached
from .params import read_params, split_params, write_params
from .symbol import MxNode, MxSymbol, read_symbol

__all__ = ["CONVERTER_VERSION", "MxNode", "MxSymbol", "MxnetConversionError", "convert", "convert_cached",
           "convert_gluon", "convert_gluon_cached",
           "onnx_path_for", "read_params", "read_symbol", "split_params", "write_params"]
