"""Tests of medtools.models.small: the small CNN (the ViT's baseline in chapter *Self-attention*)."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from medtools import models  # noqa: E402


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")


def test_parameter_count():
    # 3·3·1·16+16 + 3·3·16·32+32 + 3·3·32·64+64 + 64+1: three convolutions, GAP, one sigmoid unit
    assert models.small_cnn().count_params() == 23_361


def test_multiclass_head(images):
    out = np.asarray(models.small_cnn(num_classes=4)(images))
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out.sum(-1), 1, atol=1e-5)


def test_cnn_errors():
    with pytest.raises(ValueError, match="at least one"):
        models.small_cnn(filters=())
