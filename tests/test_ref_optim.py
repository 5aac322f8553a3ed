"""medtools.reference losses and optimiser steps (chapter *The workflow*) against Keras 3."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medtools import reference as ref

keras = pytest.importorskip("keras")


def keras_trajectory(opt, theta0: np.ndarray, grads: list[np.ndarray]) -> list[np.ndarray]:
    """Parameters after each of ``len(grads)`` Keras optimiser steps (float32 variable)."""
    var = keras.Variable(theta0.astype(np.float32))
    out = []
    for g in grads:
        opt.apply_gradients([(keras.ops.convert_to_tensor(g.astype(np.float32)), var)])
        out.append(np.array(var.numpy()))
    return out


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    theta0 = rng.normal(size=(3, 4)).astype(np.float32)
    grads = [rng.normal(scale=s, size=(3, 4)).astype(np.float32) for s in (1.0, 0.1, 3.0, 1e-3, 0.5)]
    return theta0, grads


def test_sgd_matches_keras(problem):
    theta0, grads = problem
    expected = keras_trajectory(keras.optimizers.SGD(learning_rate=0.05), theta0, grads)
    theta = theta0
    for g, e in zip(grads, expected, strict=True):
        theta = ref.sgd_step(theta, g, lr=0.05)
        np.testing.assert_allclose(theta, e, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_matches_keras(problem, nesterov):
    theta0, grads = problem
    opt = keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=nesterov)
    expected = keras_trajectory(opt, theta0, grads)
    theta, vel = theta0, None
    for g, e in zip(grads, expected, strict=True):
        theta, vel = ref.momentum_step(theta, g, vel, lr=0.05, momentum=0.9, nesterov=nesterov)
        np.testing.assert_allclose(theta, e, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("epsilon", [1e-7, 1e-1])
def test_adam_matches_keras(problem, epsilon):
    theta0, grads = problem
    opt = keras.optimizers.Adam(learning_rate=0.01, epsilon=epsilon)
    expected = keras_trajectory(opt, theta0, grads)
    theta, state = theta0, None
    for g, e in zip(grads, expected, strict=True):
        theta, state = ref.adam_step(theta, g, state, lr=0.01, epsilon=epsilon)
        np.testing.assert_allclose(theta, e, rtol=1e-6, atol=1e-6)
    assert state.t == len(grads)


def test_adam_first_step_has_effective_epsilon():
    # bias corrections folded into alpha_t: the first step is lr * g / (|g| + eps / sqrt(1 - beta_2)),
    # about lr * sign(g) unless |g| is comparable to eps / sqrt(1 - beta_2) ~ 3.2e-6
    g = np.array([1e-3, -2.0, 5.0, 1e-6])
    theta, _ = ref.adam_step(np.zeros(4), g, lr=0.1)
    np.testing.assert_allclose(theta, -0.1 * g / (np.abs(g) + 1e-7 / np.sqrt(1 - 0.999)), rtol=1e-12)
    np.testing.assert_allclose(theta[:3], -0.1 * np.sign(g[:3]), rtol=5e-3)


def test_pure_functions_do_not_modify_inputs():
    theta = np.ones(3)
    g = np.full(3, 0.5)
    state = ref.adam_init(theta)
    ref.adam_step(theta, g, state)
    ref.momentum_step(theta, g, np.zeros(3))
    ref.sgd_step(theta, g)
    np.testing.assert_array_equal(theta, np.ones(3))
    np.testing.assert_array_equal(state.m, 0)
    assert state.t == 0


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


def test_errors():
    with pytest.raises(ValueError, match="same shape"):
        ref.sgd_step(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="logits"):
        ref.binary_crossentropy(np.array([1.0]), np.array([2.5]))
    with pytest.raises(ValueError, match="same shape"):
        ref.mse(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="momentum"):
        ref.momentum_step(np.zeros(2), np.zeros(2), momentum=1.5)
    with pytest.raises(ValueError, match=r"state\.m"):
        ref.adam_step(np.zeros(2), np.zeros(2), ref.adam_init(np.zeros(3)))
