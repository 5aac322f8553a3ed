"""Tests of medtools.reference.pooling (chapter *Convolutional networks*) against
``keras.layers.MaxPooling2D`` and ``AveragePooling2D``: property-based over shapes, pool
sizes, strides, both paddings and float32/float64 (tolerance: fixture
``assert_rounding_close`` of ``conftest.py``), plus the padding conventions and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medtools import reference as ref

keras = pytest.importorskip("keras")

SETTINGS = settings(max_examples=50, deadline=None, derandomize=True)
DTYPES = st.sampled_from(["float32", "float64"])
PADDINGS = st.sampled_from(["valid", "same"])


@SETTINGS
@given(
    st.integers(1, 3),
    st.integers(1, 11),
    st.integers(1, 11),
    st.integers(1, 3),
    st.integers(1, 4),
    st.one_of(st.none(), st.integers(1, 3)),
    PADDINGS,
    DTYPES,
    st.integers(0, 2**31 - 1),
)
def test_pooling_matches_keras(assert_rounding_close, n, h, w, c, pool, stride, padding, dtype, seed):
    if padding == "valid" and pool > min(h, w):
        with pytest.raises(ValueError, match="larger than the image"):
            ref.max_pool2d(np.zeros((n, h, w, c), dtype), pool, stride, padding)
        return
    x = np.random.default_rng(seed).normal(size=(n, h, w, c)).astype(dtype)
    for layer_cls, ours_fn in (
        (keras.layers.MaxPooling2D, ref.max_pool2d),
        (keras.layers.AveragePooling2D, ref.avg_pool2d),
    ):
        theirs = np.asarray(layer_cls(pool, strides=stride, padding=padding, dtype=dtype)(x))
        ours = ours_fn(x, pool, stride, padding)
        assert ours.dtype == np.dtype(dtype)
        scale = ours_fn(np.abs(x), pool, stride, padding)
        assert_rounding_close(ours, theirs, scale, pool * pool, dtype)


def test_avg_pool_same_ignores_padding():
    x = np.arange(25.0).reshape(1, 5, 5, 1)
    y = ref.avg_pool2d(x, 2, padding="same")[0, :, :, 0]
    assert y.shape == (3, 3)
    assert y[0, 2] == (4 + 9) / 2 and y[2, 2] == 24  # edge windows average their real pixels only
    assert ref.max_pool2d(-x, 2, padding="same")[0, 2, 2, 0] == -24  # padding never wins the max


def test_pooling_bad_inputs_raise_clear_errors():
    x = np.zeros((2, 8, 8, 3), np.float32)
    with pytest.raises(ValueError, match="pool must be >= 1"):
        ref.max_pool2d(x, 0)
    with pytest.raises(ValueError, match="larger than the image"):
        ref.avg_pool2d(x, 9)
    with pytest.raises(TypeError, match="to_float"):
        ref.max_pool2d(x.astype(np.uint8))
