"""How every srcext converter names the place of a problem, so messages read alike across formats."""
from __future__ import annotations


def node_location(node: str, op: str, attribute: str | None = None) -> str:
    """``node 'conv0' (op Convolution), attribute 'layout'``."""
    where = f"node {node!r} (op {op})"
    return where if attribute is None else f"{where}, attribute {attribute!r}"
