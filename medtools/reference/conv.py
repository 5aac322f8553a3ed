"""2-D convolution from scratch in NumPy, its gradient, its parameter count and receptive field.

Introduced in the chapter *Convolutional networks* (``chapters/cnn``), which derives
every formula implemented here (the article's §3.3.1 lost them) and checks each one
numerically against ``keras.layers.Conv2D`` and ``tf.GradientTape`` on real chest
X-rays; the chapter *Core concepts* (``chapters/concepts``) already uses :func:`im2col`.
Re-exported by :mod:`medtools.reference`.

Conventions (all functions; sizes and padding as in :mod:`medtools.reference.windows`):

* Images are **channels-last**, as in Keras: ``x`` has shape ``(N, H, W, C)``.
* Kernels use the Keras layout ``(kh, kw, C_in, C_out)``; biases are ``(C_out,)``.
* "Convolution" means what deep-learning libraries compute: a *cross-correlation*
  (the kernel is not flipped), :math:`y_{i,j} = \\sum_{u,v} x_{si+u,\\,sj+v}\\,w_{u,v}`.
* ``stride`` is an int or a pair ``(rows, cols)``; ``padding`` is ``"valid"`` or ``"same"``.
* Inputs must be floating point (float16/32/64); the result has
  ``np.result_type`` of the inputs (float32 in → float32 out). Convert uint8 images
  with :func:`medtools.data.to_float` first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from medtools.arrays import as_images, as_pair
from medtools.reference.windows import pad_spatial, sliding_windows, window_geometry

__all__ = [
    "conv2d",
    "conv2d_grad",
    "conv2d_params",
    "im2col",
    "receptive_field",
    "receptive_field_table",
]


def _kernel(w: ArrayLike, c_in: int) -> np.ndarray:
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


# ---------------------------------------------------------------------------
# parameters and receptive field
# ---------------------------------------------------------------------------


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


def im2col(
    x: ArrayLike, kh: int, kw: int, stride: int | tuple[int, int] = 1, padding: str = "valid"
) -> np.ndarray:
    """The patch matrix of a convolution ("image to columns").

    Args:
        x: ``(N, H, W, C)`` floating images.
        kh, kw: window size.
        stride, padding: as in :func:`conv2d`.

    Returns:
        ``(N, H_out, W_out, kh * kw * C)``, dtype of ``x``: row ``(n, i, j)`` holds the padded
        window whose top-left corner is at ``(s_h i, s_w j)``, flattened in ``(u, v, c)``
        order, i.e. the same order as ``w.reshape(kh * kw * C, C_out)`` for a Keras
        kernel ``w``. So ``conv2d(x, w) == im2col(x, kh, kw) @ w.reshape(-1, C_out)``.
    """
    x = as_images(x)
    kh, kw = as_pair((kh, kw), "kernel size")
    sh, sw, pads = window_geometry(x, kh, kw, stride, padding, "kernel")
    win = sliding_windows(pad_spatial(x, pads), kh, kw, sh, sw)  # (N, Ho, Wo, C, kh, kw)
    n, ho, wo, c = win.shape[:4]
    return win.transpose(0, 1, 2, 4, 5, 3).reshape(n, ho, wo, kh * kw * c)


def conv2d(
    x: ArrayLike,
    w: ArrayLike,
    b: ArrayLike | None = None,
    stride: int | tuple[int, int] = 1,
    padding: str = "valid",
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
        padding: ``"valid"`` or ``"same"`` (Keras' definition, see :mod:`medtools.reference.windows`).

    Returns:
        ``(N, H_out, W_out, C_out)`` with ``H_out = conv_output_size(H, kh, s_h, padding)``,
        dtype ``np.result_type(x, w, b)``.

    Raises:
        ValueError / TypeError: wrong ranks, channel mismatch, bias of the wrong shape,
            non-float inputs, bad stride/padding, or an empty output.
    """
    x = as_images(x)
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
    x: ArrayLike, w: ArrayLike, grad_out: ArrayLike, stride: int | tuple[int, int] = 1, padding: str = "valid"
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
        ``(dx, dw, db)`` with the shapes of ``x``, ``w`` and ``(C_out,)``, dtype
        ``np.result_type(x, w, grad_out)``.
    """
    x = as_images(x)
    w = _kernel(w, x.shape[-1])
    kh, kw, c_in, c_out = w.shape
    sh, sw, pads = window_geometry(x, kh, kw, stride, padding, "kernel")
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
    full = conv2d(pad_spatial(g_hat, [(kh - 1, kh - 1), (kw - 1, kw - 1)]), w_flip)
    dxp = np.zeros((n, hp, wp, c_in), dtype=dtype)
    dxp[:, : full.shape[1], : full.shape[2]] = full  # rows no window reached get 0
    dx = dxp[:, pt : pt + h, pl : pl + wd]

    # dL/dw: cross-correlation of the padded input with g_hat, summed over the batch;
    # the batch axis plays the role of the channel axis that is summed over.
    xp = pad_spatial(x, pads)
    corr = conv2d(xp.transpose(3, 1, 2, 0), g_hat.transpose(1, 2, 0, 3))  # (C_in, ≥kh, ≥kw, C_out)
    dw = corr[:, :kh, :kw].transpose(1, 2, 0, 3)
    return dx.astype(dtype, copy=False), dw.astype(dtype, copy=False), db
