"""Tests of medtools.benchmark.grading (chapter treatment_planning): the starting biases, the decision
rules, the validation-chosen class weights (ACC changes, the MedMNIST AUC does not), the summary, and
a one-epoch run of the benchmark row."""

from __future__ import annotations

import math

import numpy as np
import pytest

from medtools import metrics, models
from medtools.benchmark import grading


def _scores(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, grading.K, n)
    P = rng.dirichlet(np.ones(grading.K), n) + 0.3 * np.eye(grading.K)[y]
    return y, P / P.sum(1, keepdims=True)


def test_initial_biases_give_the_class_prior_for_both_heads() -> None:
    y = np.array([0] * 50 + [1] * 10 + [2] * 20 + [3] * 12 + [4] * 8)
    soft = np.array(grading.initial_biases(y, "softmax"))
    coral = np.array(grading.initial_biases(y, "coral"))
    prior = np.bincount(y) / len(y)
    np.testing.assert_allclose(np.exp(soft) / np.exp(soft).sum(), prior, atol=1e-12)
    p_cum = 1 / (1 + np.exp(-coral[None, :]))
    np.testing.assert_allclose(models.cumulative_to_class_probs(p_cum)[0], prior, atol=1e-6)  # float32 levels
    assert coral.shape == (grading.K - 1,) and np.all(np.diff(coral) < 0)


def test_initial_biases_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="every grade"):
        grading.initial_biases(np.array([0, 1, 2, 3]), "softmax")  # grade 4 missing
    with pytest.raises(ValueError, match="Unknown head"):
        grading.initial_biases(np.arange(5), "ordinal")


def test_usual_grade_is_argmax_for_softmax_and_the_count_for_coral() -> None:
    cum = np.array([[0.9, 0.6, 0.4, 0.1], [0.2, 0.1, 0.05, 0.01], [0.99, 0.98, 0.9, 0.7]])
    P = models.cumulative_to_class_probs(cum)
    np.testing.assert_array_equal(grading.usual_grade("coral", P, cum), [2, 0, 4])
    np.testing.assert_array_equal(grading.usual_grade("softmax", P, cum), P.argmax(1))


def test_class_weights_raise_validation_acc_and_keep_the_auc() -> None:
    y, P = _scores()
    P = P * np.array([2.0, 1.0, 0.5, 1.0, 0.6])  # a miscalibrated head: class 0 over-predicted
    w = grading.choose_class_weights(P, y)
    assert w.shape == (grading.K,) and w[0] == 1 and np.all(w > 0)
    acc0 = np.mean(P.argmax(1) == y)
    acc1 = np.mean((P * w).argmax(1) == y)
    assert acc1 > acc0  # the search starts at ones, so it can only improve; a search that ignored y would not
    assert metrics.medmnist_evaluate("ordinal-regression", y, P * w)[0] == metrics.medmnist_evaluate(
        "ordinal-regression", y, P)[0]  # a positive per-class scale leaves each one-vs-rest AUC exactly unchanged
    np.testing.assert_array_equal(w, grading.choose_class_weights(P, y))  # deterministic


def test_class_weights_keep_ones_when_nothing_helps_and_check_inputs() -> None:
    y = np.arange(grading.K)
    np.testing.assert_array_equal(grading.choose_class_weights(np.eye(grading.K), y), np.ones(grading.K))
    with pytest.raises(ValueError, match="positive"):
        grading.choose_class_weights(np.eye(grading.K), y, grid=[0.0, 1.0])
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        grading.choose_class_weights(np.eye(grading.K), y[:3])


def test_summarise_gives_mean_and_sd_per_model() -> None:
    rows = [{"model": m, "dataset": "retinamnist", "seed": s, "test": {"auc": a, "acc": c, "n": 400}}
            for m, s, a, c in [("softmax", 0, 0.7, 0.5), ("softmax", 1, 0.8, 0.6), ("coral", 0, 0.75, 0.55)]]
    out = grading.summarise(rows)
    assert [o["model"] for o in out] == ["softmax", "coral"] and out[0]["seeds"] == [0, 1]
    assert math.isclose(out[0]["test"]["auc"]["mean"], 0.75)
    assert math.isclose(out[0]["test"]["acc"]["sd"], np.std([0.5, 0.6], ddof=1))
    assert out[1]["test"]["auc"]["sd"] is None and "n" not in out[0]["test"]


def test_run_rejects_an_unknown_model() -> None:
    with pytest.raises(ValueError, match="softmax, coral"):
        grading.train_and_score("resnet", 0)


@pytest.mark.slow
@pytest.mark.data
def test_one_epoch_run_gives_a_row_of_the_interface(medmnist_file, monkeypatch) -> None:
    medmnist_file("retinamnist")
    monkeypatch.setattr(grading, "EPOCHS", 1)
    row = grading.train_and_score("coral", 0, cache=False)
    assert set(row) >= {"model", "dataset", "seed", "params", "train_seconds", "cached", "val", "test"}
    assert row["model"] == "coral" and row["dataset"] == "retinamnist" and not row["cached"]
    assert row["params"] == 23_988 and row["rule"] == "count"  # the chapter's CORAL model
    assert set(row["test"]) >= {"auc", "acc", "qwk", "mae", "acc_rule", "acc_rescaled"} and row["test"]["n"] == 400
    assert row["val"]["acc_rescaled"] >= row["val"]["acc"]  # chosen on validation: never worse there
