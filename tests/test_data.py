"""Tests of medtools.data: the registry, verified fetch/cache, loading, pipelines.

Bad files are made in a temporary folder; the happy path (marker ``data``) uses the real
official files from $MEDTOOLS_DATA_DIR (or downloads them when online) and is skipped when
they cannot be had.
"""

from __future__ import annotations

import hashlib
import io
import re

import numpy as np
import pytest

import medtools.data as d
from medtools.data import _registry, _verify

PNEUMONIA_MD5 = "28209eda62fecd6e6a2d98b1501bb15f"


@pytest.fixture
def tmp_data_dir(tmp_path, monkeypatch):
    """An empty data folder; downloads go to a closed local port (never the internet)."""
    monkeypatch.setenv(d.DATA_DIR_ENV, str(tmp_path))
    monkeypatch.delenv(d.OFFLINE_ENV, raising=False)
    monkeypatch.setattr(_registry, "url_for", lambda name, size: f"http://127.0.0.1:9/{name}_{size}.npz")
    _verify._VERIFIED.clear()
    return tmp_path


def _npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _register(monkeypatch, name: str, md5: str) -> None:
    raw = dict(_registry.RAW)
    raw[name] = ("binary-class", 1, False, ["a", "b"], (2, 1, 1), "CC BY 4.0", {28: md5})
    monkeypatch.setattr(_registry, "RAW", raw)


# --- registry -----------------------------------------------------------------


def test_registry_covers_all_medmnist_sets_and_sizes():
    names = d.available()
    assert len(names) == 18
    for name in names:
        meta = d.info(name)
        assert meta.sizes == (d.SIZES_3D if meta.is_3d else d.SIZES_2D)
        for size in meta.sizes:
            assert re.fullmatch(r"[0-9a-f]{32}", meta.md5[size])
            assert meta.url(size).startswith("https://zenodo.org/records/10519652/files/")
        assert len(meta.labels) >= 2
    assert d.info("PneumoniaMNIST").md5[28] == PNEUMONIA_MD5
    assert d.info("pneumoniamnist").url(64).endswith("pneumoniamnist_64.npz?download=1")


def test_unknown_name_lists_what_exists():
    with pytest.raises(d.DataError) as err:
        d.load("pneumonia")
    msg = str(err.value)
    assert "Unknown dataset 'pneumonia'" in msg
    assert "pneumoniamnist" in msg and "vesselmnist3d" in msg


def test_unknown_size_lists_what_exists():
    with pytest.raises(d.DataError) as err:
        d.load("pneumoniamnist", size=32)
    assert "no size 32" in str(err.value)
    assert "28, 64, 128, 224" in str(err.value)
    with pytest.raises(d.DataError, match="sizes that exist: 28, 64"):
        d.fetch("adrenalmnist3d", size=128)


# --- missing, truncated, tampered, pickled ------------------------------------


def test_missing_file_offline_names_dataset_url_md5_and_folder(tmp_data_dir, monkeypatch):
    monkeypatch.setenv(d.OFFLINE_ENV, "1")
    with pytest.raises(d.DataError) as err:
        d.load("pneumoniamnist")
    msg = str(err.value)
    assert "pneumoniamnist" in msg
    assert "http://127.0.0.1:9/pneumoniamnist_28.npz" in msg  # the (patched) official URL
    assert PNEUMONIA_MD5 in msg
    assert str(tmp_data_dir) in msg
    assert "downloads are off" in msg


def test_missing_file_and_network_unreachable(tmp_data_dir):
    with pytest.raises(d.DataError) as err:
        d.fetch("breastmnist")
    msg = str(err.value)
    assert msg.startswith("Could not download breastmnist (size 28) from http://127.0.0.1:9/")
    assert "750601b1f35ba3300ea97c75c52ff8f6" in msg
    assert str(tmp_data_dir) in msg
    assert not (tmp_data_dir / "breastmnist.npz").exists()


@pytest.mark.data
def test_truncated_file_is_never_used(tmp_data_dir, shared_pneumonia):
    good = shared_pneumonia.read_bytes()
    (tmp_data_dir / "pneumoniamnist.npz").write_bytes(good[: len(good) // 2])
    with pytest.raises(d.DataError) as err:
        d.load("pneumoniamnist")
    msg = str(err.value)
    assert "is not the official pneumoniamnist (size 28) file" in msg
    assert f"expected {PNEUMONIA_MD5}" in msg
    assert "truncated" in msg and "It was not used" in msg and "Delete it" in msg


def test_tampered_file_is_never_used(tmp_data_dir):
    fake = _npz_bytes(train_images=np.zeros((2, 28, 28), np.uint8))
    (tmp_data_dir / "pneumoniamnist.npz").write_bytes(fake)
    with pytest.raises(d.DataError) as err:
        d.fetch("pneumoniamnist")
    msg = str(err.value)
    assert f"its MD5 is {hashlib.md5(fake).hexdigest()}" in msg
    assert f"expected {PNEUMONIA_MD5}" in msg


def test_file_modified_after_first_verification_is_caught(tmp_data_dir, monkeypatch):
    arrays = {f"{s}_{k}": np.zeros((1, 28, 28) if k == "images" else (1, 1), np.uint8)
              for s in d.SPLITS for k in ("images", "labels")}
    blob = _npz_bytes(**arrays)
    _register(monkeypatch, "tinymnist", hashlib.md5(blob).hexdigest())
    path = tmp_data_dir / "tinymnist.npz"
    path.write_bytes(blob)
    assert d.fetch("tinymnist") == path
    path.write_bytes(blob[:-10])  # tampered after a successful use
    with pytest.raises(d.DataError, match="is not the official tinymnist"):
        d.fetch("tinymnist")


def test_pickled_object_array_is_refused(tmp_data_dir, monkeypatch):
    obj = np.array([{"evil": 1}, None], dtype=object)
    blob = _npz_bytes(train_images=obj, train_labels=obj, val_images=obj, val_labels=obj,
                      test_images=obj, test_labels=obj)
    _register(monkeypatch, "picklemnist", hashlib.md5(blob).hexdigest())
    (tmp_data_dir / "picklemnist.npz").write_bytes(blob)
    with pytest.raises(d.DataError) as err:
        d.load("picklemnist")
    msg = str(err.value)
    assert "holds pickled object arrays" in msg
    assert "not loaded" in msg and "arbitrary code" in msg


def test_not_an_npz_archive(tmp_path):
    bad = tmp_path / "x.npz"
    bad.write_bytes(b"this is not a zip file")
    with pytest.raises(d.DataError, match="is not a readable .npz archive"):
        d.read_npz(bad)


def test_npz_missing_arrays(tmp_path):
    path = tmp_path / "x.npz"
    path.write_bytes(_npz_bytes(train_images=np.zeros((1, 2, 2), np.uint8)))
    with pytest.raises(d.DataError, match="lacks the MedMNIST arrays train_labels"):
        d.read_npz(path)


# --- happy path on the real files --------------------------------------------


@pytest.fixture(scope="session")
def shared_pneumonia(medmnist_file):
    """The real official pneumoniamnist.npz (from $MEDTOOLS_DATA_DIR or downloaded; else skip)."""
    return medmnist_file("pneumoniamnist")


@pytest.mark.data
def test_load_pneumoniamnist_official_splits(shared_pneumonia):
    splits = d.load("pneumoniamnist")
    assert (len(splits.train), len(splits.val), len(splits.test)) == (4708, 524, 624)
    assert splits.train.x.shape == (4708, 28, 28) and splits.train.x.dtype == np.uint8
    assert splits.test.y.shape == (624,) and splits.test.y.dtype == np.int64
    assert set(np.unique(splits.train.y)) == {0, 1}
    for s in d.SPLITS:
        assert len(splits[s]) == splits.info.n_samples[s]
    # label counts of the official release
    assert np.bincount(splits.train.y).tolist() == [1214, 3494]
    assert np.bincount(splits.test.y).tolist() == [234, 390]
    x, y = splits.val
    assert len(x) == len(y) == 524
    assert "train=(4708, 28, 28)" in repr(splits)


@pytest.mark.data
def test_make_dataset_scales_shuffles_only_training(shared_pneumonia):
    splits = d.load("pneumoniamnist")
    x, y = splits.val.x[:50], splits.val.y[:50]
    val = d.make_dataset(x, y, training=False, batch_size=16)
    xb, yb = next(iter(val))
    assert xb.shape == (16, 28, 28, 1) and xb.dtype.name == "float32"
    np.testing.assert_allclose(xb.numpy()[..., 0], x[:16] / 255.0, atol=1e-7)
    np.testing.assert_array_equal(yb.numpy(), y[:16])
    order = lambda ds: np.concatenate([b.numpy() for _, b in ds])  # noqa: E731
    tr1 = d.make_dataset(x, np.arange(50), training=True, batch_size=16, seed=3)
    tr2 = d.make_dataset(x, np.arange(50), training=True, batch_size=16, seed=3)
    first = order(tr1)
    assert sorted(first.tolist()) == list(range(50)) and first.tolist() != list(range(50))
    np.testing.assert_array_equal(first, order(tr2))  # same seed, same order


def test_augmentation_policies():
    import keras

    assert d.augmentation("none") is None
    xray = d.augmentation("xray")
    assert not any(isinstance(layer, keras.layers.RandomFlip) for layer in xray.layers)
    us = d.augmentation("ultrasound")
    assert any(isinstance(layer, keras.layers.RandomFlip) for layer in us.layers)
    with pytest.raises(ValueError, match="Unknown augmentation policy 'ct'"):
        d.augmentation("ct")
    images = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    out = np.asarray(xray(images, training=True))
    assert out.shape == images.shape
    np.testing.assert_allclose(np.asarray(xray(images, training=False)), images, atol=1e-6)


def test_article_policy_is_article_augmentation():
    # "article" is a policy name, so callers need not branch on it (data_scarcity, benchmark did):
    # the same layers with the same seeds as article_augmentation, hence the same draws.
    assert "article" in d.AUGMENTATION_POLICIES
    seed = 3
    by_name, direct = d.augmentation("article", seed), d.article_augmentation(seed)
    assert by_name.name == direct.name == "augment_article"
    def configs(model):  # without the automatic names Keras numbers per session (random_rotation_2, _3, ...)
        return [{k: v for k, v in layer.get_config().items() if k != "name"} for layer in model.layers]

    assert configs(by_name) == configs(direct)
    images = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(by_name(images, training=True)), np.asarray(direct(images, training=True)))


def test_to_float_shapes():
    assert d.to_float(np.zeros((2, 28, 28), np.uint8)).shape == (2, 28, 28, 1)
    assert d.to_float(np.zeros((2, 28, 28, 3), np.uint8)).shape == (2, 28, 28, 3)
    assert d.to_float(np.zeros((2, 28, 28, 28), np.uint8)).shape == (2, 28, 28, 28, 1)
    with pytest.raises(TypeError, match="Expected uint8"):
        d.to_float(np.zeros((2, 28, 28), np.float32))
