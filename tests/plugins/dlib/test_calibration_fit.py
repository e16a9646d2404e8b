"""tools.calibrate_similarity's fitting: threshold, slope, and the similarity it implies."""
from __future__ import annotations

import numpy as np
import pytest

from tools.calibrate_similarity import (
    BEGIN,
    END,
    best_threshold,
    fit_similarity_coefficients,
    lfw_pairs,
    roc_auc,
    similarity,
    write_section,
)


def test_threshold_separates_separable_pairs() -> None:
    d = np.array([0.2, 0.3, 0.35, 0.6, 0.7])
    y = np.array([True, True, True, False, False])
    t, accuracy = best_threshold(d, y)
    assert accuracy == 1.0
    assert 0.35 < t < 0.6
    assert roc_auc(d, y) == 1.0


def test_threshold_maximises_accuracy_with_overlap() -> None:
    d = np.array([0.1, 0.2, 0.5, 0.3, 0.6, 0.7])
    y = np.array([True, True, True, False, False, False])
    t, accuracy = best_threshold(d, y)
    assert accuracy == pytest.approx(5 / 6)
    assert np.mean((d < t) == y) == pytest.approx(accuracy)


def test_slope_recovers_a_known_logistic() -> None:
    rng = np.random.default_rng(7)
    c0_true, c1_true = 0.4, 6.0
    d = rng.uniform(0.0, 0.9, 20000)
    p_same = similarity(d, c0_true, c1_true)
    y = rng.random(d.size) < p_same
    c0, c1, accuracy = fit_similarity_coefficients(d, y)
    assert c0 == pytest.approx(c0_true, abs=0.03)
    assert c1 == pytest.approx(c1_true, rel=0.1)
    assert 0.7 < accuracy < 0.9


def test_similarity_is_half_at_c0_and_falls_with_distance() -> None:
    assert similarity(0.4, 0.4, 5.0) == pytest.approx(0.5)
    values = similarity(np.linspace(0, 1.5, 50), 0.4, 5.0)
    assert np.all(np.diff(values) < 0)


def test_rejects_mismatched_input() -> None:
    with pytest.raises(ValueError):
        fit_similarity_coefficients([0.1, 0.2], [True])


def test_lfw_pairs_cross_identities_deterministically(tmp_path) -> None:
    for name in ("B", "A", "C"):
        (tmp_path / name).mkdir()
        for k in (2, 1):
            (tmp_path / name / f"{name}_{k}.jpg").write_bytes(b"")
    pairs = lfw_pairs(tmp_path)
    assert [(p.a.name, p.b.name, p.same) for p in pairs] == [
        ("A_1.jpg", "A_2.jpg", True), ("B_1.jpg", "B_2.jpg", True), ("C_1.jpg", "C_2.jpg", True),
        ("A_1.jpg", "B_2.jpg", False), ("B_1.jpg", "C_2.jpg", False), ("C_1.jpg", "A_2.jpg", False)]


def test_generated_section_is_replaced_and_prose_kept(tmp_path) -> None:
    doc = tmp_path / "calibration.md"
    doc.write_text(f"# Title\n\nprose\n\n{BEGIN}\nold\n{END}\n\ntail\n")
    write_section(doc, "new figures")
    text = doc.read_text()
    assert "prose" in text and "tail" in text and "new figures" in text and "old" not in text
    write_section(tmp_path / "fresh.md", "x")
    assert BEGIN in (tmp_path / "fresh.md").read_text()
