"""The scaling study: one CNN family over three orders of magnitude of parameters, each size trained to convergence on validation.

Introduced in the chapter *Efficiency and scalability* (``chapters/efficiency``):
:func:`scaling_model` (the compact CNN at one width of :data:`SCALING_WIDTHS`),
:func:`scaling_run` (one size and seed trained until its validation AUC stops improving, within
a fixed epoch cap; the best epoch kept; test scores returned for paired comparisons) and
:func:`scaling_study` (every width and seed, with paired differences over seeds and test
cases). ``python -m medtools.efficiency scaling …`` (:mod:`medtools.efficiency.cli`) runs the
study and writes the record the chapter keeps in ``chapters/records/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "SCALING_WIDTHS",
    "scaling_model",
    "scaling_run",
    "scaling_study",
]


#: First-stage widths of the scaling study: the compact CNN (one Conv-BN-ReLU per stage, stages of
#: w, 2w, 4w channels) from about 900 to about 980,000 parameters (three orders of magnitude).
SCALING_WIDTHS = (3, 6, 12, 24, 48, 104)


def scaling_model(width: int, *, learning_rate: float = 2e-3, input_shape: tuple[int, int, int] = (28, 28, 1)) -> keras.Model:
    """The compact CNN of the scaling study at first-stage width ``width`` (stages ``w, 2w, 4w``).

    One Conv-BN-ReLU per stage, dropout 0.2, Adam; the same family as the width sweep of the
    chapter *Efficiency and scalability*. ``width`` 3 has 934 parameters, 104 has 977,705.
    """
    from medtools.models import compact_cnn

    if int(width) < 1:
        raise ValueError(f"width must be a positive int, got {width!r}.")
    w = int(width)
    return compact_cnn(input_shape, widths=(w, 2 * w, 4 * w), convs_per_stage=(1, 1, 1), dropout=0.2,
                       learning_rate=learning_rate)


def scaling_run(
    dataset: str,
    width: int,
    seed: int,
    *,
    max_epochs: int = 30,
    patience: int = 8,
    batch_size: int = 32,
    learning_rate: float = 2e-3,
    cache: bool = True,
) -> dict[str, Any]:
    """Train one size of the scaling study to convergence on validation, and score it on test.

    Training stops when the validation AUC has not improved for ``patience`` epochs, or after
    ``max_epochs`` (the fixed cap); the weights of the epoch with the best validation AUC are
    kept (:class:`medtools.callbacks.EpochMetrics`). So the training length of every size is
    chosen on the validation split, and the test split is read once, at the end. Weights are
    cached (:func:`medtools.train.fit_cached`).

    Returns:
        A JSON-friendly dict: ``dataset``, ``width``, ``params``, ``seed``, ``best_epoch``
        (1-based), ``epochs_run``, ``val_auc`` (at the best epoch), ``test_auc``,
        ``val_auc_curve`` (per epoch), ``train_seconds``, ``cached``, and ``test_scores``
        (the ``(N,)`` test probabilities of label 1, for paired comparisons).
    """
    import keras

    from medtools import data, metrics, train
    from medtools.callbacks import EpochMetrics

    if max_epochs < 1 or patience < 1 or batch_size < 1:
        raise ValueError(f"max_epochs, patience and batch_size must be >= 1, got {max_epochs}, {patience}, {batch_size}.")
    splits = data.load(dataset)
    x_tr, y_tr = data.to_float(splits.train.x), splits.train.y.astype("float32")
    x_val, x_te = data.to_float(splits.val.x), data.to_float(splits.test.x)

    class _StopAfterPatience(keras.callbacks.Callback):
        def __init__(self, track: EpochMetrics) -> None:
            super().__init__()
            self.track = track

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if epoch + 1 - int(self.track.best_epoch or 0) >= patience:
                self.model.stop_training = True

    def fit_to_convergence(model: keras.Model) -> dict[str, list[float]]:
        track = EpochMetrics({"val": (x_val, splits.val.y)}, restore_best=True)
        hist = model.fit(x_tr, y_tr, batch_size=batch_size, epochs=max_epochs, verbose=0, shuffle=True,
                         callbacks=[track, _StopAfterPatience(track)])
        return dict(hist.history, **track.history, best_epoch=[track.best_epoch])

    spec = {"dataset": dataset, "seed": int(seed), "width": int(width), "max_epochs": int(max_epochs),
            "patience": int(patience), "batch": int(batch_size), "lr": float(learning_rate), "study": "scaling"}
    train.set_seed(int(seed))
    model, record = train.fit_cached(lambda: scaling_model(width, learning_rate=learning_rate), fit_to_convergence,
                                     spec, cache=cache)
    hist = record["history"]
    p_val, p_te = train.predict_proba(model, x_val), train.predict_proba(model, x_te)
    return {
        "dataset": dataset, "width": int(width), "params": int(model.count_params()), "seed": int(seed),
        "best_epoch": int(hist["best_epoch"][0]), "epochs_run": len(hist["val_auc"]),
        "val_auc": float(metrics.medmnist_auc(splits.val.y, p_val)),
        "test_auc": float(metrics.medmnist_auc(splits.test.y, p_te)),
        "val_auc_curve": [float(v) for v in hist["val_auc"]],
        "train_seconds": float(record["train_seconds"]), "cached": bool(record.get("cached", False)),
        "test_scores": [float(p) for p in p_te],
    }


def scaling_study(
    dataset: str,
    widths: Sequence[int] = SCALING_WIDTHS,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    max_epochs: int = 30,
    patience: int = 8,
    batch_size: int = 32,
    learning_rate: float = 2e-3,
    n_boot: int = 2000,
    cache: bool = True,
) -> dict[str, Any]:
    """:func:`scaling_run` for every width and seed, with the paired comparisons of the sizes.

    Every width is trained with the same seeds, cap, patience, batch and learning rate, so
    two widths are compared paired by seed on the same test cases
    (:func:`medtools.stats.paired_difference`, bootstrap over seeds and test cases): each
    width against the next smaller one, and the largest against the smallest.

    Returns:
        The record: ``settings``, ``runs`` (one :func:`scaling_run` dict each), ``sizes``
        (per width: ``params``, mean ± sd of ``test_auc``, ``val_auc`` and ``best_epoch``) and
        ``paired`` (``a``, ``b``, and the :class:`medtools.stats.Difference` as a dict).
    """
    from medtools import data, stats

    widths, seeds = [int(w) for w in widths], [int(s) for s in seeds]
    if len(widths) < 2 or len(seeds) < 1:
        raise ValueError(f"need at least two widths and one seed, got {widths} and {seeds}.")
    runs = [scaling_run(dataset, w, s, max_epochs=max_epochs, patience=patience, batch_size=batch_size,
                        learning_rate=learning_rate, cache=cache) for w in widths for s in seeds]
    y_test = data.load(dataset).test.y
    scores = {w: np.array([r["test_scores"] for r in runs if r["width"] == w]) for w in widths}
    sizes = []
    for w in widths:
        rs = [r for r in runs if r["width"] == w]
        sizes.append({"width": w, "params": rs[0]["params"],
                      **{k: stats.MeanSD.of([r[k] for r in rs]).as_dict() for k in ("test_auc", "val_auc", "best_epoch")}})
    pairs = [*zip(widths[1:], widths[:-1], strict=True), (widths[-1], widths[0])]
    paired = [{"a": a, "b": b, **stats.paired_difference(y_test, scores[a], scores[b], n_boot=n_boot).as_dict()}
              for a, b in pairs]
    settings = {"dataset": dataset, "widths": widths, "seeds": seeds, "max_epochs": max_epochs, "patience": patience,
                "batch_size": batch_size, "learning_rate": learning_rate, "optimizer": "adam", "augmentation": "none",
                "selection": "best epoch by validation AUC; stop after `patience` epochs without improvement"}
    return {"settings": settings, "sizes": sizes, "paired": paired, "runs": runs}
