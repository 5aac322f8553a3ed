"""Explaining a classifier's decision: Grad-CAM, occlusion, integrated gradients and their checks.

Introduced in the chapter *Interpretability: what the network looks at*
(``chapters/interpretability``).

* :func:`grad_cam` — gradient-weighted class activation maps (Selvaraju et al., ICCV 2017) for
  Sequential, functional and **nested** Keras 3 models: the activation of the chosen layer is
  recorded during one eager forward pass of the whole model, so no sub-model has to be cut out
  of the graph (the usual recipe, ``keras.Model(model.inputs, [layer.output, model.output])``,
  fails with "graph disconnected" when the layer sits inside a nested model);
* :func:`occlusion` — the drop in the score when a patch is covered (Zeiler & Fergus, ECCV 2014);
* :func:`integrated_gradients` — path-integrated gradients from a baseline (Sundararajan et al.,
  ICML 2017), with the trapezoidal rule over ``steps`` intervals;
* sanity checks (Adebayo et al., NeurIPS 2018): :func:`cascading_randomisation`,
  :func:`rank_correlation`, :func:`ssim`;
* localisation: :func:`energy_inside` (energy-based pointing game, Wang et al., CVPRW 2020) and
  :func:`pointing_hit` (pointing game, Zhang et al., IJCV 2018).

Every explainer takes float32 images ``(N, H, W, C)`` as the model expects them and a model whose
output is ``(N, K)`` (a one-unit sigmoid has ``K = 1``); ``output_index`` picks the unit that is
explained. The TensorFlow backend of Keras is required (gradients use ``tf.GradientTape``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "cascading_randomisation",
    "conv_layers",
    "default_layer",
    "energy_inside",
    "find_layer",
    "grad_cam",
    "integrated_gradients",
    "occlusion",
    "pointing_hit",
    "rank_correlation",
    "reinitialise",
    "ssim",
]


def _walk(model: keras.Model, prefix: str = "") -> list[tuple[str, keras.layers.Layer]]:
    """Every layer of ``model``, nested models opened, depth first in model order, with paths."""
    out = []
    for layer in model.layers:
        path = f"{prefix}{layer.name}"
        out.append((path, layer))
        if hasattr(layer, "layers"):  # a nested Sequential or functional model
            out.extend(_walk(layer, prefix=f"{path}/"))
    return out


def conv_layers(model: keras.Model) -> list[str]:
    """Paths (``"outer/inner/conv"``) of every 2-D convolution in ``model``, nested models included.

    Counts ``Conv2D`` and its subclasses (``SeparableConv2D``, ``DepthwiseConv2D``,
    ``Conv2DTranspose``), in the order the layers were added.
    """
    import keras

    kinds = (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D)
    return [path for path, layer in _walk(model) if isinstance(layer, kinds)]


def _is_feature_map(layer: keras.layers.Layer) -> bool:
    """True if the layer has one output of rank 4, ``(batch, height, width, channels)``."""
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):  # never called in a graph, or called more than once
        return False
    return len(shape) == 4


def default_layer(model: keras.Model) -> str:
    """The path of the layer Grad-CAM uses when none is named: the last feature map of the network.

    That is the last layer, at or after the last 2-D convolution, whose output is a 4-D feature
    map ``(N, h, w, c)`` and which is not a pooling layer: the activation that global pooling
    (or ``Flatten``) reads, at the resolution of the last convolution. In a network of
    Conv → BatchNorm → ReLU units it is the ReLU after the last convolution, not the convolution
    itself: the convolution's output comes *before* the batch normalisation, so it can be
    negative, and its gradient-weighted sum is often negative everywhere (an empty map). Where
    the activation is part of the convolution (``Conv2D(..., activation="relu")``) it is the
    convolution.

    Raises:
        ValueError: the model has no 2-D convolution.
    """
    import keras

    convs = conv_layers(model)
    if not convs:
        raise ValueError(
            f"Model {model.name!r} has no 2-D convolutional layer, so Grad-CAM has no feature map to "
            "weight; pass layer_name= naming a layer with a (batch, height, width, channels) output, "
            "or use occlusion() or integrated_gradients(), which need no convolution."
        )
    leaves = [(path, layer) for path, layer in _walk(model) if not hasattr(layer, "layers")]
    last_conv = max(i for i, (path, _) in enumerate(leaves) if path == convs[-1])
    pooling = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
    candidates = [
        path for path, layer in leaves[last_conv:] if not isinstance(layer, pooling) and _is_feature_map(layer)
    ]
    return candidates[-1] if candidates else convs[-1]


def find_layer(model: keras.Model, layer_name: str | None = None) -> keras.layers.Layer:
    """The layer Grad-CAM uses: ``layer_name`` (a name or a nested path), or :func:`default_layer`.

    Args:
        model: a built Keras model (Sequential, functional, nested or not).
        layer_name: a layer name (``"s3_relu1"``) or path through nested models
            (``"backbone/s3_relu1"``); ``None`` picks :func:`default_layer`, the last feature
            map after the last convolution (in a Conv → BatchNorm → ReLU network, the ReLU).

    Raises:
        ValueError: ``layer_name`` is not a layer of the model (the message lists the
            convolutions), or ``layer_name`` is ``None`` and the model has no 2-D convolution.
    """
    layers = _walk(model)
    if layer_name is None:
        layer_name = default_layer(model)
    matches = [layer for path, layer in layers if layer_name in (path, layer.name)]
    if not matches:
        raise ValueError(
            f"Model {model.name!r} has no layer named {layer_name!r}. Its 2-D convolutions are "
            f"{conv_layers(model)}; pass one of these (or another layer's name) as layer_name."
        )
    if len(matches) > 1:
        raise ValueError(
            f"{len(matches)} layers are named {layer_name!r}; pass the full path through the nested "
            f"models instead, one of {[p for p, layer in layers if layer.name == layer_name]}."
        )
    return matches[0]


def _check_images(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """``x`` as float32 ``(N, H, W, C)``, checked against the model's input shape."""
    x = np.asarray(x)
    if x.dtype.kind not in "fiub":
        raise ValueError(f"x must be a numeric image array, got dtype {x.dtype}.")
    expected = tuple(model.inputs[0].shape[1:]) if getattr(model, "inputs", None) else None
    if x.ndim != 4:
        raise ValueError(
            f"x must be a batch of images (N, H, W, C), got shape {x.shape}"
            + (f"; for one image use x[None] (the model expects (N, {', '.join(map(str, expected))}))." if expected else ".")
        )
    if expected is not None and any(e is not None and e != s for e, s in zip(expected, x.shape[1:], strict=True)):
        raise ValueError(
            f"x has images of shape {x.shape[1:]}, but model {model.name!r} expects {expected}; "
            "resize or crop the images, or check the channel axis (channels last)."
        )
    return x.astype(np.float32)


def _score(y, output_index: int):
    """Column ``output_index`` of a ``(N, K)`` model output."""
    if len(y.shape) != 2:
        raise ValueError(f"The model's output must be (N, K), got shape {tuple(y.shape)}.")
    if not 0 <= output_index < y.shape[1]:
        raise ValueError(f"output_index must be in [0, {y.shape[1]}), got {output_index}.")
    return y[:, output_index]


@contextmanager
def _scored(model: keras.Model, target: str):
    """Within the block, the model returns its logit (``target="logit"``) or its output as it is.

    ``"logit"`` removes the sigmoid or softmax of the model's last layer for the duration of the
    block (and restores it after): a saturated probability (exactly 1.0 in float32) has a zero
    gradient and would give empty maps.
    """
    if target not in ("logit", "output"):
        raise ValueError(f'target must be "logit" or "output", got {target!r}.')
    if target == "output":
        yield
        return
    import keras

    leaves = [layer for _, layer in _walk(model) if not hasattr(layer, "layers")]
    head = leaves[-1] if leaves else None
    act = getattr(head, "activation", None)
    if getattr(act, "__name__", "") not in ("sigmoid", "softmax"):
        raise ValueError(
            f"target='logit' needs a last layer with a sigmoid or softmax activation; {model.name!r} ends "
            f"with {getattr(head, 'name', None)!r} (activation {getattr(act, '__name__', act)!r}). "
            "Use target='output'."
        )
    assert head is not None  # an activation was found above, so there is a last layer
    head.activation = keras.activations.linear
    try:
        yield
    finally:
        head.activation = act


def grad_cam(
    model: keras.Model,
    x: np.ndarray,
    *,
    layer_name: str | None = None,
    output_index: int = 0,
    target: str = "logit",
    relu: bool = True,
    normalise: bool = True,
) -> np.ndarray:
    """Grad-CAM maps, upsampled to the input size.

    For the activations :math:`A^k` (channel k) of the chosen layer and the score :math:`y`,
    :math:`\\alpha_k = \\operatorname{mean}_{ij} \\partial y / \\partial A^k_{ij}` and
    :math:`L = \\operatorname{ReLU}(\\sum_k \\alpha_k A^k)`, resized bilinearly to ``(H, W)``.

    The activation is recorded by wrapping the layer's ``call`` for one eager forward pass of the
    whole model (and restoring it after), so the layer may sit inside nested models. A layer
    called more than once per forward pass is not supported (the last call is used).

    Args:
        model: Keras model with output ``(N, K)``.
        x: ``(N, H, W, C)`` float images as the model expects them.
        layer_name: see :func:`find_layer` (default: :func:`default_layer`, the last feature
            map after the last convolution — in a Conv → BatchNorm → ReLU network the ReLU).
        output_index: the output unit explained.
        target: ``"logit"`` (default, as in the paper: the score before the sigmoid or softmax)
            or ``"output"`` (the model's output as it is).
        relu: apply the ReLU of the definition; ``False`` keeps the signed map (negative where
            the region lowers the score), which the sanity checks rank.
        normalise: divide each map by its largest absolute value (an all-zero map stays zero).

    Returns:
        ``(N, H, W)`` float32; non-negative if ``relu``; in [-1, 1] if ``normalise``.

    Raises:
        ValueError: no convolution / unknown layer (:func:`find_layer`), images of the wrong
            shape, a layer whose output is not ``(N, h, w, c)``.
    """
    import tensorflow as tf

    x = _check_images(model, x)
    layer = find_layer(model, layer_name)
    record: dict[str, Any] = {}
    original = layer.call

    with tf.GradientTape() as tape:

        def hooked(*args, **kwargs):
            out = original(*args, **kwargs)
            tape.watch(out)
            record["a"] = out
            return out

        layer.call = hooked
        try:
            with _scored(model, target):
                score = _score(model(tf.constant(x), training=False), output_index)
        finally:
            del layer.call  # back to the class's method
    acts = record.get("a")
    if acts is None:
        raise ValueError(f"Layer {layer.name!r} was not called in the forward pass of {model.name!r}.")
    if len(acts.shape) != 4:
        raise ValueError(
            f"Layer {layer.name!r} has output shape {tuple(acts.shape)}; Grad-CAM needs a feature map "
            "(N, h, w, c): choose a convolutional layer."
        )
    grads = tape.gradient(score, acts)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    cam = tf.reduce_sum(weights * acts, axis=-1, keepdims=True)
    if relu:
        cam = tf.nn.relu(cam)
    cam = tf.image.resize(cam, x.shape[1:3], method="bilinear")[..., 0].numpy()
    if normalise:
        peak = np.abs(cam).reshape(len(cam), -1).max(axis=1).reshape(-1, 1, 1)
        cam = np.divide(cam, peak, out=np.zeros_like(cam), where=peak > 0)
    return cam.astype(np.float32)


def _predict(model: keras.Model, x: np.ndarray, output_index: int, batch_size: int) -> np.ndarray:
    out = [
        np.asarray(_score(model(x[i : i + batch_size], training=False), output_index))
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(out).astype(np.float64)


def occlusion(
    model: keras.Model,
    x: np.ndarray,
    *,
    patch: int = 4,
    stride: int = 2,
    fill: float | None = None,
    output_index: int = 0,
    target: str = "output",
    batch_size: int = 2048,
) -> np.ndarray:
    """Occlusion sensitivity: how much the score drops when a square patch is covered.

    Every ``patch`` × ``patch`` square on a grid of step ``stride`` is set to ``fill`` (all
    channels) and the score recomputed; each pixel gets the mean drop
    ``score(x) - score(x occluded)`` over the squares that cover it (0 where none does).

    Args:
        model, x, output_index: as in :func:`grad_cam`.
        patch: side of the occluding square in pixels.
        stride: step between squares (``stride <= patch`` covers every pixel).
        fill: value written into the square; ``None`` uses each image's mean.
        target: ``"output"`` (default) or ``"logit"`` (see :func:`grad_cam`).
        batch_size: occluded images per forward pass.

    Returns:
        ``(N, H, W)`` float32; positive where covering the pixel lowers the score.
    """
    x = _check_images(model, x)
    n, h, w, _ = x.shape
    if not (isinstance(patch, int) and isinstance(stride, int) and 0 < patch <= min(h, w) and stride > 0):
        raise ValueError(f"patch must be an int in [1, {min(h, w)}] and stride a positive int, got {patch}, {stride}.")
    tops = list(range(0, h - patch + 1, stride))
    lefts = list(range(0, w - patch + 1, stride))
    squares = [(t, s) for t in tops for s in lefts]
    counts = np.zeros((h, w), np.float64)
    for t, s in squares:
        counts[t : t + patch, s : s + patch] += 1
    maps = np.zeros((n, h, w), np.float64)
    per = max(1, batch_size // len(squares))  # images whose occluded copies share one batch
    with _scored(model, target):
        base = _predict(model, x, output_index, batch_size)
        for i0 in range(0, n, per):
            chunk = x[i0 : i0 + per]
            batch = np.repeat(chunk, len(squares), axis=0)
            for k in range(len(chunk)):
                value = float(chunk[k].mean()) if fill is None else float(fill)
                for j, (t, s) in enumerate(squares):
                    batch[k * len(squares) + j, t : t + patch, s : s + patch, :] = value
            drops = base[i0 : i0 + len(chunk), None] - _predict(model, batch, output_index, batch_size).reshape(len(chunk), -1)
            for j, (t, s) in enumerate(squares):
                maps[i0 : i0 + len(chunk), t : t + patch, s : s + patch] += drops[:, j, None, None]
    return np.divide(maps, counts, out=np.zeros_like(maps), where=counts > 0).astype(np.float32)


def integrated_gradients(
    model: keras.Model,
    x: np.ndarray,
    *,
    baseline: np.ndarray | float = 0.0,
    steps: int = 32,
    output_index: int = 0,
    target: str = "output",
    batch_size: int = 1024,
) -> np.ndarray:
    """Integrated gradients from ``baseline`` to ``x``, trapezoidal rule over ``steps`` intervals.

    :math:`\\mathrm{IG}_i(x) = (x_i - x'_i) \\int_0^1 \\partial F(x' + \\alpha (x - x'))/\\partial x_i \\,d\\alpha`,
    the integral approximated with the gradients at ``alpha = 0, 1/steps, …, 1`` (``steps + 1``
    points, end points weighted 1/2). Completeness: ``IG.sum() ≈ F(x) - F(x')``, with an error
    that shrinks as ``steps`` grows.

    Args:
        model, x, output_index: as in :func:`grad_cam`.
        baseline: a number (e.g. 0.0, a black image) or an array broadcastable to ``x``.
        steps: number of intervals (at least 1).
        target: ``"output"`` (default) or ``"logit"`` (see :func:`grad_cam`); completeness holds
            for the function explained.
        batch_size: interpolated images per gradient evaluation.

    Returns:
        ``(N, H, W, C)`` float32 attributions.
    """
    import tensorflow as tf

    x = _check_images(model, x)
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"steps must be a positive int, got {steps!r}.")
    try:
        x0 = np.broadcast_to(np.asarray(baseline, np.float32), x.shape)
    except ValueError:
        raise ValueError(f"baseline of shape {np.shape(baseline)} does not broadcast to x's shape {x.shape}.") from None
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    weights = np.full(steps + 1, 1.0 / steps)
    weights[[0, -1]] /= 2
    out = np.zeros(x.shape, np.float64)
    per = max(1, batch_size // (steps + 1))  # images whose paths share one batch
    with _scored(model, target):
        for i0 in range(0, len(x), per):
            xs, bs = x[i0 : i0 + per], x0[i0 : i0 + per]
            path = bs[:, None] + alphas[None, :, None, None, None] * (xs - bs)[:, None]
            p = tf.constant(path.reshape(-1, *x.shape[1:]))
            with tf.GradientTape() as tape:
                tape.watch(p)
                s = tf.reduce_sum(_score(model(p, training=False), output_index))
            grads = tape.gradient(s, p).numpy().astype(np.float64).reshape(path.shape)
            out[i0 : i0 + len(xs)] = (xs - bs) * np.tensordot(weights, grads, axes=([0], [1]))
    return out.astype(np.float32)


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps of the same shape (flattened); ties get mean ranks.

    Returns NaN when one map is constant.
    """
    from scipy.stats import rankdata

    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"Maps must have the same number of values, got {a.size} and {b.size}.")
    ra, rb = rankdata(a), rankdata(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = np.sqrt((ra**2).sum() * (rb**2).sum())
    return float((ra * rb).sum() / den) if den > 0 else float("nan")


def ssim(a: np.ndarray, b: np.ndarray, *, data_range: float = 1.0, win_size: int = 7) -> float:
    """Mean structural similarity (Wang et al., IEEE TIP 2004) of two 2-D maps.

    Local means, variances and covariance over ``win_size`` × ``win_size`` windows (uniform
    weights, unbiased variances), :math:`C_1 = (0.01 L)^2`, :math:`C_2 = (0.03 L)^2` with
    ``L = data_range``; the SSIM map is averaged over the windows that lie inside the image.
    These are scikit-image's ``structural_similarity`` defaults.

    Args:
        a, b: ``(H, W)`` float maps, ``H, W >= win_size``.
        data_range: ``L``, the span of possible values (1.0 for maps scaled to [0, 1]).
        win_size: odd window side.

    Returns:
        A float in [-1, 1]; 1 for identical maps.
    """
    from scipy.ndimage import uniform_filter

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"ssim needs two 2-D maps of the same shape, got {a.shape} and {b.shape}.")
    if win_size % 2 != 1 or min(a.shape) < win_size:
        raise ValueError(f"win_size must be odd and at most the map's side {min(a.shape)}, got {win_size}.")
    if data_range <= 0:
        raise ValueError(f"data_range must be positive, got {data_range}.")
    n = win_size**2
    cov = n / (n - 1)
    mu_a, mu_b = uniform_filter(a, win_size), uniform_filter(b, win_size)
    var_a = cov * (uniform_filter(a * a, win_size) - mu_a**2)
    var_b = cov * (uniform_filter(b * b, win_size) - mu_b**2)
    cov_ab = cov * (uniform_filter(a * b, win_size) - mu_a * mu_b)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov_ab + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    pad = (win_size - 1) // 2
    return float(s[pad:-pad, pad:-pad].mean())


def reinitialise(layer: keras.layers.Layer, seed: int = 0) -> None:
    """Redraw a layer's trainable weights from its own initialisers (in place).

    ``kernel`` from ``kernel_initializer``, ``bias`` from ``bias_initializer``, batch
    normalisation's ``gamma``/``beta`` from theirs; a weight without an initialiser attribute gets
    Glorot-uniform. Non-trainable state (batch-norm moving statistics) is kept.
    """
    import keras

    for k, var in enumerate(layer.trainable_weights):
        short = var.name.rsplit("/", 1)[-1]
        init = getattr(layer, f"{short}_initializer", None)
        if init is None:
            init = keras.initializers.GlorotUniform()
        config = init.get_config()
        if "seed" in config:
            config["seed"] = seed * 1009 + k
        var.assign(type(init).from_config(config)(var.shape, dtype=var.dtype))


def cascading_randomisation(
    model: keras.Model,
    x: np.ndarray,
    explain: Callable[[keras.Model, np.ndarray], np.ndarray],
    *,
    seed: int = 0,
) -> list[tuple[str, np.ndarray]]:
    """Adebayo et al.'s cascading model-parameter randomisation.

    Works on a copy of ``model`` (the original is not changed): the layers with trainable weights
    are re-initialised one after the other, from the output back to the input, and after each one
    the maps are recomputed with ``explain(copy, x)``.

    Args:
        model: a trained Keras model.
        x: ``(N, H, W, C)`` images.
        explain: ``(model, x) -> (N, H, W)`` maps, e.g. ``lambda m, x: grad_cam(m, x)``.
        seed: seed of the re-initialisations.

    Returns:
        ``[("original", maps), (layer_path_1, maps), …]``: the trained model's maps, then the maps
        after randomising each layer cumulatively (top layer first).
    """
    import keras

    x = _check_images(model, x)
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    out = [("original", np.asarray(explain(copy, x)))]
    layers = [(path, layer) for path, layer in _walk(copy) if layer.trainable_weights and not hasattr(layer, "layers")]
    for k, (path, layer) in enumerate(reversed(layers)):
        reinitialise(layer, seed=seed + k)
        out.append((path, np.asarray(explain(copy, x))))
    return out


def _maps_and_masks(maps: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    maps, masks = np.asarray(maps, np.float64), np.asarray(masks)
    if maps.ndim == 2:
        maps, masks = maps[None], masks[None] if masks.ndim == 2 else masks
    if masks.ndim == 2:
        masks = np.broadcast_to(masks, maps.shape)
    if maps.shape != masks.shape or maps.ndim != 3:
        raise ValueError(f"maps (N, H, W) and masks (N, H, W) or (H, W) must match, got {maps.shape} and {masks.shape}.")
    return maps, masks.astype(bool)


def energy_inside(maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Energy-based pointing game: the share of each map's positive mass that falls inside the mask.

    ``sum(max(m, 0) * mask) / sum(max(m, 0))`` per image; NaN for a map with no positive value.
    Chance level, for a map spread evenly, is the mask's area fraction ``mask.mean()``.

    Args:
        maps: ``(N, H, W)`` (or one ``(H, W)``) attribution maps.
        masks: ``(N, H, W)`` or one ``(H, W)`` bool mask of the structure.

    Returns:
        ``(N,)`` float64 in [0, 1].
    """
    maps, masks = _maps_and_masks(maps, masks)
    pos = np.clip(maps, 0, None)
    total = pos.sum(axis=(1, 2))
    inside = (pos * masks).sum(axis=(1, 2))
    return np.divide(inside, total, out=np.full_like(total, np.nan), where=total > 0)


def pointing_hit(maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Pointing game: does each map's maximum fall inside the mask? ``(N,)`` bool.

    Ties at the maximum count as a hit if any of the tied pixels is inside.
    """
    maps, masks = _maps_and_masks(maps, masks)
    peak = maps.max(axis=(1, 2), keepdims=True)
    return ((maps == peak) & masks).any(axis=(1, 2))
