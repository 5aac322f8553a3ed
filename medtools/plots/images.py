"""Figures of images: a grid of labelled images, the class balance of the splits, slices of a volume.

Introduced in the chapter *A first look at medical images* (``chapters/background``).
Re-exported by :mod:`medtools.plots`. This module imports no model code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
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
    n: int = 8,
    *,
    axis: int = 0,
    ncols: int | None = None,
    title: str | None = None,
    size: float = 1.3,
) -> Figure:
    """``n`` evenly spaced slices of one volume, in a row or a grid, on one grey scale.

    Chapter *A first look at medical images* (``chapters/background``), where it is also the
    static stand-in of the widget :func:`medtools.plots.slice_slider`; the chapter *Recurrent
    networks* (``chapters/rnn``) shows the volumes it reads slice by slice. Slices are taken at
    ``np.linspace(0, D - 1, n)`` rounded and drawn on one grey scale for every slice, from
    ``min(0, volume.min())`` to ``volume.max()`` (so a uint8 or [0, 1] volume runs from black
    at 0 to white at its brightest voxel), laid out by :func:`image_grid`, each titled with its
    index.

    Args:
        volume: one volume ``(D, H, W)`` or ``(D, H, W, 1)``, any real dtype (bools as 0/1).
        n: number of slices, 1 to ``D`` (``D`` = the size along ``axis``; ``n = D``: every slice).
        axis: the axis to slice along, 0, 1 or 2 (or -3 to -1).
        ncols: columns of the grid; ``None`` (default) puts every slice in one row.
        title: figure title.
        size: inches per slice.

    Returns:
        The figure (pyplot's, so ``plt.show()`` shows it); one axes per grid cell, row by row.

    Raises:
        ValueError: not one volume (e.g. a batch, or several channels), empty, NaN or infinite
            values, a bad axis, ``n`` outside 1 to ``D``, ``ncols`` < 1.
        TypeError: a non-numeric or complex volume.
    """
    v = _check_volume(volume)
    ax = _check_axis(axis)
    depth = v.shape[ax]
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= depth:
        raise ValueError(f"n must be an int from 1 to {depth} (slices along axis {ax}), got {n!r}.")
    if ncols is None:
        ncols = int(n)
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"ncols must be a positive int, got {ncols!r}.")
    idx = np.linspace(0, depth - 1, int(n)).round().astype(int)
    lo, hi = _grey_range(v)
    stack = (np.moveaxis(np.take(v, idx, axis=ax), ax, 0).astype(np.float64) - lo) / (hi - lo)
    return image_grid(stack, idx, [f"slice {i}" for i in range(depth)], ncols=int(ncols), title=title, size=size)


# -- input checks of a volume (shared with medtools.plots.widgets.slice_slider) ------------------


def _check_volume(volume: ArrayLike) -> np.ndarray:
    """One volume ``(D, H, W)`` or ``(D, H, W, 1)`` → real ``(D, H, W)`` (dtype kept, bools → uint8)."""
    v = np.asarray(volume)
    if v.dtype == np.bool_:
        v = v.astype(np.uint8)
    if not np.issubdtype(v.dtype, np.number) or np.iscomplexobj(v):
        raise TypeError(f"volume must be a real numeric array, got dtype {v.dtype}.")
    if v.ndim == 4 and v.shape[-1] == 1:
        v = v[..., 0]
    if v.ndim != 3:
        hint = ""
        if v.ndim == 4:
            hint = " A 4-D array with more than one channel, or a batch of volumes: pass one volume, e.g. vol_x[i]."
        elif v.ndim == 5:
            hint = " This looks like a batch of volumes (N, D, H, W, 1): pass one, e.g. vol_x[i]."
        raise ValueError(f"volume must have shape (D, H, W) or (D, H, W, 1), got shape {v.shape}.{hint}")
    if 0 in v.shape:
        raise ValueError(f"volume is empty (shape {v.shape}).")
    if not np.all(np.isfinite(v)):
        raise ValueError("volume contains NaN or infinite values.")
    return v


def _check_axis(axis: Any) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -3 <= axis <= 2:
        raise ValueError(f"axis must be 0, 1 or 2 (or -3 to -1), got {axis!r}.")
    return int(axis) % 3


def _grey_range(v: np.ndarray) -> tuple[float, float]:
    """One grey scale for every slice: from ``min(0, v.min())`` to ``v.max()`` ."""
    lo, hi = min(0.0, float(v.min())), float(v.max())
    return lo, (hi if hi > lo else lo + 1.0)
