"""Tests of medtools.train: seeding is reproducible and the weight cache round-trips."""

from __future__ import annotations

import numpy as np
import pytest

from medtools import train


def _build():
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _fit(model):
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 4)).astype("float32"), rng.random((64, 1)).astype("float32")
    return model.fit(x, y, epochs=2, batch_size=16, verbose=0).history


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
    calls = []
    m2, r2 = train.fit_cached(_build, lambda m: calls.append(1) or {}, spec)
    assert r2["cached"] is True and not calls
    assert r2["train_seconds"] == pytest.approx(r1["train_seconds"])
    for w1, w2 in zip(m1.get_weights(), m2.get_weights(), strict=True):
        np.testing.assert_array_equal(w1, w2)
    assert train.cache_key(spec) != train.cache_key({**spec, "seed": 2})
    _, r3 = train.fit_cached(_build, _fit, spec, cache=False)
    assert r3["cached"] is False
