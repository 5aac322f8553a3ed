"""Tests of medtools._metrics_eval (chapter keras_classifier): MedMNIST metrics, bootstrap
intervals, threshold choice on validation data, reliability curve and ECE."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import accuracy_score, roc_auc_score

from medtools import metrics


def _synthetic(n: int = 400, seed: int = 0, shift: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.6).astype(int)
    logit = rng.normal(size=n) + shift * (2 * y - 1)
    return y, 1 / (1 + np.exp(-logit))


def test_medmnist_metrics_match_the_official_evaluator() -> None:
    y, p = _synthetic()
    assert metrics.medmnist_auc(y, p) == pytest.approx(roc_auc_score(y, p))
    # the evaluator predicts label 1 for score > 0.5 (strictly)
    assert metrics.medmnist_acc(y, p) == pytest.approx(accuracy_score(y, (p > 0.5).astype(int)))
    assert metrics.medmnist_acc([1, 0], [0.5, 0.5]) == 0.5  # 0.5 is predicted as label 0
    assert metrics.medmnist_auc(y, p[:, None]) == pytest.approx(metrics.medmnist_auc(y, p))  # Keras (N, 1)


def test_bootstrap_ci_covers_estimate_and_is_reproducible() -> None:
    y, p = _synthetic()
    ci = metrics.bootstrap_ci(metrics.medmnist_auc, y, p, n_boot=300, seed=1)
    assert ci.low <= ci.estimate <= ci.high
    assert ci.estimate == pytest.approx(roc_auc_score(y, p))
    assert ci.level == 0.95 and ci.n_boot == 300 and ci.n_failed == 0
    again = metrics.bootstrap_ci(metrics.medmnist_auc, y, p, n_boot=300, seed=1)
    assert again == ci
    # more data, narrower interval
    y2, p2 = _synthetic(n=4000)
    wide = ci.high - ci.low
    narrow = metrics.bootstrap_ci(metrics.medmnist_auc, y2, p2, n_boot=300, seed=1)
    assert narrow.high - narrow.low < wide
    assert set(ci.as_dict()) == {"estimate", "low", "high", "level", "n_boot", "n_failed"}


def test_paired_bootstrap_of_a_difference() -> None:
    y, p = _synthetic(n=500)
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


def test_bootstrap_ci_errors() -> None:
    y, p = _synthetic(n=50)
    with pytest.raises(ValueError, match="n_boot"):
        metrics.bootstrap_ci(metrics.medmnist_auc, y, p, n_boot=5)
    with pytest.raises(ValueError, match="level"):
        metrics.bootstrap_ci(metrics.medmnist_auc, y, p, level=1.5)
    with pytest.raises(ValueError, match="shape"):
        metrics.bootstrap_ci(metrics.medmnist_auc, y, p[:10])
    # two cases, one positive: most resamples hold a single class, AUC undefined
    with pytest.raises(ValueError, match="undefined"):
        metrics.bootstrap_ci(metrics.medmnist_auc, [0, 1], [0.2, 0.8], n_boot=100)


def test_choose_threshold_separates_separable_data() -> None:
    y = np.array([0] * 50 + [1] * 50)
    s = np.r_[np.linspace(0.0, 0.4, 50), np.linspace(0.6, 1.0, 50)]
    t = metrics.choose_threshold(y, s, "youden")
    assert 0.4 < t < 0.6
    op = metrics.threshold_metrics(y, s, t)
    assert op["sensitivity"] == 1.0 and op["specificity"] == 1.0 and op["accuracy"] == 1.0
    assert op["tn"] + op["fp"] + op["fn"] + op["tp"] == 100


def test_choose_threshold_target_rules() -> None:
    y, p = _synthetic(n=1000, shift=0.8)
    t_sens = metrics.choose_threshold(y, p, "sensitivity", target=0.95)
    assert metrics.threshold_metrics(y, p, t_sens)["sensitivity"] >= 0.95
    t_spec = metrics.choose_threshold(y, p, "specificity", target=0.9)
    assert metrics.threshold_metrics(y, p, t_spec)["specificity"] >= 0.9
    assert t_sens < metrics.choose_threshold(y, p, "youden") < t_spec
    with pytest.raises(ValueError, match="target"):
        metrics.choose_threshold(y, p, "sensitivity")
    with pytest.raises(ValueError, match="Unknown rule"):
        metrics.choose_threshold(y, p, "f1")
    with pytest.raises(ValueError, match="both classes"):
        metrics.choose_threshold(np.ones(5, int), np.linspace(0, 1, 5))


def test_reliability_curve_matches_sklearn() -> None:
    y, p = _synthetic(n=3000, shift=1.0)
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


def test_evaluate_binary_fields_and_positive_class() -> None:
    y, p = _synthetic(n=600, seed=1)
    yv, pv = _synthetic(n=300, seed=2)
    out = metrics.evaluate_binary(y, p, y_val=yv, p_val=pv, n_boot=100)
    assert out["n"] == 600
    assert out["auc_ci"][0] <= out["auc"] <= out["auc_ci"][1]
    assert out["acc_ci"][0] <= out["acc"] <= out["acc_ci"][1]
    op = out["operating_point"]
    assert op["positive"] == 1 and op["rule"] == "youden"
    # positive class 0: the same operating point seen from the other class
    out0 = metrics.evaluate_binary(y, p, y_val=yv, p_val=pv, n_boot=100, positive=0)
    assert out0["auc"] == out["auc"]
    op0 = out0["operating_point"]
    assert op0["sensitivity"] == pytest.approx(op["specificity"], abs=0.02)
    assert op0["specificity"] == pytest.approx(op["sensitivity"], abs=0.02)
    assert "operating_point" not in metrics.evaluate_binary(y, p, n_boot=100)
    with pytest.raises(ValueError, match="both"):
        metrics.evaluate_binary(y, p, y_val=yv)
    with pytest.raises(ValueError, match="positive"):
        metrics.evaluate_binary(y, p, positive=2)
