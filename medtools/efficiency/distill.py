"""Knowledge distillation for one sigmoid output (Hinton, Vinyals & Dean 2015).

Introduced in the chapter *Efficiency and scalability* (``chapters/efficiency``):
:func:`distillation_loss` (a Keras loss), :func:`distillation_targets` (labels and teacher logits
packed as its ``y``) and :func:`prob_to_logit` (the Keras-ops twin of
:func:`medtools.reference.logit`, which works on NumPy arrays only). Imports Keras only when called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "distillation_loss",
    "distillation_targets",
    "prob_to_logit",
]


def prob_to_logit(p: Any, eps: float = 1e-7) -> Any:
    """The logit ``log(p / (1 - p))`` of probabilities clipped to ``[eps, 1 - eps]`` (Keras ops).

    Works on NumPy arrays and tensors; the shape and float dtype are kept. The clip bounds the
    logit at about ±16, which a sigmoid in float32 cannot exceed anyway.
    """
    from keras import ops

    p = ops.clip(p, eps, 1.0 - eps)
    return ops.log(p) - ops.log1p(-p)


def distillation_targets(y: ArrayLike, teacher_logits: ArrayLike) -> np.ndarray:
    """Pack labels and teacher logits as the ``y`` of :func:`distillation_loss`: ``(N, 2)`` float32.

    Args:
        y: binary labels ``(N,)`` or ``(N, 1)``.
        teacher_logits: the teacher's logits ``(N,)`` or ``(N, 1)`` (see :func:`prob_to_logit`).
    """
    y = np.asarray(y, dtype=np.float32).reshape(-1)
    z = np.asarray(teacher_logits, dtype=np.float32).reshape(-1)
    if len(y) != len(z):
        raise ValueError(f"y has {len(y)} labels but teacher_logits has {len(z)} values; give one logit per image.")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y must hold binary labels 0/1.")
    if not np.isfinite(z).all():
        raise ValueError("teacher_logits must be finite; convert probabilities with prob_to_logit.")
    return np.stack([y, z], axis=1)


def distillation_loss(alpha: float = 0.5, temperature: float = 4.0) -> Callable[[Any, Any], Any]:
    """The distillation loss of one sigmoid output, as a Keras loss ``loss(y_true, y_pred)``.

    ``y_true`` is ``(B, 2)``: the label and the teacher's logit (:func:`distillation_targets`);
    ``y_pred`` is the student's probability ``(B, 1)``. With student logit ``z_s`` (from
    :func:`prob_to_logit`), teacher logit ``z_t``, temperature ``T`` and sigmoid ``σ``::

        L = α · BCE(y, σ(z_s)) + (1 − α) · T² · BCE(σ(z_t / T), σ(z_s / T))

    averaged over the batch (Hinton, Vinyals & Dean 2015; the ``T²`` keeps the soft term's
    gradient, ``T·(σ(z_s/T) − σ(z_t/T))``, on the scale of the hard term's as ``T`` grows).

    Raises:
        ValueError: ``alpha`` outside [0, 1] or ``temperature <= 0``.
    """
    from keras import ops

    alpha, temperature = float(alpha), float(temperature)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1] (the weight of the hard-label term), got {alpha}.")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}.")

    def bce_logits(target: Any, z: Any) -> Any:  # BCE(target, σ(z)), stable in z
        return ops.maximum(z, 0.0) - z * target + ops.log1p(ops.exp(-ops.abs(z)))

    def loss(y_true: Any, y_pred: Any) -> Any:
        y_true = ops.cast(y_true, "float32")
        z_s = prob_to_logit(ops.reshape(ops.cast(y_pred, "float32"), (-1,)))
        y, z_t = y_true[:, 0], y_true[:, 1]
        hard = bce_logits(y, z_s)
        soft = bce_logits(ops.sigmoid(z_t / temperature), z_s / temperature)
        return ops.mean(alpha * hard + (1.0 - alpha) * temperature**2 * soft)

    loss.__name__ = "distillation_loss"
    return loss
