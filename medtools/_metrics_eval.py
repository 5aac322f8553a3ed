"""Evaluating a binary medical classifier properly: benchmark metrics, uncertainty,
operating point and calibration.

Introduced in the chapter *The article's Keras classifier* (``chapters/keras_classifier``);
used again in *Beyond the article* (``chapters/beyond_article``) and by
:mod:`medtools.benchmark`. Re-exported by :mod:`medtools.metrics`.

* :func:`medmnist_auc`, :func:`medmnist_acc` — the test metrics exactly as the official
  MedMNIST evaluator computes them for a binary task (``medmnist/evaluator.py``:
  ROC-AUC of the label-1 score; accuracy of ``score > 0.5``), so results compare with
  the published benchmark (Yang et al. 2023).
* :func:`bootstrap_ci` — percentile bootstrap confidence interval of any metric
  (Efron & Tibshirani 1993).
* :func:`choose_threshold` / :func:`threshold_metrics` — an operating point chosen on
  *validation* data (e.g. Youden's J), then applied unchanged to the test split.
* :func:`reliability_curve` / :func:`expected_calibration_error` — calibration of the
  predicted probability (Guo et al. 2017).
* :func:`evaluate_binary` — all of the above in one JSON-friendly dict.

Conventions: ``y_true`` shape ``(N,)`` labels in ``{0, 1}``; ``y_score`` / ``y_prob``
shape ``(N,)`` floats, larger = more likely label 1 (probabilities in [0, 1] where the
function says so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from medtools._metrics_basic import confusion, roc_auc, roc_curve

__all__ = [
    "BootstrapCI",
    "bootstrap_ci",
    "choose_threshold",
    "evaluate_binary",
    "expected_calibration_error",
    "medmnist_acc",
    "medmnist_auc",
    "reliability_curve",
    "threshold_metrics",
]


def _labels(y: Any, name: str = "y_true") -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array (N,), got shape {arr.shape}.")
    if not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must hold only the labels 0 and 1; found {np.unique(arr)[:5].tolist()}.")
    return arr.astype(np.int64)


def _scores(s: Any, n: int, name: str = "y_score", prob: bool = False) -> np.ndarray:
    arr = np.asarray(s, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:  # Keras predict() output (N, 1)
        arr = arr[:, 0]
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) like the labels, got {arr.shape}.")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    if prob and (arr.min() < 0 or arr.max() > 1):
        raise ValueError(
            f"{name} must be probabilities in [0, 1] (got range [{arr.min():.3g}, {arr.max():.3g}]); "
            "apply a sigmoid to logits first."
        )
    return arr


# ---------------------------------------------------------------------------
# The MedMNIST evaluator's metrics
# ---------------------------------------------------------------------------


def medmnist_auc(y_true: Any, y_score: Any) -> float:
    """ROC-AUC of the label-1 score, as ``medmnist.Evaluator`` computes it for binary tasks.

    Args:
        y_true: ``(N,)`` labels in {0, 1}.
        y_score: ``(N,)`` (or Keras' ``(N, 1)``) score of label 1.
    """
    y = _labels(y_true)
    return roc_auc(y, _scores(y_score, len(y)))


def medmnist_acc(y_true: Any, y_score: Any, threshold: float = 0.5) -> float:
    """Accuracy of ``y_score > threshold`` (strictly greater, as in the MedMNIST evaluator).

    Args:
        y_true: ``(N,)`` labels in {0, 1}.
        y_score: ``(N,)`` probability of label 1.
        threshold: 0.5 in the published benchmark.
    """
    y = _labels(y_true)
    s = _scores(y_score, len(y))
    return float(np.mean((s > threshold).astype(np.int64) == y))


# ---------------------------------------------------------------------------
# Bootstrap confidence intervals
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BootstrapCI:
    """A point estimate with a percentile bootstrap confidence interval.

    Attributes:
        estimate: the metric on the full sample.
        low, high: the ``(1 - level) / 2`` and ``(1 + level) / 2`` percentiles of the
            bootstrap distribution.
        level: confidence level, e.g. 0.95.
        n_boot: resamples drawn.
        n_failed: resamples on which the metric was undefined (e.g. one class only
            for ROC-AUC) and which were left out.
    """

    estimate: float
    low: float
    high: float
    level: float
    n_boot: int
    n_failed: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def bootstrap_ci(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y_true: Any,
    y_score: Any,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> BootstrapCI:
    """Percentile bootstrap confidence interval of ``metric(y_true, y_score)``.

    The test set is a sample of patients; a metric computed on it is an estimate. The
    nonparametric bootstrap (Efron & Tibshirani 1993) resamples the ``N`` cases with
    replacement ``n_boot`` times, recomputes the metric on each resample, and takes the
    ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of these values as the
    interval (the *percentile method*). Resamples on which the metric raises
    ``ValueError`` (e.g. ROC-AUC of a resample with a single class) are left out and
    counted in ``n_failed``.

    Args:
        metric: ``f(y_true, y_score) -> float``, e.g. :func:`medmnist_auc`.
        y_true: ``(N,)`` labels.
        y_score: ``(N,)`` scores (or hard predictions, for metrics that take them), or
            ``(N, k)`` — e.g. the scores of two models, resampled together (a *paired*
            bootstrap of their difference).
        n_boot: number of resamples (1000 gives stable 95 % limits to about ±0.005
            for an AUC on 600 cases).
        seed: seed of the resampling (same seed, same interval).
        level: confidence level in (0, 1).

    Returns:
        :class:`BootstrapCI`.

    Raises:
        ValueError: bad ``n_boot`` / ``level``, mismatched lengths, or the metric is
            undefined on more than half of the resamples.
    """
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 10:
        raise ValueError(f"n_boot must be an int >= 10, got {n_boot!r}.")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}.")
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    s = np.asarray(y_score)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if y.ndim != 1 or s.ndim not in (1, 2) or s.shape[0] != y.shape[0]:
        raise ValueError(
            f"y_true must have shape (N,) and y_score (N,) or (N, k); got {y.shape} and {s.shape}."
        )
    estimate = float(metric(y, s))
    rng = np.random.default_rng(seed)
    values = []
    failed = 0
    n = len(y)
    for _ in range(int(n_boot)):
        idx = rng.integers(0, n, n)
        try:
            values.append(float(metric(y[idx], s[idx])))
        except ValueError:
            failed += 1
    if failed > n_boot // 2:
        raise ValueError(
            f"the metric was undefined on {failed} of {n_boot} resamples; the sample is too small "
            "or has too few cases of one class for a bootstrap interval."
        )
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(np.asarray(values), [alpha, 1.0 - alpha])
    return BootstrapCI(estimate, float(low), float(high), float(level), int(n_boot), failed)


# ---------------------------------------------------------------------------
# Operating point
# ---------------------------------------------------------------------------

THRESHOLD_RULES = ("youden", "sensitivity", "specificity")


def choose_threshold(
    y_val: Any,
    s_val: Any,
    rule: str = "youden",
    *,
    target: float | None = None,
) -> float:
    """Choose a decision threshold on VALIDATION data; predict positive when ``score >= t``.

    Rules:

    * ``"youden"`` — maximise Youden's J = sensitivity + specificity − 1 (the ROC point
      farthest above the diagonal).
    * ``"sensitivity"`` — the largest threshold whose sensitivity is at least ``target``
      (e.g. 0.95 for a screening test that must miss few patients).
    * ``"specificity"`` — the smallest threshold whose specificity is at least ``target``.

    The returned value lies halfway between the chosen score and the next lower distinct
    score (the ROC point is the same on the validation data, and the threshold does not
    sit exactly on one validation case). Never choose a threshold on the test split:
    the test estimate would then be optimistic.

    Args:
        y_val: ``(N,)`` validation labels in {0, 1} (both classes needed).
        s_val: ``(N,)`` validation scores of label 1.
        rule: one of ``"youden"``, ``"sensitivity"``, ``"specificity"``.
        target: required for ``"sensitivity"`` / ``"specificity"``, in (0, 1].

    Returns:
        The threshold ``t`` (a float).

    Raises:
        ValueError: unknown rule, missing or invalid ``target``, or one class missing.
    """
    if rule not in THRESHOLD_RULES:
        raise ValueError(f"Unknown rule {rule!r}; use one of {', '.join(THRESHOLD_RULES)}.")
    y = _labels(y_val, "y_val")
    s = _scores(s_val, len(y), "s_val")
    fpr, tpr, thr = roc_curve(y, s)  # thr[0] = inf, then distinct scores decreasing
    fpr, tpr, thr = fpr[1:], tpr[1:], thr[1:]
    if rule == "youden":
        k = int(np.argmax(tpr - fpr))  # first (highest-threshold) maximiser
    else:
        if target is None or not 0.0 < target <= 1.0:
            raise ValueError(f"rule {rule!r} needs target in (0, 1], got {target!r}.")
        if rule == "sensitivity":
            k = int(np.flatnonzero(tpr >= target)[0])
        else:
            k = int(np.flatnonzero(1.0 - fpr >= target)[-1])
    lower = thr[k + 1] if k + 1 < len(thr) else thr[k] - 1.0
    return float((thr[k] + lower) / 2.0)


def threshold_metrics(y_true: Any, y_score: Any, threshold: float) -> dict[str, float | int]:
    """Confusion counts and rates when predicting positive for ``y_score >= threshold``.

    Returns:
        ``{"threshold", "tn", "fp", "fn", "tp", "sensitivity", "specificity", "ppv",
        "npv", "accuracy"}``; a rate whose denominator is 0 is returned as ``nan``.
    """
    y = _labels(y_true)
    s = _scores(y_score, len(y))
    tn, fp, fn, tp = confusion(y, (s >= threshold).astype(np.int64))

    def rate(a: int, b: int) -> float:
        return a / (a + b) if a + b else float("nan")

    return {
        "threshold": float(threshold),
        "tn": tn,
        "fp": fp,
        "fn": fn,
        "tp": tp,
        "sensitivity": rate(tp, fn),
        "specificity": rate(tn, fp),
        "ppv": rate(tp, fp),
        "npv": rate(tn, fn),
        "accuracy": (tp + tn) / len(y),
    }


# ---------------------------------------------------------------------------
# Calibration
# ---------------------------------------------------------------------------


def reliability_curve(
    y_true: Any, y_prob: Any, n_bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean predicted probability and observed frequency of label 1 per probability bin.

    The interval [0, 1] is cut into ``n_bins`` equal-width bins; a probability on an
    inner edge goes to the lower bin (as ``sklearn.calibration.calibration_curve`` with
    ``strategy="uniform"``). Empty bins are dropped.

    Args:
        y_true: ``(N,)`` labels in {0, 1}.
        y_prob: ``(N,)`` predicted probabilities of label 1, in [0, 1].
        n_bins: number of bins (>= 1).

    Returns:
        ``(mean_prob, frac_pos, counts)``, each ``(B,)`` for the ``B`` non-empty bins:
        the mean predicted probability, the fraction of label-1 cases, and the number
        of cases in each bin. A perfectly calibrated model has ``frac_pos ≈ mean_prob``.
    """
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive int, got {n_bins!r}.")
    y = _labels(y_true)
    p = _scores(y_prob, len(y), "y_prob", prob=True)
    edges = np.linspace(0.0, 1.0, int(n_bins) + 1)
    ids = np.searchsorted(edges[1:-1], p, side="left")
    counts = np.bincount(ids, minlength=n_bins)
    sum_p = np.bincount(ids, weights=p, minlength=n_bins)
    sum_y = np.bincount(ids, weights=y, minlength=n_bins)
    keep = counts > 0
    return sum_p[keep] / counts[keep], sum_y[keep] / counts[keep], counts[keep]


def expected_calibration_error(y_true: Any, y_prob: Any, n_bins: int = 10) -> float:
    """Expected calibration error of the label-1 probability with equal-width bins.

    ``ECE = sum_b (n_b / N) * |frac_pos_b - mean_prob_b|`` over the bins of
    :func:`reliability_curve` (Guo et al. 2017 define it with the confidence of the
    predicted class; for a binary model, using the label-1 probability is the common
    variant drawn in a reliability diagram). 0 means perfectly calibrated.

    Args:
        y_true: ``(N,)`` labels in {0, 1}.
        y_prob: ``(N,)`` probabilities of label 1.
        n_bins: number of equal-width bins.
    """
    mean_p, frac, counts = reliability_curve(y_true, y_prob, n_bins)
    return float(np.sum(counts / counts.sum() * np.abs(frac - mean_p)))


# ---------------------------------------------------------------------------
# Everything at once
# ---------------------------------------------------------------------------


def evaluate_binary(
    y_test: Any,
    p_test: Any,
    *,
    y_val: Any | None = None,
    p_val: Any | None = None,
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
    y = _labels(y_test, "y_test")
    p = _scores(p_test, len(y), "p_test", prob=True)
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
        yv = _labels(y_val, "y_val")
        pv = _scores(p_val, len(yv), "p_val", prob=True)
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
