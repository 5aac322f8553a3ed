"""The logistic sigmoid and the softmax, in NumPy, written so that they never overflow.

:func:`sigmoid` is introduced in the chapter *Recurrent networks* (``chapters/rnn``), where it
is every gate of the LSTM and GRU; :func:`softmax` in the chapter *Self-attention*
(``chapters/attention``), where it turns attention scores into weights; :func:`logit`, the
sigmoid's inverse, in the chapter *Beyond the article* (``chapters/beyond_article``), for
temperature scaling. Re-exported by
:mod:`medtools.reference`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from medtools.arrays import as_float, work_dtypes

__all__ = ["logit", "sigmoid", "softmax"]


def sigmoid(a: ArrayLike) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-a))``, computed as ``(1 + tanh(a/2)) / 2``.

    The tanh form never overflows (``exp(-a)`` does for ``a < -88`` in float32) and keeps
    the dtype of ``a``.

    Args:
        a: any shape, float (integers give float64).

    Returns:
        Values in [0, 1], the shape and float dtype of ``a``.
    """
    a = np.asarray(a)
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def logit(p: ArrayLike, eps: float = 1e-7) -> np.ndarray:
    """The inverse of :func:`sigmoid`, ``log(p / (1 - p))``, on probabilities clipped to
    ``[eps, 1 - eps]`` (Keras' epsilon) so that 0 and 1 give finite values.

    Args:
        p: probabilities, any shape (computed in float64).
        eps: the clipping margin, in (0, 0.5).

    Returns:
        float64 logits, the shape of ``p``.

    Raises:
        ValueError: ``eps`` outside (0, 0.5), or a value of ``p`` outside [0, 1].
    """
    if not 0.0 < eps < 0.5:
        raise ValueError(f"eps must be in (0, 0.5), got {eps!r}.")
    q = np.asarray(p, dtype=np.float64)
    if q.size and (np.nanmin(q) < 0 or np.nanmax(q) > 1):
        raise ValueError("logit needs probabilities in [0, 1]; apply a sigmoid to scores first.")
    q = np.clip(q, eps, 1.0 - eps)
    return np.log(q) - np.log1p(-q)


def softmax(x: ArrayLike, axis: int = -1) -> np.ndarray:
    r"""Numerically stable softmax :math:`e^{x_i - \max_j x_j} / \sum_j e^{x_j - \max_j x_j}`.

    Subtracting the maximum leaves the result unchanged (numerator and denominator are
    multiplied by the same :math:`e^{-\max}`) and keeps every exponent :math:`\le 0`, so
    nothing overflows, even for inputs like ``1e4``.

    Entries equal to ``-inf`` get weight exactly 0 (this is how a mask is applied). A slice
    that is ``-inf`` everywhere has no defined softmax; it returns all zeros, the convention
    of ``keras.layers.Softmax`` for a fully masked row.

    Args:
        x: scores, any shape, float (ints promoted to float64). ``+inf`` and NaN are refused.
        axis: the axis that sums to one.

    Returns:
        Weights with the shape and (float) dtype of ``x``; each slice along ``axis`` sums to
        1 (or is all zero if it was all ``-inf``). float16 is computed in float32.
    """
    a = as_float(x, "x")
    if a.ndim == 0:
        raise ValueError("softmax needs at least one axis; got a scalar. Pass e.g. np.atleast_1d(x).")
    if not -a.ndim <= axis < a.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of shape {a.shape}.")
    if np.isnan(a).any() or np.isposinf(a).any():
        raise ValueError("softmax input contains NaN or +inf; only finite values and -inf (masked) are allowed.")
    out_dtype, work = work_dtypes(a.dtype)
    a = a.astype(work, copy=False)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)  # an all -inf slice: exp(-inf) = 0 below
    e = np.exp(a - m)
    s = np.sum(e, axis=axis, keepdims=True)
    w = np.divide(e, s, out=np.zeros_like(e), where=s > 0)
    return w.astype(out_dtype, copy=False)
