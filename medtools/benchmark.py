"""Train and evaluate the book's named classifier configurations; ``python -m medtools.benchmark``.

Introduced in the chapter *The article's Keras classifier* (``chapters/keras_classifier``)
and used again in *Beyond the article* (``chapters/beyond_article``): the chapters call
:func:`run_config`, the command line runs the same function for every requested
(model, dataset, seed) and prints ONE JSON document to stdout.

Example (the full benchmark of the book; progress bars go to stderr)::

    python -m medtools.benchmark --model article,compact \\
        --dataset pneumoniamnist,breastmnist --seeds 0,1,2 > benchmark.json

Every run goes through :func:`medtools.train.fit_cached` (pass ``--no-cache`` to
retrain), is seeded with :func:`medtools.train.set_seed`, and is evaluated with
:func:`medtools.metrics.evaluate_binary` on the official test split: MedMNIST-style
ROC-AUC and ACC at 0.5 with bootstrap 95 % intervals, sensitivity and specificity at a
threshold chosen on the validation split, and the expected calibration error.

Import graph: ``benchmark`` → ``train``, ``models``, ``data``, ``metrics``; nothing
imports ``benchmark``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "DATASETS",
    "MODELS",
    "DatasetConfig",
    "ModelConfig",
    "RunResult",
    "article_augmentation",
    "build_model",
    "main",
    "make_augmentation",
    "run_config",
    "run_many",
    "summarise",
]

#: Bumped whenever training code changes in a way that changes trained weights.
SPEC_VERSION = 2
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
        augment: ``"article"`` (the article's ImageDataGenerator settings), ``"policy"``
            (the dataset's modality-aware policy) or a policy name.
        batch_size: images per training step.
        epochs: default epochs per dataset (chosen on validation data only).
        hparams: keyword arguments of the builder (part of the cache key).
        cosine: decay the learning rate to 0 with a cosine schedule over the run.
        track_test: also record the test AUC after every epoch (``history["test_auc"]``),
            for the selection-bias demonstration of the chapter; costs a forward pass
            over the test split per epoch, and is never used to choose anything.
    """

    description: str
    augment: str
    batch_size: int
    epochs: dict[str, int]
    hparams: dict[str, Any] = field(default_factory=dict)
    cosine: bool = False
    track_test: bool = False


DATASETS: dict[str, DatasetConfig] = {
    "pneumoniamnist": DatasetConfig(policy="xray", positive=1, positive_name="pneumonia"),
    "breastmnist": DatasetConfig(policy="ultrasound", positive=0, positive_name="malignant"),
}

MODELS: dict[str, ModelConfig] = {
    "article": ModelConfig(
        description="the article's CNN (Conv32-64-128 + Flatten + Dense512), Adam 1e-3, "
        "the article's augmentation and batch size 32",
        augment="article",
        batch_size=32,
        epochs={"pneumoniamnist": 4, "breastmnist": 40},
        track_test=True,
    ),
    "compact": ModelConfig(
        description="compact CNN (Conv-BN-ReLU stages, global average pooling), Adam 2e-3 "
        "with cosine decay, modality-aware augmentation, batch size 64",
        augment="policy",
        batch_size=64,
        epochs={"pneumoniamnist": 5, "breastmnist": 20},
        hparams={"widths": [24, 48, 96], "convs_per_stage": [1, 1, 1], "dropout": 0.2, "learning_rate": 2e-3},
        cosine=True,
    ),
}


# ---------------------------------------------------------------------------
# Augmentation and models
# ---------------------------------------------------------------------------


def article_augmentation(seed: int = 0) -> keras.Sequential:
    """The article's ``ImageDataGenerator`` augmentation, as Keras 3 preprocessing layers.

    ``rotation_range=20`` → ``RandomRotation(±20°)``; ``width/height_shift_range=0.2`` →
    ``RandomTranslation(±20 %)``; ``zoom_range=0.2`` → ``RandomZoom(±20 %)`` in each
    direction; ``horizontal_flip=True`` → ``RandomFlip("horizontal")``;
    ``fill_mode='nearest'`` kept. ``shear_range=0.2`` is dropped: Keras 2 read it as a
    shear angle of 0.2 *degrees*, a no-op at 28 or 150 pixels. ``rescale=1./255`` is
    done by :func:`medtools.data.make_dataset`.
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


def make_augmentation(name: str, dataset: str, seed: int = 0) -> keras.Sequential | None:
    """The augmentation named ``name`` for ``dataset``: ``"article"``, ``"policy"``
    (the dataset's policy in :data:`DATASETS`) or a policy of :func:`medtools.data.augmentation`
    (``"none"`` gives None)."""
    from medtools.data import augmentation

    if name == "article":
        return article_augmentation(seed)
    if name == "policy":
        name = _dataset(dataset).policy
    return augmentation(name, seed=seed)


def _dataset(name: str) -> DatasetConfig:
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; the benchmark knows {', '.join(DATASETS)}.")
    return DATASETS[name]


def _model(name: str) -> ModelConfig:
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
    """A fresh compiled model of configuration ``name`` (``"article"`` or ``"compact"``).

    Args:
        name: a key of :data:`MODELS`.
        input_shape: ``(H, W, C)``.
        steps: total training steps (for the cosine learning-rate schedule).
        hparams: overrides of the configuration's builder arguments.
    """
    from medtools import models

    cfg = _model(name)
    if name == "article":
        return models.article_cnn(input_shape)
    kw = dict(cfg.hparams, **(hparams or {}))
    if cfg.cosine and steps:
        import keras

        kw["learning_rate"] = keras.optimizers.schedules.CosineDecay(kw.get("learning_rate", 1e-3), steps)
    return models.compact_cnn(input_shape, **kw)


# One model instance per architecture and schedule, re-initialised for every run (see
# :func:`_reinitialised`): Keras traces a model's training step into a TensorFlow graph
# the first time it is fitted, which costs seconds of CPU; a re-initialised model keeps
# its traced step. The weights, optimizer state and random-seed state are copied from a
# freshly built model, so a run gives the same result with or without the pool
# (``tests/test_benchmark.py`` checks this).
_POOL: dict[str, Any] = {}


def _reinitialised(name: str, shape: tuple[int, int, int], steps: int, hparams: dict[str, Any] | None) -> Any:
    fresh = build_model(name, shape, steps=steps, hparams=hparams)
    key = json.dumps([name, list(shape), steps, hparams or {}], sort_keys=True, default=str)
    pooled = _POOL.get(key)
    if pooled is None:
        _POOL[key] = fresh
        return fresh
    for m in (fresh, pooled):
        if not m.optimizer.built:
            m.optimizer.build(m.trainable_variables)
    for dst, src in zip(pooled.variables, fresh.variables, strict=True):
        dst.assign(src)
    for dst, src in zip(pooled.optimizer.variables, fresh.optimizer.variables, strict=True):
        dst.assign(src)
    return pooled


# ---------------------------------------------------------------------------
# One run
# ---------------------------------------------------------------------------


@dataclass
class RunResult:
    """One trained and evaluated (model, dataset, seed).

    Attributes:
        row: the JSON-friendly record printed by the command line (see :func:`run_config`).
        model: the trained ``keras.Model``.
        record: the :func:`medtools.train.fit_cached` record (``history``, ``train_seconds``, …).
        y_val, p_val: validation labels ``(M,)`` int64 and probabilities of label 1 ``(M,)`` float32.
        y_test, p_test: the same for the test split ``(N,)``.
    """

    row: dict[str, Any]
    model: Any
    record: dict[str, Any]
    y_val: np.ndarray
    p_val: np.ndarray
    y_test: np.ndarray
    p_test: np.ndarray

    @property
    def history(self) -> dict[str, list[float]]:
        """Per-epoch ``loss``, ``accuracy`` (training), ``val_loss``, ``val_auc`` (and ``test_auc``
        for configurations with ``track_test``)."""
        return self.record["history"]


def _predict(model: Any, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Probabilities of label 1, ``(N,)`` float32, from eager calls in inference mode.

    Eager calls avoid tracing a new ``predict`` graph for every batch shape (each trace
    costs seconds of CPU on a 2-core machine; a forward pass of 1,000 images costs less).
    """
    from medtools.data import to_float

    xs = to_float(x)
    out = [np.asarray(model(xs[i : i + batch_size], training=False))[:, 0] for i in range(0, len(xs), batch_size)]
    return np.concatenate(out).astype(np.float32)


def _bce(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p.astype(np.float64), 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def run_config(
    model: str = "compact",
    dataset: str = "pneumoniamnist",
    seed: int = 0,
    *,
    epochs: int | None = None,
    augment: str | None = None,
    batch_size: int | None = None,
    subset: int | None = None,
    hparams: dict[str, Any] | None = None,
    n_boot: int = 1000,
    cache: bool = True,
    reuse: bool = True,
) -> RunResult:
    """Train (or load from the cache) one configuration and evaluate it on the test split.

    The training spec given to :func:`medtools.train.fit_cached` names the model and its
    hyper-parameters, dataset, image size, seed, epochs, augmentation, batch size and
    training subset. After every epoch the validation loss and ROC-AUC are recorded in
    the history (``val_loss``, ``val_auc``), and for configurations with ``track_test``
    (the article's model) the test ROC-AUC too (``test_auc``) — to *show* how selecting
    an epoch on validation data inflates the validation score; nothing is selected with
    them.

    Args:
        model: ``"article"`` or ``"compact"`` (:data:`MODELS`).
        dataset: ``"pneumoniamnist"`` or ``"breastmnist"`` (:data:`DATASETS`).
        seed: seeds weights, shuffling and augmentation (:func:`medtools.train.set_seed`).
        epochs: override of the configuration's default epochs for ``dataset``.
        augment: override of the augmentation (``"article"``, ``"policy"``, ``"xray"``,
            ``"ultrasound"``, ``"none"``…).
        batch_size: override of the batch size.
        subset: train on the first ``subset`` training images only (for quick tests).
        hparams: overrides of the compact model's builder arguments.
        n_boot: bootstrap resamples for the confidence intervals.
        cache: False to retrain even if an identical run is cached.
        reuse: re-initialise and reuse a model of the same architecture from an earlier
            run in this process (saves the seconds Keras spends tracing the training
            step; the result is the same either way).

    Returns:
        :class:`RunResult`; its ``row`` holds ``model``, ``dataset``, ``seed``, ``epochs``,
        ``batch_size``, ``augment``, ``params``, ``train_seconds``,
        ``train_images_per_second``, ``inference_images_per_second``, ``cached``,
        ``val`` (``auc``, ``acc``) and ``test`` (:func:`medtools.metrics.evaluate_binary`).
    """
    from medtools import data, metrics, train

    dcfg, mcfg = _dataset(dataset), _model(model)
    epochs = int(epochs if epochs is not None else mcfg.epochs[dataset])
    augment = augment or mcfg.augment
    batch_size = int(batch_size or mcfg.batch_size)
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}.")
    splits = data.load(dataset, IMAGE_SIZE)
    x_tr, y_tr = splits.train.x, splits.train.y
    if subset is not None:
        if not 1 <= subset <= len(x_tr):
            raise ValueError(f"subset must be between 1 and {len(x_tr)}, got {subset}.")
        x_tr, y_tr = x_tr[:subset], y_tr[:subset]
    shape = (IMAGE_SIZE, IMAGE_SIZE, 1)
    steps = epochs * math.ceil(len(x_tr) / batch_size)
    spec = {
        "version": SPEC_VERSION,
        "model": model,
        "hparams": dict(mcfg.hparams, **(hparams or {})) if model != "article" else {},
        "cosine": mcfg.cosine,
        "track_test": mcfg.track_test,
        "dataset": dataset,
        "size": IMAGE_SIZE,
        "seed": int(seed),
        "epochs": epochs,
        "augment": augment,
        "batch_size": batch_size,
        "subset": subset,
    }
    train.set_seed(int(seed))

    def build() -> Any:
        if reuse:
            return _reinitialised(model, shape, steps, hparams)
        return build_model(model, shape, steps=steps, hparams=hparams)

    def fit(m: Any) -> dict[str, list[float]]:
        import keras

        aug = make_augmentation(augment, dataset, seed=int(seed))
        ds_tr = data.make_dataset(x_tr, y_tr, training=True, batch_size=batch_size, seed=int(seed), augment=aug)
        extra: dict[str, list[float]] = {"val_loss": [], "val_auc": []}
        if mcfg.track_test:
            extra["test_auc"] = []

        class _Track(keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                pv = _predict(self.model, splits.val.x)
                extra["val_loss"].append(_bce(splits.val.y, pv))
                extra["val_auc"].append(metrics.medmnist_auc(splits.val.y, pv))
                if mcfg.track_test:
                    pt = _predict(self.model, splits.test.x)
                    extra["test_auc"].append(metrics.medmnist_auc(splits.test.y, pt))

        hist = m.fit(ds_tr, epochs=epochs, verbose=0, shuffle=False, callbacks=[_Track()])
        return dict(hist.history, **extra)

    trained, record = train.fit_cached(build, fit, spec, cache=cache)
    if reuse:  # hand out a model of its own: the pooled one is re-initialised by the next run
        standalone = build_model(model, shape, steps=steps, hparams=hparams)
        standalone.set_weights(trained.get_weights())
        trained = standalone
    p_val = _predict(trained, splits.val.x)
    p_test = _predict(trained, splits.test.x)
    start = time.perf_counter()
    _predict(trained, splits.test.x)
    infer_s = time.perf_counter() - start
    evaluation = metrics.evaluate_binary(
        splits.test.y,
        p_test,
        y_val=splits.val.y,
        p_val=p_val,
        positive=dcfg.positive,
        n_boot=n_boot,
        seed=int(seed),
    )
    evaluation["operating_point"]["positive_name"] = dcfg.positive_name
    row = {
        "model": model,
        "dataset": dataset,
        "seed": int(seed),
        "epochs": epochs,
        "batch_size": batch_size,
        "augment": augment if augment not in ("policy",) else dcfg.policy,
        "subset": subset,
        "params": int(trained.count_params()),
        "train_seconds": float(record["train_seconds"]),
        "train_images_per_second": len(x_tr) * epochs / float(record["train_seconds"]),
        "inference_images_per_second": len(splits.test.x) / infer_s,
        "cached": bool(record.get("cached", False)),
        "val": {
            "auc": metrics.medmnist_auc(splits.val.y, p_val),
            "acc": metrics.medmnist_acc(splits.val.y, p_val),
        },
        "test": evaluation,
    }
    return RunResult(row, trained, record, splits.val.y, p_val, splits.test.y, p_test)


# ---------------------------------------------------------------------------
# Many runs and their summary
# ---------------------------------------------------------------------------


def _mean_sd(values: Sequence[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=float)
    return {
        "mean": float(arr.mean()),
        "sd": float(arr.std(ddof=1)) if len(arr) > 1 else 0.0,
        "min": float(arr.min()),
        "max": float(arr.max()),
    }


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean ± sd (sample sd, ``ddof=1``) over seeds for each (model, dataset) of ``rows``.

    Each summary has ``model``, ``dataset``, ``n_seeds``, ``params`` and, as
    ``{"mean", "sd", "min", "max"}``: ``test_auc``, ``test_acc``, ``sensitivity``,
    ``specificity`` (at the validation-chosen threshold), ``ece``, ``val_auc``,
    ``train_seconds``, ``train_images_per_second``, ``inference_images_per_second``; plus
    the per-seed bootstrap intervals ``test_auc_ci`` and ``test_acc_ci``.
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["model"], r["dataset"]), []).append(r)
    out = []
    for (m, d), rs in groups.items():
        t = [r["test"] for r in rs]
        out.append(
            {
                "model": m,
                "dataset": d,
                "n_seeds": len(rs),
                "seeds": [r["seed"] for r in rs],
                "params": rs[0]["params"],
                "test_auc": _mean_sd([x["auc"] for x in t]),
                "test_acc": _mean_sd([x["acc"] for x in t]),
                "sensitivity": _mean_sd([x["operating_point"]["sensitivity"] for x in t]),
                "specificity": _mean_sd([x["operating_point"]["specificity"] for x in t]),
                "ece": _mean_sd([x["ece"] for x in t]),
                "val_auc": _mean_sd([r["val"]["auc"] for r in rs]),
                "train_seconds": _mean_sd([r["train_seconds"] for r in rs]),
                "train_images_per_second": _mean_sd([r["train_images_per_second"] for r in rs]),
                "inference_images_per_second": _mean_sd([r["inference_images_per_second"] for r in rs]),
                "test_auc_ci": [x["auc_ci"] for x in t],
                "test_acc_ci": [x["acc_ci"] for x in t],
            }
        )
    return out


def run_many(
    models: Sequence[str],
    datasets: Sequence[str],
    seeds: Sequence[int],
    *,
    epochs: int | None = None,
    subset: int | None = None,
    n_boot: int = 1000,
    cache: bool = True,
    progress: bool = True,
) -> list[RunResult]:
    """:func:`run_config` for every (model, dataset, seed), with a tqdm progress bar on stderr."""
    from tqdm.auto import tqdm

    for m in models:
        _model(m)
    for d in datasets:
        _dataset(d)
    jobs = [(m, d, s) for m in models for d in datasets for s in seeds]
    results = []
    bar = tqdm(jobs, desc="benchmark", unit="run", disable=not progress, file=sys.stderr)
    for m, d, s in bar:
        bar.set_postfix_str(f"{m} / {d} / seed {s}")
        results.append(run_config(m, d, s, epochs=epochs, subset=subset, n_boot=n_boot, cache=cache))
    return results


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m medtools.benchmark",
        description=(
            "Train and evaluate the book's binary classifiers on MedMNIST (28x28) and print one "
            "JSON document to stdout: per-run metrics on the official test split (MedMNIST-style "
            "AUC and ACC@0.5 with bootstrap 95% CIs, sensitivity/specificity at a threshold "
            "chosen on validation data, ECE), parameter counts, training time and throughput, "
            "and mean +- sd over seeds per (model, dataset)."
        ),
    )
    p.add_argument("--model", default="article,compact", help=f"comma-separated, from: {', '.join(MODELS)}")
    p.add_argument(
        "--dataset", default="pneumoniamnist,breastmnist", help=f"comma-separated, from: {', '.join(DATASETS)}"
    )
    p.add_argument("--seeds", default="0,1,2", help="comma-separated non-negative ints (default 0,1,2)")
    p.add_argument("--epochs", type=int, default=None, help="override every configuration's epochs (short runs)")
    p.add_argument("--subset", type=int, default=None, help="train on the first N training images only")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument("--no-cache", action="store_true", help="retrain even if a cached run exists")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--indent", type=int, default=1, help="JSON indentation (default 1)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: parse ``argv``, run, print the JSON document; returns 0."""
    args = _parser().parse_args(argv)
    try:
        seeds = [int(s) for s in _csv(args.seeds)]
    except ValueError:
        _parser().error(f"--seeds must be comma-separated ints, got {args.seeds!r}")
    models, datasets = _csv(args.model), _csv(args.dataset)
    for m in models:
        if m not in MODELS:
            _parser().error(f"unknown model {m!r}; choose from {', '.join(MODELS)}")
    for d in datasets:
        if d not in DATASETS:
            _parser().error(f"unknown dataset {d!r}; choose from {', '.join(DATASETS)}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    import medtools

    start = time.perf_counter()
    results = run_many(
        models,
        datasets,
        seeds,
        epochs=args.epochs,
        subset=args.subset,
        n_boot=args.n_boot,
        cache=not args.no_cache,
        progress=not args.no_progress,
    )
    rows = [r.row for r in results]
    doc = {
        "command": "python -m medtools.benchmark " + " ".join(sys.argv[1:] if argv is None else argv),
        "versions": {
            "medtools": medtools.__version__,
            "keras": keras.__version__,
            "tensorflow": tf.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
        "models": {m: MODELS[m].description for m in models},
        "wall_seconds": time.perf_counter() - start,
        "summary": summarise(rows),
        "runs": rows,
    }
    json.dump(doc, sys.stdout, indent=args.indent)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
