"""Align a face set to the ArcFace 112x112 template with the service's own detector and its 5 points.

    python -m training.align SRC DST [--labels identities.txt] [--detector dlib.FaceDetector@hog]

SRC is a folder per identity (``SRC/<identity>/<image>``), or with ``--labels`` a flat folder of images and
a list ``image identity`` per line (CelebA's identities.txt; a first line ``image identity`` is a header).
Writes ``DST/<identity>/<image stem>.png`` (the largest face of each photo). Resumable: photos already
aligned are skipped, and so are those listed in ``DST/no_face.txt`` (photos where the detector found no
face, or no landmarks), which the run appends to and reports at the end.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from tools.common.images import identity_folders, is_image
from tools.common.progress import progress
from tools.common.service import (
    add_pipeline_args,
    build_detector_only,
    parse_tool_args,
    settings_from_args,
    tool_parser,
)

NO_FACE_LIST = "no_face.txt"


@dataclass(frozen=True)
class Photo:
    source: Path
    identity: str

    def target(self, root: Path) -> Path:
        return root / self.identity / f"{self.source.stem}.png"


@dataclass
class AlignReport:
    aligned: int
    skipped: int
    no_face: list[str]


def photos_by_folder(root: Path) -> list[Photo]:
    return [Photo(path, identity) for identity, paths in identity_folders(root).items() for path in paths]


def photos_by_list(root: Path, labels: Path) -> list[Photo]:
    """CelebA-style ``image identity`` lines; images found under ``root`` or ``root/img``."""
    images = root / "img" if (root / "img").is_dir() else root
    photos = []
    for number, line in enumerate(labels.read_text().splitlines()):
        parts = line.split()
        if not parts or (number == 0 and parts == ["image", "identity"]):
            continue
        if len(parts) != 2:
            raise ValueError(f"{labels}:{number + 1}: expected 'image identity', got {line!r}")
        photos.append(Photo(images / parts[0], parts[1]))
    return photos


def align_photos(photos: Sequence[Photo], dst: Path, detector_pipeline, size: int = 112) -> AlignReport:
    """Align each photo not done yet; a photo without a face is listed in ``dst/no_face.txt``."""
    import cv2

    from facecore.align import align_5points
    from tools.common.images import read_rgb

    dst.mkdir(parents=True, exist_ok=True)
    listed = dst / NO_FACE_LIST
    no_face = set(listed.read_text().splitlines()) if listed.exists() else set()
    todo = [p for p in photos if str(p.source) not in no_face and not p.target(dst).exists()]
    aligned = 0
    with listed.open("a") as missing:
        for photo in progress(todo, "align"):
            image = read_rgb(photo.source)
            faces = [f for f in detector_pipeline.detect(image, detector_pipeline.default_threshold)
                     if f.landmarks is not None]
            if not faces:
                missing.write(f"{photo.source}\n")
                missing.flush()
                no_face.add(str(photo.source))
                continue
            crop = align_5points(image, faces[0].landmarks, size)
            target = photo.target(dst)
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part.png")
            cv2.imwrite(str(partial), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
            partial.replace(target)  # atomic: an interrupted run never leaves half a file under the real name
            aligned += 1
    wanted = {str(p.source) for p in photos}
    return AlignReport(aligned, len(photos) - len(todo), sorted(no_face & wanted))


def main(argv: Sequence[str] | None = None) -> int:
    parser = tool_parser("python -m training.align", __doc__)
    parser.add_argument("src", type=Path, help="a folder per identity, or images with --labels")
    parser.add_argument("dst", type=Path, help="output: DST/<identity>/<stem>.png")
    parser.add_argument("--labels", type=Path, help="'image identity' list for a flat folder of images")
    parser.add_argument("--size", type=int, default=112, help="crop side (the template scales; %(default)s)")
    parser.add_argument("--verbose", action="store_true")
    add_pipeline_args(parser, calculator=False)
    args = parse_tool_args(parser, argv)
    if not args.src.is_dir():
        print(f"error: {args.src} is not a folder", file=sys.stderr)
        return 1
    try:
        photos = photos_by_list(args.src, args.labels) if args.labels else photos_by_folder(args.src)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    photos = [p for p in photos if is_image(p.source)]
    pipeline = build_detector_only(settings_from_args(args, extras=()))
    report = align_photos(photos, args.dst, pipeline, args.size)
    print(f"{len(photos)} photos: {report.aligned} aligned now, {report.skipped} done before; "
          f"{len(report.no_face)} without a face (listed in {args.dst / NO_FACE_LIST})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
