"""Figures of images: a grid of labelled images, the class balance of the splits, slices of a volume.

Introduced in the chapter *A first look at medical images* (``chapters/background``).
Re-exported by :mod:`medtools.plots`. This module imports no model code.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from numpy.typing import ArrayLike

__all__ = ["class_balance", "image_grid", "volume_slices"]

def image_grid(
    images: ArrayLike,
    labels: ArrayLike | None = None,
    label_names: Sequence[str] | None = None,
    *,
    ncols: int = 8,
    title: str | None = None,
    size: float = 1.3,
) -> plt.Figure:
    """Show images in a grid, each titled with its class name.

    Args:
        images: ``(N, H, W)`` grey or ``(N, H, W, 3)`` RGB, uint8 or float in [0, 1].
        labels: ``(N,)`` integer labels, optional.
        label_names: names indexed by label value.
        ncols: columns of the grid.
        title: figure title.
        size: inches per image.
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"images must be (N, H, W) or (N, H, W, 3), got shape {images.shape}.")
    n = len(images)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if title else 0)))
    axes = np.atleast_1d(axes).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= n:
            continue
        img = images[i]
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255 if images.dtype == np.uint8 else 1)
        if labels is not None:
            lab = int(np.asarray(labels)[i])
            ax.set_title(label_names[lab] if label_names is not None else str(lab), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def class_balance(
    counts: dict[str, Sequence[int]],
    label_names: Sequence[str],
    *,
    ax: plt.Axes | None = None,
    title: str | None = None,
    normalise: bool = True,
) -> plt.Axes:
    """Grouped bars of class frequency per split.

    Args:
        counts: ``{"train": counts_per_class, "val": …, "test": …}``.
        label_names: class names, one per count.
        normalise: plot fractions of each split (True) or raw counts.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 3))
    k = len(label_names)
    width = 0.8 / max(len(counts), 1)
    for j, (split, raw) in enumerate(counts.items()):
        c = np.asarray(raw, dtype=float)
        if len(c) != k:
            raise ValueError(f"split {split!r} has {len(c)} counts for {k} classes.")
        vals = c / c.sum() if normalise else c
        ax.bar(np.arange(k) + (j - (len(counts) - 1) / 2) * width, vals, width, label=f"{split} (n={int(c.sum())})")
    ax.set_xticks(np.arange(k), label_names, rotation=0 if k <= 3 else 45, ha="center" if k <= 3 else "right")
    ax.set_ylabel("fraction of split" if normalise else "images")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def volume_slices(
    volume: ArrayLike,
    *,
    n: int = 8,
    axis: int = 0,
    title: str | None = None,
    size: float = 1.3,
) -> plt.Figure:
    """Show ``n`` evenly spaced slices of a volume ``(D, H, W)`` (any real dtype) along ``axis``.

    The grey scale runs from 0 to the volume's maximum, the same for every slice.
    """
    volume = np.asarray(volume)
    if volume.ndim != 3:
        raise ValueError(f"volume must be (D, H, W), got shape {volume.shape}.")
    idx = np.linspace(0, volume.shape[axis] - 1, n).round().astype(int)
    fig, axes = plt.subplots(1, n, figsize=(size * n, size + (0.4 if title else 0.2)))
    vmax = volume.max() or 1
    for ax, i in zip(np.atleast_1d(axes), idx, strict=True):
        ax.imshow(np.take(volume, i, axis=axis), cmap="gray", vmin=0, vmax=vmax)
        ax.set_title(f"slice {i}", fontsize=8)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
