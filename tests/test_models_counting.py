"""Tests of medtools.models.counting (parameter and FLOP counting); chapter concepts.

FLOPs follow the module's convention: 2 × multiply-accumulates, one example, bias
and activations not counted.
"""

from __future__ import annotations

import keras
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medtools.models import article_cnn, count_flops, layer_table

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _one_layer(layer: keras.layers.Layer, input_shape: tuple[int, ...]) -> keras.Model:
    inp = keras.Input(input_shape)
    return keras.Model(inp, layer(inp))


def _out_size(n: int, k: int, s: int, padding: str) -> int:
    return (n - k) // s + 1 if padding == "valid" else -(-n // s)


# --------------------------------------------------------------------------- params


@pytest.mark.parametrize("shape", [(150, 150, 3), (28, 28, 1), (64, 48, 3)])
def test_params_column_sums_to_count_params(shape):
    model = article_cnn(shape)
    rows = layer_table(model)
    assert sum(r["params"] for r in rows) == model.count_params()
    for layer, row in zip(model.layers, rows, strict=True):
        assert row["name"] == layer.name
        assert row["params"] == layer.count_params()


def test_params_with_shared_layer_and_nested_model():
    inner = keras.Sequential(
        [keras.Input((8, 8, 2)), keras.layers.Conv2D(4, 3, padding="same"), keras.layers.BatchNormalization()],
        name="inner",
    )
    shared = keras.layers.Dense(5, name="shared")
    inp = keras.Input((8, 8, 2))
    x = keras.layers.GlobalAveragePooling2D()(inner(inp))
    out = keras.layers.Concatenate()([shared(x), shared(x)])
    model = keras.Model(inp, out)
    rows = layer_table(model)
    assert sum(r["params"] for r in rows) == model.count_params()
    names = [r["name"] for r in rows]
    assert names[:2] == [f"inner/{layer.name}" for layer in inner.layers]
    # the shared Dense is called twice, so its FLOPs count twice
    row = next(r for r in rows if r["name"] == "shared")
    assert row["flops"] == 2 * (2 * 4 * 5)


# --------------------------------------------------------------------------- FLOPs, single layers


@SETTINGS
@given(
    h=st.integers(5, 40),
    w=st.integers(5, 40),
    c_in=st.integers(1, 8),
    c_out=st.integers(1, 16),
    k=st.integers(1, 5),
    s=st.integers(1, 3),
    padding=st.sampled_from(["valid", "same"]),
)
def test_conv2d_flops_match_hand_formula(h, w, c_in, c_out, k, s, padding):
    model = _one_layer(keras.layers.Conv2D(c_out, k, strides=s, padding=padding), (h, w, c_in))
    h_out, w_out = _out_size(h, k, s, padding), _out_size(w, k, s, padding)
    assert model.output_shape == (None, h_out, w_out, c_out)
    assert count_flops(model) == 2 * h_out * w_out * c_out * k * k * c_in


@SETTINGS
@given(d_in=st.integers(1, 300), d_out=st.integers(1, 300), t=st.one_of(st.none(), st.integers(1, 7)))
def test_dense_flops_match_hand_formula(d_in, d_out, t):
    shape = (d_in,) if t is None else (t, d_in)
    model = _one_layer(keras.layers.Dense(d_out), shape)
    assert count_flops(model) == 2 * (1 if t is None else t) * d_in * d_out


def test_grouped_conv3d_depthwise_separable_transpose():
    m = _one_layer(keras.layers.Conv2D(8, 3, groups=2), (10, 10, 4))
    assert count_flops(m) == 2 * 8 * 8 * 8 * 9 * (4 // 2)
    m = _one_layer(keras.layers.Conv3D(6, 3), (7, 8, 9, 2))
    assert count_flops(m) == 2 * (5 * 6 * 7) * 6 * 27 * 2
    m = _one_layer(keras.layers.DepthwiseConv2D(3, depth_multiplier=2), (9, 9, 3))
    assert count_flops(m) == 2 * 7 * 7 * 3 * 2 * 9
    m = _one_layer(keras.layers.SeparableConv2D(5, 3, depth_multiplier=2), (9, 9, 3))
    assert count_flops(m) == 2 * 7 * 7 * 3 * 2 * (9 + 5)
    m = _one_layer(keras.layers.Conv2DTranspose(4, 3, strides=2), (6, 6, 3))
    assert count_flops(m) == 2 * 6 * 6 * 3 * 9 * 4


def test_batchnorm_pooling_and_uncounted_layers():
    inp = keras.Input((8, 8, 3))
    x = keras.layers.BatchNormalization()(inp)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    rows = {r["type"]: r for r in layer_table(keras.Model(inp, x))}
    assert rows["BatchNormalization"]["flops"] == 2 * 8 * 8 * 3
    assert rows["MaxPooling2D"]["flops"] == 0 and rows["MaxPooling2D"]["counted"]
    assert rows["Flatten"]["flops"] == 0 and rows["Flatten"]["counted"]
    assert rows["Activation"]["flops"] == 0 and not rows["Activation"]["counted"]
    assert rows["Activation"]["note"] == "not counted"


def test_article_model_flops():
    model = article_cnn((150, 150, 3))
    expected = 0
    side, c_in = 150, 3
    for c_out in (32, 64, 128):
        side -= 2
        expected += 2 * side * side * c_out * 9 * c_in
        side //= 2
        c_in = c_out
    expected += 2 * side * side * c_in * 512 + 2 * 512 * 1
    assert count_flops(model) == expected


def test_nested_model_is_expanded():
    inner = article_cnn((28, 28, 1))
    outer = keras.Sequential([keras.Input((28, 28, 1)), inner], name="outer")
    rows = layer_table(outer)
    assert all(r["name"].startswith("article_cnn/") for r in rows)
    assert count_flops(outer) == count_flops(inner)
    assert sum(r["params"] for r in rows) == outer.count_params()


# --------------------------------------------------------------------------- errors


def test_errors_say_what_to_do():
    lazy = keras.Sequential([keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="keras.Input"):
        layer_table(lazy)
    free = _one_layer(keras.layers.Conv2D(2, 3), (None, None, 1))
    with pytest.raises(ValueError, match="fixed input shape"):
        count_flops(free)

    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = keras.layers.Dense(2)

        def call(self, x):
            return self.d(x)

    sub = Sub()
    sub(keras.ops.zeros((1, 3)))
    with pytest.raises(TypeError, match="subclassed"):
        layer_table(sub)


# --------------------------------------------------------------------------- published figures


def test_resnet50_matches_he_et_al_2016():
    """He et al. (2016), Table 1: ResNet-50 has 3.8×10^9 FLOPs, which the paper counts as
    multiply-adds ("3.6 billion FLOPs (multiply-adds)" for ResNet-34, §3.3). Keras' ResNet50
    is that original design (stride 2 in the first 1×1 convolution of a block). The
    often-quoted 4.1 G is torchvision's "v1.5", which moves the stride into the 3×3 conv."""
    model = keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3))
    rows = layer_table(model)
    assert sum(r["params"] for r in rows) == model.count_params() == 25_636_712
    macs = count_flops(model) / 2
    assert abs(macs / 3.8e9 - 1) < 0.05


def test_efficientnet_b0_matches_tan_and_le_2019():
    """Tan & Le (2019), Table 2: EfficientNet-B0 has 5.3M parameters and 0.39B FLOPs
    (multiply-adds)."""
    model = keras.applications.EfficientNetB0(weights=None, input_shape=(224, 224, 3))
    assert abs(model.count_params() / 5.3e6 - 1) < 0.02
    assert abs(count_flops(model) / 2 / 0.39e9 - 1) < 0.05
