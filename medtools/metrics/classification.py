"""Binary classification metrics from scratch in NumPy.

Introduced in chapter *The workflow: preprocessing, losses, optimisers, metrics*
(``chapters/workflow``), where each metric is defined as a numbered equation and checked
against scikit-learn on real PneumoniaMNIST predictions. Re-exported by :mod:`medtools.metrics`.

Conventions (all functions):

* ``y_true``: shape ``(N,)``, integer (or bool) labels in ``{0, 1}``; 1 is the positive class
  (e.g. *pneumonia*). ``y_pred``: shape ``(N,)``, hard predictions in ``{0, 1}``.
  ``y_score``: shape ``(N,)``, finite real scores (probabilities or logits); larger means
  "more positive". ``N >= 1``. A column ``(N, 1)`` (MedMNIST labels, Keras ``predict()``
  output) is accepted and flattened; other shapes are refused (see :mod:`medtools.arrays`).
* Ratios whose denominator is zero (``0/0``), e.g. precision when nothing is predicted
  positive, are returned as ``0.0``. This is scikit-learn's result with its default
  ``zero_division="warn"`` (we return the same value without the warning).
* ``roc_curve`` / ``roc_auc`` need both classes in ``y_true`` (otherwise the false or true
  positive rate is 0/0 and the area is undefined); ``pr_curve`` / ``pr_auc`` need at least one
  positive. Both raise :class:`ValueError` otherwise.
* ``pr_auc`` is the *average precision* (AP), the step-wise sum
  :math:`\\sum_n (R_n - R_{n-1}) P_n` used by scikit-learn's ``average_precision_score``;
  not the trapezoidal area under the precision-recall curve (which is optimistic).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from medtools.arrays import as_labels, as_scores, same_shape

__all__ = [
    "confusion",
    "accuracy",
    "precision",
    "recall",
    "sensitivity",
    "specificity",
    "f1",
    "roc_curve",
    "roc_auc",
    "pr_curve",
    "pr_auc",
]


def _ratio(num: int, den: int) -> float:
    """``num / den``, with the convention ``0/0 = 0.0`` (see module docstring)."""
    return float(num) / float(den) if den else 0.0


def confusion(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[int, int, int, int]:
    """Confusion-matrix counts ``(tn, fp, fn, tp)`` as Python ints.

    ``y_true``, ``y_pred``: shape ``(N,)``, labels in ``{0, 1}``. Same order as
    ``sklearn.metrics.confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel()``.
    """
    t = as_labels(y_true, "y_true")
    p = as_labels(y_pred, "y_pred")
    same_shape(t, p, "y_true", "y_pred")
    tp = int(np.sum((t == 1) & (p == 1)))
    tn = int(np.sum((t == 0) & (p == 0)))
    fp = int(np.sum((t == 0) & (p == 1)))
    fn = int(np.sum((t == 1) & (p == 0)))
    return tn, fp, fn, tp


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Fraction of correct predictions, ``(tp + tn) / N``."""
    tn, fp, fn, tp = confusion(y_true, y_pred)
    return _ratio(tp + tn, tn + fp + fn + tp)


def precision(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Positive predictive value ``tp / (tp + fp)``; ``0.0`` when nothing is predicted positive."""
    _, fp, _, tp = confusion(y_true, y_pred)
    return _ratio(tp, tp + fp)


def recall(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Recall = sensitivity = true positive rate ``tp / (tp + fn)``; ``0.0`` without positives."""
    _, _, fn, tp = confusion(y_true, y_pred)
    return _ratio(tp, tp + fn)


sensitivity = recall


def specificity(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """True negative rate ``tn / (tn + fp)``; ``0.0`` without negatives."""
    tn, fp, _, _ = confusion(y_true, y_pred)
    return _ratio(tn, tn + fp)


def f1(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Harmonic mean of precision and recall, ``2 tp / (2 tp + fp + fn)``.

    ``0.0`` when ``tp + fp + fn == 0`` (no positives and none predicted).
    """
    _, fp, fn, tp = confusion(y_true, y_pred)
    return _ratio(2 * tp, 2 * tp + fp + fn)


def _cumulative_counts(y_true: ArrayLike, y_score: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True/false positives when thresholding at each distinct score (descending).

    Returns ``(fps, tps, thresholds)``, each shape ``(K,)`` for ``K`` distinct scores:
    predicting "positive" for ``y_score >= thresholds[k]`` gives ``fps[k]`` false and
    ``tps[k]`` true positives. Tied scores move together (one step per distinct value).
    """
    t = as_labels(y_true, "y_true")
    s = as_scores(y_score, "y_score")
    same_shape(t, s, "y_true", "y_score")
    order = np.argsort(-s, kind="mergesort")
    s, t = s[order], t[order]
    # last index of each run of equal scores
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    tps = np.cumsum(t)[last]
    fps = (last + 1) - tps
    return fps.astype(np.float64), tps.astype(np.float64), s[last]


def roc_curve(y_true: ArrayLike, y_score: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Receiver operating characteristic: ``(fpr, tpr, thresholds)``, each shape ``(K + 1,)``.

    One point per distinct score plus the origin: ``thresholds[0] = inf`` (nothing predicted
    positive), then the distinct scores in decreasing order. Equals
    ``sklearn.metrics.roc_curve(y_true, y_score, drop_intermediate=False)``.
    Raises ``ValueError`` unless ``y_true`` contains both classes.
    """
    fps, tps, thr = _cumulative_counts(y_true, y_score)
    if tps[-1] == 0 or fps[-1] == 0:
        raise ValueError(
            "roc_curve/roc_auc need both classes in y_true (found only "
            f"{'negatives' if tps[-1] == 0 else 'positives'}); the ROC is undefined. "
            "Evaluate on a split that contains positives and negatives."
        )
    fpr = np.r_[0.0, fps / fps[-1]]
    tpr = np.r_[0.0, tps / tps[-1]]
    return fpr, tpr, np.r_[np.inf, thr]


def roc_auc(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Area under the ROC curve by the trapezoidal rule.

    Ties in ``y_score`` give a diagonal segment, so this equals the Mann-Whitney estimate
    ``P(score_pos > score_neg) + 0.5 * P(score_pos == score_neg)``, and
    ``sklearn.metrics.roc_auc_score``. Needs both classes (``ValueError`` otherwise).
    """
    fpr, tpr, _ = roc_curve(y_true, y_score)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def pr_curve(y_true: ArrayLike, y_score: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision-recall curve ``(precision, recall, thresholds)``, scikit-learn's layout.

    ``thresholds``: the ``K`` distinct scores in *increasing* order; ``precision[k]`` and
    ``recall[k]`` are obtained by predicting positive for ``y_score >= thresholds[k]``;
    a final point ``(precision, recall) = (1, 0)`` with no threshold is appended, so both have
    shape ``(K + 1,)``. Equals ``sklearn.metrics.precision_recall_curve`` (default
    ``drop_intermediate=False``; checked with scikit-learn 1.9). Needs at least one positive (``ValueError`` otherwise).
    """
    fps, tps, thr = _cumulative_counts(y_true, y_score)
    if tps[-1] == 0:
        raise ValueError(
            "pr_curve/pr_auc need at least one positive in y_true; recall is 0/0 otherwise."
        )
    prec = tps / (tps + fps)  # tps + fps >= 1 at every distinct score
    rec = tps / tps[-1]
    return np.r_[prec[::-1], 1.0], np.r_[rec[::-1], 0.0], thr[::-1].copy()


def pr_auc(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Average precision ``AP = sum_n (R_n - R_{n-1}) P_n`` over decreasing thresholds.

    The step-wise (not trapezoidal) area of scikit-learn's ``average_precision_score``: each
    gain in recall is weighted by the precision at that threshold. A random scorer has
    expected AP close to the prevalence of the positive class. Needs at least one positive.
    """
    prec, rec, _ = pr_curve(y_true, y_score)
    return float(max(0.0, -np.sum(np.diff(rec) * prec[:-1])))
