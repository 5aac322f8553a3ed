"""DP-SGD and its privacy budget.

Introduced in the chapter *Security and privacy* (``chapters/privacy``): DP-SGD (Abadi et al.
2016) as vectorised per-example gradients (:func:`per_example_gradients`), clipping and
Gaussian noise (:func:`privatise`) and a training loop with Poisson sampling
(:func:`dp_train`); the privacy budget from Google's ``dp-accounting``
(:func:`dp_epsilon`, :func:`dp_noise_multiplier`; RDP of Mironov 2017, or PLD).

Re-exported by :mod:`medtools.privacy`. TensorFlow and ``dp-accounting`` are imported inside
the functions that need them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import keras
    import tensorflow as tf

__all__ = ["dp_epsilon", "dp_noise_multiplier", "dp_train", "per_example_gradients", "privatise"]


def _loss_per_example(y: tf.Tensor, p: tf.Tensor) -> tf.Tensor:
    import keras

    return keras.losses.binary_crossentropy(y[:, None], p)  # (B,)


def _per_example_fn(model: keras.Model) -> Callable[[tf.Tensor, tf.Tensor], list[tf.Tensor]]:
    import tensorflow as tf

    variables = model.trainable_variables

    def one(args: tuple[tf.Tensor, tf.Tensor]) -> list[tf.Tensor]:
        xi, yi = args
        with tf.GradientTape() as tape:
            loss = _loss_per_example(yi[None], model(xi[None], training=True))[0]
        return tape.gradient(loss, variables)

    return lambda x, y: tf.vectorized_map(one, (x, y))


def per_example_gradients(model: keras.Model, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """The gradient of each example's loss, vectorised with ``tf.vectorized_map``.

    Args:
        model: a model with one sigmoid output and no layer that mixes examples (no batch norm).
        x: ``(B, H, W, C)`` float32 images.
        y: ``(B,)`` labels in {0, 1}.

    Returns:
        One float32 array per trainable variable, of shape ``(B, *variable.shape)``:
        ``∇_θ ℓ(f_θ(x_i), y_i)`` for each ``i`` (binary cross-entropy).
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(np.asarray(x, np.float32))
    y = tf.convert_to_tensor(np.asarray(y, np.float32).reshape(-1))
    if x.shape[0] == 0:
        raise ValueError("per_example_gradients needs at least one example, got an empty batch.")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y disagree on the batch size: {x.shape[0]} vs {y.shape[0]}.")
    return [g.numpy() for g in tf.function(_per_example_fn(model))(x, y)]


def _check_clip(clip_norm: float) -> None:
    if not (isinstance(clip_norm, (int, float, np.floating)) and math.isfinite(clip_norm) and clip_norm > 0):
        raise ValueError(f"the clipping norm C must be a finite number > 0, got {clip_norm!r}.")


def _check_sigma(noise_multiplier: float, allow_zero: bool = True) -> None:
    ok = math.isfinite(noise_multiplier) and (noise_multiplier >= 0 if allow_zero else noise_multiplier > 0)
    if not ok:
        raise ValueError(
            f"the noise multiplier σ must be a finite number {'≥' if allow_zero else '>'} 0, got {noise_multiplier!r}."
        )


def privatise(
    grads: Sequence[Any],
    clip_norm: float,
    noise_multiplier: float,
    expected_batch: float,
    noise: Sequence[Any] | None = None,
) -> list[Any]:
    """DP-SGD's gradient: clip every example's gradient to norm ≤ C, sum, add noise, divide.

    ``g̃ = (Σ_i g_i / max(1, ‖g_i‖₂ / C) + N(0, σ²C² I)) / (qN)`` (Abadi et al. 2016), where
    ``‖g_i‖₂`` is the norm of example ``i``'s gradient over *all* variables together.

    Args:
        grads: per-example gradients, one ``(B, *shape)`` tensor or array per variable
            (:func:`per_example_gradients`).
        clip_norm: ``C`` > 0.
        noise_multiplier: ``σ`` ≥ 0 (0: clipping only, no privacy).
        expected_batch: ``qN``, the expected batch size of Poisson sampling (> 0).
        noise: optional standard-normal draws, one per variable (``shape``); drawn with
            TensorFlow's global generator when omitted.

    Returns:
        One tensor per variable, of the variable's shape.
    """
    import tensorflow as tf

    _check_clip(clip_norm)
    _check_sigma(noise_multiplier)
    if not expected_batch > 0:
        raise ValueError(f"expected_batch must be > 0, got {expected_batch!r}.")
    grads = [tf.convert_to_tensor(g, tf.float32) for g in grads]
    b = tf.shape(grads[0])[0]
    sq = tf.add_n([tf.reduce_sum(tf.reshape(g, [b, -1]) ** 2, axis=1) for g in grads])
    factor = 1.0 / tf.maximum(1.0, tf.sqrt(sq) / clip_norm)  # (B,)
    out = []
    for i, g in enumerate(grads):
        total = tf.tensordot(factor, g, axes=1)
        z = tf.random.normal(tf.shape(total)) if noise is None else tf.convert_to_tensor(noise[i], tf.float32)
        out.append((total + noise_multiplier * clip_norm * z) / expected_batch)
    return out


def dp_train(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    clip_norm: float,
    noise_multiplier: float,
    sampling_rate: float,
    steps: int,
    seed: int = 0,
) -> dict[str, list[float]]:
    """Train ``model`` in place with DP-SGD: Poisson sampling, per-example clipping, Gaussian noise.

    Each step includes every example independently with probability ``q`` (Poisson
    sampling, which the accountant of :func:`dp_epsilon` assumes), computes the per-example
    gradients (vectorised), privatises them (:func:`privatise`) and applies the result with
    the model's optimiser (an optimiser only post-processes the private gradient).

    Args:
        model: compiled model without batch normalisation (e.g. :func:`medtools.models.small_cnn`
            with ``optimizer="adam"``).
        x: ``(N, H, W, C)`` float32 training images; ``y``: ``(N,)`` labels in {0, 1}.
        clip_norm: ``C`` > 0; ``noise_multiplier``: ``σ`` ≥ 0.
        sampling_rate: ``q`` in (0, 1].
        steps: number of steps (≥ 1).
        seed: seeds the sampling and the noise.

    Returns:
        History: ``loss`` (mean training loss of the sampled batch, every step) and
        ``batch_size`` (the sampled sizes).
    """
    import tensorflow as tf

    _check_clip(clip_norm)
    _check_sigma(noise_multiplier)
    if not 0 < sampling_rate <= 1:
        raise ValueError(f"sampling_rate q must be in (0, 1], got {sampling_rate!r}.")
    if steps < 1:
        raise ValueError(f"steps must be ≥ 1, got {steps!r}.")
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.float32).reshape(-1)
    n = len(x)
    expected = sampling_rate * n
    variables = model.trainable_variables
    opt = model.optimizer
    opt.build(variables)
    per_example = _per_example_fn(model)
    gen = tf.random.Generator.from_seed(seed)
    shape = [None, *x.shape[1:]]

    @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32), tf.TensorSpec([None], tf.float32)])
    def step(xb: tf.Tensor, yb: tf.Tensor) -> tf.Tensor:
        grads = per_example(xb, yb)
        noise = [gen.normal(v.shape) for v in variables]
        opt.apply_gradients(zip(privatise(grads, clip_norm, noise_multiplier, expected, noise), variables, strict=True))
        return tf.reduce_mean(_loss_per_example(yb, model(xb, training=False)))

    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {"loss": [], "batch_size": []}
    for _ in range(steps):
        idx = np.flatnonzero(rng.random(n) < sampling_rate)
        if idx.size == 0:  # probability (1 - q)^N: the noise alone, as the analysis assumes
            empty = [np.zeros((0, *v.shape), np.float32) for v in variables]
            noise = [gen.normal(v.shape) for v in variables]
            opt.apply_gradients(zip(privatise(empty, clip_norm, noise_multiplier, expected, noise), variables, strict=True))
            history["loss"].append(float("nan"))
        else:
            history["loss"].append(float(step(x[idx], y[idx])))
        history["batch_size"].append(float(idx.size))
    return history


def _check_delta(delta: float) -> None:
    if not (isinstance(delta, (int, float, np.floating)) and 0 < delta < 1):
        raise ValueError(f"δ must be in (0, 1) (and should be below 1/N), got {delta!r}.")


def _event(noise_multiplier: float, sampling_rate: float, steps: int) -> Any:
    import dp_accounting

    if not 0 < sampling_rate <= 1:
        raise ValueError(f"sampling_rate q must be in (0, 1], got {sampling_rate!r}.")
    if int(steps) < 1:
        raise ValueError(f"steps must be ≥ 1, got {steps!r}.")
    gauss = dp_accounting.GaussianDpEvent(noise_multiplier)
    one = gauss if sampling_rate == 1 else dp_accounting.PoissonSampledDpEvent(sampling_rate, gauss)
    return dp_accounting.SelfComposedDpEvent(one, int(steps))


def _accountant(name: str) -> Any:
    from dp_accounting import pld, rdp

    if name == "rdp":
        return rdp.RdpAccountant()
    if name == "pld":
        return pld.PLDAccountant()
    raise ValueError(f"accountant must be 'rdp' or 'pld', got {name!r}.")


def dp_epsilon(
    noise_multiplier: float, sampling_rate: float, steps: int, delta: float, *, accountant: str = "rdp"
) -> float:
    """The ε of DP-SGD with Poisson sampling, from Google's ``dp-accounting``.

    The training is ``steps`` compositions of the Poisson-subsampled Gaussian mechanism
    (``PoissonSampledDpEvent(q, GaussianDpEvent(σ))``); the RDP accountant (Mironov 2017)
    or the PLD accountant converts the composition to (ε, δ) under add-or-remove-one
    neighbouring.

    Args:
        noise_multiplier: σ > 0.
        sampling_rate: q in (0, 1].
        steps: number of steps (≥ 1).
        delta: δ in (0, 1); choose δ < 1/N.
        accountant: ``"rdp"`` (default) or ``"pld"``.

    Returns:
        ε ≥ 0 (float).
    """
    _check_sigma(noise_multiplier, allow_zero=False)
    _check_delta(delta)
    acc = _accountant(accountant)
    acc.compose(_event(noise_multiplier, sampling_rate, steps))
    return float(acc.get_epsilon(delta))


def dp_noise_multiplier(
    epsilon: float, sampling_rate: float, steps: int, delta: float, *, accountant: str = "rdp"
) -> float:
    """The smallest σ whose DP-SGD run has at most ``epsilon`` (``dp_accounting.calibrate_dp_mechanism``).

    Args:
        epsilon: target ε > 0 (finite).
        sampling_rate, steps, delta, accountant: as in :func:`dp_epsilon`.

    Returns:
        σ (float), to within the calibration's tolerance (ε(σ) ≤ ``epsilon``).
    """
    import dp_accounting

    if not (isinstance(epsilon, (int, float, np.floating)) and math.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"ε must be a finite number > 0, got {epsilon!r}.")
    _check_delta(delta)
    _event(1.0, sampling_rate, steps)  # checks q and steps
    return float(
        dp_accounting.calibrate_dp_mechanism(
            lambda: _accountant(accountant),
            lambda s: _event(s, sampling_rate, steps),
            epsilon,
            delta,
            dp_accounting.LowerEndpointAndGuess(1e-2, 1.0),
            tol=1e-3,
        )
    )
