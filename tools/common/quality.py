"""``--min-quality``: skip faces whose ``quality`` score (``extras.QualityEstimator``) is under a threshold.

For every tool that enrols faces (tools.export_embeddings, tools.bulk_embed): add the option with
:func:`add_min_quality_arg`, build the embedder with :func:`quality_extras` as its extra plugins, ask for
:func:`slugs_with_quality` and keep a face when :func:`good_enough` says so. A remote service must have
``extras.QualityEstimator`` in its ``EXTRA_PLUGINS``.
"""
from __future__ import annotations

import argparse
from typing import Any

QUALITY_PLUGIN = "extras.QualityEstimator"


def add_min_quality_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--min-quality", type=quality_threshold, default=None, metavar="Q",
                        help=f"skip faces whose quality score ({QUALITY_PLUGIN}, 0..1) is under Q "
                             "(blurred, dark, tiny or turned faces); default: keep every face")


def quality_threshold(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"--min-quality must be between 0 and 1, not {text}")
    return value


def quality_extras(min_quality: float | None) -> tuple[str, ...]:
    """The extra plugins a local pipeline needs for ``min_quality`` (none when it is not set)."""
    return () if min_quality is None else (QUALITY_PLUGIN,)


def slugs_with_quality(slugs: tuple[str, ...], min_quality: float | None) -> tuple[str, ...]:
    """``slugs`` plus ``quality`` when a threshold is set."""
    return slugs if min_quality is None or "quality" in slugs else (*slugs, "quality")


def good_enough(face: dict[str, Any], min_quality: float | None) -> bool:
    """Whether a /find_faces face passes ``min_quality`` (always, when it is not set)."""
    if min_quality is None:
        return True
    quality = face.get("quality")
    if not isinstance(quality, dict) or "score" not in quality:
        raise ValueError(f"the service did not answer the quality of the face: add {QUALITY_PLUGIN} to its "
                         "EXTRA_PLUGINS, or drop --min-quality")
    return float(quality["score"]) >= min_quality
