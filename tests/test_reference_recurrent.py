"""NumPy recurrent cells (medtools.reference.recurrent) against keras.layers.SimpleRNN, LSTM and GRU.

Chapter: *Recurrent networks* (chapters/rnn). The Keras layers are built with random
(non-zero) biases and their own random kernels; the NumPy functions get exactly
``layer.get_weights()``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medtools import reference as R

keras = pytest.importorskip("keras")

# float32: Keras and NumPy sum the same products in different orders; the hidden states are
# bounded by 1 (tanh), so rounding differences stay ~1e-7 per step and well below 1e-5 for the
# short sequences drawn here.
ATOL = {"float32": 1e-5, "float64": 1e-10}

shapes = st.tuples(
    st.integers(1, 4),  # N
    st.integers(1, 7),  # T
    st.integers(1, 5),  # D
    st.integers(1, 6),  # H
)
dtypes = st.sampled_from(["float32", "float64"])
SETTINGS = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def _run_keras(layer_cls, shape, dtype, seed, with_state=False, **kwargs):
    n, t, d, h = shape
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, t, d)).astype(dtype)
    layer = layer_cls(
        h,
        return_sequences=True,
        return_state=True,
        dtype=dtype,
        bias_initializer=keras.initializers.RandomNormal(stddev=0.5, seed=seed),
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1),
        recurrent_initializer=keras.initializers.Orthogonal(seed=seed + 2),
        **kwargs,
    )
    states = None
    if with_state:
        n_states = 2 if layer_cls is keras.layers.LSTM else 1
        states = [rng.normal(scale=0.5, size=(n, h)).astype(dtype) for _ in range(n_states)]
    out = layer(x, initial_state=states) if states else layer(x)
    out = [np.asarray(o) for o in out]
    return x, layer.get_weights(), states, out


@SETTINGS
@given(shape=shapes, dtype=dtypes, seed=st.integers(0, 1000), with_state=st.booleans())
def test_simple_rnn_matches_keras(shape, dtype, seed, with_state):
    x, (W, U, b), states, (seq, h_last) = _run_keras(keras.layers.SimpleRNN, shape, dtype, seed, with_state)
    hs, h_t = R.simple_rnn(x, W, U, b, h0=states[0] if states else None)
    assert hs.shape == seq.shape == (shape[0], shape[1], shape[3])
    assert hs.dtype == np.dtype(dtype)
    np.testing.assert_allclose(hs, seq, atol=ATOL[dtype], rtol=0)
    np.testing.assert_allclose(h_t, h_last, atol=ATOL[dtype], rtol=0)


@SETTINGS
@given(shape=shapes, dtype=dtypes, seed=st.integers(0, 1000), with_state=st.booleans())
def test_lstm_matches_keras(shape, dtype, seed, with_state):
    x, (W, U, b), states, (seq, h_last, c_last) = _run_keras(keras.layers.LSTM, shape, dtype, seed, with_state)
    h = shape[3]
    assert W.shape == (shape[2], 4 * h) and U.shape == (h, 4 * h) and b.shape == (4 * h,)
    hs, h_t, c_t = R.lstm(x, W, U, b, *(states or []))
    assert hs.dtype == np.dtype(dtype)
    np.testing.assert_allclose(hs, seq, atol=ATOL[dtype], rtol=0)
    np.testing.assert_allclose(h_t, h_last, atol=ATOL[dtype], rtol=0)
    np.testing.assert_allclose(c_t, c_last, atol=ATOL[dtype], rtol=0)


@SETTINGS
@given(shape=shapes, dtype=dtypes, seed=st.integers(0, 1000), reset_after=st.booleans(), with_state=st.booleans())
def test_gru_matches_keras(shape, dtype, seed, reset_after, with_state):
    x, (W, U, b), states, (seq, h_last) = _run_keras(
        keras.layers.GRU, shape, dtype, seed, with_state, reset_after=reset_after
    )
    h = shape[3]
    assert b.shape == ((2, 3 * h) if reset_after else (3 * h,))
    hs, h_t = R.gru(x, W, U, b, h0=states[0] if states else None, reset_after=reset_after)
    assert hs.dtype == np.dtype(dtype)
    np.testing.assert_allclose(hs, seq, atol=ATOL[dtype], rtol=0)
    np.testing.assert_allclose(h_t, h_last, atol=ATOL[dtype], rtol=0)


def test_lstm_gate_order_is_i_f_c_o():
    """A large forget-gate bias (second block) keeps c_t = c_{t-1} when the input gate is shut."""
    h, d = 3, 2
    W = np.zeros((d, 4 * h))
    U = np.zeros((h, 4 * h))
    b = np.zeros(4 * h)
    b[:h] = -50.0  # input gate i shut
    b[h : 2 * h] = 50.0  # forget gate f open
    c0 = np.array([[0.3, -0.2, 0.9]])
    x = np.ones((1, 5, d))
    _, _, c_t = R.lstm(x, W, U, b, c0=c0)
    np.testing.assert_allclose(c_t, c0, atol=1e-12)


def test_gru_update_gate_one_keeps_state():
    """z = 1 (first block) copies h_{t-1} to h_t, whatever the input."""
    h, d = 2, 3
    W = np.random.default_rng(0).normal(size=(d, 3 * h))
    U = np.random.default_rng(1).normal(size=(h, 3 * h))
    b = np.zeros((2, 3 * h))
    b[0, :h] = 60.0
    h0 = np.array([[0.5, -0.7]])
    hs, h_t = R.gru(np.random.default_rng(2).normal(size=(1, 4, d)), W, U, b, h0=h0)
    np.testing.assert_allclose(hs[0], np.repeat(h0, 4, axis=0), atol=1e-12)


def test_sequences_agree_with_steps():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 4, 3))
    W, U, b = rng.normal(size=(3, 12)), rng.normal(size=(3, 12)), rng.normal(size=12)
    hs, _, _ = R.lstm(x, W, U, b)
    h = c = np.zeros((2, 3))
    for t in range(4):
        h, c, gates = R.lstm_step(x[:, t], h, c, W, U, b)
        np.testing.assert_allclose(hs[:, t], h)
    assert set(gates) == {"i", "f", "c_tilde", "o"}


def test_integer_input_is_promoted():
    x = np.ones((1, 2, 1), dtype=np.int64)
    hs, _ = R.simple_rnn(x, np.ones((1, 1)), np.zeros((1, 1)))
    assert hs.dtype == np.float64
    np.testing.assert_allclose(hs[0, :, 0], np.tanh(1.0))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: R.simple_rnn(np.zeros((4, 3)), np.zeros((3, 2)), np.zeros((2, 2))), r"\(N, T, D\)"),
        (lambda: R.simple_rnn(np.zeros((1, 4, 3)), np.zeros((2, 2)), np.zeros((2, 2))), r"kernel W"),
        (lambda: R.lstm(np.zeros((1, 4, 3)), np.zeros((3, 8)), np.zeros((2, 6))), r"recurrent kernel U"),
        (lambda: R.lstm(np.zeros((1, 4, 3)), np.zeros((3, 8)), np.zeros((2, 8)), np.zeros(6)), r"bias b"),
        (
            lambda: R.lstm(np.zeros((1, 4, 3)), np.zeros((3, 8)), np.zeros((2, 8)), c0=np.zeros((2, 2))),
            r"initial state c0",
        ),
        (lambda: R.gru(np.zeros((1, 4, 3)), np.zeros((3, 6)), np.zeros((2, 6)), np.zeros(6)), r"reset_after=False"),
        (
            lambda: R.gru(np.zeros((1, 4, 3)), np.zeros((3, 6)), np.zeros((2, 6)), np.zeros((2, 6)), reset_after=False),
            r"reset_after=True",
        ),
    ],
)
def test_bad_shapes_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_non_numeric_input_raises():
    with pytest.raises(TypeError, match="x must be a numeric array, got dtype <U1"):
        R.simple_rnn(np.array([[["a"]]]), np.zeros((1, 1)), np.zeros((1, 1)))
    with pytest.raises(TypeError, match="x must be real"):
        R.simple_rnn(np.ones((1, 2, 1), complex), np.zeros((1, 1)), np.zeros((1, 1)))


def test_bool_input_is_promoted():
    hs, _ = R.simple_rnn(np.ones((1, 2, 1), bool), np.ones((1, 1)), np.zeros((1, 1)))
    assert hs.dtype == np.float64
