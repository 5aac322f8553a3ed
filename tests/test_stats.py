"""Tests of medtools.stats: MeanSD, the bootstrap AUC from counts, paired differences."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from medtools import stats


def test_meansd_matches_numpy_and_formats():
    v = [0.91, 0.93, 0.95]
    m = stats.MeanSD.of(v)
    assert m.mean == pytest.approx(np.mean(v)) and m.sd == pytest.approx(np.std(v, ddof=1))  # ddof=0 would fail
    assert (m.n, m.min, m.max) == (3, 0.91, 0.95)
    assert f"{m}" == "0.930 ± 0.020" and f"{m:.2f}" == "0.93 ± 0.02"
    one = stats.MeanSD.of([0.5])
    assert np.isnan(one.sd) and f"{one}" == "0.500 (one run)"  # one run has no spread, not sd 0
    # as a JSON record: sd None for one run (json.dumps would write NaN, which strict JSON has not),
    # the sd itself otherwise
    assert one.as_dict()["sd"] is None and m.as_dict()["sd"] == pytest.approx(m.sd)
    assert json.loads(json.dumps(one.as_dict(), allow_nan=False))["n"] == 1
    with pytest.raises(ValueError, match="at least one"):
        stats.MeanSD.of([])
    with pytest.raises(ValueError, match="non-finite"):
        stats.MeanSD.of([0.5, np.nan])


def test_auc_counts_equals_sklearn_on_resamples_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    s = np.round(rng.normal(size=200) + y, 1)  # rounded: many ties, counted one half
    assert stats.auc_counts(y, s, np.ones((1, 200)))[0] == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    for _ in range(5):
        idx = rng.integers(0, 200, 200)
        counts = np.bincount(idx, minlength=200)[None]
        assert stats.auc_counts(y, s, counts)[0] == pytest.approx(roc_auc_score(y[idx], s[idx]), abs=1e-12)


def test_paired_difference_finds_a_real_gap_and_not_a_null_one():
    rng = np.random.default_rng(1)
    n, seeds = 600, 5
    y = rng.integers(0, 2, n)
    signal = y * 1.0
    good = np.stack([signal * 1.5 + rng.normal(size=n) for _ in range(seeds)])
    poor = np.stack([signal * 0.5 + rng.normal(size=n) for _ in range(seeds)])
    d = stats.paired_difference(y, good, poor, n_boot=500)
    assert d.resolved and d.sign == 1 and d.low > 0.05  # an implementation that did not pair would still pass this
    assert d.sources == "seeds and cases" and d.n_seeds == seeds
    per_seed = [roc_auc_score(y, g) - roc_auc_score(y, p) for g, p in zip(good, poor, strict=True)]
    assert d.estimate == pytest.approx(np.mean(per_seed), abs=1e-12)
    same = np.stack([signal + rng.normal(size=n) for _ in range(seeds)])
    other = np.stack([signal + rng.normal(size=n) for _ in range(seeds)])
    null = stats.paired_difference(y, same, other, n_boot=500)
    assert not null.resolved and null.low < 0 < null.high  # two equally good models: no verdict


def test_pairing_narrows_the_interval():
    # Two models that share most of their error: the paired interval of their difference is much
    # narrower than the spread of either AUC (an unpaired bootstrap would not be).
    rng = np.random.default_rng(2)
    n = 400
    y = rng.integers(0, 2, n)
    base = y + rng.normal(size=n)
    a, b = base + 0.05 * rng.normal(size=n) + 0.2 * y, base + 0.05 * rng.normal(size=n)
    d = stats.paired_difference(y, a, b, n_boot=500)
    single = stats.paired_difference(y, a, np.full(n, 0.5), n_boot=500)  # AUC(a) - 0.5: the spread of one AUC
    assert (d.high - d.low) < 0.5 * (single.high - single.low)
    assert d.resolved and d.sources == "cases"


def test_a_comparison_without_variance_is_never_resolved():
    y = np.array([0, 0, 1, 1] * 50)
    s = np.linspace(0, 1, 200)
    d = stats.paired_difference(y, s, s, n_boot=200)
    assert d.low == d.high == 0.0 and not d.resolved and d.sign == 0


def test_versus_published_uses_cases_only_and_a_generic_metric():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    s = np.stack([y + rng.normal(size=300) for _ in range(3)])
    auc = np.mean([roc_auc_score(y, r) for r in s])
    d = stats.versus_published(y, s, auc - 0.2, n_boot=300)
    assert d.estimate == pytest.approx(0.2) and d.resolved and d.sources == "cases"
    d2 = stats.versus_published(y, s, auc - 0.2, metric=roc_auc_score, n_boot=300)  # the loop path, same draws
    assert d2.low == pytest.approx(d.low, abs=1e-9) and d2.high == pytest.approx(d.high, abs=1e-9)
    assert "resolved" in d.verdict() and "interval" in f"{d}"


def test_bad_inputs_say_what_is_wrong():
    y = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="same seeds"):
        stats.paired_difference(y, np.zeros((2, 4)), np.zeros((3, 4)), n_boot=100)
    with pytest.raises(ValueError, match="one row of N = 4"):
        stats.paired_difference(y, np.zeros((2, 5)), np.zeros((2, 5)), n_boot=100)
    with pytest.raises(ValueError, match="n_boot"):
        stats.paired_difference(y, np.zeros(4), np.zeros(4), n_boot=10)
    with pytest.raises(ValueError, match="finite"):
        stats.versus_published(y, np.zeros(4), float("nan"), n_boot=100)


def test_identical_seeds_are_one_run_and_relation_words():
    # A deterministic comparison repeated over seeds has no training noise: the interval must say it
    # covers the test cases only (a version that resampled identical seeds would report 5 seeds).
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 300)
    a, b = y + rng.normal(size=300), y + 2 * rng.normal(size=300)
    d = stats.paired_difference(y, np.stack([a] * 5), np.stack([b] * 5), n_boot=300)
    assert d.sources == "cases" and d.n_seeds == 1
    assert d.relation == "above" and d.resolved
    assert stats.paired_difference(y, b, a, n_boot=300).relation == "below"
    same = stats.paired_difference(y, a, a + 1e-9 * rng.normal(size=300), n_boot=300)
    assert same.relation == "within the interval of"
