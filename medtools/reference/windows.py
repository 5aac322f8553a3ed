"""Padding, output sizes and sliding windows of 2-D convolution and pooling, as Keras defines them.

Introduced in the chapter *Convolutional networks* (``chapters/cnn``), which derives the
output-size formula and Keras' ``"same"`` padding (the article's §3.3.1 lost them); the
chapter *Core concepts* (``chapters/concepts``) already uses :func:`conv_output_size`.
The shared machinery of :mod:`medtools.reference.conv` and :mod:`medtools.reference.pooling`;
re-exported by :mod:`medtools.reference`.

Conventions:

* Images are **channels-last**, as in Keras: ``(N, H, W, C)``.
* ``stride`` and window sizes are an int or a pair ``(rows, cols)``.
* ``padding`` is ``"valid"`` (no padding) or ``"same"`` as Keras/TensorFlow define
  it: the output has ``ceil(n / stride)`` rows, and the total padding
  ``max((ceil(n/s) - 1) * s + k - n, 0)`` is split with the smaller half on the
  top/left and the extra row/column on the bottom/right (asymmetric when odd).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from medtools.arrays import as_pair

__all__ = [
    "CONV_PADDINGS",
    "conv_output_size",
    "pad_spatial",
    "same_padding",
    "sliding_windows",
    "window_geometry",
]

#: The padding modes Keras' ``Conv2D`` and pooling layers accept.
CONV_PADDINGS = ("valid", "same")


def _padding(padding: str) -> str:
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in CONV_PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same' (as in Keras), got {padding!r}.")
    return mode


def same_padding(n: int, k: int, stride: int = 1) -> tuple[int, int]:
    """Rows (or columns) of zeros Keras adds before and after for ``padding="same"``.

    The output has :math:`n_\\text{out} = \\lceil n/s \\rceil` rows; the last window
    must end inside the padded input, so the total padding is
    :math:`p = \\max((n_\\text{out}-1)s + k - n,\\ 0)`, split as
    ``(p // 2, p - p // 2)``: when ``p`` is odd the extra row goes at the **end**
    (bottom / right), as in TensorFlow.

    Args:
        n: input size along one axis (>= 1).
        k: kernel (or pool window) size along that axis (>= 1).
        stride: step along that axis (>= 1).

    Returns:
        ``(before, after)`` padding, two non-negative ints.
    """
    for value, name in ((n, "n"), (k, "k"), (stride, "stride")):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}.")
    n_out = -(-n // stride)  # ceil(n / stride)
    total = max((n_out - 1) * stride + k - n, 0)
    return total // 2, total - total // 2


def conv_output_size(n: int, k: int, stride: int = 1, padding: str = "valid") -> int:
    """Output size of a convolution or pooling along one axis.

    :math:`n_\\text{out} = \\lfloor (n + p_\\text{before} + p_\\text{after} - k)/s \\rfloor + 1`;
    for ``"valid"`` (no padding) this is :math:`\\lfloor (n-k)/s \\rfloor + 1`, for
    ``"same"`` it is :math:`\\lceil n/s \\rceil`.

    Args:
        n: input size (>= 1); k: kernel/window size (>= 1); stride: step (>= 1);
        padding: ``"valid"`` or ``"same"``.

    Raises:
        ValueError: non-positive sizes, unknown padding, or a ``"valid"`` window
            larger than the input (the output would be empty).
    """
    padding = _padding(padding)
    before, after = same_padding(n, k, stride)  # also checks n, k, stride
    if padding == "valid":
        before = after = 0
    if padding == "valid" and k > n:
        raise ValueError(
            f"A window of size {k} does not fit in an input of size {n} with padding='valid' "
            f"(the output would be empty). Use a smaller kernel/pool, a larger input, or padding='same'."
        )
    return (n + before + after - k) // stride + 1


def window_geometry(
    x: np.ndarray, kh: int, kw: int, stride: int | tuple[int, int], padding: str, what: str = "kernel"
) -> tuple[int, int, list[tuple[int, int]]]:
    """Strides and paddings of a ``kh`` × ``kw`` window sliding over images ``x`` ``(N, H, W, C)``.

    Args:
        x: the images (only ``H`` and ``W`` are read).
        kh, kw: window size.
        stride: int or ``(s_h, s_w)``.
        padding: ``"valid"`` or ``"same"``.
        what: ``"kernel"`` or ``"pool window"``, for the error message.

    Returns:
        ``(s_h, s_w, [(top, bottom), (left, right)])``.

    Raises:
        ValueError / TypeError: bad stride or padding, or a ``"valid"`` window larger than the image.
    """
    sh, sw = as_pair(stride, "stride")
    padding = _padding(padding)
    h, w = x.shape[1:3]
    if padding == "valid" and (kh > h or kw > w):
        raise ValueError(
            f"The {what} ({kh}x{kw}) is larger than the image ({h}x{w}) and padding='valid', so the "
            f"output would be empty. Use a smaller {what}, larger images, or padding='same'."
        )
    if padding == "valid":
        return sh, sw, [(0, 0), (0, 0)]
    return sh, sw, [same_padding(h, kh, sh), same_padding(w, kw, sw)]


def pad_spatial(x: np.ndarray, pads: Sequence[tuple[int, int]], value: float = 0.0) -> np.ndarray:
    """Pad images ``(N, H, W, C)`` by ``pads = [(top, bottom), (left, right)]`` with ``value``.

    Returns ``x`` itself when there is nothing to pad; otherwise ``(N, H + top + bottom,
    W + left + right, C)``, same dtype.
    """
    if not any(any(p) for p in pads):
        return x
    return np.pad(x, ((0, 0), tuple(pads[0]), tuple(pads[1]), (0, 0)), constant_values=value)


def sliding_windows(xp: np.ndarray, kh: int, kw: int, sh: int, sw: int) -> np.ndarray:
    """A read-only view of the ``kh`` × ``kw`` windows of padded images ``xp`` ``(N, Hp, Wp, C)``.

    Returns:
        ``(N, H_out, W_out, C, kh, kw)``: entry ``[n, i, j, c]`` is the window whose top-left
        corner is at ``(s_h i, s_w j)``. No data is copied.
    """
    return sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
