"""Face verification figures of the configured detector + calculator, by the LFW protocol.

    python -m tools.evaluate_verification ../shared/datasets/deepface/master.csv --detector dlib.FaceDetector@hog
    python -m tools.evaluate_verification ../shared/datasets/lfw-aligned-100pair --no-detect
    python -m tools.evaluate_verification lfw/pairs.txt --images-root lfw/ --remote http://localhost:3000

Pairs: LFW ``pairs.txt`` (images under --images-root), CSV ``file_x,file_y,Decision``, or a folder per identity
(each identity's two first images = same; identity k's first with identity k+1's second = different).
Embeddings come from the service's pipeline (largest face, or the whole image with ``--no-detect``, i.e.
detect_faces=false) or from a running service. Reports 10-fold accuracy (threshold chosen on 9 folds, measured
on the 10th) mean and std, same/different accuracy, ROC AUC, the estimated threshold, the best single-threshold
accuracy, and the similarity coefficients (c0, c1) fitted on all pairs; draws the ROC curve (PNG).
Exit code 0 when figures were computed, 1 otherwise (no pairs, no faces, bad input).
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tools.calibrate_similarity import best_threshold, fit_similarity_coefficients, roc_auc
from tools.common.embeddings import Embedder, embedder_from_args
from tools.common.extras import require
from tools.common.pairs import Pair, load_pairs
from tools.common.progress import progress
from tools.common.service import add_service_args, parse_tool_args, tool_parser

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tools" / "tmp" / "verification"


@dataclass
class Verification:
    pairs: int
    dropped: int
    accuracy_mean: float
    accuracy_std: float
    same_accuracy: float
    different_accuracy: float
    auc: float
    threshold: float
    best_accuracy: float
    best_threshold: float
    c0: float
    c1: float


Folds = tuple[list[float], list[float], list[float], list[float]]


def ten_fold(distances: np.ndarray, labels: np.ndarray, folds: np.ndarray) -> Folds:
    """Per fold: accuracy, same accuracy, different accuracy at the threshold fitted on the other folds."""
    accuracies, sames, diffs, thresholds = [], [], [], []
    for fold in np.unique(folds):
        test, train = folds == fold, folds != fold
        if not train.any():
            continue
        threshold, _ = best_threshold(distances[train], labels[train])
        said_same = distances[test] < threshold
        truth = labels[test]
        accuracies.append(float(np.mean(said_same == truth)))
        if truth.any():
            sames.append(float(np.mean(said_same[truth])))
        if (~truth).any():
            diffs.append(float(np.mean(~said_same[~truth])))
        thresholds.append(threshold)
    return accuracies, sames, diffs, thresholds


def evaluate(distances: np.ndarray, labels: np.ndarray, folds: np.ndarray, dropped: int = 0) -> Verification:
    accuracies, sames, diffs, thresholds = ten_fold(distances, labels, folds)
    best_t, best_acc = best_threshold(distances, labels)
    c0, c1, _ = fit_similarity_coefficients(distances, labels)
    return Verification(len(distances), dropped, float(np.mean(accuracies)), float(np.std(accuracies)),
                        float(np.mean(sames)) if sames else float("nan"),
                        float(np.mean(diffs)) if diffs else float("nan"), roc_auc(distances, labels),
                        float(np.mean(thresholds)), best_acc, best_t, c0, c1)


def roc_points(distances: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates as the distance threshold sweeps from 0 up."""
    order = np.argsort(distances, kind="stable")
    same = labels[order]
    tpr = np.concatenate([[0.0], np.cumsum(same) / max(same.sum(), 1)])
    fpr = np.concatenate([[0.0], np.cumsum(~same) / max((~same).sum(), 1)])
    return fpr, tpr


def plot_roc(distances: np.ndarray, labels: np.ndarray, result: Verification, title: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fpr, tpr = roc_points(distances, labels)
    figure, axis = plt.subplots(figsize=(5, 5), dpi=100)
    axis.plot(fpr, tpr, lw=2, label=f"AUC {result.auc:.4f}")
    axis.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
    axis.set_xlabel("false accept rate (different pairs called same)")
    axis.set_ylabel("true accept rate (same pairs called same)")
    axis.set_title(title, fontsize=9)
    axis.legend(loc="lower right")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, bbox_inches="tight")
    plt.close(figure)
    return path


def distances_of(pairs: list[Pair], embedder: Embedder, detect: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    files = list(dict.fromkeys(p for pair in pairs for p in (pair.a, pair.b)))
    vectors = {path: embedder.largest(path, detect) for path in progress(files, "embed")}
    kept = [p for p in pairs if vectors[p.a] is not None and vectors[p.b] is not None]
    d = np.array([float(np.linalg.norm(vectors[p.a] - vectors[p.b])) for p in kept])
    return d, np.array([p.same for p in kept], dtype=bool), np.array([p.fold for p in kept]), len(pairs) - len(kept)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = tool_parser("python -m tools.evaluate_verification", __doc__)
    parser.add_argument("pairs", type=Path, help="pairs.txt, a CSV of pairs, or a folder per identity")
    parser.add_argument("--images-root", type=Path, help="LFW images for pairs.txt (default: its folder)")
    parser.add_argument("--no-detect", action="store_true", help="aligned crops: the whole image is the face")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="ROC plot folder (%(default)s)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    add_service_args(parser)
    return parse_tool_args(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    require("tools.evaluate_verification", "matplotlib")
    try:
        pairs = load_pairs(args.pairs, args.images_root, args.folds)
    except (OSError, ValueError, KeyError) as error:
        print(f"error: cannot read pairs from {args.pairs}: {error}", file=sys.stderr)
        return 1
    if not pairs:
        print(f"error: no pairs in {args.pairs}", file=sys.stderr)
        return 1
    embedder = embedder_from_args(args)
    distances, labels, folds, dropped = distances_of(pairs, embedder, not args.no_detect)
    if labels.all() or not labels.any():
        print(f"error: need same and different pairs with faces; kept {len(labels)}, dropped {dropped}",
              file=sys.stderr)
        return 1
    result = evaluate(distances, labels, folds, dropped)
    title = f"{embedder.version()} on {args.pairs.name}{' (no detection)' if args.no_detect else ''}"
    plot = plot_roc(distances, labels, result, title, args.out / f"roc_{args.pairs.stem}.png")
    if args.json:
        print(json.dumps({**asdict(result), "roc_png": str(plot)}))
    else:
        print(f"{title}: {result.pairs} pairs ({result.dropped} dropped: no face)\n"
              f"  {args.folds}-fold accuracy {result.accuracy_mean:.4f} +- {result.accuracy_std:.4f} "
              f"(same {result.same_accuracy:.4f}, different {result.different_accuracy:.4f})\n"
              f"  ROC AUC {result.auc:.4f}, estimated threshold {result.threshold:.4f}; best single threshold "
              f"{result.best_threshold:.4f} -> accuracy {result.best_accuracy:.4f}\n"
              f"  similarity_coefficients c0 = {result.c0:.6f}, c1 = {result.c1:.6f}\n  ROC plot: {plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
