"""Tests of medtools.metrics.evaluation (chapter keras_classifier): the MedMNIST evaluator's
metrics and the full evaluation of one model."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

from medtools import metrics


def test_medmnist_metrics_match_the_official_evaluator(synthetic_scores) -> None:
    y, p = synthetic_scores()
    assert metrics.medmnist_auc(y, p) == pytest.approx(roc_auc_score(y, p))
    # the evaluator predicts label 1 for score > 0.5 (strictly)
    assert metrics.medmnist_acc(y, p) == pytest.approx(accuracy_score(y, (p > 0.5).astype(int)))
    assert metrics.medmnist_acc([1, 0], [0.5, 0.5]) == 0.5  # 0.5 is predicted as label 0
    assert metrics.medmnist_auc(y, p[:, None]) == pytest.approx(metrics.medmnist_auc(y, p))  # Keras (N, 1)


def test_evaluate_binary_fields_and_positive_class(synthetic_scores) -> None:
    y, p = synthetic_scores(n=600, seed=1)
    yv, pv = synthetic_scores(n=300, seed=2)
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


def test_columns_are_flattened_and_other_shapes_refused(synthetic_scores) -> None:
    y, p = synthetic_scores(n=100)
    out = metrics.evaluate_binary(y[:, None], p[:, None], n_boot=20)  # MedMNIST labels, Keras predict()
    assert out["auc"] == metrics.medmnist_auc(y, p)
    with pytest.raises(ValueError, match=r"p_test must be 1-D with shape \(N,\).*got shape \(50, 2\)"):
        metrics.evaluate_binary(y[:50], p.reshape(50, 2))
    with pytest.raises(ValueError, match=r"y_true and y_score must have the same shape, got \(100,\) and \(99,\)"):
        metrics.medmnist_auc(y, p[:-1])
    assert metrics.medmnist_acc(np.array([[1], [0]]), np.array([[0.9], [0.2]])) == 1.0
