"""Tests of medtools.models.article (the article's §4 CNN); chapter concepts."""

from __future__ import annotations

import keras
import pytest

from medtools.models import ARTICLE_PARAMS, article_cnn

FILTERS = (32, 64, 128)


def _side_after_stack(side: int) -> int:
    """Spatial side after three (valid 3×3 conv → 2×2 max-pool) blocks."""
    for _ in FILTERS:
        side = (side - 3 + 1) // 2
    return side


def _expected_params(h: int, w: int, c: int) -> int:
    """(k·k·C_in + 1)·C_out per conv, (d_in + 1)·d_out per dense layer."""
    total, c_in = 0, c
    for c_out in FILTERS:
        total += (3 * 3 * c_in + 1) * c_out
        c_in = c_out
    flat = _side_after_stack(h) * _side_after_stack(w) * c_in
    return total + (flat + 1) * 512 + (512 + 1) * 1


def test_article_param_count_at_150():
    model = article_cnn()
    assert model.count_params() == 19_034_177 == ARTICLE_PARAMS
    assert _expected_params(150, 150, 3) == 19_034_177


def test_dense_layer_holds_almost_all_parameters():
    model = article_cnn((150, 150, 3))
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][0]
    share = dense.count_params() / model.count_params()
    assert dense.units == 512
    assert 0.99 < share < 0.996


def test_article_builds_at_28x28x1():
    model = article_cnn((28, 28, 1))
    assert model.count_params() == _expected_params(28, 28, 1)
    assert model.output_shape == (None, 1)


def test_architecture_and_compilation():
    model = article_cnn()
    assert model.name == "article_cnn"
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D",
        "Flatten", "Dense", "Dense",
    ]
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == list(FILTERS)
    assert all(c.kernel_size == (3, 3) and c.padding == "valid" for c in convs)
    assert all(c.activation.__name__ == "relu" for c in convs)
    assert model.layers[-2].activation.__name__ == "relu"
    assert model.layers[-1].activation.__name__ == "sigmoid"
    assert model.input_shape == (None, 150, 150, 3)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert "binary_crossentropy" in str(model.loss)


def test_too_small_or_malformed_input_raises():
    with pytest.raises(ValueError, match="too small"):
        article_cnn((21, 21, 1))
    article_cnn((22, 22, 1))  # the smallest size that works
    with pytest.raises(ValueError, match=r"\(H, W, C\)"):
        article_cnn((28, 28))
