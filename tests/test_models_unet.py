"""medtools.models.unet: shapes, parameter count, skip connections."""

from __future__ import annotations

import numpy as np
import pytest

from medtools.models.unet import unet


def test_output_shape_and_range():
    model = unet(base=4, depth=2)
    x = np.random.default_rng(0).random((2, 32, 48, 3)).astype("float32")
    y = model.predict(x, verbose=0)
    assert y.shape == (2, 32, 48, 1)
    assert (y >= 0).all() and (y <= 1).all()


def test_parameter_count_by_hand():
    base, c = 4, 3

    def conv(cin, cout):  # 3x3 without bias + batch norm (4 per channel)
        return 9 * cin * cout + 4 * cout

    enc = conv(c, base) + conv(base, base)
    bott = conv(base, 2 * base) + conv(2 * base, 2 * base)
    up = 4 * 2 * base * base + base
    dec = conv(2 * base, base) + conv(base, base)
    head = base + 1
    assert unet(channels=c, base=base, depth=1).count_params() == enc + bott + up + dec + head


def test_skip_connections_and_errors():
    model = unet(base=4, depth=3)
    assert [layer.name for layer in model.layers if layer.name.startswith("skip")] == ["skip2", "skip1", "skip0"]
    with pytest.raises(ValueError):
        unet(depth=0)
