"""A small Vision Transformer for 28×28 MedMNIST images.

Introduced in the chapter *Self-attention* (``chapters/attention``): an image becomes a
sequence of patches, each patch a token; a couple of transformer blocks (multi-head
self-attention + MLP, each with LayerNorm and a residual connection) mix the tokens; a
CLS token (or the mean of the patch tokens) is classified. Its convolutional baseline of
a comparable parameter count is :func:`medtools.models.small.small_cnn`.

:func:`vit` returns an *uncompiled* Keras model with one sigmoid output (probability of
the positive class) for binary tasks, or a softmax over ``num_classes`` classes.
Layer names are fixed so that the chapter can reach inside a trained ViT
(``block{i}_ln1``: the LayerNorm before the attention of block ``i``; ``block{i}_mha``: its
``keras.layers.MultiHeadAttention``; ``patch_encoder``: patch + position embedding).
Re-exported by :mod:`medtools.models`. This module imports Keras when it is imported
(:class:`PatchEncoder` is a Keras layer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from medtools.models._head import classifier_head as _head

__all__ = ["PatchEncoder", "vit", "vit_attention_inputs"]


@keras.saving.register_keras_serializable(package="medtools")
class PatchEncoder(keras.layers.Layer):
    """Prepend a learned CLS token (optional) and add a learned position embedding.

    Input: patch embeddings ``(B, n_patches, dim)`` float. Output: ``(B, n_patches + 1, dim)``
    with the CLS token at position 0 if ``cls_token`` else ``(B, n_patches, dim)``.
    Weights: ``cls`` ``(1, 1, dim)`` (if used), ``position`` ``(1, n_tokens, dim)``, both
    initialised from a normal distribution with sd 0.02 (as in ViT).
    """

    def __init__(self, cls_token: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cls_token = bool(cls_token)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if len(input_shape) != 3 or input_shape[1] is None or input_shape[2] is None:
            raise ValueError(f"PatchEncoder expects (batch, n_patches, dim) with known sizes; got {input_shape}.")
        n, dim = int(input_shape[1]), int(input_shape[2])
        init = keras.initializers.TruncatedNormal(stddev=0.02)
        if self.cls_token:
            self.cls = self.add_weight(shape=(1, 1, dim), initializer=init, name="cls")
        self.position = self.add_weight(shape=(1, n + int(self.cls_token), dim), initializer=init, name="position")

    def call(self, x: Any) -> Any:
        if self.cls_token:
            cls = ops.broadcast_to(ops.cast(self.cls, x.dtype), (ops.shape(x)[0], 1, ops.shape(x)[2]))
            x = ops.concatenate([cls, x], axis=1)
        return x + ops.cast(self.position, x.dtype)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        b, n, d = input_shape
        return (b, None if n is None else n + int(self.cls_token), d)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "cls_token": self.cls_token}


def vit(
    input_shape: Sequence[int] = (28, 28, 1),
    *,
    patch_size: int = 4,
    dim: int = 32,
    depth: int = 2,
    num_heads: int = 4,
    mlp_dim: int = 64,
    pooling: str = "cls",
    dropout: float = 0.0,
    num_classes: int = 2,
    name: str = "vit",
) -> keras.Model:
    r"""A small Vision Transformer (Dosovitskiy et al., 2021), pre-LayerNorm.

    Patch embedding: ``Conv2D(dim, patch_size, strides=patch_size)`` (a linear map of each
    non-overlapping ``patch_size``² patch) reshaped to ``(B, n_patches, dim)`` with
    ``n_patches = (H/p)·(W/p)``; then :class:`PatchEncoder` (CLS token + learned positions);
    then ``depth`` blocks ``x ← x + MHA(LN(x))``, ``x ← x + MLP(LN(x))`` (MLP: Dense(mlp_dim,
    GELU) → Dense(dim)); a final LayerNorm; the CLS token (``pooling="cls"``) or the mean
    of the patch tokens (``"gap"``) goes to the head.

    Args:
        input_shape: ``(H, W, C)``; ``H`` and ``W`` must be multiples of ``patch_size``.
        patch_size: side of a square patch in pixels.
        dim: token width (embedding size); must be divisible by ``num_heads``.
        depth: number of transformer blocks.
        num_heads: attention heads; each has ``key_dim = dim // num_heads``.
        mlp_dim: hidden width of each block's MLP.
        pooling: ``"cls"`` or ``"gap"``.
        dropout: dropout rate after attention and in the MLP (0 = none).
        num_classes: 2 → one sigmoid unit; more → softmax.
        name: model name.

    Returns:
        An uncompiled ``keras.Model`` mapping float images ``(B, H, W, C)`` in [0, 1] to
        probabilities ``(B, 1)`` (binary) or ``(B, num_classes)``.
    """
    h, w, c = (int(s) for s in input_shape)
    if h % patch_size or w % patch_size:
        raise ValueError(
            f"Image size {h}×{w} is not a multiple of patch_size={patch_size}; for 28×28 images use 4, 7, 14 or 28."
        )
    if dim % num_heads:
        raise ValueError(f"dim={dim} must be divisible by num_heads={num_heads} (key_dim = dim // num_heads).")
    if pooling not in ("cls", "gap"):
        raise ValueError(f"pooling must be 'cls' or 'gap'; got {pooling!r}.")
    n_patches = (h // patch_size) * (w // patch_size)
    inputs = keras.Input((h, w, c), name="image")
    x = keras.layers.Conv2D(dim, patch_size, strides=patch_size, name="patch_embed")(inputs)
    x = keras.layers.Reshape((n_patches, dim), name="patches")(x)
    x = PatchEncoder(cls_token=pooling == "cls", name="patch_encoder")(x)
    for i in range(depth):
        y = keras.layers.LayerNormalization(epsilon=1e-6, name=f"block{i}_ln1")(x)
        y = keras.layers.MultiHeadAttention(
            num_heads=num_heads, key_dim=dim // num_heads, dropout=0.0, name=f"block{i}_mha"
        )(y, y)
        if dropout:
            y = keras.layers.Dropout(dropout, name=f"block{i}_drop1")(y)
        x = keras.layers.Add(name=f"block{i}_add1")([x, y])
        y = keras.layers.LayerNormalization(epsilon=1e-6, name=f"block{i}_ln2")(x)
        y = keras.layers.Dense(mlp_dim, activation="gelu", name=f"block{i}_mlp1")(y)
        if dropout:
            y = keras.layers.Dropout(dropout, name=f"block{i}_drop2")(y)
        y = keras.layers.Dense(dim, name=f"block{i}_mlp2")(y)
        x = keras.layers.Add(name=f"block{i}_add2")([x, y])
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="final_ln")(x)
    if pooling == "cls":
        x = keras.layers.Lambda(lambda t: t[:, 0], output_shape=(dim,), name="cls_out")(x)
    else:
        x = keras.layers.GlobalAveragePooling1D(name="gap")(x)
    return keras.Model(inputs, _head(x, num_classes), name=name)


def vit_attention_inputs(model: keras.Model) -> keras.Model:
    """A sub-model of a :func:`vit` model that returns the input of every attention layer.

    Returns:
        ``keras.Model`` mapping the images ``(B, H, W, C)`` to a list with one array
        ``(B, n_tokens, dim)`` per block: the LayerNorm output ``block{i}_ln1`` that the
        block's ``MultiHeadAttention`` receives as query, key and value. Feed it, with the
        layer's ``get_weights()``, to :func:`medtools.reference.multi_head_attention` (or
        call the layer with ``return_attention_scores=True``) to get the attention maps.
    """
    names = sorted(
        (layer.name for layer in model.layers if layer.name.startswith("block") and layer.name.endswith("_ln1")),
        key=lambda s: int(s[5:-4]),
    )
    if not names:
        raise ValueError(f"Model {model.name!r} has no 'block<i>_ln1' layers; build it with medtools.models.vit().")
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs, [model.get_layer(n).output for n in names], name=f"{model.name}_attn_inputs")
