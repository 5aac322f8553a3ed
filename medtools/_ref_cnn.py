"""Convolution and pooling from scratch in NumPy, checked against Keras.

Introduced in the chapter *Convolutional networks* (``chapters/cnn``), which derives
every formula implemented here (the article's §3.3.1 lost them) and checks each one
numerically against ``keras.layers.Conv2D``, ``MaxPooling2D``, ``AveragePooling2D``
and ``tf.GradientTape`` on real chest X-rays. Re-exported by :mod:`medtools.reference`.

Conventions (all functions):

* Images are **channels-last**, as in Keras: ``x`` has shape ``(N, H, W, C)``.
* Kernels use the Keras layout ``(kh, kw, C_in, C_out)``; biases are ``(C_out,)``.
* "Convolution" means what deep-learning libraries compute: a *cross-correlation*
  (the kernel is not flipped), :math:`y_{i,j} = \\sum_{u,v} x_{si+u,\\,sj+v}\\,w_{u,v}`.
* ``stride`` and ``pool`` are an int or a pair ``(rows, cols)``.
* ``padding`` is ``"valid"`` (no padding) or ``"same"`` as Keras/TensorFlow define
  it: the output has ``ceil(n / stride)`` rows, and the total padding
  ``max((ceil(n/s) - 1) * s + k - n, 0)`` is split with the smaller half on the
  top/left and the extra row/column on the bottom/right (asymmetric when odd).
* Inputs must be floating point (float16/32/64); the result has
  ``np.result_type`` of the inputs (float32 in → float32 out). Convert uint8 images
  with :func:`medtools.data.to_float` first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "CONV_PADDINGS",
    "avg_pool2d",
    "conv2d",
    "conv2d_grad",
    "conv2d_params",
    "conv_output_size",
    "im2col",
    "max_pool2d",
    "receptive_field",
    "receptive_field_table",
    "same_padding",
]

#: The padding modes Keras' ``Conv2D`` and pooling layers accept.
CONV_PADDINGS = ("valid", "same")


# ---------------------------------------------------------------------------
# argument checking
# ---------------------------------------------------------------------------


def _pair(value: Any, name: str) -> tuple[int, int]:
    """An int or a pair of ints → a pair of positive ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    ):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{name} must be a positive int or a pair of positive ints, got {value!r}.")
    if min(pair) < 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}.")
    return pair


def _padding(padding: Any) -> str:
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in CONV_PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same' (as in Keras), got {padding!r}.")
    return mode


def _images(x: Any, name: str = "x") -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 4:
        hint = (
            " Add a batch axis with x[None] and/or a channel axis with x[..., None]."
            if x.ndim in (2, 3)
            else ""
        )
        raise ValueError(f"{name} must have shape (N, H, W, C) (channels last), got shape {x.shape}.{hint}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{name} must be floating point, got dtype {x.dtype}. Convert uint8 images with "
            f"medtools.data.to_float(x) or x.astype(np.float32)."
        )
    return x


def _kernel(w: Any, c_in: int) -> np.ndarray:
    w = np.asarray(w)
    if w.ndim != 4:
        raise ValueError(
            f"w must have shape (kh, kw, C_in, C_out) (the Keras Conv2D kernel layout), got shape {w.shape}."
        )
    if not np.issubdtype(w.dtype, np.floating):
        raise TypeError(f"w must be floating point, got dtype {w.dtype}; use w.astype(np.float32).")
    if w.shape[2] != c_in:
        raise ValueError(
            f"Channel mismatch: x has {c_in} input channel(s) (its last axis) but w expects "
            f"{w.shape[2]} (w.shape[2]; w has shape {w.shape}). Give w shape "
            f"(kh, kw, {c_in}, C_out), or pass images with {w.shape[2]} channel(s)."
        )
    return w


def _pads(n: int, k: int, s: int, padding: str) -> tuple[int, int]:
    return same_padding(n, k, s) if padding == "same" else (0, 0)


# ---------------------------------------------------------------------------
# sizes
# ---------------------------------------------------------------------------


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


def conv2d_params(kh: int, kw: int, c_in: int, c_out: int, bias: bool = True) -> int:
    """Trainable parameters of a Conv2D layer: :math:`(k_h k_w C_\\text{in} + b)\\,C_\\text{out}`.

    ``b`` is 1 with a bias and 0 without. The count does not depend on the image size.
    """
    for value, name in ((kh, "kh"), (kw, "kw"), (c_in, "c_in"), (c_out, "c_out")):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return int(kh * kw * c_in * c_out + (c_out if bias else 0))


def _layer_geometry(layer: Any) -> tuple[int, int, int]:
    """``(k, s, d)`` of one layer: a tuple ``(k, s)`` / ``(k, s, d)`` or a Keras layer."""
    if isinstance(layer, (tuple, list)):
        if len(layer) not in (2, 3):
            raise ValueError(f"Each layer must be (kernel, stride) or (kernel, stride, dilation), got {layer!r}.")
        values = tuple(layer) + ((1,) if len(layer) == 2 else ())
    else:  # duck-typed Keras Conv2D / pooling layer (square windows only)
        size = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", None)
        strides = getattr(layer, "strides", None)
        if size is None or strides is None:
            raise TypeError(
                f"Cannot read a kernel/pool size and strides from {layer!r}; pass (kernel, stride) tuples."
            )
        dilation = getattr(layer, "dilation_rate", (1, 1))
        if len(set(size)) != 1 or len(set(strides)) != 1 or len(set(dilation)) != 1:
            raise ValueError(f"receptive_field handles square windows only; {layer.name} has {size}, {strides}.")
        values = (size[0], strides[0], dilation[0])
    for value, name in zip(values, ("kernel", "stride", "dilation"), strict=True):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r} in layer {layer!r}.")
    return int(values[0]), int(values[1]), int(values[2])


def receptive_field_table(layers: Iterable[Any]) -> list[tuple[int, int]]:
    """Receptive field and jump after each layer of a stack of convolutions/poolings.

    With :math:`r_0 = 1` and :math:`j_0 = 1` (one input pixel, spaced one pixel apart),
    layer :math:`l` with kernel :math:`k_l`, stride :math:`s_l` and dilation :math:`d_l` gives
    :math:`r_l = r_{l-1} + d_l (k_l - 1) j_{l-1}` and :math:`j_l = j_{l-1} s_l`.

    Args:
        layers: ``(kernel, stride)`` or ``(kernel, stride, dilation)`` tuples (square
            windows), or Keras ``Conv2D`` / ``MaxPooling2D`` / ``AveragePooling2D`` layers.
            Padding does not change the receptive field.

    Returns:
        ``[(r_1, j_1), (r_2, j_2), …]``: receptive field (input pixels along one axis)
        and jump (input pixels between neighbouring outputs) after each layer.
    """
    r, j = 1, 1
    table = []
    for layer in layers:
        k, s, d = _layer_geometry(layer)
        r, j = r + d * (k - 1) * j, j * s
        table.append((r, j))
    if not table:
        raise ValueError("layers is empty; give at least one (kernel, stride) pair.")
    return table


def receptive_field(layers: Iterable[Any]) -> int:
    """Receptive field (input pixels along one axis) of one output of the last layer.

    See :func:`receptive_field_table` for the recursion and the accepted ``layers``.
    """
    return receptive_field_table(layers)[-1][0]


# ---------------------------------------------------------------------------
# convolution
# ---------------------------------------------------------------------------


def _pad_hw(x: np.ndarray, pads: Sequence[tuple[int, int]], value: float = 0.0) -> np.ndarray:
    if not any(any(p) for p in pads):
        return x
    return np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=value)


def _windows(
    xp: np.ndarray, kh: int, kw: int, sh: int, sw: int
) -> np.ndarray:
    """View ``(N, H_out, W_out, C, kh, kw)`` of the windows of a padded ``(N, Hp, Wp, C)``."""
    return sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]


def _geometry(
    x: np.ndarray, kh: int, kw: int, stride: Any, padding: Any, what: str
) -> tuple[int, int, list[tuple[int, int]]]:
    sh, sw = _pair(stride, "stride")
    padding = _padding(padding)
    h, w = x.shape[1:3]
    if padding == "valid" and (kh > h or kw > w):
        raise ValueError(
            f"The {what} ({kh}x{kw}) is larger than the image ({h}x{w}) and padding='valid', so the "
            f"output would be empty. Use a smaller {what}, larger images, or padding='same'."
        )
    return sh, sw, [_pads(h, kh, sh, padding), _pads(w, kw, sw, padding)]


def im2col(x: Any, kh: int, kw: int, stride: Any = 1, padding: str = "valid") -> np.ndarray:
    """The patch matrix of a convolution ("image to columns").

    Args:
        x: ``(N, H, W, C)`` floating images.
        kh, kw: window size.
        stride, padding: as in :func:`conv2d`.

    Returns:
        ``(N, H_out, W_out, kh * kw * C)``: row ``(n, i, j)`` holds the padded window
        whose top-left corner is at ``(s_h i, s_w j)``, flattened in ``(u, v, c)``
        order, i.e. the same order as ``w.reshape(kh * kw * C, C_out)`` for a Keras
        kernel ``w``. So ``conv2d(x, w) == im2col(x, kh, kw) @ w.reshape(-1, C_out)``.
    """
    x = _images(x)
    kh, kw = _pair((kh, kw), "kernel size")
    sh, sw, pads = _geometry(x, kh, kw, stride, padding, "kernel")
    win = _windows(_pad_hw(x, pads), kh, kw, sh, sw)  # (N, Ho, Wo, C, kh, kw)
    n, ho, wo, c = win.shape[:4]
    return win.transpose(0, 1, 2, 4, 5, 3).reshape(n, ho, wo, kh * kw * c)


def conv2d(
    x: Any, w: Any, b: Any | None = None, stride: Any = 1, padding: str = "valid"
) -> np.ndarray:
    """2-D convolution as Keras' ``Conv2D`` computes it (a cross-correlation), no activation.

    :math:`y_{n,i,j,o} = b_o + \\sum_{u=0}^{k_h-1}\\sum_{v=0}^{k_w-1}\\sum_{c=0}^{C_\\text{in}-1}
    \\tilde x_{n,\\,s_h i+u,\\,s_w j+v,\\,c}\\; w_{u,v,c,o}`, where :math:`\\tilde x` is the
    zero-padded input. Computed as one matrix product of :func:`im2col` patches and the
    reshaped kernel.

    Args:
        x: ``(N, H, W, C_in)`` floating images.
        w: ``(kh, kw, C_in, C_out)`` floating kernel (Keras layout).
        b: ``(C_out,)`` bias, or None for no bias.
        stride: int or ``(s_h, s_w)``.
        padding: ``"valid"`` or ``"same"`` (Keras' definition, see the module docstring).

    Returns:
        ``(N, H_out, W_out, C_out)`` with ``H_out = conv_output_size(H, kh, s_h, padding)``,
        dtype ``np.result_type(x, w, b)``.

    Raises:
        ValueError / TypeError: wrong ranks, channel mismatch, bias of the wrong shape,
            non-float inputs, bad stride/padding, or an empty output.
    """
    x = _images(x)
    w = _kernel(w, x.shape[-1])
    kh, kw, _, c_out = w.shape
    cols = im2col(x, kh, kw, stride, padding)
    y = cols @ w.reshape(-1, c_out)
    if b is not None:
        b = np.asarray(b)
        if b.shape != (c_out,):
            raise ValueError(
                f"b must have shape (C_out,) = ({c_out},) to match w of shape {w.shape}, got shape {b.shape}."
            )
        y = y + b
    return y


def conv2d_grad(
    x: Any, w: Any, grad_out: Any, stride: Any = 1, padding: str = "valid"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a loss through :func:`conv2d`, given the upstream gradient.

    With :math:`g = \\partial L/\\partial y` and :math:`\\hat g` the stride-dilated
    :math:`g` (``s - 1`` zeros inserted between rows/columns):

    * :math:`\\partial L/\\partial b_o = \\sum_{n,i,j} g_{n,i,j,o}`;
    * :math:`\\partial L/\\partial w` is the cross-correlation of the padded input
      :math:`\\tilde x` with :math:`\\hat g` (summed over the batch);
    * :math:`\\partial L/\\partial x` is the "full" convolution of :math:`\\hat g`
      with the kernel flipped in both spatial axes and with its channel axes swapped,
      cropped to the unpadded input.

    Args:
        x: ``(N, H, W, C_in)`` input of the forward pass.
        w: ``(kh, kw, C_in, C_out)`` kernel of the forward pass.
        grad_out: ``(N, H_out, W_out, C_out)`` upstream gradient :math:`\\partial L/\\partial y`.
        stride, padding: as in the forward :func:`conv2d`.

    Returns:
        ``(dx, dw, db)`` with the shapes of ``x``, ``w`` and ``(C_out,)``.
    """
    x = _images(x)
    w = _kernel(w, x.shape[-1])
    kh, kw, c_in, c_out = w.shape
    sh, sw, pads = _geometry(x, kh, kw, stride, padding, "kernel")
    n, h, wd, _ = x.shape
    (pt, pb), (pl, pr) = pads
    hp, wp = h + pt + pb, wd + pl + pr
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    g = np.asarray(grad_out)
    if g.shape != (n, ho, wo, c_out):
        raise ValueError(
            f"grad_out must have the shape of the forward output (N, H_out, W_out, C_out) = "
            f"{(n, ho, wo, c_out)}, got {g.shape}. Check stride and padding match the forward pass."
        )
    if not np.issubdtype(g.dtype, np.floating):
        raise TypeError(f"grad_out must be floating point, got dtype {g.dtype}.")
    dtype = np.result_type(x, w, g)

    # dilate: g_hat[:, s*i, s*j] = g[:, i, j], zeros in between
    g_hat = np.zeros((n, sh * (ho - 1) + 1, sw * (wo - 1) + 1, c_out), dtype=dtype)
    g_hat[:, ::sh, ::sw] = g

    # dL/db: every output position contributes its gradient once
    db = g.sum(axis=(0, 1, 2)).astype(dtype)

    # dL/dx: "full" convolution of g_hat with the flipped, channel-swapped kernel
    w_flip = w[::-1, ::-1].transpose(0, 1, 3, 2)  # (kh, kw, C_out, C_in)
    full = conv2d(_pad_hw(g_hat, [(kh - 1, kh - 1), (kw - 1, kw - 1)]), w_flip)
    dxp = np.zeros((n, hp, wp, c_in), dtype=dtype)
    dxp[:, : full.shape[1], : full.shape[2]] = full  # rows no window reached get 0
    dx = dxp[:, pt : pt + h, pl : pl + wd]

    # dL/dw: cross-correlation of the padded input with g_hat, summed over the batch;
    # the batch axis plays the role of the channel axis that is summed over.
    xp = _pad_hw(x, pads)
    corr = conv2d(xp.transpose(3, 1, 2, 0), g_hat.transpose(1, 2, 0, 3))  # (C_in, ≥kh, ≥kw, C_out)
    dw = corr[:, :kh, :kw].transpose(1, 2, 0, 3)
    return dx.astype(dtype, copy=False), dw.astype(dtype, copy=False), db


# ---------------------------------------------------------------------------
# pooling
# ---------------------------------------------------------------------------


def _pool_setup(
    x: Any, pool: Any, stride: Any, padding: Any
) -> tuple[np.ndarray, int, int, int, int, list[tuple[int, int]]]:
    x = _images(x)
    ph, pw = _pair(pool, "pool")
    sh, sw, pads = _geometry(x, ph, pw, pool if stride is None else stride, padding, "pool window")
    return x, ph, pw, sh, sw, pads


def max_pool2d(x: Any, pool: Any = 2, stride: Any | None = None, padding: str = "valid") -> np.ndarray:
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
    win = _windows(_pad_hw(x, pads, value=-np.inf), ph, pw, sh, sw)
    return win.max(axis=(-2, -1))


def avg_pool2d(x: Any, pool: Any = 2, stride: Any | None = None, padding: str = "valid") -> np.ndarray:
    """Average pooling as Keras' ``AveragePooling2D``.

    :math:`y_{n,i,j,c} = \\frac{1}{|\\Omega_{ij}|}\\sum_{(u,v)\\in\\Omega_{ij}} x_{n,s_h i+u,s_w j+v,c}`,
    where :math:`\\Omega_{ij}` are the window positions that fall inside the image: with
    ``padding="same"`` the padded zeros are **not** counted (as in TensorFlow), so an
    edge window is the mean of its real pixels only.

    Arguments and result as in :func:`max_pool2d`.
    """
    x, ph, pw, sh, sw, pads = _pool_setup(x, pool, stride, padding)
    total = _windows(_pad_hw(x, pads), ph, pw, sh, sw).sum(axis=(-2, -1))
    ones = np.ones((1,) + x.shape[1:3] + (1,), dtype=x.dtype)
    count = _windows(_pad_hw(ones, pads), ph, pw, sh, sw).sum(axis=(-2, -1))
    return (total / count).astype(x.dtype, copy=False)
