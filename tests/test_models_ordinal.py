"""Tests of medtools.models.ordinal (chapter treatment_planning): the softmax / CORAL CNN."""

from __future__ import annotations

import numpy as np
import pytest

from medtools import models


def test_ordinal_levels() -> None:
    lv = models.ordinal_levels(np.array([[0], [2], [4]]), 5)
    assert lv.dtype == np.float32
    assert lv.tolist() == [[0, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 1]]
    with pytest.raises(ValueError, match="grades must be integers"):
        models.ordinal_levels([0, 5], 5)
    with pytest.raises(ValueError, match="num_classes"):
        models.ordinal_levels([0], 1)


def test_cumulative_to_class_probs() -> None:
    p = np.array([[0.9, 0.6, 0.2, 0.05], [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    c = models.cumulative_to_class_probs(p)
    assert c.shape == (3, 5)
    assert np.allclose(c.sum(1), 1.0)
    assert np.allclose(c[0], [0.1, 0.3, 0.4, 0.15, 0.05])
    assert c[1].argmax() == 0 and c[2].argmax() == 4
    with pytest.raises(ValueError, match=r"\(N, K-1\)"):
        models.cumulative_to_class_probs(np.ones(4))


@pytest.mark.parametrize("head", models.ORDINAL_HEADS)
def test_heads_shapes_and_parameter_counts(head) -> None:
    widths = (8, 16, 32)
    m = models.ordinal_cnn((28, 28, 3), 5, head=head, widths=widths)
    x = np.random.default_rng(0).random((4, 28, 28, 3), dtype=np.float32)
    p = np.asarray(m(x, training=False))
    base = sum(9 * c_in * w + 4 * w for c_in, w in zip((3, *widths[:-1]), widths, strict=True))
    if head == "softmax":
        assert p.shape == (4, 5) and np.allclose(p.sum(1), 1, atol=1e-5)
        assert m.count_params() == base + 32 * 5 + 5
    else:
        assert p.shape == (4, 4) and np.all((p >= 0) & (p <= 1))
        assert m.count_params() == base + 32 + 4  # one shared weight vector, K-1 biases
        # equal biases (zeros at start) give equal probabilities for every "grade > k"
        assert np.allclose(p, p[:, :1], atol=1e-6)
    assert m.get_layer("embedding").output.shape[-1] == 32


def test_coral_initial_biases_and_errors() -> None:
    m = models.ordinal_cnn((28, 28, 3), 5, head="coral", widths=(8, 16), initial_biases=[2.0, 1.0, 0.0, -1.0])
    assert np.allclose(m.get_layer("rank_biases").get_weights()[0], [2, 1, 0, -1])
    x = np.random.default_rng(1).random((3, 28, 28, 3), dtype=np.float32)
    p = np.asarray(m(x, training=False))
    assert np.all(np.diff(p, axis=1) <= 1e-7)  # ordered biases: rank-consistent probabilities
    with pytest.raises(ValueError, match="head must be one of"):
        models.ordinal_cnn(head="ordinal")
    with pytest.raises(ValueError, match="softmax head has 5 biases"):
        models.ordinal_cnn(head="softmax", initial_biases=[0, 0, 0, 0])  # K-1 values: a CORAL list
    with pytest.raises(ValueError, match="coral head has 4 biases"):
        models.ordinal_cnn(head="coral", initial_biases=[0, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="initial must have 4 values"):
        models.OrdinalBias(4, [0.0, 0.0])
    with pytest.raises(ValueError, match="num_classes"):
        models.ordinal_cnn(num_classes=1)
    with pytest.raises(ValueError, match="dropout"):
        models.ordinal_cnn(dropout=1.0)


def test_softmax_initial_biases_start_at_the_prior() -> None:
    prior = np.array([0.45, 0.12, 0.19, 0.18, 0.06])
    m = models.ordinal_cnn((28, 28, 3), 5, head="softmax", widths=(8, 16), initial_biases=list(np.log(prior)))
    assert np.allclose(m.get_layer("prob").get_weights()[1], np.log(prior), atol=1e-6)
    # with the kernel zeroed the output is softmax(log prior) = the prior, whatever the image
    kernel, bias = m.get_layer("prob").get_weights()
    m.get_layer("prob").set_weights([np.zeros_like(kernel), bias])
    x = np.random.default_rng(2).random((3, 28, 28, 3), dtype=np.float32)
    assert np.allclose(np.asarray(m(x, training=False)), prior[None], atol=1e-5)
    # the default stays zeros (the cache key of earlier runs does not change)
    m0 = models.ordinal_cnn((28, 28, 3), 5, head="softmax", widths=(8, 16))
    assert np.all(m0.get_layer("prob").get_weights()[1] == 0)


def test_coral_layer_round_trips_through_config() -> None:
    import keras

    m = models.ordinal_cnn((28, 28, 3), 4, head="coral", widths=(8, 16), initial_biases=[1.0, 0.0, -1.0])
    clone = keras.Model.from_config(m.get_config())
    assert isinstance(clone.get_layer("rank_biases"), models.OrdinalBias)
    assert clone.get_layer("rank_biases").get_config()["initial"] == [1.0, 0.0, -1.0]


@pytest.mark.slow
def test_one_training_step_each_head() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((32, 28, 28, 3), dtype=np.float32)
    y = rng.integers(0, 5, 32)
    for head in models.ORDINAL_HEADS:
        m = models.ordinal_cnn((28, 28, 3), 5, head=head, widths=(8, 16))
        t = y if head == "softmax" else models.ordinal_levels(y, 5)
        hist = m.fit(x, t, epochs=1, batch_size=16, verbose=0)
        assert np.isfinite(hist.history["loss"][0])
