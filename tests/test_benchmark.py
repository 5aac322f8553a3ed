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
    assert s["n_seeds"] == 1 and 0.0 <= s["test_auc"]["mean"] <= 1.0 and s["test_auc"]["sd"] == 0.0
    for key in ("train_images_per_second", "inference_images_per_second", "ece", "sensitivity", "specificity"):
        assert key in s
    assert doc["versions"]["keras"].startswith("3.")


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
    assert benchmark.make_augmentation("none", "breastmnist") is None
    assert benchmark.article_augmentation(0).name == "augment_article"
