"""Tests of medtools.reference.conv, the NumPy convolution of chapter *Convolutional networks*.

Property-based (hypothesis) over shapes, strides 1-3, both paddings, channels and
float32/float64 against ``keras.layers.Conv2D`` and ``tf.GradientTape``; plus the
parameter and receptive-field formulas and the error messages for bad inputs.

Tolerance: the rounding bound of sums of products (fixture ``assert_rounding_close`` in
``conftest.py``, after Higham), relative to the size of the terms, not absolute.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medtools import reference as ref

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

SETTINGS = settings(max_examples=50, deadline=None, derandomize=True)
DTYPES = st.sampled_from(["float32", "float64"])
PADDINGS = st.sampled_from(["valid", "same"])


@st.composite
def conv_cases(draw):
    n = draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    padding = draw(PADDINGS)
    kh_max, kw_max = (5, 5) if padding == "same" else (min(5, h), min(5, w))
    kh, kw = draw(st.integers(1, kh_max)), draw(st.integers(1, kw_max))
    stride = draw(st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    c_in, c_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dtype = draw(DTYPES)
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(n, h, w, c_in)).astype(dtype)  # like images scaled to [0, 1]
    k = rng.normal(size=(kh, kw, c_in, c_out)).astype(dtype)
    b = rng.normal(size=c_out).astype(dtype) if bias else None
    return x, k, b, stride, padding, dtype


def _keras_conv(x, k, b, stride, padding, dtype):
    layer = keras.layers.Conv2D(
        k.shape[-1], k.shape[:2], strides=stride, padding=padding, use_bias=b is not None, dtype=dtype
    )
    layer.build(x.shape)
    layer.set_weights([k] if b is None else [k, b])
    return layer


# --- forward convolution --------------------------------------------------------


@SETTINGS
@given(conv_cases())
def test_conv2d_matches_keras(assert_rounding_close, case):
    x, k, b, stride, padding, dtype = case
    layer = _keras_conv(x, k, b, stride, padding, dtype)
    theirs = np.asarray(layer(x))
    ours = ref.conv2d(x, k, b, stride=stride, padding=padding)
    assert ours.dtype == np.dtype(dtype)
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    assert ours.shape == (
        x.shape[0],
        ref.conv_output_size(x.shape[1], k.shape[0], sh, padding),
        ref.conv_output_size(x.shape[2], k.shape[1], sw, padding),
        k.shape[3],
    )
    scale = ref.conv2d(np.abs(x), np.abs(k), None if b is None else np.abs(b), stride, padding)
    assert_rounding_close(ours, theirs, scale, k.shape[0] * k.shape[1] * k.shape[2] + 1, dtype)


def test_conv2d_float32_images_within_1e5_absolute():
    """The chapter's claim: on [0, 1] images with Keras' default (Glorot) weights, 1e-5 absolute."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(4, 28, 28, 3)).astype("float32")
    for stride, padding in [(1, "valid"), (2, "same"), (3, "same")]:
        layer = keras.layers.Conv2D(16, 5, strides=stride, padding=padding, bias_initializer="random_normal")
        theirs = np.asarray(layer(x))
        k, b = (v.numpy() for v in (layer.kernel, layer.bias))
        np.testing.assert_allclose(ref.conv2d(x, k, b, stride, padding), theirs, rtol=0, atol=1e-5)


def test_im2col_times_kernel_is_conv2d_and_a_loop():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 7, 6, 3))
    k = rng.normal(size=(3, 2, 3, 4))
    b = rng.normal(size=4)
    cols = ref.im2col(x, 3, 2, stride=2, padding="same")
    y = ref.conv2d(x, k, b, stride=2, padding="same")
    np.testing.assert_allclose(cols @ k.reshape(-1, 4) + b, y, rtol=1e-12)
    (pt, _), (pl, _) = ref.same_padding(7, 3, 2), ref.same_padding(6, 2, 2)
    xp = np.pad(x, ((0, 0), ref.same_padding(7, 3, 2), ref.same_padding(6, 2, 2), (0, 0)))
    loop = np.zeros_like(y)
    for i in range(y.shape[1]):
        for j in range(y.shape[2]):
            for o in range(4):
                loop[:, i, j, o] = b[o] + np.sum(xp[:, 2 * i : 2 * i + 3, 2 * j : 2 * j + 2, :] * k[..., o], axis=(1, 2, 3))
    np.testing.assert_allclose(y, loop, rtol=1e-12)
    assert (pt, pl) == (1, 0)


def test_conv2d_is_scipy_correlation_not_convolution():
    signal = pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(2)
    img, k = rng.normal(size=(9, 8)), rng.normal(size=(3, 4))
    ours = ref.conv2d(img[None, :, :, None], k[:, :, None, None])[0, :, :, 0]
    np.testing.assert_allclose(ours, signal.correlate2d(img, k, mode="valid"), rtol=1e-12)
    np.testing.assert_allclose(ours, signal.convolve2d(img, k[::-1, ::-1], mode="valid"), rtol=1e-12)
    assert not np.allclose(ours, signal.convolve2d(img, k, mode="valid"))


# --- gradient -------------------------------------------------------------------


@SETTINGS
@given(conv_cases())
def test_conv2d_grad_matches_gradient_tape(assert_rounding_close, case):
    x, k, b, stride, padding, dtype = case
    b = np.zeros(k.shape[-1], dtype) if b is None else b
    layer = _keras_conv(x, k, b, stride, padding, dtype)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = layer(xt)
        g = np.random.default_rng(3).normal(size=y.shape).astype(dtype)
        loss = tf.reduce_sum(y * g)  # so dL/dy = g
    gx, gk, gb = (np.asarray(t) for t in tape.gradient(loss, [xt, layer.kernel, layer.bias]))
    dx, dk, db = ref.conv2d_grad(x, k, g, stride=stride, padding=padding)
    assert (dx.dtype, dk.dtype, db.dtype) == (np.dtype(dtype),) * 3
    ax, ak, ag = np.abs(x), np.abs(k), np.abs(g)
    sx, sk, _ = ref.conv2d_grad(ax, ak, ag, stride, padding)  # sums of |terms|
    n_out = g.shape[0] * g.shape[1] * g.shape[2]
    assert_rounding_close(dx, gx, sx, k.shape[0] * k.shape[1] * k.shape[3], dtype)
    assert_rounding_close(dk, gk, sk, n_out, dtype)
    assert_rounding_close(db, gb, ag.sum(axis=(0, 1, 2)), n_out, dtype)


def test_conv2d_grad_is_full_convolution_with_flipped_kernel():
    rng = np.random.default_rng(4)
    x, k = rng.normal(size=(2, 8, 9, 3)), rng.normal(size=(3, 4, 3, 5))
    g = rng.normal(size=(2, 6, 6, 5))
    dx, dk, db = ref.conv2d_grad(x, k, g)
    full = ref.conv2d(np.pad(g, ((0, 0), (2, 2), (3, 3), (0, 0))), k[::-1, ::-1].transpose(0, 1, 3, 2))
    np.testing.assert_allclose(dx, full, rtol=1e-12)
    np.testing.assert_allclose(dk, np.einsum("nhwk,nhwo->ko", ref.im2col(x, 3, 4), g).reshape(k.shape), rtol=1e-10)
    np.testing.assert_allclose(db, g.sum(axis=(0, 1, 2)))


# --- parameters, receptive field -----------------------------------------------


def test_conv2d_params_matches_keras():
    for kh, kw, c_in, c_out, bias in [(3, 3, 3, 32, True), (3, 3, 32, 64, True), (5, 1, 2, 7, False)]:
        layer = keras.layers.Conv2D(c_out, (kh, kw), use_bias=bias)
        layer.build((None, 16, 16, c_in))
        assert layer.count_params() == ref.conv2d_params(kh, kw, c_in, c_out, bias)
    assert ref.conv2d_params(3, 3, 3, 32) == 896


def test_receptive_field_of_the_articles_stack():
    stack = [(3, 1), (2, 2)] * 3
    assert ref.receptive_field_table(stack) == [(3, 1), (4, 2), (8, 2), (10, 4), (18, 4), (22, 8)]
    assert ref.receptive_field(stack) == 22
    layers = [keras.layers.Conv2D(4, 3), keras.layers.MaxPooling2D(2)] * 3
    assert ref.receptive_field(layers) == 22
    assert ref.receptive_field([(3, 1, 2)]) == 5  # dilation 2 spreads a 3-tap kernel over 5 pixels


def test_receptive_field_is_the_support_of_the_input_gradient():
    stack = [(3, 1), (2, 2), (5, 2), (3, 1), (2, 2)]
    layers = []
    for k, s in stack:
        if s == 1 or k == 5:
            layers.append(keras.layers.Conv2D(1, k, strides=s, kernel_initializer="ones", use_bias=False))
        else:
            layers.append(keras.layers.AveragePooling2D(k, strides=s))
    model = keras.Sequential([keras.Input((48, 48, 1)), *layers])
    x = tf.zeros((1, 48, 48, 1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model(x)
        centre = y[0, y.shape[1] // 2, y.shape[2] // 2, 0]
    support = np.asarray(tape.gradient(centre, x))[0, :, :, 0] != 0
    rows = np.flatnonzero(support.any(axis=1))
    assert rows.max() - rows.min() + 1 == ref.receptive_field(stack)


def test_bad_inputs_raise_clear_errors():
    x = np.zeros((2, 8, 8, 3), np.float32)
    k = np.zeros((3, 3, 1, 4), np.float32)
    with pytest.raises(ValueError, match=r"x has 3 input channel.*w expects 1.*\(kh, kw, 3, C_out\)"):
        ref.conv2d(x, k)
    with pytest.raises(ValueError, match=r"\(N, H, W, C\).*x\[None\]"):
        ref.conv2d(x[0], k)
    with pytest.raises(ValueError, match=r"\(kh, kw, C_in, C_out\)"):
        ref.conv2d(x, k[..., 0])
    with pytest.raises(TypeError, match="to_float"):
        ref.conv2d(x.astype(np.uint8), k)
    with pytest.raises(ValueError, match=r"b must have shape \(C_out,\) = \(4,\)"):
        ref.conv2d(x, np.zeros((3, 3, 3, 4), np.float32), np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="'valid' or 'same'"):
        ref.conv2d(x, np.zeros((3, 3, 3, 4), np.float32), padding="full")
    for bad in (0, -1):
        with pytest.raises(ValueError, match="stride must be >= 1"):
            ref.conv2d(x, np.zeros((3, 3, 3, 4), np.float32), stride=bad)
    for bad in (1.5, True, (1, 2, 3)):
        with pytest.raises(TypeError, match="stride must be a positive int"):
            ref.conv2d(x, np.zeros((3, 3, 3, 4), np.float32), stride=bad)
    with pytest.raises(ValueError, match="output would be empty"):
        ref.conv2d(x, np.zeros((9, 3, 3, 4), np.float32))
    with pytest.raises(ValueError, match="grad_out must have the shape"):
        ref.conv2d_grad(x, np.zeros((3, 3, 3, 4), np.float32), np.zeros((2, 8, 8, 4), np.float32))
    with pytest.raises(ValueError, match="empty"):
        ref.receptive_field([])
    with pytest.raises(ValueError, match="kernel must be a positive int"):
        ref.receptive_field([(0, 1)])
    with pytest.raises(ValueError, match="c_in must be a positive int"):
        ref.conv2d_params(3, 3, 0, 8)
