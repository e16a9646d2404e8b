"""Typed access to one node's string attributes, refusing any attribute its converter does not know.

MXNet writes every parameter as a string: ``"(3, 3)"``, ``"True"``, ``"2e-05"``, ``"(None, 2)"``,
sometimes with Python 2 long suffixes (``"3L"``). Keys wrapped in double underscores (``__init__``,
``__lr_mult__``, ``__mirror_stage__``) are training annotations, never operator parameters, and are ignored.
"""
from __future__ import annotations

from typing import Iterable

from .errors import node_error
from .symbol import MxNode

TRUE = {"true", "1"}
FALSE = {"false", "0"}


def is_annotation(key: str) -> bool:
    return key.startswith("__") and key.endswith("__")


class Attrs:
    """The parameters of one node; every getter names the node, op and attribute in its errors."""

    def __init__(self, node: MxNode, known: Iterable[str]) -> None:
        self.node = node
        self.raw = {key: value for key, value in node.attrs.items() if not is_annotation(key)}
        known = set(known)
        for key in sorted(self.raw):
            if key not in known:
                raise self.error("attribute not supported by the converter", key)

    def error(self, message: str, key: str | None = None) -> Exception:
        return node_error(self.node.name, self.node.op, message, key)

    def has(self, key: str) -> bool:
        return key in self.raw and self.raw[key].strip() not in ("", "None")

    def text(self, key: str, default: str) -> str:
        return self.raw[key].strip() if self.has(key) else default

    def choice(self, key: str, default: str, allowed: Iterable[str]) -> str:
        value = self.text(key, default)
        allowed = tuple(allowed)
        if value not in allowed:
            raise self.error(f"value {value!r} not supported (supported: {', '.join(allowed)})", key)
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.text(key, str(default)).lower()
        if value in TRUE:
            return True
        if value in FALSE:
            return False
        raise self.error(f"not a boolean: {value!r}", key)

    def number(self, key: str, default: float) -> float:
        try:
            return float(self.text(key, repr(default)).rstrip("L"))
        except ValueError as error:
            raise self.error(f"not a number: {self.raw[key]!r}", key) from error

    def integer(self, key: str, default: int) -> int:
        value = self.number(key, default)
        if value != int(value):
            raise self.error(f"not an integer: {self.raw[key]!r}", key)
        return int(value)

    def optional_ints(self, key: str) -> tuple[int | None, ...]:
        """A tuple attribute whose items may be ``None`` (``slice`` begin/end)."""
        if not self.has(key):
            return ()
        body = self.raw[key].strip().strip("()[]")
        items = [item.strip() for item in body.split(",") if item.strip()]
        try:
            return tuple(None if item == "None" else int(float(item.rstrip("L"))) for item in items)
        except ValueError as error:
            raise self.error(f"not a tuple of integers: {self.raw[key]!r}", key) from error

    def ints(self, key: str, default: tuple[int, ...] = ()) -> tuple[int, ...]:
        values = self.optional_ints(key) if self.has(key) else default
        if any(value is None for value in values):
            raise self.error(f"None not allowed here: {self.raw[key]!r}", key)
        return tuple(int(value) for value in values)  # type: ignore[arg-type]

    def spatial(self, key: str, rank: int, fill: int) -> tuple[int, ...]:
        """A per-spatial-axis tuple (kernel, stride, pad); empty means ``fill`` on each of ``rank`` axes."""
        values = self.ints(key)
        if not values:
            return (fill,) * rank
        if len(values) != rank:
            raise self.error(f"expected {rank} values, got {values}", key)
        return values
