"""medtools.explain: Grad-CAM on Sequential, functional and nested models, occlusion, IG, checks."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from medtools import explain  # noqa: E402


def _stem(name: str = "conv") -> list:
    return [layers.Conv2D(4, 3, padding="same", activation="relu", name=name), layers.MaxPooling2D(2)]


def sequential() -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [keras.Input((12, 12, 1)), *_stem(), layers.GlobalAveragePooling2D(), layers.Dense(1, activation="sigmoid")],
        name="seq",
    )


def functional() -> keras.Model:
    keras.utils.set_random_seed(0)
    inp = keras.Input((12, 12, 1))
    h = inp
    for layer in _stem():
        h = layer(h)
    out = layers.Dense(1, activation="sigmoid")(layers.GlobalAveragePooling2D()(h))
    return keras.Model(inp, out, name="func")


def nested() -> keras.Model:
    """A functional model whose convolution sits inside a nested Sequential backbone."""
    keras.utils.set_random_seed(0)
    backbone = keras.Sequential([keras.Input((12, 12, 1)), *_stem("inner_conv")], name="backbone")
    inp = keras.Input((12, 12, 1))
    out = layers.Dense(1, activation="sigmoid")(layers.GlobalAveragePooling2D()(backbone(inp)))
    return keras.Model(inp, out, name="outer")


def images(n: int = 3) -> np.ndarray:
    return np.random.default_rng(0).random((n, 12, 12, 1), dtype=np.float32)


def reference_cam(model: keras.Model, conv_name: str, x: np.ndarray) -> np.ndarray:
    """Grad-CAM by finite differences on the conv output: an independent check of the hook."""
    import tensorflow as tf

    conv = explain.find_layer(model, conv_name)
    idx = [i for i, layer in enumerate(model.layers if conv in model.layers else model.layers[1].layers) if layer is conv][0]
    # split the Sequential stack at the conv: head(conv_out) = model output
    if conv in model.layers:
        front, back = model.layers[: idx + 1], model.layers[idx + 1 :]
    else:
        inner = model.layers[1].layers
        front, back = inner[: idx + 1], inner[idx + 1 :] + model.layers[2:]
    a = tf.constant(x)
    for layer in front:
        a = layer(a)
    a = tf.convert_to_tensor(a)
    with tf.GradientTape() as tape:
        tape.watch(a)
        h = a
        for layer in back:
            h = layer(h)
        score = h[:, 0]
    g = tape.gradient(score, a)
    cam = tf.nn.relu(tf.reduce_sum(tf.reduce_mean(g, axis=(1, 2), keepdims=True) * a, axis=-1, keepdims=True))
    return tf.image.resize(cam, x.shape[1:3])[..., 0].numpy()


@pytest.mark.parametrize(("build", "conv"), [(sequential, "conv"), (functional, "conv"), (nested, "inner_conv")])
def test_grad_cam_works_for_sequential_functional_and_nested(build, conv):
    model, x = build(), images()
    assert explain.conv_layers(model)[-1].endswith(conv)
    cam = explain.grad_cam(model, x, target="output", normalise=False)
    assert cam.shape == (3, 12, 12) and cam.dtype == np.float32 and (cam >= 0).all()
    if build is not functional:  # functional layers are not a plain stack to split by hand
        np.testing.assert_allclose(cam, reference_cam(model, conv, x), rtol=1e-4, atol=1e-6)
    norm = explain.grad_cam(model, x)
    assert norm.max() <= 1 + 1e-6
    # the hook is removed afterwards: the layer's call is the class's again
    assert "call" not in vars(explain.find_layer(model, conv))


def test_grad_cam_same_model_three_ways():
    x = images()
    maps = [explain.grad_cam(b(), x, normalise=False) for b in (sequential, functional, nested)]
    np.testing.assert_allclose(maps[0], maps[1], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(maps[0], maps[2], rtol=1e-5, atol=1e-7)


def bn_network(nest: bool = False) -> keras.Model:
    """Conv (no bias) -> BatchNorm -> ReLU -> GAP -> Dense, as in the book's compact CNN.

    The weights are set so that the convolution's output is positive while the batch norm
    flips its sign (gamma = -1, beta = 10, above the largest convolution output, 9): the score rises with the ReLU's
    activations and falls with the convolution's, so Grad-CAM at the convolution is empty (all zero).
    """
    keras.utils.set_random_seed(0)
    unit = [
        layers.Conv2D(4, 3, padding="same", use_bias=False, kernel_initializer="ones", name="conv"),
        layers.BatchNormalization(gamma_initializer=keras.initializers.Constant(-1.0),
                                  beta_initializer=keras.initializers.Constant(10.0), name="bn"),
        layers.ReLU(name="relu"),
    ]
    inp = keras.Input((12, 12, 1))
    if nest:
        h = keras.Sequential([keras.Input((12, 12, 1)), *unit], name="backbone")(inp)
    else:
        h = inp
        for layer in unit:
            h = layer(h)
    head = layers.Dense(1, activation="sigmoid", kernel_initializer="ones", name="prob")
    return keras.Model(inp, head(layers.GlobalAveragePooling2D()(h)), name="bn_net")


@pytest.mark.parametrize("nest", [False, True])
def test_default_layer_is_the_activation_after_batch_norm(nest):
    model, x = bn_network(nest), images()
    prefix = "backbone/" if nest else ""
    # the ReLU after the last convolution: a default of the last Conv2D (the old one) fails here
    assert explain.default_layer(model) == f"{prefix}relu"
    assert explain.find_layer(model) is explain.find_layer(model, "relu")
    # ... because the convolution's map is empty in this BN network, and the ReLU's is not
    assert np.all(explain.grad_cam(model, x, layer_name="conv", normalise=False) == 0)
    cam = explain.grad_cam(model, x, normalise=False)
    assert (cam > 0).all()
    np.testing.assert_allclose(cam, explain.grad_cam(model, x, layer_name="relu", normalise=False), rtol=1e-6)


def test_default_layer_skips_pooling_and_keeps_a_fused_activation():
    # Conv2D(activation="relu") -> MaxPooling2D -> GAP: the convolution itself, at its own
    # resolution; a default that took the last 4-D output would pick the pooled map
    assert explain.default_layer(sequential()) == "conv"
    assert explain.default_layer(nested()) == "backbone/inner_conv"


def test_nested_path_and_signed_map():
    model, x = nested(), images()
    assert explain.find_layer(model, "backbone/inner_conv") is explain.find_layer(model, "inner_conv")
    signed = explain.grad_cam(model, x, relu=False, normalise=False)
    np.testing.assert_allclose(np.clip(signed, 0, None), explain.grad_cam(model, x, normalise=False), atol=1e-6)


def test_logit_target_survives_a_saturated_sigmoid():
    model, x = sequential(), images()
    dense = model.layers[-1]
    dense.bias.assign([60.0])  # p == 1.0 exactly in float32: the probability has no gradient
    assert np.all(model(x).numpy() == 1.0)
    assert np.all(explain.grad_cam(model, x, target="output", normalise=False) == 0)
    assert explain.grad_cam(model, x, target="logit").max() == pytest.approx(1.0)
    assert dense.activation.__name__ == "sigmoid"  # restored
    ig = explain.integrated_gradients(model, x, target="logit", steps=64, baseline=0.5)

    def logit(z):
        features = np.asarray(model.layers[-2](model.layers[1](model.layers[0](z))))
        return (model.layers[-1].kernel.numpy().ravel() @ features.T)

    np.testing.assert_allclose(ig.sum(axis=(1, 2, 3)), logit(x) - logit(np.full_like(x, 0.5)), rtol=1e-2)
    linear = keras.Sequential([keras.Input((12, 12, 1)), *_stem(), layers.GlobalAveragePooling2D(), layers.Dense(1)])
    with pytest.raises(ValueError, match="sigmoid or softmax"):
        explain.grad_cam(linear, x)
    with pytest.raises(ValueError, match="target"):
        explain.occlusion(model, x, target="probability")


def test_batched_explainers_match_one_image_at_a_time():
    model, x = nested(), images(5)
    ig_all = explain.integrated_gradients(model, x, steps=8, batch_size=20)  # 2 images per batch
    ig_one = np.concatenate([explain.integrated_gradients(model, x[i : i + 1], steps=8) for i in range(5)])
    np.testing.assert_allclose(ig_all, ig_one, rtol=1e-4, atol=1e-7)
    occ_all = explain.occlusion(model, x, patch=3, stride=3, batch_size=40)
    occ_one = np.concatenate([explain.occlusion(model, x[i : i + 1], patch=3, stride=3) for i in range(5)])
    np.testing.assert_allclose(occ_all, occ_one, rtol=1e-4, atol=1e-7)


def test_clear_errors():
    dense_only = keras.Sequential([keras.Input((12, 12, 1)), layers.Flatten(), layers.Dense(1)], name="mlp")
    with pytest.raises(ValueError, match="no 2-D convolutional layer"):
        explain.grad_cam(dense_only, images())
    with pytest.raises(ValueError, match="no layer named 'nope'.*conv"):
        explain.grad_cam(sequential(), images(), layer_name="nope")
    with pytest.raises(ValueError, match=r"expects \(12, 12, 1\)"):
        explain.grad_cam(sequential(), np.zeros((2, 28, 28, 1), np.float32))
    with pytest.raises(ValueError, match=r"x\[None\]"):
        explain.grad_cam(sequential(), np.zeros((12, 12, 1), np.float32))
    with pytest.raises(ValueError, match="expects"):
        explain.integrated_gradients(sequential(), np.zeros((1, 12, 12, 3), np.float32))
    with pytest.raises(ValueError, match="output_index"):
        explain.grad_cam(sequential(), images(), output_index=1)
    with pytest.raises(ValueError, match="patch"):
        explain.occlusion(sequential(), images(), patch=20)
    model = sequential()
    with pytest.raises(ValueError, match="feature map"):
        explain.grad_cam(model, images(), layer_name=model.layers[-1].name)


def test_integrated_gradients_completeness_and_linear_case():
    model, x = nested(), images(2)
    ig = explain.integrated_gradients(model, x, steps=128)
    diff = model(x).numpy()[:, 0] - model(np.zeros_like(x)).numpy()[:, 0]
    np.testing.assert_allclose(ig.sum(axis=(1, 2, 3)), diff, rtol=1e-2)  # ReLU kinks: measured 0.4 % at 128 steps
    # a linear model: IG is exactly (x - x') * w, whatever the number of steps
    keras.utils.set_random_seed(1)
    lin = keras.Sequential([keras.Input((12, 12, 1)), layers.Flatten(), layers.Dense(1, use_bias=True)])
    w = lin.layers[-1].kernel.numpy().reshape(12, 12, 1)
    ig1 = explain.integrated_gradients(lin, x, steps=1, baseline=0.25)
    np.testing.assert_allclose(ig1, (x - 0.25) * w, rtol=1e-5, atol=1e-6)


def test_occlusion_finds_the_one_pixel_that_matters():
    # linear model reading one pixel: only patches covering it change the score
    lin = keras.Sequential([keras.Input((12, 12, 1)), layers.Flatten(), layers.Dense(1, use_bias=False)])
    kernel = np.zeros((144, 1), np.float32)
    kernel[5 * 12 + 7] = 1.0
    lin.layers[-1].kernel.assign(kernel)
    x = np.full((1, 12, 12, 1), 0.5, np.float32)
    x[0, 5, 7, 0] = 1.0
    occ = explain.occlusion(lin, x, patch=2, stride=1, fill=0.0)
    assert occ.shape == (1, 12, 12)
    assert np.unravel_index(np.argmax(occ[0]), occ[0].shape) in {(r, c) for r in (4, 5, 6) for c in (6, 7, 8)}
    assert occ[0, 0, 0] == 0.0 and occ[0, 5, 7] == pytest.approx(1.0)


def test_rank_correlation_matches_scipy():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    a, b = rng.random((9, 9)), rng.random((9, 9))
    b[b > 0.8] = 0.8  # ties
    assert explain.rank_correlation(a, b) == pytest.approx(spearmanr(a.ravel(), b.ravel()).statistic, abs=1e-12)
    assert np.isnan(explain.rank_correlation(a, np.ones_like(a)))


def brute_ssim(a: np.ndarray, b: np.ndarray, win: int = 7, L: float = 1.0) -> float:
    """SSIM by an explicit loop over every window inside the image (Wang et al. 2004)."""
    c1, c2 = (0.01 * L) ** 2, (0.03 * L) ** 2
    vals = []
    for i in range(a.shape[0] - win + 1):
        for j in range(a.shape[1] - win + 1):
            p, q = a[i : i + win, j : j + win].ravel(), b[i : i + win, j : j + win].ravel()
            mp, mq = p.mean(), q.mean()
            vp, vq, cpq = p.var(ddof=1), q.var(ddof=1), np.cov(p, q, ddof=1)[0, 1]
            vals.append(((2 * mp * mq + c1) * (2 * cpq + c2)) / ((mp**2 + mq**2 + c1) * (vp + vq + c2)))
    return float(np.mean(vals))


def test_ssim_matches_the_formula_by_brute_force():
    rng = np.random.default_rng(0)
    a = rng.random((15, 13))
    b = np.clip(a + 0.2 * rng.standard_normal(a.shape), 0, 1)
    assert explain.ssim(a, b) == pytest.approx(brute_ssim(a, b), abs=1e-10)
    assert explain.ssim(a, a) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        explain.ssim(a, b[:, :5])


def test_cascading_randomisation_changes_maps_and_leaves_model_alone():
    model, x = nested(), images()
    before = [w.copy() for w in model.get_weights()]
    out = explain.cascading_randomisation(model, x, lambda m, xx: explain.grad_cam(m, xx, relu=False), seed=0)
    assert [name for name, _ in out] == ["original", "dense", "backbone/inner_conv"] or len(out) == 3
    assert out[-1][0].endswith("inner_conv")
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    np.testing.assert_allclose(out[0][1], explain.grad_cam(model, x, relu=False), atol=1e-6)
    assert not np.allclose(out[-1][1], out[0][1])


def test_energy_and_pointing():
    maps = np.zeros((2, 4, 4))
    maps[0, 0, 0], maps[0, 3, 3] = 3.0, 1.0
    maps[1, 2, 2] = -5.0  # no positive mass
    mask = np.zeros((4, 4), bool)
    mask[0, 0] = True
    e = explain.energy_inside(maps, mask)
    assert e[0] == pytest.approx(0.75) and np.isnan(e[1])
    assert explain.pointing_hit(maps[:1], mask).tolist() == [True]
    with pytest.raises(ValueError):
        explain.energy_inside(maps, np.zeros((3, 3), bool))
