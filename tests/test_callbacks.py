"""Tests of medtools.callbacks.EpochMetrics and medtools.train.predict_proba."""

from __future__ import annotations

import numpy as np
import pytest

from medtools import metrics, train


def _tiny(units_out: int = 1):
    import keras

    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(units_out, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
    return model


def _data(n: int = 64, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = (rng.random((n, 4, 4, 1)) * 0.2 + y[:, None, None, None] * 0.5).astype(np.float32)
    return x, y


def test_epoch_metrics_records_every_split_and_restores_the_best_epoch():
    from medtools.callbacks import EpochMetrics

    train.set_seed(0)
    x, y = _data()
    xv, yv = _data(32, seed=1)
    model = _tiny()
    cb = EpochMetrics({"val": (xv, yv), "test": (xv, yv.reshape(-1, 1))}, restore_best=True)
    model.fit(x, y.astype("float32"), epochs=4, batch_size=16, verbose=0, callbacks=[cb])
    assert set(cb.history) == {"val_loss", "val_auc", "test_loss", "test_auc"}
    assert all(len(v) == 4 for v in cb.history.values())
    assert cb.history["val_auc"] == cb.history["test_auc"]  # (N,) and (N, 1) labels agree
    best = int(np.argmax(cb.history["val_auc"]))
    assert cb.best_epoch == best + 1
    # the restored weights are the best epoch's: their AUC is the recorded best
    assert metrics.medmnist_auc(yv, train.predict_proba(model, xv)) == pytest.approx(cb.history["val_auc"][best])


def test_epoch_metrics_bad_input():
    from medtools.callbacks import EpochMetrics

    with pytest.raises(ValueError, match="at least one split"):
        EpochMetrics({})
    x, y = _data(8)
    with pytest.raises(ValueError, match="monitor 'valid' is not one of the splits"):
        EpochMetrics({"val": (x, y)}, restore_best=True, monitor="valid")


def test_predict_proba_scales_uint8_and_checks_the_output_shape():
    train.set_seed(0)
    model = _tiny()
    x8 = np.random.default_rng(0).integers(0, 256, (10, 4, 4), dtype=np.uint8)
    p_uint8 = train.predict_proba(model, x8, batch_size=3)
    p_float = train.predict_proba(model, x8[..., None].astype(np.float32) / 255.0)
    assert p_uint8.shape == (10,) and p_uint8.dtype == np.float32
    np.testing.assert_allclose(p_uint8, p_float, rtol=1e-6)
    with pytest.raises(ValueError, match=r"output \(B, 1\)"):
        train.predict_proba(_tiny(units_out=2), x8)


def test_training_progress_writes_a_bar_to_stderr_and_leaves_training_alone(capsys):
    from medtools.callbacks import EpochMetrics, TrainingProgress

    x, y = _data()
    xv, yv = _data(32, seed=1)
    weights = {}
    for with_bar in (False, True):
        train.set_seed(0)
        model = _tiny()
        track = EpochMetrics({"val": (xv, yv)})
        cbs = [track, TrainingProgress("tiny / seed 0", metrics=track)] if with_bar else [track]
        model.fit(x, y.astype("float32"), epochs=3, batch_size=16, verbose=0, shuffle=False, callbacks=cbs)
        weights[with_bar] = [w.copy() for w in model.get_weights()]
    err = capsys.readouterr().err
    assert "tiny / seed 0" in err and "3/3" in err and "val_auc" in err
    for a, b in zip(weights[False], weights[True], strict=True):
        np.testing.assert_array_equal(a, b)  # the bar changes nothing in training
