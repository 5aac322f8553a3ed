"""What the benchmark trains: datasets, named model configurations and their builders.

Part of :mod:`medtools.benchmark` (chapter *The article's Keras classifier*). A configuration
names its builder function, so adding a model is adding a row to :data:`MODELS`, not a branch
in the training code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from medtools import models

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = ["DATASETS", "IMAGE_SIZE", "MODELS", "TASKS", "DatasetConfig", "ModelConfig", "build_model", "dataset_config",
           "model_config", "task_module"]

#: Image size of every benchmark run (the MedMNIST 28×28 files).
IMAGE_SIZE = 28


@dataclass(frozen=True)
class DatasetConfig:
    """How one MedMNIST dataset is trained and evaluated.

    Attributes:
        policy: the modality-aware augmentation of :func:`medtools.data.augmentation`.
        positive: label of the clinically positive class (for sensitivity).
        positive_name: its name.
    """

    policy: str
    positive: int
    positive_name: str


@dataclass(frozen=True)
class ModelConfig:
    """A named model configuration.

    Attributes:
        description: one line for the JSON output.
        builder: ``builder(input_shape, **hparams) -> keras.Model``, compiled (e.g.
            :func:`medtools.models.article_cnn`, :func:`medtools.models.compact_cnn`).
        augment: ``"article"`` (the article's ImageDataGenerator settings), ``"policy"``
            (the dataset's modality-aware policy) or a policy name.
        batch_size: images per training step.
        epochs: epochs per dataset (set by hand; see the chapters).
        hparams: keyword arguments of the builder.
        cosine: pass the builder a ``learning_rate`` that decays to 0 along a cosine over the run.
        track_test: also record the test AUC after every epoch (``history["test_auc"]``),
            for the selection-bias demonstration of the chapter; never used to choose anything.
        restore_best: keep the weights of the epoch with the highest validation AUC
            (:class:`medtools.callbacks.EpochMetrics`), instead of the last epoch's.
    """

    description: str
    builder: Callable[..., Any]
    augment: str
    batch_size: int
    epochs: dict[str, int]
    hparams: dict[str, Any] = field(default_factory=dict)
    cosine: bool = False
    track_test: bool = False
    restore_best: bool = False


DATASETS: dict[str, DatasetConfig] = {
    "pneumoniamnist": DatasetConfig(policy="xray", positive=1, positive_name="pneumonia"),
    "breastmnist": DatasetConfig(policy="ultrasound", positive=0, positive_name="malignant"),
}

MODELS: dict[str, ModelConfig] = {
    "article": ModelConfig(
        description="the article's CNN (Conv32-64-128 + Flatten + Dense512), Adam 1e-3, "
        "the article's augmentation and batch size 32",
        builder=models.article_cnn,
        augment="article",
        batch_size=32,
        epochs={"pneumoniamnist": 4, "breastmnist": 40},
        track_test=True,
    ),
    "compact": ModelConfig(
        description="compact CNN (16-32-64 channels, two Conv-BN-ReLU per stage, global average "
        "pooling, dropout 0.3), AdamW 3e-3 with cosine decay and weight decay 1e-4, "
        "modality-aware augmentation, batch size 128, best epoch by validation AUC; the recipe "
        "chosen by medtools.benchmark.search on the validation split",
        builder=models.compact_cnn,
        augment="policy",
        batch_size=128,
        epochs={"pneumoniamnist": 10, "breastmnist": 60},
        hparams={
            "widths": [16, 32, 64],
            "convs_per_stage": [2, 2, 2],
            "dropout": 0.3,
            "learning_rate": 3e-3,
            "optimizer": "adamw",
            "weight_decay": 1e-4,
        },
        cosine=True,
        restore_best=True,
    ),
}


def dataset_config(name: str) -> DatasetConfig:
    """The :class:`DatasetConfig` called ``name``; a ValueError lists the names that exist."""
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; the benchmark knows {', '.join(DATASETS)}.")
    return DATASETS[name]


def model_config(name: str) -> ModelConfig:
    """The :class:`ModelConfig` called ``name``; a ValueError lists the names that exist."""
    if name not in MODELS:
        raise ValueError(f"Unknown model {name!r}; the benchmark knows {', '.join(MODELS)}.")
    return MODELS[name]


def build_model(
    name: str,
    input_shape: tuple[int, int, int] = (IMAGE_SIZE, IMAGE_SIZE, 1),
    *,
    steps: int | None = None,
    hparams: dict[str, Any] | None = None,
) -> keras.Model:
    """A fresh compiled model of configuration ``name``.

    Args:
        name: a key of :data:`MODELS`.
        input_shape: ``(H, W, C)``.
        steps: total training steps (for the cosine learning-rate schedule).
        hparams: overrides of the configuration's builder arguments.
    """
    cfg = model_config(name)
    kw = dict(cfg.hparams, **(hparams or {}))
    if cfg.cosine and steps:
        import keras

        kw["learning_rate"] = keras.optimizers.schedules.CosineDecay(kw.get("learning_rate", 1e-3), steps)
    return cfg.builder(input_shape, **kw)


#: The benchmark's other tasks, one module each, keyed by dataset: grading diabetic retinopathy
#: (RetinaMNIST; the ordinal heads of the chapter *Grading for treatment decisions*) and vessel
#: segmentation (CHASE_DB1; the U-Net of the chapter *Segmentation*). Each module has the same
#: interface: ``MODELS`` (name → one-line description), ``train_and_score(model, seed, *, cache=True) -> dict``
#: (one JSON row: ``model``, ``dataset``, ``seed``, ``params``, ``train_seconds``, ``test{…}``; for
#: segmentation ``test["dice"]``, for grading ``test["auc"]``, ``test["acc"]``, ``test["qwk"]``) and
#: ``summarise(rows) -> list[dict]`` (mean ± sd over seeds per model).
TASKS: dict[str, str] = {
    "retinamnist": "medtools.benchmark.grading",
    "chase_db1": "medtools.benchmark.segmentation",
}


def task_module(dataset: str) -> Any:
    """The module of the task behind ``dataset`` (a key of :data:`TASKS`), imported."""
    import importlib

    if dataset not in TASKS:
        raise ValueError(f"Unknown task dataset {dataset!r}; the benchmark's other tasks are {', '.join(TASKS)}.")
    return importlib.import_module(TASKS[dataset])
