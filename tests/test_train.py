"""Tests of medtools.train: seeding is reproducible and the weight cache round-trips."""

from __future__ import annotations

import numpy as np
import pytest

from medtools import train


def _build(width: int = 3, learning_rate: float = 1e-3):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(width), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    return model


CALLS: list[int] = []


def _fit(model):
    CALLS.append(1)
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 4)).astype("float32"), rng.random((64, 1)).astype("float32")
    return model.fit(x, y, epochs=2, batch_size=16, verbose=0).history


def _fit_longer(model):
    CALLS.append(1)
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 4)).astype("float32"), rng.random((64, 1)).astype("float32")
    return model.fit(x, y, epochs=3, batch_size=16, verbose=0).history


def test_set_seed_is_reproducible():
    train.set_seed(7)
    a = _build().get_weights()[0]
    train.set_seed(7)
    b = _build().get_weights()[0]
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="non-negative int"):
        train.set_seed(-1)


def test_fit_cached_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv(train.CACHE_DIR_ENV, str(tmp_path))
    spec = {"model": "tiny", "seed": 1}
    train.set_seed(1)
    m1, r1 = train.fit_cached(_build, _fit, spec)
    assert r1["cached"] is False and len(r1["history"]["loss"]) == 2 and r1["train_seconds"] > 0
    CALLS.clear()
    m2, r2 = train.fit_cached(_build, _fit, spec)
    assert r2["cached"] is True and not CALLS
    assert r2["train_seconds"] == pytest.approx(r1["train_seconds"])
    for w1, w2 in zip(m1.get_weights(), m2.get_weights(), strict=True):
        np.testing.assert_array_equal(w1, w2)
    assert train.cache_key(spec) != train.cache_key({**spec, "seed": 2})
    assert train.cache_key({"dataset": "pneumoniamnist"}) != train.cache_key({"dataset": "breastmnist"})
    _, r3 = train.fit_cached(_build, _fit, spec, cache=False)
    assert r3["cached"] is False


@pytest.mark.parametrize(
    "changed",
    [
        ("a builder argument (layer width)", lambda: _build(width=5), _fit),
        ("a compile argument (learning rate)", lambda: _build(learning_rate=1e-2), _fit),
        ("the training function", _build, _fit_longer),
    ],
    ids=["width", "learning-rate", "train-function"],
)
def test_fit_cached_misses_when_what_the_weights_depend_on_changes(tmp_path, monkeypatch, changed):
    """The spec alone does not name the model: the key must see the model and the training code."""
    _, build, fit = changed
    monkeypatch.setenv(train.CACHE_DIR_ENV, str(tmp_path))
    spec = {"model": "tiny", "seed": 0}
    train.set_seed(0)
    _, first = train.fit_cached(_build, _fit, spec)
    CALLS.clear()
    train.set_seed(0)
    _, second = train.fit_cached(build, fit, spec)
    assert second["cached"] is False and CALLS == [1]
    assert second["key"] != first["key"]


def test_fit_cached_key_ignores_automatic_layer_names(tmp_path, monkeypatch):
    """Keras numbers layer names per session (dense, dense_7): the same model must hit the cache."""
    import keras

    monkeypatch.setenv(train.CACHE_DIR_ENV, str(tmp_path))
    keras.backend.clear_session()
    a = _build()
    b = _build()
    assert a.layers[0].name != b.layers[0].name
    assert train.cache_key({}, a, _fit) == train.cache_key({}, b, _fit)


def test_fit_cached_key_depends_on_the_numeric_path(monkeypatch):
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    default = train.cache_key({"seed": 0})
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    assert train.cache_key({"seed": 0}) != default


def test_fit_cached_warns_and_retrains_on_an_unreadable_entry(tmp_path, monkeypatch):
    monkeypatch.setenv(train.CACHE_DIR_ENV, str(tmp_path))
    spec = {"model": "tiny", "seed": 3}
    train.set_seed(3)
    _, r1 = train.fit_cached(_build, _fit, spec)
    entry = tmp_path / r1["key"]
    (entry / "model.weights.h5").write_bytes(b"not an HDF5 file")
    CALLS.clear()
    with pytest.warns(RuntimeWarning, match="could not be read"):
        _, r2 = train.fit_cached(_build, _fit, spec)
    assert r2["cached"] is False and CALLS == [1]
    _, r3 = train.fit_cached(_build, _fit, spec)  # the entry was replaced by a good one
    assert r3["cached"] is True
    assert not list(tmp_path.glob("*.tmp-*"))  # atomic write: no temporary folder left behind


def test_balanced_class_weights_match_the_formula_and_sklearn() -> None:
    from medtools.train import balanced_class_weights

    y = np.array([0] * 25 + [1] * 75)
    w = balanced_class_weights(y)
    assert w == pytest.approx({0: 100 / 50, 1: 100 / 150})
    sklearn = pytest.importorskip("sklearn.utils.class_weight")
    ref = sklearn.compute_class_weight("balanced", classes=np.array([0, 1]), y=y)
    assert [w[0], w[1]] == pytest.approx(ref.tolist())
    assert balanced_class_weights(np.array([0, 1, 1, 1])) == {0: 2.0, 1: pytest.approx(2 / 3)}
    with pytest.raises(ValueError, match="needs an example"):
        balanced_class_weights(np.array([0, 0, 2, 2]))
    with pytest.raises(ValueError, match="at least one"):
        balanced_class_weights(np.array([], dtype=int))


def test_data_fingerprint_keys_on_the_arrays_not_their_name():
    x = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    y = np.array([0, 1])
    base = train.data_fingerprint((x, y))
    assert base == train.data_fingerprint((x.copy(), y.copy()))  # same arrays, another object: same key
    changed = x.copy()
    changed[1, 2, 3] += 1
    # one changed pixel, another dtype, another shape of the same bytes, a subset: each a new key; a
    # fingerprint of names or lengths only would miss them
    for other in [(changed, y), (x.astype(np.int16), y), (x.reshape(2, 12), y), (x[:1], y[:1]), (y, x)]:
        assert train.data_fingerprint(other) != base
    assert train.data_fingerprint({"b": y, "a": x}) == train.data_fingerprint({"a": x, "b": y})
    with pytest.raises(TypeError, match="Pass the arrays"):
        train.data_fingerprint(["not an array"])


def test_cache_key_with_data_differs_and_without_is_unchanged():
    spec = {"dataset": "breastmnist", "seed": 0}
    x = np.zeros((2, 2), np.uint8)
    assert train.cache_key(spec) == train.cache_key(spec, data=None)  # old entries keep their keys
    assert train.cache_key(spec, data=x) != train.cache_key(spec, data=x + 1)
