"""Tests of medtools.models.transformer: the Vision Transformer (chapter *Self-attention*).

Shapes, parameter counts (by formula), the patch-embedding equivalence (a strided Conv2D =
cut into patches + one matrix product), the CLS/position encoder, the attention sub-model
against the NumPy multi-head attention, a training step, a weights round trip (what
``medtools.train.fit_cached`` relies on) and the error messages.
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from medtools import models  # noqa: E402
from medtools import reference as ref  # noqa: E402


def _vit_params(h, w, c, p, dim, depth, mlp, cls=True):
    n = (h // p) * (w // p)
    patch = p * p * c * dim + dim
    pos = (n + cls) * dim + cls * dim
    mha = 4 * (dim * dim + dim)  # q, k, v, output projections with key_dim * heads = dim
    block = 2 * 2 * dim + mha + (dim * mlp + mlp) + (mlp * dim + dim)
    return patch + pos + depth * block + 2 * dim + dim + 1


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")


@pytest.mark.parametrize("p, pooling", [(7, "cls"), (4, "cls"), (7, "gap")])
def test_vit_shapes_and_params(images, p, pooling):
    model = models.vit(patch_size=p, dim=16, depth=2, num_heads=2, mlp_dim=24, pooling=pooling)
    assert model.count_params() == _vit_params(28, 28, 1, p, 16, 2, 24, cls=pooling == "cls")
    out = np.asarray(model(images))
    assert out.shape == (3, 1) and np.all((out > 0) & (out < 1))


def test_default_sizes_are_comparable():
    """The chapter's ViT and its CNN baseline (medtools.models.small_cnn) have comparable sizes."""
    vit, cnn = models.vit(patch_size=7), models.small_cnn(filters=(16, 32, 48))
    assert vit.count_params() == 19_361 and cnn.count_params() == 18_721
    assert 1 / 1.5 < vit.count_params() / cnn.count_params() < 1.5


def test_multiclass_head(images):
    out = np.asarray(models.vit(patch_size=7, num_classes=3)(images))
    assert out.shape == (3, 3)
    np.testing.assert_allclose(out.sum(-1), 1, atol=1e-5)


def test_patch_embedding_is_a_matrix_product(images):
    """Conv2D(dim, p, strides=p) = cut into p×p patches, flatten, multiply by the reshaped kernel."""
    p, dim = 7, 8
    model = models.vit(patch_size=p, dim=dim, num_heads=2, mlp_dim=8)
    conv = model.get_layer("patch_embed")
    kernel, bias = conv.get_weights()  # (p, p, 1, dim), (dim,)
    patches = ref.patchify(images, p)  # (3, 16, 49)
    assert patches.shape == (3, 16, p * p)
    np.testing.assert_array_equal(patches[:, 1].reshape(3, p, p), images[:, :p, p : 2 * p, 0])  # 2nd patch: top row
    manual = patches @ kernel.reshape(p * p, dim) + bias
    np.testing.assert_allclose(manual, np.asarray(conv(images)).reshape(3, 16, dim), atol=1e-5)


def test_patch_encoder():
    x = np.random.default_rng(1).normal(size=(2, 5, 4)).astype("float32")
    enc = models.PatchEncoder(cls_token=True)
    y = np.asarray(enc(x))
    cls, pos = (np.asarray(v) for v in (enc.cls, enc.position))
    assert y.shape == (2, 6, 4) and pos.shape == (1, 6, 4)
    np.testing.assert_allclose(y[:, 0], np.broadcast_to(cls[0, 0] + pos[0, 0], (2, 4)), atol=1e-6)
    np.testing.assert_allclose(y[:, 1:], x + pos[:, 1:], atol=1e-6)
    enc2 = models.PatchEncoder(cls_token=False)
    assert np.asarray(enc2(x)).shape == (2, 5, 4)
    assert models.PatchEncoder.from_config(enc.get_config()).cls_token is True


def test_attention_inputs_and_numpy_attention(images):
    model = models.vit(patch_size=7, dim=16, depth=2, num_heads=4, mlp_dim=16)
    sub = models.vit_attention_inputs(model)
    xs = sub(images)
    assert len(xs) == 2 and all(tuple(x.shape) == (3, 17, 16) for x in xs)
    for i, x in enumerate(xs):
        layer = model.get_layer(f"block{i}_mha")
        x = np.asarray(x)
        out_k, w_k = layer(x, x, return_attention_scores=True)
        out, w = ref.multi_head_attention(x, x, None, *layer.get_weights())
        assert w.shape == (3, 4, 17, 17)
        np.testing.assert_allclose(out, np.asarray(out_k), atol=1e-5)
        np.testing.assert_allclose(w, np.asarray(w_k), atol=1e-5)
    with pytest.raises(ValueError, match="block<i>_ln1"):
        models.vit_attention_inputs(models.small_cnn())


@pytest.mark.slow
def test_training_step_and_weights_round_trip(images, tmp_path):
    y = np.array([0.0, 1.0, 1.0], dtype="float32")
    model = models.vit(patch_size=7, dim=8, depth=1, num_heads=2, mlp_dim=8)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    before = np.asarray(model.get_layer("patch_encoder").position).copy()
    model.train_on_batch(images, y)
    after = np.asarray(model.get_layer("patch_encoder").position)
    assert not np.allclose(before, after)  # the position embedding is trained
    path = tmp_path / "vit.weights.h5"
    model.save_weights(path)
    clone = models.vit(patch_size=7, dim=8, depth=1, num_heads=2, mlp_dim=8)
    clone.load_weights(path)
    np.testing.assert_allclose(np.asarray(clone(images)), np.asarray(model(images)), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"patch_size": 5}, "multiple of patch_size"),
        ({"dim": 30, "num_heads": 4}, "divisible by num_heads"),
        ({"pooling": "max"}, "pooling"),
        ({"num_classes": 1}, "num_classes"),
    ],
)
def test_vit_errors(kwargs, words):
    with pytest.raises(ValueError, match=words):
        models.vit(**kwargs)
