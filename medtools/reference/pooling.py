"""Max and average pooling from scratch in NumPy, checked against Keras.

Introduced in the chapter *Convolutional networks* (``chapters/cnn``), which checks both
against ``keras.layers.MaxPooling2D`` and ``AveragePooling2D`` on real chest X-rays.
Re-exported by :mod:`medtools.reference`.

Images are channels-last ``(N, H, W, C)`` and floating point; ``pool`` and ``stride`` are an
int or a pair; ``padding`` is ``"valid"`` or ``"same"`` as Keras defines it (see
:mod:`medtools.reference.windows`). Each channel is pooled on its own; the result keeps the
dtype of ``x``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from medtools.arrays import as_images, as_pair
from medtools.reference.windows import pad_spatial, sliding_windows, window_geometry

__all__ = ["avg_pool2d", "max_pool2d"]


def _pool_setup(
    x: ArrayLike, pool: int | tuple[int, int], stride: int | tuple[int, int] | None, padding: str
) -> tuple[np.ndarray, int, int, int, int, list[tuple[int, int]]]:
    x = as_images(x)
    ph, pw = as_pair(pool, "pool")
    sh, sw, pads = window_geometry(x, ph, pw, pool if stride is None else stride, padding, "pool window")
    return x, ph, pw, sh, sw, pads


def max_pool2d(
    x: ArrayLike,
    pool: int | tuple[int, int] = 2,
    stride: int | tuple[int, int] | None = None,
    padding: str = "valid",
) -> np.ndarray:
    """Max pooling as Keras' ``MaxPooling2D``: :math:`y_{n,i,j,c} = \\max_{u,v} x_{n,s_h i+u,s_w j+v,c}`.

    Each channel is pooled on its own. With ``padding="same"`` the padded positions
    are ignored (padded with :math:`-\\infty`).

    Args:
        x: ``(N, H, W, C)`` floating images.
        pool: window size, int or pair (Keras ``pool_size``).
        stride: int or pair; None means ``pool`` (Keras' default).
        padding: ``"valid"`` or ``"same"``.

    Returns:
        ``(N, H_out, W_out, C)``, same dtype as ``x``.
    """
    x, ph, pw, sh, sw, pads = _pool_setup(x, pool, stride, padding)
    win = sliding_windows(pad_spatial(x, pads, value=-np.inf), ph, pw, sh, sw)
    return win.max(axis=(-2, -1))


def avg_pool2d(
    x: ArrayLike,
    pool: int | tuple[int, int] = 2,
    stride: int | tuple[int, int] | None = None,
    padding: str = "valid",
) -> np.ndarray:
    """Average pooling as Keras' ``AveragePooling2D``.

    :math:`y_{n,i,j,c} = \\frac{1}{|\\Omega_{ij}|}\\sum_{(u,v)\\in\\Omega_{ij}} x_{n,s_h i+u,s_w j+v,c}`,
    where :math:`\\Omega_{ij}` are the window positions that fall inside the image: with
    ``padding="same"`` the padded zeros are **not** counted (as in TensorFlow), so an
    edge window is the mean of its real pixels only.

    Arguments and result as in :func:`max_pool2d`.
    """
    x, ph, pw, sh, sw, pads = _pool_setup(x, pool, stride, padding)
    total = sliding_windows(pad_spatial(x, pads), ph, pw, sh, sw).sum(axis=(-2, -1))
    ones = np.ones((1,) + x.shape[1:3] + (1,), dtype=x.dtype)
    count = sliding_windows(pad_spatial(ones, pads), ph, pw, sh, sw).sum(axis=(-2, -1))
    return (total / count).astype(x.dtype, copy=False)
