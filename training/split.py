"""Split a folder-per-identity set by identity into ``DST/train`` and ``DST/val`` (no person in both).

    python -m training.split ALIGNED DST [--val 0.2] [--seed 0] [--min-images 2]

Identities with fewer than ``--min-images`` photos are left out. The sub-folders are symbolic links to
the identity folders (nothing copied).
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import Sequence

from tools.common.images import identity_folders


def split_identities(src: Path, dst: Path, val_fraction: float, seed: int = 0,
                     min_images: int = 2) -> tuple[list[str], list[str]]:
    names = sorted(name for name, files in identity_folders(src).items() if len(files) >= min_images)
    random.Random(seed).shuffle(names)
    count = round(len(names) * val_fraction)
    val, train = sorted(names[:count]), sorted(names[count:])
    for part, members in (("train", train), ("val", val)):
        (dst / part).mkdir(parents=True, exist_ok=True)
        for name in members:
            link = dst / part / name
            if not link.exists():
                link.symlink_to((src / name).resolve(), target_is_directory=True)
    return train, val


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.split", description=__doc__.split("\n")[0],
                                     epilog=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    parser.add_argument("--val", type=float, default=0.2, help="fraction of identities for validation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-images", type=int, default=2)
    args = parser.parse_args(argv)
    if not args.src.is_dir():
        print(f"error: {args.src} is not a folder", file=sys.stderr)
        return 1
    train, val = split_identities(args.src, args.dst, args.val, args.seed, args.min_images)
    print(f"{len(train)} training identities in {args.dst / 'train'}, {len(val)} validation in {args.dst / 'val'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
