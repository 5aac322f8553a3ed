"""From-scratch NumPy versions of what the chapters derive.

Each function is plain NumPy, documents its array shapes and dtypes, and is checked
against the corresponding Keras layer or optimiser in ``tests/`` and in its chapter.
Grouped by the chapter that introduces them:

* convolution and pooling — chapter *Convolutional networks* (``chapters/cnn``):
  :mod:`~medtools.reference.windows` (padding, output sizes, sliding windows),
  :mod:`~medtools.reference.conv`, :mod:`~medtools.reference.pooling`;
* recurrent cells — chapter *Recurrent networks* (``chapters/rnn``):
  :mod:`~medtools.reference.recurrent`, with the sigmoid of :mod:`~medtools.reference.activations`;
* attention — chapter *Self-attention* (``chapters/attention``):
  :mod:`~medtools.reference.attention`, with the softmax of :mod:`~medtools.reference.activations`;
* optimiser steps and losses — chapter *The workflow* (``chapters/workflow``):
  :mod:`~medtools.reference.optim`, :mod:`~medtools.reference.losses`.

Use it as ``from medtools import reference as ref``; every name below is ``ref.<name>``.
"""

from __future__ import annotations

from medtools.reference.activations import logit, sigmoid, softmax
from medtools.reference.attention import (
    attention_entropy,
    layer_norm,
    multi_head_attention,
    patchify,
    scaled_dot_product_attention,
)
from medtools.reference.conv import (
    conv2d,
    conv2d_grad,
    conv2d_params,
    im2col,
    receptive_field,
    receptive_field_table,
)
from medtools.reference.losses import KERAS_EPSILON, binary_crossentropy, mse
from medtools.reference.optim import AdamState, adam_init, adam_step, momentum_step, sgd_step
from medtools.reference.pooling import avg_pool2d, max_pool2d
from medtools.reference.recurrent import gru, gru_step, lstm, lstm_step, simple_rnn, simple_rnn_step
from medtools.reference.windows import (
    CONV_PADDINGS,
    conv_output_size,
    pad_spatial,
    same_padding,
    sliding_windows,
    window_geometry,
)

__all__ = [
    "CONV_PADDINGS",
    "KERAS_EPSILON",
    "AdamState",
    "adam_init",
    "adam_step",
    "attention_entropy",
    "avg_pool2d",
    "binary_crossentropy",
    "conv2d",
    "conv2d_grad",
    "conv2d_params",
    "conv_output_size",
    "logit",
    "gru",
    "gru_step",
    "im2col",
    "layer_norm",
    "lstm",
    "lstm_step",
    "max_pool2d",
    "momentum_step",
    "mse",
    "multi_head_attention",
    "pad_spatial",
    "patchify",
    "receptive_field",
    "receptive_field_table",
    "same_padding",
    "scaled_dot_product_attention",
    "sgd_step",
    "sigmoid",
    "simple_rnn",
    "simple_rnn_step",
    "sliding_windows",
    "softmax",
    "window_geometry",
]
