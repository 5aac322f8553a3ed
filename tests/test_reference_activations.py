"""Tests of medtools.reference.activations: the sigmoid (chapter *Recurrent networks*) and
the softmax (chapter *Self-attention*) are stable for huge inputs, keep the dtype, and match
``keras.ops.softmax``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medtools import reference as ref

keras = pytest.importorskip("keras")


def test_sigmoid_is_stable_and_keeps_dtype():
    a = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0], dtype=np.float32)
    with np.errstate(all="raise"):
        s = ref.sigmoid(a)
    assert s.dtype == np.float32
    np.testing.assert_allclose(s, [0.0, 1 / (1 + np.exp(30.0)), 0.5, 1 / (1 + np.exp(-30.0)), 1.0], atol=1e-7)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    scale=st.sampled_from([1.0, 30.0, 1e4]),
    dtype=st.sampled_from(["float16", "float32", "float64"]),
    seed=st.integers(0, 2**16),
)
def test_softmax_matches_keras_and_is_stable(shape, scale, dtype, seed):
    x = (np.random.default_rng(seed).normal(size=shape) * scale).astype(dtype)
    p = ref.softmax(x)
    assert p.dtype == np.dtype(dtype) and p.shape == x.shape
    assert np.all(np.isfinite(p)) and np.all(p >= 0)
    tol = 2e-3 if dtype == "float16" else 1e-6
    np.testing.assert_allclose(p.astype(np.float64).sum(-1), 1.0, atol=tol)
    np.testing.assert_allclose(p, np.asarray(keras.ops.softmax(x.astype("float32"), axis=-1)), atol=tol)
    # invariant to a shift of every score in a row
    np.testing.assert_allclose(ref.softmax(x.astype(np.float64) + 7.0), ref.softmax(x.astype(np.float64)), atol=1e-12)


def test_softmax_inf_and_axis():
    assert ref.softmax(np.array([0.0, -np.inf])).tolist() == [1.0, 0.0]
    assert ref.softmax(np.array([-np.inf, -np.inf])).tolist() == [0.0, 0.0]
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(ref.softmax(x, axis=0), ref.softmax(x.T).T)
    assert ref.softmax(np.array([1, 2, 3])).dtype == np.float64  # ints promoted


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: ref.softmax(np.float64(1.0)), ValueError, "scalar"),
        (lambda: ref.softmax(np.array([np.nan, 1.0])), ValueError, "NaN"),
        (lambda: ref.softmax(np.array(["a"])), TypeError, "numeric"),
        (lambda: ref.softmax(np.ones(3), axis=2), ValueError, "axis"),
        (lambda: ref.softmax(np.array([1 + 1j])), TypeError, "real"),
    ],
)
def test_softmax_errors(call, exc, words):
    with pytest.raises(exc, match=words):
        call()


def test_logit_inverts_the_sigmoid_and_matches_scipy():
    from scipy.special import logit as scipy_logit

    p = np.linspace(0.01, 0.99, 41)
    np.testing.assert_allclose(ref.logit(p), scipy_logit(p), rtol=1e-12)
    np.testing.assert_allclose(ref.sigmoid(ref.logit(p)), p, rtol=1e-12)
    assert np.isfinite(ref.logit(np.array([0.0, 1.0]))).all()
    with pytest.raises(ValueError, match="probabilities"):
        ref.logit([1.5])
    with pytest.raises(ValueError, match="eps"):
        ref.logit([0.5], eps=0.0)

