"""Run TensorFlow frozen graphs without TensorFlow: read a ``GraphDef`` (``.pb``) and convert it to ONNX.

``convert`` builds the ONNX model in memory; ``convert_cached`` writes ``<graph>.onnx`` beside the source
and rebuilds it only when the source, the arguments or the converter change.
"""
from .cache import convert_cached, onnx_path_for
from .convert import CONVERTER_VERSION, convert
from .errors import TensorflowConversionError
from .graphdef import TfNode, parse_graph, read_graph

__all__ = ["CONVERTER_VERSION", "TensorflowConversionError", "TfNode", "convert", "convert_cached",
           "onnx_path_for", "parse_graph", "read_graph"]
