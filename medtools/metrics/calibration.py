"""Calibration of a predicted probability: reliability curve and expected calibration error.

Introduced in the chapter *The article's Keras classifier* (``chapters/keras_classifier``)
(Guo et al. 2017); used again in *Beyond the article* (``chapters/beyond_article``) and drawn
by :func:`medtools.plots.reliability_diagram`. Re-exported by :mod:`medtools.metrics`.

Conventions: ``y_true`` shape ``(N,)`` (or ``(N, 1)``) labels in {0, 1}; ``y_prob`` shape ``(N,)``
(or ``(N, 1)``) probabilities of label 1 in [0, 1].
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from medtools.arrays import as_labels, as_scores, same_shape

__all__ = ["expected_calibration_error", "reliability_curve"]


def reliability_curve(
    y_true: ArrayLike, y_prob: ArrayLike, n_bins: int = 10
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
    y, p = as_labels(y_true, "y_true"), as_scores(y_prob, "y_prob", prob=True)
    same_shape(y, p, "y_true", "y_prob")
    edges = np.linspace(0.0, 1.0, int(n_bins) + 1)
    ids = np.searchsorted(edges[1:-1], p, side="left")
    counts = np.bincount(ids, minlength=n_bins)
    sum_p = np.bincount(ids, weights=p, minlength=n_bins)
    sum_y = np.bincount(ids, weights=y, minlength=n_bins)
    keep = counts > 0
    return sum_p[keep] / counts[keep], sum_y[keep] / counts[keep], counts[keep]


def expected_calibration_error(y_true: ArrayLike, y_prob: ArrayLike, n_bins: int = 10) -> float:
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
