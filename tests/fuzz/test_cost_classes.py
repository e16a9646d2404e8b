"""Files that declare work or memory out of proportion to their size are refused before decoding, fast.

One generator per class (tests/fuzz/crafted.py). ``make test`` builds each just over its cap;
``make fuzz`` (COST_SCALE=full) at the sizes an attacker would send. Peak memory per class is measured
in a fresh interpreter (docs/security.md has the figures).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from PIL import ImageFile

from facecore import image_structure as caps
from facecore.errors import BadRequest
from facecore.imaging import DecodeLimits, decode_image
from tests.fuzz import crafted
from tests.reliability.helpers import ROOT

FULL = os.environ.get("COST_SCALE", "small") == "full"
REFUSAL_LIMIT_S = 0.5  # a refusal reads headers only: milliseconds; decoding these took seconds before
DEFAULTS = DecodeLimits()

#: class -> (generator at make test size, at make fuzz size, the refusal it must get)
CLASSES = {
    "jpeg scans": (lambda: crafted.jpeg_with_scans(caps.MAX_JPEG_SCANS + 8, 128),
                   lambda: crafted.jpeg_with_scans(5000, 256), "too many JPEG scans"),
    "jpeg segments": (lambda: crafted.jpeg_with_segments(caps.MAX_JPEG_SEGMENTS + 10),
                      lambda: crafted.jpeg_with_segments(2_000_000), "too many JPEG segments"),
    "jpeg junk": (lambda: crafted.jpeg_with_junk(caps.MAX_JPEG_JUNK + 1024), lambda: crafted.jpeg_with_junk(19_000_000),
                  "too many bytes outside JPEG segments"),
    "tiff ifd chain": (lambda: crafted.tiff_ifd_chain(5000), lambda: crafted.tiff_ifd_chain(200_000),
                       "too many frames: 101 exceeds the limit of 100"),
    "tiff strips": (lambda: crafted.tiff_with_strips(caps.MAX_TIFF_STRIPS + 10),
                    lambda: crafted.tiff_with_strips(2_000_000), "too many TIFF strips"),
    "gif frames": (lambda: crafted.gif_with_frames(50_000), lambda: crafted.gif_with_frames(800_000),
                   "too many frames: 101 exceeds the limit of 100"),
    "gif blocks": (lambda: crafted.gif_with_blocks(caps.MAX_GIF_BLOCKS + 10),
                   lambda: crafted.gif_with_blocks(5_000_000), "too many GIF blocks"),
    "png chunks": (lambda: crafted.png_with_chunks(caps.MAX_PNG_CHUNKS + 10),
                   lambda: crafted.png_with_chunks(1_500_000), "too many PNG chunks"),
    "apng frames": (lambda: crafted.apng_with_frames(1000), lambda: crafted.apng_with_frames(2**31),
                    "too many frames"),
    "webp canvas": (lambda: crafted.animated_webp(7071, 7071), lambda: crafted.animated_webp(16384, 16384),
                    "counted 2 times"),
    "webp frames": (lambda: crafted.animated_webp(8, 8, 200), lambda: crafted.animated_webp(8, 8, 200_000),
                    "too many frames: 101 exceeds"),
    "ico embedding a large png": (lambda: crafted.ico_with_png(8000, 7000), lambda: crafted.ico_with_png(20000, 20000),
                                  "8000x7000" if not FULL else "20000x20000"),
}


@pytest.mark.parametrize("name", list(CLASSES))
def test_declared_cost_is_refused_before_decoding(name, monkeypatch):
    small, full, refusal = CLASSES[name]
    data = (full if FULL else small)()

    def no_decoding(self):  # any pixel decoded would be the cost the refusal exists to avoid
        raise AssertionError(f"{name}: Pillow decoded pixels before the refusal")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    started = time.perf_counter()
    with pytest.raises(BadRequest, match=refusal):
        decode_image(data, DEFAULTS)
    assert time.perf_counter() - started < REFUSAL_LIMIT_S


@pytest.mark.parametrize("name", ["jpeg scans", "jpeg junk", "tiff strips", "png chunks", "gif blocks"])
def test_files_just_under_the_caps_still_decode(name):
    """The caps refuse crafted files, not ordinary ones: at the cap itself the picture decodes."""
    data = {"jpeg scans": lambda: crafted.jpeg_with_scans(caps.MAX_JPEG_SCANS, 64),
            "jpeg junk": lambda: crafted.jpeg_with_junk(caps.MAX_JPEG_JUNK),
            "tiff strips": lambda: crafted.tiff_with_strips(caps.MAX_TIFF_STRIPS),
            "png chunks": lambda: crafted.png_with_chunks(caps.MAX_PNG_CHUNKS - 2),
            "gif blocks": lambda: crafted.gif_with_blocks(caps.MAX_GIF_BLOCKS - 10)}[name]()
    assert decode_image(data, DEFAULTS).ndim == 3


PEAK_SCRIPT = """
import json, sys
def status_kb(field):
    return int(next(line for line in open("/proc/self/status") if line.startswith(field)).split()[1])
from facecore.imaging import decode_image
from tests.fuzz import crafted
small = getattr(crafted, sys.argv[1])(*[int(v) for v in sys.argv[3].split(",")])
decode_image(small)  # imports and first-call allocations happen before the baseline
data = getattr(crafted, sys.argv[1])(*[int(v) for v in sys.argv[2].split(",")])
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # Linux: the peak RSS (VmHWM) restarts from the current RSS
before = status_kb("VmRSS")
shape = decode_image(data).shape
after = status_kb("VmHWM")
print(json.dumps({"growth_mb": (after - before) / 1024, "pixels": shape[0] * shape[1]}))
"""

#: generator, full size, bytes a decoded pixel may cost at most (x the pixel cap, a bound under 500 MB)
MEMORY_CLASSES = {
    "16-bit png": ("png16", (7071, 7071) if FULL else (2000, 2000), 9),
    "8-bit rgb png": ("rgb_png", (7071, 7071) if FULL else (2000, 2000), 9),
    "animated webp canvas": ("animated_webp", (5000, 5000) if FULL else (2000, 2000), 18),
}


def peak_growth(generator: str, size: tuple[int, ...]) -> dict:
    output = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, generator, ",".join(map(str, size)), "64,64"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


@pytest.mark.parametrize("name", list(MEMORY_CLASSES))
def test_decoding_memory_per_pixel_is_bounded(name):
    """Peak RSS growth per decoded pixel stays under the class's bound, and bound x cap < 500 MB."""
    generator, size, bytes_per_pixel = MEMORY_CLASSES[name]
    weight = caps.WEBP_PIXEL_WEIGHT if "webp" in name else 1
    assert bytes_per_pixel * DEFAULTS.max_pixels // weight < 500 * 1024 * 1024
    measured = peak_growth(generator, size)
    per_pixel = measured["growth_mb"] * 1024 * 1024 / measured["pixels"]
    print(f"{name} {size}: peak growth {measured['growth_mb']:.0f} MB, {per_pixel:.1f} bytes/pixel")
    assert per_pixel <= bytes_per_pixel, measured
