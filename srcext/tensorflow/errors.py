"""The one error type of the TensorFlow/Keras readers and converters, so callers catch a single class."""
from __future__ import annotations

from srcext.node_errors import node_location


class TensorflowConversionError(ValueError):
    """A file cannot be read, or a node/layer cannot be converted; the message names the node and op."""


def node_error(node: str, op: str, message: str, attribute: str | None = None) -> TensorflowConversionError:
    """``node 'conv/Conv2D' (op Conv2D), attribute 'data_format': ...``."""
    return TensorflowConversionError(f"{node_location(node, op, attribute)}: {message}")
