"""A progress bar on stderr for long loops (tqdm), quiet when asked to be."""
from __future__ import annotations

import os
import sys
from typing import Iterable, TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterable[T]:
    """``items`` wrapped in a tqdm bar; ``FACECORE_NO_PROGRESS=1`` turns bars off (logs, CI)."""
    from tqdm import tqdm

    disable = os.environ.get("FACECORE_NO_PROGRESS", "").strip() in ("1", "true", "yes")
    return tqdm(items, desc=desc, total=total, file=sys.stderr, disable=disable, leave=False, dynamic_ncols=True)
