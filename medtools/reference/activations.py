"""The logistic sigmoid and the softmax, in NumPy, written so that they never overflow.

:func:`sigmoid` is introduced in the chapter *Recurrent networks* (``chapters/rnn``), where it
is every gate of the LSTM and GRU; :func:`softmax` in the chapter *Self-attention*
(``chapters/attention``), where it turns attention scores into weights. Re-exported by
:mod:`medtools.reference`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from medtools.arrays import as_float, work_dtypes

__all__ = ["sigmoid", "softmax"]


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
