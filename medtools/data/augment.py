"""Augmentation policies: Keras 3 preprocessing layers suited to a modality, and the article's.

Introduced in the chapter *The workflow: preprocessing, losses, optimisers, metrics*
(``chapters/workflow``), which compares the
policies; :func:`article_augmentation` belongs to the chapter *The article's Keras classifier*
(``chapters/keras_classifier``). Re-exported by :mod:`medtools.data`; :func:`medtools.data.make_dataset`
accepts a policy name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - import only for type checkers
    import keras

__all__ = ["AUGMENTATION_POLICIES", "article_augmentation", "augmentation"]

AUGMENTATION_POLICIES = ("none", "xray", "ultrasound", "fundus", "article")




def augmentation(policy: str = "xray", seed: int = 0) -> keras.Sequential | None:
    """A Keras 3 preprocessing-layer augmentation suited to a modality.

    * ``"xray"`` (chest radiographs): small rotations (±5°), shifts (±5 %) and zooms
      (±10 %), brightness/contrast jitter; **no flips** — a mirrored chest puts the
      heart on the wrong side (dextrocardia), a different anatomy.
    * ``"ultrasound"``: the same plus horizontal flips (probe orientation is arbitrary
      left/right on a B-mode image).
    * ``"fundus"`` (retinal photographs): horizontal flips (a mirrored right eye looks like a
      left eye), rotations of at most ±10° (a tilted head or camera); no vertical flips or
      large rotations — they move the optic disc above or below the macula, an orientation a
      fundus photograph does not show (chapter *Grading for treatment decisions*).
    * ``"article"``: the article's ``ImageDataGenerator`` settings, :func:`article_augmentation`
      (the same layers and seeds), so a caller that names policies need not branch on it.
    * ``"none"``: returns None.

    The layers act only when called with ``training=True``. Input: float images
    ``(B, H, W, C)`` in [0, 1].
    """
    import keras

    if policy not in AUGMENTATION_POLICIES:
        raise ValueError(
            f"Unknown augmentation policy {policy!r}; use one of {', '.join(AUGMENTATION_POLICIES)}."
        )
    if policy == "none":
        return None
    if policy == "article":
        return article_augmentation(seed)
    layers: list[Any] = []
    if policy == "fundus":
        layers += [
            keras.layers.RandomFlip("horizontal", seed=seed),
            keras.layers.RandomRotation(10 / 360, fill_mode="constant", seed=seed + 1),
        ]
    else:
        if policy == "ultrasound":
            layers.append(keras.layers.RandomFlip("horizontal", seed=seed))
        layers += [
            keras.layers.RandomRotation(5 / 360, fill_mode="nearest", seed=seed + 1),
            keras.layers.RandomTranslation(0.05, 0.05, fill_mode="nearest", seed=seed + 2),
            keras.layers.RandomZoom(0.1, fill_mode="nearest", seed=seed + 3),
        ]
    layers += [
        keras.layers.RandomBrightness(0.1, value_range=(0.0, 1.0), seed=seed + 4),
        keras.layers.RandomContrast(0.1, seed=seed + 5),
    ]
    return keras.Sequential(layers, name=f"augment_{policy}")


def article_augmentation(seed: int = 0) -> keras.Sequential:
    """The article's ``ImageDataGenerator`` augmentation, as Keras 3 preprocessing layers.

    Introduced in the chapter *The article's Keras classifier* (``chapters/keras_classifier``).
    ``rotation_range=20`` → ``RandomRotation(±20°)``; ``width/height_shift_range=0.2`` →
    ``RandomTranslation(±20 %)``; ``zoom_range=0.2`` → ``RandomZoom(±20 %)`` in each
    direction; ``horizontal_flip=True`` → ``RandomFlip("horizontal")``;
    ``fill_mode='nearest'`` kept. ``shear_range=0.2`` is dropped: Keras 2 read it as a
    shear angle of 0.2 *degrees*, a no-op at 28 or 150 pixels. ``rescale=1./255`` is
    done by :func:`make_dataset`. Input: float images ``(B, H, W, C)`` in [0, 1].
    """
    import keras
    from keras import layers

    return keras.Sequential(
        [
            layers.RandomRotation(20 / 360, fill_mode="nearest", seed=seed),
            layers.RandomTranslation(0.2, 0.2, fill_mode="nearest", seed=seed + 1),
            layers.RandomZoom(0.2, 0.2, fill_mode="nearest", seed=seed + 2),
            layers.RandomFlip("horizontal", seed=seed + 3),
        ],
        name="augment_article",
    )
