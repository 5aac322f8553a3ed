"""Tests of medtools.privacy.membership: the membership AUC, per-example losses, the bounds (ε, δ)-DP sets on any attack."""

from __future__ import annotations

import numpy as np
import pytest

from medtools import privacy

tf = pytest.importorskip("tensorflow")

from medtools import models  # noqa: E402  (imports Keras)


def test_membership_auc_is_mann_whitney() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    a, b = rng.exponential(0.5, 200), rng.exponential(1.0, 300)
    a[:10] = b[:10]  # ties
    ref = roc_auc_score(np.r_[np.ones(200), np.zeros(300)], -np.r_[a, b])
    assert privacy.membership_auc(a, b) == pytest.approx(ref, abs=1e-12)
    assert privacy.membership_auc(np.zeros(5), np.ones(5)) == 1.0
    assert privacy.membership_auc(np.ones(5), np.ones(5)) == 0.5
    with pytest.raises(ValueError, match="non-empty"):
        privacy.membership_auc(np.array([]), b)


def test_per_example_loss_is_keras_bce() -> None:
    import keras

    keras.utils.set_random_seed(0)
    m = models.small_cnn(filters=(4,), head="flatten", optimizer="adam")
    x = np.random.default_rng(1).random((6, 28, 28, 1), dtype=np.float32)
    y = np.array([0, 1, 0, 1, 1, 0])
    ours = privacy.per_example_loss(m, x, y)
    ref = keras.losses.binary_crossentropy(y[:, None].astype("float32"), m.predict(x, verbose=0)).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


def test_membership_tpr_bound_is_the_privacy_region() -> None:
    eps, delta = 1.0, 1e-3
    a = np.linspace(0, 1, 1001)
    tpr = privacy.dp_membership_tpr_bound(a, eps, delta)
    # Both inequalities of the region hold with equality somewhere and are never violated.
    miss = 1 - tpr
    assert np.all(a + np.exp(eps) * miss >= 1 - delta - 1e-12)
    assert np.all(np.exp(eps) * a + miss >= 1 - delta - 1e-12)
    assert tpr[0] == pytest.approx(delta) and tpr[-1] == 1.0
    # The kink where the two lines cross: alpha_1 = (1 - delta) / (e^eps + 1).
    a1 = (1 - delta) / (np.exp(eps) + 1)
    assert privacy.dp_membership_tpr_bound(a1, eps, delta) == pytest.approx(np.exp(eps) * a1 + delta)
    # eps = 0, delta = 0: no test beats chance; eps = inf: no bound.
    np.testing.assert_allclose(privacy.dp_membership_tpr_bound(a, 0.0, 0.0), a, atol=1e-12)
    assert np.all(privacy.dp_membership_tpr_bound(a, np.inf, 0.0) == 1.0)
    with pytest.raises(ValueError, match="fpr"):
        privacy.dp_membership_tpr_bound([1.5], 1.0, 0.0)


@pytest.mark.parametrize(
    "eps,delta,expected",
    [(8.0, 1e-3, 0.9997), (4.0, 1e-5, 0.982), (1.0, 1e-5, 0.731), (0.0, 0.0, 0.5)],
)
def test_membership_auc_bound(eps: float, delta: float, expected: float) -> None:
    # The closed form against a numeric integration of the TPR bound (trapezoids on a fine grid) ...
    a = np.linspace(0, 1, 200_001)
    tpr = privacy.dp_membership_tpr_bound(a, eps, delta)
    numeric = float(np.sum((tpr[1:] + tpr[:-1]) / 2 * np.diff(a)))
    closed = privacy.dp_membership_auc_bound(eps, delta)
    assert closed == pytest.approx(numeric, abs=1e-8)
    # ... and against the review's table (parts-iv-vi-rigor.md, S1), to its printed digits.
    assert round(closed, len(str(expected).split(".")[1])) == expected


def test_membership_auc_bound_shape_and_limits() -> None:
    eps = np.array([0.0, 1.0, 10.0, 1000.0, np.inf])
    out = privacy.dp_membership_auc_bound(eps, 1e-5)
    assert out.shape == (5,) and np.all(np.diff(out) >= 0)  # larger ε, weaker guarantee
    assert out[-1] == 1.0 and out[-2] == pytest.approx(1.0)  # no overflow at large ε
    assert privacy.dp_membership_auc_bound(1.0, 0.0) == pytest.approx(np.e / (1 + np.e))
    with pytest.raises(ValueError, match="ε"):
        privacy.dp_membership_auc_bound(-1.0, 1e-5)
    with pytest.raises(ValueError, match="δ"):
        privacy.dp_membership_auc_bound(1.0, 2.0)
