"""Labelled face pairs for verification: LFW ``pairs.txt``, CSV ``file_x,file_y,Decision``, or identity folders.

Each pair carries its fold for the 10-fold protocol: LFW's own folds for ``pairs.txt`` (consecutive blocks),
otherwise same and different pairs dealt round-robin over the folds (deterministic, balanced).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from tools.common.images import identity_folders


@dataclass(frozen=True)
class Pair:
    a: Path
    b: Path
    same: bool
    fold: int = 0


def deal_folds(pairs: list[Pair], folds: int) -> list[Pair]:
    counters = {True: 0, False: 0}
    dealt = []
    for pair in pairs:
        dealt.append(Pair(pair.a, pair.b, pair.same, counters[pair.same] % folds))
        counters[pair.same] += 1
    return dealt


def read_lfw_pairs(path: Path, images_root: Path, suffix: str = ".jpg") -> list[Pair]:
    """LFW ``pairs.txt``: a header ``folds n`` then per fold n same lines (``name i j``) and n different
    lines (``name1 i name2 j``); images at ``root/name/name_0001.jpg``."""
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    header, rows = lines[0], lines[1:]
    per_fold = 2 * int(header[1]) if len(header) == 2 else len(rows)

    def image(name: str, number: str) -> Path:
        return images_root / name / f"{name}_{int(number):04d}{suffix}"

    pairs = []
    for index, row in enumerate(rows):
        if len(row) == 3:
            pairs.append(Pair(image(row[0], row[1]), image(row[0], row[2]), True, index // per_fold))
        elif len(row) == 4:
            pairs.append(Pair(image(row[0], row[1]), image(row[2], row[3]), False, index // per_fold))
        else:
            raise ValueError(f"{path}: line {index + 2} is neither 'name i j' nor 'name1 i name2 j'")
    return pairs


def read_csv_pairs(path: Path, folds: int = 10) -> list[Pair]:
    """``file_x,file_y,Decision`` (Yes/No, or 1/0, true/false), names relative to the CSV's folder."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    yes = {"yes", "1", "true", "same"}
    pairs = [Pair(path.parent / r["file_x"].strip(), path.parent / r["file_y"].strip(),
                  r["Decision"].strip().lower() in yes) for r in rows]
    return deal_folds(pairs, folds)


def folder_pairs(root: Path, folds: int = 10) -> list[Pair]:
    """From one folder per identity: each identity's first two images (same), and identity k's first image
    with identity k+1's second (different), identities in name order (as lfw-aligned-100pair's protocol)."""
    images = [files for files in identity_folders(root).values() if len(files) >= 2]
    same = [Pair(files[0], files[1], True) for files in images]
    different = [Pair(images[k][0], images[(k + 1) % len(images)][1], False) for k in range(len(images))] \
        if len(images) > 1 else []
    return deal_folds(same + different, folds)


def load_pairs(source: Path, images_root: Path | None = None, folds: int = 10) -> list[Pair]:
    """Pairs from a folder of identities, a CSV, or an LFW pairs.txt (images under ``images_root``)."""
    if source.is_dir():
        return folder_pairs(source, folds)
    if source.suffix.lower() == ".csv":
        return read_csv_pairs(source, folds)
    return read_lfw_pairs(source, images_root or source.parent)
