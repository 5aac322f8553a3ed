"""Keras callbacks the book's training loops share.

Introduced in the chapter *The article's Keras classifier* (``chapters/keras_classifier``),
where :mod:`medtools.benchmark` records the per-epoch validation (and, for the
selection-bias demonstration only, test) scores; the chapters *Recurrent networks* and
*Self-attention* use the same callback to keep the best epoch. :class:`TrainingProgress` shows
a progress bar over the epochs on stderr (which the built book leaves out).

This module imports Keras when it is imported.
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
import numpy as np
from numpy.typing import ArrayLike

__all__ = ["EpochMetrics", "TrainingProgress"]


class EpochMetrics(keras.callbacks.Callback):
    """After every epoch, score named splits the MedMNIST way; optionally keep the best epoch.

    For each split ``name`` in ``splits`` it appends to :attr:`history` the binary
    cross-entropy ``f"{name}_loss"`` and the ROC-AUC ``f"{name}_auc"``
    (:func:`medtools.metrics.medmnist_auc`) of the model's probabilities, computed with
    :func:`medtools.train.predict_proba` in inference mode. With ``restore_best`` the weights of
    the epoch with the highest ``f"{monitor}_auc"`` are restored at the end of training (ties:
    the earlier epoch), and :attr:`best_epoch` (1-based) says which.

    Args:
        splits: ``{name: (x, y)}``; ``x`` uint8 images ``(N, H, W[, C])`` or float32 in [0, 1],
            ``y`` binary labels ``(N,)`` or ``(N, 1)``.
        restore_best: restore the best epoch's weights when training ends.
        monitor: the split whose AUC picks the best epoch (default ``"val"``).

    Raises:
        ValueError: ``splits`` is empty, or ``monitor`` is not one of its names.
    """

    def __init__(
        self,
        splits: Mapping[str, tuple[ArrayLike, ArrayLike]],
        *,
        restore_best: bool = False,
        monitor: str = "val",
    ) -> None:
        super().__init__()
        if not splits:
            raise ValueError("EpochMetrics needs at least one split, e.g. {'val': (x_val, y_val)}.")
        if restore_best and monitor not in splits:
            raise ValueError(f"monitor {monitor!r} is not one of the splits {sorted(splits)}.")
        self.splits = {k: (np.asarray(x), np.asarray(y).reshape(-1)) for k, (x, y) in splits.items()}
        self.restore_best = restore_best
        self.monitor = monitor
        self.history: dict[str, list[float]] = {f"{k}_{m}": [] for k in self.splits for m in ("loss", "auc")}
        self.best_epoch: int | None = None
        self._best: tuple[float, list[np.ndarray]] | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        from medtools.metrics import medmnist_auc
        from medtools.reference import binary_crossentropy
        from medtools.train import predict_proba

        for name, (x, y) in self.splits.items():
            p = predict_proba(self.model, x)
            self.history[f"{name}_loss"].append(float(binary_crossentropy(y, p)))
            self.history[f"{name}_auc"].append(float(medmnist_auc(y, p)))
        if self.restore_best:
            score = self.history[f"{self.monitor}_auc"][-1]
            if self._best is None or score > self._best[0]:
                self._best = (score, self.model.get_weights())
                self.best_epoch = epoch + 1

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.restore_best and self._best is not None:
            self.model.set_weights(self._best[1])


class TrainingProgress(keras.callbacks.Callback):
    """A tqdm progress bar over the epochs of ``fit``, written to stderr.

    One bar per ``fit`` call, advanced at the end of every epoch, with the training loss and,
    given the :class:`EpochMetrics` of the same ``fit`` (placed before this callback in the
    list), the last validation AUC in its postfix. Stderr, not the notebook's output: the built book removes
    stderr, so the pages stay clean while a reader running the notebook sees the bar.

    Args:
        description: the bar's label, e.g. ``"compact / pneumoniamnist / seed 0"``.
        metrics: the :class:`EpochMetrics` whose ``val_auc`` to show, or None.
        disable: no bar at all (e.g. inside tests).
    """

    def __init__(
        self, description: str = "training", *, metrics: EpochMetrics | None = None, disable: bool = False
    ) -> None:
        super().__init__()
        self.description = description
        self.metrics = metrics
        self.disable = disable
        self._bar = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        import sys

        from tqdm import tqdm

        total = self.params.get("epochs") if self.params else None
        # mininterval=0: redraw at every epoch (epochs are few and seconds apart; tqdm's default
        # 0.1 s throttle would skip the redraws of fast epochs, final count included).
        self._bar = tqdm(total=total, desc=self.description, unit="epoch", file=sys.stderr, disable=self.disable,
                         leave=False, mininterval=0)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self._bar is None:
            return
        post = {}
        if logs and "loss" in logs:
            post["loss"] = f"{float(logs['loss']):.4f}"
        if self.metrics is not None and self.metrics.history.get("val_auc"):
            post["val_auc"] = f"{self.metrics.history['val_auc'][-1]:.4f}"
        self._bar.set_postfix(post, refresh=False)
        self._bar.update(1)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
