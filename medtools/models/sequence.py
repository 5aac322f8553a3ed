"""Volume classifiers that read a 3-D scan slice by slice (CNN encoder + GRU), and a 3-D CNN.

Introduced in the chapter *Recurrent networks* (``chapters/rnn``), which trains both on
AdrenalMNIST3D and compares them at a similar parameter count. Re-exported by
:mod:`medtools.models`.

Both builders take volumes ``(N, D, H, W, 1)`` float32 in [0, 1] (what
:func:`medtools.data.make_dataset` yields for a 3-D MedMNIST split) and return a compiled
binary classifier with one sigmoid output, trained with binary cross-entropy and Adam and
reporting ``auc`` and ``accuracy`` (at threshold 0.5).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = ["cnn3d", "pool_volumes", "slice_gru"]


def pool_volumes(x: ArrayLike, factor: int = 2) -> np.ndarray:
    """Downsample uint8 volumes by averaging ``factor``³ blocks (a cheap 3-D resize).

    Args:
        x: ``(N, D, H, W)`` uint8 volumes, e.g. a MedMNIST 3-D split's ``x`` ``(N, 28, 28, 28)``;
            D, H and W must be divisible by ``factor``.
        factor: block size; 1 returns ``x`` unchanged.

    Returns:
        ``(N, D/factor, H/factor, W/factor)`` uint8 (block means rounded to the nearest integer),
        ready for :func:`medtools.data.make_dataset`.

    Raises:
        TypeError: ``x`` is not uint8. ValueError: wrong rank, or sides not divisible by ``factor``.
    """
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise TypeError(f"pool_volumes expects uint8 volumes as loaded by medtools.data.load, got {x.dtype}.")
    if x.ndim != 4:
        raise ValueError(f"pool_volumes expects volumes of shape (N, D, H, W), got shape {x.shape}.")
    if not isinstance(factor, (int, np.integer)) or factor < 1:
        raise ValueError(f"factor must be a positive int, got {factor!r}.")
    if factor == 1:
        return x
    n, d, h, w = x.shape
    if d % factor or h % factor or w % factor:
        raise ValueError(
            f"pool_volumes: the sides {(d, h, w)} are not all divisible by factor={factor}; "
            f"crop the volumes first or choose a factor that divides {d}, {h} and {w}."
        )
    f = int(factor)
    blocks = x.reshape(n, d // f, f, h // f, f, w // f, f).astype(np.float32)
    return np.rint(blocks.mean(axis=(2, 4, 6))).astype(np.uint8)


def _check_common(
    input_shape: Sequence[int], filters: Sequence[int], learning_rate: float, downsample: int, fn: str
) -> None:
    if len(input_shape) != 4 or any(int(s) < 1 for s in input_shape):
        raise ValueError(
            f"{fn}: input_shape must be (D, H, W, C) with positive sizes, e.g. (28, 28, 28, 1) "
            f"for a MedMNIST 3-D volume; got {tuple(input_shape)}."
        )
    if len(filters) < 1 or any(int(f) < 1 for f in filters):
        raise ValueError(f"{fn}: filters must be one or more positive ints, e.g. (4, 16); got {tuple(filters)}.")
    if int(downsample) < 1:
        raise ValueError(f"{fn}: downsample must be a positive int (1 = none), got {downsample!r}.")
    dims = input_shape[:3] if fn == "cnn3d" else input_shape[1:3]  # slice_gru convolves H, W only
    if int(input_shape[0]) // int(downsample) < 1:
        raise ValueError(f"{fn}: downsample={downsample} leaves no slices of depth {input_shape[0]}.")
    side = min(int(v) for v in dims) // int(downsample)
    for k in range(len(filters)):
        side = side - 2 if k == 0 else side // 2 - 2  # conv 3 (valid), then pool 2 + conv 3
    if side < 1:
        raise ValueError(
            f"{fn}: input_shape {tuple(input_shape)} is too small for downsample={downsample} and "
            f"{len(filters)} conv blocks (each block after the first halves the volume, each 3×3 conv "
            f"trims 2 voxels). Use fewer filters or a smaller downsample."
        )
    if not learning_rate > 0:
        raise ValueError(f"{fn}: learning_rate must be positive, got {learning_rate!r}.")


def _output_layer(prior: float | None, fn: str) -> keras.layers.Dense:
    """Dense(1, sigmoid) whose bias starts at the log-odds of ``prior`` (the positive fraction)."""
    import keras

    if prior is None:
        init = "zeros"
    else:
        if not 0.0 < prior < 1.0:
            raise ValueError(f"{fn}: prior must be the fraction of positives in (0, 1), got {prior!r}.")
        init = keras.initializers.Constant(float(np.log(prior / (1.0 - prior))))
    return keras.layers.Dense(1, activation="sigmoid", bias_initializer=init, name="prob")


def _compile(model: keras.Model, learning_rate: float) -> keras.Model:
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="binary_crossentropy",
        metrics=[keras.metrics.AUC(name="auc"), keras.metrics.BinaryAccuracy(name="accuracy")],
    )
    return model


def slice_gru(
    input_shape: Sequence[int] = (28, 28, 28, 1),
    *,
    filters: Sequence[int] = (4, 16),
    units: int = 16,
    dropout: float = 0.0,
    downsample: int = 1,
    prior: float | None = None,
    learning_rate: float = 3e-3,
    compile: bool = True,
    name: str = "slice_gru",
) -> keras.Model:
    """A 3-D volume read as a sequence of 2-D slices: per-slice CNN encoder → GRU → sigmoid.

    Architecture (``D`` slices along the first spatial axis are the time steps)::

        (N, D, H, W, C)
        → AveragePooling3D(downsample)                                     # only if downsample > 1
        → TimeDistributed[Conv2D(filters[0], 3, ReLU)]                     # every slice, shared weights
        → TimeDistributed[MaxPool2D(2) → Conv2D(filters[k], 3, ReLU)] ×(len(filters)−1)
        → TimeDistributed[GlobalAveragePooling2D]                          # (N, D, filters[-1])
        → GRU(units)                                                       # (N, units), last state
        → Dropout(dropout) → Dense(1, sigmoid)

    Args:
        input_shape: ``(D, H, W, C)``; MedMNIST 3-D volumes are ``(28, 28, 28, 1)``.
        filters: channels of the conv blocks of the slice encoder.
        units: GRU hidden size ``H``.
        dropout: dropout rate before the output layer (0 = none).
        prior: fraction of positives in the training split; if given, the output bias starts
            at its log-odds ``log(p / (1 − p))``, so the untrained model already predicts the
            base rate instead of 0.5 (this saves the first epochs on imbalanced data).
        downsample: average-pool the volume by this factor inside the model (1 = none). The
            chapter instead pools once with :func:`pool_volumes` (28³ → 14³), which is cheaper.
            All convolutions are 'valid' (unpadded) and unstrided: TensorFlow's CPU gradient
            of a strided ``Conv3D`` is several times slower than pooling.
        learning_rate: Adam step size.
        compile: compile with Adam, binary cross-entropy, metrics ``auc`` and ``accuracy``.
        name: model name.

    Returns:
        A Keras model mapping ``(N, D, H, W, C)`` float32 to ``(N, 1)`` probabilities.
    """
    import keras
    from keras import layers

    _check_common(input_shape, filters, learning_rate, downsample, "slice_gru")
    if int(units) < 1:
        raise ValueError(f"slice_gru: units must be a positive int, got {units!r}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"slice_gru: dropout must be in [0, 1), got {dropout!r}.")
    inp = keras.Input(tuple(int(s) for s in input_shape), name="volume")
    x = layers.AveragePooling3D(int(downsample), name="downsample")(inp) if downsample > 1 else inp
    x = layers.TimeDistributed(layers.Conv2D(int(filters[0]), 3, activation="relu"), name="slice_conv1")(x)
    for k, f in enumerate(filters[1:], start=2):
        x = layers.TimeDistributed(layers.MaxPooling2D(2), name=f"slice_pool{k - 1}")(x)
        x = layers.TimeDistributed(layers.Conv2D(int(f), 3, activation="relu"), name=f"slice_conv{k}")(x)
    x = layers.TimeDistributed(layers.GlobalAveragePooling2D(), name="slice_features")(x)
    x = layers.GRU(int(units), name="gru")(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    out = _output_layer(prior, "slice_gru")(x)
    model = keras.Model(inp, out, name=name)
    return _compile(model, learning_rate) if compile else model


def cnn3d(
    input_shape: Sequence[int] = (28, 28, 28, 1),
    *,
    filters: Sequence[int] = (4, 16),
    dropout: float = 0.0,
    downsample: int = 1,
    prior: float | None = None,
    learning_rate: float = 3e-3,
    compile: bool = True,
    name: str = "cnn3d",
) -> keras.Model:
    """A small 3-D CNN, the baseline for :func:`slice_gru` at a similar parameter count.

    Architecture::

        (N, D, H, W, C)
        → AveragePooling3D(downsample)                                     # only if downsample > 1
        → Conv3D(filters[0], 3, ReLU)
        → [MaxPool3D(2) → Conv3D(filters[k], 3, ReLU)] ×(len(filters)−1)
        → GlobalAveragePooling3D → Dropout(dropout) → Dense(1, sigmoid)

    Args:
        input_shape: ``(D, H, W, C)``.
        filters: channels of the conv blocks.
        dropout: dropout rate before the output layer.
        prior: fraction of positives in the training split, to initialise the output bias
            (see :func:`slice_gru`).
        downsample: average-pool the volume by this factor first (1 = no pooling).
        learning_rate: Adam step size.
        compile: compile with Adam, binary cross-entropy, metrics ``auc`` and ``accuracy``.
        name: model name.

    Returns:
        A Keras model mapping ``(N, D, H, W, C)`` float32 to ``(N, 1)`` probabilities.
    """
    import keras
    from keras import layers

    _check_common(input_shape, filters, learning_rate, downsample, "cnn3d")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"cnn3d: dropout must be in [0, 1), got {dropout!r}.")
    inp = keras.Input(tuple(int(s) for s in input_shape), name="volume")
    x = layers.AveragePooling3D(int(downsample), name="downsample")(inp) if downsample > 1 else inp
    x = layers.Conv3D(int(filters[0]), 3, activation="relu", name="conv1")(x)
    for k, f in enumerate(filters[1:], start=2):
        x = layers.MaxPooling3D(2, name=f"pool{k - 1}")(x)
        x = layers.Conv3D(int(f), 3, activation="relu", name=f"conv{k}")(x)
    x = layers.GlobalAveragePooling3D(name="features")(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    out = _output_layer(prior, "cnn3d")(x)
    model = keras.Model(inp, out, name=name)
    return _compile(model, learning_rate) if compile else model
