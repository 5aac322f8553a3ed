"""Recurrent cells in plain NumPy: simple RNN, LSTM and GRU, with Keras 3's weight layouts.

Introduced in the chapter *Recurrent networks* (``chapters/rnn``), which derives each
update and checks these functions against ``keras.layers.SimpleRNN``, ``LSTM`` and ``GRU``.
Re-exported by :mod:`medtools.reference`.

Conventions (the same as Keras 3, so a Keras layer's ``get_weights()`` can be passed in as is):

* inputs ``x``: ``(N, T, D)`` — batch, time steps, features per step;
* kernel ``W``: ``(D, k·H)``, recurrent kernel ``U``: ``(H, k·H)``, bias ``b``: ``(k·H,)``,
  with ``k = 1`` (simple RNN), ``4`` (LSTM, column blocks in the order i, f, c, o) or
  ``3`` (GRU, blocks z, r, h). The GRU with ``reset_after=True`` (Keras' default) has a bias
  of shape ``(2, 3·H)``: row 0 is added to ``x W``, row 1 to ``h U``;
* gates use the logistic sigmoid (Keras' default ``recurrent_activation="sigmoid"``),
  candidate states and outputs ``tanh``;
* the initial states default to zeros.

Every function computes in the floating dtype of ``x`` (float32 or float64; integer and bool
inputs are promoted to float64) and returns all hidden states ``(N, T, H)`` plus the final states.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from medtools.arrays import as_float
from medtools.reference.activations import sigmoid

__all__ = [
    "gru",
    "gru_step",
    "lstm",
    "lstm_step",
    "simple_rnn",
    "simple_rnn_step",
]


# ---------------------------------------------------------------------------
# shape checks
# ---------------------------------------------------------------------------


def _check_inputs(
    x: ArrayLike, W: ArrayLike, U: ArrayLike, k: int, cell: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int, int, int]:
    """Validate ``x (N, T, D)``, ``W (D, k·H)``, ``U (H, k·H)``; return them cast to x's dtype."""
    x = as_float(x, "x")
    if x.ndim != 3:
        raise ValueError(
            f"{cell}: x must have shape (N, T, D) = (batch, time steps, features), got shape "
            f"{x.shape}. Add a batch axis with x[None] for one sequence, or a feature axis "
            f"with x[..., None] for scalar steps."
        )
    n, t, d = x.shape
    W = np.asarray(W)
    U = np.asarray(U)
    if U.ndim != 2 or U.shape[1] != k * U.shape[0]:
        raise ValueError(
            f"{cell}: the recurrent kernel U must have shape (H, {k}·H), got {U.shape}. "
            f"Pass the layer's weights in Keras order: W, U, b = layer.get_weights()."
        )
    h = U.shape[0]
    if W.shape != (d, k * h):
        raise ValueError(
            f"{cell}: the kernel W must have shape (D, {k}·H) = ({d}, {k * h}) for inputs with "
            f"D = {d} features and H = {h} units (from U), got {W.shape}."
        )
    dtype = x.dtype
    return x, W.astype(dtype, copy=False), U.astype(dtype, copy=False), n, t, d, h


def _check_bias(b: ArrayLike | None, shape: tuple[int, ...], dtype: np.dtype, cell: str) -> np.ndarray:
    if b is None:
        return np.zeros(shape, dtype=dtype)
    b = np.asarray(b)
    if b.shape != shape:
        raise ValueError(f"{cell}: the bias b must have shape {shape}, got {b.shape}.")
    return b.astype(dtype, copy=False)


def _check_state(s: ArrayLike | None, n: int, h: int, dtype: np.dtype, name: str, cell: str) -> np.ndarray:
    if s is None:
        return np.zeros((n, h), dtype=dtype)
    s = np.asarray(s)
    if s.shape != (n, h):
        raise ValueError(
            f"{cell}: the initial state {name} must have shape (N, H) = ({n}, {h}), got {s.shape}."
        )
    return s.astype(dtype, copy=False)


# ---------------------------------------------------------------------------
# simple RNN
# ---------------------------------------------------------------------------


def simple_rnn_step(x_t: np.ndarray, h_prev: np.ndarray, W: np.ndarray, U: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One step of the simple (Elman) RNN: ``h_t = tanh(x_t W + h_{t-1} U + b)``.

    Args:
        x_t: ``(N, D)`` inputs at step t.
        h_prev: ``(N, H)`` previous hidden state.
        W: ``(D, H)`` kernel; U: ``(H, H)`` recurrent kernel; b: ``(H,)`` bias.

    Returns:
        ``(N, H)`` new hidden state.
    """
    return np.tanh(x_t @ W + h_prev @ U + b)


def simple_rnn(
    x: ArrayLike,
    W: ArrayLike,
    U: ArrayLike,
    b: ArrayLike | None = None,
    h0: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Run a simple RNN (``keras.layers.SimpleRNN`` with ``activation="tanh"``) over a sequence.

    Args:
        x: ``(N, T, D)`` inputs.
        W: ``(D, H)`` kernel (``layer.get_weights()[0]``).
        U: ``(H, H)`` recurrent kernel (``[1]``).
        b: ``(H,)`` bias (``[2]``), or None for no bias.
        h0: ``(N, H)`` initial state; zeros if None.

    Returns:
        ``(hs, h_T)``: all hidden states ``(N, T, H)`` and the last one ``(N, H)``, in x's dtype.

    Raises:
        ValueError: a shape does not fit (the message names the expected shape).
    """
    x, W, U, n, t, _, h = _check_inputs(x, W, U, 1, "simple_rnn")
    b = _check_bias(b, (h,), x.dtype, "simple_rnn")
    h_t = _check_state(h0, n, h, x.dtype, "h0", "simple_rnn")
    hs = np.empty((n, t, h), dtype=x.dtype)
    for step in range(t):
        h_t = simple_rnn_step(x[:, step], h_t, W, U, b)
        hs[:, step] = h_t
    return hs, h_t


# ---------------------------------------------------------------------------
# LSTM
# ---------------------------------------------------------------------------


def lstm_step(
    x_t: np.ndarray,
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    W: np.ndarray,
    U: np.ndarray,
    b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """One LSTM step with Keras' gate order i, f, c, o.

    ``i = σ(x W_i + h U_i + b_i)``, ``f = σ(…_f)``, ``c̃ = tanh(…_c)``, ``o = σ(…_o)``;
    ``c_t = f ⊙ c_{t-1} + i ⊙ c̃``; ``h_t = o ⊙ tanh(c_t)``.

    Args:
        x_t: ``(N, D)``; h_prev, c_prev: ``(N, H)``; W: ``(D, 4H)``; U: ``(H, 4H)``; b: ``(4H,)``.

    Returns:
        ``(h_t, c_t, gates)`` with ``gates = {"i", "f", "c_tilde", "o"}``, each ``(N, H)``.
    """
    a = x_t @ W + h_prev @ U + b
    a_i, a_f, a_c, a_o = np.split(a, 4, axis=-1)
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)
    c_tilde = np.tanh(a_c)
    c_t = f * c_prev + i * c_tilde
    h_t = o * np.tanh(c_t)
    return h_t, c_t, {"i": i, "f": f, "c_tilde": c_tilde, "o": o}


def lstm(
    x: ArrayLike,
    W: ArrayLike,
    U: ArrayLike,
    b: ArrayLike | None = None,
    h0: ArrayLike | None = None,
    c0: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run an LSTM (``keras.layers.LSTM`` with default activations) over a sequence.

    Args:
        x: ``(N, T, D)`` inputs.
        W: ``(D, 4H)`` kernel, column blocks ``[i | f | c | o]`` (``layer.get_weights()[0]``).
        U: ``(H, 4H)`` recurrent kernel, same block order (``[1]``).
        b: ``(4H,)`` bias, same block order (``[2]``), or None.
        h0, c0: ``(N, H)`` initial hidden and cell states; zeros if None.

    Returns:
        ``(hs, h_T, c_T)``: hidden states ``(N, T, H)``, final hidden state ``(N, H)`` and
        final cell state ``(N, H)``.

    Raises:
        ValueError: a shape does not fit.
    """
    x, W, U, n, t, _, h = _check_inputs(x, W, U, 4, "lstm")
    b = _check_bias(b, (4 * h,), x.dtype, "lstm")
    h_t = _check_state(h0, n, h, x.dtype, "h0", "lstm")
    c_t = _check_state(c0, n, h, x.dtype, "c0", "lstm")
    hs = np.empty((n, t, h), dtype=x.dtype)
    for step in range(t):
        h_t, c_t, _ = lstm_step(x[:, step], h_t, c_t, W, U, b)
        hs[:, step] = h_t
    return hs, h_t, c_t


# ---------------------------------------------------------------------------
# GRU
# ---------------------------------------------------------------------------


def gru_step(
    x_t: np.ndarray,
    h_prev: np.ndarray,
    W: np.ndarray,
    U: np.ndarray,
    b: np.ndarray,
    reset_after: bool = True,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One GRU step with Keras' gate order z, r, h.

    ``z = σ(x W_z + h U_z + b_z)`` (update gate), ``r = σ(…_r)`` (reset gate);
    candidate ``h̃ = tanh(x W_h + b^x_h + r ⊙ (h U_h + b^h_h))`` if ``reset_after`` else
    ``h̃ = tanh(x W_h + (r ⊙ h) U_h + b_h)``; ``h_t = z ⊙ h_{t-1} + (1 − z) ⊙ h̃``.

    Args:
        x_t: ``(N, D)``; h_prev: ``(N, H)``; W: ``(D, 3H)``; U: ``(H, 3H)``;
        b: ``(2, 3H)`` if ``reset_after`` (row 0 input bias, row 1 recurrent bias) else ``(3H,)``.

    Returns:
        ``(h_t, gates)`` with ``gates = {"z", "r", "h_tilde"}``, each ``(N, H)``.
    """
    h = h_prev.shape[-1]
    if reset_after:
        b_x, b_h = b[0], b[1]
    else:
        b_x, b_h = b, np.zeros_like(b)
    ax = x_t @ W + b_x  # (N, 3H): input part of every block
    ah = h_prev @ U[:, : 2 * h] + b_h[: 2 * h]  # (N, 2H): recurrent part of z and r
    z = sigmoid(ax[:, :h] + ah[:, :h])
    r = sigmoid(ax[:, h : 2 * h] + ah[:, h:])
    if reset_after:
        h_tilde = np.tanh(ax[:, 2 * h :] + r * (h_prev @ U[:, 2 * h :] + b_h[2 * h :]))
    else:
        h_tilde = np.tanh(ax[:, 2 * h :] + (r * h_prev) @ U[:, 2 * h :])
    h_t = z * h_prev + (1.0 - z) * h_tilde
    return h_t, {"z": z, "r": r, "h_tilde": h_tilde}


def gru(
    x: ArrayLike,
    W: ArrayLike,
    U: ArrayLike,
    b: ArrayLike | None = None,
    h0: ArrayLike | None = None,
    reset_after: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Run a GRU (``keras.layers.GRU`` with default activations) over a sequence.

    Args:
        x: ``(N, T, D)`` inputs.
        W: ``(D, 3H)`` kernel, column blocks ``[z | r | h]`` (``layer.get_weights()[0]``).
        U: ``(H, 3H)`` recurrent kernel, same block order (``[1]``).
        b: bias (``[2]``): ``(2, 3H)`` when ``reset_after=True`` (Keras' default; row 0 is
            the input bias, row 1 the recurrent bias), ``(3H,)`` when False; None for none.
        h0: ``(N, H)`` initial state; zeros if None.
        reset_after: apply the reset gate after the recurrent matrix product (Keras 3's
            default, the cuDNN-compatible variant) or before it (Cho et al.'s original form).

    Returns:
        ``(hs, h_T)``: hidden states ``(N, T, H)`` and the final state ``(N, H)``.

    Raises:
        ValueError: a shape does not fit; in particular a ``(3H,)`` bias with
            ``reset_after=True`` or a ``(2, 3H)`` bias with ``reset_after=False``.
    """
    x, W, U, n, t, _, h = _check_inputs(x, W, U, 3, "gru")
    if b is not None and np.ndim(b) in (1, 2):
        want = (2, 3 * h) if reset_after else (3 * h,)
        if np.shape(b) != want:
            hint = (
                " A (3H,) bias belongs to a layer built with reset_after=False; pass reset_after=False."
                if reset_after and np.shape(b) == (3 * h,)
                else " A (2, 3H) bias belongs to a layer built with reset_after=True; pass reset_after=True."
                if not reset_after and np.shape(b) == (2, 3 * h)
                else ""
            )
            raise ValueError(f"gru: the bias b must have shape {want}, got {np.shape(b)}.{hint}")
    b = _check_bias(b, (2, 3 * h) if reset_after else (3 * h,), x.dtype, "gru")
    h_t = _check_state(h0, n, h, x.dtype, "h0", "gru")
    hs = np.empty((n, t, h), dtype=x.dtype)
    for step in range(t):
        h_t, _ = gru_step(x[:, step], h_t, W, U, b, reset_after=reset_after)
        hs[:, step] = h_t
    return hs, h_t
