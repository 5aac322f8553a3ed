"""Metrics for medical classifiers, defined from scratch and checked against scikit-learn.

* accuracy, precision, recall/sensitivity, specificity, F1, ROC-AUC, PR-AUC — chapter
  *The workflow* (``chapters/workflow``);
* MedMNIST-style evaluation, bootstrap confidence intervals, threshold choice and
  calibration — chapter *The Keras classifier* (``chapters/keras_classifier``).
"""

from __future__ import annotations

from importlib.util import find_spec

if find_spec("medtools._metrics_basic"):
    from medtools._metrics_basic import *  # noqa: F403
if find_spec("medtools._metrics_eval"):
    from medtools._metrics_eval import *  # noqa: F403
