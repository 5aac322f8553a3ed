"""Tests of medtools.plots.images and .style: figures are built with the right number of panels and errors are clear."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from medtools import plots  # noqa: E402


def test_image_grid_titles_and_layout():
    imgs = np.random.default_rng(0).integers(0, 255, (10, 28, 28), dtype=np.uint8)
    fig = plots.image_grid(imgs, np.array([0, 1] * 5), ["normal", "pneumonia"], ncols=4, title="t")
    axes = fig.axes
    assert len(axes) == 12  # 3 rows x 4 cols, the last two empty
    assert [a.get_title() for a in axes[:2]] == ["normal", "pneumonia"]
    plt.close(fig)
    fig = plots.image_grid(np.zeros((3, 8, 8, 3), np.uint8))
    assert len(fig.axes) == 3
    plt.close(fig)
    with pytest.raises(ValueError, match="images must be"):
        plots.image_grid(np.zeros((8, 8)))


def test_class_balance_bars():
    ax = plots.class_balance({"train": [10, 30], "test": [5, 5]}, ["a", "b"])
    heights = sorted(round(p.get_height(), 3) for p in ax.patches)
    assert heights == [0.25, 0.5, 0.5, 0.75]
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="has 3 counts for 2 classes"):
        plots.class_balance({"train": [1, 2, 3]}, ["a", "b"])


def test_volume_slices():
    vol = np.arange(28 * 28 * 28, dtype=np.float32).reshape(28, 28, 28)
    fig = plots.volume_slices(vol, n=4)
    assert [a.get_title() for a in fig.axes] == ["slice 0", "slice 9", "slice 18", "slice 27"]
    plt.close(fig)
    with pytest.raises(ValueError, match=r"volume must have shape \(D, H, W\)"):
        plots.volume_slices(np.zeros((2, 2)))


def test_use_style_sets_palette():
    plots.use_style()
    assert plt.rcParams["axes.prop_cycle"].by_key()["color"][0] == plots.PALETTE[0]
