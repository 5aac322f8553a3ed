"""Tests of medtools.scarcity: subsets, class weights, label noise, mixup, NT-Xent, probes, training loops."""

from __future__ import annotations

import numpy as np
import pytest

from medtools import scarcity


def _labels(n0: int = 30, n1: int = 70, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).permutation(np.r_[np.zeros(n0, int), np.ones(n1, int)])


# --- stratified_subset ------------------------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.01, 0.1, 0.5, 1.0])
def test_stratified_subset_counts_and_proportions(fraction):
    y = _labels(300, 700)
    idx = scarcity.stratified_subset(y, fraction, seed=3)
    assert idx.dtype == np.int64 and np.all(np.diff(idx) > 0)  # sorted, no repeats
    counts = np.bincount(y[idx], minlength=2)
    assert counts.tolist() == [max(1, round(fraction * 300)), max(1, round(fraction * 700))]


def test_stratified_subset_keeps_every_class_and_is_seeded():
    y = _labels(3, 97)
    idx = scarcity.stratified_subset(y, 0.01, seed=0)
    assert set(y[idx].tolist()) == {0, 1}
    assert np.array_equal(idx, scarcity.stratified_subset(y, 0.01, seed=0))
    assert not np.array_equal(
        scarcity.stratified_subset(y, 0.3, seed=0), scarcity.stratified_subset(y, 0.3, seed=1)
    )


def test_stratified_subset_accepts_a_column():
    y = _labels()
    assert np.array_equal(
        scarcity.stratified_subset(y[:, None], 0.2, 1), scarcity.stratified_subset(y, 0.2, 1)
    )


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5])
def test_stratified_subset_rejects_bad_fraction(fraction):
    with pytest.raises(ValueError, match="fraction must be in"):
        scarcity.stratified_subset(_labels(), fraction)


def test_stratified_subset_rejects_bad_labels():
    with pytest.raises(ValueError, match="vector of labels"):
        scarcity.stratified_subset(np.zeros((4, 3)), 0.5)
    with pytest.raises(ValueError, match="integer class labels"):
        scarcity.stratified_subset(np.array([0.5, 1.0]), 0.5)


# --- flip_labels -------------------------------------------------------------------------------


def test_flip_labels_flips_exactly_the_rate():
    y = _labels(40, 60)
    noisy, flipped = scarcity.flip_labels(y, 0.25, seed=5)
    assert flipped.sum() == 25 and flipped.dtype == bool
    assert np.array_equal(noisy[flipped], 1 - y[flipped]) and np.array_equal(noisy[~flipped], y[~flipped])
    same, none = scarcity.flip_labels(y, 0.0)
    assert np.array_equal(same, y) and not none.any()


def test_flip_labels_rejects_bad_input():
    with pytest.raises(ValueError, match="rate must be in"):
        scarcity.flip_labels(_labels(), 0.5)
    with pytest.raises(ValueError, match="binary labels"):
        scarcity.flip_labels(np.array([0, 1, 2]), 0.1)


# --- mixup_batch -------------------------------------------------------------------------------


def test_mixup_batch_matches_a_loop():
    rng = np.random.default_rng(0)
    x = rng.random((5, 4, 4, 1)).astype(np.float32)
    y = rng.integers(0, 2, 5).astype(np.float32)
    lam = rng.random(5).astype(np.float32)
    perm = rng.permutation(5)
    xm, ym = (np.asarray(v) for v in scarcity.mixup_batch(x, y, lam, perm))
    for i in range(5):
        assert np.allclose(xm[i], lam[i] * x[i] + (1 - lam[i]) * x[perm[i]], atol=1e-6)
        assert np.isclose(ym[i], lam[i] * y[i] + (1 - lam[i]) * y[perm[i]], atol=1e-6)
    xs, ys = (np.asarray(v) for v in scarcity.mixup_batch(x, y, 1.0, perm))  # scalar lambda = 1: unchanged
    assert np.allclose(xs, x) and np.allclose(ys, y)


# --- nt_xent_loss ------------------------------------------------------------------------------


def _nt_xent_loop(z1: np.ndarray, z2: np.ndarray, tau: float) -> float:
    z = np.concatenate([z1, z2]).astype(np.float64)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    n = len(z)
    out = []
    for i in range(n):
        denom = sum(np.exp(z[i] @ z[j] / tau) for j in range(n) if j != i)
        out.append(-np.log(np.exp(z[i] @ z[(i + n // 2) % n] / tau) / denom))
    return float(np.mean(out))


@pytest.mark.parametrize("tau", [0.1, 0.5, 1.0])
def test_nt_xent_matches_a_loop(tau):
    rng = np.random.default_rng(1)
    z1, z2 = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)
    assert float(scarcity.nt_xent_loss(z1, z2, tau)) == pytest.approx(_nt_xent_loop(z1, z2, tau), rel=1e-4)


def test_nt_xent_is_low_for_matching_views():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(8, 16)).astype(np.float32)
    other = rng.normal(size=(8, 16)).astype(np.float32)
    assert float(scarcity.nt_xent_loss(z, z, 0.1)) < float(scarcity.nt_xent_loss(z, other, 0.1))


def test_nt_xent_rejects_bad_input():
    z = np.ones((4, 3), np.float32)
    with pytest.raises(ValueError, match="temperature must be positive"):
        scarcity.nt_xent_loss(z, z, 0.0)
    with pytest.raises(ValueError, match="same shape"):
        scarcity.nt_xent_loss(z, np.ones((3, 3), np.float32))


# --- linear probe ------------------------------------------------------------------------------


def test_linear_probe_separates_separable_features_and_matches_sklearn():
    rng = np.random.default_rng(0)
    y = _labels(50, 50)
    f = rng.normal(size=(100, 6)) + 1.5 * y[:, None]
    probe = scarcity.fit_linear_probe(f, y, l2=1e-2)
    p = scarcity.probe_scores(probe, f)
    assert p.shape == (100,) and p.dtype == np.float32
    assert np.mean((p > 0.5) == y) > 0.9
    linear_model = pytest.importorskip("sklearn.linear_model")
    z = (f - probe["mean"]) / probe["sd"]
    sk = linear_model.LogisticRegression(C=1 / (100 * 1e-2), tol=1e-10, max_iter=10000).fit(z, y)
    assert np.allclose(probe["w"], sk.coef_[0], atol=1e-3)


def test_linear_probe_rejects_bad_input():
    f = np.zeros((4, 2))
    with pytest.raises(ValueError, match="both classes"):
        scarcity.fit_linear_probe(f, np.zeros(4, int))
    with pytest.raises(ValueError, match="features must be"):
        scarcity.fit_linear_probe(np.zeros((3, 2)), np.array([0, 1, 0, 1]))
    probe = scarcity.fit_linear_probe(np.random.default_rng(0).normal(size=(4, 2)), np.array([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="features must be"):
        scarcity.probe_scores(probe, np.zeros((2, 3)))


# --- Keras parts -------------------------------------------------------------------------------


def _tiny_model():
    from medtools import models

    return models.compact_cnn((28, 28, 1), widths=(4, 8), convs_per_stage=(1, 1), dropout=0.0)


def test_train_steps_rejects_bad_input():
    x, y = np.zeros((4, 28, 28), np.uint8), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="must be positive"):
        scarcity.train_steps(None, x, y, steps=0)
    with pytest.raises(ValueError, match="4 images but y has 3"):
        scarcity.train_steps(None, x, y[:3], steps=1)
    with pytest.raises(ValueError, match="mixup_alpha"):
        scarcity.train_steps(None, x, y, steps=1, mixup_alpha=-1.0)


def test_training_batches_apply_augmentation_and_mixup_to_the_same_images():
    from medtools import data

    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (32, 28, 28), dtype=np.uint8)
    y = np.r_[np.zeros(16, int), np.ones(16, int)]
    plain = next(iter(scarcity.training_batches(x, y, batch_size=8, seed=3)))
    again = next(iter(scarcity.training_batches(x, y, batch_size=8, seed=3)))
    aug = next(iter(scarcity.training_batches(x, y, batch_size=8, seed=3, augment=data.augmentation("xray", 0))))
    mix = next(iter(scarcity.training_batches(x, y, batch_size=8, seed=3, mixup_alpha=0.4)))
    xp, yp = (np.asarray(v) for v in plain)
    assert xp.shape == (8, 28, 28, 1) and xp.dtype == np.float32 and set(np.unique(yp)) <= {0.0, 1.0}
    assert np.array_equal(xp, np.asarray(again[0]))  # seeded: the same images in the same order
    assert np.array_equal(yp, np.asarray(aug[1])) and np.abs(np.asarray(aug[0]) - xp).mean() > 0.01  # pixels moved
    ym = np.asarray(mix[1])
    assert np.any((ym > 0) & (ym < 1))  # soft targets: mixup was applied
    with pytest.raises(ValueError, match="mixup_alpha"):
        scarcity.training_batches(x, y, mixup_alpha=-1.0)
    with pytest.raises(ValueError, match="batch_size must be positive"):
        scarcity.training_batches(x, y, batch_size=0)


def test_encoder_features_names_missing_layer():
    with pytest.raises(ValueError, match="no layer 'nope'"):
        scarcity.encoder_features(_tiny_model(), np.zeros((2, 28, 28), np.uint8), layer="nope")


@pytest.mark.slow
def test_train_steps_and_pretraining_run_on_tiny_data():
    from medtools import train

    train.set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (32, 28, 28), dtype=np.uint8)
    y = np.r_[np.zeros(16, int), np.ones(16, int)]
    model = _tiny_model()
    hist = scarcity.train_steps(
        model, x, y, steps=10, batch_size=8, mixup_alpha=0.4, class_weight={0: 1.0, 1: 1.0}
    )
    assert len(hist["loss"]) == 10 and all(np.isfinite(hist["loss"]))
    before = [w.copy() for w in model.get_weights()]
    out = scarcity.pretrain_simclr(model, x, steps=4, batch_size=8)
    assert len(out["loss"]) == 4 and all(np.isfinite(out["loss"]))
    after = model.get_weights()
    assert not np.allclose(before[0], after[0])  # the first convolution was trained
    assert np.allclose(before[-1], after[-1])  # the classifier head was not
    feats = scarcity.encoder_features(model, x)
    assert feats.shape == (32, 8) and feats.dtype == np.float32
