"""Generators of crafted uploads, one per cost or memory class an attacker can declare in a small file.

Each takes the size of its class (scans, IFDs, strips, frames, chunks, segments, pixels, depth, digits):
``make test`` builds them small, ``make fuzz`` at full size (tests/fuzz/test_cost_classes.py).
"""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

from tests.reliability.helpers import png_chunk


def _jpeg(progressive: bool, size: int = 64) -> bytes:
    out = io.BytesIO()
    pixels = np.random.default_rng(1).integers(0, 255, (size, size, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(out, format="JPEG", progressive=progressive, quality=90)
    return out.getvalue()


def _jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each marker segment of ``data``; a scan's end includes its entropy-coded data."""
    found, pos = [], 2
    while pos + 4 <= len(data):
        marker = data[pos + 1]
        if marker == 0xD9:
            break
        end = pos + 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
        if marker == 0xDA:
            while not (data[end] == 0xFF and data[end + 1] not in (0x00, *range(0xD0, 0xD8))):
                end += 1
        found.append((marker, pos, end))
        pos = end
    return found


def jpeg_with_scans(scans: int, size: int = 64) -> bytes:
    """A progressive JPEG whose last refinement scan is repeated until it has ``scans`` scans."""
    data = _jpeg(True, size)
    segments = _jpeg_segments(data)
    last_scan = [(start, end) for marker, start, end in segments if marker == 0xDA][-1]
    present = sum(1 for marker, _, _ in segments if marker == 0xDA)
    extra = data[last_scan[0]:last_scan[1]] * max(scans - present, 0)
    return data[:last_scan[1]] + extra + data[last_scan[1]:]


def jpeg_with_segments(segments: int) -> bytes:
    """A baseline JPEG with ``segments`` empty comment segments before its frame header."""
    data = _jpeg(False, 16)
    return data[:2] + b"\xff\xfe\x00\x02" * segments + data[2:]


def jpeg_with_junk(junk: int) -> bytes:
    """A baseline JPEG with ``junk`` zero bytes after a stray 0xFF00 behind its start marker: Pillow skips them
    one at a time, then finds the real segments and decodes the picture."""
    data = _jpeg(False, 16)
    return data[:2] + b"\xff\x00" + bytes(junk) + data[2:]


def tiff_ifd_chain(ifds: int) -> bytes:
    """A little-endian TIFF of ``ifds`` 1x1 grey images, each IFD pointing to the next (Pillow walks them all)."""
    entries = [(256, 3, 1, 1), (257, 3, 1, 1), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1), (273, 4, 1, 8),
               (277, 3, 1, 1), (278, 3, 1, 1), (279, 4, 1, 1)]
    ifd_size = 2 + 12 * len(entries) + 4
    out = bytearray(b"II*\x00" + struct.pack("<I", 9) + b"\x80")
    for index in range(ifds):
        start = 9 + index * ifd_size
        following = start + ifd_size if index + 1 < ifds else 0
        out += struct.pack("<H", len(entries))
        for tag, kind, count, value in entries:
            out += struct.pack("<HHII", tag, kind, count, value)
        out += struct.pack("<I", following)
    return bytes(out)


def tiff_with_strips(strips: int, width: int = 8) -> bytes:
    """A grey TIFF of one row per strip: ``strips`` strips (each of ``width`` bytes)."""
    entries_count = 9
    header = 8
    ifd_size = 2 + 12 * entries_count + 4
    offsets_at = header + ifd_size
    counts_at = offsets_at + 4 * strips
    pixels_at = counts_at + 4 * strips
    entries = [(256, 3, 1, width), (257, 4, 1, strips), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, strips, offsets_at), (277, 3, 1, 1), (278, 4, 1, 1), (279, 4, strips, counts_at)]
    out = bytearray(b"II*\x00" + struct.pack("<I", header) + struct.pack("<H", entries_count))
    for tag, kind, count, value in entries:
        out += struct.pack("<HHII", tag, kind, count, value)
    out += struct.pack("<I", 0)
    out += np.arange(pixels_at, pixels_at + width * strips, width, dtype="<u4").tobytes()
    out += np.full(strips, width, dtype="<u4").tobytes()
    out += bytes(width * strips)
    return bytes(out)


def gif_with_frames(frames: int) -> bytes:
    """A 1x1 GIF of ``frames`` frames, written by hand (a few bytes per frame)."""
    frame = b"\x21\xf9\x04\x00\x01\x00\x00\x00" + b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff" + frame * frames + b";"


def gif_with_blocks(blocks: int) -> bytes:
    """A 1x1 GIF whose comment extension holds ``blocks`` one-byte sub-blocks."""
    comment = b"\x21\xfe" + b"\x01x" * blocks + b"\x00"
    return gif_with_frames(1)[:19] + comment + gif_with_frames(1)[19:]


def png_with_chunks(chunks: int, width: int = 16) -> bytes:
    """A grey PNG whose image data is split into ``chunks`` IDAT chunks."""
    raw = zlib.compress(bytes((width + 1) * width), 9)
    pieces = [raw[i * len(raw) // chunks:(i + 1) * len(raw) // chunks] for i in range(chunks)]
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, width, 8, 0, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + b"".join(png_chunk(b"IDAT", p) for p in pieces) + png_chunk(b"IEND", b"")


def apng_with_frames(frames: int) -> bytes:
    """An animated PNG declaring ``frames`` frames in its acTL chunk (one frame is present)."""
    out = io.BytesIO()
    Image.new("L", (4, 4)).save(out, format="PNG")
    data = out.getvalue()
    actl = png_chunk(b"acTL", struct.pack(">II", frames, 0))
    return data[:33] + actl + data[33:]


def _flat_png(width: int, height: int, depth: int, colour: int, sample: bytes) -> bytes:
    compressor = zlib.compressobj(9)
    row = b"\x00" + sample * width
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", body) + png_chunk(b"IEND", b"")


def png16(width: int, height: int) -> bytes:
    """A 16-bit grey PNG (Pillow mode I;16), compressed to a few hundred KB whatever its size."""
    return _flat_png(width, height, 16, 0, b"\x80\x00")


def rgb_png(width: int, height: int) -> bytes:
    """An 8-bit RGB PNG, the common case, compressed to a few hundred KB whatever its size."""
    return _flat_png(width, height, 8, 2, b"\x10\x20\x30")


def ico_with_png(width: int, height: int) -> bytes:
    """An ICO whose directory claims a 16x16 icon but embeds a ``width`` x ``height`` PNG."""
    from tests.reliability.helpers import huge_png

    embedded = huge_png(width, height)
    entry = struct.pack("<BBBBHHII", 16, 16, 0, 0, 1, 32, len(embedded), 6 + 16)
    return struct.pack("<HHH", 0, 1, 1) + entry + embedded


def _riff_chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")


def animated_webp(width: int, height: int, frames: int = 1) -> bytes:
    """An animated WebP declaring a ``width`` x ``height`` canvas, holding ``frames`` 1x1 lossless frames."""
    still = io.BytesIO()
    Image.new("RGB", (1, 1)).save(still, format="WEBP", lossless=True)
    pixel = still.getvalue()[12:]
    vp8x = _riff_chunk(b"VP8X", bytes([0x02, 0, 0, 0]) + (width - 1).to_bytes(3, "little")
                       + (height - 1).to_bytes(3, "little"))
    anim = _riff_chunk(b"ANIM", b"\xff\xff\xff\xff\x00\x00")
    frame = _riff_chunk(b"ANMF", bytes(6) + bytes(6) + b"\x64\x00\x00\x00" + pixel)
    body = b"WEBP" + vp8x + anim + frame * frames
    return b"RIFF" + struct.pack("<I", len(body)) + body


def nested_json(depth: int) -> bytes:
    return b'{"file": ' + b"[" * depth + b"]" * depth + b"}"


def digits(count: int) -> str:
    return "1" * count
