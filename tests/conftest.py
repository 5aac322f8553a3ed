"""Shared fixtures of the test suite.

Markers (registered in ``pyproject.toml``):

* ``data`` — needs official MedMNIST files. They are read from ``$MEDTOOLS_DATA_DIR`` (or the
  user cache folder of :func:`medtools.data.data_dir`) and downloaded only when online and
  ``$MEDTOOLS_OFFLINE`` is not set; a test whose file cannot be had is **skipped** with the
  reason. A file that is present but not the official one still fails.
* ``slow`` — takes more than a few seconds: trains a model, runs the benchmark command, or compares
  with Keras many times (``pytest -m "not slow"`` leaves them out).

``tests/browser`` (the built book in Chromium) and ``tests/pdf`` (the printed PDF) are collected only
when named on the command line, so the unit stage (``pytest tests``) never needs a build. The test
files of an optional extra (``EXTRA_TESTS``) are left out where its package is not installed, e.g.
Colab before a DICOM chapter's setup cell has run (``make colab-check``); the header says so.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from medtools import data  # noqa: E402

HERE = Path(__file__).resolve().parent

#: Test files that import an optional extra's package at their top, by that package.
EXTRA_TESTS = {"pydicom": "test_dicom*.py"}
_MISSING = [module for module in EXTRA_TESTS if importlib.util.find_spec(module) is None]
collect_ignore_glob = [EXTRA_TESTS[module] for module in _MISSING]


def pytest_report_header(config):
    if _MISSING:
        return [f"left out, {m} not installed: tests/{EXTRA_TESTS[m]}" for m in _MISSING]
    return None
#: Folders collected only when named (``pytest tests/browser``, ``pytest tests/pdf``).
ONLY_WHEN_NAMED = (HERE / "browser", HERE / "pdf")


def pytest_ignore_collect(collection_path, config):
    path = Path(collection_path).resolve()
    for folder in ONLY_WHEN_NAMED:
        if path == folder or folder in path.parents:
            targets = [Path(str(arg).split("::")[0]).resolve() for arg in config.args]
            return None if any(t == folder or folder in t.parents for t in targets) else True
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of the official MedMNIST files: ``$MEDTOOLS_DATA_DIR`` or the user cache folder."""
    return data.data_dir()


@pytest.fixture(scope="session")
def medmnist_file(data_dir: Path) -> Callable[..., Path]:
    """``medmnist_file(name, size=28)``: the verified official file, or skip the test if it is absent.

    A missing file is downloaded if downloads are allowed; if it cannot be had, the test is
    skipped (not failed) with the reason of :func:`medtools.data.fetch`, which names the file,
    its URL and MD5, and the folder.
    """

    def get(name: str, size: int = 28) -> Path:
        path = data_dir / data.info(name).file_name(size)
        if path.exists():
            return data.fetch(name, size, download=False)  # a wrong file fails here
        try:
            return data.fetch(name, size)
        except data.DataError as exc:
            pytest.skip(f"needs official MedMNIST data: {exc}")

    return get


@pytest.fixture(scope="session")
def tiny_pneumonia(medmnist_file: Callable[..., Path]) -> tuple[np.ndarray, np.ndarray]:
    """The first 64 PneumoniaMNIST training images: ``x`` uint8 ``(64, 28, 28)``, ``y`` int64 ``(64,)``."""
    medmnist_file("pneumoniamnist")
    train = data.load("pneumoniamnist", download=False).train
    return train.x[:64].copy(), train.y[:64].copy()


@pytest.fixture(scope="session")
def assert_rounding_close() -> Callable[..., None]:
    """``check(ours, theirs, scale, m, dtype)``: equal up to the rounding of sums of ``m`` products.

    A sum of ``m`` products computed in floating point with unit roundoff ``u`` is off by at
    most ``gamma_m * sum|a_i b_i|`` with ``gamma_m = m u / (1 - m u)`` (Higham, *Accuracy and
    Stability of Numerical Algorithms*, §3.1), whatever the summation order; two
    implementations that sum in different orders therefore agree within
    ``2 gamma_m sum|a_i b_i|``. ``scale`` is ``sum|a_i b_i|`` (the same operation applied to
    the absolute values), so the tolerance is relative to the size of the terms; a few ulps
    of the scale are added for the last rounding.
    """

    def check(ours: np.ndarray, theirs: np.ndarray, scale: np.ndarray, m: int, dtype: str) -> None:
        ours, theirs = np.asarray(ours), np.asarray(theirs)
        assert ours.shape == theirs.shape
        u = np.finfo(dtype).eps / 2
        gamma = m * u / (1 - m * u)
        tol = (2 * gamma + 4 * np.finfo(dtype).eps) * np.asarray(scale) + np.finfo(dtype).tiny
        err = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
        assert np.all(err <= tol), f"max error {err.max():.3g}, max tolerance {np.max(tol):.3g}"

    return check


@pytest.fixture(scope="session")
def synthetic_scores() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """``synthetic_scores(n=400, seed=0, shift=1.5)``: labels and probabilities of a fair classifier.

    Returns ``(y, p)``: ``y`` int ``(n,)`` with about 60 % label 1; ``p`` float64 ``(n,)`` the
    sigmoid of a normal logit shifted by ``±shift`` towards the true label (larger shift,
    better classifier).
    """

    def make(n: int = 400, seed: int = 0, shift: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        y = (rng.random(n) < 0.6).astype(int)
        logit = rng.normal(size=n) + shift * (2 * y - 1)
        return y, 1 / (1 + np.exp(-logit))

    return make
