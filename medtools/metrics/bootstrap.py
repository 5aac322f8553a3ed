"""Percentile bootstrap confidence intervals of any metric (Efron & Tibshirani 1993).

Introduced in the chapter *The article's Keras classifier* (``chapters/keras_classifier``);
used again in *Beyond the article* (``chapters/beyond_article``) and, through
:func:`medtools.metrics.evaluate_binary`, by :mod:`medtools.benchmark`. Re-exported by
:mod:`medtools.metrics`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike

from medtools.arrays import as_1d

__all__ = ["BootstrapCI", "bootstrap_ci"]


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
    y_true: ArrayLike,
    y_score: ArrayLike,
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
    y = as_1d(y_true, "y_true")
    s = np.asarray(y_score)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if s.ndim not in (1, 2) or s.shape[0] != y.shape[0]:
        raise ValueError(
            f"y_score must have shape (N,) or (N, k) with N = {y.shape[0]} like y_true, got shape {s.shape}."
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
