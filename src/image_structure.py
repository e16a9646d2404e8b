"""What an upload declares, read from its container structure before any decoder runs. Pure functions.

Why: a file under 1 MB can declare work or memory out of proportion to its size - thousands of JPEG
scans (each re-walks the whole picture), chains of 100,000 TIFF directories, millions of strips, PNG
chunks, JPEG segments or GIF blocks (each a Python step in Pillow), megabytes of junk between a JPEG's
header segments (Pillow skips it a byte per Python step), an ICO whose directory claims 16x16
but embeds a 400 MP PNG (Pillow decodes it when opening), an animated WebP canvas far larger than its
frames. Every walk here is linear in the file and stops at the first count over its cap, so refusing
costs microseconds; Pillow then only opens files whose declared work is bounded.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from facecore.errors import BadRequest

#: Caps on what a file may declare. Each is far above what an ordinary photo needs (in brackets) and
#: low enough that the work it allows stays well under a second (docs/security.md has the figures).
MAX_JPEG_SCANS = 32           # progressive JPEGs from libjpeg/mozjpeg: 10-12 scans
MAX_JPEG_SEGMENTS = 1000      # marker segments: a camera JPEG has 10-30
MAX_PNG_CHUNKS = 30_000       # 20 MB of IDAT in 8 KB chunks: 2,560
MAX_GIF_BLOCKS = 100_000      # 20 MB of image data in 255-byte sub-blocks: 82,000
MAX_TIFF_STRIPS = 10_000      # Pillow writes ~64 KB strips: 2,300 for 50 MP RGB
MAX_ICO_IMAGES = 64           # icons ship 4-10 sizes
MAX_JPEG_JUNK = 64 * 1024     # bytes between a JPEG's header segments that belong to none: a camera JPEG has 0
#: libwebp's animation decoder keeps two RGBA canvases besides Pillow's picture: a WebP's pixels
#: count this many times against the pixel cap, so its memory per allowed pixel matches the others'.
WEBP_PIXEL_WEIGHT = 2

ENTROPY_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")  # the first marker after a scan's entropy-coded data
FILL = re.compile(rb"\xff+")
JPEG_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class TooComplex(BadRequest):
    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"Image declares too many {what}: more than {limit}")


class ImageTooLarge(BadRequest):
    def __init__(self, width: int, height: int, limit: int, weight: int = 1) -> None:
        counted = f" (counted {weight} times for this format)" if weight > 1 else ""
        super().__init__(f"Image is too large: {width}x{height} pixels{counted} exceeds the limit of {limit} "
                         "pixels (MAX_IMAGE_PIXELS)")


class TooManyFrames(BadRequest):
    def __init__(self, frames: int, limit: int) -> None:
        super().__init__(f"Image has too many frames: {frames} exceeds the limit of {limit} (MAX_IMAGE_FRAMES)")


@dataclass(frozen=True)
class Declared:
    """What the file says about itself (0 where the walk did not learn it)."""

    width: int = 0
    height: int = 0
    frames: int = 1


def check_declared(data: bytes, fmt: str, max_pixels: int, max_frames: int) -> Declared:
    """Walk ``data`` (already sniffed as ``fmt``) and raise a 400 when it declares more than the caps allow."""
    walk = WALKERS.get(fmt)
    declared = walk(data, max_frames) if walk else Declared()
    weight = WEBP_PIXEL_WEIGHT if fmt == "WEBP" else 1
    if declared.width * declared.height * weight > max_pixels:
        raise ImageTooLarge(declared.width, declared.height, max_pixels, weight)
    if declared.frames > max_frames:
        raise TooManyFrames(declared.frames, max_frames)
    return declared


def _u16be(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos:pos + 2], "big")


def jpeg(data: bytes, max_frames: int) -> Declared:
    """Count marker segments and scans; the frame header gives the size."""
    pos, scans, segments, width, height, junk = 2, 0, 0, 0, 0, 0
    while pos + 4 <= len(data):
        fill = FILL.match(data, pos)
        if fill is None:
            if scans:
                break  # not at a marker after a scan: the decoder judges the rest
            # Bytes outside any header segment: Pillow skips them one Python step each (0.1 s per MB), so
            # they are counted here, at C speed, up to the next 0xFF where Pillow would resume.
            following = data.find(b"\xff", pos)
            junk += (len(data) if following < 0 else following) - pos
            if junk > MAX_JPEG_JUNK:
                raise TooComplex("bytes outside JPEG segments", MAX_JPEG_JUNK)
            if following < 0:
                break
            pos = following
            continue
        marker = data[fill.end()]
        pos = fill.end() + 1
        if marker == 0xD9:
            break
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            continue
        segments += 1
        if segments > MAX_JPEG_SEGMENTS:
            raise TooComplex("JPEG segments", MAX_JPEG_SEGMENTS)
        if marker in JPEG_FRAME_MARKERS and not width:
            height, width = _u16be(data, pos + 3), _u16be(data, pos + 5)
        pos += _u16be(data, pos)
        if marker == 0xDA:
            scans += 1
            if scans > MAX_JPEG_SCANS:
                raise TooComplex("JPEG scans", MAX_JPEG_SCANS)
            end = ENTROPY_END.search(data, pos)
            if end is None:
                break
            pos = end.start()
    return Declared(width, height)


def png(data: bytes, max_frames: int) -> Declared:
    """Count chunks; IHDR gives the size, acTL the frames an animated PNG declares."""
    pos, chunks, width, height, frames = 8, 0, 0, 0, 1
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunks += 1
        if chunks > MAX_PNG_CHUNKS:
            raise TooComplex("PNG chunks", MAX_PNG_CHUNKS)
        if kind == b"IHDR" and length >= 8:
            width, height = struct.unpack(">II", data[pos + 8:pos + 16])
        elif kind == b"acTL" and length >= 8:
            frames = max(struct.unpack(">I", data[pos + 8:pos + 12])[0], 1)
        elif kind == b"IEND":
            break
        pos += 12 + length
    return Declared(width, height, frames)


def gif(data: bytes, max_frames: int) -> Declared:
    """Count frames and sub-blocks, stopping one frame past the cap; any frame may not exceed the pixel cap."""
    if len(data) < 13:
        return Declared()
    width, height, flags = struct.unpack("<HHB", data[6:11])
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    frames = blocks = 0
    while pos < len(data):
        introducer = data[pos]
        if introducer == 0x21:  # extension: label, then sub-blocks
            pos += 2
        elif introducer == 0x2C:  # image: descriptor, optional local colour table, LZW code size, sub-blocks
            frames += 1
            if frames > max_frames:
                break
            descriptor = data[pos + 1:pos + 10].ljust(9, b"\0")
            left, top, frame_width, frame_height, local = struct.unpack("<HHHHB", descriptor)
            width, height = max(width, left + frame_width), max(height, top + frame_height)
            pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1
        else:
            break  # trailer or garbage: Pillow stops there too
        while pos < len(data) and data[pos]:
            blocks += 1
            if blocks > MAX_GIF_BLOCKS:
                raise TooComplex("GIF blocks", MAX_GIF_BLOCKS)
            pos += data[pos] + 1
        pos += 1
    return Declared(width, height, max(frames, 1))


def tiff(data: bytes, max_frames: int) -> Declared:
    """Follow the IFD chain up to the cap + 1 (loops end it too); the first IFD gives size and strip count."""
    order = "<" if data[:2] == b"II" else ">"
    offset = struct.unpack(order + "I", data[4:8])[0]
    seen: set[int] = set()
    width = height = 0
    while offset and offset not in seen and offset + 2 <= len(data) and len(seen) <= max_frames:
        seen.add(offset)
        count = struct.unpack(order + "H", data[offset:offset + 2])[0]
        if len(seen) == 1:
            width, height = _tiff_first_ifd(data, order, offset, count)
        end = offset + 2 + 12 * count
        offset = struct.unpack(order + "I", data[end:end + 4])[0] if end + 4 <= len(data) else 0
    return Declared(width, height, max(len(seen), 1))


def _tiff_first_ifd(data: bytes, order: str, offset: int, count: int) -> tuple[int, int]:
    sizes: dict[int, int] = {}
    for index in range(count):
        entry = offset + 2 + 12 * index
        if entry + 12 > len(data):
            break
        tag, kind, values = struct.unpack(order + "HHI", data[entry:entry + 8])
        if tag in (273, 324) and values > MAX_TIFF_STRIPS:  # StripOffsets, TileOffsets
            raise TooComplex("TIFF strips or tiles", MAX_TIFF_STRIPS)
        if tag in (256, 257) and values == 1:  # ImageWidth, ImageLength: SHORT or LONG
            raw = data[entry + 8:entry + 12]
            sizes[tag] = struct.unpack(order + ("H" if kind == 3 else "I"), raw[:2] if kind == 3 else raw)[0]
    return sizes.get(256, 0), sizes.get(257, 0)


def ico(data: bytes, max_frames: int) -> Declared:
    """The largest image the directory points at, read from the embedded PNG or BMP header, not the directory."""
    count = struct.unpack("<H", data[4:6])[0]
    if count > MAX_ICO_IMAGES:
        raise TooComplex("ICO images", MAX_ICO_IMAGES)
    largest = (0, 0)
    for index in range(count):
        entry = 6 + 16 * index
        if entry + 16 > len(data):
            break
        offset = struct.unpack("<I", data[entry + 12:entry + 16])[0]
        if data[offset:offset + 8] == PNG_MAGIC:
            size = struct.unpack(">II", data[offset + 16:offset + 24].ljust(8, b"\0"))
        else:  # a BMP without its file header: the DIB header's width and twice the height
            width, height = struct.unpack("<ii", data[offset + 4:offset + 12].ljust(8, b"\0"))
            size = (abs(width), abs(height) // 2)
        largest = max(largest, size, key=lambda wh: wh[0] * wh[1])
    return Declared(*largest)


def webp(data: bytes, max_frames: int) -> Declared:
    """The canvas of VP8X (animations), else the size of a still VP8/VP8L; ANMF chunks are the frames."""
    pos, frames, width, height = 12, 0, 0, 0
    while pos + 8 <= len(data):
        kind, length = struct.unpack("<4sI", data[pos:pos + 8])
        body = data[pos + 8:pos + 18]
        if kind == b"VP8X" and len(body) >= 10:
            width, height = int.from_bytes(body[4:7], "little") + 1, int.from_bytes(body[7:10], "little") + 1
        elif kind == b"VP8 " and len(body) >= 10 and not width:
            width, height = _u16le(body, 6) & 0x3FFF, _u16le(body, 8) & 0x3FFF
        elif kind == b"VP8L" and len(body) >= 5 and not width:
            bits = int.from_bytes(body[1:5], "little")
            width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        elif kind == b"ANMF":
            frames += 1
            if frames > max_frames:
                break
        pos += 8 + length + (length & 1)
    return Declared(width, height, max(frames, 1))


def _u16le(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos:pos + 2], "little")


def bmp(data: bytes, max_frames: int) -> Declared:
    if data[14:18] == b"\x0c\x00\x00\x00":  # OS/2 core header: 16-bit sizes
        width, height = struct.unpack("<HH", data[18:22].ljust(4, b"\0"))
    else:
        width, height = struct.unpack("<ii", data[18:26].ljust(8, b"\0"))
    return Declared(abs(width), abs(height))


WALKERS = {"JPEG": jpeg, "PNG": png, "GIF": gif, "TIFF": tiff, "ICO": ico, "WEBP": webp, "BMP": bmp}
