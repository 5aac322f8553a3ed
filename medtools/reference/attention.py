"""Self-attention from scratch in NumPy: scaled dot-product and multi-head attention.

Introduced in the chapter *Self-attention* (``chapters/attention``), which restores the
article's lost formulas (§3.3.3) and checks these functions against
``keras.layers.MultiHeadAttention`` with the layer's own weights. The softmax they use is
:func:`medtools.reference.activations.softmax`. Re-exported by :mod:`medtools.reference`.

Conventions (the same as Keras):

* a sequence is an array ``(batch, length, features)``; the query sequence has length
  ``T``, the key/value sequence length ``S`` (``T == S`` for *self*-attention);
* masks are boolean, ``True`` = "this query may attend to this key";
* multi-head weights use exactly the layout of ``keras.layers.MultiHeadAttention``
  (``layer.get_weights()`` order): query/key/value kernels ``(d_in, heads, head_dim)``,
  their biases ``(heads, head_dim)``, output kernel ``(heads, value_dim, d_out)`` and output
  bias ``(d_out,)``.

:func:`layer_norm` (the normalisation inside each transformer block) and :func:`patchify`
(an image as a sequence of patch tokens, as in a Vision Transformer) are here as well.

Every function accepts float16/32/64 arrays (other numeric types are promoted to float64)
and returns arrays of the promoted input dtype; float16 inputs are computed in float32
internally and cast back.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from medtools.arrays import as_float, work_dtypes
from medtools.reference.activations import softmax

__all__ = [
    "attention_entropy",
    "layer_norm",
    "multi_head_attention",
    "patchify",
    "scaled_dot_product_attention",
]


def attention_entropy(weights: ArrayLike, axis: int = -1) -> np.ndarray:
    r"""Shannon entropy :math:`H = -\sum_j p_j \ln p_j` (nats) of attention weights along ``axis``.

    :math:`H = \ln S` for uniform weights over ``S`` keys and :math:`H = 0` for a one-hot
    (saturated) softmax; the chapter uses it to show that unscaled dot products saturate
    the softmax. Terms with :math:`p_j = 0` contribute 0.

    Args:
        weights: non-negative weights, each slice along ``axis`` summing to 1.
        axis: the axis of the distribution.

    Returns:
        Entropies, the shape of ``weights`` without ``axis``, float dtype of ``weights``.
    """
    p = as_float(weights, "weights")
    if (p < 0).any():
        raise ValueError("attention weights must be non-negative; did you pass scores instead of softmax(scores)?")
    out_dtype, work = work_dtypes(p.dtype)
    p = p.astype(work, copy=False)
    logp = np.log(p, out=np.zeros_like(p), where=p > 0)
    return (-np.sum(p * logp, axis=axis)).astype(out_dtype, copy=False)


def scaled_dot_product_attention(
    q: ArrayLike, k: ArrayLike, v: ArrayLike, mask: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Scaled dot-product attention :math:`\mathrm{softmax}(QK^\top/\sqrt{d_k})\,V`.

    Args:
        q: queries ``(..., T, d_k)``.
        k: keys ``(..., S, d_k)``.
        v: values ``(..., S, d_v)``.
        mask: optional boolean array broadcastable to ``(..., T, S)``; ``True`` = may
            attend. Masked scores are set to ``-inf`` before the softmax, so they get weight
            exactly 0; a query row with no allowed key gets all-zero weights and a zero
            output (see :func:`softmax`). Leading (batch/head) axes of ``q``, ``k``, ``v``
            must broadcast.

    Returns:
        ``(out, weights)``: ``out`` ``(..., T, d_v)``, ``weights`` ``(..., T, S)`` (rows sum
        to 1), both in the promoted float dtype of ``q``, ``k``, ``v``.

    Raises:
        ValueError: an array has fewer than 2 axes, ``d_k`` of ``q`` and ``k`` differ, ``k``
            and ``v`` have different lengths, or the mask does not broadcast.
    """
    q, k, v = as_float(q, "q"), as_float(k, "k"), as_float(v, "v")
    for name, a in (("q", q), ("k", k), ("v", v)):
        if a.ndim < 2:
            raise ValueError(f"{name} must have shape (..., length, features); got shape {a.shape}.")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k must have the same feature size d_k; got q {q.shape} and k {k.shape}."
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"k and v must have the same sequence length S; got k {k.shape} and v {v.shape}."
        )
    out_dtype, work = work_dtypes(q.dtype, k.dtype, v.dtype)
    q, k, v = (a.astype(work, copy=False) for a in (q, k, v))
    d_k = q.shape[-1]
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) / np.sqrt(np.asarray(d_k, dtype=work))
    if mask is not None:
        m = np.asarray(mask)
        if m.dtype != np.bool_:
            raise TypeError(
                f"mask must be boolean (True = may attend), got dtype {m.dtype}; use mask.astype(bool)."
            )
        try:
            m = np.broadcast_to(m, scores.shape)
        except ValueError:
            raise ValueError(
                f"mask of shape {m.shape} does not broadcast to the scores' shape {scores.shape} (..., T, S)."
            ) from None
        scores = np.where(m, scores, -np.inf)
    weights = softmax(scores, axis=-1)
    out = np.matmul(weights, v)
    return out.astype(out_dtype, copy=False), weights.astype(out_dtype, copy=False)


def _check_weight(name: str, w: np.ndarray, shape: tuple[int | None, ...]) -> None:
    ok = w.ndim == len(shape) and all(s is None or s == d for s, d in zip(shape, w.shape, strict=True))
    if not ok:
        want = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
        raise ValueError(
            f"{name} has shape {w.shape}, expected {want}. The weights must follow the layout of "
            "keras.layers.MultiHeadAttention.get_weights(): kernels (d_in, heads, head_dim), "
            "biases (heads, head_dim), output kernel (heads, value_dim, d_out), output bias (d_out,)."
        )


def multi_head_attention(
    query: ArrayLike,
    value: ArrayLike,
    key: ArrayLike | None,
    Wq: ArrayLike,
    bq: ArrayLike | None,
    Wk: ArrayLike,
    bk: ArrayLike | None,
    Wv: ArrayLike,
    bv: ArrayLike | None,
    Wo: ArrayLike,
    bo: ArrayLike | None,
    mask: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Multi-head attention with the weights of ``keras.layers.MultiHeadAttention``.

    For each head :math:`h`: :math:`Q_h = X_q W^Q_h + b^Q_h`, :math:`K_h = X_k W^K_h + b^K_h`,
    :math:`V_h = X_v W^V_h + b^V_h`, :math:`\mathrm{head}_h = \mathrm{softmax}(Q_h K_h^\top /
    \sqrt{d_k}) V_h`; then the heads are concatenated and projected,
    :math:`\mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_H) W^O + b^O`.
    With ``Wq, bq, Wk, bk, Wv, bv, Wo, bo = layer.get_weights()`` this equals
    ``layer(query, value, key, attention_mask=mask, return_attention_scores=True)``.

    Args:
        query: ``(B, T, d_q)``.
        value: ``(B, S, d_v_in)``.
        key: ``(B, S, d_k_in)``, or None to use ``value`` (as Keras does).
        Wq: ``(d_q, H, key_dim)``; ``bq``: ``(H, key_dim)`` or None (``use_bias=False``).
        Wk: ``(d_k_in, H, key_dim)``; ``bk``: ``(H, key_dim)`` or None.
        Wv: ``(d_v_in, H, value_dim)``; ``bv``: ``(H, value_dim)`` or None.
        Wo: ``(H, value_dim, d_out)``; ``bo``: ``(d_out,)`` or None.
        mask: optional boolean ``(B, T, S)`` or ``(T, S)``; ``True`` = may attend. A query
            row with no allowed key gets zero weights, so its output is ``bo``: this matches
            Keras with ``return_attention_scores=True``; Keras's fused path (without
            ``return_attention_scores``) instead attends uniformly to all keys for such rows.

    Returns:
        ``(out, weights)``: ``out`` ``(B, T, d_out)``; ``weights`` ``(B, H, T, S)``, the
        layout of Keras's attention scores. Dtype: the promoted float dtype of the inputs.

    Raises:
        ValueError: wrong ranks or inconsistent shapes; the message names the array.
    """
    query, value = as_float(query, "query"), as_float(value, "value")
    key = value if key is None else as_float(key, "key")
    for name, a in (("query", query), ("value", value), ("key", key)):
        if a.ndim != 3:
            raise ValueError(f"{name} must have shape (batch, length, features); got shape {a.shape}.")
    if not (query.shape[0] == key.shape[0] == value.shape[0]):
        raise ValueError(
            f"query, key and value must have the same batch size; got {query.shape}, {key.shape}, {value.shape}."
        )
    if key.shape[1] != value.shape[1]:
        raise ValueError(f"key and value must have the same length S; got key {key.shape}, value {value.shape}.")
    Wq, Wk, Wv, Wo = (as_float(w, n) for n, w in (("Wq", Wq), ("Wk", Wk), ("Wv", Wv), ("Wo", Wo)))
    if Wq.ndim != 3:
        raise ValueError(f"Wq must have shape (d_q, heads, key_dim); got {Wq.shape}.")
    _, n_heads, key_dim = Wq.shape
    _check_weight("Wq", Wq, (query.shape[-1], n_heads, key_dim))
    _check_weight("Wk", Wk, (key.shape[-1], n_heads, key_dim))
    if Wv.ndim != 3:
        raise ValueError(f"Wv must have shape (d_v_in, heads, value_dim); got {Wv.shape}.")
    value_dim = Wv.shape[2]
    _check_weight("Wv", Wv, (value.shape[-1], n_heads, value_dim))
    _check_weight("Wo", Wo, (n_heads, value_dim, None))
    d_out = Wo.shape[2]
    biases: list[np.ndarray | None] = []
    for name, b, shape in (
        ("bq", bq, (n_heads, key_dim)),
        ("bk", bk, (n_heads, key_dim)),
        ("bv", bv, (n_heads, value_dim)),
        ("bo", bo, (d_out,)),
    ):
        if b is None:
            biases.append(None)
            continue
        b = as_float(b, name)
        _check_weight(name, b, shape)
        biases.append(b)
    bq, bk, bv, bo = biases
    all_dtypes = [a.dtype for a in (query, key, value, Wq, Wk, Wv, Wo)] + [b.dtype for b in biases if b is not None]
    out_dtype, work = work_dtypes(*all_dtypes)

    def proj(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
        # (B, L, d) x (d, H, h) -> (B, L, H, h) -> (B, H, L, h)
        y = np.einsum("bld,dnh->blnh", x.astype(work), w.astype(work))
        if b is not None:
            y = y + b.astype(work)
        return np.transpose(y, (0, 2, 1, 3))

    Q, K, V = proj(query, Wq, bq), proj(key, Wk, bk), proj(value, Wv, bv)
    m = None
    if mask is not None:
        m = np.asarray(mask)
        if m.dtype != np.bool_:
            raise TypeError(f"mask must be boolean (True = may attend), got dtype {m.dtype}; use mask.astype(bool).")
        T, S = query.shape[1], key.shape[1]
        if m.shape not in ((T, S), (query.shape[0], T, S)):
            raise ValueError(f"mask must have shape (B, T, S) = ({query.shape[0]}, {T}, {S}) or (T, S); got {m.shape}.")
        m = m[..., None, :, :] if m.ndim == 3 else m  # broadcast over heads
    heads, weights = scaled_dot_product_attention(Q, K, V, mask=m)  # (B, H, T, value_dim), (B, H, T, S)
    out = np.einsum("bnth,nhe->bte", heads, Wo.astype(work))  # = concat(heads) @ Wo.reshape(H*value_dim, d_out)
    if bo is not None:
        out = out + bo.astype(work)
    return out.astype(out_dtype, copy=False), weights.astype(out_dtype, copy=False)


def layer_norm(
    x: ArrayLike, gamma: ArrayLike | None = None, beta: ArrayLike | None = None, epsilon: float = 1e-3
) -> np.ndarray:
    r"""Layer normalisation over the last axis (Ba, Kiros & Hinton, 2016).

    :math:`\mathrm{LN}(x) = \gamma \odot (x - \mu)/\sqrt{\sigma^2 + \epsilon} + \beta` with
    :math:`\mu, \sigma^2` the mean and (biased) variance of the features of *one* token, so
    each token is normalised on its own, the same in training and inference. Equals
    ``keras.layers.LayerNormalization(epsilon=epsilon)`` with weights ``[gamma, beta]``
    (Keras's default ``epsilon`` is 1e-3).

    Args:
        x: ``(..., d)`` float.
        gamma: scale ``(d,)`` or None (ones).
        beta: offset ``(d,)`` or None (zeros).
        epsilon: added to the variance; must be > 0.

    Returns:
        Array of the shape and promoted float dtype of ``x``.
    """
    a = as_float(x, "x")
    if a.ndim < 1:
        raise ValueError("layer_norm needs an array with a feature axis, got a scalar.")
    if not epsilon > 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon!r}.")
    d = a.shape[-1]
    params = []
    for name, p in (("gamma", gamma), ("beta", beta)):
        if p is not None:
            p = as_float(p, name)
            if p.shape != (d,):
                raise ValueError(f"{name} must have shape ({d},) to match x's last axis; got {p.shape}.")
        params.append(p)
    gamma, beta = params
    out_dtype, work = work_dtypes(a.dtype, *(p.dtype for p in params if p is not None))
    a = a.astype(work, copy=False)
    mu = a.mean(axis=-1, keepdims=True)
    var = a.var(axis=-1, keepdims=True)
    y = (a - mu) / np.sqrt(var + epsilon)
    if gamma is not None:
        y = y * gamma.astype(work)
    if beta is not None:
        y = y + beta.astype(work)
    return y.astype(out_dtype, copy=False)


def patchify(images: ArrayLike, patch_size: int) -> np.ndarray:
    """Cut images into non-overlapping square patches, one flattened patch per row (a token).

    Patches are ordered row by row (left to right, top to bottom), each flattened in
    ``(row, column, channel)`` order: the order in which ``Conv2D(dim, p, strides=p)``
    followed by ``Reshape((n, dim))`` sees them, so ``patchify(x, p) @ kernel.reshape(-1, dim)
    + bias`` equals that layer pair.

    Args:
        images: ``(N, H, W, C)`` (or ``(N, H, W)`` grey), any numeric dtype.
        patch_size: side ``p`` of a patch; ``H`` and ``W`` must be multiples of it.

    Returns:
        ``(N, (H/p)·(W/p), p·p·C)``, the dtype of ``images``.
    """
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(f"images must be (N, H, W) or (N, H, W, C); got shape {x.shape}.")
    p = int(patch_size)
    n, h, w, c = x.shape
    if p < 1 or h % p or w % p:
        raise ValueError(f"patch_size={patch_size} must be >= 1 and divide the image size {h}×{w}.")
    x = x.reshape(n, h // p, p, w // p, p, c).transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(n, (h // p) * (w // p), p * p * c)
