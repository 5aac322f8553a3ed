"""One benchmark run, and many: train (or load), evaluate, summarise.

Part of :mod:`medtools.benchmark` (chapter *The article's Keras classifier*). A run is three
steps, one function each: :func:`train_run` trains through :func:`medtools.train.fit_cached`
(seeded, cached), :func:`evaluate_run` scores the validation and test splits with
:func:`medtools.metrics.evaluate_binary`, and :func:`run_config` ties them together into a
:class:`RunResult`.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from medtools.benchmark.config import (
    IMAGE_SIZE,
    DatasetConfig,
    ModelConfig,
    build_model,
    dataset_config,
    model_config,
)

if TYPE_CHECKING:  # pragma: no cover
    from medtools.data import Splits

__all__ = ["RunPlan", "RunResult", "ensemble", "evaluate_run", "load_splits", "run_config", "run_many", "run_plan", "summarise",
           "train_run"]

#: Bumped whenever the training code changes in a way the cache key cannot see.
SPEC_VERSION = 5


@dataclass(frozen=True)
class RunPlan:
    """One (model, dataset) configuration with every setting resolved, once.

    :meth:`resolve` looks the names up in :data:`~medtools.benchmark.config.MODELS` and
    :data:`~medtools.benchmark.config.DATASETS`, applies the overrides and checks them; the
    training, the evaluation and the JSON row then read the plan, not the tables again.

    Attributes:
        model, dataset: the configuration's names.
        epochs, batch_size: the training budget.
        augment: ``"article"`` or a policy of :func:`medtools.data.augmentation` (the model's
            ``"policy"`` is resolved to the dataset's policy here).
        subset: train on the first ``subset`` training images only, or None.
        hparams: overrides of the builder's arguments (empty: the configuration's own).
        balanced: weigh the classes equally in the training loss.
    """

    model: str
    dataset: str
    epochs: int
    batch_size: int
    augment: str
    subset: int | None = None
    hparams: dict[str, Any] = field(default_factory=dict)
    balanced: bool = False

    @property
    def model_config(self) -> ModelConfig:
        return model_config(self.model)

    @property
    def dataset_config(self) -> DatasetConfig:
        return dataset_config(self.dataset)

    @classmethod
    def resolve(
        cls,
        model: str,
        dataset: str,
        *,
        epochs: int | None = None,
        augment: str | None = None,
        batch_size: int | None = None,
        subset: int | None = None,
        hparams: dict[str, Any] | None = None,
        balanced: bool = False,
    ) -> RunPlan:
        """The plan of ``model`` on ``dataset`` with the given overrides (None: the configuration's).

        Raises:
            ValueError: an unknown model or dataset, or epochs, batch size or subset below 1.
        """
        mcfg, dcfg = model_config(model), dataset_config(dataset)
        epochs = int(epochs if epochs is not None else mcfg.epochs[dataset])
        batch_size = int(batch_size or mcfg.batch_size)
        if epochs < 1 or batch_size < 1:
            raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}.")
        if subset is not None and subset < 1:
            raise ValueError(f"subset must be at least 1 (or None for the whole split), got {subset}.")
        augment = augment or mcfg.augment
        return cls(model, dataset, epochs, batch_size, dcfg.policy if augment == "policy" else augment,
                   subset, dict(hparams or {}), bool(balanced))

    def spec(self, seed: int) -> dict[str, Any]:
        """What the trained weights depend on beyond the model, the code and the data arrays
        (the spec of :func:`medtools.train.fit_cached`, in its vocabulary)."""
        mcfg = self.model_config
        return {
            "version": SPEC_VERSION, "model": self.model, "hparams": dict(mcfg.hparams, **self.hparams),
            "cosine": mcfg.cosine, "track_test": mcfg.track_test, "dataset": self.dataset, "size": IMAGE_SIZE,
            "seed": int(seed), "epochs": self.epochs, "augment": self.augment, "batch_size": self.batch_size,
            "subset": self.subset, "balanced": self.balanced, "restore_best": mcfg.restore_best,
        }


def load_splits(dataset: str) -> Splits:
    """The dataset's official splits at :data:`~medtools.benchmark.config.IMAGE_SIZE` (loaded once per
    :func:`run_many`, and by :func:`run_config` when it is not given them)."""
    from medtools import data

    dataset_config(dataset)
    return data.load(dataset, IMAGE_SIZE)


class _ModelPool:
    """One model instance per architecture and schedule, re-initialised for every run.

    Keras traces a model's training step into a TensorFlow graph the first time it is
    fitted, which costs seconds of CPU; a re-initialised model keeps its traced step. The
    weights and optimizer state are copied from a freshly built model, so a run gives the
    same result with or without the pool (``tests/test_benchmark.py`` checks this).
    """

    def __init__(self) -> None:
        self._models: dict[str, Any] = {}

    def get(self, name: str, shape: tuple[int, int, int], steps: int, hparams: dict[str, Any] | None) -> Any:
        fresh = build_model(name, shape, steps=steps, hparams=hparams)
        key = json.dumps([name, list(shape), steps, hparams or {}], sort_keys=True, default=str)
        pooled = self._models.setdefault(key, fresh)
        if pooled is fresh:
            return fresh
        for m in (fresh, pooled):
            if not m.optimizer.built:
                m.optimizer.build(m.trainable_variables)
        for dst, src in zip(pooled.variables, fresh.variables, strict=True):
            dst.assign(src)
        for dst, src in zip(pooled.optimizer.variables, fresh.optimizer.variables, strict=True):
            dst.assign(src)
        return pooled


_POOL = _ModelPool()


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


def train_run(plan: RunPlan, seed: int, splits: Splits, *, cache: bool = True,
              reuse: bool = True) -> tuple[Any, dict[str, Any]]:
    """Train one plan on one seed (or load it from the weight cache).

    With ``plan.balanced``, each training image of class ``c`` weighs ``N / (2 N_c)`` in the loss
    (:func:`medtools.train.balanced_class_weights`), so both classes count equally whatever their
    frequency. For a configuration with ``restore_best`` the record's history has ``best_epoch``
    (1-based, one value). The weight cache keys on the training arrays themselves
    (``fit_cached(data=...)``), besides the plan's spec.

    Args:
        plan: from :meth:`RunPlan.resolve`.
        seed: seeds weights, shuffling and augmentation (:func:`medtools.train.set_seed`).
        splits: the dataset's splits (:func:`load_splits`).
        cache: False to retrain even if an identical run is cached.
        reuse: re-initialise a pooled model of the same architecture (the result is the same).

    Returns:
        ``(model, record)``: the trained model (a model of its own, never the pooled one) and the
        :func:`medtools.train.fit_cached` record.
    """
    from medtools import data, train
    from medtools.callbacks import EpochMetrics, TrainingProgress

    mcfg = plan.model_config
    x_tr, y_tr = splits.train.x, splits.train.y
    if plan.subset is not None:
        if plan.subset > len(x_tr):
            raise ValueError(f"subset must be between 1 and {len(x_tr)}, got {plan.subset}.")
        x_tr, y_tr = x_tr[: plan.subset], y_tr[: plan.subset]
    shape = (IMAGE_SIZE, IMAGE_SIZE, 1)
    steps = plan.epochs * math.ceil(len(x_tr) / plan.batch_size)
    train.set_seed(int(seed))
    class_weight = train.balanced_class_weights(y_tr) if plan.balanced else None

    def build() -> Any:
        if reuse:
            return _POOL.get(plan.model, shape, steps, plan.hparams)
        return build_model(plan.model, shape, steps=steps, hparams=plan.hparams)

    def fit(m: Any) -> dict[str, list[float]]:
        aug = data.augmentation(plan.augment, seed=int(seed))
        ds_tr = data.make_dataset(x_tr, y_tr, training=True, batch_size=plan.batch_size, seed=int(seed), augment=aug)
        track = EpochMetrics({"val": (splits.val.x, splits.val.y)} | ({"test": (splits.test.x, splits.test.y)}
                                                                     if mcfg.track_test else {}),
                             restore_best=mcfg.restore_best)
        bar = TrainingProgress(f"{plan.model} / {plan.dataset} / seed {seed}", metrics=track)
        hist = m.fit(ds_tr, epochs=plan.epochs, verbose=0, shuffle=False, callbacks=[track, bar],
                     class_weight=class_weight)
        best = {"best_epoch": [track.best_epoch]} if mcfg.restore_best else {}
        return dict(hist.history, **track.history, **best)

    trained, record = train.fit_cached(build, fit, plan.spec(seed), data=(x_tr, y_tr, splits.val.x, splits.val.y),
                                       cache=cache)
    if reuse:  # hand out a model of its own: the pooled one is re-initialised by the next run
        standalone = build_model(plan.model, shape, steps=steps, hparams=plan.hparams)
        standalone.set_weights(trained.get_weights())
        trained = standalone
    return trained, record


def evaluate_run(
    trained: Any, splits: Splits, dcfg: DatasetConfig, seed: int, n_boot: int = 1000
) -> tuple[dict[str, Any], np.ndarray, np.ndarray, float]:
    """Score a trained model on the validation and test splits.

    Args:
        trained: a model with one sigmoid output.
        splits: the dataset's splits.
        dcfg: the dataset's configuration (which label is positive, and its name).
        seed: the bootstrap's seed.
        n_boot: bootstrap resamples for the confidence intervals.

    Returns:
        ``(evaluation, p_val, p_test, inference_seconds)``: the dict of
        :func:`medtools.metrics.evaluate_binary` (test split; operating point chosen on the
        validation split), the probabilities of label 1 on both splits (float32), and the
        wall time of one more forward pass over the test split.
    """
    from medtools import metrics
    from medtools.train import predict_proba

    p_val = predict_proba(trained, splits.val.x)
    p_test = predict_proba(trained, splits.test.x)
    start = time.perf_counter()
    predict_proba(trained, splits.test.x)
    infer_s = time.perf_counter() - start
    evaluation = metrics.evaluate_binary(
        splits.test.y, p_test, y_val=splits.val.y, p_val=p_val, positive=dcfg.positive, n_boot=n_boot, seed=int(seed)
    )
    evaluation["operating_point"]["positive_name"] = dcfg.positive_name
    return evaluation, p_val, p_test, infer_s


def run_plan(plan: RunPlan, seed: int, splits: Splits, *, n_boot: int = 1000, cache: bool = True,
             reuse: bool = True) -> RunResult:
    """Train (or load) one plan on one seed and evaluate it: the work of :func:`run_config`,
    for a plan resolved and splits loaded by the caller (:func:`run_many` does both once)."""
    from medtools import metrics
    from medtools.benchmark.throughput import training_gflops
    from medtools.models import count_flops

    trained, record = train_run(plan, seed, splits, cache=cache, reuse=reuse)
    evaluation, p_val, p_test, infer_s = evaluate_run(trained, splits, plan.dataset_config, seed, n_boot)
    n_train = plan.subset or len(splits.train)
    images_per_s = n_train * plan.epochs / float(record["train_seconds"])
    flops = int(count_flops(trained))
    row = {
        "model": plan.model,
        "dataset": plan.dataset,
        "seed": int(seed),
        "epochs": plan.epochs,
        "batch_size": plan.batch_size,
        "augment": plan.augment,
        "subset": plan.subset,
        "balanced": plan.balanced,
        "best_epoch": int(record["history"]["best_epoch"][0]) if "best_epoch" in record["history"] else plan.epochs,
        "params": int(trained.count_params()),
        "flops_per_image": flops,
        "train_seconds": float(record["train_seconds"]),
        "train_images_per_second": images_per_s,
        "train_gflop_per_second": training_gflops(flops, images_per_s),
        "inference_images_per_second": len(splits.test.x) / infer_s,
        "cached": bool(record.get("cached", False)),
        "val": {"auc": metrics.medmnist_auc(splits.val.y, p_val), "acc": metrics.medmnist_acc(splits.val.y, p_val)},
        "test": evaluation,
    }
    return RunResult(row, trained, record, splits.val.y, p_val, splits.test.y, p_test)


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
    balanced: bool = False,
    n_boot: int = 1000,
    cache: bool = True,
    reuse: bool = True,
) -> RunResult:
    """Train (or load from the cache) one configuration and evaluate it on the test split.

    After every epoch the validation loss and ROC-AUC are recorded in the history
    (``val_loss``, ``val_auc``), and for configurations with ``track_test`` (the article's
    model) the test ROC-AUC too (``test_auc``) — to *show* how selecting an epoch on
    validation data inflates the validation score; nothing is selected with them.

    Args:
        model: a key of :data:`~medtools.benchmark.config.MODELS` (``"article"``, ``"compact"``).
        dataset: a key of :data:`~medtools.benchmark.config.DATASETS`.
        seed: seeds weights, shuffling and augmentation (:func:`medtools.train.set_seed`).
        epochs: override of the configuration's epochs for ``dataset``.
        augment: override of the augmentation (``"article"``, ``"policy"``, ``"xray"``, …).
        batch_size: override of the batch size.
        subset: train on the first ``subset`` training images only (for quick tests).
        hparams: overrides of the builder's arguments.
        balanced: weigh the classes equally in the training loss (:func:`train_run`).
        n_boot: bootstrap resamples for the confidence intervals.
        cache: False to retrain even if an identical run is cached.
        reuse: re-initialise and reuse a model of the same architecture from an earlier run
            in this process (saves the seconds Keras spends tracing the training step; the
            result is the same either way).

    Returns:
        :class:`RunResult`; its ``row`` holds ``model``, ``dataset``, ``seed``, ``epochs``,
        ``batch_size``, ``augment``, ``subset``, ``balanced``, ``best_epoch``, ``params``,
        ``flops_per_image`` (one forward pass, :func:`medtools.models.count_flops`), ``train_seconds``,
        ``train_images_per_second``, ``train_gflop_per_second``
        (:func:`medtools.benchmark.throughput.training_gflops`), ``inference_images_per_second``, ``cached``,
        ``val`` (``auc``, ``acc``) and ``test`` (:func:`medtools.metrics.evaluate_binary`).
    """
    plan = RunPlan.resolve(model, dataset, epochs=epochs, augment=augment, batch_size=batch_size, subset=subset,
                           hparams=hparams, balanced=balanced)
    return run_plan(plan, seed, load_splits(dataset), n_boot=n_boot, cache=cache, reuse=reuse)


def _mean_sd(values: Sequence[float]) -> dict[str, float | int | None]:
    from medtools.stats import MeanSD

    return MeanSD.of(values).as_dict()


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean ± sd (sample sd, ``ddof=1``) over seeds for each (model, dataset) of ``rows``.

    Each summary has ``model``, ``dataset``, ``n_seeds``, ``seeds``, ``params`` and, as
    ``{"mean", "sd", "n", "min", "max"}`` (``sd`` None for one seed): ``test_auc``, ``test_acc``, ``sensitivity``,
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


def ensemble(results: Sequence[RunResult], n_boot: int = 1000) -> list[dict[str, Any]]:
    """The mean prediction of each (model, dataset)'s seeds, evaluated like one model.

    For every (model, dataset) in ``results`` the probabilities of its runs are averaged on the
    validation and the test split, and scored with :func:`medtools.metrics.evaluate_binary`
    (operating point chosen on the averaged validation probabilities).

    Returns:
        One dict per (model, dataset): ``model``, ``dataset``, ``n_models``, ``seeds``,
        ``params`` (all members together), ``test_auc``, ``test_acc``, ``sensitivity``,
        ``specificity``, ``ece``, ``test_auc_ci``, ``test_acc_ci``.
    """
    from medtools import metrics

    groups: dict[tuple[str, str], list[RunResult]] = {}
    for r in results:
        groups.setdefault((r.row["model"], r.row["dataset"]), []).append(r)
    out = []
    for (m, d), rs in groups.items():
        p_val = np.mean([r.p_val for r in rs], axis=0)
        p_test = np.mean([r.p_test for r in rs], axis=0)
        ev = metrics.evaluate_binary(rs[0].y_test, p_test, y_val=rs[0].y_val, p_val=p_val,
                                     positive=dataset_config(d).positive, n_boot=n_boot, seed=0)
        out.append({
            "model": m, "dataset": d, "n_models": len(rs), "seeds": [r.row["seed"] for r in rs],
            "params": int(sum(r.row["params"] for r in rs)), "test_auc": ev["auc"], "test_acc": ev["acc"],
            "sensitivity": ev["operating_point"]["sensitivity"], "specificity": ev["operating_point"]["specificity"],
            "ece": ev["ece"], "test_auc_ci": ev["auc_ci"], "test_acc_ci": ev["acc_ci"],
        })
    return out


def run_many(
    models: Sequence[str],
    datasets: Sequence[str],
    seeds: Sequence[int],
    *,
    epochs: int | None = None,
    subset: int | None = None,
    balanced: bool = False,
    n_boot: int = 1000,
    cache: bool = True,
    progress: bool = True,
) -> list[RunResult]:
    """:func:`run_config` for every (model, dataset, seed), with a tqdm progress bar on stderr."""
    from tqdm.auto import tqdm

    plans = {(m, d): RunPlan.resolve(m, d, epochs=epochs, subset=subset, balanced=balanced)
             for m in models for d in datasets}  # every name checked before anything trains
    splits = {d: load_splits(d) for d in datasets}
    jobs = [(m, d, s) for m in models for d in datasets for s in seeds]
    results = []
    bar = tqdm(jobs, desc="benchmark", unit="run", disable=not progress, file=sys.stderr)
    for m, d, s in bar:
        bar.set_postfix_str(f"{m} / {d} / seed {s}")
        results.append(run_plan(plans[m, d], s, splits[d], n_boot=n_boot, cache=cache))
    return results
