"""Evaluation plots of a binary classifier: ROC and precision-recall curves, reliability
diagram, confusion matrix.

Introduced in the chapter *The article's Keras classifier* (``chapters/keras_classifier``).
This module imports no model code (only :mod:`medtools.metrics`, :mod:`medtools.arrays` and
Matplotlib).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from numpy.typing import ArrayLike

from medtools import metrics
from medtools.arrays import as_labels, as_scores
from medtools.plots import PALETTE

__all__ = ["confusion_matrix_plot", "reliability_diagram", "roc_pr_curves"]


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
