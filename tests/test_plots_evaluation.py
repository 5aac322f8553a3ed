"""Tests of medtools.plots.evaluation (chapter keras_classifier)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from medtools import plots  # noqa: E402


@pytest.fixture()
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.6).astype(int)
    p = 1 / (1 + np.exp(-(rng.normal(size=300) + 2 * (2 * y - 1))))
    return y, p


def test_roc_pr_curves(data) -> None:
    y, p = data
    fig = plots.roc_pr_curves(y, {"a": p, "b": 1 - p}, points={"op": (0.1, 0.8)}, title="t")
    ax_roc, ax_pr = fig.axes
    assert ax_roc.get_xlabel().startswith("false positive rate") and ax_pr.get_ylabel().startswith("precision")
    labels = [t.get_text() for t in ax_roc.get_legend().get_texts()]
    assert any(lab.startswith("a (AUC") for lab in labels) and "op" in labels
    plt.close(fig)
    fig = plots.roc_pr_curves(y, p)  # a single array
    assert len(fig.axes) == 2
    plt.close(fig)


def test_reliability_diagram(data) -> None:
    y, p = data
    ax = plots.reliability_diagram(y, {"model": p}, n_bins=5)
    assert "ECE" in ax.get_legend().get_texts()[1].get_text()
    assert ax.get_xlabel().startswith("mean predicted")
    plt.close(ax.figure)


def test_confusion_matrix_plot() -> None:
    ax = plots.confusion_matrix_plot((50, 10, 5, 80), ("normal", "pneumonia"))
    texts = [t.get_text() for t in ax.texts]
    assert texts[0].startswith("50") and texts[3].startswith("80")
    assert ax.get_ylabel() == "true class"
    plt.close(ax.figure)
    ax = plots.confusion_matrix_plot(np.array([[1, 2], [3, 4]]))
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="2x2"):
        plots.confusion_matrix_plot([1, 2, 3])


def test_columns_are_accepted_other_shapes_refused(data) -> None:
    y, p = data
    ax = plots.reliability_diagram(y[:, None], {"keras": p[:, None]})  # MedMNIST labels, predict()
    plt.close(ax.figure)
    with pytest.raises(ValueError, match=r"y_score\['b'\] must be 1-D with shape \(N,\).*got shape \(150, 2\)"):
        plots.roc_pr_curves(y, {"a": p, "b": p.reshape(150, 2)})
