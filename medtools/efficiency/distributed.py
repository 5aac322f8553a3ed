"""Data-parallel training with ``tf.distribute``: one training loop, run on one device, several devices or several processes.

Introduced in the chapter *Efficiency and scalability* (``chapters/efficiency``):
:func:`fit_data_parallel` (the one training function that runs unchanged under any
``tf.distribute`` strategy), :func:`run_mirrored` (``MirroredStrategy`` over logical CPU devices,
or the GPUs, in a fresh process) and :func:`run_multiworker` (``MultiWorkerMirroredStrategy`` with
one process per worker on 127.0.0.1, started by :func:`medtools.efficiency.workers.launch_workers`).
The worker processes run ``python -m medtools.efficiency worker|mirrored …``
(:mod:`medtools.efficiency.cli`). Imports neither TensorFlow nor Keras until called.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from medtools.efficiency.workers import launch_workers

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "WORKER_INPUT_SHAPE",
    "fit_data_parallel",
    "run_mirrored",
    "run_multiworker",
]


def fit_data_parallel(model: keras.Model, x: np.ndarray, y: np.ndarray, *, batch_size: int, epochs: int = 1) -> dict:
    """Train ``model`` in order (no shuffling) with global batches of ``batch_size``; ``{"loss": [...]}``.

    One training loop that runs unchanged on one device and under any ``tf.distribute``
    strategy (build and compile the model inside ``strategy.scope()``). Each replica computes
    the loss of its share of the global batch summed and divided by the *global* batch size
    (``tf.nn.compute_average_loss``); the Keras optimizer all-reduces (sums) the replicas'
    gradients before the update, so the update is the one-device update on the whole global
    batch. The dataset is sharded by *data* (every worker reads all the images and keeps its
    share of each batch), which suits arrays in memory; a real cluster reads files and shards
    by file. ``model.fit`` is not used because Keras 3.15's ``fit`` fails under
    ``MultiWorkerMirroredStrategy`` (it tries to turn a ``PerReplica`` batch into a tensor;
    keras-team/keras issue 20585); on one device and under ``MirroredStrategy`` this loop and
    ``fit`` compute the same update.

    Args:
        model: a compiled Keras model with a per-example loss (e.g. ``"binary_crossentropy"``).
        x: float32 images ``(N, H, W, C)``; ``y``: binary labels ``(N,)``.
        batch_size: the global batch (over all replicas and workers); a last incomplete batch
            is dropped, so every step has the same size.
        epochs: passes over the data.

    Returns:
        ``{"loss": [mean training loss of each epoch]}`` (over the whole global batch).
    """
    import keras
    import tensorflow as tf

    x, y = np.asarray(x, np.float32), np.asarray(y, np.float32).reshape(-1, 1)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must be non-empty and of equal length, got {len(x)} and {len(y)}.")
    if not 1 <= int(batch_size) <= len(x):
        raise ValueError(f"batch_size must be in 1..{len(x)} (the number of images), got {batch_size}.")
    if getattr(model, "optimizer", None) is None:
        raise ValueError("model must be compiled (an optimizer and a loss) before fit_data_parallel.")
    strategy = model.distribute_strategy  # the strategy whose scope built the model, or the default
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(int(batch_size), drop_remainder=True)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dist = strategy.experimental_distribute_dataset(ds.with_options(options))
    loss_fn = keras.losses.get(model.loss)
    weights = model.trainable_variables
    with strategy.scope():
        model.optimizer.build(weights)

    def replica_step(xb: Any, yb: Any) -> Any:
        with tf.GradientTape() as tape:
            per_example = tf.reshape(loss_fn(yb, model(xb, training=True)), [-1])
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=int(batch_size))
        model.optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights, strict=True))
        return loss

    @tf.function
    def step(xb: Any, yb: Any) -> Any:
        return strategy.reduce("SUM", strategy.run(replica_step, args=(xb, yb)), axis=None)

    history: dict[str, list[float]] = {"loss": []}
    for _ in range(int(epochs)):
        losses = [float(step(xb, yb)) for xb, yb in dist]
        history["loss"].append(float(np.mean(losses)))
    return history



#: The input shape the worker processes build their model at (the PneumoniaMNIST images they train on).
WORKER_INPUT_SHAPE = (28, 28, 1)


def _save_init(builder: str, weights: Sequence[ArrayLike], folder: Path) -> Path:
    """Check ``weights`` against ``medtools.models.<builder>(WORKER_INPUT_SHAPE)`` and save them as ``init.npz``."""
    from medtools import models

    build = getattr(models, builder, None) if isinstance(builder, str) else None
    if builder not in models.__all__ or not callable(build):
        raise ValueError(
            f"builder must name a model builder of medtools.models that takes the input shape, e.g. 'article_cnn', "
            f"got {builder!r}; the worker processes rebuild the model from that name."
        )
    want = [tuple(w.shape) for w in build(WORKER_INPUT_SHAPE).weights]
    arrays = [np.asarray(w) for w in weights]
    if [a.shape for a in arrays] != want:
        raise ValueError(
            f"weights must be models.{builder}({WORKER_INPUT_SHAPE}).get_weights() ({len(want)} arrays of shapes "
            f"{want}), got {len(arrays)} arrays of shapes {[a.shape for a in arrays]}."
        )
    path = folder / "init.npz"
    np.savez(path, *arrays)  # arr_0, arr_1, … in get_weights() order
    return path


def run_multiworker(
    builder: str,
    weights: Sequence[ArrayLike],
    n_images: int,
    batch_size: int,
    *,
    n_workers: int = 2,
    epochs: int = 1,
    timeout_s: float = 180.0,
) -> dict[str, Any]:
    """Train ``medtools.models.<builder>`` at 28×28 with ``MultiWorkerMirroredStrategy``, one process per worker.

    Each worker builds ``medtools.models.<builder>((28, 28, 1))`` (compiled, as the builders
    return it) inside the strategy's scope, starts from ``weights`` (saved to a temporary file),
    trains with :func:`fit_data_parallel` on the first ``n_images`` PneumoniaMNIST training
    images in global batches of ``batch_size`` (each worker computes ``batch_size / n_workers``
    of every batch), and the chief returns the final weights. A model without batch
    normalisation or dropout, such as ``"article_cnn"``, then computes the one-device update
    with the global batch; with them, each replica's batch statistics and random masks differ.
    CPU only, on 127.0.0.1; see :func:`medtools.efficiency.workers.launch_workers` for the time
    limit and the cleanup.

    Args:
        builder: the name of a builder in :mod:`medtools.models`, e.g. ``"article_cnn"``.
        weights: the starting weights, in ``model.get_weights()`` order (float32 arrays).
        n_images, batch_size: the training images used and the global batch.

    Returns:
        ``{"weights": [np.ndarray, …] (model.get_weights() order), "replicas": int,
        "seconds": float (wall, all workers), "history": dict}``.

    Raises:
        ValueError: ``builder`` is not a builder of :mod:`medtools.models`, ``weights`` do not fit
            the model it builds, or ``batch_size`` is not a multiple of ``n_workers`` (each worker
            must get an equal share).
    """
    if int(batch_size) % int(n_workers):
        raise ValueError(f"batch_size {batch_size} must be a multiple of n_workers {n_workers} (equal shares).")
    with tempfile.TemporaryDirectory() as tmp:
        init = _save_init(builder, weights, Path(tmp))
        out = Path(tmp) / "out.npz"
        start = time.perf_counter()
        results = launch_workers(
            ["worker", "--builder", builder, "--init", str(init), "--out", str(out), "--images", str(n_images),
             "--batch", str(batch_size), "--epochs", str(epochs)],
            n_workers,
            timeout_s=timeout_s,
            env={"CUDA_VISIBLE_DEVICES": "-1"},
        )
        seconds = time.perf_counter() - start
        return _read_out(out, seconds, results[0].stdout)


def run_mirrored(
    builder: str,
    weights: Sequence[ArrayLike],
    n_images: int,
    batch_size: int,
    *,
    n_devices: int = 2,
    epochs: int = 1,
    timeout_s: float = 180.0,
) -> dict[str, Any]:
    """Train ``medtools.models.<builder>`` at 28×28 with ``MirroredStrategy`` in a fresh process.

    The process splits the host CPU into ``n_devices`` logical devices
    (``tf.config.set_logical_device_configuration``, which must run before TensorFlow first
    uses its devices — hence a new process), or uses the GPUs if it finds any, and then builds
    the model, loads ``weights`` and runs the same :func:`fit_data_parallel` as
    :func:`run_multiworker` (whose arguments and errors it shares).

    Returns:
        As :func:`run_multiworker`, plus ``"devices"`` (the strategy's device names).
    """
    if int(n_devices) < 1 or int(batch_size) % int(n_devices):
        raise ValueError(f"n_devices must be >= 1 and divide batch_size, got {n_devices} and {batch_size}.")
    with tempfile.TemporaryDirectory() as tmp:
        init = _save_init(builder, weights, Path(tmp))
        out = Path(tmp) / "out.npz"
        start = time.perf_counter()
        results = launch_workers(
            ["mirrored", "--devices", str(n_devices), "--builder", builder, "--init", str(init), "--out", str(out),
             "--images", str(n_images), "--batch", str(batch_size), "--epochs", str(epochs)],
            1,
            timeout_s=timeout_s,
        )
        return _read_out(out, time.perf_counter() - start, results[0].stdout)


def _read_out(out: Path, seconds: float, stdout: str) -> dict[str, Any]:
    with np.load(out) as f:
        weights = [f[f"w{i}"] for i in range(len(f.files))]
    info = json.loads(stdout.strip().splitlines()[-1])
    return {"weights": weights, "seconds": seconds, **info}
