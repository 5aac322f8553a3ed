"""Evaluating a binary medical classifier as the MedMNIST benchmark does, and all at once.

Introduced in the chapter *The article's Keras classifier* (``chapters/keras_classifier``);
used again in *Beyond the article* (``chapters/beyond_article``) and by
:mod:`medtools.benchmark`. Re-exported by :mod:`medtools.metrics`.

* :func:`medmnist_auc`, :func:`medmnist_acc` — the test metrics exactly as the official
  MedMNIST evaluator computes them for a binary task (``medmnist/evaluator.py``:
  ROC-AUC of the label-1 score; accuracy of ``score > 0.5``), so results compare with
  the published benchmark (Yang et al. 2023).
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

__all__ = ["evaluate_binary", "medmnist_acc", "medmnist_auc"]


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
    if y_val is not None:
        yv, pv = as_labels(y_val, "y_val"), as_scores(p_val, "p_val", prob=True)
        same_shape(yv, pv, "y_val", "p_val")
        if positive == 1:
            t = choose_threshold(yv, pv, rule)
            op = threshold_metrics(y, p, t)
        else:
            t = choose_threshold(1 - yv, 1.0 - pv, rule)
            op = threshold_metrics(1 - y, 1.0 - p, t)
        op["rule"] = rule
        op["positive"] = int(positive)
        out["operating_point"] = op
    return out
