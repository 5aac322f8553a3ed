"""Tests of medtools.plots.widgets and their stand-ins threshold_panels and volume_slices (chapters
keras_classifier and background): the static stand-ins have the expected panels, moving a slider
changes what is shown as the metrics say, and bad input is refused."""

from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from medtools import metrics, plots  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture()
def scores(synthetic_scores) -> tuple[np.ndarray, np.ndarray]:
    return synthetic_scores(n=300, seed=1)


@pytest.fixture()
def volume() -> np.ndarray:
    """A (5, 6, 7) uint8 volume whose voxel values encode their position (distinct slices on every axis)."""
    d, h, w = np.indices((5, 6, 7))
    return (d * 42 + h * 6 + w).astype(np.uint8)


def counts_shown(ax: plt.Axes) -> list[int]:
    """The counts written in the cells of a confusion-matrix panel: tn, fp, fn, tp."""
    return [int(t.get_text().split("\n")[0]) for t in ax.texts]


def counts_of(m: dict) -> list[int]:
    return [m["tn"], m["fp"], m["fn"], m["tp"]]


# -- threshold_panels / threshold_explorer ---------------------------------------------------------


def test_threshold_panels_show_the_counts_of_each_threshold(scores):
    y, p = scores
    ts = (0.1, 0.3, 0.5, 0.7)
    fig = plots.threshold_panels(y, p, ts, label_names=("normal", "pneumonia"), name="seed 0", title="test")
    ax_roc, *cms = fig.axes
    assert len(cms) == 4
    assert ax_roc.get_xlabel().startswith("false positive rate")
    legend = [t.get_text() for t in ax_roc.get_legend().get_texts()]
    assert legend[0].startswith("seed 0 (AUC") and [f"threshold {t:.2f}" for t in ts] == legend[-4:]
    for t, ax in zip(ts, cms, strict=True):
        m = metrics.threshold_metrics(y, p, t)
        assert counts_shown(ax) == counts_of(m)
        assert ax.get_title().startswith(f"threshold {t:.2f}\nsens. {m['sensitivity']:.2f}")
        assert [lab.get_text() for lab in ax.get_xticklabels()] == ["normal", "pneumonia"]
        # the operating point on the ROC panel has the colour of the matrix's title
        point = next(line for line in ax_roc.get_lines() if line.get_label() == f"threshold {t:.2f}")
        assert point.get_color() == ax.title.get_color()
        assert point.get_xdata()[0] == pytest.approx(1 - m["specificity"])
        assert point.get_ydata()[0] == pytest.approx(m["sensitivity"])
    assert counts_shown(cms[0]) != counts_shown(cms[-1])
    plt.close(fig)
    fig = plots.threshold_panels(y[:, None], p[:, None], [0.5])  # columns, one threshold
    assert len(fig.axes) == 2
    plt.close(fig)


def test_threshold_explorer_follows_the_slider(scores):
    y, p = scores
    ex = plots.threshold_explorer(y, p, threshold=0.3, label_names=("normal", "pneumonia"))
    assert ex.slider.min == 0.0 and ex.slider.max == 1.0 and ex.slider.value == 0.3
    first = metrics.threshold_metrics(y, p, 0.3)
    assert {k: ex.state[k] for k in first} == first
    assert (ex.state["fpr"], ex.state["tpr"]) == (1 - first["specificity"], first["sensitivity"])
    png = bytes(ex.image.value)
    assert png.startswith(PNG)

    ex.slider.value = 0.7  # what dragging the slider does: the observer redraws
    moved = metrics.threshold_metrics(y, p, 0.7)
    assert ex.state["threshold"] == 0.7 and counts_of(ex.state) == counts_of(moved)
    assert counts_of(moved) != counts_of(first)  # the counts shown did change
    ax_roc, ax_cm = ex.figure.axes
    assert counts_shown(ax_cm) == counts_of(moved)
    point = next(line for line in ax_roc.get_lines() if line.get_label() == "threshold 0.70")
    assert (point.get_xdata()[0], point.get_ydata()[0]) == (ex.state["fpr"], ex.state["tpr"])
    assert bytes(ex.image.value) != png and bytes(ex.image.value).startswith(PNG)
    assert f"({moved['tn']}, {moved['fp']}, {moved['fn']}, {moved['tp']})" in ex.rates.value
    assert f"sensitivity {100 * moved['sensitivity']:.1f} %" in ex.rates.value

    ex.slider.value = 0.0  # everything positive: specificity 0, NPV undefined
    assert ex.state["tn"] == ex.state["fn"] == 0 and "NPV n/a" in ex.rates.value
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


@pytest.mark.parametrize(
    ("y", "p", "kwargs", "error", "match"),
    [
        ([0, 1, 2], [0.1, 0.5, 0.9], {}, ValueError, "binary labels 0 and 1"),
        ([0, 1, 1], [0.1, 0.5, 1.2], {}, ValueError, r"probabilities in \[0, 1\]"),
        ([0, 1, 1], [-2.0, 0.5, 3.0], {}, ValueError, "sigmoid"),
        ([0, 1, 1], [0.1, np.nan, 0.9], {}, ValueError, "NaN"),
        ([0, 1, 1], [0.1, 0.9], {}, ValueError, "same shape"),
        ([[0, 1], [1, 0]], [[0.1, 0.2], [0.3, 0.4]], {}, ValueError, r"shape \(N,\)"),
        ([1, 1, 1], [0.1, 0.5, 0.9], {}, ValueError, "both classes"),
        ([0, 1, 1], [0.1, 0.5, 0.9], {"threshold": 1.5}, ValueError, r"threshold must lie in \[0, 1\]"),
        ([0, 1, 1], [0.1, 0.5, 0.9], {"threshold": "0.5"}, TypeError, "threshold must be a number"),
        ([0, 1, 1], [0.1, 0.5, 0.9], {"label_names": ("a", "b", "c")}, ValueError, "two names"),
        ([0, 1, 1], [0.1, 0.5, 0.9], {"step": 0.0}, ValueError, "step must be > 0"),
    ],
)
def test_threshold_explorer_refuses_bad_input(y, p, kwargs, error, match):
    with pytest.raises(error, match=match):
        plots.threshold_explorer(np.asarray(y), np.asarray(p), **kwargs)


@pytest.mark.parametrize(
    ("thresholds", "error", "match"),
    [
        ((), ValueError, "1 to 6 values"),
        (tuple(np.linspace(0.1, 0.9, 7)), ValueError, "1 to 6 values"),
        ((0.3, 0.3), ValueError, "distinct"),
        ((0.3, -0.1), ValueError, r"thresholds\[1\] must lie in \[0, 1\]"),
        ("0.5", TypeError, "sequence of numbers"),
        (0.5, TypeError, "sequence of numbers"),
    ],
)
def test_threshold_panels_refuses_bad_thresholds(scores, thresholds, error, match):
    y, p = scores
    with pytest.raises(error, match=match):
        plots.threshold_panels(y, p, thresholds)
    with pytest.raises(ValueError, match="binary labels"):
        plots.threshold_panels(y * 2, p)


# -- volume_slices / slice_slider ------------------------------------------------------------------


def test_volume_slices_shows_evenly_spaced_slices(volume):
    fig = plots.volume_slices(volume, n=3, title="t")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["slice 0", "slice 2", "slice 4"]  # np.linspace(0, 4, 3)
    assert fig._suptitle.get_text() == "t"
    # one grey scale for all slices: voxel / max, as shown
    assert np.allclose(fig.axes[1].images[0].get_array(), volume[2] / volume.max())
    plt.close(fig)
    fig = plots.volume_slices(volume[..., None], n=7, axis=2, ncols=4)  # (D, H, W, 1), every slice of axis 2
    assert len(fig.axes) == 8 and [ax.get_title() for ax in fig.axes[:7]] == [f"slice {i}" for i in range(7)]
    assert np.allclose(fig.axes[6].images[0].get_array(), volume[:, :, 6] / volume.max())
    plt.close(fig)
    fig = plots.volume_slices(volume, n=4)  # no ncols: one row
    assert len(fig.axes) == 4 and fig.axes[3].get_title() == "slice 4"
    plt.close(fig)


def test_volume_slices_one_grey_scale_from_min_0_to_max():
    # A volume with negative values (e.g. CT in HU after a shift) runs from its minimum, not from 0:
    # a scale from 0 (the old plots.volume_slices) would clip every negative voxel to black.
    vol = np.linspace(-1.0, 3.0, 4 * 3 * 3).reshape(4, 3, 3)
    fig = plots.volume_slices(vol, n=2)
    assert np.allclose(fig.axes[0].images[0].get_array(), (vol[0] + 1) / 4)
    assert np.allclose(fig.axes[1].images[0].get_array(), (vol[3] + 1) / 4)
    plt.close(fig)
    # a non-negative volume runs from 0 (not from its minimum) to its maximum: dim stays dim
    fig = plots.volume_slices(vol + 2, n=2)
    assert np.allclose(fig.axes[0].images[0].get_array(), (vol[0] + 2) / 5)
    plt.close(fig)
    fig = plots.volume_slices(np.zeros((3, 2, 2), np.uint8), n=1)  # all black, no division by zero
    assert np.allclose(fig.axes[0].images[0].get_array(), 0.0)
    plt.close(fig)


def test_slice_slider_follows_the_slider(volume):
    sv = plots.slice_slider(volume)
    assert (sv.slider.min, sv.slider.max, sv.slider.value) == (0, 4, 2)  # the middle slice first
    assert sv.state["index"] == 2 and np.array_equal(sv.state["image"], volume[2])
    png = bytes(sv.image.value)
    assert png.startswith(PNG)
    sv.slider.value = 4
    assert sv.state["index"] == 4 and np.array_equal(sv.state["image"], volume[4])
    assert np.array_equal(sv.figure.axes[0].images[0].get_array(), volume[4])
    assert sv.figure.axes[0].get_title() == "slice 4 of 5 (axis 0)"
    assert bytes(sv.image.value) != png

    sv = plots.slice_slider(volume[..., None].astype(np.float32) / 255, axis=-1, index=0, title="w")
    assert (sv.slider.max, sv.state["axis"]) == (6, 2)
    sv.slider.value = 5
    assert np.allclose(sv.state["image"], volume[:, :, 5] / 255)
    sv = plots.slice_slider(volume, axis=1)
    assert sv.slider.max == 5 and np.array_equal(sv.state["image"], volume[:, 3, :])


@pytest.mark.parametrize(
    ("vol", "kwargs", "error", "match"),
    [
        (np.zeros((2, 4, 4, 4)), {}, ValueError, "pass one volume"),
        (np.zeros((2, 4, 4, 4, 1)), {}, ValueError, "batch of volumes"),
        (np.zeros((4, 4)), {}, ValueError, r"\(D, H, W\) or \(D, H, W, 1\)"),
        (np.zeros((4, 0, 4)), {}, ValueError, "empty"),
        (np.full((3, 3, 3), np.nan), {}, ValueError, "NaN"),
        (np.zeros((3, 3, 3), complex), {}, TypeError, "real numeric"),
        (np.array([[["a"]]]), {}, TypeError, "real numeric"),
        (np.zeros((3, 3, 3)), {"axis": 3}, ValueError, "axis must be 0, 1 or 2"),
        (np.zeros((3, 3, 3)), {"axis": True}, ValueError, "axis must be"),
    ],
)
def test_slice_functions_refuse_bad_volumes(vol, kwargs, error, match):
    with pytest.raises(error, match=match):
        plots.slice_slider(vol, **kwargs)
    with pytest.raises(error, match=match):
        plots.volume_slices(vol, n=1, **kwargs)


def test_slice_index_and_n_must_fit_the_volume(volume):
    with pytest.raises(ValueError, match="index must be an int from 0 to 4"):
        plots.slice_slider(volume, index=5)
    with pytest.raises(ValueError, match="n must be an int from 1 to 7"):
        plots.volume_slices(volume, n=8, axis=2)
    with pytest.raises(ValueError, match="n must be"):
        plots.volume_slices(volume, n=0)
    with pytest.raises(ValueError, match="ncols must be a positive int"):
        plots.volume_slices(volume, n=2, ncols=0)


@pytest.mark.data
def test_on_an_adrenalmnist3d_volume(medmnist_file):
    from medtools import data

    medmnist_file("adrenalmnist3d")
    x = data.load("adrenalmnist3d", download=False).train.x
    assert x.shape[1:] == (28, 28, 28)
    sv = plots.slice_slider(x[0])
    assert sv.slider.max == 27 and np.array_equal(sv.state["image"], x[0, 14])
    fig = plots.volume_slices(data.to_float(x[:1])[0], n=28, ncols=7)  # (28, 28, 28, 1) float
    assert len(fig.axes) == 28
    plt.close(fig)


# -- ipywidgets is needed by the widgets only -------------------------------------------------------


def test_the_stand_ins_work_without_ipywidgets():
    code = (
        "import sys\n"
        "sys.modules['ipywidgets'] = None  # as if it were not installed\n"
        "import matplotlib\n"
        "matplotlib.use('Agg')\n"
        "import numpy as np\n"
        "from medtools import plots\n"
        "y = np.array([0, 1, 0, 1]); p = np.array([0.2, 0.8, 0.6, 0.4])\n"
        "assert len(plots.threshold_panels(y, p, (0.5,)).axes) == 2\n"
        "assert len(plots.volume_slices(np.zeros((4, 4, 4)), n=2).axes) == 2\n"
        "try:\n"
        "    plots.threshold_explorer(y, p)\n"
        "except ImportError:\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('no ImportError without ipywidgets')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
