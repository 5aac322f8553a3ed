"""Tests of the medtools.efficiency subpackage: latency, LiteRT conversion, distillation, data-parallel training,
the scaling study and its command line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from medtools import efficiency as eff
from medtools.efficiency import cli, scaling, workers


@pytest.fixture(scope="module")
def tiny_model():
    """A compact CNN on 16×16×1 images, untrained (weights from seed 0)."""
    import keras

    from medtools import models

    keras.utils.set_random_seed(0)
    return models.compact_cnn((16, 16, 1), widths=(4, 8), convs_per_stage=(1, 1), dropout=0.0)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((40, 16, 16, 1), dtype=np.float32)


# ----------------------------------------------------------------- latency


def test_measure_latency_counts_calls_and_reports_spread():
    calls = []
    lat = eff.measure_latency(lambda x: calls.append(len(x)) or x, np.zeros((4, 3)), warmup=2, repeats=5)
    assert calls == [4] * 7
    assert lat.times_s.shape == (5,) and lat.batch_size == 4
    q1, q3 = lat.quartiles_s
    assert q1 <= lat.median_s <= q3
    d = lat.as_dict()
    assert d["repeats"] == 5 and d["ms_per_image"] == pytest.approx(1000 * lat.median_s / 4)
    assert lat.images_per_s == pytest.approx(4 / lat.median_s)


@pytest.mark.parametrize(
    ("fn", "x", "kw", "match"),
    [
        (lambda x: x, np.zeros((2, 2)), {"repeats": 0}, "repeats >= 1"),
        (lambda x: x, np.zeros((2, 2)), {"warmup": -1}, "warmup >= 0"),
        ("not callable", np.zeros((2, 2)), {}, "callable"),
        (lambda x: x, np.zeros((0, 2)), {}, "non-empty"),
    ],
)
def test_measure_latency_bad_input(fn, x, kw, match):
    with pytest.raises(ValueError, match=match):
        eff.measure_latency(fn, x, **kw)


def test_keras_runner_matches_the_model(tiny_model, images):
    run = eff.keras_runner(tiny_model)
    np.testing.assert_allclose(run(images[:5]), tiny_model(images[:5], training=False).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="Keras model"):
        eff.keras_runner(42)


# ----------------------------------------------------------------- LiteRT


@pytest.mark.slow
def test_litert_float_and_int8(tiny_model, images):
    p_keras = tiny_model(images, training=False).numpy()[:, 0]
    f32 = eff.to_litert(tiny_model)
    np.testing.assert_allclose(eff.litert_predict(f32, images, batch_size=16), p_keras, atol=1e-5)
    q8 = eff.to_litert(tiny_model, int8=True, representative=images[:20])
    q8_tensor = eff.to_litert(tiny_model, int8=True, representative=images[:20], per_channel=False)
    assert len(q8_tensor) <= len(q8)  # one scale per tensor: fewer numbers stored
    for blob, n_scales in ((q8, 8), (q8_tensor, 1)):  # the second convolution has 8 output channels
        (kernel,) = [t for t in eff.litert_tensors(blob) if t["shape"] == (8, 3, 3, 4)]
        assert kernel["dtype"] == np.int8 and kernel["scales"].shape == (n_scales,)
        assert np.abs(kernel["value"].astype(int)).max() == 127  # symmetric: the largest weight maps to ±127
    # full integer: every tensor but the float32 input and output is an integer (int8, int32 biases); a
    # dynamic-range conversion (int8 weights, float activations) or a float fallback would keep float32 ones
    kinds = [np.dtype(t["dtype"]) for t in eff.litert_tensors(q8)]
    assert kinds.count(np.dtype(np.float32)) == 2 and all(k in (np.float32, np.int8, np.int32) for k in kinds)
    p8 = eff.litert_predict(q8, images, batch_size=16)  # 40 images: the last batch is padded
    assert p8.shape == (40,) and p8.dtype == np.float32
    assert np.abs(p8 - p_keras).max() < 0.05  # int8 activations: close, not equal
    run = eff.litert_runner(q8, batch_size=3)
    np.testing.assert_allclose(run(images[:3])[:, 0], p8[:3], atol=1e-6)
    with pytest.raises(ValueError, match="batch of shape"):
        run(images[:2])
    assert eff.keras_weights_size(tiny_model) > 4 * tiny_model.count_params()  # float32 weights + file overhead
    with pytest.raises(ValueError, match="Keras model"):
        eff.keras_weights_size("model.keras")


@pytest.mark.slow
def test_to_litert_gives_the_model_of_the_direct_converter_call(tiny_model, images):
    """Keras's export (what to_litert uses) and tf.lite.TFLiteConverter.from_keras_model give the same int8 model.

    The chapter says so for the installed Keras; this fails if the export stopped forwarding the
    quantisation settings (a float or dynamic-range model) or converted another graph.
    """
    import contextlib
    import io

    import tensorflow as tf

    if not hasattr(tf, "lite"):  # pragma: no cover - a TensorFlow without tf.lite: nothing to compare with
        pytest.skip("this TensorFlow has no tf.lite")
    reps = images[:20]
    converter = tf.lite.TFLiteConverter.from_keras_model(tiny_model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([reps[i : i + 1]] for i in range(len(reps)))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    with contextlib.redirect_stdout(io.StringIO()):
        direct = bytes(converter.convert())
    exported = eff.to_litert(tiny_model, int8=True, representative=reps)

    def tensors(blob):  # every tensor's shape, type and quantisation, and the stored bytes of the constants
        from ai_edge_litert.tools import flatbuffer_utils

        model = flatbuffer_utils.read_model_from_bytearray(bytearray(blob))
        key = []
        for t in model.subgraphs[0].tensors:
            q, data = t.quantization, model.buffers[t.buffer].data
            quant = None if q is None else [None if v is None else list(v) for v in (q.scale, q.zeroPoint)]
            key.append((list(t.shape), t.type, quant, None if q is None else q.quantizedDimension,
                        None if data is None else bytes(np.asarray(data, np.uint8))))
        return sorted(key, key=repr)

    assert tensors(exported) == tensors(direct)
    np.testing.assert_array_equal(eff.litert_predict(exported, images), eff.litert_predict(direct, images))


def test_logit_model_drops_only_the_sigmoid(tiny_model, images):
    logits = eff.logit_model(tiny_model)
    z = logits(images[:8], training=False).numpy()
    np.testing.assert_allclose(1 / (1 + np.exp(-z)), tiny_model(images[:8], training=False).numpy(), atol=1e-6)
    assert logits.count_params() == tiny_model.count_params()
    with pytest.raises(ValueError, match="Dense\\(1, activation='sigmoid'\\)"):
        eff.logit_model(logits)  # already linear


def test_to_litert_bad_input(tiny_model, images):
    with pytest.raises(ValueError, match="needs representative images"):
        eff.to_litert(tiny_model, int8=True)
    with pytest.raises(ValueError, match="only apply to int8"):
        eff.to_litert(tiny_model, representative=images)
    with pytest.raises(ValueError, match="shape"):
        eff.to_litert(tiny_model, int8=True, representative=np.zeros((4, 28, 28, 1), np.float32))
    with pytest.raises(ValueError, match="floating point"):
        eff.to_litert(tiny_model, int8=True, representative=np.zeros((4, 16, 16, 1), np.uint8))
    with pytest.raises(ValueError, match=".tflite"):
        eff.litert_runner(b"")
    with pytest.raises(ValueError, match="batch_size"):
        eff.litert_runner(b"12345678", batch_size=0)
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        eff.litert_predict(b"12345678", np.zeros((3, 16, 16)))


# ----------------------------------------------------------------- distillation


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _bce(t, p):
    return -(t * np.log(p) + (1 - t) * np.log(1 - p))


def test_distillation_loss_matches_the_formula():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 32).astype(np.float32)
    z_t, z_s = rng.normal(0, 3, 32), rng.normal(0, 3, 32)
    alpha, temp = 0.3, 2.5
    want = np.mean(
        alpha * _bce(y, _sigmoid(z_s)) + (1 - alpha) * temp**2 * _bce(_sigmoid(z_t / temp), _sigmoid(z_s / temp))
    )
    loss = eff.distillation_loss(alpha, temp)
    got = float(loss(eff.distillation_targets(y, z_t), _sigmoid(z_s).astype(np.float32)[:, None]))
    assert got == pytest.approx(want, rel=1e-4)
    # alpha = 1: plain binary cross-entropy, whatever the teacher says
    hard = float(eff.distillation_loss(1.0, temp)(eff.distillation_targets(y, z_t), _sigmoid(z_s)[:, None]))
    assert hard == pytest.approx(np.mean(_bce(y, _sigmoid(z_s))), rel=1e-4)


def test_prob_to_logit_inverts_the_sigmoid():
    z = np.linspace(-8, 8, 17)
    np.testing.assert_allclose(np.asarray(eff.prob_to_logit(_sigmoid(z))), z, atol=1e-5)
    assert np.isfinite(np.asarray(eff.prob_to_logit(np.array([0.0, 1.0])))).all()


@pytest.mark.parametrize(("alpha", "temp", "match"), [(-0.1, 2.0, "alpha"), (1.5, 2.0, "alpha"), (0.5, 0.0, "temperature")])
def test_distillation_loss_bad_input(alpha, temp, match):
    with pytest.raises(ValueError, match=match):
        eff.distillation_loss(alpha, temp)


def test_distillation_targets_bad_input():
    assert eff.distillation_targets([0, 1], [[0.5], [-1.0]]).shape == (2, 2)
    with pytest.raises(ValueError, match="one logit per image"):
        eff.distillation_targets([0, 1, 1], [0.5, 1.0])
    with pytest.raises(ValueError, match="binary"):
        eff.distillation_targets([0, 2], [0.5, 1.0])
    with pytest.raises(ValueError, match="finite"):
        eff.distillation_targets([0, 1], [0.5, np.inf])


# ----------------------------------------------------------------- data-parallel


def test_free_ports_and_tf_config():
    ports = eff.free_ports(3)
    assert len(set(ports)) == 3 and all(0 < p < 65536 for p in ports)
    cfg = eff.tf_config(ports[:2], 1)
    assert cfg == {
        "cluster": {"worker": [f"127.0.0.1:{ports[0]}", f"127.0.0.1:{ports[1]}"]},
        "task": {"type": "worker", "index": 1},
    }
    json.dumps(cfg)
    with pytest.raises(ValueError, match="index"):
        eff.tf_config(ports[:2], 2)
    with pytest.raises(ValueError, match="ports"):
        eff.tf_config([], 0)
    with pytest.raises(ValueError, match="n must be"):
        eff.free_ports(0)


def test_launch_workers_bad_input_and_failures():
    with pytest.raises(ValueError, match="n_workers"):
        eff.launch_workers(["worker"], 0)
    with pytest.raises(ValueError, match="timeout_s"):
        eff.launch_workers(["worker"], 1, timeout_s=0)
    with pytest.raises(RuntimeError, match="exited with code 2"):  # argparse: missing --init/--out
        eff.launch_workers(["worker"], 1, timeout_s=60)


def test_launch_workers_kills_on_timeout(monkeypatch):
    # A worker that never finishes: `-m medtools.efficiency` replaced by a sleeping interpreter.
    real_popen = subprocess.Popen
    pids = []

    def popen(cmd, **kw):
        p = real_popen([sys.executable, "-c", "import time; time.sleep(60)"], **kw)
        pids.append(p)
        return p

    monkeypatch.setattr(workers.subprocess, "Popen", popen)
    with pytest.raises(TimeoutError, match="did not finish within"):
        eff.launch_workers(["worker"], 2, timeout_s=1)
    assert len(pids) == 2 and all(p.poll() is not None for p in pids)  # both killed and reaped


@pytest.mark.slow
def test_fit_data_parallel_equals_fit(tiny_model, images):
    import keras

    from medtools import models

    keras.utils.set_random_seed(0)
    a = models.article_cnn((28, 28, 1))
    b = models.article_cnn((28, 28, 1))
    b.set_weights(a.get_weights())
    x = np.random.default_rng(2).random((64, 28, 28, 1), dtype=np.float32)
    y = (np.arange(64) % 2).astype(np.float32)
    hist = eff.fit_data_parallel(a, x, y, batch_size=32)
    b.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    assert len(hist["loss"]) == 1
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(wa, wb, atol=1e-6)
    with pytest.raises(ValueError, match="batch_size"):
        eff.fit_data_parallel(a, x, y, batch_size=65)
    with pytest.raises(ValueError, match="equal length"):
        eff.fit_data_parallel(a, x, y[:3], batch_size=8)
    with pytest.raises(ValueError, match="builder must name a model builder"):
        eff.run_multiworker("no_such_model", a.get_weights(), 64, 32)
    with pytest.raises(ValueError, match="builder must name a model builder"):
        eff.run_mirrored(a, a.get_weights(), 64, 32)  # a model, not the name of its builder
    with pytest.raises(ValueError, match=r"weights must be models.article_cnn\(\(28, 28, 1\)\).get_weights\(\)"):
        eff.run_multiworker("article_cnn", tiny_model.get_weights(), 64, 32)
    with pytest.raises(ValueError, match="multiple of n_workers"):
        eff.run_multiworker("article_cnn", a.get_weights(), 64, 33)


@pytest.mark.data
@pytest.mark.slow
def test_two_workers_on_loopback_equal_one_worker_with_the_global_batch(medmnist_file):
    """Two MultiWorkerMirroredStrategy processes on 127.0.0.1 compute the one-worker update."""
    import keras

    from medtools import data, models

    medmnist_file("pneumoniamnist")
    keras.utils.set_random_seed(0)
    model = models.article_cnn((28, 28, 1))
    init = model.get_weights()
    out = eff.run_multiworker("article_cnn", init, 128, 64, n_workers=2, timeout_s=240)
    assert out["replicas"] == 2
    train = data.load("pneumoniamnist", download=False).train
    eff.fit_data_parallel(model, data.to_float(train.x[:128]), train.y[:128], batch_size=64)
    diff = max(float(np.abs(a - b).max()) for a, b in zip(model.get_weights(), out["weights"], strict=True))
    moved = max(float(np.abs(a - b).max()) for a, b in zip(model.get_weights(), init, strict=True))
    assert diff < 1e-5 < moved  # rounding only; the step itself moved the weights far more


# ----------------------------------------------------------------- scaling study


def test_scaling_model_sizes_span_three_orders_of_magnitude():
    sizes = {w: eff.scaling_model(w).count_params() for w in (eff.SCALING_WIDTHS[0], eff.SCALING_WIDTHS[-1])}
    assert sizes == {3: 934, 104: 977_705}  # the docstring's numbers
    assert sizes[104] / sizes[3] > 1000
    assert list(eff.SCALING_WIDTHS) == sorted(eff.SCALING_WIDTHS)


def test_scaling_bad_input():
    with pytest.raises(ValueError, match="width"):
        eff.scaling_model(0)
    with pytest.raises(ValueError, match="max_epochs"):
        eff.scaling_run("breastmnist", 3, 0, patience=0)
    with pytest.raises(ValueError, match="two widths"):
        eff.scaling_study("breastmnist", widths=[3], seeds=[0])


@pytest.mark.data
@pytest.mark.slow
def test_scaling_run_stops_on_validation_and_keeps_the_best_epoch(medmnist_file):
    from medtools import data, metrics

    medmnist_file("breastmnist")
    run = eff.scaling_run("breastmnist", 2, 0, max_epochs=4, patience=1, cache=False)
    curve = run["val_auc_curve"]
    assert run["epochs_run"] == len(curve) <= 4
    assert run["best_epoch"] == int(np.argmax(curve)) + 1  # the first epoch with the highest validation AUC
    assert run["epochs_run"] == 4 or run["epochs_run"] - run["best_epoch"] == 1  # stopped after `patience` epochs
    assert abs(run["val_auc"] - curve[run["best_epoch"] - 1]) < 1e-6  # the best epoch's weights were restored
    y_test = data.load("breastmnist").test.y
    assert len(run["test_scores"]) == len(y_test)
    assert abs(run["test_auc"] - metrics.medmnist_auc(y_test, np.array(run["test_scores"]))) < 1e-9


@pytest.mark.data
def test_scaling_study_pairs_widths_by_seed(medmnist_file, monkeypatch):
    from medtools import data

    medmnist_file("breastmnist")
    y = data.load("breastmnist").test.y
    rng = np.random.default_rng(0)

    def fake_run(dataset, width, seed, **kw):  # width 6 sees the labels, width 3 does not
        p = rng.random(len(y)) if width == 3 else np.clip(0.5 * y + 0.5 * rng.random(len(y)), 0, 1)
        return {"width": width, "seed": seed, "params": width * 10, "test_auc": 0.5, "val_auc": 0.5, "best_epoch": 2,
                "test_scores": p.tolist()}

    monkeypatch.setattr(scaling, "scaling_run", fake_run)
    doc = eff.scaling_study("breastmnist", widths=[3, 6], seeds=[0, 1, 2], n_boot=200)
    assert [s["width"] for s in doc["sizes"]] == [3, 6] and doc["sizes"][1]["test_auc"]["n"] == 3
    assert [(p["a"], p["b"]) for p in doc["paired"]] == [(6, 3), (6, 3)]  # next smaller, then largest vs smallest
    assert doc["paired"][0]["resolved"] and doc["paired"][0]["low"] > 0 and doc["paired"][0]["n_seeds"] == 3


def test_main_scaling_writes_the_record(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "scaling_study", lambda *a, **k: {"settings": {"args": [a, k]}, "sizes": [], "paired": [],
                                                                "runs": []})
    out = tmp_path / "r.json"
    assert eff.main(["scaling", "--widths", "3,6", "--seeds", "0", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["command"].startswith("python -m medtools.efficiency scaling --widths 3,6")
    assert doc["settings"]["args"][0] == ["breastmnist", [3, 6], [0]] and "wall_seconds" in doc
