"""A small CNN for graded (ordinal) labels, with a softmax or a CORAL head.

Introduced in the chapter *Grading for treatment decisions* (``chapters/treatment_planning``),
on RetinaMNIST (diabetic-retinopathy grade 0–4).
Re-exported by :mod:`medtools.models`.

The encoder is the compact CNN's (:func:`medtools.models.compact_cnn`): stages of
Conv-BN-ReLU with max pooling between them and global average pooling. Two heads share it:

* ``head="softmax"`` — ``Dense(K, softmax)``: K unordered classes, trained with the
  sparse categorical cross-entropy on the grade ``y ∈ {0, …, K-1}``.
* ``head="coral"`` — the *consistent rank logits* of Cao, Mirjalili & Raschka (2020):
  ``K-1`` binary tasks "grade > k" that share **one** weight vector ``w`` and have their own
  biases ``b_k`` (:class:`OrdinalBias`), ``P(y > k | x) = σ(wᵀg(x) + b_k)``; trained with the
  binary cross-entropy on the *levels* ``[y > 0, …, y > K-2]`` (:func:`ordinal_levels`).
  Because the tasks differ only in their biases, the probabilities are non-increasing in
  ``k`` whenever the biases are (the paper's rank-consistency theorem);
  :func:`cumulative_to_class_probs` turns them into class probabilities.

Either head may start at the training split's class prior (``initial_biases``), so that the
two differ only in the head, not in where training starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from numpy.typing import ArrayLike

__all__ = ["ORDINAL_HEADS", "OrdinalBias", "cumulative_to_class_probs", "ordinal_cnn", "ordinal_levels"]

#: The heads :func:`ordinal_cnn` builds.
ORDINAL_HEADS = ("softmax", "coral")


def ordinal_levels(y: ArrayLike, num_classes: int) -> np.ndarray:
    """Grades → the CORAL targets ``[y > 0, y > 1, …, y > K-2]``.

    Args:
        y: ``(N,)`` or ``(N, 1)`` integer grades in ``{0, …, K-1}``.
        num_classes: ``K`` (at least 2).

    Returns:
        ``(N, K-1)`` float32 of 0/1; row ``i`` has ``y_i`` leading ones.

    Raises:
        ValueError: ``num_classes < 2`` or a grade outside ``{0, …, K-1}``.
    """
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}.")
    g = np.asarray(y).reshape(-1)
    if g.size and (not np.all(np.equal(np.mod(g, 1), 0)) or g.min() < 0 or g.max() > num_classes - 1):
        raise ValueError(f"grades must be integers in [0, {num_classes - 1}], got values {np.unique(g)[:10]}.")
    return (g[:, None] > np.arange(num_classes - 1)[None, :]).astype(np.float32)


def cumulative_to_class_probs(p_greater: ArrayLike) -> np.ndarray:
    """``P(y > k)`` for ``k = 0…K-2`` → ``P(y = k)`` for ``k = 0…K-1``.

    ``P(y = k) = P(y > k-1) − P(y > k)`` with ``P(y > -1) = 1`` and ``P(y > K-1) = 0``. The
    rows sum to 1; an entry is negative only if the cumulative probabilities increase
    somewhere (a rank-inconsistent prediction), which a CORAL head with ordered biases cannot
    produce.

    Args:
        p_greater: ``(N, K-1)`` probabilities in [0, 1].

    Returns:
        ``(N, K)`` float64.
    """
    p = np.asarray(p_greater, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 1:
        raise ValueError(f"p_greater must have shape (N, K-1) with K >= 2, got {p.shape}.")
    n = len(p)
    upper = np.concatenate([np.ones((n, 1)), p], axis=1)
    lower = np.concatenate([p, np.zeros((n, 1))], axis=1)
    return upper - lower


@keras.saving.register_keras_serializable(package="medtools")
class OrdinalBias(keras.layers.Layer):
    """Adds ``K-1`` learned biases to one shared logit: ``(B, 1) → (B, K-1)``.

    The CORAL output layer is ``Dense(1, use_bias=False)`` (the shared weight vector)
    followed by this layer; the biases start at ``initial`` (default zeros).

    Args:
        units: ``K-1``.
        initial: ``K-1`` starting biases, or None for zeros.
    """

    def __init__(self, units: int, initial: Sequence[float] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"units must be a positive int (K-1), got {units!r}.")
        if initial is not None and len(initial) != units:
            raise ValueError(f"initial must have {units} values, got {len(initial)}.")
        self.units = units
        self.initial = None if initial is None else [float(v) for v in initial]

    def build(self, input_shape: Any) -> None:
        init = (
            keras.initializers.Zeros()
            if self.initial is None
            else keras.initializers.Constant(np.asarray(self.initial, np.float32))
        )
        self.bias = self.add_weight(shape=(self.units,), initializer=init, name="bias")

    def call(self, x: Any) -> Any:
        return x + self.bias

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, "initial": self.initial}


def ordinal_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 3),
    num_classes: int = 5,
    *,
    head: str = "softmax",
    widths: Sequence[int] = (32, 64, 128),
    convs_per_stage: Sequence[int] | None = None,
    dropout: float = 0.2,
    bn_momentum: float = 0.9,
    learning_rate: float | Any = 2e-3,
    initial_biases: Sequence[float] | None = None,
    name: str | None = None,
) -> keras.Model:
    """A compact CNN for ``K`` ordered grades, with a softmax or a CORAL head.

    Architecture::

        for stage s:  [Conv2D(ws, 3×3, same, no bias) → BatchNorm → ReLU] × ks
                      → MaxPool(2)          (all stages but the last)
        → GlobalAveragePooling2D (layer "embedding", the features of the chapter's map
          and nearest neighbours) → Dropout(dropout) →
          softmax: Dense(K, softmax)                          → (B, K)   P(y = k)
          coral:   Dense(1, no bias) → OrdinalBias(K-1) → σ    → (B, K-1) P(y > k)

    Args:
        input_shape: ``(H, W, C)`` of one float32 image in [0, 1].
        num_classes: ``K``, the number of grades (at least 2).
        head: ``"softmax"`` or ``"coral"`` (:data:`ORDINAL_HEADS`).
        widths, dropout, bn_momentum: as in :func:`medtools.models.compact_cnn`.
        convs_per_stage: Conv-BN-ReLU units per stage; default one per stage.
        learning_rate: Adam learning rate, a float or a Keras schedule.
        initial_biases: the starting biases, default zeros. coral: ``K-1`` values (e.g. the
            logits of the training split's ``P(y > k)``); softmax: ``K`` values (e.g. the logs
            of the training split's class frequencies). Either way the untrained model then
            starts near the training prior, so the two heads start alike.
        name: model name (default ``f"ordinal_cnn_{head}"``).

    Returns:
        A compiled ``keras.Model``. softmax: output ``(B, K)``, loss
        ``sparse_categorical_crossentropy`` on grades ``(B,)``; coral: output ``(B, K-1)``,
        loss ``binary_crossentropy`` on :func:`ordinal_levels` (the mean over the ``K-1``
        tasks: the CORAL loss divided by ``K-1``).

    Raises:
        ValueError: an unknown ``head``, ``num_classes < 2``, ``initial_biases`` of the wrong
            length for the head, ``dropout`` outside [0, 1), or any error of :func:`medtools.models.compact_cnn`'s arguments.
    """
    from keras import layers

    from medtools.models.compact import compact_cnn

    if head not in ORDINAL_HEADS:
        raise ValueError(f"head must be one of {ORDINAL_HEADS}, got {head!r}.")
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}.")
    n_biases = num_classes if head == "softmax" else num_classes - 1
    if initial_biases is not None and len(initial_biases) != n_biases:
        raise ValueError(
            f"the {head} head has {n_biases} biases (K{'' if head == 'softmax' else '-1'}), "
            f"got {len(initial_biases)} initial_biases."
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")
    # The encoder: build the compact CNN (which checks the arguments) and cut it at GAP.
    convs = (1,) * len(tuple(widths)) if convs_per_stage is None else convs_per_stage
    base = compact_cnn(
        input_shape, widths=widths, convs_per_stage=convs, dropout=0.0, bn_momentum=bn_momentum
    )
    inputs = keras.Input(tuple(input_shape), name="image")
    x = inputs
    for layer in base.layers[1:]:
        if layer.name == "gap":
            break
        x = layer.__class__.from_config(layer.get_config())(x)
    emb = layers.GlobalAveragePooling2D(name="embedding")(x)
    z = layers.Dropout(dropout, name="dropout")(emb) if dropout else emb
    if head == "softmax":
        bias_init = (
            "zeros"
            if initial_biases is None
            else keras.initializers.Constant(np.asarray(initial_biases, np.float32))
        )
        outputs = layers.Dense(num_classes, activation="softmax", bias_initializer=bias_init, name="prob")(z)
        loss = "sparse_categorical_crossentropy"
    else:
        logit = layers.Dense(1, use_bias=False, name="shared_logit")(z)
        logits = OrdinalBias(num_classes - 1, initial_biases, name="rank_biases")(logit)
        outputs = layers.Activation("sigmoid", name="prob")(logits)
        loss = "binary_crossentropy"
    model = keras.Model(inputs, outputs, name=name or f"ordinal_cnn_{head}")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    return model
