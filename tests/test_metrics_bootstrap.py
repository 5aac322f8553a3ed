"""Tests of medtools.metrics.bootstrap (chapter keras_classifier): percentile bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from medtools import metrics


def test_bootstrap_ci_covers_estimate_and_is_reproducible(synthetic_scores) -> None:
    y, p = synthetic_scores()
    ci = metrics.bootstrap_ci(metrics.medmnist_auc, y, p, n_boot=300, seed=1)
    assert ci.low <= ci.estimate <= ci.high
    assert ci.estimate == pytest.approx(roc_auc_score(y, p))
    assert ci.level == 0.95 and ci.n_boot == 300 and ci.n_failed == 0
    again = metrics.bootstrap_ci(metrics.medmnist_auc, y, p, n_boot=300, seed=1)
    assert again == ci
    # more data, narrower interval
    y2, p2 = synthetic_scores(n=4000)
    wide = ci.high - ci.low
    narrow = metrics.bootstrap_ci(metrics.medmnist_auc, y2, p2, n_boot=300, seed=1)
    assert narrow.high - narrow.low < wide
    assert set(ci.as_dict()) == {"estimate", "low", "high", "level", "n_boot", "n_failed"}


def test_paired_bootstrap_of_a_difference(synthetic_scores) -> None:
    y, p = synthetic_scores(n=500)
    noisy = p + np.random.default_rng(5).normal(0, 0.3, p.size)

    def auc_gain(yy: np.ndarray, ss: np.ndarray) -> float:
        return metrics.medmnist_auc(yy, ss[:, 0]) - metrics.medmnist_auc(yy, ss[:, 1])

    ci = metrics.bootstrap_ci(auc_gain, y, np.c_[p, noisy], n_boot=200)
    assert 0 < ci.low <= ci.estimate <= ci.high  # the clean scores are better, significantly


def test_bootstrap_ci_percentile_method_on_a_mean() -> None:
    # for the mean of 0/1 data the percentile interval is close to the normal approximation
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.3).astype(int)

    def mean(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.mean(a))

    ci = metrics.bootstrap_ci(mean, y, y, n_boot=2000, seed=0)
    se = np.sqrt(0.3 * 0.7 / 2000)
    assert ci.high - ci.low == pytest.approx(2 * 1.96 * se, rel=0.15)


def test_bootstrap_ci_errors(synthetic_scores) -> None:
    y, p = synthetic_scores(n=50)
    with pytest.raises(ValueError, match="n_boot"):
        metrics.bootstrap_ci(metrics.medmnist_auc, y, p, n_boot=5)
    with pytest.raises(ValueError, match="level"):
        metrics.bootstrap_ci(metrics.medmnist_auc, y, p, level=1.5)
    with pytest.raises(ValueError, match="shape"):
        metrics.bootstrap_ci(metrics.medmnist_auc, y, p[:10])
    # two cases, one positive: most resamples hold a single class, AUC undefined
    with pytest.raises(ValueError, match="undefined"):
        metrics.bootstrap_ci(metrics.medmnist_auc, [0, 1], [0.2, 0.8], n_boot=100)
