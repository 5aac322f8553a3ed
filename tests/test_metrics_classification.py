"""medtools.metrics.classification (binary metrics, chapter *The workflow*) against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from medtools import metrics as mm

SETTINGS = settings(max_examples=150, deadline=None)


@st.composite
def labels_and_preds(draw, min_size=1, max_size=60):
    n = draw(st.integers(min_size, max_size))
    y = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    p = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    return np.array(y, dtype=np.int64), np.array(p, dtype=np.int64)


@st.composite
def labels_and_scores(draw, need_both=True, max_size=60):
    """Binary labels with scores drawn from a small grid, so ties are frequent."""
    n = draw(st.integers(2, max_size))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=np.int64)
    if need_both:
        # force both classes
        i, j = draw(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda t: t[0] != t[1]))
        y[i], y[j] = 0, 1
    else:
        y[draw(st.integers(0, n - 1))] = 1
    levels = draw(st.integers(1, 12))
    raw = draw(st.lists(st.integers(0, levels), min_size=n, max_size=n))
    s = np.array(raw, dtype=np.float64) / levels
    if draw(st.booleans()):  # sometimes continuous scores (no ties)
        s = s + np.array(draw(st.lists(st.floats(0, 1e-3), min_size=n, max_size=n)))
    return y, s


@SETTINGS
@given(labels_and_preds())
def test_confusion_and_threshold_metrics_match_sklearn(yp):
    y, p = yp
    assert mm.confusion(y, p) == tuple(int(v) for v in skm.confusion_matrix(y, p, labels=[0, 1]).ravel())
    kw = {"zero_division": 0.0}
    assert mm.accuracy(y, p) == pytest.approx(skm.accuracy_score(y, p))
    assert mm.precision(y, p) == pytest.approx(skm.precision_score(y, p, **kw))
    assert mm.recall(y, p) == pytest.approx(skm.recall_score(y, p, **kw))
    assert mm.sensitivity(y, p) == mm.recall(y, p)
    assert mm.specificity(y, p) == pytest.approx(skm.recall_score(1 - y, 1 - p, **kw))
    assert mm.f1(y, p) == pytest.approx(skm.f1_score(y, p, **kw))


@SETTINGS
@given(labels_and_scores())
def test_roc_matches_sklearn(ys):
    y, s = ys
    fpr, tpr, thr = mm.roc_curve(y, s)
    efpr, etpr, ethr = skm.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, efpr)
    np.testing.assert_allclose(tpr, etpr)
    np.testing.assert_array_equal(thr, ethr)
    assert mm.roc_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)


@SETTINGS
@given(labels_and_scores())
def test_roc_auc_is_mann_whitney_with_half_ties(ys):
    y, s = ys
    pos, neg = s[y == 1], s[y == 0]
    diff = pos[:, None] - neg[None, :]
    u = (np.sum(diff > 0) + 0.5 * np.sum(diff == 0)) / diff.size
    assert mm.roc_auc(y, s) == pytest.approx(u, abs=1e-12)


@SETTINGS
@given(labels_and_scores(need_both=False))
def test_pr_matches_sklearn(ys):
    y, s = ys
    prec, rec, thr = mm.pr_curve(y, s)
    eprec, erec, ethr = skm.precision_recall_curve(y, s)
    np.testing.assert_allclose(prec, eprec)
    np.testing.assert_allclose(rec, erec)
    np.testing.assert_array_equal(thr, ethr)
    assert mm.pr_auc(y, s) == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)


def test_perfect_and_reversed_scores():
    y = np.array([0, 0, 1, 1])
    s = np.array([0.1, 0.2, 0.8, 0.9])
    assert mm.roc_auc(y, s) == 1.0
    assert mm.roc_auc(y, -s) == 0.0
    assert mm.pr_auc(y, s) == 1.0
    assert mm.roc_auc(y, np.zeros(4)) == 0.5  # all tied: chance


def test_zero_division_convention():
    y = np.array([0, 0, 0])
    p = np.array([0, 0, 0])
    assert mm.precision(y, p) == 0.0
    assert mm.recall(y, p) == 0.0
    assert mm.f1(y, p) == 0.0
    assert mm.specificity(y, p) == 1.0
    assert mm.accuracy(y, p) == 1.0


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([0, 1, 1], [0, 1]), "same shape"),
        (([0, 2, 1], [0, 1, 1]), "binary labels"),
        (([[0, 1]], [[0, 1]]), "1-D"),
        (([], []), "empty"),
        ((["a", "b"], [0, 1]), "numeric"),
    ],
)
def test_errors_threshold_metrics(args, match):
    with pytest.raises(ValueError, match=match):
        mm.accuracy(*args)


def test_errors_ranking_metrics():
    with pytest.raises(ValueError, match="both classes"):
        mm.roc_auc([1, 1, 1], [0.1, 0.5, 0.9])
    with pytest.raises(ValueError, match="both classes"):
        mm.roc_curve([0, 0], [0.1, 0.5])
    with pytest.raises(ValueError, match="at least one positive"):
        mm.pr_auc([0, 0, 0], [0.1, 0.5, 0.9])
    with pytest.raises(ValueError, match="NaN"):
        mm.roc_auc([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="same shape"):
        mm.roc_auc([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="binary labels"):
        mm.roc_auc([0, 1, 3], [0.1, 0.2, 0.3])
    # single positive class is fine for PR (all-positive: precision 1 everywhere)
    assert mm.pr_auc([1, 1], [0.3, 0.4]) == 1.0


def test_bool_and_float_labels_accepted():
    y = np.array([True, False, True])
    p = np.array([1.0, 0.0, 0.0])
    assert mm.confusion(y, p) == (1, 0, 1, 1)


def test_a_column_is_flattened_other_shapes_are_refused():
    y, p = np.array([[0], [1], [1]]), np.array([0, 1, 0])  # MedMNIST labels have shape (N, 1)
    assert mm.confusion(y, p) == (1, 0, 1, 1)
    assert mm.roc_auc(y, np.array([[0.1], [0.9], [0.8]])) == 1.0
    with pytest.raises(ValueError, match=r"y_score must be 1-D with shape \(N,\).*got shape \(3, 2\)"):
        mm.roc_auc(y, np.zeros((3, 2)))
