"""Tests of medtools.privacy.dp: per-example gradients, clipping and noise, the DP-SGD loop, the accountant."""

from __future__ import annotations

import math

import numpy as np
import pytest

from medtools import privacy

tf = pytest.importorskip("tensorflow")

from medtools import models  # noqa: E402  (imports Keras)


def test_per_example_gradients_match_a_loop() -> None:
    import keras

    keras.utils.set_random_seed(0)
    m = models.small_cnn(filters=(4,), head="flatten", optimizer="adam")
    rng = np.random.default_rng(0)
    x = rng.random((5, 28, 28, 1), dtype=np.float32)
    y = np.array([0, 1, 1, 0, 1])
    grads = privacy.per_example_gradients(m, x, y)
    for i in range(5):
        with tf.GradientTape() as tape:
            loss = keras.losses.binary_crossentropy(y[i : i + 1, None].astype("float32"), m(x[i : i + 1]))[0]
        for g, ref in zip(grads, tape.gradient(loss, m.trainable_variables), strict=True):
            np.testing.assert_allclose(g[i], ref.numpy(), rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="empty"):
        privacy.per_example_gradients(m, x[:0], y[:0])


def test_privatise_clips_and_adds_scaled_noise() -> None:
    rng = np.random.default_rng(0)
    g = [rng.normal(size=(4, 3)).astype(np.float32) * 10, rng.normal(size=(4, 2)).astype(np.float32)]
    c = 1.5
    # No noise: the mean of the clipped gradients.
    out = privacy.privatise(g, c, 0.0, expected_batch=4)
    norms = np.sqrt((g[0] ** 2).sum(1) + (g[1] ** 2).sum(1))
    f = 1 / np.maximum(1, norms / c)
    np.testing.assert_allclose(out[0].numpy(), (f[:, None] * g[0]).sum(0) / 4, rtol=1e-5)
    np.testing.assert_allclose(out[1].numpy(), (f[:, None] * g[1]).sum(0) / 4, rtol=1e-5)
    # Given noise z: adds sigma * C * z / (qN).
    z = [np.ones(3, np.float32), np.ones(2, np.float32)]
    noisy = privacy.privatise(g, c, 2.0, expected_batch=4, noise=z)
    np.testing.assert_allclose(noisy[0].numpy() - out[0].numpy(), 2.0 * c / 4, rtol=1e-5)
    for bad in (0.0, -1.0, math.inf):
        with pytest.raises(ValueError, match="clipping norm"):
            privacy.privatise(g, bad, 1.0, expected_batch=4)
    with pytest.raises(ValueError, match="noise multiplier"):
        privacy.privatise(g, 1.0, -0.5, expected_batch=4)


def test_dp_train_runs_and_checks_its_input() -> None:
    import keras

    keras.utils.set_random_seed(0)
    m = models.small_cnn(filters=(4,), head="flatten", optimizer="adam")
    rng = np.random.default_rng(0)
    x = rng.random((40, 28, 28, 1), dtype=np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype(np.int64)
    before = [w.copy() for w in m.get_weights()]
    h = privacy.dp_train(m, x, y, clip_norm=1.0, noise_multiplier=1.0, sampling_rate=0.25, steps=3, seed=0)
    assert len(h["loss"]) == 3 and len(h["batch_size"]) == 3
    assert any(not np.array_equal(a, b) for a, b in zip(before, m.get_weights(), strict=True))
    with pytest.raises(ValueError, match="clipping norm"):
        privacy.dp_train(m, x, y, clip_norm=0.0, noise_multiplier=1.0, sampling_rate=0.25, steps=1)
    with pytest.raises(ValueError, match="sampling_rate"):
        privacy.dp_train(m, x, y, clip_norm=1.0, noise_multiplier=1.0, sampling_rate=1.5, steps=1)


def test_epsilon_from_the_accountant() -> None:
    sigma, steps, delta = 1.0, 100, 1e-5
    eps = privacy.dp_epsilon(sigma, 1.0, steps, delta)
    # Without subsampling, composition in RDP: eps(a) = T a / (2 sigma^2); the classic conversion
    # eps = min_a eps(a) + log(1/delta) / (a - 1) is an upper bound on what the accountant reports.
    orders = np.linspace(1.01, 200, 20000)
    classic = np.min(steps * orders / (2 * sigma**2) + np.log(1 / delta) / (orders - 1))
    assert eps <= classic + 1e-9 and eps > 0.8 * classic
    # Subsampling and more noise lower epsilon; PLD is tighter than RDP.
    q = 0.01
    e_rdp = privacy.dp_epsilon(sigma, q, steps, delta)
    assert e_rdp < eps and privacy.dp_epsilon(2 * sigma, q, steps, delta) < e_rdp
    assert privacy.dp_epsilon(sigma, q, steps, delta, accountant="pld") <= e_rdp * 1.01
    # Calibration inverts it.
    s = privacy.dp_noise_multiplier(2.0, q, steps, delta)
    assert privacy.dp_epsilon(s, q, steps, delta) <= 2.0 + 1e-6
    assert privacy.dp_epsilon(0.95 * s, q, steps, delta) > 2.0


@pytest.mark.parametrize("delta", [0.0, 1.0, -1e-5, 2.0])
def test_bad_delta(delta: float) -> None:
    with pytest.raises(ValueError, match="δ"):
        privacy.dp_epsilon(1.0, 0.01, 10, delta)


@pytest.mark.parametrize("epsilon", [0.0, -1.0, math.inf, math.nan])
def test_bad_epsilon(epsilon: float) -> None:
    with pytest.raises(ValueError, match="ε"):
        privacy.dp_noise_multiplier(epsilon, 0.01, 10, 1e-5)


def test_bad_sigma_and_accountant() -> None:
    with pytest.raises(ValueError, match="noise multiplier"):
        privacy.dp_epsilon(0.0, 0.01, 10, 1e-5)
    with pytest.raises(ValueError, match="accountant"):
        privacy.dp_epsilon(1.0, 0.01, 10, 1e-5, accountant="moments")
    with pytest.raises(ValueError, match="steps"):
        privacy.dp_epsilon(1.0, 0.01, 0, 1e-5)
