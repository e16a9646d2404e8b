"""Small face sets for the trainer's tests, written into tmp folders."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def write_faces(root: Path, identities: int, per_identity: int, seed: int = 0) -> Path:
    """Synthetic 112x112 'faces' (a fixed random pattern per identity plus noise): for plumbing tests only."""
    import cv2

    rng = np.random.default_rng(seed)
    for identity in range(identities):
        pattern = rng.uniform(0, 255, (112, 112, 3))
        folder = root / f"person{identity}"
        folder.mkdir(parents=True)
        for index in range(per_identity):
            pixels = np.clip(pattern + rng.normal(0, 20, pattern.shape), 0, 255).astype(np.uint8)
            cv2.imwrite(str(folder / f"{index}.png"), pixels)
    return root


def real_faces(root: Path, identities: int) -> Path:
    """The first identities of lfw-aligned-100pair (real aligned crops, 2 per person), linked into ``root``."""
    from tests.shared_data import shared_path

    source = shared_path("datasets/lfw-aligned-100pair")
    root.mkdir(parents=True)
    for folder in sorted(p for p in source.iterdir() if p.is_dir())[:identities]:
        (root / folder.name).symlink_to(folder.resolve(), target_is_directory=True)
    return root


@pytest.fixture
def synthetic_faces(tmp_path) -> Path:
    return write_faces(tmp_path / "faces", identities=3, per_identity=4)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: on a loaded 2-core machine, spinning OpenMP threads make steps many times slower."""
    try:
        import torch
    except ImportError:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
