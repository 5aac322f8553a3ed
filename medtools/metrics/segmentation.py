"""Segmentation metrics: overlap, pixel rates, pixel AUC, HD95, and the soft Dice loss.

Introduced in the chapter *Assisted diagnosis: segmenting retinal vessels*
(``chapters/segmentation``), where each is derived and checked against scikit-learn or SciPy.
Masks are boolean (or 0/1) arrays of any shape; ``region`` (same shape, bool) restricts a
metric to some pixels, e.g. the field of view of a fundus image.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "dice",
    "hausdorff95",
    "iou",
    "pixel_auc",
    "pixel_counts",
    "pixel_sensitivity",
    "pixel_specificity",
    "segmentation_scores",
    "soft_dice_loss",
]

#: The argument order of every metric here is scikit-learn's, as in :mod:`medtools.metrics`:
#: the ground truth first (``y_true``), then the prediction (``y_pred``, a binary mask) or the
#: scores (``y_score``, a probability map).


def _pair(y_true: ArrayLike, y_pred: ArrayLike, region: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Bool ``(truth, prediction)``, flattened, restricted to ``region`` if given."""
    truth, pred = np.asarray(y_true), np.asarray(y_pred)
    if pred.shape != truth.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {truth.shape} vs {pred.shape}.")
    for what, a in (("y_true (ground truth)", truth), ("y_pred (prediction)", pred)):
        if a.dtype != bool and not np.isin(a, (0, 1)).all():
            raise ValueError(f"{what} must be a binary mask (bool or 0/1); threshold scores first.")
    truth, pred = truth.astype(bool), pred.astype(bool)
    if region is not None:
        region = np.asarray(region, dtype=bool)
        if region.shape != truth.shape:
            raise ValueError(f"region shape {region.shape} differs from the masks' {truth.shape}.")
        return truth[region], pred[region]
    return truth.ravel(), pred.ravel()


def pixel_counts(y_true: ArrayLike, y_pred: ArrayLike, region: ArrayLike | None = None) -> tuple[int, int, int, int]:
    """``(tp, fp, fn, tn)`` pixel counts of a binary prediction ``y_pred`` against the binary truth ``y_true``.

    Args:
        y_true: ground-truth mask, bool or 0/1, any shape.
        y_pred: predicted mask, same shape.
        region: optional bool mask of the pixels to count (e.g. the field of view); same shape.
    """
    t, p = _pair(y_true, y_pred, region)
    tp = int(np.count_nonzero(p & t))
    fp = int(np.count_nonzero(p & ~t))
    fn = int(np.count_nonzero(~p & t))
    return tp, fp, fn, int(p.size - tp - fp - fn)


def dice(y_true: ArrayLike, y_pred: ArrayLike, region: ArrayLike | None = None) -> float:
    """Dice coefficient 2|P∩T| / (|P| + |T|) = F1 of the vessel pixels; 1.0 when both are empty."""
    tp, fp, fn, _ = pixel_counts(y_true, y_pred, region)
    return 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def iou(y_true: ArrayLike, y_pred: ArrayLike, region: ArrayLike | None = None) -> float:
    """Intersection over union |P∩T| / |P∪T| (Jaccard index); 1.0 when both are empty."""
    tp, fp, fn, _ = pixel_counts(y_true, y_pred, region)
    return 1.0 if tp + fp + fn == 0 else tp / (tp + fp + fn)


def pixel_sensitivity(y_true: ArrayLike, y_pred: ArrayLike, region: ArrayLike | None = None) -> float:
    """TP / (TP + FN): the share of vessel pixels found (NaN when the truth has none)."""
    tp, _, fn, _ = pixel_counts(y_true, y_pred, region)
    return float("nan") if tp + fn == 0 else tp / (tp + fn)


def pixel_specificity(y_true: ArrayLike, y_pred: ArrayLike, region: ArrayLike | None = None) -> float:
    """TN / (TN + FP): the share of background pixels left out (NaN when there is no background)."""
    _, fp, _, tn = pixel_counts(y_true, y_pred, region)
    return float("nan") if tn + fp == 0 else tn / (tn + fp)


def pixel_auc(y_true: ArrayLike, y_score: ArrayLike, region: ArrayLike | None = None) -> float:
    """Area under the ROC curve with every pixel an example (Mann-Whitney U with mid-ranks for ties).

    Args:
        y_true: ground-truth mask, bool or 0/1, any shape.
        y_score: float scores of the same shape (e.g. a probability map).
        region: optional bool mask of the pixels to count.
    """
    from scipy.stats import rankdata

    scores = np.asarray(y_score, dtype=np.float64)
    t = np.asarray(y_true).astype(bool)
    if scores.shape != t.shape:
        raise ValueError(f"y_true and y_score differ in shape: {t.shape} vs {scores.shape}.")
    if region is not None:
        region = np.asarray(region, dtype=bool)
        scores, t = scores[region], t[region]
    scores, t = scores.ravel(), t.ravel()
    n_pos = int(t.sum())
    n_neg = t.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("pixel AUC needs both vessel and background pixels.")
    ranks = rankdata(scores)
    return float((ranks[t].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _border(mask: np.ndarray) -> np.ndarray:
    from scipy import ndimage

    return mask & ~ndimage.binary_erosion(mask, structure=np.ones((3,) * mask.ndim, bool), border_value=0)


def hausdorff95(y_true: ArrayLike, y_pred: ArrayLike, spacing: float | tuple[float, ...] = 1.0) -> float:
    """95th-percentile Hausdorff distance between the borders of two masks, in units of ``spacing``.

    For each border pixel of one mask, the Euclidean distance (Euclidean distance transform
    with ``sampling=spacing``) to the nearest border pixel of the other; the 95th percentile of
    each directed set, and the larger of the two (the convention of MONAI's
    ``compute_hausdorff_distance(percentile=95)``), so the order of the masks does not matter.
    NaN when either mask is empty.
    """
    from scipy import ndimage

    t, p = np.asarray(y_true).astype(bool), np.asarray(y_pred).astype(bool)
    if p.shape != t.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {t.shape} vs {p.shape}.")
    if not p.any() or not t.any():
        return float("nan")
    bp, bt = _border(p), _border(t)
    to_t = ndimage.distance_transform_edt(~bt, sampling=spacing)
    to_p = ndimage.distance_transform_edt(~bp, sampling=spacing)
    return float(max(np.percentile(to_t[bp], 95), np.percentile(to_p[bt], 95)))


def segmentation_scores(
    y_true: ArrayLike, y_score: ArrayLike, region: ArrayLike | None = None, threshold: float = 0.5,
    spacing: float | tuple[float, ...] = 1.0, *, hd95: bool = False,
) -> dict[str, float]:
    """Dice, IoU, sensitivity, specificity, accuracy and pixel AUC of a probability map.

    ``y_score`` (float in [0, 1]) is thresholded at ``threshold`` (``>=``) and compared with the
    ground-truth mask ``y_true``. With a ``region``, every metric counts only its pixels (outside
    pixels are ignored, not counted as background). ``hd95=True`` adds :func:`hausdorff95` on the
    masks restricted to ``region``.
    """
    scores = np.asarray(y_score, dtype=np.float64)
    pred = scores >= threshold
    tp, fp, fn, tn = pixel_counts(y_true, pred, region)
    out = {
        "dice": dice(y_true, pred, region),
        "iou": iou(y_true, pred, region),
        "sensitivity": pixel_sensitivity(y_true, pred, region),
        "specificity": pixel_specificity(y_true, pred, region),
        "accuracy": (tp + tn) / (tp + fp + fn + tn),
        "auc": pixel_auc(y_true, scores, region),
    }
    if hd95:
        r = np.ones_like(pred) if region is None else np.asarray(region, dtype=bool)
        out["hd95"] = hausdorff95(np.asarray(y_true, dtype=bool) & r, pred & r, spacing)
    return out


def soft_dice_loss(y_true: Any, y_pred: Any, smooth: float = 1.0) -> Any:
    """Soft Dice loss 1 - (2 Σ y p + s) / (Σ y + Σ p + s), per example, for Keras ``compile``.

    The Dice coefficient with the binary prediction replaced by the probabilities ``p`` (so it
    is differentiable); sums run over every axis but the batch axis; ``smooth`` keeps an empty
    patch from dividing by zero. Returns a ``(batch,)`` tensor.
    """
    from keras import ops

    y_true = ops.cast(y_true, y_pred.dtype)
    axes = tuple(range(1, len(y_pred.shape)))
    inter = ops.sum(y_true * y_pred, axis=axes)
    total = ops.sum(y_true, axis=axes) + ops.sum(y_pred, axis=axes)
    return 1.0 - (2.0 * inter + smooth) / (total + smooth)
