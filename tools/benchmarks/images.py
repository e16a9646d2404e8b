"""The benchmark's image list: the same JPEG bytes go to the library and to the service."""
from __future__ import annotations

import re
from pathlib import Path

FIRST = ("couple.jpg", "selfie-many-people.jpg")  # the multi-face photos (2 and 5 faces)


def _number(path: Path) -> tuple[int, str]:
    match = re.search(r"\d+", path.stem)
    return (int(match.group()) if match else 10 ** 6, path.name)


def pick(folder: Path, count: int) -> list[Path]:
    """The two multi-face photos, then img1, img2, ... in numeric order, ``count`` in all. A folder without
    deepface's names (e.g. dlib-faces) gives its JPEGs in name order."""
    chosen = [folder / name for name in FIRST if (folder / name).exists()]
    rest = sorted((p for p in folder.glob("img*.jpg") if p not in chosen), key=_number)
    if not chosen and not rest:
        rest = sorted(folder.glob("*.jpg"))
    return (chosen + rest)[:count]


def shrink_to(paths: list[Path], out_dir: Path, max_side: int, quality: int = 95) -> list[Path]:
    """JPEG copies no longer than ``max_side`` pixels (0: the files themselves); written once, then reused."""
    if max_side <= 0:
        return list(paths)
    import cv2

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        target = out_dir / f"{path.stem}_{max_side}.jpg"
        if not target.exists():
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise ValueError(f"cannot decode {path}")
            height, width = image.shape[:2]
            scale = max_side / max(height, width)
            if scale < 1.0:
                image = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
            if not cv2.imwrite(str(target), image, [cv2.IMWRITE_JPEG_QUALITY, quality]):
                raise OSError(f"cannot write {target}")
        written.append(target)
    return written
