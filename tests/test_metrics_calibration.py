"""Tests of medtools.metrics.calibration (chapter keras_classifier): reliability curve and ECE."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import calibration_curve

from medtools import metrics


def test_reliability_curve_matches_sklearn(synthetic_scores) -> None:
    y, p = synthetic_scores(n=3000, shift=1.0)
    p = np.r_[p, [0.0, 0.1, 0.5, 1.0]]  # values on bin edges
    y = np.r_[y, [0, 0, 1, 1]]
    mean_p, frac, counts = metrics.reliability_curve(y, p, n_bins=10)
    sk_frac, sk_mean = calibration_curve(y, p, n_bins=10, strategy="uniform")
    np.testing.assert_allclose(mean_p, sk_mean)
    np.testing.assert_allclose(frac, sk_frac)
    assert counts.sum() == len(y)


def test_ece_of_calibrated_scores_is_near_zero() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(200_000)
    y = (rng.random(p.size) < p).astype(int)  # label 1 with probability p: calibrated
    assert metrics.expected_calibration_error(y, p) < 0.01
    overconfident = np.clip(0.5 + 1.8 * (p - 0.5), 0, 1)
    assert metrics.expected_calibration_error(y, overconfident) > 0.1
    # hand-made example: two bins
    ece = metrics.expected_calibration_error([0, 1, 1, 1], [0.2, 0.2, 0.9, 0.9], n_bins=2)
    assert ece == pytest.approx(0.5 * abs(0.5 - 0.2) + 0.5 * abs(1.0 - 0.9))
    with pytest.raises(ValueError, match="probabilities"):
        metrics.expected_calibration_error([0, 1], [-0.5, 2.0])
