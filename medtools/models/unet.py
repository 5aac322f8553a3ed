"""U-Net: an encoder, a decoder and skip connections, for binary segmentation.

Introduced in the chapter *Assisted diagnosis: segmenting retinal vessels*
(``chapters/segmentation``), after Ronneberger et al. (MICCAI 2015), scaled down to train on a
CPU: ``depth`` levels of two 3x3 convolutions (batch normalisation, ReLU), 2x2 max pooling
down, 2x2 transposed convolutions up, and at each level the encoder's features concatenated
to the decoder's. Fully convolutional: any input whose height and width are multiples of
``2**depth`` works.
"""

from __future__ import annotations

import keras
from keras import layers

__all__ = ["unet"]


def _block(x, filters: int, name: str):
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = layers.ReLU(name=f"{name}_relu{i}")(x)
    return x


def unet(
    channels: int = 3, base: int = 16, depth: int = 3, dropout: float = 0.0, name: str = "unet"
) -> keras.Model:
    """Build (not compile) a U-Net with a one-channel sigmoid output.

    Args:
        channels: input channels (3 for RGB).
        base: filters at the first level, doubled at each level down.
        depth: number of poolings (the bottleneck is at 1 / 2**depth of the input size).
        dropout: dropout rate before the bottleneck block (0 for none).

    Input ``(batch, H, W, channels)`` float32; output ``(batch, H, W, 1)`` probabilities.
    """
    if depth < 1 or base < 1:
        raise ValueError(f"depth and base must be positive, got depth={depth}, base={base}.")
    inputs = keras.Input((None, None, channels), name="image")
    x, skips = inputs, []
    for level in range(depth):
        x = _block(x, base * 2**level, f"enc{level}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{level}")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    x = _block(x, base * 2**depth, "bottleneck")
    for level in reversed(range(depth)):
        x = layers.Conv2DTranspose(base * 2**level, 2, strides=2, name=f"up{level}")(x)
        x = layers.Concatenate(name=f"skip{level}")([x, skips[level]])
        x = _block(x, base * 2**level, f"dec{level}")
    outputs = layers.Conv2D(1, 1, activation="sigmoid", name="vessel")(x)
    return keras.Model(inputs, outputs, name=name)
