"""``tf.data`` pipelines over a MedMNIST split: scaling to [0, 1], shuffling, batching, augmentation.

Introduced in the chapter *Core concepts: large models, imaging tasks, applications*
(``chapters/concepts``). Re-exported by
:mod:`medtools.data` (chapters call ``data.to_float`` and ``data.make_dataset``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from medtools.data.augment import augmentation

if TYPE_CHECKING:  # pragma: no cover - import only for type checkers
    import keras
    import tensorflow as tf

__all__ = ["make_dataset", "to_float"]


def to_float(x: np.ndarray) -> np.ndarray:
    """uint8 images → float32 in [0, 1] with a trailing channel axis.

    ``(N, H, W)`` → ``(N, H, W, 1)``; ``(N, H, W, 3)`` keeps its shape;
    ``(N, D, H, W)`` volumes → ``(N, D, H, W, 1)``.
    """
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise TypeError(f"Expected uint8 images as loaded by medtools.data.load, got {x.dtype}.")
    out = x.astype(np.float32) / 255.0
    if out.ndim == 3 or (out.ndim == 4 and out.shape[-1] not in (1, 3)):
        out = out[..., None]
    return out


def _op_determinism_enabled() -> bool:
    """Whether ``tf.config.experimental.enable_op_determinism()`` is in force (False if unknown)."""
    try:
        from tensorflow.python.framework.config import is_op_determinism_enabled
    except ImportError:  # a TensorFlow without the private helper: keep the parallel map
        return False
    return bool(is_op_determinism_enabled())


def make_dataset(
    x: np.ndarray,
    y: np.ndarray,
    *,
    training: bool,
    batch_size: int = 64,
    seed: int = 0,
    augment: keras.Sequential | str | None = None,
    cache: bool = True,
) -> tf.data.Dataset:
    """A ``tf.data`` pipeline over one split.

    Steps: scale uint8 → float32 in [0, 1] and add a channel axis
    (:func:`to_float`); cache; shuffle with a fixed ``seed`` (training split only);
    batch; augment (training split only, if ``augment`` is given); prefetch.

    Args:
        x: uint8 images ``(N, H, W)``, ``(N, H, W, C)`` or ``(N, D, H, W)``.
        y: labels ``(N,)`` or ``(N, k)``; cast to float32 (for sigmoid/BCE heads).
        training: True only for the training split: enables shuffling and augmentation.
        batch_size: images per batch.
        seed: shuffle seed (the order is the same on every run; reshuffled each epoch).
        augment: a Keras preprocessing model, or a policy name for :func:`augmentation`.
        cache: cache the scaled tensors in memory.

    Returns:
        A dataset of ``(images float32 (B, …, C), labels float32)`` batches.
    """
    import tensorflow as tf

    x = np.asarray(x)
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} images but y has {len(y)} labels.")
    ds = tf.data.Dataset.from_tensor_slices((to_float(x), y.astype(np.float32)))
    if cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if isinstance(augment, str):
        augment = augmentation(augment, seed=seed)
    if training and augment is not None:
        aug = augment
        # Under op determinism (medtools.train.set_seed) tf.data runs a map with random ops
        # serially anyway: it rewrites the parallel map into a serial one, and TF 2.21's rewrite
        # copies an attribute the serial op lacks and logs an error-looking line
        # ("NodeDef mentions attribute use_unbounded_threadpool ...") for every pipeline. Asking
        # for the serial map directly is the same computation (the same numbers) without the line.
        serial = _op_determinism_enabled()
        ds = ds.map(lambda a, b: (aug(a, training=True), b), num_parallel_calls=None if serial else tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
