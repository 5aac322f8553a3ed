"""Tests of medtools.privacy: Dirichlet splits, FedAvg, DP-SGD pieces, the accountant, membership AUC."""

from __future__ import annotations

import math

import numpy as np
import pytest

from medtools import privacy

tf = pytest.importorskip("tensorflow")


def test_dirichlet_split_partitions_the_data() -> None:
    y = np.repeat(np.arange(2), [300, 700]).astype(np.int64)
    parts = privacy.dirichlet_split(y, 4, 0.5, seed=1)
    assert len(parts) == 4 and all(len(p) >= 20 for p in parts)
    joined = np.concatenate(parts)
    assert np.array_equal(np.sort(joined), np.arange(1000))  # disjoint and complete
    again = privacy.dirichlet_split(y, 4, 0.5, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again, strict=True))  # reproducible
    # Small alpha gives unequal label mixes; a large one gives nearly the global mix.
    spread = lambda a: np.std([y[p].mean() for p in privacy.dirichlet_split(y, 4, a, seed=2)])  # noqa: E731
    assert spread(0.1) > spread(1000.0)
    assert spread(1000.0) < 0.05


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"n_clients": 1, "alpha": 1.0}, "n_clients"),
        ({"n_clients": 3, "alpha": 0.0}, "alpha"),
        ({"n_clients": 3, "alpha": 1.0, "min_size": 500}, "min_size"),
    ],
)
def test_dirichlet_split_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        privacy.dirichlet_split(np.zeros(100, np.int64), **kwargs)
    with pytest.raises(ValueError, match="integer"):
        privacy.dirichlet_split(np.zeros(10), 2, 1.0)


def test_average_weights_is_the_size_weighted_mean() -> None:
    rng = np.random.default_rng(0)
    w = [[rng.normal(size=(3, 2)), rng.normal(size=2)] for _ in range(3)]
    sizes = [10, 30, 60]
    avg = privacy.average_weights(w, sizes)
    for i in range(2):
        np.testing.assert_allclose(avg[i], np.average([c[i] for c in w], axis=0, weights=sizes), rtol=1e-6)
    with pytest.raises(ValueError, match="one size per client"):
        privacy.average_weights(w, [1, 2])
    with pytest.raises(ValueError, match="positive"):
        privacy.average_weights(w, [1, 0, 2])


def test_small_cnn_and_bytes() -> None:
    m = privacy.small_cnn()
    assert m.count_params() == 2033 and privacy.model_bytes(m) == 4 * 2033
    assert m.output_shape == (None, 1)
    with pytest.raises(ValueError, match="optimizer"):
        privacy.small_cnn(optimizer="rmsprop")
    with pytest.raises(ValueError, match="widths"):
        privacy.small_cnn(widths=())


def test_per_example_gradients_match_a_loop() -> None:
    import keras

    keras.utils.set_random_seed(0)
    m = privacy.small_cnn(widths=(4,))
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
    m = privacy.small_cnn(widths=(4,))
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


def test_membership_auc_is_mann_whitney() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    a, b = rng.exponential(0.5, 200), rng.exponential(1.0, 300)
    a[:10] = b[:10]  # ties
    ref = roc_auc_score(np.r_[np.ones(200), np.zeros(300)], -np.r_[a, b])
    assert privacy.membership_auc(a, b) == pytest.approx(ref, abs=1e-12)
    assert privacy.membership_auc(np.zeros(5), np.ones(5)) == 1.0
    assert privacy.membership_auc(np.ones(5), np.ones(5)) == 0.5
    with pytest.raises(ValueError, match="non-empty"):
        privacy.membership_auc(np.array([]), b)


def test_per_example_loss_is_keras_bce() -> None:
    import keras

    keras.utils.set_random_seed(0)
    m = privacy.small_cnn(widths=(4,))
    x = np.random.default_rng(1).random((6, 28, 28, 1), dtype=np.float32)
    y = np.array([0, 1, 0, 1, 1, 0])
    ours = privacy.per_example_loss(m, x, y)
    ref = keras.losses.binary_crossentropy(y[:, None].astype("float32"), m.predict(x, verbose=0)).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.data
def test_federated_averaging_bytes_and_rounds(tiny_pneumonia) -> None:
    import keras

    from medtools import data

    x, y = tiny_pneumonia
    x = data.to_float(x)
    keras.utils.set_random_seed(0)
    m = privacy.small_cnn(widths=(4,), optimizer="sgd", learning_rate=0.01)
    parts = privacy.dirichlet_split(y, 2, 1.0, seed=0, min_size=8)
    seen = []
    h = privacy.federated_averaging(
        m, [(x[p], y[p]) for p in parts], rounds=2, batch_size=16, on_round=lambda r, _: seen.append(r)
    )
    assert seen == [1, 2] and h["round"] == [1.0, 2.0]
    # Measured bytes agree with the formula: 2 clients, weights down and up, per round.
    assert h["bytes"] == [2 * 2 * privacy.model_bytes(m) * r for r in (1, 2)]
    with pytest.raises(ValueError, match="rounds"):
        privacy.federated_averaging(m, [(x, y)], rounds=0)


@pytest.mark.data
def test_federated_averaging_measures_bytes_not_a_formula(tiny_pneumonia, monkeypatch) -> None:
    """The byte count comes from the arrays exchanged, so a wrong formula cannot hide in it."""
    import keras
    from keras import layers

    from medtools import data

    x, y = tiny_pneumonia
    x = data.to_float(x)
    clients = [(x[:32], y[:32]), (x[32:], y[32:])]
    # A formula bug (here: the byte count of the model is zero) leaves the measured history unchanged.
    keras.utils.set_random_seed(0)
    m = privacy.small_cnn(widths=(4,), optimizer="sgd", learning_rate=0.01)
    honest = privacy.federated_averaging(m, clients, rounds=1, batch_size=16)["bytes"]
    monkeypatch.setattr(privacy, "model_bytes", lambda model: 0)
    keras.utils.set_random_seed(0)
    m = privacy.small_cnn(widths=(4,), optimizer="sgd", learning_rate=0.01)
    assert privacy.federated_averaging(m, clients, rounds=1, batch_size=16)["bytes"] == honest
    monkeypatch.undo()
    # A model with non-trainable weights (batch-norm statistics) also sends them: the measured count
    # is the size of all get_weights() arrays, more than the trainable-only formula of model_bytes.
    inputs = keras.Input((28, 28, 1))
    h = layers.Conv2D(4, 3, activation="relu")(inputs)
    h = layers.BatchNormalization()(h)
    outputs = layers.Dense(1, activation="sigmoid")(layers.GlobalAveragePooling2D()(h))
    bn = keras.Model(inputs, outputs)
    bn.compile(optimizer=keras.optimizers.SGD(0.01), loss="binary_crossentropy")
    sent = privacy.federated_averaging(bn, clients, rounds=1, batch_size=16)["bytes"][0]
    all_weights = sum(w.nbytes for w in bn.get_weights())
    assert sent == 2 * 2 * all_weights and sent > 2 * 2 * privacy.model_bytes(bn)


def test_membership_tpr_bound_is_the_privacy_region() -> None:
    eps, delta = 1.0, 1e-3
    a = np.linspace(0, 1, 1001)
    tpr = privacy.dp_membership_tpr_bound(a, eps, delta)
    # Both inequalities of the region hold with equality somewhere and are never violated.
    miss = 1 - tpr
    assert np.all(a + np.exp(eps) * miss >= 1 - delta - 1e-12)
    assert np.all(np.exp(eps) * a + miss >= 1 - delta - 1e-12)
    assert tpr[0] == pytest.approx(delta) and tpr[-1] == 1.0
    # The kink where the two lines cross: alpha_1 = (1 - delta) / (e^eps + 1).
    a1 = (1 - delta) / (np.exp(eps) + 1)
    assert privacy.dp_membership_tpr_bound(a1, eps, delta) == pytest.approx(np.exp(eps) * a1 + delta)
    # eps = 0, delta = 0: no test beats chance; eps = inf: no bound.
    np.testing.assert_allclose(privacy.dp_membership_tpr_bound(a, 0.0, 0.0), a, atol=1e-12)
    assert np.all(privacy.dp_membership_tpr_bound(a, np.inf, 0.0) == 1.0)
    with pytest.raises(ValueError, match="fpr"):
        privacy.dp_membership_tpr_bound([1.5], 1.0, 0.0)


@pytest.mark.parametrize(
    "eps,delta,expected",
    [(8.0, 1e-3, 0.9997), (4.0, 1e-5, 0.982), (1.0, 1e-5, 0.731), (0.0, 0.0, 0.5)],
)
def test_membership_auc_bound(eps: float, delta: float, expected: float) -> None:
    # The closed form against a numeric integration of the TPR bound (trapezoids on a fine grid) ...
    a = np.linspace(0, 1, 200_001)
    tpr = privacy.dp_membership_tpr_bound(a, eps, delta)
    numeric = float(np.sum((tpr[1:] + tpr[:-1]) / 2 * np.diff(a)))
    closed = privacy.dp_membership_auc_bound(eps, delta)
    assert closed == pytest.approx(numeric, abs=1e-8)
    # ... and against the review's table (parts-iv-vi-rigor.md, S1), to its printed digits.
    assert round(closed, len(str(expected).split(".")[1])) == expected


def test_membership_auc_bound_shape_and_limits() -> None:
    eps = np.array([0.0, 1.0, 10.0, 1000.0, np.inf])
    out = privacy.dp_membership_auc_bound(eps, 1e-5)
    assert out.shape == (5,) and np.all(np.diff(out) >= 0)  # larger ε, weaker guarantee
    assert out[-1] == 1.0 and out[-2] == pytest.approx(1.0)  # no overflow at large ε
    assert privacy.dp_membership_auc_bound(1.0, 0.0) == pytest.approx(np.e / (1 + np.e))
    with pytest.raises(ValueError, match="ε"):
        privacy.dp_membership_auc_bound(-1.0, 1e-5)
    with pytest.raises(ValueError, match="δ"):
        privacy.dp_membership_auc_bound(1.0, 2.0)
