"""Membership inference, and what (ε, δ)-differential privacy allows an attacker.

Introduced in the chapter *Security and privacy* (``chapters/privacy``):

* the loss-threshold membership-inference attack (Yeom et al. 2018): per-example losses
  (:func:`per_example_loss`) and the attack's ROC-AUC (:func:`membership_auc`);
* what (ε, δ)-DP allows any membership test: the largest true-positive rate at a given
  false-positive rate (:func:`dp_membership_tpr_bound`; Kairouz, Oh & Viswanath 2015) and the
  largest attack AUC, its integral (:func:`dp_membership_auc_bound`).

Re-exported by :mod:`medtools.privacy`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = ["dp_membership_auc_bound", "dp_membership_tpr_bound", "membership_auc", "per_example_loss"]


def per_example_loss(model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Binary cross-entropy of each example: ``(N,)`` float64 (the attack's input)."""
    from medtools.train import predict_proba

    p = np.clip(predict_proba(model, np.asarray(x, np.float32), batch_size=batch_size).astype(np.float64),
                1e-7, 1 - 1e-7)  # Keras' epsilon
    t = np.asarray(y, np.float64).reshape(-1)
    return -(t * np.log(p) + (1 - t) * np.log(1 - p))


def membership_auc(member_losses: np.ndarray, nonmember_losses: np.ndarray) -> float:
    """ROC-AUC of the loss-threshold membership attack (Yeom et al. 2018).

    The attacker guesses "member" when an example's loss is below a threshold; over all
    thresholds, the AUC is ``P(ℓ_nonmember > ℓ_member) + ½ P(tie)`` (Mann–Whitney). 0.5: the
    losses give nothing away; 1: members and non-members are separated perfectly.

    Args:
        member_losses: ``(M,)`` losses of training examples.
        nonmember_losses: ``(K,)`` losses of examples not used in training.
    """
    a = np.asarray(member_losses, np.float64).reshape(-1)
    b = np.asarray(nonmember_losses, np.float64).reshape(-1)
    if a.size == 0 or b.size == 0 or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("member and non-member losses must be non-empty and finite.")
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([-a, -b]))  # member score: minus the loss
    return float((ranks[: a.size].sum() - a.size * (a.size + 1) / 2) / (a.size * b.size))


# --------------------------------------------------------------------------- what (ε, δ)-DP allows an attacker


def _check_eps_delta(epsilon: Any, delta: float) -> np.ndarray:
    e = np.asarray(epsilon, np.float64)
    if not np.all(e >= 0) or np.any(np.isnan(e)):
        raise ValueError(f"ε must be ≥ 0 (np.inf allowed: no guarantee), got {epsilon!r}.")
    if not (isinstance(delta, (int, float, np.floating)) and 0 <= delta <= 1):
        raise ValueError(f"δ must be in [0, 1], got {delta!r}.")
    return e


def dp_membership_tpr_bound(fpr: Any, epsilon: float, delta: float) -> np.ndarray:
    """The largest true-positive rate any membership test can have against an (ε, δ)-DP model.

    A membership test decides between "trained with this example" and "trained without it"
    from the model it sees. If training is (ε, δ)-DP, every test (every threshold of every
    attack) at false-positive rate ``α`` has a true-positive rate of at most

    ``min(1, e^ε α + δ, 1 − e^(−ε) (1 − δ − α))``

    (the privacy region of Kairouz, Oh & Viswanath 2015, Theorem 2.4: ``P_FA + e^ε P_MD ≥ 1 − δ``
    and ``e^ε P_FA + P_MD ≥ 1 − δ`` with ``P_FA = α`` and ``P_MD = 1 − TPR``; the same curve is the
    (ε, δ) trade-off function of Dong, Roth & Su 2022).

    Args:
        fpr: false-positive rates ``α`` in [0, 1], any shape.
        epsilon: ε ≥ 0 (``np.inf``: no guarantee, the bound is 1).
        delta: δ in [0, 1].

    Returns:
        float64 array of the shape of ``fpr``.
    """
    e = float(_check_eps_delta(epsilon, delta))
    a = np.asarray(fpr, np.float64)
    if np.any((a < 0) | (a > 1)) or np.any(np.isnan(a)):
        raise ValueError("fpr must lie in [0, 1].")
    if math.isinf(e):
        return np.ones_like(a)
    return np.minimum.reduce([np.ones_like(a), math.exp(e) * a + delta, 1 - math.exp(-e) * (1 - delta - a)])


def dp_membership_auc_bound(epsilon: Any, delta: float) -> np.ndarray | float:
    """The largest ROC-AUC any membership test can reach against an (ε, δ)-DP model.

    The integral over ``α`` in [0, 1] of :func:`dp_membership_tpr_bound`. That curve is
    ``δ + e^ε α`` up to ``α₁ = (1 − δ)/(e^ε + 1)``, then ``1 − e^(−ε)(1 − δ − α)`` up to
    ``1 − δ``, then 1; adding the three areas gives

    ``AUC_max(ε, δ) = 1 − (1 − δ)² / (1 + e^ε)``,

    which is ``e^ε / (1 + e^ε)`` for δ = 0 (0.731 at ε = 1) and 1 as ε → ∞. An attack AUC
    below this number is allowed by the guarantee; the guarantee does not predict it.

    Args:
        epsilon: ε ≥ 0, a number or an array (``np.inf``: no guarantee).
        delta: δ in [0, 1].

    Returns:
        float for a scalar ε, otherwise a float64 array of ε's shape.
    """
    e = _check_eps_delta(epsilon, delta)
    with np.errstate(over="ignore"):
        out = 1.0 - (1.0 - delta) ** 2 * np.exp(-np.logaddexp(0.0, e))  # 1 / (1 + e^ε), stable for large ε
    return float(out) if np.ndim(out) == 0 else out
