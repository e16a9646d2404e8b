"""Training sets as (image, label) samples: a folder per identity, CASIA lists (``path label``), VGGFace2 lists
with its ``bb_landmark`` CSV (aligned on the fly to the ArcFace template), InsightFace RecordIO (``train.rec``).

Images come out as float tensors (3, 112, 112), RGB scaled to [-1, 1] ((x - 127.5) / 127.5): the
normalisation ``insightface.Calculator`` applies when it serves an exported model.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from tools.common.images import identity_folders

SIZE = 112


@dataclass
class Samples:
    """What a set holds: a loader per sample, the labels, and the identity names (label = index)."""

    loaders: list[Callable[[], np.ndarray]]
    labels: list[int]
    names: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def classes(self) -> int:
        return len(self.names)


def read_image(path: Path) -> np.ndarray:
    """RGB uint8 (H, W, 3) of a file; a clear error for a file that is not an image."""
    import cv2

    pixels = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if pixels is None:
        raise ValueError(f"cannot decode image {path}")
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)


def decode_image(data: bytes) -> np.ndarray:
    import cv2

    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if pixels is None:
        raise ValueError("cannot decode an image record")
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)


def fit(image: np.ndarray) -> np.ndarray:
    """An aligned crop at 112x112 (resized when a set was aligned at another size)."""
    if image.shape[:2] == (SIZE, SIZE):
        return image
    import cv2

    return cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_AREA)


def _file_loader(path: Path) -> Callable[[], np.ndarray]:
    return lambda: fit(read_image(path))


def folder_samples(root: Path) -> Samples:
    folders = {name: files for name, files in identity_folders(Path(root)).items() if files}
    names = sorted(folders)
    loaders, labels = [], []
    for label, name in enumerate(names):
        for path in folders[name]:
            loaders.append(_file_loader(path))
            labels.append(label)
    return Samples(loaders, labels, names)


def casia_list_samples(path: Path, root: Path | None = None) -> Samples:
    """CASIA-WebFace style list: ``relative/path.jpg label`` per line (integer labels)."""
    base = Path(root) if root else Path(path).parent
    entries = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.rsplit(maxsplit=1)
        if len(parts) != 2 or not parts[1].lstrip("-").isdigit():
            raise ValueError(f"{path}:{number}: expected 'path label', got {line!r}")
        entries.append((base / parts[0], int(parts[1])))
    names = sorted({label for _, label in entries})
    index = {label: i for i, label in enumerate(names)}
    return Samples([_file_loader(p) for p, _ in entries], [index[label] for _, label in entries],
                   [str(n) for n in names])


def vggface2_samples(list_path: Path, landmarks_csv: Path, root: Path | None = None) -> Samples:
    """VGGFace2: ``n000002/0001_01.jpg`` per line and ``bb_landmark/loose_landmark_*.csv`` rows
    ``NAME_ID,P1X,P1Y,...,P5X,P5Y`` (NAME_ID = path without ``.jpg``); each photo is aligned when loaded."""
    from facecore.align import align_5points

    base = Path(root) if root else Path(list_path).parent
    points: dict[str, np.ndarray] = {}
    with open(landmarks_csv, newline="") as handle:
        for row in csv.DictReader(handle):
            points[row["NAME_ID"]] = np.array([[float(row[f"P{i}X"]), float(row[f"P{i}Y"])] for i in range(1, 6)])
    entries = [line.strip() for line in Path(list_path).read_text().splitlines() if line.strip()]
    names = sorted({entry.split("/")[0] for entry in entries})
    index = {name: i for i, name in enumerate(names)}
    loaders, labels = [], []
    for entry in entries:
        key = entry.rsplit(".", 1)[0]
        if key not in points:
            raise ValueError(f"{landmarks_csv}: no landmarks for {entry}")
        path, marks = base / entry, points[key]
        loaders.append(lambda p=path, k=marks: align_5points(read_image(p), k, SIZE))
        labels.append(index[entry.split("/")[0]])
    return Samples(loaders, labels, names)


def recordio_samples(rec_path: Path) -> Samples:
    """InsightFace ``train.rec`` + ``train.idx`` (MS1M, Glint360K), read without MXNet."""
    from training.recordio import ImageRecords

    records = ImageRecords(Path(rec_path))
    labels = records.labels()
    names = [str(n) for n in sorted(set(labels))]
    index = {int(n): i for i, n in enumerate(names)}
    loaders = [lambda key=key: fit(decode_image(records.image(key))) for key in records.image_keys]
    return Samples(loaders, [index[label] for label in labels], names)


def open_samples(data: str, root: str = "") -> Samples:
    """Whatever ``data`` names: a folder per identity, ``*.rec``, a VGGFace2 list (``--data LIST,CSV``) or a
    CASIA list."""
    if "," in data:
        list_path, landmarks = data.split(",", 1)
        return vggface2_samples(Path(list_path), Path(landmarks), Path(root) if root else None)
    path = Path(data)
    if path.is_dir():
        return folder_samples(path)
    if path.suffix == ".rec":
        return recordio_samples(path)
    if path.is_file():
        return casia_list_samples(path, Path(root) if root else None)
    raise FileNotFoundError(f"training data {data!r} is neither a folder, a .rec file nor a list file")


def to_tensor_batch(images: Sequence[np.ndarray]):
    """uint8 RGB (N of H, W, 3) -> float (N, 3, H, W) in [-1, 1]."""
    import torch

    stacked = torch.from_numpy(np.ascontiguousarray(np.stack(images)))
    return (stacked.permute(0, 3, 1, 2).float() - 127.5) / 127.5


class TorchSet:
    """``torch.utils.data.Dataset`` view of ``Samples``: (uint8 image, label)."""

    def __init__(self, samples: Samples) -> None:
        self.samples = samples

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        return self.samples.loaders[index](), self.samples.labels[index]


def collate(batch: Sequence[tuple[np.ndarray, int]]):
    import torch

    images, labels = zip(*batch)
    return to_tensor_batch(images), torch.tensor(labels, dtype=torch.long)
