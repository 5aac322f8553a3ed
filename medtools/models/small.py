"""A small CNN without batch normalisation or dropout.

Introduced in the chapter *Self-attention* (``chapters/attention``) as the convolutional
baseline of the Vision Transformer (:mod:`medtools.models.transformer`), with a comparable
parameter count. Returns an *uncompiled* Keras model with one sigmoid output (probability of
the positive class) for binary tasks, or a softmax over ``num_classes`` classes.
Re-exported by :mod:`medtools.models`. This module imports Keras when it is imported.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from medtools.models._head import classifier_head as _head

__all__ = ["small_cnn"]


def small_cnn(
    input_shape: Sequence[int] = (28, 28, 1),
    *,
    filters: Sequence[int] = (16, 32, 64),
    num_classes: int = 2,
    name: str = "small_cnn",
) -> keras.Model:
    """A compact CNN baseline: per stage Conv2D(3×3, 'same', ReLU) + MaxPool(2), then GAP and the head.

    The last stage has no pooling. With ``filters=(16, 32, 64)`` and a 1-channel input it has
    23,361 parameters; pick ``filters`` to match the parameter count of a :func:`~medtools.models.transformer.vit`
    (``(16, 32, 48)``: 18,721, against 19,361 for the default ViT with ``patch_size=7``).
    There is no batch normalisation, so training and inference compute the same function.

    Args:
        input_shape: ``(H, W, C)``.
        filters: channels of each convolution stage.
        num_classes: 2 → one sigmoid unit; more → softmax.
        name: model name.

    Returns:
        An uncompiled ``keras.Model``: float images ``(B, H, W, C)`` → probabilities.
    """
    if not filters:
        raise ValueError("filters must name at least one convolution stage, e.g. (16, 32, 64).")
    inputs = keras.Input(tuple(int(s) for s in input_shape), name="image")
    x = inputs
    for i, f in enumerate(filters):
        x = keras.layers.Conv2D(int(f), 3, padding="same", activation="relu", name=f"conv{i}")(x)
        if i < len(filters) - 1:
            x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, _head(x, num_classes), name=name)
