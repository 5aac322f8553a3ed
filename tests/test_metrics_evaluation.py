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


# --- every MedMNIST task type; graded labels (chapter treatment_planning) ---------------


def _official_get_auc(y_true, y_score, task):
    """``getAUC`` of ``medmnist/evaluator.py`` (MedMNIST v2), restated with scikit-learn."""
    if task == "binary-class":
        return roc_auc_score(y_true, y_score[:, -1])
    if task == "multi-label, binary-class":
        return np.mean([roc_auc_score(y_true[:, i], y_score[:, i]) for i in range(y_score.shape[1])])
    return np.mean([roc_auc_score((y_true == i).astype(int), y_score[:, i]) for i in range(y_score.shape[1])])


def _official_get_acc(y_true, y_score, task, threshold=0.5):
    """``getACC`` of ``medmnist/evaluator.py``, restated."""
    if task == "multi-label, binary-class":
        y_pre = np.where(y_score < threshold, 0, 1)
        return np.mean([accuracy_score(y_true[:, i], y_pre[:, i]) for i in range(y_true.shape[1])])
    if task == "binary-class":
        return accuracy_score(y_true, (y_score[:, -1] > threshold).astype(int))
    return accuracy_score(y_true, np.argmax(y_score, axis=1))


@pytest.mark.parametrize("task", ["binary-class", "multi-class", "ordinal-regression", "multi-label, binary-class"])
def test_medmnist_evaluate_matches_the_official_evaluator(task) -> None:
    rng = np.random.default_rng(3)
    n = 400
    if task == "binary-class":
        y = rng.integers(0, 2, n)
        p1 = np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1)
        s = np.c_[1 - p1, p1]
        s[:5, 1] = 0.5  # exactly at the threshold: predicted 0
    elif task == "multi-label, binary-class":
        y = rng.integers(0, 2, (n, 4))
        s = np.clip(0.3 * y + rng.random((n, 4)) * 0.7, 0, 1)
        s[:5, 0] = 0.5  # exactly at the threshold: predicted 1 in multi-label
    else:
        y = rng.integers(0, 5, n)
        s = rng.dirichlet(np.ones(5), n) + 0.2 * np.eye(5)[y]
    auc, acc = metrics.medmnist_evaluate(task, y, s)
    assert auc == pytest.approx(_official_get_auc(y, s, task), abs=1e-12)
    assert acc == pytest.approx(_official_get_acc(y, s, task), abs=1e-12)
    if task != "multi-label, binary-class":  # MedMNIST labels come as (N, 1)
        assert metrics.medmnist_evaluate(task, y[:, None], s) == (auc, acc)


def test_medmnist_evaluate_binary_accepts_one_column_and_refuses_bad_input() -> None:
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.2, 0.8, 0.6, 0.4, 0.5])
    assert metrics.medmnist_evaluate("binary-class", y, p) == (metrics.medmnist_auc(y, p), metrics.medmnist_acc(y, p))
    with pytest.raises(ValueError, match="task must be one of"):
        metrics.medmnist_evaluate("regression", y, p)
    with pytest.raises(ValueError, match="class 2 has no examples"):
        metrics.medmnist_evaluate("multi-class", [0, 1, 0, 1], np.eye(3)[[0, 1, 0, 1]])
    with pytest.raises(ValueError, match=r"shape \(N, K\)"):
        metrics.medmnist_evaluate("ordinal-regression", [0, 1, 2], np.ones((4, 3)))
    with pytest.raises(ValueError, match="same shape"):
        metrics.medmnist_evaluate("multi-label, binary-class", np.ones((3, 2)), np.ones((3, 3)))


def test_quadratic_weighted_kappa_matches_scikit_learn() -> None:
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(4)
    for _ in range(5):
        y = rng.integers(0, 5, 200)
        p = np.clip(y + rng.integers(-2, 3, 200), 0, 4)
        assert metrics.quadratic_weighted_kappa(y, p, 5) == pytest.approx(
            cohen_kappa_score(y, p, weights="quadratic"), abs=1e-12
        )
    y = rng.integers(0, 5, 100)
    assert metrics.quadratic_weighted_kappa(y, y) == 1.0
    assert metrics.quadratic_weighted_kappa(y, np.full_like(y, 2), 5) == pytest.approx(0.0)
    assert metrics.quadratic_weighted_kappa([1, 1], [1, 1]) == 1.0  # no spread at all: defined as 1
    # a worse grader scores lower: two grades off on one case is worse than one grade off
    assert metrics.quadratic_weighted_kappa([0, 2, 4, 2], [2, 2, 4, 2], 5) < metrics.quadratic_weighted_kappa(
        [0, 2, 4, 2], [1, 2, 4, 2], 5
    )


def test_grade_confusion_counts_and_checks() -> None:
    cm = metrics.grade_confusion([0, 1, 2, 2], [0, 2, 2, 1], 3)
    assert cm.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 1]]
    with pytest.raises(ValueError, match="grades in"):
        metrics.grade_confusion([0, 3], [0, 1], 3)
    with pytest.raises(ValueError, match="same length"):
        metrics.grade_confusion([0, 1], [0], 3)
    assert metrics.MEDMNIST_TASKS == ("binary-class", "multi-class", "ordinal-regression", "multi-label, binary-class")
