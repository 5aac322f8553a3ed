"""The classification head shared by the builders of :mod:`medtools.models` (private)."""

from __future__ import annotations

from typing import Any

import keras


def classifier_head(x: Any, num_classes: int) -> Any:
    """``Dense(1, sigmoid)`` for two classes, else ``Dense(num_classes, softmax)``, named ``"head"``."""
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2 (2 = binary, one sigmoid output); got {num_classes}.")
    if num_classes == 2:
        return keras.layers.Dense(1, activation="sigmoid", name="head")(x)
    return keras.layers.Dense(num_classes, activation="softmax", name="head")(x)
