"""Segmentation metrics: overlap, pixel rates, pixel AUC, HD95, and the soft Dice loss.

Introduced in the chapter *Assisted diagnosis: segmenting retinal vessels*
(``chapters/segmentation``), where each is derived and checked against scikit-learn or SciPy.
Masks are boolean (or 0/1) arrays of any shape; ``region`` (same shape, bool) restricts a
metric to some pixels, e.g. the field of view of a fundus image.
"""

from __future__ import annotations

from typing import Any

import numpy as np

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


def _pair(pred: Any, truth: Any, region: Any = None) -> tuple[np.ndarray, np.ndarray]:
    pred, truth = np.asarray(pred), np.asarray(truth)
    if pred.shape != truth.shape:
        raise ValueError(f"prediction and ground truth differ in shape: {pred.shape} vs {truth.shape}.")
    for what, a in (("prediction", pred), ("ground truth", truth)):
        if a.dtype != bool and not np.isin(a, (0, 1)).all():
            raise ValueError(f"the {what} must be a binary mask (bool or 0/1); threshold scores first.")
    pred, truth = pred.astype(bool), truth.astype(bool)
    if region is not None:
        region = np.asarray(region, dtype=bool)
        if region.shape != truth.shape:
            raise ValueError(f"region shape {region.shape} differs from the masks' {truth.shape}.")
        return pred[region], truth[region]
    return pred.ravel(), truth.ravel()


def pixel_counts(pred: Any, truth: Any, region: Any = None) -> tuple[int, int, int, int]:
    """``(tp, fp, fn, tn)`` pixel counts of a binary prediction against a binary truth."""
    p, t = _pair(pred, truth, region)
    tp = int(np.count_nonzero(p & t))
    fp = int(np.count_nonzero(p & ~t))
    fn = int(np.count_nonzero(~p & t))
    return tp, fp, fn, int(p.size - tp - fp - fn)


def dice(pred: Any, truth: Any, region: Any = None) -> float:
    """Dice coefficient 2|P∩T| / (|P| + |T|) = F1 of the vessel pixels; 1.0 when both are empty."""
    tp, fp, fn, _ = pixel_counts(pred, truth, region)
    return 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def iou(pred: Any, truth: Any, region: Any = None) -> float:
    """Intersection over union |P∩T| / |P∪T| (Jaccard index); 1.0 when both are empty."""
    tp, fp, fn, _ = pixel_counts(pred, truth, region)
    return 1.0 if tp + fp + fn == 0 else tp / (tp + fp + fn)


def pixel_sensitivity(pred: Any, truth: Any, region: Any = None) -> float:
    """TP / (TP + FN): the share of vessel pixels found (NaN when the truth has none)."""
    tp, _, fn, _ = pixel_counts(pred, truth, region)
    return float("nan") if tp + fn == 0 else tp / (tp + fn)


def pixel_specificity(pred: Any, truth: Any, region: Any = None) -> float:
    """TN / (TN + FP): the share of background pixels left out (NaN when there is no background)."""
    _, fp, _, tn = pixel_counts(pred, truth, region)
    return float("nan") if tn + fp == 0 else tn / (tn + fp)


def pixel_auc(scores: Any, truth: Any, region: Any = None) -> float:
    """Area under the ROC curve with every pixel an example (Mann-Whitney U with mid-ranks for ties)."""
    from scipy.stats import rankdata

    scores = np.asarray(scores, dtype=np.float64)
    truth = np.asarray(truth)
    if scores.shape != truth.shape:
        raise ValueError(f"scores and ground truth differ in shape: {scores.shape} vs {truth.shape}.")
    t = truth.astype(bool)
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


def hausdorff95(pred: Any, truth: Any, spacing: float | tuple[float, ...] = 1.0) -> float:
    """95th-percentile Hausdorff distance between the borders of two masks, in units of ``spacing``.

    For each border pixel of one mask, the Euclidean distance (Euclidean distance transform
    with ``sampling=spacing``) to the nearest border pixel of the other; the 95th percentile of
    each directed set, and the larger of the two (the convention of MONAI's
    ``compute_hausdorff_distance(percentile=95)``). NaN when either mask is empty.
    """
    from scipy import ndimage

    p, t = np.asarray(pred).astype(bool), np.asarray(truth).astype(bool)
    if p.shape != t.shape:
        raise ValueError(f"prediction and ground truth differ in shape: {p.shape} vs {t.shape}.")
    if not p.any() or not t.any():
        return float("nan")
    bp, bt = _border(p), _border(t)
    to_t = ndimage.distance_transform_edt(~bt, sampling=spacing)
    to_p = ndimage.distance_transform_edt(~bp, sampling=spacing)
    return float(max(np.percentile(to_t[bp], 95), np.percentile(to_p[bt], 95)))


def segmentation_scores(
    scores: Any, truth: Any, region: Any = None, threshold: float = 0.5, spacing: float | tuple[float, ...] = 1.0,
    *, hd95: bool = False,
) -> dict[str, float]:
    """Dice, IoU, sensitivity, specificity, accuracy and pixel AUC of a probability map.

    ``scores`` (float in [0, 1]) is thresholded at ``threshold`` (``>=``). With a ``region``,
    every metric counts only its pixels (outside pixels are ignored, not counted as background).
    ``hd95=True`` adds :func:`hausdorff95` on the masks restricted to ``region``.
    """
    scores = np.asarray(scores, dtype=np.float64)
    pred = scores >= threshold
    tp, fp, fn, tn = pixel_counts(pred, truth, region)
    out = {
        "dice": dice(pred, truth, region),
        "iou": iou(pred, truth, region),
        "sensitivity": pixel_sensitivity(pred, truth, region),
        "specificity": pixel_specificity(pred, truth, region),
        "accuracy": (tp + tn) / (tp + fp + fn + tn),
        "auc": pixel_auc(scores, truth, region),
    }
    if hd95:
        r = np.ones_like(pred) if region is None else np.asarray(region, dtype=bool)
        out["hd95"] = hausdorff95(pred & r, np.asarray(truth, dtype=bool) & r, spacing)
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
