"""Every dataset of the book: MedMNIST (verified and cached), CHASE_DB1, synthetic phantoms; pipelines.

Introduced in the chapter *A first look at medical images* (``chapters/background``).

* :mod:`~medtools.data.medmnist` — the MedMNIST registry (:func:`info`, :func:`available`),
  verified download and cache (:func:`fetch`, :func:`data_dir`) and the official splits
  (:func:`load`).
* :mod:`~medtools.data.augment` — augmentation policies (:func:`augmentation`,
  :func:`article_augmentation`).
* :mod:`~medtools.data.pipeline` — ``tf.data`` pipelines (:func:`to_float`, :func:`make_dataset`).
* :mod:`~medtools.data.chase` — CHASE_DB1 retinal vessel images (chapter ``segmentation``);
  import it as ``from medtools.data import chase``.
* :mod:`~medtools.data.phantoms` — synthetic vessel trees (chapter ``segmentation``);
  ``from medtools.data import phantoms``.

The names of the first three modules are re-exported here: chapters write ``data.load(...)``,
``data.make_dataset(...)``, ``data.augmentation(...)``.
"""

from medtools.data.augment import AUGMENTATION_POLICIES, article_augmentation, augmentation
from medtools.data.medmnist import (
    DATA_DIR_ENV,
    OFFLINE_ENV,
    SIZES_2D,
    SIZES_3D,
    SPLITS,
    DataError,
    DatasetInfo,
    Split,
    Splits,
    available,
    data_dir,
    fetch,
    info,
    load,
    md5sum,
    read_npz,
)
from medtools.data.pipeline import make_dataset, to_float

__all__ = [
    "AUGMENTATION_POLICIES",
    "DATA_DIR_ENV",
    "OFFLINE_ENV",
    "SIZES_2D",
    "SIZES_3D",
    "SPLITS",
    "DataError",
    "DatasetInfo",
    "Split",
    "Splits",
    "article_augmentation",
    "augmentation",
    "available",
    "data_dir",
    "fetch",
    "info",
    "load",
    "make_dataset",
    "md5sum",
    "read_npz",
    "to_float",
]
