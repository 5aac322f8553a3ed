"""Tests of medtools.metrics.shift (chapter beyond_article): the posterior adjusted to a new
prior, and the prior estimated by EM (Saerens et al. 2002) and BBSE (Lipton et al. 2018),
on simulated data whose true prior is known."""

from __future__ import annotations

import numpy as np
import pytest

from medtools import metrics


def _calibrated_scores(n: int, prior: float, rng: np.random.Generator, separation: float = 2.0):
    """Labels with positive fraction ``prior`` and the Bayes posterior under a balanced
    source prior (two unit-variance Gaussians at ±separation/2): so the model's source prior is 0.5."""
    y = (rng.random(n) < prior).astype(np.int64)
    x = rng.normal(np.where(y == 1, separation / 2, -separation / 2), 1.0)
    p = 1.0 / (1.0 + np.exp(-separation * x))  # P(y=1|x) when both classes are equally likely
    return y, p


def test_adjust_to_prior_is_bayes_rule_and_identity_at_equal_priors() -> None:
    p = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(metrics.adjust_to_prior(p, 0.3, 0.3), p)
    q, pi = 0.6, 0.3
    odds = p / (1 - p) * (q / (1 - q)) / (pi / (1 - pi))
    np.testing.assert_allclose(metrics.adjust_to_prior(p, pi, q), odds / (1 + odds))
    t = metrics.prior_shift_threshold(pi, q)
    assert metrics.adjust_to_prior(np.array([t]), pi, q)[0] == pytest.approx(0.5)
    assert metrics.prior_shift_threshold(0.4, 0.4) == pytest.approx(0.5)


@pytest.mark.parametrize("true_prior", [0.2, 0.5, 0.8])
def test_em_and_bbse_recover_a_known_prior(true_prior: float) -> None:
    rng = np.random.default_rng(0)
    y_src, p_src = _calibrated_scores(20_000, 0.5, rng)
    _, p_tgt = _calibrated_scores(20_000, true_prior, rng)
    q_em, adjusted, iters = metrics.em_prior(p_tgt, 0.5)
    assert q_em == pytest.approx(true_prior, abs=0.02) and iters >= 1
    assert adjusted.shape == p_tgt.shape and adjusted.mean() == pytest.approx(q_em, abs=1e-6)
    assert metrics.bbse_prior(y_src, p_src, p_tgt) == pytest.approx(true_prior, abs=0.02)


def test_em_needs_calibration_and_bbse_does_not() -> None:
    """Under a pure prior shift, probabilities made over-confident (a monotone distortion) bias EM but not BBSE."""
    rng = np.random.default_rng(1)
    y_src, p_src = _calibrated_scores(20_000, 0.5, rng)
    _, p_tgt = _calibrated_scores(20_000, 0.8, rng)

    def distort(p):  # logits times 3: the same ranking, over-confident probabilities
        return 1.0 / (1.0 + np.exp(-3.0 * np.log(p / (1 - p))))

    q_em = metrics.em_prior(distort(p_tgt), 0.5)[0]
    assert abs(q_em - 0.8) > 0.03  # EM follows the distorted probabilities
    assert metrics.bbse_prior(y_src, distort(p_src), distort(p_tgt)) == pytest.approx(0.8, abs=0.02)


def test_prior_shift_errors() -> None:
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        metrics.adjust_to_prior([0.5], 0.0, 0.5)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        metrics.prior_shift_threshold(0.5, 1.0)
    with pytest.raises(ValueError, match="probabilities"):
        metrics.em_prior([1.5], 0.5)
    with pytest.raises(ValueError, match="tol"):
        metrics.em_prior([0.5], 0.5, tol=0)
    with pytest.raises(RuntimeError, match="did not converge"):
        metrics.em_prior(np.linspace(0.01, 0.99, 50), 0.3, tol=1e-15, max_iter=2)
    with pytest.raises(ValueError, match="labels but"):
        metrics.bbse_prior([0, 1], [0.2], [0.5])
    with pytest.raises(ValueError, match="singular"):
        metrics.bbse_prior([0, 1, 0, 1], [0.9, 0.9, 0.9, 0.9], [0.5, 0.6])
