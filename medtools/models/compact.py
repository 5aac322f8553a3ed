"""A compact CNN for small images: convolutions, batch normalisation, global average pooling.

Introduced in the chapter *Beyond the article: a compact CNN* (``chapters/beyond_article``),
which follows the chapter *The article's Keras classifier* (``chapters/keras_classifier``).
Re-exported by :mod:`medtools.models`.

The article's model (:func:`medtools.models.article_cnn`) spends 99.5 % of its
19,034,177 parameters (at 150×150×3) on one ``Dense(512)`` after ``Flatten``. The
compact CNN replaces ``Flatten → Dense(512)`` by global average pooling
(Lin, Chen & Yan 2014) and adds batch normalisation after every convolution
(Ioffe & Szegedy 2015); it is trained with the modality-aware augmentation of
:func:`medtools.data.augmentation`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import keras

from medtools.models.article import ARTICLE_PARAMS

__all__ = ["COMPACT_OPTIMIZERS", "MAX_COMPACT_PARAMS", "compact_cnn"]

#: The optimisers :func:`compact_cnn` can compile with.
COMPACT_OPTIMIZERS = ("adam", "adamw")

#: The compact CNN's parameter budget: at most 2 % of :data:`ARTICLE_PARAMS` (rounded down).
MAX_COMPACT_PARAMS = ARTICLE_PARAMS * 2 // 100


def compact_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1),
    *,
    widths: Sequence[int] = (24, 48, 96),
    convs_per_stage: Sequence[int] = (1, 1, 1),
    dropout: float = 0.2,
    bn_momentum: float = 0.9,
    learning_rate: float | Any = 2e-3,
    optimizer: str = "adam",
    weight_decay: float = 1e-4,
    name: str = "compact_cnn",
) -> keras.Model:
    """A small binary CNN: (Conv-BN-ReLU)×k stages, max pooling between stages, GAP, sigmoid.

    Architecture, for ``widths=(w1, …, wS)`` and ``convs_per_stage=(k1, …, kS)``::

        for stage s:  [Conv2D(ws, 3×3, same, no bias) → BatchNorm → ReLU] × ks
                      → MaxPool(2)            (all stages but the last)
        → GlobalAveragePooling2D → Dropout(dropout) → Dense(1, sigmoid)

    The convolutions have no bias because the batch normalisation that follows adds
    its own shift (β). The parameter count does not depend on the image size
    (global average pooling), unlike the article's ``Flatten → Dense(512)``. The
    defaults are a first configuration set by hand (52,825 parameters at 28×28×1, a third
    of the article's CNN at the same size); the recipe the book trains, chosen by a
    recorded search on the validation split, is ``MODELS["compact"]`` of
    :mod:`medtools.benchmark` (two convolutions per stage, AdamW with a cosine-decayed
    learning rate).

    Args:
        input_shape: ``(H, W, C)`` of one float32 image in [0, 1], e.g. ``(28, 28, 1)``;
            H and W must be at least ``2 ** (S - 1)`` for ``S`` stages.
        widths: output channels of each stage (default 24, 48, 96).
        convs_per_stage: number of Conv-BN-ReLU units in each stage (same length
            as ``widths``).
        dropout: dropout rate before the output layer (0 disables it).
        bn_momentum: momentum of the batch-norm moving averages (0.9; Keras' default is
            0.99).
        learning_rate: the optimiser's learning rate, a float or a
            ``keras.optimizers.schedules.LearningRateSchedule``.
        optimizer: ``"adam"`` or ``"adamw"`` (Adam with decoupled weight decay,
            Loshchilov & Hutter 2019).
        weight_decay: AdamW's decoupled weight decay (ignored by ``"adam"``).
        name: model name.

    Returns:
        A ``keras.Model`` compiled with the optimiser, binary cross-entropy and accuracy;
        input ``(B, H, W, C)`` float32, output ``(B, 1)`` float32 probability of
        label 1.

    Raises:
        ValueError: malformed ``input_shape``, ``widths`` / ``convs_per_stage`` of
            different lengths or with non-positive entries, an image too small for
            the number of stages, ``dropout`` outside [0, 1), an unknown ``optimizer`` or a
            negative ``weight_decay``.
    """
    import keras
    from keras import layers

    shape = tuple(input_shape)
    if len(shape) != 3 or not all(isinstance(s, int) and s > 0 for s in shape):
        raise ValueError(f"input_shape must be (H, W, C) with positive ints, got {input_shape!r}.")
    widths, convs = tuple(widths), tuple(convs_per_stage)
    if not widths or len(widths) != len(convs):
        raise ValueError(
            f"widths and convs_per_stage must be non-empty and of equal length, got {widths} and {convs}."
        )
    if not all(isinstance(v, int) and v > 0 for v in widths + convs):
        raise ValueError(f"widths and convs_per_stage must hold positive ints, got {widths} and {convs}.")
    if min(shape[:2]) < 2 ** (len(widths) - 1):
        raise ValueError(
            f"input_shape {shape} is too small for {len(widths)} stages: H and W must be at least "
            f"{2 ** (len(widths) - 1)}; use fewer stages or larger images."
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")
    if optimizer not in COMPACT_OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {COMPACT_OPTIMIZERS}, got {optimizer!r}.")
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}.")

    inputs = keras.Input(shape, name="image")
    x = inputs
    for s, (width, n_conv) in enumerate(zip(widths, convs, strict=True)):
        for k in range(n_conv):
            x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"s{s + 1}_conv{k + 1}")(x)
            x = layers.BatchNormalization(momentum=bn_momentum, name=f"s{s + 1}_bn{k + 1}")(x)
            x = layers.ReLU(name=f"s{s + 1}_relu{k + 1}")(x)
        if s < len(widths) - 1:
            x = layers.MaxPooling2D(2, name=f"s{s + 1}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="prob")(x)
    model = keras.Model(inputs, outputs, name=name)
    if optimizer == "adamw":
        opt = keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay)
    else:
        opt = keras.optimizers.Adam(learning_rate)
    model.compile(optimizer=opt, loss="binary_crossentropy", metrics=["accuracy"])
    return model
