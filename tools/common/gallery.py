"""A gallery of labelled embeddings in one HDF5 file (h5py), appendable batch by batch.

Layout: datasets ``embeddings`` (N, D) float32 unit vectors, ``labels`` (N,) and ``files`` (N,) UTF-8 strings
(files relative to the exported root), ``boxes`` (N, 4) int32, optional ``thumbnails`` (N, S, S, 3) uint8;
attributes ``calculator_version``, ``similarity_coefficients`` (c0, c1) and ``detect_faces``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Gallery:
    embeddings: np.ndarray
    labels: list[str]
    files: list[str]
    calculator_version: str
    coefficients: tuple[float, float]


def _strings(values: list[str]) -> np.ndarray:
    return np.array([v.encode("utf-8") for v in values], dtype=object)


def append(path: Path, embeddings: np.ndarray, labels: list[str], files: list[str], boxes: np.ndarray,
           thumbnails: np.ndarray | None, version: str, coefficients: tuple[float, float], detect: bool) -> int:
    """Add rows (creating the file); refuses to mix calculators. Returns the row count after."""
    import h5py

    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "a") as store:
        if "embeddings" not in store:
            dim = embeddings.shape[1]
            text = h5py.string_dtype("utf-8")
            store.create_dataset("embeddings", (0, dim), np.float32, maxshape=(None, dim), chunks=(256, dim))
            store.create_dataset("labels", (0,), text, maxshape=(None,), chunks=(256,))
            store.create_dataset("files", (0,), text, maxshape=(None,), chunks=(256,))
            store.create_dataset("boxes", (0, 4), np.int32, maxshape=(None, 4), chunks=(256, 4))
            if thumbnails is not None:
                size = thumbnails.shape[1]
                store.create_dataset("thumbnails", (0, size, size, 3), np.uint8, maxshape=(None, size, size, 3),
                                     chunks=(16, size, size, 3), compression="gzip")
            store.attrs.update(calculator_version=version, similarity_coefficients=np.asarray(coefficients),
                               detect_faces=detect)
        elif store.attrs["calculator_version"] != version:
            raise ValueError(f"{path} holds {store.attrs['calculator_version']} embeddings, not {version}")
        start = store["embeddings"].shape[0]
        end = start + len(embeddings)
        rows = [("embeddings", embeddings.astype(np.float32)), ("labels", _strings(labels)),
                ("files", _strings(files)), ("boxes", boxes.astype(np.int32))]
        if "thumbnails" in store and thumbnails is not None:
            rows.append(("thumbnails", thumbnails))
        for name, values in rows:
            store[name].resize(end, axis=0)
            store[name][start:end] = values
        return end


def known_files(path: Path) -> set[str]:
    import h5py

    if not path.exists():
        return set()
    with h5py.File(path, "r") as store:
        return {f.decode() if isinstance(f, bytes) else f for f in store["files"][:]} if "files" in store else set()


def read(path: Path) -> Gallery:
    import h5py

    with h5py.File(path, "r") as store:
        def text(name: str) -> list[str]:
            return [v.decode() if isinstance(v, bytes) else str(v) for v in store[name][:]]

        c0, c1 = (float(v) for v in store.attrs["similarity_coefficients"][:2])
        return Gallery(store["embeddings"][:], text("labels"), text("files"), str(store.attrs["calculator_version"]),
                       (c0, c1))
