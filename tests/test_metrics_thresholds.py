"""Tests of medtools.metrics.thresholds (chapter keras_classifier): threshold choice on
validation data and the rates at a threshold."""

from __future__ import annotations

import numpy as np
import pytest

from medtools import metrics


def test_choose_threshold_separates_separable_data() -> None:
    y = np.array([0] * 50 + [1] * 50)
    s = np.r_[np.linspace(0.0, 0.4, 50), np.linspace(0.6, 1.0, 50)]
    t = metrics.choose_threshold(y, s, "youden")
    assert 0.4 < t < 0.6
    op = metrics.threshold_metrics(y, s, t)
    assert op["sensitivity"] == 1.0 and op["specificity"] == 1.0 and op["accuracy"] == 1.0
    assert op["tn"] + op["fp"] + op["fn"] + op["tp"] == 100


def test_choose_threshold_target_rules(synthetic_scores) -> None:
    y, p = synthetic_scores(n=1000, shift=0.8)
    t_sens = metrics.choose_threshold(y, p, "sensitivity", target=0.95)
    assert metrics.threshold_metrics(y, p, t_sens)["sensitivity"] >= 0.95
    t_spec = metrics.choose_threshold(y, p, "specificity", target=0.9)
    assert metrics.threshold_metrics(y, p, t_spec)["specificity"] >= 0.9
    assert t_sens < metrics.choose_threshold(y, p, "youden") < t_spec
    with pytest.raises(ValueError, match="target"):
        metrics.choose_threshold(y, p, "sensitivity")
    with pytest.raises(ValueError, match="Unknown rule"):
        metrics.choose_threshold(y, p, "f1")
    with pytest.raises(ValueError, match="both classes"):
        metrics.choose_threshold(np.ones(5, int), np.linspace(0, 1, 5))


def test_every_rule_in_threshold_rules_is_accepted(synthetic_scores) -> None:
    y, p = synthetic_scores()
    assert metrics.THRESHOLD_RULES == ("youden", "sensitivity", "specificity", "accuracy")
    for rule in metrics.THRESHOLD_RULES:
        t = metrics.choose_threshold(y, p, rule, target=0.9)
        assert 0.0 < t < 1.0


def test_accuracy_rule_maximises_validation_accuracy() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.7).astype(int)
    s = rng.normal(y * 1.2, 1.0)
    t = metrics.choose_threshold(y, s, "accuracy")
    best = max(np.mean((s >= c) == y) for c in np.unique(s))
    assert np.mean((s >= t) == y) == pytest.approx(best)
