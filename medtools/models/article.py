"""The article's §4 CNN, migrated to Keras 3.

Introduced in the chapter *Core concepts* (``chapters/concepts``), where its
parameters and FLOPs are counted; trained and evaluated in the chapter
*The Keras classifier* (``chapters/keras_classifier``). Re-exported by :mod:`medtools.models`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = ["ARTICLE_PARAMS", "article_cnn"]

#: Parameters of the article's CNN at its input (150, 150, 3) (article §4.2).
ARTICLE_PARAMS = 19_034_177


def article_cnn(input_shape: tuple[int, int, int] = (150, 150, 3)) -> keras.Model:
    """The article's binary classifier, layer for layer, compiled as in the article.

    Architecture (article §4.2)::

        Conv2D(32, 3, relu) → MaxPool(2) → Conv2D(64, 3, relu) → MaxPool(2)
        → Conv2D(128, 3, relu) → MaxPool(2) → Flatten → Dense(512, relu) → Dense(1, sigmoid)

    compiled with Adam (Keras defaults), binary cross-entropy and accuracy, as the
    article does. The only change is Keras 3 style: a ``keras.Input`` instead of the
    ``input_shape=`` argument of the first layer.

    At the article's input ``(150, 150, 3)`` it has 19,034,177 parameters (:data:`ARTICLE_PARAMS`), 99.5 % of
    them in the ``Dense(512)`` after ``Flatten`` (article defect 8).

    Args:
        input_shape: ``(H, W, C)`` of one float32 image in [0, 1]; H and W must be at
            least 22 so that the three valid 3×3 convolutions and 2×2 poolings leave a
            feature map of at least 1×1 (e.g. ``(28, 28, 1)`` for MedMNIST).

    Returns:
        A compiled ``keras.Model`` named ``"article_cnn"``; input ``(B, H, W, C)``
        float32, output ``(B, 1)`` float32 probability of the positive class.
    """
    import keras
    from keras import layers

    shape = tuple(input_shape)
    if len(shape) != 3 or not all(isinstance(s, int) and s > 0 for s in shape):
        raise ValueError(f"input_shape must be (H, W, C) with positive ints, got {input_shape!r}.")
    side = min(shape[:2])
    for _ in range(3):
        side = (side - 2) // 2
    if side < 1:
        raise ValueError(
            f"input_shape {shape} is too small: three 3×3 valid convolutions and 2×2 poolings "
            "need H and W of at least 22 (e.g. (28, 28, 1) or the article's (150, 150, 3))."
        )
    model = keras.Sequential(
        [
            keras.Input(shape),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(128, (3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dense(512, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="article_cnn",
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model
