"""Image bytes -> RGB uint8 array, safely; and the detection-size downscale. Pure functions.

Safety: the format is recognised by its magic bytes and only the contract's formats are opened; what
the file declares (pixels, frames, scans, chunks, strips; src/image_structure.py) is checked before
Pillow opens it; only the first frame of an animation is ever decoded; every decoder failure becomes
:class:`ImageReadError` (a 400), never a 500.
Memory: Pillow's picture (at most 4 bytes a pixel) plus the RGB result (3 bytes a pixel); the conversion
between them works on bands of :data:`BAND_ROWS` rows, in integers, so it never holds a third copy.
EXIF orientation is applied (CompreFace ignored it: a deliberate, documented difference).
"""
from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
from PIL import Image, ImageFile, PngImagePlugin

from facecore.config import DEFAULTS
from facecore.errors import BadRequest, ImageReadError
from facecore.image_structure import ImageTooLarge, TooManyFrames, check_declared

# A JPEG cut short still decodes to what it holds, as in CompreFace (its truncated.jpg fixture).
ImageFile.LOAD_TRUNCATED_IMAGES = True

#: magic bytes -> Pillow format name. Anything else (EPS, PDF, SVG, PSD, ...) is refused.
SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"BM", 0, "BMP"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
    (b"\x00\x00\x01\x00", 0, "ICO"),
    (b"WEBP", 8, "WEBP"),
)
#: The EXIF tag that says how the camera was held.
EXIF_ORIENTATION = 0x0112
SUPPORTED = "jpeg, png, tiff, bmp, gif, ico, webp"
#: Rows converted to RGB at once: the conversion's extra memory is one band, not a second picture.
BAND_ROWS = 256
#: Pillow's own text-chunk budget for a PNG (64 MB by default) lowered: text is never used here.
PngImagePlugin.MAX_TEXT_MEMORY = 4 * 1024 * 1024
ROTATIONS = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
             5: lambda a: a.transpose(1, 0, 2), 6: lambda a: np.rot90(a, -1),
             7: lambda a: np.rot90(a, 2).transpose(1, 0, 2), 8: lambda a: np.rot90(a, 1)}

__all__ = ["DecodeLimits", "ImageTooLarge", "TooManyFrames", "decode_image", "downscale", "sniff_format"]


@dataclass(frozen=True)
class DecodeLimits:
    max_pixels: int = DEFAULTS.max_pixels
    max_frames: int = DEFAULTS.max_frames


def sniff_format(data: bytes) -> str | None:
    """The Pillow format name for ``data`` by its magic bytes, or ``None``."""
    for magic, offset, name in SIGNATURES:
        if data[offset:offset + len(magic)] == magic:
            if name == "WEBP" and data[:4] != b"RIFF":
                continue
            return name
    return None


def decode_image(data: bytes, limits: DecodeLimits = DecodeLimits()) -> np.ndarray:
    """Decode ``data`` to an (H, W, 3) uint8 RGB array or raise a 400-class error."""
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageReadError(f"Image has incorrect format or is broken (supported: {SUPPORTED})")
    try:
        check_declared(data, fmt, limits.max_pixels, limits.max_frames)
        Image.MAX_IMAGE_PIXELS = limits.max_pixels  # Pillow's own fence, behind ours: an error, not a warning
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns on odd EXIF/ICC: not the caller's problem
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                width, height = image.size
                if width <= 0 or height <= 0:
                    raise ImageReadError("Given image has no pixels")
                if width * height > limits.max_pixels:
                    raise ImageTooLarge(width, height, limits.max_pixels)
                orientation = _orientation(image)
                array = _decode_jpeg(data, image) if fmt == "JPEG" else None
                if array is None:
                    array = _to_rgb_array(image)  # the first frame: later frames are never decoded
        return _oriented(array, orientation)
    except BadRequest:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise BadRequest(f"Image is too large: more than {limits.max_pixels} pixels (MAX_IMAGE_PIXELS)") from error
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError, ZeroDivisionError,
            MemoryError, struct.error) as error:
        raise ImageReadError() from error


def _decode_jpeg(data: bytes, image: Image.Image) -> np.ndarray | None:
    """An RGB or grey JPEG by OpenCV's libjpeg-turbo: the same pixels as Pillow's (checked on every JPEG of the
    deepface and dlib-faces sets), 2.3x faster on a 3 Mpx photo and one full-size array at its peak; decoded straight to
    RGB where OpenCV can (the same pixels as BGR then swapped, 12 % less time). ``None``
    (Pillow decodes it) for other modes and for what OpenCV refuses, e.g. a truncated file Pillow still reads."""
    if image.mode not in ("RGB", "L"):
        return None
    import cv2

    rgb_flag = getattr(cv2, "IMREAD_COLOR_RGB", None)  # OpenCV >= 4.10: libjpeg-turbo writes RGB itself
    flags = (cv2.IMREAD_COLOR if rgb_flag is None else rgb_flag) | cv2.IMREAD_IGNORE_ORIENTATION
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if decoded is None or decoded.shape[:2] != (image.height, image.width):
        return None
    return decoded if rgb_flag is not None else cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB, dst=decoded)


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (JPEG, TIFF, WebP carry it); a broken EXIF block counts as upright."""
    try:
        value = image.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:  # noqa: BLE001 - a bad EXIF block must not lose a readable picture
        return 1
    return value if value in ROTATIONS else 1


def _oriented(array: np.ndarray, orientation: int) -> np.ndarray:
    """Turn the decoded picture upright, after Pillow's copy is freed (a numpy view, then one copy)."""
    if orientation not in ROTATIONS:
        return array
    return np.ascontiguousarray(ROTATIONS[orientation](array))


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    """Pillow's picture -> a new (H, W, 3) uint8 array, band by band (see :data:`BAND_ROWS`)."""
    convert = _band_converter(image)
    width, height = image.size
    out = np.empty((height, width, 3), dtype=np.uint8)
    for top in range(0, height, BAND_ROWS):
        bottom = min(top + BAND_ROWS, height)
        band = convert(image.crop((0, top, width, bottom)))
        if band.shape != (bottom - top, width, 3):
            raise ImageReadError("Given image has only one dimension")
        out[top:bottom] = band
    return out


def _band_converter(image: Image.Image) -> Callable[[Image.Image], np.ndarray]:
    """How one band of ``image`` becomes RGB uint8; samples wider than 8 bits are scaled in integers."""
    mode = image.mode
    if mode.startswith("I;16"):
        return lambda band: _grey_to_rgb(np.asarray(band).astype(np.uint32) * 255 // 65535)
    if mode == "I":  # 32-bit integers: scaled to the picture's own peak
        low_high = image.getextrema()  # one band: (low, high)
        peak = max(int(low_high[1]) if isinstance(low_high, tuple) else 1, 1)  # type: ignore[arg-type]
        return lambda band: _grey_to_rgb(np.clip(np.asarray(band), 0, None).astype(np.int64) * 255 // peak)
    if mode == "F":
        return lambda band: _grey_to_rgb(np.clip(np.asarray(band), 0, 255))
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        return lambda band: np.asarray(band.convert("RGBA"))[:, :, :3]  # alpha dropped, as CompreFace did
    if mode == "RGB":
        return np.asarray
    return lambda band: np.asarray(band.convert("RGB"))


def _grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey.astype(np.uint8)[:, :, None], 3, axis=2)


def downscale(image: np.ndarray, limit: int) -> tuple[np.ndarray, float]:
    """Shrink so the longer side is ``limit`` (0 = never); returns the image and original/small scale."""
    height, width = image.shape[:2]
    longest = max(height, width)
    if limit <= 0 or longest <= limit:
        return image, 1.0
    import cv2

    ratio = limit / longest
    size = (max(int(round(width * ratio)), 1), max(int(round(height * ratio)), 1))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return small, longest / limit
