"""Sliders for a reader to play with, and the static figures that stand in for them in the book.

Two widgets, each with a static stand-in:

* :func:`threshold_explorer` — a slider for the decision threshold of a binary classifier,
  driving its confusion matrix and its operating point on the ROC curve; stand-in:
  :func:`medtools.plots.threshold_panels`. Introduced in the chapter *The article's Keras
  classifier* (``chapters/keras_classifier``), next to the operating point chosen on validation data.
* :func:`slice_slider` — a slider over the slices of a 3-D volume (AdrenalMNIST3D); stand-in:
  :func:`medtools.plots.volume_slices`. Introduced in the chapter *A first look at medical images*
  (``chapters/background``); the chapter *Recurrent networks* (``chapters/rnn``) reads the
  same volumes slice by slice.

The widgets need a running kernel (JupyterLab, Colab, VS Code). The HTML book does not render
widgets (``nb_ipywidgets_js`` is off in ``_config.yml``: it would load JavaScript from CDNs),
so each chapter shows the static stand-in next to the widget. ipywidgets is imported inside
the two widget functions only: ``import medtools.plots`` and the stand-ins work without it.

The computations are the package's own: :func:`medtools.metrics.threshold_metrics` for the
counts and rates at a threshold, :func:`medtools.plots.roc_pr_curves` and
:func:`medtools.plots.confusion_matrix_plot` for the panels, and the grey scale of
:func:`medtools.plots.volume_slices` for the slices. Each widget keeps what it shows in a ``state`` dict, so a test (or a reader)
can check the displayed numbers without looking at pixels. Re-exported by :mod:`medtools.plots`.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from medtools import metrics
from medtools.plots.evaluation import (
    _check_binary,
    _check_label_names,
    _check_threshold,
    _roc_panel,
    confusion_matrix_plot,
)
from medtools.plots.images import _check_axis, _check_volume, _grey_range
from medtools.plots.style import PALETTE

__all__ = ["SliceViewer", "ThresholdExplorer", "slice_slider", "threshold_explorer"]

# -- input checks ---------------------------------------------------------------------------------


def _png(fig: Figure, width_px: int) -> bytes:
    """The figure as PNG bytes, drawn at twice ``width_px`` (sharp on high-density screens)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=2 * width_px / fig.get_figwidth())
    return buf.getvalue()


# -- the decision threshold (chapter keras_classifier) --------------------------------------------


def _rates_line(m: dict[str, float | int]) -> str:
    def pct(x: float) -> str:
        return "n/a" if math.isnan(x) else f"{100 * x:.1f} %"

    return (f"sensitivity {pct(m['sensitivity'])}, specificity {pct(m['specificity'])}, "
            f"PPV {pct(m['ppv'])}, NPV {pct(m['npv'])}, accuracy {pct(m['accuracy'])}")


def _threshold_figure(
    y: np.ndarray, p: np.ndarray, t: float, names: tuple[str, str], name: str
) -> tuple[Figure, dict[str, Any]]:
    """ROC with the operating point at ``t`` and the confusion matrix at ``t``; the shown numbers."""
    m = metrics.threshold_metrics(y, p, t)
    state = dict(m, fpr=1.0 - m["specificity"], tpr=m["sensitivity"])
    fig = Figure(figsize=(8.4, 3.8))
    ax_roc, ax_cm = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
    _roc_panel(ax_roc, y, p, name, {f"threshold {t:.2f}": (state["fpr"], state["tpr"])})
    confusion_matrix_plot((m["tn"], m["fp"], m["fn"], m["tp"]), names, ax=ax_cm,
                          title=f"predict {names[1]} when p ≥ {t:.2f}")
    fig.tight_layout()
    return fig, state


class _FigureWidget:
    """What both widgets share: a slider above a figure shown as a PNG image, redrawn on change.

    Subclasses build their slider, call :meth:`_build`, and implement :meth:`redraw`, which
    draws the figure and passes it to :meth:`_show`.
    """

    def _build(self, slider: Any, *above_image: Any) -> None:
        import ipywidgets

        self.slider = slider
        self.image = ipywidgets.Image(format="png")
        self.widget = ipywidgets.VBox([slider, *above_image, self.image])
        self.state: dict[str, Any] = {}
        self.figure: Figure | None = None
        slider.observe(self._on_change, names="value")
        self.redraw()

    def _on_change(self, change: dict[str, Any]) -> None:
        self.redraw()

    def redraw(self) -> None:
        raise NotImplementedError

    def _show(self, figure: Figure) -> None:
        self.figure = figure
        width = int(100 * figure.get_figwidth())
        self.image.value = _png(figure, width)
        self.image.width = str(width)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        own = getattr(self.widget, "_repr_mimebundle_", None)
        if own is not None:  # ipywidgets 8
            return own(**kwargs)
        # ipywidgets 7 (Colab ships 7.7.1): widgets display through _ipython_display_, which shows
        # this bundle; returning it keeps `explorer` on the last line of a cell working there too.
        bundle: dict[str, Any] = {"text/plain": repr(self.widget)}
        if getattr(self.widget, "_view_name", None) is not None:
            bundle["application/vnd.jupyter.widget-view+json"] = {
                "version_major": 2, "version_minor": 0, "model_id": self.widget.model_id,
            }
        return bundle


class ThresholdExplorer(_FigureWidget):
    """What :func:`threshold_explorer` returns: display it (the last line of a cell, or ``display(...)``).

    Attributes:
        widget: the ``ipywidgets.VBox`` shown (slider, rates line, figure).
        slider: the ``ipywidgets.FloatSlider`` of the threshold, 0 to 1.
        rates: an ``ipywidgets.HTML`` line with sensitivity, specificity, PPV, NPV and accuracy.
        image: an ``ipywidgets.Image`` holding the figure (PNG), redrawn when the slider moves.
        state: what is shown now: the dict of :func:`medtools.metrics.threshold_metrics` at
            ``slider.value`` (``threshold``, ``tn``, ``fp``, ``fn``, ``tp``, ``sensitivity``,
            ``specificity``, ``ppv``, ``npv``, ``accuracy``) plus the ROC point ``fpr``, ``tpr``.
        figure: the last Matplotlib figure drawn (not registered with pyplot).
    """

    def __init__(self, y: np.ndarray, p: np.ndarray, threshold: float, names: tuple[str, str], name: str,
                 step: float, continuous_update: bool) -> None:
        import ipywidgets

        self._y, self._p, self._names, self._name = y, p, names, name
        self.rates = ipywidgets.HTML()
        self._build(ipywidgets.FloatSlider(
            value=threshold, min=0.0, max=1.0, step=step, description="threshold",
            continuous_update=continuous_update, readout_format=".2f",
            layout=ipywidgets.Layout(width="480px"),
        ), self.rates)

    def redraw(self) -> None:
        """Recompute and redraw at ``slider.value`` (called by the slider)."""
        t = float(self.slider.value)
        figure, self.state = _threshold_figure(self._y, self._p, t, self._names, self._name)
        self._show(figure)
        m = self.state
        self.rates.value = (f"<b>threshold {t:.2f}</b>: (tn, fp, fn, tp) = ({m['tn']}, {m['fp']}, {m['fn']}, "
                            f"{m['tp']}); {_rates_line(m)}")


def threshold_explorer(
    y_true: ArrayLike,
    p_score: ArrayLike,
    *,
    threshold: float = 0.5,
    label_names: Sequence[str] = ("0", "1"),
    name: str = "model",
    step: float = 0.01,
    continuous_update: bool = False,
) -> ThresholdExplorer:
    """A slider for the decision threshold, driving the confusion matrix and the ROC operating point.

    Chapter *The article's Keras classifier* (``chapters/keras_classifier``): a probability
    becomes a decision at a threshold ``t`` (predict label 1 when ``p >= t``, the rule of
    :func:`medtools.metrics.threshold_metrics`); moving ``t`` moves the operating point along
    the ROC curve and trades false negatives for false positives. The HTML book does not show
    widgets; :func:`medtools.plots.threshold_panels` is the static stand-in.

    Args:
        y_true: ``(N,)`` or ``(N, 1)`` labels in {0, 1} (ints, floats or bools), both classes present.
        p_score: ``(N,)`` or ``(N, 1)`` predicted probabilities of label 1, floats in [0, 1]
            (e.g. ``medtools.train.predict_proba`` output).
        threshold: where the slider starts, in [0, 1] (e.g. the threshold chosen on validation data).
        label_names: names of class 0 and class 1, for the confusion matrix.
        name: the model's name in the ROC legend.
        step: the slider's step, in (0, 1].
        continuous_update: redraw while the slider is dragged (``True``) or when it is released.

    Returns:
        A :class:`ThresholdExplorer`; display it. ``.slider.value = t`` moves the threshold and
        ``.state`` holds the numbers shown.

    Raises:
        ValueError: labels not binary or one class missing, probabilities outside [0, 1] or not
            finite, different lengths, a threshold outside [0, 1], a bad step or label_names.
        TypeError: a threshold that is not a number.
        ImportError: ipywidgets is not installed (``pip install ipywidgets``).
    """
    y, p = _check_binary(y_true, p_score)
    t = _check_threshold(threshold)
    names = _check_label_names(label_names)
    step = _check_threshold(step, "step")
    if step == 0.0:
        raise ValueError("step must be > 0.")
    return ThresholdExplorer(y, p, t, names, str(name), step, bool(continuous_update))


# -- the slices of a volume (chapters background, rnn) -------------------------------------------


def _slice_figure(v: np.ndarray, axis: int, index: int, grey: tuple[float, float], title: str | None) -> Figure:
    """The slice ``index`` along ``axis`` and, beside it, a projection with the slice's position marked."""
    fig = Figure(figsize=(6.4, 3.4))
    ax_slice, ax_where = fig.subplots(1, 2)
    ax_slice.imshow(np.take(v, index, axis=axis), cmap="gray", vmin=grey[0], vmax=grey[1])
    ax_slice.set_title(f"slice {index} of {v.shape[axis]} (axis {axis})", fontsize=9)
    # maximum along the last other axis: a side view in which the slice is a line
    proj_axis = max(a for a in range(3) if a != axis)
    ax_where.imshow(v.max(axis=proj_axis), cmap="gray", vmin=grey[0], vmax=grey[1])
    other = min(a for a in range(3) if a not in (axis, proj_axis))
    if axis < other:  # the slice axis is the rows of the projection
        ax_where.axhline(index, color=PALETTE[1], lw=1.5)
    else:
        ax_where.axvline(index, color=PALETTE[1], lw=1.5)
    ax_where.set_title(f"maximum along axis {proj_axis}: where the slice is", fontsize=9)
    for ax in (ax_slice, ax_where):
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


class SliceViewer(_FigureWidget):
    """What :func:`slice_slider` returns: display it (the last line of a cell, or ``display(...)``).

    Attributes:
        widget: the ``ipywidgets.VBox`` shown (slider, figure).
        slider: the ``ipywidgets.IntSlider`` of the slice index, 0 to ``D - 1`` along ``axis``.
        image: an ``ipywidgets.Image`` holding the figure (PNG), redrawn when the slider moves.
        state: what is shown now: ``{"axis", "index", "image"}``, ``image`` the 2-D slice
            ``np.take(volume, index, axis)``.
        figure: the last Matplotlib figure drawn (not registered with pyplot).
    """

    def __init__(self, v: np.ndarray, axis: int, index: int, title: str | None, continuous_update: bool) -> None:
        import ipywidgets

        self._v, self._axis, self._title = v, axis, title
        self._grey = _grey_range(v)
        self._build(ipywidgets.IntSlider(
            value=index, min=0, max=v.shape[axis] - 1, step=1, description=f"slice (axis {axis})",
            continuous_update=continuous_update, style={"description_width": "initial"},
            layout=ipywidgets.Layout(width="480px"),
        ))

    def redraw(self) -> None:
        """Redraw at ``slider.value`` (called by the slider)."""
        i = int(self.slider.value)
        self._show(_slice_figure(self._v, self._axis, i, self._grey, self._title))
        self.state = {"axis": self._axis, "index": i, "image": np.take(self._v, i, axis=self._axis)}


def slice_slider(
    volume: ArrayLike,
    *,
    axis: int = 0,
    index: int | None = None,
    title: str | None = None,
    continuous_update: bool = True,
) -> SliceViewer:
    """A slider over the slices of one 3-D volume, showing the slice and where it lies in the volume.

    Chapter *A first look at medical images* (``chapters/background``), where an AdrenalMNIST3D
    volume is shown as a stack of slices; the chapter *Recurrent networks* (``chapters/rnn``)
    reads such volumes slice by slice. Beside the slice, a maximum projection of the volume
    along another axis marks the slice's position with a line. One grey scale, from
    ``min(0, volume.min())`` to ``volume.max()``, serves every slice (the rule of
    :func:`medtools.plots.volume_slices`). The HTML book does not show widgets;
    :func:`medtools.plots.volume_slices` is the static stand-in.

    Args:
        volume: one volume ``(D, H, W)`` or ``(D, H, W, 1)`` of any real dtype (MedMNIST 3-D:
            uint8 ``(28, 28, 28)``, or float ``(28, 28, 28, 1)`` after ``data.to_float``).
        axis: the axis to slice along, 0, 1 or 2 (axis 0 of MedMNIST 3-D volumes: axial slices).
        index: the slice shown first; the middle one by default.
        title: figure title.
        continuous_update: redraw while the slider is dragged (``True``) or when it is released.

    Returns:
        A :class:`SliceViewer`; display it. ``.slider.value = i`` moves to slice ``i`` and
        ``.state`` holds what is shown.

    Raises:
        ValueError: not one volume (e.g. a batch, or several channels), empty, NaN or infinite
            values, a bad axis or an index out of range.
        TypeError: a non-numeric or complex volume.
        ImportError: ipywidgets is not installed (``pip install ipywidgets``).
    """
    v = _check_volume(volume)
    ax = _check_axis(axis)
    depth = v.shape[ax]
    if index is None:
        index = depth // 2
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < depth:
        raise ValueError(f"index must be an int from 0 to {depth - 1} (slices along axis {ax}), got {index!r}.")
    return SliceViewer(v, ax, int(index), title, bool(continuous_update))
