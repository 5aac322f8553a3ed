"""Optimiser updates from scratch in NumPy: SGD, momentum and Adam, matching Keras 3.

Introduced in chapter *The workflow: preprocessing, losses, optimisers, metrics*
(``chapters/workflow``), where each formula is derived, numbered and checked against
``keras.optimizers``. Re-exported by :mod:`medtools.reference`.

All functions are pure: they never modify their inputs and return new arrays. Parameters
``theta`` and gradients ``grad`` are float arrays of any (equal) shape; computations run in the
floating dtype of the inputs (integer and bool inputs are promoted to float64), so float32
parameters give float32 results, like Keras with float32 variables.

The update rules follow Keras 3's ``update_step`` code (``keras/src/optimizers/sgd.py`` and
``adam.py``):

* SGD: ``theta <- theta - lr * g``.
* Momentum (Keras's formulation, not the "dampened" one of some textbooks):
  ``v <- mu * v - lr * g``; ``theta <- theta + v``; Nesterov:
  ``theta <- theta + mu * v - lr * g`` with the *new* ``v``.
* Adam (Kingma & Ba 2015, the "epsilon-hat" form at the end of their section 2):
  ``m <- m + (1 - b1)(g - m)``; ``v <- v + (1 - b2)(g^2 - v)``;
  ``alpha_t = lr * sqrt(1 - b2^t) / (1 - b1^t)``;
  ``theta <- theta - alpha_t * m / (sqrt(v) + eps)``. Keras adds ``eps`` to ``sqrt(v)``
  *after* folding both bias corrections into ``alpha_t``, which is not the same as
  ``m_hat / (sqrt(v_hat) + eps)`` when ``eps`` matters.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from medtools.arrays import as_float, same_shape
from medtools.reference.losses import KERAS_EPSILON

__all__ = ["AdamState", "adam_init", "adam_step", "momentum_step", "sgd_step"]


def sgd_step(theta: ArrayLike, grad: ArrayLike, *, lr: float = 0.01) -> np.ndarray:
    """One step of plain gradient descent: ``theta - lr * grad`` (``keras.optimizers.SGD``).

    Returns the new parameters (same shape as ``theta``).
    """
    theta = as_float(theta, "theta")
    grad = as_float(grad, "grad")
    same_shape(theta, grad, "theta", "grad")
    return theta - np.asarray(lr, theta.dtype) * grad


def momentum_step(
    theta: ArrayLike,
    grad: ArrayLike,
    velocity: ArrayLike | None = None,
    *,
    lr: float = 0.01,
    momentum: float = 0.9,
    nesterov: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """One step of SGD with momentum, Keras's formulation (``SGD(momentum=..., nesterov=...)``).

    ``v_new = momentum * v - lr * grad``; ``theta_new = theta + v_new``, or with Nesterov
    ``theta_new = theta + momentum * v_new - lr * grad``.

    Args:
        theta, grad: parameters and gradient, same shape.
        velocity: the velocity ``v`` from the previous step (``None``: zeros, the first step).
        lr, momentum: learning rate ``eta`` and momentum ``mu`` (``0 <= mu < 1``).

    Returns:
        ``(theta_new, velocity_new)``.
    """
    theta = as_float(theta, "theta")
    grad = as_float(grad, "grad")
    same_shape(theta, grad, "theta", "grad")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}.")
    v = np.zeros_like(theta) if velocity is None else as_float(velocity, "velocity")
    same_shape(theta, v, "theta", "velocity")
    mu, eta = np.asarray(momentum, theta.dtype), np.asarray(lr, theta.dtype)
    v_new = mu * v - eta * grad
    theta_new = theta + (mu * v_new - eta * grad if nesterov else v_new)
    return theta_new, v_new


class AdamState(NamedTuple):
    """Adam's state: first moment ``m``, second moment ``v`` (shape of ``theta``), steps done ``t``."""

    m: np.ndarray
    v: np.ndarray
    t: int


def adam_init(theta: ArrayLike) -> AdamState:
    """Zero moments and ``t = 0`` for parameters shaped like ``theta``."""
    theta = as_float(theta, "theta")
    return AdamState(np.zeros_like(theta), np.zeros_like(theta), 0)


def adam_step(
    theta: ArrayLike,
    grad: ArrayLike,
    state: AdamState | None = None,
    *,
    lr: float = 0.001,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = KERAS_EPSILON,
) -> tuple[np.ndarray, AdamState]:
    """One Adam step with bias correction, as ``keras.optimizers.Adam`` computes it.

    With ``t`` the new step count (1 on the first step)::

        m_t     = m + (1 - beta_1) (g - m)            # = beta_1 m + (1 - beta_1) g
        v_t     = v + (1 - beta_2) (g^2 - v)          # = beta_2 v + (1 - beta_2) g^2
        alpha_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        theta_t = theta - alpha_t * m_t / (sqrt(v_t) + epsilon)

    Args:
        theta, grad: parameters and gradient, same shape.
        state: from :func:`adam_init` or the previous step (``None``: a fresh state).
        lr, beta_1, beta_2, epsilon: Keras's defaults.

    Returns:
        ``(theta_new, AdamState(m_t, v_t, t))``.
    """
    theta = as_float(theta, "theta")
    grad = as_float(grad, "grad")
    same_shape(theta, grad, "theta", "grad")
    if state is None:
        state = adam_init(theta)
    m, v, t = state
    same_shape(theta, np.asarray(m), "theta", "state.m")
    same_shape(theta, np.asarray(v), "theta", "state.v")
    if not (0 <= beta_1 < 1 and 0 <= beta_2 < 1):
        raise ValueError(f"beta_1 and beta_2 must be in [0, 1), got {beta_1}, {beta_2}.")
    dt = theta.dtype
    t = int(t) + 1
    b1, b2 = np.asarray(beta_1, dt), np.asarray(beta_2, dt)
    m_new = m + (grad - m) * (1 - b1)
    v_new = v + (grad**2 - v) * (1 - b2)
    alpha = np.asarray(lr, dt) * np.sqrt(1 - b2**t) / (1 - b1**t)
    theta_new = theta - (m_new * alpha) / (np.sqrt(v_new) + np.asarray(epsilon, dt))
    return theta_new, AdamState(m_new, v_new, t)
