"""Metrics for medical classifiers, defined from scratch and checked against scikit-learn.

* accuracy, precision, recall/sensitivity, specificity, F1, ROC-AUC, PR-AUC — chapter
  *The workflow* (``chapters/workflow``): :mod:`~medtools.metrics.classification`;
* MedMNIST-style evaluation, bootstrap confidence intervals, threshold choice and
  calibration — chapter *The Keras classifier* (``chapters/keras_classifier``):
  :mod:`~medtools.metrics.evaluation`, :mod:`~medtools.metrics.bootstrap`,
  :mod:`~medtools.metrics.thresholds`, :mod:`~medtools.metrics.calibration`.

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
from medtools.metrics.evaluation import evaluate_binary, medmnist_acc, medmnist_auc
from medtools.metrics.thresholds import THRESHOLD_RULES, choose_threshold, threshold_metrics

__all__ = [
    "THRESHOLD_RULES",
    "BootstrapCI",
    "accuracy",
    "bootstrap_ci",
    "choose_threshold",
    "confusion",
    "evaluate_binary",
    "expected_calibration_error",
    "f1",
    "medmnist_acc",
    "medmnist_auc",
    "pr_auc",
    "pr_curve",
    "precision",
    "recall",
    "reliability_curve",
    "roc_auc",
    "roc_curve",
    "sensitivity",
    "specificity",
    "threshold_metrics",
]
