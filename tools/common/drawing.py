"""Pictures for people: faces drawn on images, and contact sheets. cv2 only, RGB arrays in, files out."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

GREEN, RED, YELLOW, BLUE, WHITE = (40, 200, 40), (230, 40, 40), (240, 200, 0), (40, 120, 255), (255, 255, 255)


def _scale(image: np.ndarray) -> tuple[int, float]:
    """Line thickness and font scale that stay readable on small and large images."""
    longest = max(image.shape[:2])
    return max(1, round(longest / 400)), max(0.4, longest / 1200)


def put_label(canvas: np.ndarray, text: str, x: float, y: float, color: tuple[int, int, int]) -> None:
    """Text on a filled box above (x, y), kept inside the image."""
    import cv2

    thickness, font = _scale(canvas)
    (width, height), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font, thickness)
    x0 = int(min(max(x, 0), max(canvas.shape[1] - width - 2, 0)))
    y0 = int(max(y, height + base + 2))
    cv2.rectangle(canvas, (x0, y0 - height - base - 2), (x0 + width + 2, y0), color, -1)
    cv2.putText(canvas, text, (x0 + 1, y0 - base), cv2.FONT_HERSHEY_SIMPLEX, font, (0, 0, 0), thickness,
                cv2.LINE_AA)


def face_label(face: dict[str, Any]) -> str:
    """``0.99 male 32-36`` from a /find_faces face: probability, then gender and age when present."""
    parts = [f"{face['box']['probability']:.2f}"]
    if "gender" in face:
        parts.append(f"{face['gender']['value']} {face['gender']['probability']:.2f}")
    if "age" in face:
        parts.append(f"{face['age']['low']}-{face['age']['high']}")
    return " ".join(parts)


def draw_faces(image: np.ndarray, faces: Sequence[dict[str, Any]], labels: Sequence[str] | None = None,
               colors: Sequence[tuple[int, int, int]] | None = None,
               truth_points: np.ndarray | None = None, truth_boxes: np.ndarray | None = None) -> np.ndarray:
    """A copy of the RGB image with each face's box, landmarks and label; labelled truth in yellow."""
    import cv2

    canvas = np.ascontiguousarray(image.copy())
    thickness, _ = _scale(canvas)
    for box in ([] if truth_boxes is None else truth_boxes):
        cv2.rectangle(canvas, (int(box[0]), int(box[1])), (int(box[2]), int(box[3])), YELLOW, thickness)
    for point in ([] if truth_points is None else truth_points):
        cv2.drawMarker(canvas, (int(point[0]), int(point[1])), YELLOW, cv2.MARKER_CROSS, 6 * thickness + 8,
                       thickness + 1)
    for index, face in enumerate(faces):
        color = colors[index] if colors else GREEN
        box = face["box"]
        cv2.rectangle(canvas, (box["x_min"], box["y_min"]), (box["x_max"], box["y_max"]), color, thickness + 1)
        for x, y in face.get("landmarks") or []:
            cv2.circle(canvas, (int(x), int(y)), thickness + 1, BLUE, -1)
        put_label(canvas, labels[index] if labels else face_label(face), box["x_min"], box["y_min"] - 2, color)
    return canvas


def save_rgb(path: Path, image: np.ndarray) -> Path:
    """Write an RGB array as PNG/JPEG (by the suffix), creating the folder."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise OSError(f"cannot write {path}")
    return path


def thumbnail(image: np.ndarray, size: int) -> np.ndarray:
    """The image fitted into a size x size square (letterboxed on grey)."""
    import cv2

    height, width = image.shape[:2]
    ratio = size / max(height, width)
    small = cv2.resize(image, (max(1, round(width * ratio)), max(1, round(height * ratio))),
                       interpolation=cv2.INTER_AREA)
    tile = np.full((size, size, 3), 90, dtype=np.uint8)
    top, left = (size - small.shape[0]) // 2, (size - small.shape[1]) // 2
    tile[top:top + small.shape[0], left:left + small.shape[1]] = small
    return tile


def contact_sheet(images: Sequence[np.ndarray], captions: Sequence[str], size: int = 160,
                  columns: int = 6) -> np.ndarray:
    """Thumbnails in a grid, each captioned underneath (RGB)."""
    import cv2

    columns = max(1, min(columns, len(images)))
    rows = max(1, -(-len(images) // columns))
    caption_h = 22
    sheet = np.full((rows * (size + caption_h), columns * size, 3), 255, dtype=np.uint8)
    for index, (image, caption) in enumerate(zip(images, captions)):
        top, left = (index // columns) * (size + caption_h), (index % columns) * size
        sheet[top:top + size, left:left + size] = thumbnail(image, size)
        cv2.putText(sheet, caption[:22], (left + 3, top + size + 15), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return sheet
