"""Finding and reading the images a tool is pointed at."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")


def is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def list_images(paths: Iterable[Path]) -> list[Path]:
    """Files as given, folders expanded (recursively, sorted): the order is deterministic."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if is_image(p)))
        else:
            found.append(path)
    return found


def read_rgb(path: Path) -> np.ndarray:
    """The image as the service would see it (same decoder: magic bytes, EXIF orientation, RGB)."""
    from facecore.imaging import decode_image

    return decode_image(Path(path).read_bytes())


def identity_folders(root: Path) -> dict[str, list[Path]]:
    """``{identity: images}`` for a folder holding one sub-folder of images per identity."""
    return {folder.name: sorted(p for p in folder.iterdir() if is_image(p))
            for folder in sorted(root.iterdir()) if folder.is_dir()}
