"""Image bytes -> RGB uint8 array, safely; and the detection-size downscale. Pure functions.

Safety: the format is recognised by its magic bytes and only the contract's formats are opened; the
pixel count is checked from the header before any pixel is decoded; only the first frame of an
animation is ever decoded, and an animation with more frames than the cap is refused; every decoder
failure becomes :class:`ImageReadError` (a 400), never a 500.
EXIF orientation is applied (CompreFace ignored it: a deliberate, documented difference).
"""
from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFile, ImageOps

from src.config import DEFAULTS
from src.errors import BadRequest, ImageReadError

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


class ImageTooLarge(BadRequest):
    def __init__(self, width: int, height: int, limit: int) -> None:
        super().__init__(f"Image is too large: {width}x{height} pixels exceeds the limit of {limit} pixels")


class TooManyFrames(BadRequest):
    def __init__(self, frames: int, limit: int) -> None:
        super().__init__(f"Image has too many frames: {frames} exceeds the limit of {limit} (MAX_IMAGE_FRAMES)")


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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns on odd EXIF/ICC: not the caller's problem
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                width, height = image.size
                if width <= 0 or height <= 0:
                    raise ImageReadError("Given image has no pixels")
                if width * height > limits.max_pixels:
                    raise ImageTooLarge(width, height, limits.max_pixels)
                frames = int(getattr(image, "n_frames", 1))  # from frame headers; no frame is decoded
                if frames > limits.max_frames:
                    raise TooManyFrames(frames, limits.max_frames)
                image.seek(0)  # first frame of an animation; later frames are never decoded
                return _to_rgb_array(_oriented(image))
    except BadRequest:
        raise
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError, EOFError, IndexError,
            TypeError, KeyError, ZeroDivisionError, MemoryError, struct.error) as error:
        raise ImageReadError() from error


def _oriented(image: Image.Image) -> Image.Image:
    """Apply EXIF orientation (JPEG, TIFF, WebP carry it); a broken EXIF block is ignored.

    Pillow's ``exif_transpose`` copies the whole picture even when there is nothing to turn (about 5 ms
    for 3 Mpx), so the tag is read first and an upright picture is returned as it is.
    """
    try:
        if image.getexif().get(EXIF_ORIENTATION, 1) in (1, None):
            return image
        return ImageOps.exif_transpose(image) or image
    except Exception:  # noqa: BLE001 - a bad EXIF block must not lose a readable picture
        return image


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        gray = np.asarray(image, dtype=np.float64)
        if image.mode != "F":  # integer samples: 16-bit full scale, or a 32-bit image's own peak
            peak = 65535.0 if image.mode.startswith("I;16") else max(float(gray.max()), 1.0)
            gray = gray * (255.0 / peak)
        gray8 = np.clip(gray, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray8[:, :, None], 3, axis=2))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")  # alpha dropped below, as CompreFace did
    rgb = image if image.mode == "RGB" else image.convert("RGB")  # convert() would copy an RGB picture too
    array = np.asarray(rgb, dtype=np.uint8)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ImageReadError("Given image has only one dimension")
    return np.ascontiguousarray(array)


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
