"""Tests of medtools.privacy.federated: Dirichlet splits, the server's average, FedAvg and its byte count, the chapter's CNN."""

from __future__ import annotations

import numpy as np
import pytest

from medtools import privacy

tf = pytest.importorskip("tensorflow")

from medtools import models  # noqa: E402  (imports Keras)


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


def test_model_bytes_of_the_chapters_model() -> None:
    m = models.small_cnn(filters=(8, 16), head="flatten")
    assert m.count_params() == 2033 and privacy.model_bytes(m) == 4 * 2033  # float32 weights, all trainable


@pytest.mark.data
def test_federated_averaging_bytes_and_rounds(tiny_pneumonia) -> None:
    import keras

    from medtools import data

    x, y = tiny_pneumonia
    x = data.to_float(x)
    keras.utils.set_random_seed(0)
    m = models.small_cnn(filters=(4,), head="flatten", optimizer="sgd", learning_rate=0.01)
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
    m = models.small_cnn(filters=(4,), head="flatten", optimizer="sgd", learning_rate=0.01)
    honest = privacy.federated_averaging(m, clients, rounds=1, batch_size=16)["bytes"]
    monkeypatch.setattr(privacy.federated, "model_bytes", lambda model: 0)
    keras.utils.set_random_seed(0)
    m = models.small_cnn(filters=(4,), head="flatten", optimizer="sgd", learning_rate=0.01)
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
