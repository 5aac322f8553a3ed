"""Prior (label) shift: when the test split's class mix differs from the training split's.

Introduced in the chapter *Beyond the article* (``chapters/beyond_article``). A classifier
fitted on data with positive-class prior ``π`` outputs posteriors ``p = P(y=1 | x)`` for that
prior. If the class-conditional images ``P(x | y)`` stay the same but the prior becomes ``q``,
Bayes' rule gives the new posterior (Saerens, Latinne & Decaestecker 2002)::

    p' = (q/π) p / ((q/π) p + ((1-q)/(1-π)) (1-p))

which is the same as moving the 0.5 threshold on ``p`` to
``t = π(1-q) / (π(1-q) + q(1-π))`` (:func:`prior_shift_threshold`). The new prior ``q`` is
unknown, but can be estimated from the model's outputs on the *unlabelled* new images:

* :func:`em_prior` — expectation–maximisation (Saerens et al. 2002): alternate the posterior
  adjustment and ``q ← mean(p')`` until ``q`` stops moving;
* :func:`bbse_prior` — black-box shift estimation (Lipton, Wang & Smola 2018): the
  confusion matrix of hard predictions on labelled held-out data ``C[i, j] = P(ŷ=i, y=j)``
  and the rate of predictions ``μ̂[i] = P(ŷ=i)`` on the new data give the class weights
  ``w = C⁻¹ μ̂``, and ``q = w₁ P_source(y=1)``.

Both are *transductive*: they use the new images (never their labels). All functions are
binary (label 1 is the "positive" class whose prior is given) and work on NumPy arrays.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from medtools.arrays import as_labels, as_scores

__all__ = ["adjust_to_prior", "bbse_prior", "em_prior", "prior_shift_threshold"]


def _check_prior(value: float, name: str) -> float:
    value = float(value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be a class prior strictly between 0 and 1, got {value!r}.")
    return value


def adjust_to_prior(p: ArrayLike, prior_source: float, prior_target: float) -> np.ndarray:
    """Posteriors of label 1 re-weighted from prior ``prior_source`` to ``prior_target``.

    Args:
        p: probabilities of label 1 ``(N,)`` (any float dtype), from a model fitted on data
            whose positive fraction is ``prior_source``.
        prior_source, prior_target: positive-class priors, in (0, 1).

    Returns:
        ``(N,)`` float64 adjusted probabilities (Saerens et al. 2002, eq. 2.4).

    Raises:
        ValueError: a prior outside (0, 1), or ``p`` outside [0, 1] or not 1-D.
    """
    p = as_scores(p, "p", prob=True)
    a = _check_prior(prior_target, "prior_target") / _check_prior(prior_source, "prior_source")
    b = (1.0 - prior_target) / (1.0 - prior_source)
    num = a * p
    return num / (num + b * (1.0 - p))


def prior_shift_threshold(prior_source: float, prior_target: float) -> float:
    """The threshold on unadjusted probabilities equivalent to 0.5 on :func:`adjust_to_prior`'s.

    ``t = π(1-q) / (π(1-q) + q(1-π))`` with ``π = prior_source``, ``q = prior_target``;
    ``t = 0.5`` when the priors are equal.
    """
    pi, q = _check_prior(prior_source, "prior_source"), _check_prior(prior_target, "prior_target")
    return pi * (1.0 - q) / (pi * (1.0 - q) + q * (1.0 - pi))


def em_prior(
    p: ArrayLike, prior_source: float, *, tol: float = 1e-8, max_iter: int = 1000
) -> tuple[float, np.ndarray, int]:
    """Estimate the new positive prior from unlabelled probabilities by EM (Saerens et al. 2002).

    Starting from ``q = prior_source``, repeat: ``p' = adjust_to_prior(p, prior_source, q)``;
    ``q = mean(p')``, until ``q`` changes by less than ``tol``.

    EM assumes, besides a pure prior shift, that ``p`` is *calibrated* on the source
    distribution (``p = P_source(y=1 | x)``): probabilities that are systematically too low or
    too high bias the estimate even when only the class mix has changed. :func:`bbse_prior`
    does not need calibration.

    Args:
        p: probabilities of label 1 on the new, unlabelled images ``(N,)``.
        prior_source: the positive fraction of the data the model was fitted on, in (0, 1).
        tol: stop when ``|q_new - q| < tol``.
        max_iter: at most this many iterations (a RuntimeError if not converged).

    Returns:
        ``(q, p_adjusted, iterations)``: the estimated prior (float), the adjusted
        probabilities ``(N,)`` float64, and the number of iterations used.

    Raises:
        ValueError: ``prior_source`` outside (0, 1), ``p`` invalid, ``tol <= 0`` or
            ``max_iter < 1``.
        RuntimeError: no convergence in ``max_iter`` iterations.
    """
    p = as_scores(p, "p", prob=True)
    _check_prior(prior_source, "prior_source")
    if tol <= 0 or max_iter < 1:
        raise ValueError(f"tol must be > 0 and max_iter >= 1, got {tol!r} and {max_iter!r}.")
    p = np.clip(p, 1e-12, 1 - 1e-12)
    q = float(prior_source)
    for it in range(1, max_iter + 1):
        adjusted = adjust_to_prior(p, prior_source, q)
        q_new = float(np.clip(adjusted.mean(), 1e-9, 1 - 1e-9))
        if abs(q_new - q) < tol:
            return q_new, adjust_to_prior(p, prior_source, q_new), it
        q = q_new
    raise RuntimeError(f"em_prior did not converge in {max_iter} iterations (last prior {q:.6f}); raise max_iter.")


def bbse_prior(
    y_source: ArrayLike, p_source: ArrayLike, p_target: ArrayLike, *, threshold: float = 0.5
) -> float:
    """Black-box shift estimation of the new positive prior (Lipton, Wang & Smola 2018).

    With hard predictions ``ŷ = [p >= threshold]``, the joint confusion matrix on labelled
    held-out data ``C[i, j] = P(ŷ = i, y = j)`` (2×2) and the prediction rates on the new data
    ``μ̂[i] = P(ŷ = i)`` give the weights ``w = C⁻¹ μ̂`` (``w_j = q_j / π_j``); the estimate is
    ``q = w₁ π₁``, clipped to [0, 1].

    Args:
        y_source: binary labels ``(M,)`` of held-out data from the training distribution
            (e.g. the validation split).
        p_source: the model's probabilities of label 1 on it ``(M,)``.
        p_target: the model's probabilities on the new, unlabelled images ``(N,)``.
        threshold: turns probabilities into hard predictions.

    Returns:
        The estimated positive prior of the new data (float in [0, 1]).

    Raises:
        ValueError: lengths differ, labels not binary, or ``C`` singular (the classifier's
            hard predictions carry no information about the label).
    """
    y = as_labels(y_source, "y_source")
    ps, pt = as_scores(p_source, "p_source", prob=True), as_scores(p_target, "p_target", prob=True)
    if len(y) != len(ps):
        raise ValueError(f"y_source has {len(y)} labels but p_source has {len(ps)} scores.")
    yhat_s = (ps >= threshold).astype(np.int64)
    conf = np.zeros((2, 2))
    np.add.at(conf, (yhat_s, y), 1.0)
    conf /= len(y)
    mu = np.bincount((pt >= threshold).astype(np.int64), minlength=2) / len(pt)
    if abs(np.linalg.det(conf)) < 1e-12:
        raise ValueError("The confusion matrix on the source data is singular: hard predictions do not depend on the label.")
    w = np.linalg.solve(conf, mu)
    pi1 = float(np.mean(y))
    return float(np.clip(w[1] * pi1, 0.0, 1.0))
