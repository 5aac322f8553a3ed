"""Synthetic vessel trees: phantom images with an exact mask, for derivations and quick tests.

Introduced in the chapter *Assisted diagnosis: segmenting retinal vessels*
(``chapters/segmentation``). Not data: every figure made from a phantom is labelled
"synthetic". A tree grows from a root by random branching; each segment is drawn as a thick
line whose width shrinks at each generation; the image is a bright background with darker
vessels, a smooth illumination gradient and Gaussian noise.
"""

from __future__ import annotations

import numpy as np

__all__ = ["vessel_tree"]


def vessel_tree(
    size: int = 128, *, generations: int = 4, width: float = 4.0, noise: float = 0.05, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic vessel tree.

    Args:
        size: image height and width in pixels.
        generations: levels of branching (each segment splits in two).
        width: vessel width of the root segment in pixels (x 0.7 per generation, at least 1).
        noise: standard deviation of the additive Gaussian noise.
        seed: random seed (same seed, same phantom).

    Returns:
        ``(image, mask)``: ``(size, size)`` float32 in [0, 1] and ``(size, size)`` bool.
    """
    if size < 16 or generations < 1 or width <= 0:
        raise ValueError(f"need size >= 16, generations >= 1, width > 0; got {size}, {generations}, {width}.")
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    mask = np.zeros((size, size), bool)
    stack = [(np.array([size * 0.5, size * 0.02]), np.pi / 2 + rng.normal(0, 0.2), size * 0.35, width, 0)]
    while stack:
        start, angle, length, w, gen = stack.pop()
        end = start + length * np.array([np.cos(angle), np.sin(angle)])
        d = end - start
        t = np.clip(((xx - start[0]) * d[0] + (yy - start[1]) * d[1]) / (d @ d), 0, 1)
        dist = np.hypot(xx - (start[0] + t * d[0]), yy - (start[1] + t * d[1]))
        mask |= dist <= max(w, 1.0) / 2
        if gen + 1 < generations:
            for side in (-1, 1):
                stack.append((end, angle + side * rng.uniform(0.3, 0.7), length * 0.7, w * 0.7, gen + 1))
    light = 0.75 + 0.15 * (xx / size) - 0.1 * (yy / size)
    image = light - 0.35 * mask + rng.normal(0, noise, (size, size))
    return np.clip(image, 0, 1).astype(np.float32), mask
