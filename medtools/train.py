"""Seeding, determinism and a cache of trained weights.

Introduced in the chapter *A first look at medical images* (``chapters/background``)
for :func:`set_seed`; :func:`fit_cached` is used by every chapter that trains a model.

Training the book's models takes minutes on a laptop CPU, and readers re-run the
notebooks; :func:`fit_cached` therefore stores the weights and the training record
(history, wall time) of each run under a key computed from everything the result
depends on (:func:`cache_key`): change a builder argument and the cache misses. The
key includes TensorFlow's numeric path (oneDNN on or off, thread counts), so the test
command's two executions of the notebooks (oneDNN off under nbval, defaults in the
book build) each train their own models. Entries are written atomically; an entry
that cannot be read is retrained with a warning. Delete the cache folder, or pass
``cache=False``, to retrain from scratch.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import random
import re
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import keras

CACHE_DIR_ENV = "MEDTOOLS_CACHE_DIR"

__all__ = ["CACHE_DIR_ENV", "NUMERIC_ENV", "SPEC_VOCABULARY", "balanced_class_weights", "cache_dir", "cache_key",
           "data_fingerprint", "fit_cached", "model_fingerprint", "predict_proba", "set_seed"]

#: The words a ``spec`` of :func:`fit_cached` uses for what every training run has, so that two
#: chapters describe the same setting the same way (a spec may add keys of its own, e.g. ``head``).
SPEC_VOCABULARY = {
    "dataset": "the data's name (a MedMNIST name, or e.g. 'CHASE_DB1'); the data's identity is data= or the MedMNIST file's MD5",
    "size": "image size of a MedMNIST file (28, 64, ...)",
    "seed": "the seed of set_seed",
    "epochs": "training epochs",
    "batch_size": "images per step",
    "augment": "the augmentation (a policy of medtools.data.augmentation, or a description)",
}


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


#: Environment variables that select TensorFlow's CPU kernels or thread pools: two runs
#: that differ in them round differently and so train different weights.
NUMERIC_ENV = ("TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _scrub(obj: Any) -> Any:
    """``obj`` without the automatic layer/model names Keras numbers per session.

    ``conv2d`` and ``conv2d_7`` are the same layer; leaving the name in would make every
    notebook run a cache miss.
    """
    if isinstance(obj, dict):
        return {k: _scrub(v) for k, v in obj.items() if k not in ("name", "registered_name")}
    if isinstance(obj, (list, tuple)):
        return [_scrub(v) for v in obj]
    return obj


def model_fingerprint(model: keras.Model) -> dict[str, Any]:
    """What a model's trained weights depend on, from the model itself (JSON-friendly).

    Returns:
        ``{"class", "architecture", "compile", "weights"}``: the model's class, its layer
        configuration (``get_config()`` without automatic names; ``None`` for subclassed
        models that do not implement it), its compile configuration (optimizer with its
        learning-rate schedule, loss, metrics) and the shapes and dtypes of its weights.
    """
    try:
        architecture = _scrub(model.get_config())
    except NotImplementedError:  # subclassed model without get_config: weight shapes below still count
        architecture = None
    try:
        compiled = _scrub(model.get_compile_config()) if model.compiled else None
    except (AttributeError, NotImplementedError):
        compiled = None
    return {
        "class": type(model).__qualname__,
        "architecture": architecture,
        "compile": compiled,
        "weights": [[list(w.shape), str(w.dtype)] for w in model.weights],
    }


def _source(fn: Callable[..., Any]) -> str:
    """The source of the training function, or its qualified name if it has none."""
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return getattr(fn, "__qualname__", repr(type(fn)))


def _data_md5(spec: dict[str, Any]) -> str | None:
    """MD5 of the MedMNIST file a spec names (key ``"dataset"`` or ``"data"``, size ``"size"``)."""
    from medtools import data

    name = spec.get("dataset", spec.get("data"))
    if not isinstance(name, str) or name.lower() not in data.available():
        return None
    size = int(spec.get("size", 28))
    return data.info(name).md5.get(size)


def data_fingerprint(data: Any) -> str:
    """SHA-256 (20 hex digits) of the arrays a model trains on: their bytes, shapes and dtypes.

    Introduced with :func:`fit_cached`'s ``data=``: the weight cache then keys on the data
    itself, not on a name for it, so a subset, another preprocessing or a changed file misses.

    Args:
        data: a NumPy array (any shape and dtype), or a list, tuple or dict (sorted by key) of
            them, nested; e.g. ``(x_train, y_train)`` or a :class:`medtools.data.Split`'s
            ``(split.x, split.y)``.

    Raises:
        TypeError: something that is not an array, list, tuple or dict (say which arrays the
            run trains on instead).
    """
    digest = hashlib.sha256()

    def add(obj: Any, where: str) -> None:
        if isinstance(obj, np.ndarray):
            arr = np.ascontiguousarray(obj)
            digest.update(f"{where}:{arr.dtype.str}:{arr.shape};".encode())
            digest.update(arr.tobytes())
        elif isinstance(obj, dict):
            for k in sorted(obj, key=str):
                add(obj[k], f"{where}.{k}")
        elif isinstance(obj, (list, tuple)):
            digest.update(f"{where}:{type(obj).__name__}{len(obj)};".encode())
            for i, v in enumerate(obj):
                add(v, f"{where}[{i}]")
        else:
            raise TypeError(f"data_fingerprint takes NumPy arrays or lists, tuples and dicts of them; got "
                            f"{type(obj).__name__} at data{where}. Pass the arrays the model trains on, e.g. (x, y).")

    add(data, "")
    return digest.hexdigest()[:20]


def cache_key(
    spec: dict[str, Any],
    model: keras.Model | None = None,
    train: Callable[..., Any] | None = None,
    data: Any = None,
) -> str:
    """A stable hash of everything a trained result depends on.

    The key covers ``spec`` (what the caller says the run depends on: dataset, seed,
    epochs, augmentation, …), the data (:func:`data_fingerprint` of ``data`` when given; else
    the MD5 of the MedMNIST file the spec names), the model's
    architecture, compile configuration and weight shapes (:func:`model_fingerprint`),
    the source of the training function, the versions of medtools, Keras, TensorFlow and
    NumPy, and the numeric path (:data:`NUMERIC_ENV`). Change a builder argument, a
    learning rate or the training loop, and the key changes.
    """
    import keras
    import tensorflow as tf

    import medtools

    full = {
        "spec": spec,
        "data_md5": _data_md5(spec),
        **({"data": data_fingerprint(data)} if data is not None else {}),
        "model": model_fingerprint(model) if model is not None else None,
        "train": _source(train) if train is not None else None,
        "versions": {
            "medtools": medtools.__version__,
            "keras": keras.__version__,
            "tensorflow": tf.__version__,
            "numpy": np.__version__,
        },
        "numeric": {k: os.environ.get(k) for k in NUMERIC_ENV},
    }
    text = _ADDRESS.sub("", json.dumps(full, sort_keys=True, default=str))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def fit_cached(
    build: Callable[[], keras.Model],
    train: Callable[[keras.Model], dict[str, list[float]]],
    spec: dict[str, Any],
    *,
    data: Any = None,
    cache: bool = True,
) -> tuple[keras.Model, dict[str, Any]]:
    """Build a model and train it, or load the weights of an identical earlier run.

    Args:
        build: returns a fresh (compiled) model; called every time.
        train: trains the model in place and returns its history dict
            (``model.fit(...).history``).
        spec: what the trained weights depend on beyond the model and the training
            function (dataset, size, seed, epochs, augmentation, …); JSON-serialisable.
            The cache key adds the rest itself (:func:`cache_key`): the model's
            architecture and compile configuration, the training function's source, the
            data file's MD5, library versions and the numeric path. Name common settings with
            the words of :data:`SPEC_VOCABULARY`.
        data: the arrays the model trains on (e.g. ``(x_train, y_train)``); the key then holds
            their :func:`data_fingerprint`, so the cache knows which data it trained on. Without
            it, only a MedMNIST file named by ``spec["dataset"]`` is identified.
        cache: False to always train (and overwrite the entry).

    Returns:
        ``(model, record)``; ``record`` has ``history``, ``train_seconds`` (wall time
        of the training run that produced the weights), ``cached`` (True if loaded),
        ``key`` and ``spec``.
    """
    model = build()
    key = cache_key(spec, model, train, data)
    folder = cache_dir() / key
    weights, meta = folder / "model.weights.h5", folder / "record.json"
    if cache and weights.exists() and meta.exists():
        initial = model.get_weights()
        try:
            record = json.loads(meta.read_text())
            with warnings.catch_warnings():
                # The cached optimizer state is not restored (the model is for
                # inference or fine-tuning from here); Keras warns about that.
                warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
                model.load_weights(weights)
        except Exception as exc:  # noqa: BLE001 - any unreadable entry is retrained, loudly
            warnings.warn(
                f"The weight cache entry {folder} could not be read ({type(exc).__name__}: {exc}); "
                "training again and replacing it. Delete the folder if this repeats.",
                RuntimeWarning,
                stacklevel=2,
            )
            model.set_weights(initial)  # undo a partial load; the run below starts from the built weights
        else:
            record["cached"] = True
            print(f"weights loaded from the cache: {folder} (delete it to retrain)", file=sys.stderr)
            return model, record
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
    _write_entry(folder, model, record)
    return model, record


def _write_entry(folder: Path, model: keras.Model, record: dict[str, Any]) -> None:
    """Write weights and record to a temporary folder, then rename it into place.

    A reader never sees a half-written entry: the rename is atomic, and an interrupted
    write leaves only a ``.tmp-*`` folder behind. A read-only cache is not an error (the
    trained model is still returned).
    """
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    try:
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        model.save_weights(tmp / "model.weights.h5")
        (tmp / "record.json").write_text(json.dumps(record, indent=1, default=str))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except OSError as exc:
        warnings.warn(f"Could not write the weight cache entry {folder}: {exc}", RuntimeWarning, stacklevel=3)
        shutil.rmtree(tmp, ignore_errors=True)


def predict_proba(model: keras.Model, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Probabilities of label 1 from a one-unit sigmoid model, in inference mode.

    The book's one way to get predictions: eager calls in chunks of ``batch_size``, which
    avoid tracing a new ``predict`` graph for every batch shape (each trace costs seconds of
    CPU on a 2-core machine; a forward pass over 1,000 small images costs less).

    Args:
        model: a Keras model with output ``(B, 1)`` (a probability).
        x: uint8 images as loaded by :func:`medtools.data.load` (scaled with
            :func:`medtools.data.to_float`), or float32 images already in [0, 1] with their
            channel axis.
        batch_size: images per forward pass.

    Returns:
        ``(N,)`` float32.

    Raises:
        ValueError: the model's output is not one probability per image.
    """
    from medtools.data import to_float

    xs = to_float(x) if np.asarray(x).dtype == np.uint8 else np.asarray(x, dtype=np.float32)
    out = []
    for i in range(0, len(xs), batch_size):
        p = np.asarray(model(xs[i : i + batch_size], training=False))
        if p.ndim != 2 or p.shape[1] != 1:
            raise ValueError(f"predict_proba needs a model with output (B, 1), got {p.shape}.")
        out.append(p[:, 0])
    return np.concatenate(out).astype(np.float32) if out else np.zeros(0, np.float32)


def balanced_class_weights(y: np.ndarray) -> dict[int, float]:
    """Class weights ``{c: N / (K N_c)}`` that make every class count equally in the loss.

    Scikit-learn's ``"balanced"`` weights. Introduced in the chapter *Beyond the article*
    (``chapters/beyond_article``: class-balanced training against a shift in class mix) and
    used again in *Data scarcity and quality* (``chapters/data_scarcity``).

    Args:
        y: integer labels ``(N,)`` (or ``(N, 1)``), every class in ``0 … K-1`` present.

    Returns:
        ``{class: weight}`` for Keras' ``fit(class_weight=...)``; the weighted counts
        ``N_c × w_c`` are all ``N / K``.

    Raises:
        ValueError: empty ``y``, or a class in ``0 … max(y)`` with no example.
    """
    y = np.asarray(y).reshape(-1).astype(np.int64)
    if y.size == 0:
        raise ValueError("balanced_class_weights needs at least one label.")
    counts = np.bincount(y)
    if (counts == 0).any():
        raise ValueError(f"every class 0..{len(counts) - 1} needs an example; counts are {counts.tolist()}.")
    return {c: float(len(y) / (len(counts) * n)) for c, n in enumerate(counts)}
