"""medtools.metrics.segmentation against scikit-learn, SciPy and brute force."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial.distance import cdist
from sklearn.metrics import f1_score, jaccard_score, recall_score, roc_auc_score

from medtools import metrics
from medtools.data.phantoms import vessel_tree
from medtools.metrics import segmentation as seg


@pytest.fixture(scope="module")
def masks():
    _, truth = vessel_tree(64, generations=4, seed=2)
    rng = np.random.default_rng(0)
    pred = ndimage.binary_dilation(truth) ^ (rng.random(truth.shape) < 0.02)
    scores = np.clip(truth + rng.normal(0, 0.4, truth.shape), 0, 1)
    return pred, truth, scores


def test_overlap_and_rates_match_sklearn(masks):
    pred, truth, _ = masks
    t, p = truth.ravel(), pred.ravel()
    assert np.isclose(seg.dice(truth, pred), f1_score(t, p))
    assert np.isclose(seg.iou(truth, pred), jaccard_score(t, p))
    assert np.isclose(seg.pixel_sensitivity(truth, pred), recall_score(t, p))
    assert np.isclose(seg.pixel_specificity(truth, pred), recall_score(~t, ~p))
    d = seg.dice(truth, pred)
    assert np.isclose(seg.iou(truth, pred), d / (2 - d))
    assert sum(seg.pixel_counts(truth, pred)) == truth.size


def test_argument_order_is_y_true_then_y_pred_as_in_every_metric(masks):
    # The segmentation metrics once took (pred, truth), the opposite of metrics.sensitivity(y_true,
    # y_pred): the same call read its arguments the other way round. Sensitivity and specificity
    # are not symmetric, so a swapped implementation fails here.
    pred, truth, _ = masks
    t, p = truth.ravel(), pred.ravel()
    assert np.isclose(seg.pixel_sensitivity(truth, pred), metrics.sensitivity(t, p))
    assert np.isclose(seg.pixel_specificity(truth, pred), metrics.specificity(t, p))
    assert not np.isclose(seg.pixel_sensitivity(truth, pred), seg.pixel_sensitivity(pred, truth))
    tp, fp, fn, _ = seg.pixel_counts(truth, pred)
    assert (fp, fn) == (int((p & ~t).sum()), int((~p & t).sum()))


def test_region_restricts_every_count(masks):
    pred, truth, scores = masks
    region = np.zeros_like(truth)
    region[8:-8, 8:-8] = True
    assert np.isclose(seg.dice(truth, pred, region), f1_score(truth[region], pred[region]))
    assert np.isclose(seg.pixel_auc(truth, scores, region), roc_auc_score(truth[region], scores[region]))
    assert sum(seg.pixel_counts(truth, pred, region)) == region.sum()


def test_pixel_auc_matches_sklearn_with_ties(masks):
    _, truth, scores = masks
    rounded = np.round(scores, 1)  # many ties
    assert np.isclose(seg.pixel_auc(truth, rounded), roc_auc_score(truth.ravel(), rounded.ravel()))
    with pytest.raises(ValueError, match="both"):
        seg.pixel_auc(np.zeros_like(truth), scores)


def test_empty_masks_and_bad_inputs():
    empty = np.zeros((5, 5), bool)
    assert seg.dice(empty, empty) == 1.0 and seg.iou(empty, empty) == 1.0
    assert np.isnan(seg.pixel_sensitivity(empty, empty))
    assert np.isnan(seg.hausdorff95(empty, empty))
    with pytest.raises(ValueError, match="shape"):
        seg.dice(empty, np.zeros((4, 5), bool))
    with pytest.raises(ValueError, match="binary"):
        seg.dice(empty, np.full((5, 5), 0.5))


@pytest.mark.parametrize("spacing", [1.0, (1.0, 0.5), (0.7, 1.3)])
def test_hausdorff95_matches_brute_force(masks, spacing):
    pred, truth, _ = masks

    def border(m):
        return m & ~ndimage.binary_erosion(m, np.ones((3, 3), bool))

    pair = cdist(np.argwhere(border(pred)) * spacing, np.argwhere(border(truth)) * spacing)
    brute = max(np.percentile(pair.min(axis=1), 95), np.percentile(pair.min(axis=0), 95))
    assert np.isclose(seg.hausdorff95(truth, pred, spacing), brute)
    assert seg.hausdorff95(truth, truth, spacing) == 0.0


def test_hausdorff95_of_a_shifted_square_is_the_shift():
    a = np.zeros((40, 40), bool)
    a[10:20, 10:20] = True
    b = np.roll(a, 3, axis=1)
    assert np.isclose(seg.hausdorff95(a, b), 3.0)
    assert np.isclose(seg.hausdorff95(a, b, spacing=(1.0, 0.5)), 1.5)


def test_segmentation_scores_threshold(masks):
    _, truth, scores = masks
    out = seg.segmentation_scores(truth, scores, threshold=0.5, hd95=True)
    assert np.isclose(out["dice"], seg.dice(truth, scores >= 0.5))
    assert np.isclose(out["auc"], roc_auc_score(truth.ravel(), scores.ravel()))
    assert set(out) == {"dice", "iou", "sensitivity", "specificity", "accuracy", "auc", "hd95"}


def test_soft_dice_loss_is_one_minus_dice_on_binary_masks(masks):
    from keras import ops

    pred, truth, scores = masks
    y = ops.convert_to_tensor(truth[None, ..., None].astype("float32"))
    p = ops.convert_to_tensor(pred[None, ..., None].astype("float32"))
    assert np.isclose(float(seg.soft_dice_loss(y, p, smooth=0.0)[0]), 1 - seg.dice(truth, pred), atol=1e-6)
    s = scores[None, ..., None].astype("float32")
    expected = 1 - (2 * (truth * scores).sum() + 1) / (truth.sum() + scores.sum() + 1)
    assert np.isclose(float(seg.soft_dice_loss(y, ops.convert_to_tensor(s))[0]), expected, atol=1e-5)
