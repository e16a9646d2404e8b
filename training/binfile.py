"""InsightFace verification sets (``lfw.bin``, ``cfp_fp.bin``, ``agedb_30.bin``, ...): a pickle of
``(images, issame)``, images the JPEG/PNG bytes of aligned 112x112 faces, two per pair, issame one bool per pair.

A pickle can run any code while it loads, so these are read by an unpickler that builds only bytes, lists,
tuples and booleans: it resolves no global (no class, no function) except ``_codecs.encode``, answered by our
own function that only turns a latin-1 string into bytes (how Python 3 writes bytes at protocol 2); the
result's shape is checked.
"""
from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from pathlib import Path


class UnsafePickle(ValueError):
    """The file holds something other than bytes, lists and booleans."""


def _latin1_bytes(text: object, encoding: object = "latin1") -> bytes:
    """What protocol-2 pickles made by Python 3 call for each bytes object: ``_codecs.encode(str, 'latin1')``."""
    if not isinstance(text, str) or encoding != "latin1":
        raise UnsafePickle("refused: _codecs.encode with anything but (str, 'latin1')")
    return text.encode("latin1")


class _BytesListsBools(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # noqa: D401 - the pickle API's name
        if (module, name) == ("_codecs", "encode"):
            return _latin1_bytes  # our own, which only turns a latin-1 string into bytes
        raise UnsafePickle(f"refused: the pickle asks for {module}.{name}; a .bin holds only bytes, lists, bools")

    def persistent_load(self, pid):
        raise UnsafePickle("refused: the pickle uses persistent ids")


@dataclass
class VerificationBin:
    images: list[bytes]
    issame: list[bool]

    @property
    def pairs(self) -> int:
        return len(self.issame)


def loads_bin(data: bytes) -> VerificationBin:
    try:
        value = _BytesListsBools(io.BytesIO(data), encoding="bytes").load()
    except UnsafePickle:
        raise
    except Exception as error:  # a truncated or foreign file
        raise UnsafePickle(f"not a verification .bin: {error}") from error
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise UnsafePickle(f"refused: expected (images, issame), got {type(value).__name__}")
    images, issame = value
    if not isinstance(images, list) or not all(isinstance(i, (bytes, bytearray)) for i in images):
        raise UnsafePickle("refused: the images are not a list of bytes")
    if not isinstance(issame, list) or not all(isinstance(s, bool) for s in issame):
        raise UnsafePickle("refused: issame is not a list of booleans")
    if len(images) != 2 * len(issame):
        raise UnsafePickle(f"refused: {len(images)} images for {len(issame)} pairs")
    return VerificationBin([bytes(i) for i in images], issame)


def read_bin(path: Path) -> VerificationBin:
    return loads_bin(Path(path).read_bytes())
