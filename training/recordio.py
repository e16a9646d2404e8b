"""InsightFace's RecordIO training sets (``train.rec`` + ``train.idx``: MS1M, Glint360K, ...) without MXNet.

The file is dmlc RecordIO: each record is the magic 0xced7230a, a uint32 whose top 3 bits are a
continuation flag (0 whole, 1 first, 2 middle, 3 last part; the writer splits a payload wherever the magic
appears in it, and the reader puts the magic back between the parts) and low 29 bits the part's length,
then the bytes, padded to 4. ``train.idx`` maps keys to byte offsets (``key<TAB>offset`` lines). A payload
is MXNet's image record: header ``IfQQ`` (flag, label, id, id2) and, when flag > 0, ``flag`` float32
labels, then the encoded image. InsightFace's record 0 is a header whose first label is the first key
after the images (the images are keys 1 .. label[0]-1); each image's label is its identity.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = 0xCED7230A
MAGIC_BYTES = struct.pack("<I", MAGIC)
HEADER = struct.Struct("<IfQQ")


class RecordIOError(ValueError):
    pass


@dataclass(frozen=True)
class ImageHeader:
    flag: int
    label: np.ndarray  # one value, or ``flag`` values
    id: int
    id2: int


def unpack(payload: bytes) -> tuple[ImageHeader, bytes]:
    """MXNet's ``recordio.unpack``: the image header and the bytes after it."""
    if len(payload) < HEADER.size:
        raise RecordIOError(f"record of {len(payload)} bytes is shorter than an image header")
    flag, label, first, second = HEADER.unpack_from(payload)
    rest = payload[HEADER.size:]
    if flag > 0:
        labels = np.frombuffer(rest[:4 * flag], dtype="<f4").copy()
        return ImageHeader(flag, labels, first, second), rest[4 * flag:]
    return ImageHeader(flag, np.array([label], np.float32), first, second), rest


def read_index(path: Path) -> dict[int, int]:
    index = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if line.strip():
            parts = line.split()
            if len(parts) != 2:
                raise RecordIOError(f"{path}:{number}: expected 'key<TAB>offset', got {line!r}")
            index[int(parts[0])] = int(parts[1])
    return index


class IndexedRecords:
    """Random access to the payloads of a ``.rec`` through its ``.idx``."""

    def __init__(self, rec_path: Path, idx_path: Path | None = None) -> None:
        self.path = Path(rec_path)
        self.index = read_index(idx_path or self.path.with_suffix(".idx"))
        self.keys = sorted(self.index)

    def read(self, key: int) -> bytes:
        if key not in self.index:
            raise KeyError(f"{self.path}: no record {key}")
        parts = []
        with open(self.path, "rb") as handle:
            handle.seek(self.index[key])
            while True:
                head = handle.read(8)
                if len(head) < 8:
                    raise RecordIOError(f"{self.path}: record {key} is cut short")
                magic, word = struct.unpack("<II", head)
                if magic != MAGIC:
                    raise RecordIOError(f"{self.path}: no RecordIO magic at record {key}")
                flag, length = word >> 29, word & ((1 << 29) - 1)
                data = handle.read(length)
                if len(data) < length:
                    raise RecordIOError(f"{self.path}: record {key} is cut short")
                handle.seek((4 - length % 4) % 4, 1)
                parts.append(data)
                if flag in (0, 3):
                    break
        return MAGIC_BYTES.join(parts)


class ImageRecords:
    """InsightFace's layout on top of :class:`IndexedRecords`: which keys are images, their identities, bytes."""

    def __init__(self, rec_path: Path) -> None:
        self.records = IndexedRecords(rec_path)
        header, _ = unpack(self.records.read(self.records.keys[0]))
        if header.flag > 0:
            self.image_keys = list(range(1, int(header.label[0])))
        else:
            self.image_keys = list(self.records.keys)

    def labels(self) -> list[int]:
        return [int(unpack(self.records.read(key))[0].label[0]) for key in self.image_keys]

    def image(self, key: int) -> bytes:
        return unpack(self.records.read(key))[1]
