"""The one error type of the MXNet reader/converter, so callers catch a single class."""
from __future__ import annotations

from srcext.node_errors import node_location


class MxnetConversionError(ValueError):
    """A file cannot be read, or a node cannot be converted; the message names the node, op and attribute."""


def node_error(node: str, op: str, message: str, attribute: str | None = None) -> MxnetConversionError:
    """Build an error that says where the problem is, e.g. ``node 'conv0' (op Convolution), attribute 'layout'``."""
    return MxnetConversionError(f"{node_location(node, op, attribute)}: {message}")
