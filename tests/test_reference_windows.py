"""Tests of medtools.reference.windows (chapter *Convolutional networks*): Keras' "same"
padding and the output-size formula, against the shapes Keras computes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medtools import reference as ref

keras = pytest.importorskip("keras")

PADDINGS = st.sampled_from(["valid", "same"])


def test_same_padding_is_asymmetric_like_keras():
    assert ref.same_padding(6, 3, 2) == (0, 1)  # the extra row goes at the bottom
    assert ref.same_padding(28, 3, 2) == (0, 1)
    assert ref.same_padding(28, 3, 1) == (1, 1)
    assert ref.same_padding(28, 4, 1) == (1, 2)
    assert ref.same_padding(5, 1, 3) == (0, 0)
    # a kernel that only looks at its top-left tap shows where Keras pads
    x = np.arange(36.0).reshape(1, 6, 6, 1)
    k = np.zeros((3, 3, 1, 1))
    k[0, 0] = 1
    layer = keras.layers.Conv2D(1, 3, strides=2, padding="same", use_bias=False, dtype="float64")
    layer.build(x.shape)
    layer.set_weights([k])
    np.testing.assert_array_equal(ref.conv2d(x, k, stride=2, padding="same"), np.asarray(layer(x)))
    np.testing.assert_array_equal(ref.conv2d(x, k, stride=2, padding="same")[0, :, :, 0], x[0, ::2, ::2, 0])


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(1, 40), st.integers(1, 7), st.integers(1, 4), PADDINGS)
def test_conv_output_size_matches_keras_shape(n, k, s, padding):
    if padding == "valid" and k > n:
        with pytest.raises(ValueError, match="does not fit"):
            ref.conv_output_size(n, k, s, padding)
        return
    layer = keras.layers.Conv2D(1, (k, 1), strides=(s, 1), padding=padding)
    assert layer.compute_output_shape((None, n, 3, 1))[1] == ref.conv_output_size(n, k, s, padding)
    expected = -(-n // s) if padding == "same" else (n - k) // s + 1
    assert ref.conv_output_size(n, k, s, padding) == expected


def test_sliding_windows_is_a_view_of_the_padded_windows():
    x = np.arange(2 * 5 * 4 * 3, dtype=np.float64).reshape(2, 5, 4, 3)
    sh, sw, pads = ref.window_geometry(x, 3, 2, (2, 1), "same")
    assert (sh, sw, pads) == (2, 1, [(1, 1), (0, 1)])
    xp = ref.pad_spatial(x, pads, value=-1.0)
    assert xp.shape == (2, 7, 5, 3) and xp[0, 0, 0, 0] == -1.0
    win = ref.sliding_windows(xp, 3, 2, sh, sw)
    assert win.shape == (2, 3, 4, 3, 3, 2)
    np.testing.assert_array_equal(win[1, 2, 3, :, :, :], xp[1, 4:7, 3:5, :].transpose(2, 0, 1))
    assert ref.pad_spatial(x, [(0, 0), (0, 0)]) is x


def test_size_errors():
    with pytest.raises(ValueError, match="n must be a positive int"):
        ref.conv_output_size(0, 3)
    with pytest.raises(ValueError, match="'valid' or 'same'"):
        ref.conv_output_size(5, 3, padding="full")
    with pytest.raises(ValueError, match="stride must be a positive int"):
        ref.same_padding(5, 3, 0)
