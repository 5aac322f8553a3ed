"""Tests of medtools.benchmark (chapters keras_classifier and beyond_article):
determinism of a short run, the JSON document of the command line, the summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from medtools import benchmark

ENV = {
    **os.environ,
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "MEDTOOLS_OFFLINE": os.environ.get("MEDTOOLS_OFFLINE", "1"),
}


@pytest.mark.slow
@pytest.mark.data
def test_same_seed_gives_the_same_metrics_twice(medmnist_file) -> None:
    medmnist_file("breastmnist")
    kw = dict(epochs=1, subset=256, n_boot=100, cache=False)
    a = benchmark.run_config("compact", "breastmnist", 3, reuse=False, **kw)  # a freshly built model
    b = benchmark.run_config("compact", "breastmnist", 3, reuse=True, **kw)  # ... and a re-initialised one
    b2 = benchmark.run_config("compact", "breastmnist", 3, reuse=True, **kw)
    np.testing.assert_array_equal(b.p_test, b2.p_test)
    np.testing.assert_array_equal(a.p_test, b.p_test)
    assert a.row["test"] == b.row["test"] and a.row["val"] == b.row["val"]
    assert a.row["params"] == b.row["params"] <= 380_683
    assert not a.row["cached"] and a.row["epochs"] == 1 and a.row["subset"] == 256
    assert a.row["augment"] == "ultrasound"  # the dataset's policy
    assert a.row["test"]["operating_point"]["positive_name"] == "malignant"
    assert set(a.history) >= {"loss", "val_loss", "val_auc"} and "test_auc" not in a.history
    assert len(a.history["val_auc"]) == 1


@pytest.mark.slow
@pytest.mark.data
def test_cli_prints_one_valid_json_document(medmnist_file) -> None:
    medmnist_file("breastmnist")
    cmd = [sys.executable, "-m", "medtools.benchmark", "--model", "article", "--dataset", "breastmnist",
           "--seeds", "0", "--epochs", "1", "--subset", "128", "--n-boot", "50", "--no-cache", "--no-progress"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=300, check=True)
    doc = json.loads(out.stdout)
    assert doc["runs"][0]["model"] == "article" and doc["runs"][0]["dataset"] == "breastmnist"
    assert doc["runs"][0]["params"] == 159_233  # the article's CNN at 28×28×1
    s = doc["summary"][0]
    # one seed: sd None (no spread), not a spread of 0
    assert s["n_seeds"] == 1 and 0.0 <= s["test_auc"]["mean"] <= 1.0 and s["test_auc"]["sd"] is None
    for key in ("train_images_per_second", "inference_images_per_second", "ece", "sensitivity", "specificity"):
        assert key in s
    assert doc["versions"]["keras"].startswith("3.")
    assert doc["ensembles"] == []  # one seed: no ensemble


@pytest.mark.slow
def test_cli_help_and_errors() -> None:
    out = subprocess.run([sys.executable, "-m", "medtools.benchmark", "--help"], capture_output=True, text=True,
                         env=ENV, timeout=60)
    assert out.returncode == 0 and "--seeds" in out.stdout and "--epochs" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "medtools.benchmark", "--model", "resnet"], capture_output=True,
                         text=True, env=ENV, timeout=60)
    assert bad.returncode == 2 and "unknown model" in bad.stderr


def test_summarise_mean_and_sd() -> None:
    def row(seed: int, auc: float) -> dict:
        op = {"sensitivity": 0.9, "specificity": 0.8}
        return {"model": "m", "dataset": "d", "seed": seed, "params": 10, "train_seconds": 1.0,
                "train_images_per_second": 5.0, "inference_images_per_second": 7.0, "val": {"auc": 0.99},
                "test": {"auc": auc, "acc": 0.5, "ece": 0.1, "operating_point": op,
                         "auc_ci": [auc - 0.1, auc + 0.1], "acc_ci": [0.4, 0.6]}}

    (s,) = benchmark.summarise([row(0, 0.8), row(1, 0.9), row(2, 1.0)])
    assert s["n_seeds"] == 3 and s["seeds"] == [0, 1, 2]
    assert s["test_auc"]["mean"] == pytest.approx(0.9) and s["test_auc"]["sd"] == pytest.approx(0.1)
    assert s["test_auc"]["min"] == 0.8 and s["test_auc"]["max"] == 1.0


def test_unknown_names() -> None:
    with pytest.raises(ValueError, match="Unknown model"):
        benchmark.run_config("vgg", "breastmnist")
    with pytest.raises(ValueError, match="Unknown dataset"):
        benchmark.run_config("compact", "chestmnist")
    with pytest.raises(ValueError, match="subset must be at least 1"):
        benchmark.RunPlan.resolve("compact", "breastmnist", subset=0)


def test_run_plan_resolves_names_and_overrides_once() -> None:
    plan = benchmark.RunPlan.resolve("compact", "breastmnist")
    cfg = benchmark.MODELS["compact"]
    # the table's values, with the model's "policy" turned into the dataset's policy; a plan that
    # kept "policy" would key the cache and label the JSON row differently from the data it used
    assert (plan.epochs, plan.batch_size, plan.augment) == (cfg.epochs["breastmnist"], cfg.batch_size, "ultrasound")
    over = benchmark.RunPlan.resolve("compact", "pneumoniamnist", epochs=2, augment="none", batch_size=7,
                                     hparams={"dropout": 0.1})
    assert (over.epochs, over.batch_size, over.augment) == (2, 7, "none")
    spec = over.spec(3)
    assert spec["hparams"]["dropout"] == 0.1 and spec["hparams"]["widths"] == cfg.hparams["widths"]  # merged, not replaced
    assert spec["seed"] == 3 and spec["dataset"] == "pneumoniamnist"
    assert benchmark.RunPlan.resolve("article", "breastmnist").augment == "article"


def test_training_gflops_and_matmul_ceiling() -> None:
    from medtools.benchmark import throughput

    # 3 forward passes per training image: 1 MFLOP forward at 1000 images/s is 3 GFLOP/s
    assert throughput.training_gflops(1_000_000, 1000.0) == pytest.approx(3.0)
    with pytest.raises(ValueError):
        throughput.training_gflops(-1, 1.0)
    rate = throughput.matmul_gflops(n=256, repeats=2)
    # a finite positive rate below any CPU's 10 TFLOP/s: a formula off by n (n² or n⁴) leaves this range
    assert 0.01 < rate < 10_000


def test_recipe_search_settings_and_selection_rule() -> None:
    from medtools.benchmark import search

    base = search.settings("base", "pneumoniamnist")
    assert base["epochs"] == 20 and base["batch_size"] == 128 and base["hparams"]["optimizer"] == "adamw"
    assert search.settings("half the epochs", "pneumoniamnist")["epochs"] == 10
    assert search.settings("first recipe", "breastmnist")["epochs"] == 20
    assert search.settings("no augmentation", "breastmnist")["augment"] == "none"
    rows = [{"candidate": "a", "val_auc": 0.990, "epochs": 20}, {"candidate": "b", "val_auc": 0.9895, "epochs": 10},
            {"candidate": "c", "val_auc": 0.95, "epochs": 5}]
    assert search.choose(rows, margin=0.002) == "b" and search.choose(rows, margin=0.0) == "a"
    rows[0]["flops"], rows[1]["flops"] = 10, 100  # cost = epochs x flops: a costs 200, b 1000
    rows[2]["flops"] = 1
    assert search.choose(rows, margin=0.002) == "a"
    with pytest.raises(ValueError, match="unknown candidate"):
        search.settings("resnet", "pneumoniamnist")
    rec = search.search_record([{"candidate": "a", "seed": s, "val_auc": v, "val_acc": 0.9, "train_seconds": 1.0,
                                 "epochs": 20, "batch_size": 128, "params": 5} for s, v in ((0, 0.98), (1, 0.99))])
    assert rec[0]["n_seeds"] == 2 and rec[0]["val_auc"] == pytest.approx(0.985)


@pytest.mark.slow
@pytest.mark.data
def test_recipe_search_scores_validation_only(medmnist_file, monkeypatch) -> None:
    """One tiny search run: the test split is never predicted on."""
    from medtools import train
    from medtools.benchmark import search

    medmnist_file("breastmnist")
    seen = []
    original = train.predict_proba

    def spy(model, x, batch_size=1024):
        seen.append(len(x))
        return original(model, x, batch_size)

    monkeypatch.setattr(train, "predict_proba", spy)
    monkeypatch.setitem(search.SEARCH_BASE["epochs"], "breastmnist", 1)
    rows = search.recipe_search("breastmnist", seeds=(0,), candidates=["base"], cache=False, progress=False)
    from medtools import data

    n_val, n_test = len(data.load("breastmnist").val), len(data.load("breastmnist").test)
    assert rows[0]["epochs"] == 1 and 0 <= rows[0]["val_auc"] <= 1 and rows[0]["best_epoch"] == 1
    assert n_test not in seen or n_test == n_val
    assert n_val in seen
    # The per-image validation scores a paired bootstrap of two candidates needs, in the split's order:
    scores = np.asarray(rows[0]["val_scores"])
    assert scores.shape == (n_val,) and ((scores >= 0) & (scores <= 1)).all()
    from medtools import metrics

    assert metrics.medmnist_auc(data.load("breastmnist").val.y, scores) == pytest.approx(rows[0]["val_auc"], abs=1e-4)


def test_ensemble_averages_the_seeds_predictions() -> None:
    from medtools import metrics

    rng = np.random.default_rng(0)
    y_val, y_test = rng.integers(0, 2, 60), rng.integers(0, 2, 80)

    def result(seed: int) -> benchmark.RunResult:
        row = {"model": "compact", "dataset": "pneumoniamnist", "seed": seed, "params": 10}
        return benchmark.RunResult(row, None, {}, y_val, rng.random(60), y_test, rng.random(80))

    rs = [result(s) for s in (0, 1, 2)]
    (e,) = benchmark.run.ensemble(rs, n_boot=50)
    p_test = np.mean([r.p_test for r in rs], axis=0)
    assert e["n_models"] == 3 and e["seeds"] == [0, 1, 2] and e["params"] == 30
    assert e["test_auc"] == pytest.approx(metrics.medmnist_auc(y_test, p_test))
    assert e["test_acc"] == pytest.approx(metrics.medmnist_acc(y_test, p_test))
