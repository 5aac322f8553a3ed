"""medtools.data.chase: checksums, split, FOV masks, errors (data tests skip without the files)."""

from __future__ import annotations

import numpy as np
import pytest

from medtools.data import chase


def test_checksum_list_is_the_84_official_files():
    assert len(chase.SHA256) == 84
    names = chase.image_names()
    assert len(names) == 28 and names[:2] == ["Image_01L", "Image_01R"]
    expected = {f"{n}{s}" for n in names for s in (".jpg", "_1stHO.png", "_2ndHO.png")}
    assert set(chase.SHA256) == expected
    assert all(len(h) == 64 for h in chase.SHA256.values())


def test_protocol_and_split_by_child():
    assert chase.TRAIN_CHILDREN == tuple(range(1, 11)) and chase.TEST_CHILDREN == (11, 12, 13, 14)
    tr, va = chase.split_children(n_val=2, seed=0)
    assert len(va) == 2 and set(tr).isdisjoint(va) and set(tr) | set(va) == set(chase.TRAIN_CHILDREN)
    assert chase.split_children(seed=0) == (tr, va)
    with pytest.raises(ValueError):
        chase.split_children(n_val=10)
    with pytest.raises(ValueError):
        chase.image_names([15])


def test_env_overrides_the_default_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(chase.CHASE_DIR_ENV, raising=False)
    monkeypatch.setenv("MEDTOOLS_DATA_DIR", str(tmp_path / "medmnist"))
    assert chase.chase_dir() == tmp_path / "chase_db1"
    (tmp_path / "x" / "CHASEDB1").mkdir(parents=True)
    monkeypatch.setenv(chase.CHASE_DIR_ENV, str(tmp_path / "x"))
    assert chase.chase_dir() == tmp_path / "x" / "CHASEDB1"


def test_missing_files_name_the_official_page(tmp_path):
    with pytest.raises(chase.ChaseError, match="researchinnovation.kingston.ac.uk"):
        chase.verify_chase(tmp_path)


def test_altered_file_is_reported(tmp_path):
    for name in chase.SHA256:
        (tmp_path / name).write_bytes(b"not the file")
    with pytest.raises(chase.ChaseError, match="SHA-256"):
        chase.verify_chase(tmp_path, ["Image_01L"])


def test_chase_errors_are_data_errors(tmp_path):
    # One error family: `except data.DataError` catches a missing or altered file of any dataset.
    from medtools import data

    with pytest.raises(data.DataError, match="CHASE_DB1"):
        chase.verify_chase(tmp_path)


def test_a_file_changed_after_verification_is_caught(tmp_path):
    # The verified-file memo (shared with MedMNIST) must not vouch for a file rewritten since.
    name = "Image_01L.jpg"
    good = b"pretend this is the image"
    sums = {f: chase.SHA256[f] for f in chase.SHA256}
    import hashlib

    for f in sums:
        (tmp_path / f).write_bytes(good)
    patched = {f: hashlib.sha256(good).hexdigest() for f in sums}
    old = dict(chase.SHA256)
    chase.SHA256.update(patched)
    try:
        assert chase.verify_chase(tmp_path, ["Image_01L"]) == tmp_path
        (tmp_path / name).write_bytes(good + b"!")  # a different size: the memo cannot match
        with pytest.raises(chase.ChaseError, match="SHA-256"):
            chase.verify_chase(tmp_path, ["Image_01L"])
    finally:
        chase.SHA256.clear()
        chase.SHA256.update(old)


def test_fov_mask_of_a_synthetic_disc():
    yy, xx = np.mgrid[0:120, 0:130]
    disc = (yy - 60) ** 2 + (xx - 65) ** 2 < 50**2
    image = np.zeros((120, 130, 3), np.uint8)
    image[disc] = (150, 80, 40)
    image[5, 5] = (200, 0, 0)  # a speck outside
    fov = chase.fov_mask(image)
    assert not fov[5, 5] and fov[60, 65]
    assert abs(int(fov.sum()) - int(disc.sum())) < 0.05 * disc.sum()
    with pytest.raises(ValueError):
        chase.fov_mask(image[..., 0])


@pytest.fixture(scope="module")
def chase_folder():
    try:
        return chase.verify_chase()
    except chase.ChaseError as exc:
        pytest.skip(f"CHASE_DB1 not available: {exc}")


@pytest.mark.data
def test_load_real_files(chase_folder):
    images = chase.load_chase([11])
    assert [im.name for im in images] == ["Image_11L", "Image_11R"]
    im = images[0]
    assert im.image.shape == (960, 999, 3) and im.first.shape == (960, 999) and im.first.dtype == bool
    small = chase.load_chase([11], scale=2)[0]
    assert small.image.shape == (480, 500, 3)
    assert abs(small.first.mean() - im.first.mean()) < 0.02
    fov = chase.fov_mask(im.image)
    assert 0.5 < fov.mean() < 0.8
