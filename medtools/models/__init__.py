"""Every model the book trains, as builder functions, plus parameter and FLOP counting.

* counting parameters and FLOPs — chapter *Core concepts* (``chapters/concepts``):
  :mod:`~medtools.models.counting`;
* slice-encoder + GRU and 3-D CNN — chapter *Recurrent networks* (``chapters/rnn``):
  :mod:`~medtools.models.sequence`;
* Vision Transformer — chapter *Self-attention* (``chapters/attention``):
  :mod:`~medtools.models.transformer`;
* the small CNN without batch normalisation — the ViT's baseline (chapter *Self-attention*)
  and the model of chapter *Security and privacy* (``chapters/privacy``):
  :mod:`~medtools.models.small`;
* the article's CNN — chapters *Core concepts* and *The Keras classifier*:
  :mod:`~medtools.models.article`; the compact CNN — chapter *Beyond the article's model*
  (``chapters/beyond_article``): :mod:`~medtools.models.compact`;
* the ordinal CNN (softmax or CORAL head) — chapter *Grading for treatment decisions*
  (``chapters/treatment_planning``): :mod:`~medtools.models.ordinal`;
* the U-Net — chapter *Assisted diagnosis: segmenting retinal vessels*
  (``chapters/segmentation``): :mod:`~medtools.models.unet`.

Importing this package imports Keras (the Vision Transformer defines a Keras layer);
``import medtools`` alone does not.
"""

from __future__ import annotations

from medtools.models.article import ARTICLE_PARAMS, article_cnn
from medtools.models.compact import COMPACT_OPTIMIZERS, MAX_COMPACT_PARAMS, compact_cnn
from medtools.models.counting import count_flops, layer_table
from medtools.models.ordinal import (
    ORDINAL_HEADS,
    OrdinalBias,
    cumulative_to_class_probs,
    ordinal_cnn,
    ordinal_levels,
)
from medtools.models.sequence import cnn3d, pool_volumes, slice_gru
from medtools.models.small import SMALL_CNN_HEADS, SMALL_CNN_OPTIMIZERS, small_cnn
from medtools.models.transformer import PatchEncoder, vit, vit_attention_inputs
from medtools.models.unet import unet

__all__ = [
    "ARTICLE_PARAMS",
    "COMPACT_OPTIMIZERS",
    "MAX_COMPACT_PARAMS",
    "ORDINAL_HEADS",
    "SMALL_CNN_HEADS",
    "SMALL_CNN_OPTIMIZERS",
    "OrdinalBias",
    "PatchEncoder",
    "article_cnn",
    "cnn3d",
    "compact_cnn",
    "count_flops",
    "cumulative_to_class_probs",
    "layer_table",
    "ordinal_cnn",
    "ordinal_levels",
    "pool_volumes",
    "slice_gru",
    "small_cnn",
    "unet",
    "vit",
    "vit_attention_inputs",
]
