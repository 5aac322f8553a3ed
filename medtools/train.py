"""Seeding, determinism and a cache of trained weights.

Introduced in the chapter *A first look at medical images* (``chapters/background``)
for :func:`set_seed`; :func:`fit_cached` is used by every chapter that trains a model.

Training the book's models takes minutes on a laptop CPU. The book's notebooks
are executed twice by its test command (once by nbval, once by the book build),
and readers re-run them; :func:`fit_cached` therefore stores the weights and the
training record (history, wall time) of each run under a key that names
everything the result depends on. Delete the cache folder, or pass
``cache=False``, to retrain from scratch.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import keras

CACHE_DIR_ENV = "MEDTOOLS_CACHE_DIR"

__all__ = ["cache_dir", "cache_key", "fit_cached", "set_seed"]


def set_seed(seed: int, *, deterministic: bool = True) -> None:
    """Seed Python, NumPy, TensorFlow and Keras; optionally make TF ops deterministic.

    With ``deterministic=True`` (default), ``tf.config.experimental.enable_op_determinism``
    is switched on, so the same seed gives the same weights and metrics twice on the
    same machine and library versions.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeds the legacy global RNG that older code uses
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def cache_dir() -> Path:
    """Folder for trained weights: ``$MEDTOOLS_CACHE_DIR`` or the user cache dir."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("medtools")) / "models"


def cache_key(spec: dict[str, Any]) -> str:
    """A short stable hash of a JSON-serialisable ``spec`` plus library versions."""
    import keras
    import tensorflow as tf

    import medtools

    full = {
        "spec": spec,
        "medtools": medtools.__version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
    }
    text = json.dumps(full, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def fit_cached(
    build: Callable[[], keras.Model],
    train: Callable[[keras.Model], dict[str, list[float]]],
    spec: dict[str, Any],
    *,
    cache: bool = True,
) -> tuple[keras.Model, dict[str, Any]]:
    """Build a model and train it, or load the weights of an identical earlier run.

    Args:
        build: returns a fresh (compiled) model; called every time.
        train: trains the model in place and returns its history dict
            (``model.fit(...).history``).
        spec: everything the trained weights depend on (model name and
            hyper-parameters, dataset, size, seed, epochs, augmentation, …);
            JSON-serialisable. Two runs with equal specs share one cache entry.
        cache: False to always train (and overwrite the entry).

    Returns:
        ``(model, record)``; ``record`` has ``history``, ``train_seconds`` (wall time
        of the training run that produced the weights), ``cached`` (True if loaded),
        ``key`` and ``spec``.
    """
    key = cache_key(spec)
    folder = cache_dir() / key
    weights, meta = folder / "model.weights.h5", folder / "record.json"
    model = build()
    if cache and weights.exists() and meta.exists():
        try:
            with warnings.catch_warnings():
                # The cached optimizer state is not restored (the model is for
                # inference or fine-tuning from here); Keras warns about that.
                warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
                model.load_weights(weights)
            record = json.loads(meta.read_text())
            record["cached"] = True
            return model, record
        except Exception:  # corrupt or stale entry: retrain below
            pass
    start = time.perf_counter()
    history = train(model)
    seconds = time.perf_counter() - start
    record = {
        "key": key,
        "spec": spec,
        "history": {k: [float(v) for v in vs] for k, vs in (history or {}).items()},
        "train_seconds": seconds,
        "cached": False,
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        model.save_weights(weights)
        meta.write_text(json.dumps(record, indent=1, default=str))
    except OSError:  # read-only cache: the result is still returned
        pass
    return model, record
