"""Detector scores -> probabilities in [0, 1], and back.

dlib's HOG detector returns an SVM margin and the MMOD detector a CNN confidence; neither is a
probability. Both are mapped through one logistic ``p = 1 / (1 + exp(-slope * score))``: strictly
increasing, so the detector's ranking is kept, and a score of 0 (each detector's own decision boundary)
maps to 0.5. The slopes were chosen from the scores measured on the dlib-faces and deepface images
(docs/calibration.md): true faces score 0.2..3.1 with HOG (slope 2 puts a typical frontal face, score
>= 1.5, above 0.95) and 0.3..1.13 with MMOD (slope 4 puts its usual 1.0 at 0.98).
"""
from __future__ import annotations

import math

HOG_SLOPE = 2.0
MMOD_SLOPE = 4.0
#: Each detector's own boundary (score 0), expressed as a probability.
DEFAULT_THRESHOLD = 0.5
#: Lowest score the HOG detector is asked for, however low the threshold: below it boxes are noise.
MIN_HOG_SCORE = -2.0
#: Highest score asked for (a threshold of 1 keeps nothing anyway; dlib wants a finite number).
MAX_HOG_SCORE = 100.0


def score_to_probability(score: float, slope: float) -> float:
    """The logistic map of a raw detector score (monotone increasing, 0 -> 0.5)."""
    value = slope * float(score)
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)  # the symmetric form avoids overflow for very negative scores
    return exp / (1.0 + exp)


def probability_to_score(probability: float, slope: float) -> float:
    """The inverse map: the raw score whose probability is ``probability`` (+-inf at 1 and 0)."""
    if probability <= 0.0:
        return -math.inf
    if probability >= 1.0:
        return math.inf
    return math.log(probability / (1.0 - probability)) / slope
