"""Slice-encoder + GRU and 3-D CNN builders (medtools.models.sequence). Chapter: *Recurrent networks*."""

from __future__ import annotations

import numpy as np
import pytest

from medtools.models import cnn3d, pool_volumes, slice_gru

keras = pytest.importorskip("keras")


def test_pool_volumes_block_means():
    x = np.arange(2 * 4 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4, 4)
    y = pool_volumes(x, 2)
    assert y.shape == (2, 2, 2, 2) and y.dtype == np.uint8
    want = np.rint(x.astype(float).reshape(2, 2, 2, 2, 2, 2, 2).mean(axis=(2, 4, 6)))
    np.testing.assert_array_equal(y, want)
    assert pool_volumes(x, 1) is x


@pytest.mark.parametrize(
    ("x", "factor", "exc"),
    [
        (np.zeros((1, 4, 4, 4), np.float32), 2, TypeError),
        (np.zeros((4, 4, 4), np.uint8), 2, ValueError),
        (np.zeros((1, 4, 4, 5), np.uint8), 2, ValueError),
        (np.zeros((1, 4, 4, 4), np.uint8), 0, ValueError),
    ],
)
def test_pool_volumes_rejects_bad_input(x, factor, exc):
    with pytest.raises(exc):
        pool_volumes(x, factor)


@pytest.mark.parametrize("builder", [slice_gru, cnn3d])
def test_builders_output_probabilities(builder):
    model = builder((14, 14, 14, 1))
    x = np.random.default_rng(0).random((3, 14, 14, 14, 1)).astype(np.float32)
    p = np.asarray(model(x))
    assert p.shape == (3, 1)
    assert np.all((p > 0) & (p < 1))
    assert model.optimizer is not None and model.loss == "binary_crossentropy"


def test_parameter_counts_are_similar():
    """The chapter compares the two at a similar size: within 2x of each other."""
    n_gru = slice_gru((14, 14, 14, 1)).count_params()
    n_cnn = cnn3d((14, 14, 14, 1)).count_params()
    # slice encoder 4*9+4 + 16*4*9+16, GRU(16) on 16 features 3*(16*16 + 16*16 + 2*16), head 17
    assert n_gru == 40 + 592 + 3 * (16 * 16 + 16 * 16 + 2 * 16) + 17
    # Conv3D 4*27+4, Conv3D 16*4*27+16, head 17
    assert n_cnn == 112 + 16 * 4 * 27 + 16 + 17
    assert 0.5 < n_gru / n_cnn < 2


def test_slice_gru_reads_slices_in_order():
    """The GRU sees slices as a sequence: reversing the slice order changes the output."""
    model = slice_gru((14, 14, 14, 1), compile=False)
    x = np.random.default_rng(1).random((2, 14, 14, 14, 1)).astype(np.float32)
    p = np.asarray(model(x))
    p_rev = np.asarray(model(x[:, ::-1]))
    assert not np.allclose(p, p_rev)


def test_prior_sets_output_bias():
    model = cnn3d((14, 14, 14, 1), prior=0.2, compile=False)
    bias = model.get_layer("prob").get_weights()[1]
    np.testing.assert_allclose(bias, [np.log(0.2 / 0.8)], rtol=1e-6)


def test_downsample_layer():
    model = slice_gru((28, 28, 28, 1), downsample=2, compile=False)
    assert model.get_layer("downsample").output.shape == (None, 14, 14, 14, 1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"input_shape": (14, 14, 14)}, "input_shape"),
        ({"filters": ()}, "filters"),
        ({"input_shape": (4, 4, 4, 1)}, "too small"),
        ({"prior": 1.5}, "prior"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"downsample": 0}, "downsample"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
@pytest.mark.parametrize("builder", [slice_gru, cnn3d])
def test_builders_reject_bad_arguments(builder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        builder(**kwargs)
