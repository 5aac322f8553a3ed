"""Choosing a decision threshold on validation data, and the confusion counts and rates at it.

Introduced in the chapter *The article's Keras classifier* (``chapters/keras_classifier``):
an operating point (e.g. Youden's J) is chosen on *validation* data, then applied unchanged
to the test split; used again in *Beyond the article* (``chapters/beyond_article``).
Re-exported by :mod:`medtools.metrics`.

Conventions: ``y`` shape ``(N,)`` (or ``(N, 1)``) labels in {0, 1}; scores shape ``(N,)``
(or ``(N, 1)``) floats, larger = more likely label 1; predict positive when ``score >= t``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from medtools.arrays import as_labels, as_scores, same_shape
from medtools.metrics.classification import confusion, roc_curve

__all__ = ["THRESHOLD_RULES", "choose_threshold", "threshold_metrics"]

#: The rules :func:`choose_threshold` accepts.
THRESHOLD_RULES = ("youden", "sensitivity", "specificity", "accuracy")


def choose_threshold(
    y_val: ArrayLike,
    s_val: ArrayLike,
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
    * ``"accuracy"`` — maximise the accuracy on the validation data (which depends on its
      class mix: chapter *Beyond the article*).

    The returned value lies halfway between the chosen score and the next lower distinct
    score (the ROC point is the same on the validation data, and the threshold does not
    sit exactly on one validation case). Never choose a threshold on the test split:
    the test estimate would then be optimistic.

    Args:
        y_val: ``(N,)`` validation labels in {0, 1} (both classes needed).
        s_val: ``(N,)`` validation scores of label 1.
        rule: one of ``"youden"``, ``"sensitivity"``, ``"specificity"``, ``"accuracy"``.
        target: required for ``"sensitivity"`` / ``"specificity"``, in (0, 1].

    Returns:
        The threshold ``t`` (a float).

    Raises:
        ValueError: unknown rule, missing or invalid ``target``, or one class missing.
    """
    if rule not in THRESHOLD_RULES:
        raise ValueError(f"Unknown rule {rule!r}; use one of {', '.join(THRESHOLD_RULES)}.")
    y, s = as_labels(y_val, "y_val"), as_scores(s_val, "s_val")
    same_shape(y, s, "y_val", "s_val")
    fpr, tpr, thr = roc_curve(y, s)  # thr[0] = inf, then distinct scores decreasing
    fpr, tpr, thr = fpr[1:], tpr[1:], thr[1:]
    if rule == "youden":
        k = int(np.argmax(tpr - fpr))  # first (highest-threshold) maximiser
    elif rule == "accuracy":
        prevalence = y.mean()
        k = int(np.argmax(prevalence * tpr + (1.0 - prevalence) * (1.0 - fpr)))
    else:
        if target is None or not 0.0 < target <= 1.0:
            raise ValueError(f"rule {rule!r} needs target in (0, 1], got {target!r}.")
        if rule == "sensitivity":
            k = int(np.flatnonzero(tpr >= target)[0])
        else:
            k = int(np.flatnonzero(1.0 - fpr >= target)[-1])
    lower = thr[k + 1] if k + 1 < len(thr) else thr[k] - 1.0
    return float((thr[k] + lower) / 2.0)


def threshold_metrics(y_true: ArrayLike, y_score: ArrayLike, threshold: float) -> dict[str, float | int]:
    """Confusion counts and rates when predicting positive for ``y_score >= threshold``.

    Returns:
        ``{"threshold", "tn", "fp", "fn", "tp", "sensitivity", "specificity", "ppv",
        "npv", "accuracy"}``; a rate whose denominator is 0 is returned as ``nan``.
    """
    y, s = as_labels(y_true, "y_true"), as_scores(y_score, "y_score")
    same_shape(y, s, "y_true", "y_score")
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
