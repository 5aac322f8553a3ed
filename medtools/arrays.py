"""Checking and converting array arguments: the input rules of the whole package, in one place.

No chapter shows this module. It backs the from-scratch NumPy code of :mod:`medtools.reference`
(first used in the chapter *Core concepts*, ``chapters/concepts``) and the metrics of
:mod:`medtools.metrics` (chapter *The workflow*, ``chapters/workflow``), so that the same mistake
gets the same message everywhere. Every message names the argument, says what was received and
what to pass instead.

Rules:

* **Floating arrays** (:func:`as_float`): float16/32/64 are kept; integers and bools are promoted
  to float64; strings, objects and complex numbers are refused (``TypeError``).
* **Images** (:func:`as_images`): channels-last ``(N, H, W, C)``, floating point.
* **Per-sample vectors** (:func:`as_1d`, :func:`as_labels`, :func:`as_scores`): shape ``(N,)``;
  a column ``(N, 1)`` — MedMNIST labels, Keras ``predict()`` output — is flattened to ``(N,)``;
  any other shape is refused (``ValueError``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

__all__ = [
    "as_1d",
    "as_float",
    "as_images",
    "as_labels",
    "as_pair",
    "as_scores",
    "same_shape",
    "work_dtypes",
]


def as_float(x: ArrayLike, name: str) -> np.ndarray:
    """``x`` as a real floating array of any shape.

    Args:
        x: numbers of any shape; float16/32/64 keep their dtype, integers and bools become
            float64.
        name: the argument's name, for the error message.

    Raises:
        TypeError: ``x`` is not numeric (strings, objects) or is complex.
    """
    a = np.asarray(x)
    if np.issubdtype(a.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got complex dtype {a.dtype}; pass np.real({name}) or np.abs({name}).")
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
        raise TypeError(f"{name} must be a numeric array, got dtype {a.dtype}; convert it with np.asarray(..., float).")
    if not np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float64)
    return a


def work_dtypes(*dtypes: DTypeLike) -> tuple[np.dtype, np.dtype]:
    """``(output dtype, computation dtype)`` for inputs of ``dtypes``: float16 is computed in float32.

    The output dtype is ``np.result_type(*dtypes)``; the computation dtype is at least float32,
    so float16 inputs do not lose precision in sums and exponentials and are rounded once at the end.
    """
    out = np.result_type(*dtypes)
    return out, np.result_type(out, np.float32)


def as_images(x: ArrayLike, name: str = "x") -> np.ndarray:
    """``x`` as a batch of channels-last images ``(N, H, W, C)``, floating point (dtype kept).

    Raises:
        ValueError: ``x`` is not 4-D (the message says how to add the batch / channel axis).
        TypeError: ``x`` is not floating point (e.g. uint8 images: use ``medtools.data.to_float``).
    """
    a = np.asarray(x)
    if a.ndim != 4:
        hint = " Add a batch axis with x[None] and/or a channel axis with x[..., None]." if a.ndim in (2, 3) else ""
        raise ValueError(f"{name} must have shape (N, H, W, C) (channels last), got shape {a.shape}.{hint}")
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(
            f"{name} must be floating point, got dtype {a.dtype}. Convert uint8 images with "
            f"medtools.data.to_float(x) or x.astype(np.float32)."
        )
    return a


def as_pair(value: Any, name: str) -> tuple[int, int]:
    """A positive int ``k`` or a pair ``(k_rows, k_cols)`` → a pair of positive Python ints.

    Raises:
        TypeError: ``value`` is not an int or a pair of ints (bools and floats are refused).
        ValueError: an entry is < 1.
    """

    def is_int(v: Any) -> bool:
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    if is_int(value):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{name} must be a positive int or a pair of positive ints, got {value!r}.")
    if min(pair) < 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}.")
    return pair


def as_1d(a: ArrayLike, name: str) -> np.ndarray:
    """One value per sample: ``(N,)`` as is, a column ``(N, 1)`` flattened to ``(N,)`` (dtype kept).

    Raises:
        ValueError: any other shape, or ``N == 0``.
    """
    arr = np.asarray(a)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D with shape (N,) (a column (N, 1) is flattened), got shape {arr.shape}. "
            "Pass one value per sample, e.g. y[:, k] for column k of a multi-column array."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty; metrics need at least one sample.")
    return arr


def as_labels(y: ArrayLike, name: str = "y_true") -> np.ndarray:
    """Binary labels ``(N,)`` or ``(N, 1)`` in {0, 1} (ints, floats or bools) → int64 ``(N,)``.

    Raises:
        ValueError: wrong shape, empty, not numeric, or a value other than 0 and 1.
    """
    arr = as_1d(y, name)
    if arr.dtype == np.bool_:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must be numeric 0/1 labels, got dtype {arr.dtype}.")
    bad = ~np.isin(arr, (0, 1))
    if bad.any():
        found = np.unique(arr[bad])[:5]
        raise ValueError(
            f"{name} must contain only the binary labels 0 and 1; found {found.tolist()}. "
            "For scores or probabilities use a threshold first (e.g. (p >= 0.5).astype(int)); "
            "for multi-class labels binarise one class against the rest."
        )
    return arr.astype(np.int64)


def as_scores(s: ArrayLike, name: str = "y_score", *, prob: bool = False) -> np.ndarray:
    """Finite real scores ``(N,)`` or ``(N, 1)`` (Keras ``predict()`` output) → float64 ``(N,)``.

    Args:
        s: one score per sample, larger = more likely label 1.
        name: the argument's name, for the error message.
        prob: also require probabilities in [0, 1].

    Raises:
        ValueError: wrong shape, empty, not numeric, NaN or infinite values, or (``prob``)
            a value outside [0, 1].
    """
    arr = as_1d(s, name)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_) or np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real numeric scores, got dtype {arr.dtype}.")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; remove or fix them first.")
    if prob and (arr.min() < 0 or arr.max() > 1):
        raise ValueError(
            f"{name} must be probabilities in [0, 1] (got range [{arr.min():.3g}, {arr.max():.3g}]); "
            "apply a sigmoid to logits first."
        )
    return arr


def same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same shape (message names both)."""
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}.")
