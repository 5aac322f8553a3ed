"""Binary cross-entropy and mean squared error from scratch in NumPy, matching Keras 3.

Introduced in chapter *The workflow: preprocessing, losses, optimisers, metrics*
(``chapters/workflow``), where each formula is derived, numbered and checked against
``keras.losses``. Re-exported by :mod:`medtools.reference`.

Both functions are pure (they never modify their inputs). ``y`` and the prediction have the
same, any, shape; the losses are computed in the floating dtype of the inputs, at least float32
(integer and bool inputs are promoted to float64), so float32 inputs give a float32 loss,
like Keras.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from medtools.arrays import as_float, same_shape, work_dtypes

__all__ = ["KERAS_EPSILON", "binary_crossentropy", "mse"]

#: ``keras.config.epsilon()``: the fuzz factor Keras uses to clip probabilities in
#: ``binary_crossentropy``; also the default ``epsilon`` of ``keras.optimizers.Adam``.
KERAS_EPSILON = 1e-7


def _pair(a: ArrayLike, b: ArrayLike, name_a: str, name_b: str) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` as floating arrays of the same shape and of one dtype (at least float32)."""
    a, b = as_float(a, name_a), as_float(b, name_b)
    same_shape(a, b, name_a, name_b)
    _, work = work_dtypes(a.dtype, b.dtype)
    return a.astype(work, copy=False), b.astype(work, copy=False)


def binary_crossentropy(
    y: ArrayLike, p: ArrayLike, eps: float = KERAS_EPSILON, *, reduce: bool = True
) -> float | np.ndarray:
    """Binary cross-entropy (negative Bernoulli log-likelihood) of probabilities ``p``.

    ``loss_i = -[y_i log p_i + (1 - y_i) log(1 - p_i)]`` with ``p`` first clipped to
    ``[eps, 1 - eps]``, exactly as Keras does for ``from_logits=False`` (so a confident
    wrong prediction costs at most ``-log(eps)``, about 16.1 for ``eps = 1e-7``).

    Args:
        y: targets, any shape, values in [0, 1] (usually 0/1 labels).
        p: predicted probabilities of class 1, same shape as ``y``.
        eps: clipping constant; ``0`` disables clipping (``p`` must then lie in (0, 1)).
        reduce: True: the mean over all elements (what ``keras.losses.BinaryCrossentropy()``
            returns for targets of shape ``(N,)`` or ``(N, k)``); False: the per-element losses.
    """
    y, p = _pair(y, p, "y", "p")
    if np.any((y < 0) | (y > 1)):
        raise ValueError("y must lie in [0, 1] (labels 0/1 or soft labels).")
    if np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise ValueError(
            "p must be probabilities in [0, 1]; if you have logits, apply a sigmoid first "
            "(or use keras.losses.BinaryCrossentropy(from_logits=True))."
        )
    if not 0 <= eps < 0.5:
        raise ValueError(f"eps must be in [0, 0.5), got {eps}.")
    if eps > 0:
        p = np.clip(p, eps, 1 - eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = -(y * np.log(p) + (1.0 - np.asarray(y)) * np.log(1.0 - np.asarray(p)))
    return float(np.mean(loss)) if reduce else loss


def mse(y: ArrayLike, yhat: ArrayLike, *, reduce: bool = True) -> float | np.ndarray:
    """Mean squared error ``mean((y - yhat)^2)``; with ``reduce=False`` the squared errors.

    ``y``, ``yhat``: same shape. The mean over all elements equals
    ``keras.losses.MeanSquaredError()(y, yhat)`` (mean over the last axis, then over the batch).
    """
    y, yhat = _pair(y, yhat, "y", "yhat")
    sq = (y - yhat) ** 2
    return float(np.mean(sq)) if reduce else sq
