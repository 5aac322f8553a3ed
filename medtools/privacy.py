"""Training without pooling the data, and what a trained model gives away.

Introduced in the chapter *Security and privacy* (``chapters/privacy``):

* data split across simulated hospitals with non-identical label distributions
  (:func:`dirichlet_split`) and federated averaging (:func:`average_weights`,
  :func:`federated_averaging`; McMahan et al. 2017);
* DP-SGD (Abadi et al. 2016): vectorised per-example gradients
  (:func:`per_example_gradients`), clipping and Gaussian noise (:func:`privatise`), a training
  loop with Poisson sampling (:func:`dp_train`), and the privacy budget from Google's
  ``dp-accounting`` (:func:`dp_epsilon`, :func:`dp_noise_multiplier`);
* the loss-threshold membership-inference attack (Yeom et al. 2018): per-example losses
  (:func:`per_example_loss`) and the attack's ROC-AUC (:func:`membership_auc`);
* what (ε, δ)-DP allows any membership test: the largest true-positive rate at a given
  false-positive rate (:func:`dp_membership_tpr_bound`; Kairouz, Oh & Viswanath 2015) and the
  largest attack AUC, its integral (:func:`dp_membership_auc_bound`).

The DICOM de-identifier of the same chapter is in :mod:`medtools.deid`. TensorFlow and
``dp-accounting`` are imported inside the functions that need them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import keras
    import tensorflow as tf

__all__ = [
    "average_weights",
    "dirichlet_split",
    "dp_epsilon",
    "dp_membership_auc_bound",
    "dp_membership_tpr_bound",
    "dp_noise_multiplier",
    "dp_train",
    "federated_averaging",
    "membership_auc",
    "model_bytes",
    "per_example_gradients",
    "per_example_loss",
    "privatise",
    "small_cnn",
]


# --------------------------------------------------------------------------- model


def small_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1),
    *,
    widths: Sequence[int] = (8, 16),
    dense: int = 0,
    optimizer: str = "adam",
    learning_rate: float = 1e-3,
    name: str = "small_cnn",
) -> keras.Model:
    """A very small binary CNN without batch normalisation or dropout.

    ``[Conv2D(w, 3×3, same) → ReLU → MaxPool(2)]`` per width ``w`` → Flatten
    → (Dense(dense, ReLU) if ``dense`` > 0) → Dense(1, sigmoid).
    Without batch normalisation every example's gradient depends on that example only, which
    per-example clipping (DP-SGD) and weight averaging (FedAvg) need.

    Args:
        input_shape: ``(H, W, C)`` of one float32 image in [0, 1].
        widths: channels of each convolution (default 8, 16: 2,033 parameters at 28×28×1).
        dense: units of an optional hidden dense layer (0: none); a large one lets the model
            memorise a small training set (the membership-inference section's target).
        optimizer: ``"adam"`` or ``"sgd"`` (plain SGD, stateless: the local optimiser of FedAvg).
        learning_rate: the optimiser's learning rate (> 0).
        name: model name.

    Returns:
        A ``keras.Model`` compiled with binary cross-entropy; input ``(B, H, W, C)`` float32,
        output ``(B, 1)`` float32 probability of label 1.

    Raises:
        ValueError: an empty or non-positive ``widths``, an unknown ``optimizer`` or a
            learning rate ≤ 0.
    """
    import keras
    from keras import layers

    if not widths or any(int(w) < 1 for w in widths):
        raise ValueError(f"widths must be a non-empty sequence of positive ints, got {widths!r}.")
    if int(dense) < 0:
        raise ValueError(f"dense must be ≥ 0, got {dense!r}.")
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}.")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}.")
    x = inputs = keras.Input(input_shape)
    for i, w in enumerate(widths):
        x = layers.Conv2D(int(w), 3, padding="same", activation="relu", name=f"conv{i + 1}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    if int(dense) > 0:
        x = layers.Dense(int(dense), activation="relu", name="hidden")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="out")(x)
    model = keras.Model(inputs, outputs, name=name)
    opt = keras.optimizers.Adam(learning_rate) if optimizer == "adam" else keras.optimizers.SGD(learning_rate)
    model.compile(optimizer=opt, loss="binary_crossentropy")
    return model


def model_bytes(model: keras.Model) -> int:
    """Bytes of the model's trainable weights as sent over a network (float32: 4 bytes each)."""
    return int(sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in model.trainable_weights))


# --------------------------------------------------------------------------- federated


def dirichlet_split(
    labels: np.ndarray, n_clients: int, alpha: float, *, seed: int = 0, min_size: int = 20
) -> list[np.ndarray]:
    """Split example indices across clients with label proportions drawn from Dirichlet(α).

    For each class ``c`` a vector ``p_c ~ Dirichlet(α·1_K)`` is drawn and the (shuffled)
    examples of that class are cut into ``K`` parts of sizes proportional to ``p_c``
    (Hsu, Qi & Brown 2019). Small ``α`` gives very different label mixes per client;
    large ``α`` approaches an i.i.d. split. Draws are repeated (up to 100 times) until every
    client has at least ``min_size`` examples.

    Args:
        labels: ``(N,)`` integer class labels.
        n_clients: number of clients ``K`` (≥ 2).
        alpha: Dirichlet concentration (> 0).
        seed: seed of the NumPy generator.
        min_size: smallest acceptable client size (≥ 1).

    Returns:
        ``K`` sorted int64 index arrays, disjoint, together covering ``range(N)``.

    Raises:
        ValueError: bad arguments, or no split with ``min_size`` found.
    """
    y = np.asarray(labels)
    if y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be a non-empty 1-D integer array, got shape {y.shape} dtype {y.dtype}.")
    if int(n_clients) < 2:
        raise ValueError(f"n_clients must be ≥ 2, got {n_clients!r}.")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}.")
    if min_size < 1 or min_size * n_clients > y.size:
        raise ValueError(f"min_size must be between 1 and N / n_clients = {y.size // n_clients}, got {min_size}.")
    rng = np.random.default_rng(seed)
    for _ in range(100):
        parts: list[list[np.ndarray]] = [[] for _ in range(n_clients)]
        for c in np.unique(y):
            idx = rng.permutation(np.flatnonzero(y == c))
            p = rng.dirichlet(np.full(n_clients, float(alpha)))
            cuts = (np.cumsum(p)[:-1] * idx.size).astype(int)
            for k, part in enumerate(np.split(idx, cuts)):
                parts[k].append(part)
        out = [np.sort(np.concatenate(p)).astype(np.int64) for p in parts]
        if min(o.size for o in out) >= min_size:
            return out
    raise ValueError(
        f"no Dirichlet({alpha}) split gave every one of {n_clients} clients ≥ {min_size} examples in 100 draws; "
        "raise alpha or lower min_size."
    )


def average_weights(weights: Sequence[Sequence[np.ndarray]], sizes: Sequence[int]) -> list[np.ndarray]:
    """FedAvg's server step: the average of the clients' weights weighted by their data sizes.

    ``w = Σ_k (n_k / n) w_k`` for every weight tensor (McMahan et al. 2017).

    Args:
        weights: one list of arrays per client (``model.get_weights()``), same shapes.
        sizes: ``n_k``, the number of training examples of each client (> 0).

    Returns:
        The averaged list of float32 arrays.
    """
    if len(weights) != len(sizes) or not weights:
        raise ValueError(f"need one size per client: got {len(weights)} weight lists and {len(sizes)} sizes.")
    n = np.asarray(sizes, dtype=np.float64)
    if np.any(n <= 0):
        raise ValueError(f"sizes must be positive, got {list(sizes)}.")
    share = n / n.sum()
    return [
        np.sum([s * np.asarray(w[i], np.float64) for s, w in zip(share, weights, strict=True)], axis=0).astype(
            np.float32
        )
        for i in range(len(weights[0]))
    ]


def federated_averaging(
    model: keras.Model,
    clients: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    rounds: int,
    local_epochs: int = 1,
    batch_size: int = 32,
    on_round: Callable[[int, keras.Model], None] | None = None,
) -> dict[str, list[float]]:
    """Train ``model`` by federated averaging across ``clients``, in place.

    Each round the server sends the global weights to every client, each client trains
    ``local_epochs`` epochs on its own data with the model's (stateless) optimiser, sends its
    weights back, and the server averages them (:func:`average_weights`). Every client takes
    part in every round (FedAvg with client fraction 1).

    Args:
        model: a compiled model with a stateless optimiser (plain SGD), e.g.
            ``small_cnn(optimizer="sgd")``.
        clients: ``(x, y)`` per client: float32 ``(n_k, H, W, C)`` and ``(n_k,)`` labels.
        rounds: communication rounds (≥ 1).
        local_epochs: local epochs per round (≥ 1).
        batch_size: local mini-batch size.
        on_round: optional ``f(round, model)`` called after each round (e.g. to validate).

    Returns:
        History: ``round`` and ``bytes``, the cumulative bytes sent and received by the
        server, *measured* as the ``nbytes`` of the arrays actually exchanged: the global
        weights sent down to every client and each client's weights sent back, every round
        (every weight array of ``get_weights()``, trainable or not).
    """
    if rounds < 1 or local_epochs < 1:
        raise ValueError(f"rounds and local_epochs must be ≥ 1, got {rounds} and {local_epochs}.")
    if len(clients) < 1:
        raise ValueError("need at least one client.")
    history: dict[str, list[float]] = {"round": [], "bytes": []}
    sent = 0
    for r in range(1, rounds + 1):
        start = model.get_weights()  # what the server sends down
        updates = []
        for x, y in clients:
            down = [np.array(w, copy=True) for w in start]  # the client's own copy of the message
            sent += sum(w.nbytes for w in down)
            model.set_weights(down)
            model.fit(x, y, epochs=local_epochs, batch_size=batch_size, verbose=0, shuffle=True)
            up = model.get_weights()  # what the client sends back
            sent += sum(w.nbytes for w in up)
            updates.append(up)
        model.set_weights(average_weights(updates, [len(y) for _, y in clients]))
        history["round"].append(float(r))
        history["bytes"].append(float(sent))
        if on_round is not None:
            on_round(r, model)
    return history


# --------------------------------------------------------------------------- DP-SGD


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
        model: compiled model without batch normalisation (e.g. :func:`small_cnn`).
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


# --------------------------------------------------------------------------- membership inference


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
