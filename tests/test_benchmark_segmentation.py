"""Tests of medtools.benchmark.segmentation (chapter segmentation): the input standardisation, the patch
sampler, the tiled prediction and its flips, the threshold choice, the loss, the summary, and a tiny
training run."""

from __future__ import annotations

import numpy as np
import pytest

from medtools.benchmark import segmentation as su


def _fundus(h: int = 60, w: int = 70, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.uint8)
    yy, xx = np.mgrid[:h, :w]
    disc = (yy - h / 2) ** 2 + (xx - w / 2) ** 2 < (min(h, w) / 2.2) ** 2
    img[disc] = rng.integers(60, 250, (int(disc.sum()), 3))
    return img


class _Channel0:
    """A stand-in model whose 'probability' is the input's first channel: tiling must reproduce it."""

    def predict(self, x: np.ndarray, batch_size: int = 32, verbose: int = 0) -> np.ndarray:
        return x[..., :1].copy()


def test_to_input_is_standardised_inside_the_fov_and_zero_outside() -> None:
    from medtools.data import chase

    img = _fundus()
    x = su.to_input(img)
    inside = chase.fov_mask(img)
    assert x.dtype == np.float32 and x.shape == img.shape
    np.testing.assert_allclose(x[inside].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(x[inside].std(0), 1, atol=1e-4)
    assert np.all(x[~inside] == 0)
    with pytest.raises(ValueError, match="RGB"):
        su.to_input(img[..., 0])


def test_sample_patches_is_seeded_and_keeps_image_and_mask_aligned() -> None:
    rng = np.random.default_rng(1)
    inputs = {n: rng.normal(size=(40, 50, 3)).astype(np.float32) for n in "ab"}
    masks = {n: inputs[n][..., 0] > 0.5 for n in "ab"}  # the mask is a function of the input...
    x, y = su.sample_patches(inputs, masks, ["a", "b"], 12, 16, seed=3)
    assert x.shape == (12, 16, 16, 3) and y.shape == (12, 16, 16, 1) and y.dtype == np.float32
    np.testing.assert_array_equal(y[..., 0] == 1, x[..., 0] > 0.5)  # ... so a misaligned rotation or flip shows
    x2, y2 = su.sample_patches(inputs, masks, ["a", "b"], 12, 16, seed=3)
    np.testing.assert_array_equal(x, x2)
    assert not np.array_equal(x, su.sample_patches(inputs, masks, ["a", "b"], 12, 16, seed=4)[0])
    with pytest.raises(ValueError, match="larger than the patch"):
        su.sample_patches(inputs, masks, ["a"], 2, 40, seed=0)


@pytest.mark.parametrize("flips", [(), ("lr",), ("lr", "ud")])
def test_predict_tiled_reproduces_a_pixelwise_model_with_any_flips(flips: tuple[str, ...]) -> None:
    x = np.random.default_rng(2).random((100, 130, 3)).astype(np.float32)
    p = su.predict_tiled(_Channel0(), x, tile=32, step=24, flips=flips)  # a flip not undone would scramble it
    assert p.shape == (100, 130) and p.dtype == np.float32
    np.testing.assert_allclose(p, x[..., 0], atol=1e-6)
    with pytest.raises(ValueError, match="flips must be among"):
        su.predict_tiled(_Channel0(), x, flips=("diagonal",))


def test_choose_threshold_picks_the_best_dice_on_the_grid() -> None:
    rng = np.random.default_rng(0)
    truth = {n: rng.random((30, 30)) < 0.2 for n in "ab"}
    prob = {n: np.where(truth[n], 0.56, 0.5) for n in "ab"}
    fov = {n: np.ones((30, 30), bool) for n in "ab"}
    t, dice = su.choose_threshold(prob, truth, fov)
    assert t == 0.55 and len(dice) == len(su.THRESHOLDS) and max(dice) == 1.0  # 0.50 would mark everything
    assert su.mean_dice(prob, truth, fov, 0.5) < 1


def test_bce_dice_is_per_patch_and_smaller_for_the_right_answer() -> None:
    y = np.zeros((2, 8, 8, 1), np.float32)
    y[:, 2:5] = 1
    good = np.clip(y, 0.05, 0.95)
    bad = 1 - good
    lg, lb = np.asarray(su.bce_dice(y, good)), np.asarray(su.bce_dice(y, bad))
    assert lg.shape == (2,) and np.all(lg < lb)


def test_summarise_gives_mean_and_sd_over_seeds() -> None:
    rows = [{"model": "unet", "seed": s, "train_seconds": 1.0, "val": {"dice": 0.8}, "test": {"dice": d}}
            for s, d in enumerate([0.76, 0.78, 0.77])]
    (out,) = su.summarise(rows)
    assert out["seeds"] == [0, 1, 2] and out["dataset"] == "chase_db1"
    assert out["test_dice"]["mean"] == pytest.approx(0.77) and out["test_dice"]["sd"] == pytest.approx(0.01)


@pytest.mark.slow
def test_a_tiny_training_run_lowers_the_loss(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MEDTOOLS_CACHE_DIR", str(tmp_path))
    recipe = su.Recipe(unet={"base": 4, "depth": 2}, patch=16, n_patches=64, epochs=3, batch=16, lr=5e-3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 16, 16, 3)).astype(np.float32)
    y = (x[..., :1] > 0.8).astype(np.float32)
    model, record = su.fit_unet(recipe, x, y, {"data": "synthetic"}, cache=True)
    assert record["history"]["loss"][-1] < record["history"]["loss"][0] and not record["cached"]
    _, again = su.fit_unet(recipe, x, y, {"data": "synthetic"}, cache=True)
    assert again["cached"]  # the cache key holds the arrays: same arrays, same entry ...
    _, other = su.fit_unet(recipe, x, 1 - y, {"data": "synthetic"}, cache=True)
    assert not other["cached"]  # ... other arrays, another entry
    with pytest.raises(ValueError, match="must hold"):
        su.fit_unet(recipe, x[:10], y[:10], {})
    with pytest.raises(ValueError, match="Unknown CHASE_DB1 model"):
        su.train_and_score("resnet", 0)


def test_summarise_pairs_flip_averaging_against_none_over_seeds_and_images() -> None:
    rng = np.random.default_rng(0)

    def row(seed: int) -> dict:
        base = rng.uniform(0.7, 0.8, 8)
        noise = rng.normal(0, 0.002, 8)
        by = {k: {"test_dice": 0.0, "test_dice_per_image": dict(enumerate(base + gain * (1 + 100 * noise)))}
              for k, gain in [("none", 0.0), ("lr", 0.005), ("lr+ud", 0.01)]}
        return {"model": "unet", "seed": seed, "train_seconds": 1.0, "val": {"dice": 0.8},
                "test": {"dice": 0.75, "flips": ["lr", "ud"]}, "by_flips": by}

    (out,) = su.summarise([row(s) for s in range(3)])
    d = out["flips_vs_none"]  # a gain of 0.01 +- 0.002 on every image: resolved (a sign error would not be)
    assert d["estimate"] == pytest.approx(0.01, abs=0.002) and d["resolved"] and d["low"] > 0
    assert d["sources"] == "seeds and cases"
    assert out["flips_chosen"] == [["lr", "ud"]] * 3 and set(out) >= {"test_dice_none", "test_dice_lr+ud"}


def test_predict_tiled_all_is_bitwise_predict_tiled_for_every_flip_setting() -> None:
    class Skewed(_Channel0):  # not flip-invariant, so a flip not undone changes the values
        def predict(self, x: np.ndarray, batch_size: int = 32, verbose: int = 0) -> np.ndarray:
            return np.sqrt(x[..., :1] * np.linspace(0.2, 1, x.shape[2])[None, None, :, None]).astype(np.float32)

    x = np.random.default_rng(5).random((70, 90, 3)).astype(np.float32)
    maps = su.predict_tiled_all(Skewed(), x, tile=32, step=24)
    assert list(maps) == ["none", "lr", "lr+ud"]
    for flips in su.FLIP_CHOICES:
        np.testing.assert_array_equal(maps[su.flip_name(flips)], su.predict_tiled(Skewed(), x, 32, 24, flips))
    assert not np.array_equal(maps["none"], maps["lr+ud"])
