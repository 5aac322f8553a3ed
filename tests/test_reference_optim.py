"""medtools.reference.optim: SGD, momentum and Adam steps (chapter *The workflow*) against Keras 3."""

from __future__ import annotations

import numpy as np
import pytest

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


def test_errors():
    with pytest.raises(ValueError, match="same shape"):
        ref.sgd_step(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="momentum"):
        ref.momentum_step(np.zeros(2), np.zeros(2), momentum=1.5)
    with pytest.raises(ValueError, match=r"state\.m"):
        ref.adam_step(np.zeros(2), np.zeros(2), ref.adam_init(np.zeros(3)))


def test_float32_stays_float32_and_ints_are_promoted():
    theta, g = np.ones(3, np.float32), np.full(3, 0.5, np.float32)
    assert ref.sgd_step(theta, g).dtype == np.float32
    assert ref.adam_step(theta, g)[0].dtype == np.float32
    assert ref.sgd_step(np.ones(3, int), np.ones(3, int)).dtype == np.float64
