"""medtools.reference.losses: binary cross-entropy and MSE (chapter *The workflow*) against Keras 3."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medtools import reference as ref

keras = pytest.importorskip("keras")


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 20).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 1), min_size=n, max_size=n),
            st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n),
        )
    )
)
def test_bce_and_mse_match_keras(data):
    y = np.array(data[0], dtype=np.float32)
    p = np.array(data[1], dtype=np.float32)
    k_bce = float(keras.losses.BinaryCrossentropy()(y, p))
    k_mse = float(keras.losses.MeanSquaredError()(y, p))
    # Keras computes in float32: relative tolerance 1e-5 (a few float32 ulps of a sum of logs)
    assert ref.binary_crossentropy(y, p) == pytest.approx(k_bce, rel=1e-5, abs=1e-6)
    assert ref.mse(y, p) == pytest.approx(k_mse, rel=1e-5, abs=1e-7)


def test_bce_clipping_bounds_the_loss():
    eps = ref.KERAS_EPSILON
    worst = ref.binary_crossentropy(np.array([1.0]), np.array([0.0]))
    assert worst == pytest.approx(-np.log(eps))
    with np.errstate(divide="ignore"):
        assert np.isinf(ref.binary_crossentropy(np.array([1.0]), np.array([0.0]), eps=0))


def test_bce_2d_matches_keras():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=(8, 3)).astype(np.float32)
    p = rng.uniform(size=(8, 3)).astype(np.float32)
    assert ref.binary_crossentropy(y, p) == pytest.approx(float(keras.losses.BinaryCrossentropy()(y, p)), rel=1e-5)
    assert ref.binary_crossentropy(y, p, reduce=False).shape == (8, 3)


def test_dtypes():
    y32, p32 = np.array([0.0, 1.0], np.float32), np.array([0.2, 0.9], np.float32)
    assert ref.binary_crossentropy(y32, p32, reduce=False).dtype == np.float32
    # float16 is computed in float32: 1 - eps would round to 1 in float16 and log(0) = -inf
    loss16 = ref.binary_crossentropy(np.array([1.0], np.float16), np.array([0.0], np.float16))
    assert np.isfinite(loss16)
    assert ref.mse([0, 1], [1, 1]) == 0.5  # lists of ints


def test_errors():
    with pytest.raises(ValueError, match="logits"):
        ref.binary_crossentropy(np.array([1.0]), np.array([2.5]))
    with pytest.raises(ValueError, match="y must lie in"):
        ref.binary_crossentropy(np.array([2.0]), np.array([0.5]))
    with pytest.raises(ValueError, match=r"y and yhat must have the same shape, got \(3,\) and \(3, 1\)"):
        ref.mse(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(TypeError, match="p must be a numeric array"):
        ref.binary_crossentropy(np.array([1.0]), np.array(["a"]))
