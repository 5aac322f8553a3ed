"""The U-Net recipe on CHASE_DB1: patches, training, tiled prediction, threshold, test Dice.

Introduced by the chapter *Segmentation* (``chapters/segmentation.ipynb``), which calls these
functions and shows their source; also the ``chase_db1`` task of ``python -m medtools.benchmark``
(:data:`MODELS`, :func:`train_and_score`, :func:`summarise`). The recipe: the images at half resolution
(:data:`SCALE`), random patches with flips and rotations from the training children, a U-Net
trained with binary cross-entropy plus the soft Dice loss and Adam with a cosine-decaying
learning rate; whole images predicted by overlapping tiles; the threshold chosen on the
validation children; Dice inside the field of view against the first observer on the test
children (01–10 train, 11–14 test, the literature's split).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = ["FLIPS", "FLIP_CHOICES", "MODELS", "SCALE", "THRESHOLDS", "Recipe", "bce_dice", "build_unet", "choose_threshold",
           "fit_unet", "flip_name", "mean_dice", "predict_tiled", "predict_tiled_all", "sample_patches",
           "summarise", "to_full", "to_input", "train_and_score"]

#: The network works at half resolution (box-filtered images, masks at half their 2 × 2 block).
SCALE = 2

#: Test-time flips: ``"lr"`` left–right, ``"ud"`` up–down (averaged with the plain prediction).
FLIPS = ("lr", "ud")

#: The test-time flip settings compared on the validation images by :func:`train_and_score`.
FLIP_CHOICES: tuple[tuple[str, ...], ...] = ((), ("lr",), ("lr", "ud"))

#: The threshold grid searched on the validation images.
THRESHOLDS = np.round(np.arange(0.30, 0.71, 0.05), 2)

def flip_name(flips: Sequence[str]) -> str:
    """``()`` → ``"none"``, ``("lr", "ud")`` → ``"lr+ud"``."""
    return "+".join(flips) or "none"


#: name → one-line description (the benchmark's JSON).
MODELS: dict[str, str] = {
    "unet": "U-Net (base 8, depth 3) on 64 px patches at half resolution, BCE + soft Dice, Adam with cosine "
    "decay; tiled prediction; test-time flips and threshold chosen on the validation children",
}


@dataclass(frozen=True)
class Recipe:
    """The settings of one training run (set by hand; see the chapter's protocol section).

    Attributes:
        unet: keyword arguments of :func:`medtools.models.unet`.
        patch: side of the square training patches (pixels at half resolution).
        n_patches: number of patches sampled (with rotations and flips).
        epochs, batch, lr: training length, batch size and peak learning rate (cosine decay to 0).
        seed: seed of the weights and of the patch sampling.
        tile, step: tile side and tile spacing of the whole-image prediction (the test-time
            flips are chosen on validation among :data:`FLIP_CHOICES`, not set here).
    """

    unet: dict[str, int] = field(default_factory=lambda: {"base": 8, "depth": 3})
    patch: int = 64
    n_patches: int = 3000
    epochs: int = 5
    batch: int = 16
    lr: float = 2e-3
    seed: int = 0
    tile: int = 128
    step: int = 96


def to_input(image: np.ndarray) -> np.ndarray:
    """The network's input: each colour channel standardised over the field of view, zero outside.

    Args:
        image: ``(H, W, 3)`` uint8 fundus photograph.

    Returns:
        ``(H, W, 3)`` float32.
    """
    from medtools.data import chase

    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"to_input expects an (H, W, 3) RGB image, got shape {image.shape}.")
    x = image.astype(np.float32) / 255.0
    inside = chase.fov_mask(image)
    x = (x - x[inside].mean(axis=0)) / x[inside].std(axis=0)
    return np.where(inside[..., None], x, 0.0).astype(np.float32)


def sample_patches(
    inputs: Mapping[str, np.ndarray], masks: Mapping[str, np.ndarray], names: Sequence[str], n: int, size: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Random square patches, cycling over ``names``, each rotated by a multiple of 90° and maybe mirrored.

    Args:
        inputs: name → ``(H, W, C)`` float32 network input (:func:`to_input`).
        masks: name → ``(H, W)`` bool vessel mask of the same image.
        names: the images to sample from, in order (patch ``i`` comes from ``names[i % len(names)]``).
        n: number of patches.
        size: patch side in pixels (smaller than every image side).
        seed: seed of the positions, rotations and flips.

    Returns:
        ``(x, y)``: ``(n, size, size, C)`` float32 and ``(n, size, size, 1)`` float32 in {0, 1}.
    """
    if not names:
        raise ValueError("sample_patches needs at least one image name.")
    for name in names:
        if inputs[name].shape[:2] != masks[name].shape or min(masks[name].shape) <= size:
            raise ValueError(f"{name}: input {inputs[name].shape[:2]} and mask {masks[name].shape} must match "
                             f"and be larger than the patch ({size}).")
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for i in range(n):
        name = names[i % len(names)]
        h, w = masks[name].shape
        r, c = rng.integers(0, h - size), rng.integers(0, w - size)
        x, y = inputs[name][r : r + size, c : c + size], masks[name][r : r + size, c : c + size]
        k = int(rng.integers(4))
        x, y = np.rot90(x, k), np.rot90(y, k)
        if rng.random() < 0.5:
            x, y = x[:, ::-1], y[:, ::-1]
        xs.append(x)
        ys.append(y)
    return np.stack(xs), np.stack(ys)[..., None].astype(np.float32)


def bce_dice(y_true: Any, y_pred: Any) -> Any:
    """Per-patch loss: binary cross-entropy (mean over the pixels) plus the soft Dice loss.

    Args:
        y_true, y_pred: ``(B, H, W, 1)`` float tensors, truth in {0, 1}, probabilities.

    Returns:
        ``(B,)`` tensor.
    """
    import keras

    from medtools.metrics import segmentation as seg

    bce = keras.ops.mean(keras.losses.binary_crossentropy(y_true, y_pred), axis=(1, 2))
    return bce + seg.soft_dice_loss(y_true, y_pred)


def build_unet(recipe: Recipe) -> keras.Model:
    """A seeded U-Net (:func:`medtools.models.unet`), compiled with :func:`bce_dice` and Adam with cosine decay."""
    import keras

    from medtools import models, train

    train.set_seed(recipe.seed)
    model = models.unet(base=recipe.unet["base"], depth=recipe.unet["depth"])
    steps = recipe.epochs * -(-recipe.n_patches // recipe.batch)
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(recipe.lr, steps)),
                  loss=bce_dice)
    return model


def fit_unet(
    recipe: Recipe, x_train: np.ndarray, y_train: np.ndarray, spec: dict[str, Any], *, cache: bool = True
) -> tuple[keras.Model, dict[str, Any]]:
    """Train (or load from the weight cache) the U-Net on patches.

    Args:
        recipe: the settings.
        x_train: ``(N, P, P, 3)`` float32 patches; ``y_train``: ``(N, P, P, 1)`` float32 masks.
        spec: what else the weights depend on (data, scale, children), for the cache key;
            the key also holds the training arrays' fingerprint.
        cache: False to always train.

    Returns:
        ``(model, record)`` of :func:`medtools.train.fit_cached`.
    """
    from medtools import train

    if x_train.shape[:3] != y_train.shape[:3] or x_train.shape[0] != recipe.n_patches:
        raise ValueError(f"x_train {x_train.shape} and y_train {y_train.shape} must hold the recipe's "
                         f"{recipe.n_patches} patches.")

    def fit(model: keras.Model) -> dict[str, list[float]]:
        return model.fit(x_train, y_train, batch_size=recipe.batch, epochs=recipe.epochs, verbose=0).history

    full_spec = {**spec, **{k: v for k, v in asdict(recipe).items() if k not in ("tile", "step")}}
    return train.fit_cached(lambda: build_unet(recipe), fit, full_spec, data=(x_train, y_train), cache=cache)


def predict_tiled(model: keras.Model, x: np.ndarray, tile: int = 128, step: int = 96,
                  flips: Sequence[str] = ("lr",)) -> np.ndarray:
    """Whole-image probabilities from overlapping tiles, each weighted by a window that falls off at its edges.

    Each tile is also predicted flipped (``flips``: ``"lr"`` left–right, ``"ud"`` up–down), flipped
    back and averaged with the plain prediction (test-time augmentation).

    Args:
        model: fully convolutional, ``(B, tile, tile, C)`` → ``(B, tile, tile, 1)`` probabilities.
        x: ``(H, W, C)`` float32 network input (:func:`to_input`).
        tile, step: tile side and spacing (``step <= tile``).
        flips: subset of :data:`FLIPS`; empty for no averaging.

    Returns:
        ``(H, W)`` float32 probabilities.
    """
    return next(iter(predict_tiled_all(model, x, tile, step, (tuple(flips),)).values()))


def predict_tiled_all(model: keras.Model, x: np.ndarray, tile: int = 128, step: int = 96,
                      choices: Sequence[tuple[str, ...]] = FLIP_CHOICES) -> dict[str, np.ndarray]:
    """:func:`predict_tiled` for several flip settings at once, each tile predicted once per flip.

    Returns:
        flip setting's name (``"none"``, ``"lr"``, ``"lr+ud"``) → ``(H, W)`` float32 probabilities,
        bitwise those of :func:`predict_tiled` with that setting.
    """
    bad = [f for c in choices for f in c if f not in FLIPS]
    if bad or not 0 < step <= tile:
        raise ValueError(f"flips must be among {FLIPS} (got {bad}) and 0 < step <= tile "
                         f"(got step {step}, tile {tile}).")
    h, w = x.shape[:2]
    ph, pw = (-h) % step + tile, (-w) % step + tile
    xp = np.pad(x, ((0, ph), (0, pw), (0, 0)), mode="reflect")
    ramp = np.minimum(np.arange(1, tile + 1), np.arange(tile, 0, -1)) / (tile / 2)
    win = np.clip(np.outer(ramp, ramp), 0.05, 1.0)
    corners = [(r, c) for r in range(0, h, step) for c in range(0, w, step)]
    tiles = np.stack([xp[r : r + tile, c : c + tile] for r, c in corners])
    plain = model.predict(tiles, batch_size=32, verbose=0)[..., 0]
    axis = {"lr": 2, "ud": 1}
    back = {f: np.flip(model.predict(np.flip(tiles, axis=axis[f]), batch_size=32, verbose=0)[..., 0], axis=axis[f])
            for f in dict.fromkeys(f for c in choices for f in c)}
    out = {}
    for choice in choices:
        probs = plain
        for f in choice:
            probs = probs + back[f]
        probs = probs / (1 + len(choice))
        acc = np.zeros(xp.shape[:2])
        wsum = np.zeros(xp.shape[:2])
        for (r, c), p in zip(corners, probs, strict=True):
            acc[r : r + tile, c : c + tile] += win * p
            wsum[r : r + tile, c : c + tile] += win
        out[flip_name(choice)] = (acc[:h, :w] / wsum[:h, :w]).astype(np.float32)
    return out


def to_full(prob: np.ndarray, height: int, width: int) -> np.ndarray:
    """``(h, w)`` float32 probabilities resized (bilinear) to ``(height, width)`` float32."""
    from PIL import Image

    return np.asarray(Image.fromarray(prob.astype(np.float32)).resize((width, height), Image.Resampling.BILINEAR))


def mean_dice(probs: Mapping[str, np.ndarray], truths: Mapping[str, np.ndarray], fovs: Mapping[str, np.ndarray],
              threshold: float) -> float:
    """Mean over images of Dice inside the FOV of ``probs[n] >= threshold`` against ``truths[n]`` (bool masks)."""
    from medtools.metrics import segmentation as seg

    if not probs:
        raise ValueError("mean_dice needs at least one image.")
    return float(np.mean([seg.dice(truths[n], probs[n] >= threshold, fovs[n]) for n in probs]))


def choose_threshold(probs: Mapping[str, np.ndarray], truths: Mapping[str, np.ndarray],
                     fovs: Mapping[str, np.ndarray], grid: np.ndarray = THRESHOLDS) -> tuple[float, list[float]]:
    """The threshold of ``grid`` with the highest mean Dice (:func:`mean_dice`); ties go to the lower one.

    Returns:
        ``(threshold, dice per grid value)``.
    """
    dice = [mean_dice(probs, truths, fovs, float(t)) for t in grid]
    return float(grid[int(np.argmax(dice))]), dice


def _score_variants(net: keras.Model, recipe: Recipe, half: Mapping[str, Any], full: Mapping[str, Any],
                    inputs: Mapping[str, np.ndarray], val_names: list[str],
                    test_names: list[str]) -> dict[str, dict[str, Any]]:
    """For each of :data:`FLIP_CHOICES`: threshold and Dice on validation, per-image Dice on test."""
    from medtools.data import chase

    val_truth = {n: half[n].first for n in val_names}
    val_fov = {n: chase.fov_mask(half[n].image) for n in val_names}
    test_fov = {n: chase.fov_mask(full[n].image) for n in test_names}
    val_maps = {n: predict_tiled_all(net, inputs[n], recipe.tile, recipe.step) for n in val_names}
    test_maps = {n: predict_tiled_all(net, inputs[n], recipe.tile, recipe.step) for n in test_names}
    out = {}
    for flips in FLIP_CHOICES:
        key = flip_name(flips)
        threshold, grid = choose_threshold({n: m[key] for n, m in val_maps.items()}, val_truth, val_fov)
        per_image = {}
        for n in test_names:
            prob = to_full(test_maps[n][key], *full[n].first.shape)
            per_image[n] = mean_dice({n: prob}, {n: full[n].first}, test_fov, threshold)
        out[key] = {
            "flips": list(flips), "threshold": threshold, "val_dice": float(max(grid)),
            "val_dice_by_threshold": dict(zip(map(float, THRESHOLDS), grid, strict=True)),
            "test_dice": float(np.mean(list(per_image.values()))), "test_dice_per_image": per_image,
        }
    return out


@functools.lru_cache(maxsize=1)
def _chase_images() -> tuple[dict[str, Any], dict[str, Any], dict[str, np.ndarray]]:
    """CHASE_DB1 read, verified and prepared once per process (the benchmark scores several seeds):
    every image at half resolution, the test images at full resolution, and the network inputs."""
    from medtools.data import chase

    half = {im.name: im for im in chase.load_chase(scale=SCALE)}
    full = {im.name: im for im in chase.load_chase(chase.TEST_CHILDREN)}
    return half, full, {n: to_input(half[n].image) for n in half}


def train_and_score(model: str, seed: int, *, cache: bool = True, recipe: Recipe | None = None) -> dict[str, Any]:
    """Train the U-Net with ``seed`` and evaluate it: one JSON row of the benchmark.

    For each test-time flip setting of :data:`FLIP_CHOICES` the threshold is chosen on the
    validation children (Dice at half resolution inside the FOV); the setting with the highest
    validation Dice is the row's (ties go to fewer flips). The test Dice is the mean over the
    test images, at full resolution, inside the FOV, against the first observer; ``by_flips``
    keeps every setting's scores for the paired comparison of :func:`summarise`.
    """
    from medtools.data import chase

    if model not in MODELS:
        raise ValueError(f"Unknown CHASE_DB1 model {model!r}; choose one of {', '.join(MODELS)}.")
    recipe = recipe or Recipe(seed=seed)
    train_kids, val_kids = chase.split_children(chase.TRAIN_CHILDREN, n_val=2, seed=0)
    half, full, inputs = _chase_images()
    train_names, val_names = chase.image_names(train_kids), chase.image_names(val_kids)
    test_names = chase.image_names(chase.TEST_CHILDREN)
    x_train, y_train = sample_patches(inputs, {n: half[n].first for n in half}, train_names, recipe.n_patches,
                                      recipe.patch, recipe.seed)
    spec = {"data": "CHASE_DB1", "scale": SCALE, "train_children": train_kids}
    net, record = fit_unet(recipe, x_train, y_train, spec, cache=cache)
    variants = _score_variants(net, recipe, half, full, inputs, val_names, test_names)
    chosen = max(variants, key=lambda k: variants[k]["val_dice"])  # first maximum: fewer flips win ties
    best = variants[chosen]
    return {
        "model": model, "dataset": "chase_db1", "seed": seed, "params": int(net.count_params()),
        "train_seconds": float(record["train_seconds"]), "cached": bool(record["cached"]),
        "val": {"dice": best["val_dice"], "images": val_names},
        "test": {"dice": best["test_dice"], "dice_per_image": best["test_dice_per_image"],
                 "threshold": best["threshold"],
                 "threshold_origin": "chosen on the validation children (grid 0.30..0.70, Dice inside the FOV)",
                 "flips": best["flips"], "flips_origin": "chosen on the validation children among "
                 + ", ".join(variants), "region": "inside the FOV", "truth": "first observer", "images": test_names},
        "by_flips": variants,
        "recipe": asdict(recipe),
    }


def summarise(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Mean ± sd over seeds (:class:`medtools.stats.MeanSD`) of the test and validation Dice, per model.

    Rows with ``by_flips`` (from :func:`train_and_score`) also get the paired difference in test Dice between
    averaging over both flips and no averaging (:func:`medtools.stats.paired_difference`: same
    models, same test images; resampled over seeds and images).
    """
    from medtools.stats import MeanSD, paired_difference

    out = []
    for name in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == name]
        item: dict[str, Any] = {
            "model": name, "dataset": "chase_db1", "seeds": [r["seed"] for r in mine],
            "test_dice": MeanSD.of([r["test"]["dice"] for r in mine]).as_dict(),
            "val_dice": MeanSD.of([r["val"]["dice"] for r in mine]).as_dict(),
            "train_seconds": MeanSD.of([r["train_seconds"] for r in mine]).as_dict(),
        }
        if all("by_flips" in r for r in mine):
            a, b = (np.array([list(r["by_flips"][k]["test_dice_per_image"].values()) for r in mine])
                    for k in ("lr+ud", "none"))
            d = paired_difference(np.zeros(a.shape[1]), a, b, metric=lambda _y, s: float(np.mean(s)))
            item["flips_vs_none"] = {"estimate": d.estimate, "low": d.low, "high": d.high, "level": d.level,
                                     "sources": d.sources, "resolved": d.resolved}
            item["flips_chosen"] = [r["test"]["flips"] for r in mine]
            for key in mine[0]["by_flips"]:
                item[f"test_dice_{key}"] = MeanSD.of([r["by_flips"][key]["test_dice"] for r in mine]).as_dict()
        out.append(item)
    return out
