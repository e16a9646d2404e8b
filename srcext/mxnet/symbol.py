"""Reader for MXNet's symbol JSON (``<prefix>-symbol.json``): nodes, their inputs and attributes, and heads.

Old files (MXNet < 0.9) keep operator parameters under ``param`` and user attributes under ``attr``; newer
ones put both under ``attrs``. Inputs are ``[node, output]`` or ``[node, output, version]``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import MxnetConversionError

ATTRIBUTE_KEYS = ("param", "attr", "attrs")


@dataclass(frozen=True)
class MxNode:
    """One symbol node: ``op == "null"`` marks a variable (data input or parameter)."""

    index: int
    op: str
    name: str
    attrs: dict[str, str] = field(default_factory=dict)
    inputs: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class MxSymbol:
    """A parsed symbol: nodes in file order (already topological) and the head outputs ``(node, output)``."""

    nodes: tuple[MxNode, ...]
    heads: tuple[tuple[int, int], ...]

    def find(self, name: str) -> MxNode:
        """The node called ``name``; raises with the known names' count when absent."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise MxnetConversionError(f"symbol has no node named {name!r} ({len(self.nodes)} nodes)")


def _entry(raw: Any, what: str) -> tuple[int, int]:
    if not isinstance(raw, list) or len(raw) < 2:
        raise MxnetConversionError(f"symbol JSON: malformed {what} entry {raw!r}")
    return int(raw[0]), int(raw[1])


def _attributes(raw: dict[str, Any]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for key in ATTRIBUTE_KEYS:
        merged.update({str(name): str(value) for name, value in (raw.get(key) or {}).items()})
    return merged


def parse_symbol(document: dict[str, Any]) -> MxSymbol:
    """Build an ``MxSymbol`` from the decoded JSON document."""
    if "nodes" not in document or "heads" not in document:
        raise MxnetConversionError("symbol JSON: 'nodes' and 'heads' are required")
    nodes = []
    for index, raw in enumerate(document["nodes"]):
        inputs = tuple(_entry(item, "input") for item in raw.get("inputs", []))
        for source, _ in inputs:
            if not 0 <= source < index:
                raise MxnetConversionError(f"symbol JSON: node {raw.get('name')!r} reads node {source} out of order")
        nodes.append(MxNode(index, str(raw["op"]), str(raw["name"]), _attributes(raw), inputs))
    heads = tuple(_entry(item, "head") for item in document["heads"])
    return MxSymbol(tuple(nodes), heads)


def read_symbol(source: str | Path | dict[str, Any]) -> MxSymbol:
    """Read a symbol from a path, a JSON string, or an already decoded document."""
    if isinstance(source, dict):
        return parse_symbol(source)
    text = str(source)
    if not text.lstrip().startswith("{"):
        text = Path(source).read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise MxnetConversionError(f"symbol JSON: {error}") from error
    return parse_symbol(document)
