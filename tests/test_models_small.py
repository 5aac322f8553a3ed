"""Tests of medtools.models.small: the small CNN of chapters *Self-attention* and *Security and privacy*.

Parameter counts by formula for both heads, the layer sequence each head gives (what the two
chapters' caches and prose depend on), compiling, the multi-class head and the errors.
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from medtools import models  # noqa: E402


def _conv(k: int, c_in: int, c_out: int) -> int:
    return k * k * c_in * c_out + c_out


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")


def test_gap_head_parameter_count():
    # three convolutions, global average pooling, one sigmoid unit: independent of the image size
    expected = _conv(3, 1, 16) + _conv(3, 16, 32) + _conv(3, 32, 64) + 64 + 1
    assert expected == 23_361
    assert models.small_cnn().count_params() == expected
    assert models.small_cnn((56, 56, 1)).count_params() == expected


def test_flatten_head_parameter_count():
    # the privacy chapter's model: 28 → 14 → 7 after two pooled stages, 7·7·16 inputs to the sigmoid unit
    expected = _conv(3, 1, 8) + _conv(3, 8, 16) + 7 * 7 * 16 + 1
    assert expected == 2033
    assert models.small_cnn(filters=(8, 16), head="flatten").count_params() == expected
    hidden = models.small_cnn(filters=(8, 16), head="flatten", dense=128)
    assert hidden.count_params() == _conv(3, 1, 8) + _conv(3, 8, 16) + (7 * 7 * 16 * 128 + 128) + 129


def _kinds(model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers[1:]]


def test_layer_sequence_of_each_head():
    """GAP follows the last convolution directly; a flattening head pools every stage first."""
    gap = models.small_cnn(filters=(16, 32, 48))
    assert _kinds(gap) == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Conv2D", "GlobalAveragePooling2D",
                           "Dense"]
    assert [layer.name for layer in gap.layers] == ["image", "conv0", "pool0", "conv1", "pool1", "conv2", "gap", "head"]
    flat = models.small_cnn(filters=(8, 16), head="flatten", dense=4)
    assert _kinds(flat) == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]
    assert all(not isinstance(layer, (keras.layers.BatchNormalization, keras.layers.Dropout)) for layer in flat.layers)


def test_compiled_only_when_asked(images):
    assert not models.small_cnn().compiled
    sgd = models.small_cnn(filters=(4,), head="flatten", optimizer="sgd", learning_rate=0.05)
    assert isinstance(sgd.optimizer, keras.optimizers.SGD) and sgd.loss == "binary_crossentropy"
    assert float(sgd.optimizer.learning_rate) == pytest.approx(0.05)
    adam = models.small_cnn(filters=(4,), num_classes=3, optimizer="adam")
    assert isinstance(adam.optimizer, keras.optimizers.Adam) and adam.loss == "sparse_categorical_crossentropy"
    adam.train_on_batch(images, np.array([0, 1, 2]))  # the loss fits the softmax head


def test_multiclass_head(images):
    for head in models.SMALL_CNN_HEADS:
        out = np.asarray(models.small_cnn(num_classes=4, head=head)(images))
        assert out.shape == (3, 4)
        np.testing.assert_allclose(out.sum(-1), 1, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"filters": ()}, "at least one"),
        ({"filters": (8, 0)}, "positive"),
        ({"head": "max"}, "head must be one of"),
        ({"dense": -1}, "dense"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"optimizer": "adam", "learning_rate": 0.0}, "learning_rate"),
        ({"num_classes": 1}, "num_classes"),
    ],
)
def test_errors(kwargs, words):
    with pytest.raises(ValueError, match=words):
        models.small_cnn(**kwargs)
