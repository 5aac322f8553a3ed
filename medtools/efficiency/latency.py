"""Latency measurement: wall-clock times of repeated calls, and a Keras model as one traced graph.

Introduced in the chapter *Efficiency and scalability* (``chapters/efficiency``):
:func:`measure_latency` times a callable after warm-up calls and returns every repeat
(:class:`Latency`: median, quartiles, throughput); :func:`keras_runner` wraps a Keras model as one
traced inference graph, so Python overhead does not dominate small batches. Parameters and FLOPs
are counted by :mod:`medtools.models.counting`. Imports neither TensorFlow nor Keras until called.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "Latency",
    "keras_runner",
    "measure_latency",
]


@dataclass(frozen=True)
class Latency:
    """Wall-clock times of repeated calls of one function on one batch.

    Attributes:
        times_s: ``(repeats,)`` float64, seconds per call, in the order measured (warm-up calls
            excluded).
        batch_size: images per call.
    """

    times_s: np.ndarray
    batch_size: int

    @property
    def median_s(self) -> float:
        """Median seconds per call."""
        return float(np.median(self.times_s))

    @property
    def quartiles_s(self) -> tuple[float, float]:
        """First and third quartile of the seconds per call (the spread reported with the median)."""
        q1, q3 = np.percentile(self.times_s, [25, 75])
        return float(q1), float(q3)

    @property
    def ms_per_image(self) -> float:
        """Median milliseconds per image (median call time / batch size)."""
        return 1000.0 * self.median_s / self.batch_size

    @property
    def images_per_s(self) -> float:
        """Throughput at the median call time: batch size / median seconds."""
        return self.batch_size / self.median_s

    def as_dict(self) -> dict[str, float | int]:
        """Median, quartiles (ms per call), ms per image, images/s, batch size and repeats."""
        q1, q3 = self.quartiles_s
        return {
            "batch_size": self.batch_size,
            "repeats": len(self.times_s),
            "median_ms": 1000 * self.median_s,
            "q1_ms": 1000 * q1,
            "q3_ms": 1000 * q3,
            "ms_per_image": self.ms_per_image,
            "images_per_s": self.images_per_s,
        }


def measure_latency(fn: Callable[[np.ndarray], Any], x: ArrayLike, *, warmup: int = 3, repeats: int = 20) -> Latency:
    """Time ``fn(x)``: ``warmup`` calls that are not timed, then ``repeats`` timed calls.

    Warm-up calls absorb one-off costs (tracing a graph, allocating buffers, filling caches); the
    median of the repeats is robust to the occasional slow call of a shared machine, and the
    quartiles show the spread. Each call's result is converted with ``np.asarray`` inside the
    timed region, so asynchronous work is finished before the clock stops.

    Args:
        fn: the function to time, called as ``fn(x)``.
        x: one batch, ``(B, …)``; ``B`` is the batch size reported.
        warmup: untimed calls first (>= 0).
        repeats: timed calls (>= 1).

    Returns:
        A :class:`Latency` with every timed call.

    Raises:
        ValueError: ``repeats < 1``, ``warmup < 0``, ``fn`` not callable, or ``x`` without a batch axis.
    """
    if not callable(fn):
        raise ValueError(f"fn must be callable (e.g. keras_runner(model)), got {type(fn).__name__}.")
    if int(repeats) < 1 or int(warmup) < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}.")
    x = np.asarray(x)
    if x.ndim < 1 or len(x) == 0:
        raise ValueError(f"x must be a non-empty batch (B, ...), got shape {x.shape}.")
    for _ in range(int(warmup)):
        np.asarray(fn(x))
    times = np.empty(int(repeats))
    for i in range(int(repeats)):
        start = time.perf_counter()
        np.asarray(fn(x))
        times[i] = time.perf_counter() - start
    return Latency(times, int(len(x)))


def keras_runner(model: keras.Model) -> Callable[[np.ndarray], np.ndarray]:
    """``model`` in inference mode as one traced TensorFlow graph: ``run(x) -> (B, …)`` NumPy.

    ``model(x)`` called eagerly runs each layer from Python, which for small models and batch 1
    costs more than the arithmetic; a ``tf.function`` runs the whole forward pass as one graph
    (traced once per input shape). This is the fair Keras baseline for latency.
    """
    import tensorflow as tf

    if not callable(model) or not hasattr(model, "inputs"):
        raise ValueError(f"model must be a built Keras model, got {type(model).__name__}.")
    graph = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def run(x: np.ndarray) -> np.ndarray:
        return graph(tf.constant(x, dtype=tf.float32)).numpy()

    return run
