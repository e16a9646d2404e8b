"""Deterministic mutations of valid images: truncations, byte flips and edits of chunk/segment lengths."""
from __future__ import annotations

import random
import struct
from typing import Iterator

INTERESTING = (0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF)


def length_fields(data: bytes) -> list[tuple[int, int]]:
    """(offset, size in bytes) of the length fields the format's parser trusts: PNG chunks, JPEG segments,
    RIFF (WebP) chunks, GIF sub-blocks and screen/image sizes."""
    fields: list[tuple[int, int]] = []
    if data.startswith(b"\x89PNG"):
        pos = 8
        while pos + 8 <= len(data):
            fields.append((pos, 4))
            fields.append((pos + 8, 4)) if data[pos + 4:pos + 8] == b"IHDR" else None
            pos += 12 + struct.unpack(">I", data[pos:pos + 4])[0]
    elif data.startswith(b"\xff\xd8"):
        pos = 2
        while pos + 4 <= len(data) and data[pos] == 0xFF:
            marker = data[pos + 1]
            fields.append((pos + 2, 2))
            if marker in (0xC0, 0xC2):
                fields.append((pos + 5, 2))  # height
                fields.append((pos + 7, 2))  # width
            if marker == 0xDA:
                break
            pos += 2 + struct.unpack(">H", data[pos + 2:pos + 4])[0]
    elif data.startswith(b"RIFF"):
        fields.append((4, 4))
        pos = 12
        while pos + 8 <= len(data):
            fields.append((pos + 4, 4))
            pos += 8 + struct.unpack("<I", data[pos + 4:pos + 8])[0] + 1 & ~1
    elif data.startswith(b"GIF"):
        fields += [(6, 2), (8, 2)]
        fields += [(i, 1) for i in range(13, min(len(data), 400))]  # block sizes live anywhere early
    return fields


def mutate(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    kind = rng.choice(("truncate", "flip", "flips", "length", "length", "insert", "delete"))
    buf = bytearray(data)
    if kind == "truncate":
        return kind, bytes(buf[:rng.randrange(0, len(buf))])
    if kind == "flip":
        pos = rng.randrange(len(buf))
        buf[pos] ^= 1 << rng.randrange(8)
    elif kind == "flips":
        for _ in range(rng.randint(2, 16)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
    elif kind == "length":
        fields = length_fields(data) or [(rng.randrange(len(buf) - 4), 4)]
        offset, size = rng.choice(fields)
        value = rng.choice(INTERESTING) & ((1 << (8 * size)) - 1)
        if rng.random() < 0.5:
            old = int.from_bytes(buf[offset:offset + size], "big")
            value = max(0, min((1 << (8 * size)) - 1, old + rng.randint(-8, 8)))
        order = "little" if data.startswith((b"RIFF", b"GIF")) else "big"
        buf[offset:offset + size] = value.to_bytes(size, order)
    elif kind == "insert":
        pos = rng.randrange(len(buf))
        buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    else:
        pos = rng.randrange(len(buf))
        del buf[pos:pos + rng.randint(1, 64)]
    return kind, bytes(buf)


def cases(seeds: dict[str, bytes], count: int, seed: int = 20240601) -> Iterator[tuple[str, str, bytes]]:
    rng = random.Random(seed)
    names = sorted(seeds)
    for index in range(count):
        name = names[index % len(names)]
        kind, data = mutate(seeds[name], rng)
        yield name, kind, data
