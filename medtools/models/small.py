"""The book's small CNN: 3×3 convolutions and max pooling, no batch normalisation or dropout.

One builder, :func:`small_cnn`, for two chapters:

* chapter *Self-attention* (``chapters/attention``), where it is introduced: the
  convolutional baseline of the Vision Transformer (:mod:`medtools.models.transformer`),
  with a comparable parameter count and a global-average-pooling head (``head="gap"``,
  the default), uncompiled;
* chapter *Security and privacy* (``chapters/privacy``): the model of federated averaging,
  DP-SGD and the membership attack (``head="flatten"``, optionally a hidden dense layer,
  compiled with ``optimizer=``). Without batch normalisation each example's gradient depends
  on that example only, which per-example clipping (DP-SGD) and weight averaging (FedAvg) need.

Re-exported by :mod:`medtools.models`. This module imports Keras when it is imported.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from medtools.models._head import classifier_head as _head

__all__ = ["SMALL_CNN_HEADS", "SMALL_CNN_OPTIMIZERS", "small_cnn"]

#: What follows the last convolution stage: ``"gap"`` (global average pooling: the
#: parameter count does not depend on the image size) or ``"flatten"`` (every position of
#: the last, pooled feature map feeds the dense layers).
SMALL_CNN_HEADS = ("gap", "flatten")
#: Optimisers :func:`small_cnn` compiles with (``"sgd"``: plain SGD, stateless, FedAvg's local optimiser).
SMALL_CNN_OPTIMIZERS = ("adam", "sgd")


def _check(filters: Sequence[int], head: str, dense: int, optimizer: str | None, learning_rate: float) -> None:
    if not filters or any(int(f) < 1 for f in filters):
        raise ValueError(
            f"filters must name at least one convolution stage, each a positive int, e.g. (16, 32, 64); got {filters!r}."
        )
    if head not in SMALL_CNN_HEADS:
        raise ValueError(f"head must be one of {SMALL_CNN_HEADS}, got {head!r}.")
    if int(dense) < 0:
        raise ValueError(f"dense must be ≥ 0 (0: no hidden dense layer), got {dense!r}.")
    if optimizer is not None and optimizer not in SMALL_CNN_OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {SMALL_CNN_OPTIMIZERS} or None (uncompiled), got {optimizer!r}.")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}.")


def small_cnn(
    input_shape: Sequence[int] = (28, 28, 1),
    *,
    filters: Sequence[int] = (16, 32, 64),
    head: str = "gap",
    dense: int = 0,
    num_classes: int = 2,
    optimizer: str | None = None,
    learning_rate: float = 1e-3,
    name: str = "small_cnn",
) -> keras.Model:
    """A small CNN: per stage Conv2D(3×3, 'same', ReLU) and MaxPool(2), then a pooling head.

    ``[Conv2D(f, 3×3, same, ReLU) → MaxPool(2)]`` per entry ``f`` of ``filters``, except that
    with ``head="gap"`` the last stage is not pooled (global average pooling follows at once);
    then ``GlobalAveragePooling2D`` (``"gap"``) or ``Flatten`` (``"flatten"``); then
    ``Dense(dense, ReLU)`` if ``dense`` > 0; then one sigmoid unit (``num_classes=2``) or a
    softmax over ``num_classes``. No batch normalisation and no dropout, so training and
    inference compute the same function and every example's gradient depends on that
    example only.

    Sizes at 28×28×1: the default ``filters=(16, 32, 64)`` has 23,361 parameters; the
    attention chapter's ``(16, 32, 48)`` has 18,721, against 19,361 for its ViT
    (:func:`~medtools.models.transformer.vit` with ``patch_size=7``); the privacy chapter's
    ``filters=(8, 16), head="flatten"`` has 2,033 (a weight message of 7.9 KiB).

    Layer names: ``image`` (input), ``conv{i}`` and ``pool{i}`` (``i`` from 0), ``gap`` or
    ``flatten``, ``hidden``, ``head``.

    Args:
        input_shape: ``(H, W, C)`` of one float32 image in [0, 1].
        filters: channels of each convolution stage (at least one, each ≥ 1).
        head: ``"gap"`` or ``"flatten"`` (:data:`SMALL_CNN_HEADS`).
        dense: units of an optional hidden dense layer (0: none); a large one lets the model
            memorise a small training set (the privacy chapter's membership attack).
        num_classes: 2 → one sigmoid unit; more → softmax.
        optimizer: ``None`` (default: uncompiled), ``"adam"`` or ``"sgd"`` (plain SGD):
            compile with this optimiser and binary cross-entropy (sparse categorical
            cross-entropy for ``num_classes`` > 2).
        learning_rate: the optimiser's learning rate (> 0); used only with ``optimizer``.
        name: model name.

    Returns:
        A ``keras.Model``, compiled only if ``optimizer`` is given: float32 images
        ``(B, H, W, C)`` → probabilities ``(B, 1)`` (binary) or ``(B, num_classes)``.

    Raises:
        ValueError: no or a non-positive ``filters``, an unknown ``head`` or ``optimizer``,
            ``dense`` < 0, a learning rate ≤ 0, or ``num_classes`` < 2.
    """
    _check(filters, head, dense, optimizer, learning_rate)
    x = inputs = keras.Input(tuple(int(s) for s in input_shape), name="image")
    for i, f in enumerate(filters):
        x = keras.layers.Conv2D(int(f), 3, padding="same", activation="relu", name=f"conv{i}")(x)
        if head == "flatten" or i < len(filters) - 1:
            x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
    if head == "gap":
        x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    else:
        x = keras.layers.Flatten(name="flatten")(x)
    if int(dense) > 0:
        x = keras.layers.Dense(int(dense), activation="relu", name="hidden")(x)
    model = keras.Model(inputs, _head(x, num_classes), name=name)
    if optimizer is not None:
        opt = keras.optimizers.Adam(learning_rate) if optimizer == "adam" else keras.optimizers.SGD(learning_rate)
        loss = "binary_crossentropy" if num_classes == 2 else "sparse_categorical_crossentropy"
        model.compile(optimizer=opt, loss=loss)
    return model
