"""Evaluating a binary medical classifier as the MedMNIST benchmark does, and all at once.

Introduced in the chapter *The article's Keras classifier* (``chapters/keras_classifier``);
used again in *Beyond the article* (``chapters/beyond_article``) and by
:mod:`medtools.benchmark`. Re-exported by :mod:`medtools.metrics`.

* :func:`medmnist_auc`, :func:`medmnist_acc` — the test metrics exactly as the official
  MedMNIST evaluator computes them for a binary task (``medmnist/evaluator.py``:
  ROC-AUC of the label-1 score; accuracy of ``score > 0.5``), so results compare with
  the published benchmark (Yang et al. 2023).
* :func:`medmnist_evaluate` — ``(auc, acc)`` for every MedMNIST task type (binary,
  multi-class, ordinal regression, multi-label), as ``getAUC`` / ``getACC`` of the official
  evaluator define them; :func:`quadratic_weighted_kappa` and :func:`grade_confusion` for
  graded labels — chapter *Grading for treatment decisions* (``chapters/treatment_planning``).
* :func:`evaluate_binary` — these with bootstrap intervals (:mod:`medtools.metrics.bootstrap`),
  the calibration error (:mod:`medtools.metrics.calibration`) and an operating point chosen on
  validation data (:mod:`medtools.metrics.thresholds`), in one JSON-friendly dict.

Conventions: ``y_true`` shape ``(N,)`` labels in ``{0, 1}``; ``y_score`` / ``y_prob``
shape ``(N,)`` floats, larger = more likely label 1 (probabilities in [0, 1] where the
function says so). A column ``(N, 1)`` (MedMNIST labels, Keras ``predict()`` output) is
accepted and flattened.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from medtools.arrays import as_labels, as_scores, same_shape
from medtools.metrics.bootstrap import bootstrap_ci
from medtools.metrics.calibration import expected_calibration_error
from medtools.metrics.classification import roc_auc
from medtools.metrics.thresholds import choose_threshold, threshold_metrics

__all__ = [
    "MEDMNIST_TASKS",
    "evaluate_binary",
    "grade_confusion",
    "medmnist_acc",
    "medmnist_auc",
    "medmnist_evaluate",
    "quadratic_weighted_kappa",
]


def _labels_and_scores(y_true: ArrayLike, y_score: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y, s = as_labels(y_true, "y_true"), as_scores(y_score, "y_score")
    same_shape(y, s, "y_true", "y_score")
    return y, s


# ---------------------------------------------------------------------------
# The MedMNIST evaluator's metrics
# ---------------------------------------------------------------------------


def medmnist_auc(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """ROC-AUC of the label-1 score, as ``medmnist.Evaluator`` computes it for binary tasks.

    Args:
        y_true: ``(N,)`` labels in {0, 1}.
        y_score: ``(N,)`` (or Keras' ``(N, 1)``) score of label 1.
    """
    y, s = _labels_and_scores(y_true, y_score)
    return roc_auc(y, s)


def medmnist_acc(y_true: ArrayLike, y_score: ArrayLike, threshold: float = 0.5) -> float:
    """Accuracy of ``y_score > threshold`` (strictly greater, as in the MedMNIST evaluator).

    Args:
        y_true: ``(N,)`` labels in {0, 1}.
        y_score: ``(N,)`` probability of label 1.
        threshold: 0.5 in the published benchmark.
    """
    y, s = _labels_and_scores(y_true, y_score)
    return float(np.mean((s > threshold).astype(np.int64) == y))


# ---------------------------------------------------------------------------
# Everything at once
# ---------------------------------------------------------------------------


def evaluate_binary(
    y_test: ArrayLike,
    p_test: ArrayLike,
    *,
    y_val: ArrayLike | None = None,
    p_val: ArrayLike | None = None,
    positive: int = 1,
    rule: str = "youden",
    n_boot: int = 1000,
    seed: int = 0,
    n_bins: int = 10,
) -> dict[str, Any]:
    """The book's full evaluation of one model's test predictions, as a JSON-friendly dict.

    * ``auc``, ``acc``: :func:`medmnist_auc` and :func:`medmnist_acc` (label-1 score,
      ``> 0.5``), comparable with the MedMNIST benchmark; ``auc_ci``, ``acc_ci``:
      95 % percentile bootstrap intervals ``[low, high]`` (:func:`bootstrap_ci`).
    * ``ece``: :func:`expected_calibration_error` of the label-1 probability.
    * ``operating_point``: if validation predictions are given, the threshold chosen on
      them with ``rule`` (:func:`choose_threshold`) and the test sensitivity,
      specificity, PPV, NPV and confusion counts at that threshold
      (:func:`threshold_metrics`). Sensitivity refers to the *clinically positive* class
      ``positive``: for BreastMNIST label 0 (malignant) is positive, and the score of
      the positive class is ``1 - p``.

    Args:
        y_test, p_test: ``(N,)`` test labels and probabilities of label 1.
        y_val, p_val: ``(M,)`` validation labels and probabilities (optional).
        positive: the label of the clinically positive class (1 or 0).
        rule: threshold rule for :func:`choose_threshold`.
        n_boot, seed: bootstrap resamples and seed.
        n_bins: bins of the calibration error.
    """
    if positive not in (0, 1):
        raise ValueError(f"positive must be the label 0 or 1, got {positive!r}.")
    y, p = as_labels(y_test, "y_test"), as_scores(p_test, "p_test", prob=True)
    same_shape(y, p, "y_test", "p_test")
    auc_ci = bootstrap_ci(medmnist_auc, y, p, n_boot=n_boot, seed=seed)
    acc_ci = bootstrap_ci(medmnist_acc, y, p, n_boot=n_boot, seed=seed)
    out: dict[str, Any] = {
        "n": int(len(y)),
        "auc": auc_ci.estimate,
        "auc_ci": [auc_ci.low, auc_ci.high],
        "acc": acc_ci.estimate,
        "acc_ci": [acc_ci.low, acc_ci.high],
        "ece": expected_calibration_error(y, p, n_bins),
    }
    if (y_val is None) != (p_val is None):
        raise ValueError("give both y_val and p_val (or neither).")
    if y_val is not None and p_val is not None:
        yv, pv = as_labels(y_val, "y_val"), as_scores(p_val, "p_val", prob=True)
        same_shape(yv, pv, "y_val", "p_val")
        op: dict[str, Any]
        if positive == 1:
            t = choose_threshold(yv, pv, rule)
            op = dict(threshold_metrics(y, p, t))
        else:
            t = choose_threshold(1 - yv, 1.0 - pv, rule)
            op = dict(threshold_metrics(1 - y, 1.0 - p, t))
        op["rule"] = rule
        op["positive"] = int(positive)
        out["operating_point"] = op
    return out


# ---------------------------------------------------------------------------
# Every MedMNIST task type; graded labels (chapter treatment_planning)
# ---------------------------------------------------------------------------

#: The task names of the MedMNIST registry (``INFO[flag]["task"]``) that
#: :func:`medmnist_evaluate` accepts.
MEDMNIST_TASKS = ("binary-class", "multi-class", "ordinal-regression", "multi-label, binary-class")


def medmnist_evaluate(task: str, y_true: ArrayLike, y_score: ArrayLike, threshold: float = 0.5) -> tuple[float, float]:
    """Test AUC and ACC exactly as the official MedMNIST evaluator defines them, for any task.

    ``medmnist/evaluator.py`` (``getAUC``, ``getACC``):

    * ``"binary-class"``: AUC of the **last** score column (label 1); ACC of
      ``score > threshold`` (strictly). A 1-D score is read as that column.
    * ``"multi-class"`` and ``"ordinal-regression"``: the mean over classes ``k`` of the
      one-vs-rest AUC of column ``k`` (``y == k`` against the rest); ACC of the arg-max.
    * ``"multi-label, binary-class"``: the mean over labels of each label's AUC; the mean over
      labels of the accuracy of ``score >= threshold`` (the evaluator predicts 0 only
      below the threshold).

    Args:
        task: one of :data:`MEDMNIST_TASKS`.
        y_true: ``(N,)`` or ``(N, 1)`` integer labels; ``(N, L)`` 0/1 for multi-label.
        y_score: ``(N, K)`` scores per class (``(N,)`` or ``(N, 2)`` for binary; ``(N, L)``
            for multi-label). For an ordinal model with cumulative outputs, pass the class
            probabilities (:func:`medtools.models.cumulative_to_class_probs`).
        threshold: 0.5 in the published benchmark.

    Returns:
        ``(auc, acc)`` as floats.

    Raises:
        ValueError: an unknown ``task``, mismatched shapes, or a class without both
            positive and negative examples (its AUC is undefined).
    """
    if task not in MEDMNIST_TASKS:
        raise ValueError(f"task must be one of {MEDMNIST_TASKS}, got {task!r}.")
    s = np.asarray(y_score, dtype=np.float64)
    if task == "multi-label, binary-class":
        y = np.asarray(y_true)
        if y.ndim != 2 or s.shape != y.shape:
            raise ValueError(
                f"multi-label needs y_true and y_score of the same shape (N, L), got {y.shape} and {s.shape}."
            )
        aucs = [roc_auc(as_labels(y[:, i], f"y_true[:, {i}]"), s[:, i]) for i in range(y.shape[1])]
        accs = [float(np.mean((s[:, i] >= threshold).astype(np.int64) == y[:, i])) for i in range(y.shape[1])]
        return float(np.mean(aucs)), float(np.mean(accs))
    y = np.asarray(y_true).reshape(-1)
    if task == "binary-class":
        col = s.reshape(-1) if s.ndim == 1 or (s.ndim == 2 and s.shape[1] == 1) else s[:, -1]
        return medmnist_auc(y, col), medmnist_acc(y, col, threshold)
    if s.ndim != 2 or len(s) != len(y):
        raise ValueError(f"{task} needs y_score of shape (N, K) with N = {len(y)}, got {s.shape}.")
    k = s.shape[1]
    aucs = []
    for c in range(k):
        pos = (y == c).astype(np.int64)
        if pos.min() == pos.max():
            raise ValueError(f"class {c} has {'no' if pos.max() == 0 else 'only'} examples in y_true; its AUC is undefined.")
        aucs.append(roc_auc(pos, s[:, c]))
    return float(np.mean(aucs)), float(np.mean(np.argmax(s, axis=1) == y))


def grade_confusion(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> np.ndarray:
    """``(K, K)`` int64 confusion counts: row = true grade, column = predicted grade."""
    y, p = np.asarray(y_true).reshape(-1).astype(np.int64), np.asarray(y_pred).reshape(-1).astype(np.int64)
    if y.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {y.shape} and {p.shape}.")
    for name, v in (("y_true", y), ("y_pred", p)):
        if v.size and (v.min() < 0 or v.max() >= num_classes):
            raise ValueError(f"{name} must hold grades in [0, {num_classes - 1}], got {v.min()}..{v.max()}.")
    out = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(out, (y, p), 1)
    return out


def quadratic_weighted_kappa(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int | None = None) -> float:
    """Cohen's kappa with quadratic weights, the usual agreement score for graded labels.

    ``κ = 1 − Σ w_ij O_ij / Σ w_ij E_ij`` with ``w_ij = (i − j)² / (K − 1)²``, ``O`` the
    confusion counts (:func:`grade_confusion`) and ``E`` the counts expected by chance
    (outer product of the two marginals divided by N). 1 is perfect agreement, 0 the
    agreement of chance; a prediction two grades off costs four times one grade off.
    Equals scikit-learn's ``cohen_kappa_score(y_true, y_pred, weights="quadratic")``.

    Args:
        y_true, y_pred: ``(N,)`` integer grades in ``{0, …, K-1}``.
        num_classes: ``K``; default ``max(y_true, y_pred) + 1``.

    Returns:
        κ as a float (NaN-free: if both raters always give the same single grade, 1.0).
    """
    y, p = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    k = int(max(y.max(initial=0), p.max(initial=0)) + 1) if num_classes is None else int(num_classes)
    o = grade_confusion(y, p, k).astype(np.float64)
    n = o.sum()
    if n == 0:
        raise ValueError("quadratic_weighted_kappa needs at least one prediction.")
    e = np.outer(o.sum(axis=1), o.sum(axis=0)) / n
    i, j = np.indices((k, k))
    w = (i - j) ** 2 / max(k - 1, 1) ** 2
    den = float((w * e).sum())
    if den == 0:
        return 1.0
    return float(1.0 - (w * o).sum() / den)
