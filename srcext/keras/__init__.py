"""Run Keras models without Keras or TensorFlow: read an HDF5 file (architecture JSON + weights) or a SavedModel
directory (Keras metadata + variables checkpoint) and convert it to ONNX, inputs in the model's own NHWC layout
and names."""
from .cache import convert_cached
from .convert import CONVERTER_VERSION, convert, convert_model, read_keras
from .h5 import read_h5
from .model import KerasLayer, KerasModel
from .savedmodel import read_keras_savedmodel

__all__ = ["CONVERTER_VERSION", "KerasLayer", "KerasModel", "convert", "convert_cached", "convert_model",
           "read_h5", "read_keras", "read_keras_savedmodel"]
