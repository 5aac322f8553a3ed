"""Tests of medtools.models.compact (chapter beyond_article): the compact CNN."""

from __future__ import annotations

import numpy as np
import pytest

from medtools import models


def _expected_params(widths, convs, channels=1):
    total, c_in = 0, channels
    for w, k in zip(widths, convs, strict=True):
        for _ in range(k):
            total += 9 * c_in * w + 4 * w  # conv without bias + BN (gamma, beta, mean, var)
            c_in = w
    return total + c_in + 1  # Dense(1)


def test_budget_constants() -> None:
    assert models.ARTICLE_PARAMS == 19_034_177
    assert models.MAX_COMPACT_PARAMS == 380_683  # 2 % of the article's model, rounded down


def test_article_model_has_the_stated_parameter_count() -> None:
    assert models.article_cnn((150, 150, 3)).count_params() == models.ARTICLE_PARAMS


@pytest.mark.parametrize(
    "widths, convs", [((16, 32, 64), (1, 1, 1)), ((24, 48, 96), (1, 2, 2)), ((8,), (2,))]
)
def test_parameter_count_formula(widths, convs) -> None:
    m = models.compact_cnn((28, 28, 1), widths=widths, convs_per_stage=convs)
    assert m.count_params() == _expected_params(widths, convs)
    assert m.count_params() <= models.MAX_COMPACT_PARAMS


def test_global_average_pooling_makes_params_independent_of_image_size() -> None:
    small = models.compact_cnn((28, 28, 1)).count_params()
    large = models.compact_cnn((150, 150, 1)).count_params()
    assert small == large
    rgb = models.compact_cnn((28, 28, 3)).count_params()
    assert rgb - small == 9 * 2 * 24  # only the first convolution sees the channels
    assert small == 52_825  # the chapter's configuration (default widths 24, 48, 96)


@pytest.mark.slow
def test_forward_pass_and_one_training_step() -> None:
    m = models.compact_cnn((28, 28, 1))
    rng = np.random.default_rng(0)
    x = rng.random((32, 28, 28, 1), dtype=np.float32)
    y = (rng.random(32) < 0.5).astype(np.float32)
    p = np.asarray(m(x, training=False))
    assert p.shape == (32, 1) and np.all((p >= 0) & (p <= 1))
    hist = m.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(hist.history["loss"][0])
    assert any(layer.__class__.__name__ == "BatchNormalization" for layer in m.layers)
    assert any(layer.__class__.__name__ == "GlobalAveragePooling2D" for layer in m.layers)
    assert not any(layer.__class__.__name__ == "Flatten" for layer in m.layers)


@pytest.mark.slow
@pytest.mark.data
def test_learns_on_real_xrays(tiny_pneumonia) -> None:
    """A few epochs on 64 real chest X-rays lower the training loss (the pipeline of the chapter)."""
    from medtools import data, train

    x, y = tiny_pneumonia
    xf = data.to_float(x)  # (64, 28, 28, 1) float32 in [0, 1]
    train.set_seed(0, deterministic=False)
    m = models.compact_cnn((28, 28, 1))
    hist = m.fit(xf, y.astype(np.float32), epochs=5, batch_size=16, verbose=0).history
    assert hist["loss"][-1] < hist["loss"][0]
    assert np.asarray(m.predict(xf, verbose=0)).shape == (64, 1)


def test_errors() -> None:
    with pytest.raises(ValueError, match="input_shape"):
        models.compact_cnn((28, 28))
    with pytest.raises(ValueError, match="equal length"):
        models.compact_cnn(widths=(8, 16), convs_per_stage=(1,))
    with pytest.raises(ValueError, match="positive ints"):
        models.compact_cnn(widths=(8, 0), convs_per_stage=(1, 1))
    with pytest.raises(ValueError, match="too small"):
        models.compact_cnn((4, 4, 1), widths=(8, 8, 8, 8), convs_per_stage=(1, 1, 1, 1))
    with pytest.raises(ValueError, match="dropout"):
        models.compact_cnn(dropout=1.0)
    with pytest.raises(ValueError, match="optimizer"):
        models.compact_cnn(optimizer="sgd")
    with pytest.raises(ValueError, match="weight_decay"):
        models.compact_cnn(optimizer="adamw", weight_decay=-1.0)


def test_adamw_option_and_the_books_recipe_size() -> None:
    from medtools.models.compact import COMPACT_OPTIMIZERS

    assert COMPACT_OPTIMIZERS == ("adam", "adamw")
    m = models.compact_cnn((28, 28, 1), optimizer="adamw", weight_decay=1e-3)
    assert m.optimizer.__class__.__name__ == "AdamW" and m.optimizer.weight_decay == pytest.approx(1e-3)
    recipe = models.compact_cnn((28, 28, 1), widths=(16, 32, 64), convs_per_stage=(2, 2, 2), dropout=0.3)
    assert recipe.count_params() == _expected_params((16, 32, 64), (2, 2, 2)) == 72_529
