"""The benchmark's grading task: RetinaMNIST, the two ordinal heads of one compact CNN.

Part of :mod:`medtools.benchmark`; the one home of the training recipe of the chapter *Grading for
treatment decisions* (``chapters/treatment_planning.ipynb``), which calls :func:`fit_grader` and
:func:`class_scores` from here. ``python -m medtools.benchmark --dataset retinamnist`` runs it
through :data:`MODELS`, :func:`train_and_score` and :func:`summarise` (the interface of
:data:`medtools.benchmark.config.TASKS`).

Metrics of a run (:func:`train_and_score`): the MedMNIST AUC and ACC of the class probabilities
(:func:`medtools.metrics.medmnist_evaluate`, task ``"ordinal-regression"``: the one-vs-rest AUC
of each class averaged over classes, and the accuracy of the arg-max), the quadratic weighted
kappa and the MAE in grades under the head's usual decision rule (softmax: arg-max; CORAL: the
count of ``P(y > k) > 1/2``), and the accuracy under a per-class rescaling of the class
probabilities chosen on the validation split (:func:`choose_class_weights`), which leaves the
AUC unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "AUGMENTATION", "BATCH", "EPOCHS", "HEADS", "K", "LR", "MODELS", "USUAL_RULE", "WEIGHT_GRID", "WIDTHS",
    "choose_class_weights", "class_scores", "fit_grader", "initial_biases", "summarise", "train_and_score", "usual_grade",
]

#: Diabetic-retinopathy grades 0-4.
K = 5
#: The two heads on the one encoder (:func:`medtools.models.ordinal_cnn`).
HEADS = ("softmax", "coral")
#: The recipe of the chapter, set by hand (see its protocol paragraph): encoder widths, epochs,
#: batch size, peak learning rate of the cosine decay, augmentation policy.
WIDTHS = (16, 32, 64)
EPOCHS, BATCH, LR = 15, 64, 2e-3
AUGMENTATION = "fundus"
#: Each head's usual decision rule: softmax arg-max; CORAL the count of "yes" answers P(y > k) > 1/2
#: (for rank-consistent outputs the median grade).
USUAL_RULE = {"softmax": "arg-max", "coral": "count"}
#: The candidate weights of one class in :func:`choose_class_weights`: 2**(j/4), j = -8..8.
WEIGHT_GRID = tuple(float(2 ** (j / 4)) for j in range(-8, 9))

MODELS: dict[str, str] = {
    "softmax": "compact CNN (16-32-64, BN, global average pooling) with a softmax head, biases at the class "
               "prior; Adam 2e-3 with cosine decay, 15 epochs, batch 64, fundus augmentation (chapter "
               "treatment_planning)",
    "coral": "the same encoder with a CORAL head (K-1 'grade > k' outputs sharing one weight vector), biases "
             "at the logits of the prior P(y > k); the same recipe (chapter treatment_planning)",
}


def _check_head(head: str) -> None:
    if head not in HEADS:
        raise ValueError(f"Unknown head {head!r}; the grading task has the heads {', '.join(HEADS)}.")


def initial_biases(y_train: ArrayLike, head: str, num_classes: int = K) -> list[float]:
    """The head's starting biases at the class prior of ``y_train``.

    Args:
        y_train: ``(N,)`` integer grades in ``{0, …, K-1}``; every grade must occur.
        head: ``"softmax"`` (the logarithms of the class frequencies, so that ``softmax(c)`` is the
            prior) or ``"coral"`` (the logits of the training share of ``y > k``, ``k = 0…K-2``).
        num_classes: ``K``.

    Returns:
        ``K`` floats (softmax) or ``K-1`` floats (CORAL).

    Raises:
        ValueError: an unknown head, or a grade missing from ``y_train`` (its log-prior would be -inf).
    """
    from medtools import models

    _check_head(head)
    y = np.asarray(y_train, dtype=np.int64).reshape(-1)
    freq = np.bincount(y, minlength=num_classes) / len(y)
    if len(freq) != num_classes or np.any(freq == 0):
        raise ValueError(f"initial_biases needs every grade 0..{num_classes - 1} in y_train; counts are "
                         f"{np.bincount(y).tolist()}.")
    if head == "softmax":
        return [float(v) for v in np.log(freq)]
    prior = models.ordinal_levels(y, num_classes).mean(0)
    return [float(v) for v in np.log(prior / (1 - prior))]


def fit_grader(head: str, seed: int, x_train: np.ndarray, y_train: np.ndarray, *,
               cache: bool = True) -> tuple[keras.Model, dict[str, Any]]:
    """Build and train (or load from the weight cache) one grader of the chapter's recipe.

    The model is :func:`medtools.models.ordinal_cnn` with :data:`WIDTHS` and the head's
    :func:`initial_biases`; Adam with a cosine-decayed learning rate from :data:`LR` over
    :data:`EPOCHS` epochs of batches of :data:`BATCH`, the ``"fundus"`` augmentation; the last
    epoch's weights are kept. Trained through :func:`medtools.train.fit_cached` with
    ``data=(x_train, targets)``.

    Args:
        head: ``"softmax"`` or ``"coral"``.
        seed: the run's seed (weights, shuffling, augmentation).
        x_train: ``(N, 28, 28, 3)`` uint8 fundus images.
        y_train: ``(N,)`` integer grades in ``{0, …, 4}``.
        cache: False to retrain even if the weights are cached.

    Returns:
        ``(model, record)`` of :func:`medtools.train.fit_cached`; the model outputs ``(N, K)``
        softmax probabilities or ``(N, K-1)`` cumulative ``P(y > k)``.
    """
    import keras

    from medtools import data, models, train

    _check_head(head)
    x_train = np.asarray(x_train)
    y_train = np.asarray(y_train, dtype=np.int64).reshape(-1)
    if x_train.ndim != 4 or x_train.shape[1:] != (28, 28, 3) or len(x_train) != len(y_train):
        raise ValueError(f"fit_grader needs x_train (N, 28, 28, 3) and y_train (N,); got {x_train.shape} and "
                         f"{y_train.shape}.")
    biases = initial_biases(y_train, head)
    targets = y_train if head == "softmax" else models.ordinal_levels(y_train, K)
    steps = EPOCHS * int(np.ceil(len(x_train) / BATCH))

    def build() -> keras.Model:
        train.set_seed(seed)
        schedule = keras.optimizers.schedules.CosineDecay(LR, steps)
        return models.ordinal_cnn((28, 28, 3), K, head=head, widths=WIDTHS, learning_rate=schedule,
                                  initial_biases=biases)

    def fit(model: keras.Model) -> dict[str, list[float]]:
        ds = data.make_dataset(x_train, targets, training=True, batch_size=BATCH, seed=seed,
                               augment=AUGMENTATION)
        return model.fit(ds, epochs=EPOCHS, verbose=0).history

    spec = {"dataset": "retinamnist", "size": 28, "head": head, "seed": seed, "epochs": EPOCHS,
            "batch": BATCH, "augmentation": "hflip+rot10+bc10", "initial_biases": "class prior"}
    return train.fit_cached(build, fit, spec, data=(x_train, targets), cache=cache)


def class_scores(model: keras.Model, head: str, x: np.ndarray, batch: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities and cumulative probabilities of either head.

    Args:
        model: a grader of :func:`fit_grader`.
        head: its head, ``"softmax"`` or ``"coral"``.
        x: ``(N, 28, 28, 3)`` uint8 images.
        batch: images per forward pass.

    Returns:
        ``(P, cum)``: ``(N, K)`` class probabilities ``P(y = k)`` and ``(N, K-1)`` ``P(y > k)``.
    """
    from medtools import data, models

    _check_head(head)
    xs = data.to_float(x)
    out = np.concatenate([model(xs[i:i + batch], training=False).numpy() for i in range(0, len(xs), batch)])
    if head == "softmax":
        return out, 1 - np.cumsum(out, axis=1)[:, :-1]
    return models.cumulative_to_class_probs(out), out


def usual_grade(head: str, P: np.ndarray, cum: np.ndarray) -> np.ndarray:
    """The grade under the head's usual rule (:data:`USUAL_RULE`): ``(N,)`` int64.

    Softmax: the arg-max of ``P`` ``(N, K)``; CORAL: the count of ``cum > 1/2`` (``cum`` ``(N, K-1)``).
    """
    _check_head(head)
    if head == "softmax":
        return np.asarray(P).argmax(1).astype(np.int64)
    return (np.asarray(cum) > 0.5).sum(1).astype(np.int64)


def choose_class_weights(P_val: ArrayLike, y_val: ArrayLike, grid: Sequence[float] = WEIGHT_GRID,
                         sweeps: int = 3) -> np.ndarray:
    """Per-class positive weights ``w`` that maximise the validation accuracy of ``argmax(P * w)``.

    A small, deterministic coordinate search: ``w`` starts at ones; in each of ``sweeps`` passes,
    each class ``k = 1…K-1`` in turn (class 0 stays at 1: only the ratios matter) takes the value of
    ``grid`` with the highest validation accuracy, ties going to the value closest to 1 in log scale
    (then the smaller). Positive weights leave every one-vs-rest AUC unchanged (each column is
    scaled by a positive constant); only the arg-max, hence the ACC, changes.

    Args:
        P_val: ``(N, K)`` validation class probabilities (or an ensemble's mean).
        y_val: ``(N,)`` integer validation grades.
        grid: candidate weights, all positive.
        sweeps: passes over the classes.

    Returns:
        ``(K,)`` float64 weights, ``w[0] == 1``.
    """
    P = np.asarray(P_val, dtype=np.float64)
    y = np.asarray(y_val, dtype=np.int64).reshape(-1)
    if P.ndim != 2 or len(P) != len(y):
        raise ValueError(f"choose_class_weights needs P_val (N, K) and y_val (N,); got {P.shape} and {y.shape}.")
    cand = sorted((float(g) for g in grid), key=lambda g: (abs(np.log(g)), g)) if len(grid) else []
    if not cand or cand[0] <= 0 or min(cand) <= 0:
        raise ValueError(f"choose_class_weights needs a non-empty grid of positive weights; got {list(grid)}.")
    w = np.ones(P.shape[1])
    for _ in range(sweeps):
        for k in range(1, P.shape[1]):
            best, best_acc = w[k], -1.0
            for g in cand:  # closest to 1 first: a later value must be strictly better
                w[k] = g
                acc = float(np.mean((P * w).argmax(1) == y))
                if acc > best_acc:
                    best, best_acc = g, acc
            w[k] = best
    return w


def train_and_score(model: str, seed: int, *, cache: bool = True) -> dict[str, Any]:
    """Train (or load) one grader and score it on the validation and test splits.

    Args:
        model: a key of :data:`MODELS` (the head).
        seed: the run's seed.
        cache: False to retrain.

    Returns:
        One JSON row: ``model``, ``dataset`` ("retinamnist"), ``seed``, ``params``, ``train_seconds``,
        ``cached``, ``rule`` (the head's usual rule), ``class_weights`` (chosen on validation by
        :func:`choose_class_weights`), and ``val`` / ``test`` with ``auc`` and ``acc`` (MedMNIST:
        one-vs-rest AUC averaged over classes, ACC of the arg-max), ``qwk`` and ``mae`` (usual rule),
        ``acc_rule`` (CORAL only: ACC under its usual rule, the count), ``acc_rescaled``
        (ACC of the arg-max of the rescaled probabilities; on ``val`` it is the value maximised).
    """
    from medtools import data, metrics

    if model not in MODELS:
        raise ValueError(f"Unknown grading model {model!r}; choose from {', '.join(MODELS)}.")
    retina = data.load("retinamnist")
    splits = {name: (s.x, s.y.reshape(-1).astype(np.int64))
              for name, s in (("train", retina.train), ("val", retina.val), ("test", retina.test))}
    net, record = fit_grader(model, seed, *splits["train"], cache=cache)
    scores = {name: class_scores(net, model, splits[name][0]) for name in ("val", "test")}
    weights = choose_class_weights(scores["val"][0], splits["val"][1])
    row: dict[str, Any] = {"model": model, "dataset": "retinamnist", "seed": seed, "params": int(net.count_params()),
                           "train_seconds": float(record["train_seconds"]),
                           "cached": bool(record.get("cached", False)), "rule": USUAL_RULE[model],
                           "class_weights": [float(v) for v in weights]}
    for name, (P, cum) in scores.items():
        y = splits[name][1]
        auc, acc = metrics.medmnist_evaluate("ordinal-regression", y, P)
        grade = usual_grade(model, P, cum)
        row[name] = {"auc": float(auc), "acc": float(acc),
                     "qwk": float(metrics.quadratic_weighted_kappa(y, grade, K)),
                     "mae": float(np.mean(np.abs(grade - y))),
                     "acc_rescaled": float(np.mean((P * weights).argmax(1) == y)), "n": int(len(y))}
        if USUAL_RULE[model] != "arg-max":  # the head's usual rule differs from the MedMNIST arg-max
            row[name]["acc_rule"] = float(np.mean(grade == y))
    return row


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean ± sd over seeds per model of :func:`train_and_score`'s rows.

    Returns:
        One dict per model (in order of first appearance): ``model``, ``dataset``, ``seeds``, and
        ``test`` mapping each metric to ``{"mean", "sd", "n"}`` (:class:`medtools.stats.MeanSD`;
        ``sd`` is None for one seed, so that the document stays strict JSON).
    """
    from medtools.stats import MeanSD

    out = []
    for name in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == name]
        metrics_ = [k for k, v in mine[0]["test"].items() if k != "n" and isinstance(v, float)]
        summary = {}
        for m in metrics_:
            summary[m] = MeanSD.of([r["test"][m] for r in mine]).as_dict()
        out.append({"model": name, "dataset": mine[0]["dataset"], "seeds": [r["seed"] for r in mine], "test": summary})
    return out
