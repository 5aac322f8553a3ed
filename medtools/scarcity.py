"""Learning from few or noisy labels: subsets, label noise, mixup, contrastive pretraining, probes.

Introduced in the chapter *Data scarcity and quality* (``chapters/data_scarcity``), which
measures how a classifier's test AUC falls with fewer labels and what each remedy buys back.

* :func:`stratified_subset` — a fixed fraction of the training labels, class proportions kept.
* :func:`flip_labels` — symmetric label noise: a known fraction of binary labels flipped.
* :func:`mixup_batch` — mixup of a batch with a permutation of itself.
* :func:`training_batches`, :func:`train_steps` — the training pipeline (augmentation and
  mixup optional) and supervised training for a fixed number of gradient steps (class
  weights optional), the chapter's one training loop.
* :func:`contrastive_augmentation`, :func:`nt_xent_loss`, :func:`pretrain_simclr` — a small
  SimCLR-style self-supervised objective on unlabelled images.
* :func:`encoder_features`, :func:`fit_linear_probe`, :func:`probe_scores` — linear probing of a
  frozen encoder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "contrastive_augmentation",
    "encoder_features",
    "fit_linear_probe",
    "flip_labels",
    "mixup_batch",
    "nt_xent_loss",
    "pretrain_simclr",
    "probe_scores",
    "stratified_subset",
    "train_steps",
    "training_batches",
]


def _labels(y: ArrayLike, name: str = "y") -> np.ndarray:
    """``y`` as an int64 ``(N,)`` array of 0/1 labels (a column ``(N, 1)`` is flattened)."""
    a = np.asarray(y)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty vector of labels (N,), got shape {a.shape}.")
    if not np.issubdtype(a.dtype, np.integer) and not np.all(np.mod(a, 1) == 0):
        raise ValueError(
            f"{name} must hold integer class labels, got dtype {a.dtype} with fractional values."
        )
    return a.astype(np.int64)


def stratified_subset(y: ArrayLike, fraction: float, seed: int = 0) -> np.ndarray:
    """Indices of a random subset holding ``fraction`` of the labels, class proportions kept.

    Each class ``c`` with ``N_c`` examples contributes ``max(1, round(fraction * N_c))``
    examples drawn without replacement, so even a 1 % subset has every class. The same
    ``(y, fraction, seed)`` always gives the same subset; for one seed the subsets are
    *not* nested across fractions (each is drawn afresh).

    Args:
        y: class labels ``(N,)`` (or ``(N, 1)``), integers.
        fraction: share of the examples to keep, in (0, 1]; 1 returns every index.
        seed: seed of the draw.

    Returns:
        Sorted int64 indices ``(M,)`` into ``y``.

    Raises:
        ValueError: ``fraction`` outside (0, 1], or ``y`` not a vector of integer labels.
    """
    labels = _labels(y, "y")
    if not 0.0 < float(fraction) <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}; pass 0.01 for 1 % of the labels.")
    rng = np.random.default_rng(seed)
    picked = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        k = max(1, round(float(fraction) * len(idx)))
        picked.append(rng.choice(idx, size=k, replace=False))
    return np.sort(np.concatenate(picked)).astype(np.int64)


def flip_labels(y: ArrayLike, rate: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric label noise: flip exactly ``round(rate * N)`` binary labels chosen at random.

    Args:
        y: binary labels ``(N,)`` in {0, 1}.
        rate: fraction of labels to flip, in [0, 0.5) (at 0.5 the labels carry no signal).
        seed: seed of the choice.

    Returns:
        ``(y_noisy, flipped)``: int64 ``(N,)`` labels and a bool ``(N,)`` mask of the flipped ones.

    Raises:
        ValueError: labels other than 0/1, or ``rate`` outside [0, 0.5).
    """
    labels = _labels(y, "y")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError(f"flip_labels needs binary labels 0/1, got values {np.unique(labels).tolist()}.")
    if not 0.0 <= float(rate) < 0.5:
        raise ValueError(f"rate must be in [0, 0.5), got {rate!r}.")
    rng = np.random.default_rng(seed)
    flipped = np.zeros(len(labels), bool)
    flipped[rng.choice(len(labels), size=round(float(rate) * len(labels)), replace=False)] = True
    return np.where(flipped, 1 - labels, labels), flipped


def mixup_batch(x: Any, y: Any, lam: Any, perm: Any) -> tuple[Any, Any]:
    """Mixup: ``x' = λ x + (1 - λ) x[perm]``, ``y' = λ y + (1 - λ) y[perm]`` (Zhang et al., 2018).

    Works on NumPy arrays and on TensorFlow tensors (inside a ``tf.data`` map).

    Args:
        x: images ``(B, H, W, C)`` float32.
        y: labels ``(B,)`` float32.
        lam: mixing weights, a scalar or ``(B,)`` float32 in [0, 1] (one per image).
        perm: a permutation of ``0..B-1``, int.

    Returns:
        ``(x', y')`` with the shapes and dtypes of ``x`` and ``y``.
    """
    from keras import ops

    lam = ops.cast(lam, x.dtype)
    lam_y = lam
    if len(ops.shape(lam)) == 1:
        lam = ops.reshape(lam, (-1, 1, 1, 1))
    x_mix = lam * x + (1.0 - lam) * ops.take(x, perm, axis=0)
    y_mix = lam_y * y + (1.0 - lam_y) * ops.take(y, perm, axis=0)
    return x_mix, y_mix


def _tf_mixup(alpha: float, seed: int) -> Any:
    """A ``tf.data`` map function applying :func:`mixup_batch` with ``λ ~ Beta(α, α)`` per image."""
    import tensorflow as tf

    gen = tf.random.Generator.from_seed(seed)

    @tf.autograph.experimental.do_not_convert
    def apply(x: Any, y: Any) -> tuple[Any, Any]:
        b = tf.shape(x)[0]
        g1 = tf.random.stateless_gamma([b], seed=gen.make_seeds(1)[:, 0], alpha=alpha)
        g2 = tf.random.stateless_gamma([b], seed=gen.make_seeds(1)[:, 0], alpha=alpha)
        lam = g1 / (g1 + g2)
        perm = tf.random.experimental.stateless_shuffle(tf.range(b), seed=gen.make_seeds(1)[:, 0])
        return mixup_batch(x, y, lam, perm)

    return apply


def training_batches(
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int = 64,
    seed: int = 0,
    augment: keras.Sequential | None = None,
    mixup_alpha: float = 0.0,
) -> Any:
    """The endless stream of training batches that :func:`train_steps` trains on.

    The pipeline: scale to [0, 1] (:func:`medtools.data.to_float`), shuffle (seeded,
    reshuffled every pass), repeat, batch, augment (if given, with ``training=True``), mixup
    (if ``mixup_alpha > 0``, :func:`mixup_batch` with ``λ ~ Beta(α, α)`` per image). With the
    same ``seed``, the batches with and without ``augment`` or mixup hold the same images in the
    same order, so a chapter can check that a remedy really changed what the model is trained on.

    Args:
        x: uint8 images ``(N, H, W)`` or ``(N, H, W, C)``.
        y: labels ``(N,)``, 0/1 (float targets are fine).
        batch_size: images per batch.
        seed: shuffle and mixup seed.
        augment: a Keras preprocessing model, or None.
        mixup_alpha: α of the Beta(α, α) mixing weight; 0 disables mixup.

    Returns:
        A ``tf.data.Dataset`` of ``(images (B, H, W, C) float32, labels (B,) float32)``.

    Raises:
        ValueError: ``batch_size`` not positive, ``x`` and ``y`` of different lengths, or a
            negative ``mixup_alpha``.
    """
    if int(batch_size) <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}.")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} images but y has {len(y)} labels.")
    if mixup_alpha < 0:
        raise ValueError(f"mixup_alpha must be >= 0 (0 disables mixup), got {mixup_alpha}.")
    import tensorflow as tf

    from medtools.data import to_float

    ds = tf.data.Dataset.from_tensor_slices((to_float(np.asarray(x)), np.asarray(y, np.float32)))
    ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True).repeat().batch(int(batch_size))
    if augment is not None:
        aug = augment

        @tf.autograph.experimental.do_not_convert
        def apply_augment(a: Any, b: Any) -> tuple[Any, Any]:
            return aug(a, training=True), b

        ds = ds.map(apply_augment)
    if mixup_alpha > 0:
        ds = ds.map(_tf_mixup(float(mixup_alpha), seed))
    return ds


def train_steps(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    steps: int,
    batch_size: int = 64,
    seed: int = 0,
    augment: keras.Sequential | None = None,
    mixup_alpha: float = 0.0,
    class_weight: dict[int, float] | None = None,
) -> dict[str, list[float]]:
    """Train a compiled binary model for a fixed number of gradient steps.

    A fixed number of steps (not epochs) fixes the compute, not the number of passes over the
    data: the model sees its ``N`` training images ``steps * batch_size / N`` times. A 1 % subset
    is seen many times; a large set may be seen less than once (70 steps of 64 images cover
    PneumoniaMNIST's 4,708 training images 0.95 times), which under-trains it. Give a large
    set more steps (the chapter *Data scarcity* gives every subset at least a fixed number of
    passes). The batches are those of :func:`training_batches`.

    Args:
        model: a compiled Keras model with output ``(B, 1)``.
        x: uint8 images ``(N, H, W)`` or ``(N, H, W, C)``.
        y: labels ``(N,)``, 0/1 (float targets are fine).
        steps: number of gradient steps (> 0).
        batch_size: images per step.
        seed: shuffle and mixup seed.
        augment: a Keras preprocessing model applied with ``training=True``, or None.
        mixup_alpha: α of the Beta(α, α) mixing weight; 0 disables mixup.
        class_weight: ``{class: weight}`` for the loss (:func:`medtools.train.balanced_class_weights`),
            or None.

    Returns:
        The history dict of ``model.fit`` (one entry per 10 % of the steps).

    Raises:
        ValueError: ``steps`` or ``batch_size`` not positive, ``x`` and ``y`` of different
            lengths, or a negative ``mixup_alpha``.
    """
    if int(steps) <= 0 or int(batch_size) <= 0:
        raise ValueError(f"steps and batch_size must be positive, got {steps} and {batch_size}.")
    import tensorflow as tf

    ds = training_batches(x, y, batch_size=batch_size, seed=seed, augment=augment, mixup_alpha=mixup_alpha)
    epochs = 10 if int(steps) % 10 == 0 else 1
    history = model.fit(
        ds.prefetch(tf.data.AUTOTUNE),
        steps_per_epoch=int(steps) // epochs,
        epochs=epochs,
        class_weight=class_weight,
        shuffle=False,  # the pipeline above shuffles (seeded)
        verbose=0,
    )
    return history.history


# ---------------------------------------------------------------------------
# Self-supervised pretraining (SimCLR-style)
# ---------------------------------------------------------------------------


def contrastive_augmentation(seed: int = 0) -> keras.Sequential:
    """The two-view augmentation of the contrastive objective, for 28×28 grey radiographs.

    Stronger than :func:`medtools.data.augmentation` ``("xray")`` — the views must differ
    enough that matching them is not trivial — but still without flips: random zoom
    (±30 %), shift (±10 %), rotation (±10°), brightness and contrast (±30 %), Gaussian
    noise (σ = 0.05). Input and output: float images ``(B, H, W, C)`` in [0, 1].
    """
    import keras
    from keras import layers

    return keras.Sequential(
        [
            layers.RandomZoom(0.3, fill_mode="nearest", seed=seed),
            layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=seed + 1),
            layers.RandomRotation(10 / 360, fill_mode="nearest", seed=seed + 2),
            layers.RandomBrightness(0.3, value_range=(0.0, 1.0), seed=seed + 3),
            layers.RandomContrast(0.3, seed=seed + 4),
            layers.GaussianNoise(0.05, seed=seed + 5),
        ],
        name="augment_contrastive",
    )


def nt_xent_loss(z1: Any, z2: Any, temperature: float = 0.2) -> Any:
    """SimCLR's normalised temperature-scaled cross-entropy (NT-Xent), mean over the 2B views.

    With ``z`` the L2-normalised concatenation of both views' projections (``2B`` rows),
    ``s_ij = z_i · z_j / τ``, and ``p(i)`` the index of the other view of image ``i``::

        loss = mean_i [ -s_{i,p(i)} + log sum_{j != i} exp(s_ij) ]

    Args:
        z1, z2: projections of the two views, ``(B, D)`` float32 (tensors or arrays).
        temperature: τ > 0.

    Returns:
        A scalar float32 tensor.

    Raises:
        ValueError: ``temperature`` not positive, or ``z1`` and ``z2`` of different shapes.
    """
    from keras import ops

    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}.")
    if tuple(ops.shape(z1)) != tuple(ops.shape(z2)):
        raise ValueError(
            f"z1 and z2 must have the same shape (B, D), got {ops.shape(z1)} and {ops.shape(z2)}."
        )
    z = ops.concatenate([z1, z2], axis=0)
    z = z / ops.sqrt(ops.maximum(ops.sum(z * z, axis=1, keepdims=True), 1e-12))
    n = ops.shape(z)[0]
    b = n // 2
    sim = ops.matmul(z, ops.transpose(z)) / temperature
    sim = sim - 1e9 * ops.eye(n, dtype=sim.dtype)  # exclude j == i
    positives = ops.concatenate([ops.arange(b, n), ops.arange(0, b)], axis=0)
    log_prob = sim - ops.logsumexp(sim, axis=1, keepdims=True)
    picked = ops.take_along_axis(log_prob, ops.expand_dims(positives, 1), axis=1)
    return -ops.mean(picked)


def _encoder(model: keras.Model, layer: str) -> keras.Model:
    """The sub-model from ``model``'s input to ``layer``'s output (shares the layers' weights)."""
    import keras

    try:
        out = model.get_layer(layer).output
    except ValueError as exc:
        names = ", ".join(lay.name for lay in model.layers)
        raise ValueError(f"the model has no layer {layer!r}; its layers are: {names}.") from exc
    return keras.Model(model.input, out)


def pretrain_simclr(
    model: keras.Model,
    x: np.ndarray,
    *,
    steps: int,
    batch_size: int = 128,
    temperature: float = 0.2,
    learning_rate: float = 2e-3,
    projection: tuple[int, int] = (64, 32),
    feature_layer: str = "gap",
    seed: int = 0,
) -> dict[str, list[float]]:
    """SimCLR-style contrastive pretraining of ``model``'s encoder on unlabelled images.

    The encoder is ``model`` up to ``feature_layer`` (for :func:`medtools.models.compact_cnn`,
    the global average pooling); a projection head ``Dense(p1, relu) → Dense(p2)`` is added
    for the objective only and thrown away afterwards (Chen et al., 2020). Each step draws a
    batch, makes two views with :func:`contrastive_augmentation`, and minimises
    :func:`nt_xent_loss` with Adam. The layers after ``feature_layer`` are not trained.

    Args:
        model: a Keras model with a layer named ``feature_layer``; its weights are updated in place.
        x: unlabelled uint8 images ``(N, H, W)`` or ``(N, H, W, C)``.
        steps: gradient steps (> 0).
        batch_size: images per step (2 × ``batch_size`` views).
        temperature: τ of :func:`nt_xent_loss`.
        learning_rate: Adam learning rate.
        projection: widths of the projection head.
        feature_layer: name of the encoder's last layer.
        seed: seed of the batches, the augmentation and the head's initial weights.

    Returns:
        ``{"loss": [...]}``: the mean NT-Xent loss over each tenth of the steps.

    Raises:
        ValueError: no layer ``feature_layer``, or ``steps``/``batch_size`` not positive.
    """
    import keras
    import tensorflow as tf

    from medtools.data import to_float

    if int(steps) <= 0 or int(batch_size) <= 1:
        raise ValueError(f"steps must be positive and batch_size at least 2, got {steps} and {batch_size}.")
    encoder = _encoder(model, feature_layer)
    keras.utils.set_random_seed(seed)
    head = keras.Sequential(
        [keras.layers.Dense(projection[0], activation="relu"), keras.layers.Dense(projection[1])],
        name="projection",
    )
    head.build(encoder.output.shape)
    augment = contrastive_augmentation(seed)
    optimizer = keras.optimizers.Adam(learning_rate)
    variables = encoder.trainable_variables + head.trainable_variables

    @tf.function(autograph=False)
    def step(batch: Any) -> Any:
        v1, v2 = augment(batch, training=True), augment(batch, training=True)
        with tf.GradientTape() as tape:
            z1 = head(encoder(v1, training=True), training=True)
            z2 = head(encoder(v2, training=True), training=True)
            loss = nt_xent_loss(z1, z2, temperature)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    xs = to_float(np.asarray(x))
    ds = tf.data.Dataset.from_tensor_slices(xs).shuffle(len(xs), seed=seed, reshuffle_each_iteration=True)
    ds = ds.repeat().batch(int(batch_size), drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    losses: list[float] = []
    for batch in ds.take(int(steps)):
        losses.append(float(step(batch)))
    chunks = np.array_split(np.asarray(losses), min(10, len(losses)))
    return {"loss": [float(c.mean()) for c in chunks]}


# ---------------------------------------------------------------------------
# Linear probe
# ---------------------------------------------------------------------------


def encoder_features(
    model: keras.Model, x: np.ndarray, layer: str = "gap", batch_size: int = 1024
) -> np.ndarray:
    """The output of ``model``'s layer ``layer`` for uint8 images, in inference mode.

    Args:
        model: a Keras model with a layer named ``layer``.
        x: uint8 images ``(N, H, W)`` or ``(N, H, W, C)``.
        layer: the feature layer (``"gap"`` for :func:`medtools.models.compact_cnn`).
        batch_size: images per forward pass.

    Returns:
        float32 ``(N, D)`` features.

    Raises:
        ValueError: ``model`` has no layer ``layer``.
    """
    from medtools.data import to_float

    encoder = _encoder(model, layer)
    xs = to_float(np.asarray(x))
    out = [np.asarray(encoder(xs[i : i + batch_size], training=False)) for i in range(0, len(xs), batch_size)]
    return np.concatenate(out).reshape(len(xs), -1).astype(np.float32)


def fit_linear_probe(features: ArrayLike, y: ArrayLike, l2: float = 1e-2) -> dict[str, np.ndarray]:
    """L2-regularised logistic regression on frozen features (a linear probe).

    Features are standardised with the training mean and sd; the weights minimise
    ``mean_i BCE(y_i, σ(w·f_i + b)) + l2/2 · |w|²`` (L-BFGS, SciPy).

    Args:
        features: ``(N, D)`` float features of the labelled training images.
        y: binary labels ``(N,)``, both classes present.
        l2: regularisation strength (≥ 0).

    Returns:
        ``{"w": (D,), "b": (), "mean": (D,), "sd": (D,)}`` float64, for :func:`probe_scores`.

    Raises:
        ValueError: shapes that do not match, labels other than 0/1 or of one class only,
            or a negative ``l2``.
    """
    from scipy.optimize import minimize

    f = np.asarray(features, np.float64)
    labels = _labels(y, "y")
    if f.ndim != 2 or len(f) != len(labels):
        raise ValueError(f"features must be (N, D) with N = len(y) = {len(labels)}, got shape {f.shape}.")
    if set(np.unique(labels).tolist()) != {0, 1}:
        raise ValueError(
            f"a linear probe needs binary labels with both classes, got {np.unique(labels).tolist()}."
        )
    if l2 < 0:
        raise ValueError(f"l2 must be >= 0, got {l2}.")
    mean, sd = f.mean(axis=0), f.std(axis=0) + 1e-6
    z = (f - mean) / sd
    t = labels.astype(np.float64)

    def loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        s = z @ w + b
        loss = np.mean(np.logaddexp(0.0, s) - t * s) + 0.5 * l2 * w @ w
        r = (1.0 / (1.0 + np.exp(-s)) - t) / len(t)
        return float(loss), np.concatenate([z.T @ r + l2 * w, [r.sum()]])

    res = minimize(loss_grad, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return {"w": res.x[:-1], "b": np.asarray(res.x[-1]), "mean": mean, "sd": sd}


def probe_scores(probe: dict[str, np.ndarray], features: ArrayLike) -> np.ndarray:
    """Probabilities of label 1 from a probe of :func:`fit_linear_probe`, for ``(N, D)`` features → ``(N,)``."""
    f = np.asarray(features, np.float64)
    if f.ndim != 2 or f.shape[1] != len(probe["w"]):
        raise ValueError(
            f"features must be (N, {len(probe['w'])}) like the probe's training features, got {f.shape}."
        )
    s = ((f - probe["mean"]) / probe["sd"]) @ probe["w"] + probe["b"]
    return (1.0 / (1.0 + np.exp(-s))).astype(np.float32)
