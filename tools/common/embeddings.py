"""Embeddings of image files through the service's pipeline (local) or a running service (remote)."""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tools.common.images import read_rgb
from tools.common.service import Remote, build, local_find_faces, remote_from_env, settings_from_args


def unit(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float32)
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def similarity(distance: np.ndarray | float, c0: float, c1: float) -> np.ndarray:
    """CompreFace's similarity of two unit embeddings at Euclidean distance d: (tanh((c0 - d) * c1) + 1) / 2."""
    return (np.tanh((c0 - np.asarray(distance, dtype=np.float64)) * c1) + 1.0) / 2.0


@dataclass
class Embedder:
    """Faces + unit embeddings of a file, from ``pipeline`` (local) or ``remote``; one of them is set."""

    pipeline: Any = None
    remote: Remote | None = None

    def faces(self, path: Path, detect: bool = True, limit: int = 0, slugs: tuple[str, ...] = ("calculator",),
              image: np.ndarray | None = None) -> list[dict[str, Any]]:
        """The /find_faces faces of ``path`` (largest first); ``detect=False`` = the whole image as one face.

        ``image``: ``path`` already decoded by the caller (who also draws on it), so the local pipeline does
        not decode it a second time; a remote service is always sent the file itself.
        """
        if self.remote is not None:
            body = self.remote.find_faces(path, slugs, limit=limit, detect_faces=detect)
        else:
            pixels = read_rgb(path) if image is None else image
            body = local_find_faces(self.pipeline, pixels, slugs, limit=limit, detect_faces=detect)
        return body["result"]

    def largest(self, path: Path, detect: bool = True) -> np.ndarray | None:
        """The unit embedding of the largest face, or None when no face is found."""
        faces = self.faces(path, detect, limit=1)
        return unit(faces[0]["embedding"]) if faces else None

    def coefficients(self) -> tuple[float, float]:
        status = self.remote.status() if self.remote is not None else self.pipeline.status()
        c0, c1 = status["similarity_coefficients"][:2]
        return float(c0), float(c1)

    def version(self) -> str:
        status = self.remote.status() if self.remote is not None else self.pipeline.status()
        return str(status["calculator_version"])


def embedder_from_args(args: argparse.Namespace, extras: tuple[str, ...] = ()) -> Embedder:
    """``--remote``'s service, else the local pipeline with the command line's overrides and only ``extras``.

    Only the calculator is needed by default: extras are not loaded (faster, and the same embeddings).
    """
    remote = remote_from_env(args.remote)
    return Embedder(remote=remote) if remote else Embedder(pipeline=build(settings_from_args(args, extras=extras)))
