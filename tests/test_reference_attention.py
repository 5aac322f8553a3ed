"""Tests of the NumPy attention of chapter *Self-attention* (``medtools/reference/attention.py``).

Property-based (hypothesis) against ``keras.layers.MultiHeadAttention`` with the layer's own
weights, over batch size, query and key lengths (different: cross-attention), heads,
key_dim, value_dim, input widths, float32/float64, with and without a boolean attention mask;
plus the weighted-sum form of the output, the fully-masked-row convention,
``use_bias=False``, layer normalisation, entropy, and the error messages.

Tolerances: inputs and Glorot-initialised weights are O(1) and the sums have at most a few
dozen terms, so float32 results agree within 1e-5 absolute (rounding of order 1e-7 per
operation). float64 agrees only within about 1e-8, not 1e-15: Keras casts the Python float
``1/sqrt(key_dim)`` to a float32 tensor before casting it to float64, so its scale is off by
up to 3e-8 relative (Keras 3.15, ``MultiHeadAttention._compute_attention``); 1e-6 is asserted.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medtools import reference as ref

keras = pytest.importorskip("keras")

SETTINGS = settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
ATOL = {"float32": 1e-5, "float64": 1e-6}


def _mask(rng: np.random.Generator, b: int, t: int, s: int) -> np.ndarray:
    """Random boolean (B, T, S) mask in which every query may attend to at least one key."""
    m = rng.random((b, t, s)) < 0.6
    m[np.arange(b)[:, None], np.arange(t)[None, :], rng.integers(0, s, (b, t))] = True
    return m


@pytest.mark.slow
@SETTINGS
@given(
    b=st.integers(1, 3),
    t=st.integers(1, 6),
    s=st.integers(1, 7),
    heads=st.integers(1, 4),
    key_dim=st.integers(1, 8),
    value_dim=st.one_of(st.none(), st.integers(1, 6)),
    dims=st.tuples(st.integers(1, 9), st.integers(1, 9), st.integers(1, 9)),
    dtype=st.sampled_from(["float32", "float64"]),
    masked=st.booleans(),
    same_kv=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_mha_matches_keras(b, t, s, heads, key_dim, value_dim, dims, dtype, masked, same_kv, seed):
    rng = np.random.default_rng(seed)
    d_q, d_k, d_v = dims
    if same_kv:
        d_k = d_v
    query = rng.normal(size=(b, t, d_q)).astype(dtype)
    value = rng.normal(size=(b, s, d_v)).astype(dtype)
    key = value if same_kv else rng.normal(size=(b, s, d_k)).astype(dtype)
    layer = keras.layers.MultiHeadAttention(num_heads=heads, key_dim=key_dim, value_dim=value_dim, dtype=dtype)
    mask = _mask(rng, b, t, s) if masked else None
    out_k, w_k = layer(query, value, None if same_kv else key, attention_mask=mask, return_attention_scores=True)
    fused = layer(query, value, None if same_kv else key, attention_mask=mask)  # Keras's other code path
    weights = layer.get_weights()
    # Keras's layout: kernels (d_in, heads, head_dim), biases (heads, head_dim), output (heads, value_dim, d_q)
    vd = key_dim if value_dim is None else value_dim
    assert [w.shape for w in weights] == [
        (d_q, heads, key_dim), (heads, key_dim), (d_k, heads, key_dim), (heads, key_dim),
        (d_v, heads, vd), (heads, vd), (heads, vd, d_q), (d_q,),
    ]
    out, w = ref.multi_head_attention(query, value, None if same_kv else key, *weights, mask=mask)
    assert out.dtype == np.dtype(dtype) and w.dtype == np.dtype(dtype)
    assert out.shape == (b, t, d_q) and w.shape == (b, heads, t, s)
    np.testing.assert_allclose(out, np.asarray(out_k), rtol=0, atol=ATOL[dtype])
    np.testing.assert_allclose(out, np.asarray(fused), rtol=0, atol=ATOL[dtype])
    np.testing.assert_allclose(w, np.asarray(w_k), rtol=0, atol=ATOL[dtype])
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=ATOL[dtype])
    if masked:
        assert np.all(w[~np.broadcast_to(mask[:, None], w.shape)] == 0)


def test_mha_float16_close_to_keras():
    """float16: NumPy computes in float32 and rounds once; Keras rounds after every op."""
    rng = np.random.default_rng(0)
    q, v = rng.normal(size=(2, 5, 8)).astype("float16"), rng.normal(size=(2, 6, 8)).astype("float16")
    layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, dtype="float16")
    out_k = np.asarray(layer(q, v))
    out, w = ref.multi_head_attention(q, v, None, *layer.get_weights())
    assert out.dtype == np.float16
    # float16 has a 10-bit mantissa (eps ~ 1e-3): a handful of roundings of O(1) numbers
    np.testing.assert_allclose(out.astype(np.float32), out_k.astype(np.float32), atol=1e-2)


def test_mha_fully_masked_row_and_2d_mask():
    rng = np.random.default_rng(1)
    q, v = rng.normal(size=(2, 3, 6)).astype("float32"), rng.normal(size=(2, 4, 6)).astype("float32")
    layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    mask = np.ones((2, 3, 4), bool)
    mask[0, 1] = False  # query 1 of item 0 may attend to nothing
    out_k, w_k = layer(q, v, attention_mask=mask, return_attention_scores=True)
    weights = layer.get_weights()
    out, w = ref.multi_head_attention(q, v, None, *weights, mask=mask)
    np.testing.assert_allclose(out, np.asarray(out_k), atol=1e-5)
    np.testing.assert_allclose(w, np.asarray(w_k), atol=1e-6)
    assert np.all(w[0, :, 1] == 0)
    np.testing.assert_allclose(out[0, 1], weights[-1], atol=1e-6)  # zero weights -> output bias only
    # a (T, S) mask is shared by the batch
    causal = np.tril(np.ones((3, 4), bool))
    out2, _ = ref.multi_head_attention(q, v, None, *weights, mask=causal)
    out2_k = layer(q, v, attention_mask=np.broadcast_to(causal, (2, 3, 4)))
    np.testing.assert_allclose(out2, np.asarray(out2_k), atol=1e-5)


def test_mha_without_bias():
    rng = np.random.default_rng(2)
    q = rng.normal(size=(1, 4, 5)).astype("float32")
    layer = keras.layers.MultiHeadAttention(num_heads=3, key_dim=2, use_bias=False)
    out_k = np.asarray(layer(q, q))
    wq, wk, wv, wo = layer.get_weights()
    out, _ = ref.multi_head_attention(q, q, q, wq, None, wk, None, wv, None, wo, None)
    np.testing.assert_allclose(out, out_k, atol=1e-5)


def test_concat_heads_equals_einsum():
    """Concat(head_1..head_H) W_O with W_O reshaped to (H*value_dim, d_out) is what the einsum computes."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 5, 6))
    H, kd = 3, 4
    Wq, Wk, Wv = (rng.normal(size=(6, H, kd)) for _ in range(3))
    bq, bk, bv = (rng.normal(size=(H, kd)) for _ in range(3))
    Wo, bo = rng.normal(size=(H, kd, 6)), rng.normal(size=6)
    out, _ = ref.multi_head_attention(x, x, x, Wq, bq, Wk, bk, Wv, bv, Wo, bo)
    heads = [
        ref.scaled_dot_product_attention(x @ Wq[:, h] + bq[h], x @ Wk[:, h] + bk[h], x @ Wv[:, h] + bv[h])[0]
        for h in range(H)
    ]
    manual = np.concatenate(heads, axis=-1) @ Wo.reshape(H * kd, 6) + bo
    np.testing.assert_allclose(out, manual, atol=1e-12)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    t=st.integers(1, 6), s=st.integers(1, 6), d=st.integers(1, 8), dv=st.integers(1, 5), seed=st.integers(0, 2**16)
)
def test_sdpa_is_weighted_sum_and_matches_keras_op(t, s, d, dv, seed):
    rng = np.random.default_rng(seed)
    q, k, v = rng.normal(size=(t, d)), rng.normal(size=(s, d)), rng.normal(size=(s, dv))
    out, w = ref.scaled_dot_product_attention(q, k, v)
    # z_i = sum_j a_ij v_j with a_ij = softmax_j(q_i . k_j / sqrt(d))
    for i in range(t):
        scores = np.array([q[i] @ k[j] for j in range(s)]) / np.sqrt(d)
        a = np.exp(scores - scores.max())
        a /= a.sum()
        np.testing.assert_allclose(w[i], a, atol=1e-12)
        np.testing.assert_allclose(out[i], sum(a[j] * v[j] for j in range(s)), atol=1e-12)
    # keras.ops.dot_product_attention wants (B, L, heads, d)
    ko = keras.ops.dot_product_attention(q[None, :, None].astype("float32"), k[None, :, None].astype("float32"),
                                         v[None, :, None].astype("float32"))
    np.testing.assert_allclose(out, np.asarray(ko)[0, :, 0], atol=1e-5)
    # a convex combination stays inside the range of the values
    assert np.all(out <= v.max(0) + 1e-12) and np.all(out >= v.min(0) - 1e-12)


def test_entropy_and_layer_norm():
    assert ref.attention_entropy(np.full(8, 1 / 8)) == pytest.approx(np.log(8))
    assert ref.attention_entropy(np.eye(4)).tolist() == [0.0] * 4
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 5, 6)).astype("float32")
    ln = keras.layers.LayerNormalization(epsilon=1e-6)
    ln.build(x.shape)
    g, b = rng.normal(size=6).astype("float32"), rng.normal(size=6).astype("float32")
    ln.set_weights([g, b])
    np.testing.assert_allclose(ref.layer_norm(x, g, b, epsilon=1e-6), np.asarray(ln(x)), atol=1e-5)
    y = ref.layer_norm(x.astype(np.float64), epsilon=1e-12)
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(-1), 1, atol=1e-9)  # var / (var + eps)


def test_patchify_order_and_round_trip():
    x = np.arange(2 * 4 * 6 * 3).reshape(2, 4, 6, 3)
    p = ref.patchify(x, 2)
    assert p.shape == (2, 6, 12) and p.dtype == x.dtype
    np.testing.assert_array_equal(p[:, 0], x[:, :2, :2].reshape(2, 12))  # top-left
    np.testing.assert_array_equal(p[:, 4], x[:, 2:4, 2:4].reshape(2, 12))  # 2nd row, 2nd column
    back = p.reshape(2, 2, 3, 2, 2, 3).transpose(0, 1, 3, 2, 4, 5).reshape(x.shape)
    np.testing.assert_array_equal(back, x)
    assert ref.patchify(x[..., 0], 2).shape == (2, 6, 4)  # (N, H, W) grey


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: ref.scaled_dot_product_attention(np.ones((2, 3)), np.ones((4, 5)), np.ones((4, 2))), ValueError, "d_k"),
        (lambda: ref.scaled_dot_product_attention(np.ones((2, 3)), np.ones((4, 3)), np.ones((5, 2))), ValueError, "length S"),
        (lambda: ref.scaled_dot_product_attention(np.ones(3), np.ones((4, 3)), np.ones((4, 2))), ValueError, "length, features"),
        (lambda: ref.scaled_dot_product_attention(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 2)), mask=np.ones((2, 4))),
         TypeError, "boolean"),
        (lambda: ref.scaled_dot_product_attention(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 2)),
                                                  mask=np.ones((3, 4), bool)), ValueError, "broadcast"),
        (lambda: ref.attention_entropy(np.array([-0.1, 1.1])), ValueError, "non-negative"),
        (lambda: ref.layer_norm(np.ones((2, 3)), gamma=np.ones(4)), ValueError, "gamma"),
        (lambda: ref.patchify(np.ones((1, 28, 28, 1)), 5), ValueError, "divide"),
        (lambda: ref.patchify(np.ones((28, 28)), 7), ValueError, "N, H, W"),
    ],
)
def test_errors(call, exc, words):
    with pytest.raises(exc, match=words):
        call()


def test_mha_shape_errors():
    x = np.ones((1, 3, 4))
    W, b, Wo, bo = np.ones((4, 2, 2)), np.ones((2, 2)), np.ones((2, 2, 4)), np.ones(4)
    ok = ref.multi_head_attention(x, x, None, W, b, W, b, W, b, Wo, bo)[0]
    assert ok.shape == (1, 3, 4)
    with pytest.raises(ValueError, match="batch, length, features"):
        ref.multi_head_attention(x[0], x, None, W, b, W, b, W, b, Wo, bo)
    with pytest.raises(ValueError, match=r"Wq has shape \(5, 2, 2\)"):
        ref.multi_head_attention(x, x, None, np.ones((5, 2, 2)), b, W, b, W, b, Wo, bo)
    with pytest.raises(ValueError, match="Wo has shape"):
        ref.multi_head_attention(x, x, None, W, b, W, b, W, b, np.ones((4, 4)), bo)
    with pytest.raises(ValueError, match="bq has shape"):
        ref.multi_head_attention(x, x, None, W, np.ones(4), W, b, W, b, Wo, bo)
    with pytest.raises(ValueError, match="same batch size"):
        ref.multi_head_attention(x, np.ones((2, 3, 4)), None, W, b, W, b, W, b, Wo, bo)
    with pytest.raises(ValueError, match=r"mask must have shape"):
        ref.multi_head_attention(x, x, None, W, b, W, b, W, b, Wo, bo, mask=np.ones((3, 5), bool))
