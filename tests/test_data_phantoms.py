"""medtools.data.phantoms: synthetic vessel trees."""

from __future__ import annotations

import numpy as np
import pytest

from medtools.data.phantoms import vessel_tree


def test_shapes_types_and_determinism():
    image, mask = vessel_tree(64, seed=3)
    assert image.shape == mask.shape == (64, 64)
    assert image.dtype == np.float32 and mask.dtype == bool
    assert 0 <= image.min() and image.max() <= 1
    again, mask2 = vessel_tree(64, seed=3)
    assert np.array_equal(image, again) and np.array_equal(mask, mask2)
    assert not np.array_equal(mask, vessel_tree(64, seed=4)[1])


def test_vessels_are_darker_and_a_minority():
    image, mask = vessel_tree(128, noise=0.0, seed=0)
    assert 0.01 < mask.mean() < 0.3
    assert image[mask].mean() < image[~mask].mean() - 0.2


def test_more_generations_more_vessel():
    assert vessel_tree(96, generations=5, seed=1)[1].sum() > vessel_tree(96, generations=2, seed=1)[1].sum()
    with pytest.raises(ValueError):
        vessel_tree(8)
