"""Metrics for medical classifiers, defined from scratch and checked against scikit-learn.

* accuracy, precision, recall/sensitivity, specificity, F1, ROC-AUC, PR-AUC — chapter
  *The workflow* (``chapters/workflow``): :mod:`~medtools.metrics.classification`;
* MedMNIST-style evaluation, bootstrap confidence intervals, threshold choice and
  calibration — chapter *The Keras classifier* (``chapters/keras_classifier``):
  :mod:`~medtools.metrics.evaluation`, :mod:`~medtools.metrics.bootstrap`,
  :mod:`~medtools.metrics.thresholds`, :mod:`~medtools.metrics.calibration`;
* the MedMNIST evaluation of every task type, quadratic weighted kappa — chapter
  *Grading for treatment decisions* (``chapters/treatment_planning``): :mod:`~medtools.metrics.evaluation`;
* prior (label) shift: the posterior adjusted to a new class prior, the prior estimated by EM
  or black-box shift estimation — chapter *Beyond the article* (``chapters/beyond_article``):
  :mod:`~medtools.metrics.shift`;
* Dice, IoU, pixel sensitivity and specificity, pixel AUC, HD95, the soft Dice loss — chapter
  *Assisted diagnosis: segmenting retinal vessels* (``chapters/segmentation``):
  :mod:`~medtools.metrics.segmentation`.

Use it as ``from medtools import metrics``; every name below is ``metrics.<name>``.
"""

from __future__ import annotations

from medtools.metrics.bootstrap import BootstrapCI, bootstrap_ci
from medtools.metrics.calibration import expected_calibration_error, reliability_curve
from medtools.metrics.classification import (
    accuracy,
    confusion,
    f1,
    pr_auc,
    pr_curve,
    precision,
    recall,
    roc_auc,
    roc_curve,
    sensitivity,
    specificity,
)
from medtools.metrics.evaluation import (
    MEDMNIST_TASKS,
    evaluate_binary,
    grade_confusion,
    medmnist_acc,
    medmnist_auc,
    medmnist_evaluate,
    quadratic_weighted_kappa,
)
from medtools.metrics.segmentation import (
    dice,
    hausdorff95,
    iou,
    pixel_auc,
    pixel_counts,
    pixel_sensitivity,
    pixel_specificity,
    segmentation_scores,
    soft_dice_loss,
)
from medtools.metrics.shift import adjust_to_prior, bbse_prior, em_prior, prior_shift_threshold
from medtools.metrics.thresholds import THRESHOLD_RULES, choose_threshold, threshold_metrics

__all__ = [
    "MEDMNIST_TASKS",
    "THRESHOLD_RULES",
    "BootstrapCI",
    "accuracy",
    "adjust_to_prior",
    "bbse_prior",
    "bootstrap_ci",
    "choose_threshold",
    "confusion",
    "dice",
    "em_prior",
    "evaluate_binary",
    "expected_calibration_error",
    "f1",
    "grade_confusion",
    "hausdorff95",
    "iou",
    "medmnist_acc",
    "medmnist_auc",
    "medmnist_evaluate",
    "pixel_auc",
    "pixel_counts",
    "pixel_sensitivity",
    "pixel_specificity",
    "pr_auc",
    "pr_curve",
    "precision",
    "prior_shift_threshold",
    "quadratic_weighted_kappa",
    "recall",
    "reliability_curve",
    "roc_auc",
    "roc_curve",
    "segmentation_scores",
    "sensitivity",
    "soft_dice_loss",
    "specificity",
    "threshold_metrics",
]
