"""Evaluation figures of a binary classifier: ROC and precision-recall curves, reliability
diagram, confusion matrix, and confusion matrices at several thresholds.

Introduced in the chapter *The article's Keras classifier* (``chapters/keras_classifier``).
Re-exported by :mod:`medtools.plots`. This module imports no model code (only
:mod:`medtools.metrics`, :mod:`medtools.arrays` and Matplotlib). :func:`threshold_panels` is the
static stand-in of the widget :func:`medtools.plots.widgets.threshold_explorer`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from medtools import metrics
from medtools.arrays import as_labels, as_scores, same_shape
from medtools.plots.style import PALETTE

__all__ = ["MAX_PANELS", "confusion_matrix_plot", "reliability_diagram", "roc_pr_curves", "threshold_panels"]

#: Colours of the operating points of :func:`threshold_panels` (Okabe–Ito, no yellow: titles use them).
_POINT_COLOURS = [PALETTE[i] for i in (1, 2, 3, 4, 5, 7)]

#: Most thresholds :func:`threshold_panels` draws (one confusion matrix and one colour each).
MAX_PANELS = len(_POINT_COLOURS)


def _as_dict(y_score: ArrayLike | Mapping[str, ArrayLike], name: str) -> dict[str, np.ndarray]:
    """``{model name: float64 (N,) scores}`` from one array (named "model") or a mapping."""
    if isinstance(y_score, Mapping):
        return {str(k): as_scores(v, f"{name}[{k!r}]") for k, v in y_score.items()}
    return {"model": as_scores(y_score, name)}


def roc_pr_curves(
    y_true: ArrayLike,
    y_score: ArrayLike | Mapping[str, ArrayLike],
    *,
    points: Mapping[str, tuple[float, float]] | None = None,
    axes: Sequence[plt.Axes] | None = None,
    title: str | None = None,
) -> plt.Figure:
    """ROC curve (with AUC) and precision-recall curve (with average precision) side by side.

    Args:
        y_true: ``(N,)`` (or ``(N, 1)``) labels in {0, 1}; 1 is the positive class of the curves.
        y_score: ``(N,)`` (or ``(N, 1)``) scores of label 1, or ``{name: scores}`` for several models.
        points: optional operating points to mark on the ROC panel,
            ``{label: (false_positive_rate, true_positive_rate)}``.
        axes: two existing axes (ROC, PR); a new 1×2 figure otherwise.
        title: figure title.

    Returns:
        The figure.
    """
    y = as_labels(y_true, "y_true")
    scores = _as_dict(y_score, "y_score")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.4, 3.8))
    ax_roc, ax_pr = axes
    fig = ax_roc.get_figure(root=True)
    assert isinstance(fig, plt.Figure)  # an Axes always belongs to a Figure
    for i, (name, s) in enumerate(scores.items()):
        colour = PALETTE[i % len(PALETTE)]
        fpr, tpr, _ = metrics.roc_curve(y, s)
        ax_roc.plot(fpr, tpr, color=colour, label=f"{name} (AUC {metrics.roc_auc(y, s):.3f})")
        prec, rec, _ = metrics.pr_curve(y, s)
        ax_pr.step(rec, prec, where="post", color=colour, label=f"{name} (AP {metrics.pr_auc(y, s):.3f})")
    ax_roc.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="chance")
    for j, (label, (fx, ty)) in enumerate((points or {}).items()):
        ax_roc.plot([fx], [ty], marker="o", ls="none", color=PALETTE[(j + 4) % len(PALETTE)], label=label)
    ax_roc.set(xlabel="false positive rate (1 − specificity)", ylabel="true positive rate (sensitivity)",
               title="ROC curve", xlim=(-0.01, 1.01), ylim=(-0.01, 1.01))
    prevalence = float(np.mean(y))
    ax_pr.axhline(prevalence, ls="--", color="grey", lw=1, label=f"chance (prevalence {prevalence:.2f})")
    ax_pr.set(xlabel="recall (sensitivity)", ylabel="precision (PPV)", title="Precision-recall curve",
              xlim=(-0.01, 1.01), ylim=(0.0, 1.02))
    ax_roc.legend(fontsize=7, loc="lower right")
    ax_pr.legend(fontsize=7, loc="lower left")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def reliability_diagram(
    y_true: ArrayLike,
    y_prob: ArrayLike | Mapping[str, ArrayLike],
    *,
    n_bins: int = 10,
    ax: plt.Axes | None = None,
    title: str | None = None,
) -> plt.Axes:
    """Reliability diagram: observed frequency of label 1 against mean predicted probability.

    One line per model, with its expected calibration error in the legend
    (:func:`medtools.metrics.expected_calibration_error`); marker area grows with the
    number of cases in the bin. The diagonal is perfect calibration.

    Args:
        y_true: ``(N,)`` (or ``(N, 1)``) labels in {0, 1}.
        y_prob: ``(N,)`` (or ``(N, 1)``) probabilities of label 1, or ``{name: probabilities}``.
        n_bins: equal-width bins on [0, 1].
        ax: existing axes; new ones otherwise.
        title: axes title (default "Reliability diagram").
    """
    y = as_labels(y_true, "y_true")
    probs = _as_dict(y_prob, "y_prob")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4.0))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfect calibration")
    for i, (name, p) in enumerate(probs.items()):
        mean_p, frac, counts = metrics.reliability_curve(y, p, n_bins)
        ece = metrics.expected_calibration_error(y, p, n_bins)
        colour = PALETTE[i % len(PALETTE)]
        ax.plot(mean_p, frac, color=colour, marker=None, label=f"{name} (ECE {ece:.3f})")
        ax.scatter(mean_p, frac, s=12 + 200 * counts / counts.sum(), color=colour, zorder=3)
    ax.set(xlabel="mean predicted probability of label 1", ylabel="observed fraction of label 1",
           xlim=(0, 1), ylim=(0, 1), title=title or "Reliability diagram")
    ax.set_aspect("equal")
    ax.legend(fontsize=7, loc="upper left")
    return ax


def confusion_matrix_plot(
    counts: Sequence[int] | ArrayLike,
    label_names: Sequence[str] = ("0", "1"),
    *,
    ax: plt.Axes | None = None,
    title: str | None = None,
) -> plt.Axes:
    """A 2×2 confusion matrix with counts and row percentages.

    Args:
        counts: ``(tn, fp, fn, tp)`` as returned by :func:`medtools.metrics.confusion`,
            or a 2×2 array ``[[tn, fp], [fn, tp]]`` (rows: true class; columns: predicted).
        label_names: names of class 0 and class 1.
        ax: existing axes; new ones otherwise.
        title: axes title.
    """
    cm = np.asarray(counts, dtype=float)
    if cm.shape == (4,):
        cm = cm.reshape(2, 2)
    if cm.shape != (2, 2):
        raise ValueError(f"counts must be (tn, fp, fn, tp) or a 2x2 array, got shape {cm.shape}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 3.2))
    rows = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    for i in range(2):
        for j in range(2):
            ax.text(j, i, f"{int(cm[i, j])}\n({100 * rows[i, j]:.0f} %)", ha="center", va="center",
                    color="white" if rows[i, j] > 0.6 else "black", fontsize=9)
    ax.set_xticks([0, 1], [f"pred. {n}" for n in label_names])
    ax.set_yticks([0, 1], [f"true {n}" for n in label_names])
    ax.grid(False)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title or "Confusion matrix")
    return ax


# -- the decision threshold (chapter keras_classifier) --------------------------------------------


def _check_binary(y_true: ArrayLike, p_score: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Labels int64 ``(N,)`` in {0, 1} with both classes, probabilities float64 ``(N,)`` in [0, 1]."""
    y = as_labels(y_true, "y_true")
    p = as_scores(p_score, "p_score", prob=True)
    same_shape(y, p, "y_true", "p_score")
    if y.min() == y.max():
        raise ValueError(
            f"y_true holds only label {int(y[0])}; the ROC curve needs both classes. "
            "Pass a split with positives and negatives (e.g. the test split)."
        )
    return y, p


def _check_threshold(t: Any, name: str = "threshold") -> float:
    """A threshold as a float in [0, 1] (probabilities are thresholded, not logits)."""
    if isinstance(t, bool) or not isinstance(t, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number in [0, 1], got {t!r}.")
    t = float(t)
    if not (math.isfinite(t) and 0.0 <= t <= 1.0):
        raise ValueError(f"{name} must lie in [0, 1] (a probability threshold), got {t!r}.")
    return t


def _check_label_names(label_names: Sequence[str]) -> tuple[str, str]:
    if isinstance(label_names, str) or len(label_names) != 2:
        raise ValueError(f"label_names must be two names (class 0, class 1), got {label_names!r}.")
    return str(label_names[0]), str(label_names[1])


def _roc_panel(ax: Axes, y: np.ndarray, p: np.ndarray, name: str, points: dict[str, tuple[float, float]]) -> None:
    """The ROC panel of :func:`roc_pr_curves`, with its PR panel thrown away."""
    scratch = Figure().add_subplot()  # roc_pr_curves draws ROC and PR; only the ROC is wanted here
    roc_pr_curves(y, {name: p}, points=points, axes=(ax, scratch))


def threshold_panels(
    y_true: ArrayLike,
    p_score: ArrayLike,
    thresholds: Sequence[float] = (0.1, 0.3, 0.5, 0.7),
    *,
    label_names: Sequence[str] = ("0", "1"),
    name: str = "model",
    title: str | None = None,
) -> Figure:
    """The static stand-in of :func:`threshold_explorer`: the ROC curve and a confusion matrix per threshold.

    Chapter *The article's Keras classifier* (``chapters/keras_classifier``). The left panel is
    the ROC curve with the operating point of every threshold marked (as in
    :func:`roc_pr_curves`); on the right, one confusion matrix per threshold
    (:func:`confusion_matrix_plot`), titled with its sensitivity and
    specificity, in two rows. Predict label 1 when ``p >= t``.

    Args:
        y_true: ``(N,)`` or ``(N, 1)`` labels in {0, 1}, both classes present.
        p_score: ``(N,)`` or ``(N, 1)`` predicted probabilities of label 1, in [0, 1].
        thresholds: 1 to 6 distinct thresholds in [0, 1].
        label_names: names of class 0 and class 1.
        name: the model's name in the ROC legend.
        title: figure title.

    Returns:
        The figure (pyplot's, so ``plt.show()`` shows it): ``fig.axes[0]`` is the ROC panel,
        ``fig.axes[1:]`` the confusion matrices in the order of ``thresholds``.

    Raises:
        ValueError: as :func:`threshold_explorer`; no thresholds, more than 6, or repeated ones.
    """
    y, p = _check_binary(y_true, p_score)
    names = _check_label_names(label_names)
    if isinstance(thresholds, (str, bytes)) or not isinstance(thresholds, Sequence | np.ndarray):
        raise TypeError(f"thresholds must be a sequence of numbers in [0, 1], got {thresholds!r}.")
    ts = [_check_threshold(t, f"thresholds[{k}]") for k, t in enumerate(thresholds)]
    if not 1 <= len(ts) <= MAX_PANELS:
        raise ValueError(f"thresholds must hold 1 to {MAX_PANELS} values, got {len(ts)}.")
    if len(set(ts)) != len(ts):
        raise ValueError(f"thresholds must be distinct, got {ts}.")
    ms = [metrics.threshold_metrics(y, p, t) for t in ts]
    labels = [f"threshold {t:.2f}" for t in ts]

    nrows = 1 if len(ts) <= 2 else 2
    ncols = math.ceil(len(ts) / nrows)
    fig = plt.figure(figsize=(4.6 + 2.9 * ncols, 3.3 * nrows + (0.4 if title else 0.0)))
    grid = fig.add_gridspec(nrows, ncols + 1, width_ratios=[1.6] + [1] * ncols)
    ax_roc = fig.add_subplot(grid[:, 0])
    _roc_panel(ax_roc, y, p, name, {lab: (1.0 - m["specificity"], m["sensitivity"]) for lab, m in zip(labels, ms,
                                                                                                     strict=True)})
    for line in ax_roc.get_lines():  # one readable colour per threshold, shared with its matrix's title
        label = str(line.get_label())
        if label in labels:
            line.set_color(_POINT_COLOURS[labels.index(label)])
    ax_roc.legend(fontsize=7, loc="lower right")  # again, with the new colours
    ax_roc.set_aspect("equal")
    for k, (lab, m) in enumerate(zip(labels, ms, strict=True)):
        ax = fig.add_subplot(grid[k // ncols, 1 + k % ncols])
        confusion_matrix_plot((m["tn"], m["fp"], m["fn"], m["tp"]), names, ax=ax,
                              title=f"{lab}\nsens. {m['sensitivity']:.2f}, spec. {m['specificity']:.2f}")
        ax.title.set(color=_POINT_COLOURS[k], fontsize=9, fontweight="bold")
        ax.set_xticks([0, 1], names, fontsize=8)  # shorter than "pred. <name>", which overlap here
        ax.set_yticks([0, 1], names, fontsize=8, rotation=90, va="center")
        ax.set_xlabel("predicted", fontsize=8)
        ax.set_ylabel("true", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
