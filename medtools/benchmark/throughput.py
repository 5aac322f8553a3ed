"""How much of the CPU training uses: arithmetic per second, beside what the machine can do.

Part of :mod:`medtools.benchmark` (chapter *The article's Keras classifier*). Each benchmark run
reports its training rate in GFLOP/s (:func:`training_gflops`); the command line adds the rate
of one large float32 matrix product on the same machine (:func:`matmul_gflops`), the practical
ceiling of the CPU's FP32 arithmetic under TensorFlow, so a reader sees the fraction of it that
training reaches. A vendor's nominal peak (cores × clock × FLOPs per cycle) depends on the CPU's
vector units and boost clock, which Python cannot read portably; the measured product stands in
for it and is never higher than it.
"""

from __future__ import annotations

import time

__all__ = ["TRAINING_FLOPS_PER_FORWARD", "matmul_gflops", "training_gflops"]

#: A training step costs about three forward passes: the forward pass, and a backward pass that
#: computes the gradients with respect to the activations and to the weights (two products of the
#: forward pass's size for each convolution and dense layer).
TRAINING_FLOPS_PER_FORWARD = 3


def training_gflops(forward_flops: int, images_per_second: float) -> float:
    """The arithmetic rate of training, in GFLOP/s.

    Args:
        forward_flops: FLOPs of one forward pass of one image (:func:`medtools.models.count_flops`).
        images_per_second: training images per second of wall time (epochs × images / seconds).

    Returns:
        ``TRAINING_FLOPS_PER_FORWARD × forward_flops × images_per_second / 1e9``.

    Raises:
        ValueError: a negative count or rate.
    """
    if forward_flops < 0 or images_per_second < 0:
        raise ValueError(f"FLOPs and images per second must be non-negative, got {forward_flops} and {images_per_second}.")
    return TRAINING_FLOPS_PER_FORWARD * forward_flops * images_per_second / 1e9


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """The best rate of ``repeats`` float32 products of two ``(n, n)`` matrices, in GFLOP/s.

    A product costs ``2 n³`` FLOPs. TensorFlow runs it on all the cores it is allowed to use
    (the same thread settings as training), so the rate is the ceiling that training's
    convolutions, also matrix products underneath, could approach.

    Raises:
        ValueError: ``n`` or ``repeats`` below 1.
    """
    if n < 1 or repeats < 1:
        raise ValueError(f"n and repeats must be at least 1, got {n} and {repeats}.")
    import tensorflow as tf

    a = tf.random.stateless_uniform((n, n), seed=(1, 2), dtype=tf.float32)
    b = tf.random.stateless_uniform((n, n), seed=(3, 4), dtype=tf.float32)
    _ = (a @ b).numpy()  # warm-up: thread pools and kernels
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        _ = (a @ b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9
