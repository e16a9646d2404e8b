"""Verification accuracy of a model on LFW and InsightFace .bin sets, in the 10-fold LFW protocol.

    python -m training.evaluate --model runs/x/best.pt --lfw ALIGNED_LFW [--lfw-pairs pairs.txt] [--bin lfw.bin ...]
    python -m training.evaluate --model model.onnx --lfw ALIGNED_LFW
    python -m training.evaluate --calculator dlib.Calculator --detector dlib.FaceDetector@hog \
        --lfw ../shared/datasets/lfw

``--model`` (a checkpoint of training.train, or an exported ONNX) embeds faces aligned to the ArcFace 112x112
template, i.e. LFW as ``training.align`` writes it (``<Name>/<Name>_0001.png``). ``--calculator`` instead
runs the service's own pipeline (detector + that calculator with its own alignment) on the original photos
(``<lfw>/images`` when present), with ``--detector`` instead of the configured one (dlib's published
figure comes from its own HOG boxes); photos without a face are embedded from the median detected box
(``--no-fallback``: their pairs are dropped). Per set it prints same-pair, different-pair and overall accuracy
(mean over the 10 folds, the threshold fitted on the other 9), their std, ROC AUC and the estimated
threshold; pairs whose photo had no face (or aligned crop) are counted and left out.

dlib's own protocol (its published 99.38 %): ``--distance euclidean`` compares the raw descriptors, as dlib's
metric loss trained them (the default ``cosine`` compares unit vectors, as the service does), and
``--threshold 0.6`` adds the accuracy at dlib's fixed threshold (mean and std over the 10 folds); ``--jitter N``
averages each face over N jittered chips (dlib's ``num_jitters``).
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from tools.common.images import identity_folders
from tools.common.pairs import Pair, deal_folds, read_lfw_pairs
from tools.evaluate_verification import Verification, evaluate as verification_figures
from training.calculator_lfw import COSINE, EUCLIDEAN, PairDistances, PhotoEmbeddings, embed_photos, pair_distances

Embed = Callable[[np.ndarray], np.ndarray]  # uint8 RGB (N, 112, 112, 3) -> (N, D)


@dataclass
class PairSet:
    """Faces (loaded on demand) and pairs of indices into them."""

    name: str
    loaders: list[Callable[[], np.ndarray]]
    a: np.ndarray
    b: np.ndarray
    same: np.ndarray
    folds: np.ndarray
    dropped: int = 0


def pair_set_from_pairs(name: str, pairs: Sequence[Pair]) -> PairSet:
    """Pairs of image files; pairs with a missing file (no face when aligned) are dropped and counted."""
    from training.data import _file_loader

    kept = [p for p in pairs if p.a.exists() and p.b.exists()]
    files = list(dict.fromkeys(path for pair in kept for path in (pair.a, pair.b)))
    index = {path: i for i, path in enumerate(files)}
    return PairSet(name, [_file_loader(path) for path in files], np.array([index[p.a] for p in kept], int),
                   np.array([index[p.b] for p in kept], int), np.array([p.same for p in kept], bool),
                   np.array([p.fold for p in kept], int), len(pairs) - len(kept))


def lfw_pair_set(aligned: Path, pairs_file: Path | None = None) -> PairSet:
    pairs_file = pairs_file or aligned / "pairs.txt"
    return pair_set_from_pairs("LFW", read_lfw_pairs(pairs_file, aligned, suffix=".png"))


def folder_pair_set(root: Path, folds: int = 10) -> PairSet:
    """Validation identities (a folder each): every identity's consecutive photos (1-2, 2-3, ...) as same
    pairs, and as many different pairs (photo i of identity k with photo i of identity k+1)."""
    identities = [files for files in identity_folders(Path(root)).values() if len(files) >= 2]
    pairs = [Pair(files[i], files[i + 1], True) for files in identities for i in range(len(files) - 1)]
    for k, files in enumerate(identities if len(identities) > 1 else []):
        other = identities[(k + 1) % len(identities)]
        pairs += [Pair(files[i], other[i], False) for i in range(min(len(files), len(other)) - 1)]
    return pair_set_from_pairs(Path(root).name, deal_folds(pairs, folds))


def bin_pair_set(path: Path) -> PairSet:
    from training.binfile import read_bin
    from training.data import decode_image, fit

    data = read_bin(path)
    count = data.pairs
    folds = np.arange(count) * 10 // max(count, 1)
    return PairSet(Path(path).stem, [lambda raw=raw: fit(decode_image(raw)) for raw in data.images],
                   np.arange(count) * 2, np.arange(count) * 2 + 1, np.array(data.issame, bool), folds)


@dataclass
class FixedThreshold:
    """Accuracy at a threshold given in advance (dlib's 0.6), not fitted: mean and std over the folds."""

    threshold: float
    accuracy_mean: float
    accuracy_std: float


def fixed_threshold_accuracy(pairs: PairDistances, threshold: float) -> FixedThreshold:
    """Per fold, the share of pairs that ``distance < threshold`` labels right; their mean and (population) std."""
    accuracies = [float(np.mean((pairs.distances[pairs.folds == fold] < threshold) == pairs.same[pairs.folds == fold]))
                  for fold in np.unique(pairs.folds)]
    return FixedThreshold(float(threshold), float(np.mean(accuracies)), float(np.std(accuracies)))


def embed_all(pair_set: PairSet, embed: Embed, batch: int = 128, progress: bool = False,
              distance: str = COSINE) -> np.ndarray:
    """Every face's embedding: unit vectors for COSINE, as the model gives them for EUCLIDEAN."""
    from tools.common.progress import progress as bar

    chunks = range(0, len(pair_set.loaders), batch)
    vectors = [embed(np.stack([load() for load in pair_set.loaders[i:i + batch]]))
               for i in (bar(chunks, pair_set.name) if progress else chunks)]
    vectors = np.concatenate(vectors).astype(np.float64)
    if distance == EUCLIDEAN:
        return vectors
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def pair_set_distances(pair_set: PairSet, embed: Embed, batch: int = 128, progress: bool = False,
                       distance: str = COSINE) -> PairDistances:
    vectors = embed_all(pair_set, embed, batch, progress, distance)
    distances = np.linalg.norm(vectors[pair_set.a] - vectors[pair_set.b], axis=1)
    return PairDistances(distances, pair_set.same, pair_set.folds, pair_set.dropped)


def figures(pairs: PairDistances) -> Verification:
    return verification_figures(pairs.distances, pairs.same, pairs.folds, pairs.dropped)


def verify(pair_set: PairSet, embed: Embed, batch: int = 128, progress: bool = False) -> Verification:
    return figures(pair_set_distances(pair_set, embed, batch, progress))


def torch_embedder(model, device: str = "cpu") -> Embed:
    import torch

    from training.data import to_tensor_batch

    model = model.to(device).eval()

    def embed(images: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(to_tensor_batch(images).to(device)).float().cpu().numpy()

    return embed


def onnx_embedder(path: Path) -> Embed:
    """ONNX Runtime on the file, fed as the service feeds it: raw pixels to a graph that scales them itself
    (a Sub/Mul before its first Conv, as mobileface_v2), else (x - 127.5) / 127.5."""
    import onnxruntime as ort

    from plugins.insightface.blob import normalises_itself

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    mean, scale = (0.0, 1.0) if normalises_itself(Path(path)) else (127.5, 127.5)

    def embed(images: np.ndarray) -> np.ndarray:
        blob = (images.transpose(0, 3, 1, 2).astype(np.float32) - mean) / scale
        return session.run(None, {name: blob})[0]

    return embed


def model_embedder(path: Path) -> Embed:
    if Path(path).suffix == ".onnx":
        return onnx_embedder(path)
    from training.checkpoint import load_backbone

    return torch_embedder(load_backbone(path)[0])


def report(name: str, result: Verification, fixed: FixedThreshold | None = None) -> str:
    """The OpenVINO toolkit's LFW report lines (and the accuracy at a fixed threshold, when one is given)."""
    lines = (f"{name}: {result.pairs} pairs ({result.dropped} dropped: no face)\n"
             f"  Accuracy/Val_same_accuracy mean: {result.same_accuracy:.4f}\n"
             f"  Accuracy/Val_diff_accuracy mean: {result.different_accuracy:.4f}\n"
             f"  Accuracy/Val_accuracy mean: {result.accuracy_mean:.4f}\n"
             f"  Accuracy/Val_accuracy std dev: {result.accuracy_std:.4f}\n"
             f"  AUC: {result.auc:.4f}\n"
             f"  Estimated threshold: {result.threshold:.4f}")
    if fixed is not None:
        lines += (f"\n  Accuracy at fixed threshold {fixed.threshold:g} mean: {fixed.accuracy_mean:.4f}"
                  f"\n  Accuracy at fixed threshold {fixed.threshold:g} std dev: {fixed.accuracy_std:.4f}")
    return lines


def calculator_lfw(calculator: str, lfw: Path, pairs_file: Path | None, detector: str | None = None,
                   fallback: bool = True, distance: str = COSINE,
                   jitter: int = 0) -> tuple[PairDistances, PhotoEmbeddings]:
    """LFW through the service's pipeline: ``detector`` (default: the configured one) finds the face, the named
    calculator aligns and embeds it (training.calculator_lfw says how photos without a face are handled);
    ``jitter`` > 1 averages each face over that many jittered chips (dlib.Calculator only: dlib's num_jitters)."""
    from facecore.config import load_settings
    from tools.common.embeddings import Embedder
    from tools.common.service import build

    images = lfw / "images" if (lfw / "images").is_dir() else lfw
    pairs = read_lfw_pairs(pairs_file or lfw / "pairs.txt", images)
    settings = load_settings().with_overrides(calculator=calculator, extras=())
    if detector:
        settings = settings.with_overrides(detector=detector)
    files = list(dict.fromkeys(path for pair in pairs for path in (pair.a, pair.b)))
    pipeline = build(settings)
    if jitter > 1:
        if not hasattr(pipeline.calculator, "use_jitter"):
            raise ValueError(f"--jitter is dlib's num_jitters: {calculator} cannot jitter its chips")
        pipeline.calculator.use_jitter(jitter)
    photos = embed_photos(files, Embedder(pipeline=pipeline), fallback)
    return pair_distances(pairs, photos, distance), photos


def _fallback_text(photos: PhotoEmbeddings) -> str:
    if not photos.missed:
        return "nothing to fall back on"
    if photos.fallback_box is None:
        return "their pairs dropped"
    return "embedded from the median detected box (" + ", ".join(f"{v:.3f}" for v in photos.fallback_box) + ")"


def main(argv: Sequence[str] | None = None) -> int:
    from tools.common.service import quiet_logs

    parser = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__.split("\n")[0],
                                     epilog=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", type=Path, help="a training checkpoint (.pt) or an exported .onnx")
    source.add_argument("--calculator", help="a service calculator, e.g. dlib.Calculator (original photos)")
    parser.add_argument("--lfw", type=Path, help="LFW folder: aligned crops for --model, photos for --calculator")
    parser.add_argument("--lfw-pairs", type=Path, help="pairs.txt (default: <lfw>/pairs.txt)")
    parser.add_argument("--detector", help="with --calculator: the face detector (default: FACE_DETECTION_PLUGIN)")
    parser.add_argument("--no-fallback", action="store_true",
                        help="with --calculator: drop pairs of photos without a face (default: median box)")
    parser.add_argument("--distance", choices=(COSINE, EUCLIDEAN), default=COSINE,
                        help="compare unit vectors (cosine, the service's way; default) or the raw embeddings "
                             "(euclidean: dlib's protocol)")
    parser.add_argument("--threshold", type=float,
                        help="also report the accuracy at this fixed distance threshold (dlib: 0.6 with euclidean)")
    parser.add_argument("--jitter", type=int, default=0, metavar="N",
                        help="with --calculator dlib.Calculator: each face's descriptor is the mean over N jittered "
                             "chips (dlib's num_jitters; N times slower)")
    parser.add_argument("--bin", type=Path, action="append", default=[], help="an InsightFace .bin (repeatable)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    quiet_logs()
    if args.lfw is None and not args.bin:
        parser.error("give --lfw and/or --bin")
    if args.jitter and not args.calculator:
        parser.error("--jitter needs --calculator (it jitters the calculator's own chips)")
    distances: dict[str, PairDistances] = {}
    try:
        if args.calculator:
            if args.bin:
                parser.error("--bin needs --model (the .bin faces are already aligned)")
            fallback = not args.no_fallback
            distances["LFW"], photos = calculator_lfw(args.calculator, args.lfw, args.lfw_pairs, args.detector,
                                                      fallback, args.distance, args.jitter)
            print(f"photos without a face: {len(photos.missed)} of {len(photos.vectors)}; {_fallback_text(photos)}",
                  file=sys.stderr)
        else:
            embed = model_embedder(args.model)
            sets = ([lfw_pair_set(args.lfw, args.lfw_pairs)] if args.lfw else []) + [bin_pair_set(p) for p in args.bin]
            for pair_set in sets:
                distances[pair_set.name] = pair_set_distances(pair_set, embed, args.batch, True, args.distance)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    results = {name: figures(pairs) for name, pairs in distances.items()}
    fixed = {name: fixed_threshold_accuracy(pairs, args.threshold) for name, pairs in distances.items()} \
        if args.threshold is not None else {}
    if args.json:
        print(json.dumps({name: {**asdict(result), **({"fixed": asdict(fixed[name])} if name in fixed else {})}
                          for name, result in results.items()}))
    else:
        print("\n".join(report(name, result, fixed.get(name)) for name, result in results.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
