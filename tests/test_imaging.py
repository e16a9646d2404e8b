"""Decoding: the contract's 7 formats decode alike, broken input is a 400, limits hold, EXIF applies."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from facecore.errors import BadRequest, ImageReadError
from facecore.imaging import DecodeLimits, decode_image, downscale, sniff_format
from tests.shared_data import shared_path

FORMATS = ["jpeg", "png", "bmp", "gif", "ico", "tiff", "webp"]


def encode(array: np.ndarray, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format=fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_images_seven_formats_decode_alike(fmt):
    reference = decode_image(shared_path("datasets/bad-images/einstein.png").read_bytes())
    image = decode_image(shared_path(f"datasets/bad-images/einstein.{fmt}").read_bytes())
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    if image.shape != reference.shape:  # ico stores a resized copy
        import cv2
        image = cv2.resize(image, reference.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(image.astype(int) - reference.astype(int)).mean() < 20


@pytest.mark.parametrize("name", ["corrupted.png", "empty.png", "einstein.joblib"])
def test_bad_images_broken_ones_are_400(name):
    with pytest.raises(ImageReadError):
        decode_image(shared_path(f"datasets/bad-images/{name}").read_bytes())


def test_truncated_jpeg_decodes_what_it_holds():
    image = decode_image(shared_path("datasets/bad-images/truncated.jpg").read_bytes())
    assert image.shape == (225, 225, 3)


def test_jpeg_cut_to_300_bytes_is_400_not_500():
    data = shared_path("datasets/bad-images/einstein.jpeg").read_bytes()[:300]
    with pytest.raises(BadRequest):
        decode_image(data)


def test_modes_become_rgb():
    gray = np.tile(np.arange(0, 256, dtype=np.uint8), (4, 1))
    assert decode_image(encode(gray, "PNG"))[0, 255].tolist() == [255, 255, 255]
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    assert decode_image(encode(rgba, "PNG"))[0, 0].tolist() == [200, 0, 0]
    sixteen = (np.arange(16, dtype=np.uint16).reshape(4, 4) * 4000)
    out = io.BytesIO()
    Image.fromarray(sixteen).save(out, format="PNG")
    assert decode_image(out.getvalue()).max() == int(15 * 4000 * 255 / 65535)


def test_cmyk_jpeg_is_converted_not_passed_as_rgb():
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # pure red in CMYK
    out = io.BytesIO()
    cmyk.save(out, format="JPEG")
    red = decode_image(out.getvalue())[4, 4]
    assert red[0] > 200 and red[1] < 60 and red[2] < 60


def test_exif_orientation_applied():
    array = np.zeros((20, 40, 3), dtype=np.uint8)
    image = Image.fromarray(array)
    exif = image.getexif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    assert decode_image(out.getvalue()).shape == (40, 20, 3)


def test_animated_gif_first_frame():
    frames = [Image.fromarray(np.full((8, 10, 3), value, dtype=np.uint8)) for value in (10, 200)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:])
    image = decode_image(out.getvalue())
    assert image.shape == (8, 10, 3) and image.mean() < 50


def test_pixel_cap_checked_from_header_before_decoding():
    data = encode(np.zeros((300, 300, 3), dtype=np.uint8), "PNG")
    with pytest.raises(BadRequest, match="300x300 pixels exceeds the limit of 10000"):
        decode_image(data, DecodeLimits(max_pixels=10_000))


@pytest.mark.parametrize("data", [b"%!PS-Adobe-3.0 EPSF-3.0", b"%PDF-1.7", b"<?xml version='1.0'?><svg/>",
                                  b"8BPS\x00\x01", b"RIFF\x00\x00\x00\x00WAVE"])
def test_foreign_formats_refused_by_magic(data):
    assert sniff_format(data) is None
    with pytest.raises(ImageReadError):
        decode_image(data)


def test_downscale_keeps_ratio_and_reports_scale():
    image = np.zeros((480, 1280, 3), dtype=np.uint8)
    small, scale = downscale(image, 640)
    assert small.shape == (240, 640, 3) and scale == 2.0
    same, one = downscale(image, 0)
    assert same is image and one == 1.0


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillows_transpose(orientation):
    """The numpy turn applied after decoding equals Pillow's exif_transpose (which copies the whole picture)."""
    from PIL import ImageOps

    pixels = np.random.default_rng(orientation).integers(0, 255, (6, 9, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, format="PNG", exif=exif.tobytes())
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(out.getvalue()))).convert("RGB"))
    assert np.array_equal(decode_image(out.getvalue()), expected)


@pytest.mark.parametrize("rgb_flag", [True, False], ids=["opencv-rgb", "opencv-bgr-swapped"])
@pytest.mark.parametrize("orientation", [1, 6, 8])
def test_jpegs_decode_to_pillows_pixels_through_opencv(monkeypatch, orientation, rgb_flag):
    """RGB and grey JPEGs take OpenCV's decoder (Pillow's band conversion is never called) and give exactly the
    pixels Pillow gives, turned upright by the EXIF orientation as before; with OpenCV's RGB output and, as on
    OpenCV < 4.10, with BGR swapped."""
    import cv2
    from PIL import ImageOps

    import facecore.imaging

    if not rgb_flag:
        monkeypatch.delattr(cv2, "IMREAD_COLOR_RGB", raising=False)

    photo = Image.open(shared_path("datasets/deepface/couple.jpg"))
    exif = photo.getexif()
    exif[0x0112] = orientation
    samples = []
    for image in (photo, photo.convert("L")):
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=90, exif=exif.tobytes())
        samples.append(out.getvalue())
    expected = [np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")) for data in samples]
    monkeypatch.setattr(facecore.imaging, "_to_rgb_array", lambda image: pytest.fail("Pillow decoded a JPEG"))
    for data, want in zip(samples, expected):
        assert np.array_equal(decode_image(data), want)
