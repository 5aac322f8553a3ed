"""The book's reporting idiom: mean ± sd over seeds, and paired differences with an interval.

One home for how a trained result is reported and how two results are compared (the
comparison rule in ``CONTRIBUTING.md``, "One comparison discipline"):

* :class:`MeanSD` — the mean, sample sd (``ddof=1``), count, minimum and maximum of a
  result over seeds; ``f"{MeanSD.of(aucs)}"`` prints ``0.934 ± 0.019``.
* :func:`paired_difference` — the difference of a metric between two models scored on the
  *same* test cases with the *same* seeds, with a percentile interval from a hierarchical
  bootstrap that resamples both sources of noise: the seeds (training noise) and the test
  cases (the finite test split, which every seed shares).
* :func:`versus_published` — a seed-averaged metric against a published number, with the
  test-set interval (a published number is one run; it has no seeds to resample).

A :class:`Difference` is *resolved* only when its interval excludes zero and has non-zero
width: a comparison without variance (one run each, a deterministic probe) is never
resolved, whatever its size.

Introduced in the chapter *The article's Keras classifier* (``chapters/keras_classifier``),
which explains the bootstrap (:mod:`medtools.metrics.bootstrap`); used by every chapter
that compares trained models.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike

from medtools.arrays import as_1d

__all__ = ["Difference", "MeanSD", "auc_counts", "paired_difference", "versus_published"]


@dataclass(frozen=True)
class MeanSD:
    """A result over seeds: mean, sample standard deviation (``ddof=1``), count, min, max.

    ``sd`` is ``nan`` for a single value (one run has no spread); format it with
    ``f"{m}"`` (three decimals) or ``f"{m:.4f}"``; ``f"{m:pm}"`` is the same as ``f"{m}"``.
    """

    mean: float
    sd: float
    n: int
    min: float
    max: float

    @classmethod
    def of(cls, values: ArrayLike) -> MeanSD:
        """Summarise ``values`` (``(n,)``, any real dtype, ``n >= 1``, no NaN)."""
        v = np.asarray(values, dtype=np.float64).ravel()
        if v.size == 0:
            raise ValueError("MeanSD.of needs at least one value, got an empty array.")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"MeanSD.of got non-finite values {v.tolist()}; drop or fix the failed runs first.")
        sd = float(v.std(ddof=1)) if v.size > 1 else math.nan
        return cls(float(v.mean()), sd, int(v.size), float(v.min()), float(v.max()))

    def __format__(self, spec: str) -> str:
        spec = spec or ".3f"
        if spec == "pm":
            spec = ".3f"
        if math.isnan(self.sd):
            return f"{self.mean:{spec}} (one run)"
        return f"{self.mean:{spec}} ± {self.sd:{spec}}"

    def __str__(self) -> str:
        return format(self, "")

    def as_dict(self) -> dict[str, float | int | None]:
        """``mean``, ``sd``, ``n``, ``min``, ``max`` for a JSON record: ``sd`` is None for a single
        value (no spread; JSON has no NaN, and a 0 would read as "no variation")."""
        d: dict[str, float | int | None] = dict(asdict(self))
        if self.n == 1:
            d["sd"] = None
        return d


@dataclass(frozen=True)
class Difference:
    """A paired difference ``A − B`` with a percentile bootstrap interval.

    Attributes:
        estimate: mean over seeds of the per-seed difference on the full test set (or,
            for :func:`versus_published`, the seed-mean metric minus the published value).
        low, high: the ``(1 − level)/2`` and ``(1 + level)/2`` percentiles of the bootstrap
            distribution of the estimate.
        level: confidence level, e.g. 0.95.
        n_seeds: seeds (paired runs) behind the estimate.
        n_cases: test cases behind the estimate.
        n_boot: bootstrap resamples.
        sources: what the interval resamples: ``"seeds and cases"`` or ``"cases"``.
    """

    estimate: float
    low: float
    high: float
    level: float
    n_seeds: int
    n_cases: int
    n_boot: int
    sources: str

    @property
    def resolved(self) -> bool:
        """True when the interval excludes zero and has non-zero width."""
        return self.high > self.low and (self.low > 0.0 or self.high < 0.0)

    @property
    def sign(self) -> int:
        """+1 or −1 when resolved (the direction of the difference), 0 when not."""
        if not self.resolved:
            return 0
        return 1 if self.low > 0.0 else -1

    @property
    def relation(self) -> str:
        """The word the prose may use for A against B: "above", "below" or "within the interval of"."""
        return {1: "above", -1: "below", 0: "within the interval of"}[self.sign]

    def __format__(self, spec: str) -> str:
        spec = spec or "+.3f"
        if not spec.startswith("+"):
            spec = "+" + spec
        pct = f"{100 * self.level:g} %"
        return f"{self.estimate:{spec}} ({pct} interval {self.low:{spec}} to {self.high:{spec}})"

    def __str__(self) -> str:
        return format(self, "")

    def verdict(self, spec: str = "+.3f") -> str:
        """A sentence fragment for the prose: the difference, its interval, and whether it is resolved."""
        state = "resolved" if self.resolved else "not resolved"
        if self.sources == "seeds and cases":
            how = f"paired bootstrap over seeds and test cases, {self.n_seeds} seeds"
        elif self.n_seeds == 1 and self.n_boot and self.sources == "cases":
            how = "bootstrap over test cases"
        else:
            how = f"bootstrap over test cases, mean of {self.n_seeds} seeds"
        return f"{self:{spec}}, {state} ({how})"

    def as_dict(self) -> dict[str, float | int | str | bool]:
        d = asdict(self)
        d["resolved"] = self.resolved
        return d


def auc_counts(y_true: ArrayLike, y_score: ArrayLike, counts: np.ndarray) -> np.ndarray:
    """Binary ROC-AUC of every bootstrap resample at once, from resample counts.

    A resample with replacement weights case ``i`` by how often it was drawn; the AUC of
    the resample is the weighted Mann–Whitney statistic, ties counted one half (the
    convention of :func:`sklearn.metrics.roc_auc_score`).

    Args:
        y_true: ``(N,)`` labels in {0, 1}.
        y_score: ``(N,)`` scores, larger meaning more likely positive.
        counts: ``(B, N)`` non-negative integers, how often each case is drawn in each of
            ``B`` resamples (a row of ones gives the plain AUC).

    Returns:
        ``(B,)`` float64 AUCs; ``nan`` for a resample with no positive or no negative case.
    """
    y = as_1d(y_true, "y_true").astype(np.int64)
    s = as_1d(y_score, "y_score").astype(np.float64)
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] != y.shape[0] or s.shape != y.shape:
        raise ValueError(
            f"need y_true and y_score of shape (N,) and counts of shape (B, N); got {y.shape}, {s.shape}, {c.shape}."
        )
    if not np.isin(y, (0, 1)).all():
        raise ValueError("auc_counts takes binary labels 0/1; use paired_difference(metric=...) for other tasks.")
    order = np.argsort(s, kind="mergesort")
    s_sorted, y_sorted, c_sorted = s[order], y[order], c[:, order]
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])  # first case of each tie group
    pos = np.add.reduceat(c_sorted * y_sorted, starts, axis=1)
    neg = np.add.reduceat(c_sorted * (1 - y_sorted), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg  # negatives scored strictly lower than each group
    n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + 0.5 * neg)).sum(axis=1) / (n_pos * n_neg)


Metric = Callable[[np.ndarray, np.ndarray], float]


def _per_seed_boot(y: np.ndarray, scores: np.ndarray, counts: np.ndarray, idx: np.ndarray, metric: Metric | None):
    """``(S, B)`` metric of every seed's scores on every resample (``metric=None``: binary AUC)."""
    if metric is None:
        return np.stack([auc_counts(y, s, counts) for s in scores])
    out = np.empty((scores.shape[0], idx.shape[0]))
    for b, rows in enumerate(idx):
        for k, s in enumerate(scores):
            try:
                out[k, b] = metric(y[rows], s[rows])
            except ValueError:
                out[k, b] = np.nan
    return out


def _as_runs(scores: ArrayLike, n: int, name: str) -> np.ndarray:
    a = np.asarray(scores, dtype=np.float64)
    if a.ndim == 1:
        a = a[None]
    if a.ndim == 2 and a.shape[1] == n:
        return a
    if a.ndim == 3 and a.shape[1] == n:
        return a
    raise ValueError(
        f"{name} must hold one row of N = {n} test scores per seed, shape (S, N) or (S, N, K); got shape {a.shape}."
    )


def _setup(n_boot: int, level: float) -> None:
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 100:
        raise ValueError(f"n_boot must be an int >= 100, got {n_boot!r}.")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}.")


def _resamples(rng: np.random.Generator, n: int, n_boot: int) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.integers(0, n, size=(n_boot, n))
    counts = np.zeros((n_boot, n))
    np.add.at(counts, (np.repeat(np.arange(n_boot), n), idx.ravel()), 1.0)
    return idx, counts


def _interval(values: np.ndarray, level: float, n_boot: int) -> tuple[float, float]:
    ok = np.isfinite(values)
    if ok.sum() < n_boot // 2:
        raise ValueError(
            f"the metric was undefined on {n_boot - int(ok.sum())} of {n_boot} resamples; the test set has too "
            "few cases of one class for a bootstrap interval."
        )
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(values[ok], [alpha, 1.0 - alpha])
    return float(low), float(high)


def paired_difference(
    y_true: ArrayLike,
    scores_a: ArrayLike,
    scores_b: ArrayLike,
    *,
    metric: Metric | None = None,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> Difference:
    """Paired difference ``metric(A) − metric(B)`` over seeds and test cases, with its interval.

    Both models are scored on the same ``N`` test cases; row ``s`` of each score array
    comes from seed ``s`` (the same seed, budget and decision rule for A and B: that is
    what makes the comparison paired). The estimate is the mean over seeds of the per-seed
    difference. Its interval is a hierarchical percentile bootstrap: each resample draws
    ``N`` cases with replacement (the same cases for A and B, and for every seed) and ``S``
    seeds with replacement (the same seeds for A and B), and recomputes the mean
    difference. With one seed it reduces to the paired bootstrap over cases.

    Args:
        y_true: ``(N,)`` labels.
        scores_a, scores_b: ``(S, N)`` scores of A and B (``(N,)`` for one run), or
            ``(S, N, K)`` for a multi-class ``metric`` (one run: ``(1, N, K)``). ``scores_b`` may be a single run
            ``(N,)`` (one reference model, e.g. a teacher) compared with every seed of A.
        metric: ``f(y_true, y_score) -> float``; ``None`` means the binary ROC-AUC,
            computed for all resamples at once (:func:`auc_counts`).
        n_boot: bootstrap resamples (>= 100; 2000 gives limits stable to about ±0.002 AUC).
        level: confidence level.
        seed: seed of the resampling (same seed, same interval).

    Returns:
        :class:`Difference` (``sources="seeds and cases"`` when ``S > 1``).

    Raises:
        ValueError: mismatched shapes, ``n_boot``/``level`` out of range, or a metric that is
            undefined on more than half of the resamples.
    """
    _setup(n_boot, level)
    y = as_1d(y_true, "y_true")
    n = y.shape[0]
    a = _as_runs(scores_a, n, "scores_a")
    b = _as_runs(scores_b, n, "scores_b")
    if b.shape[0] == 1 and a.shape[0] > 1:
        b = np.repeat(b, a.shape[0], axis=0)
    if a.shape != b.shape:
        raise ValueError(
            f"scores_a and scores_b must come from the same seeds: shapes {a.shape} and {b.shape} differ."
        )
    if metric is None and a.ndim == 3:
        raise ValueError("(S, N, K) scores need a multi-class metric= (e.g. metrics.medmnist_auc).")
    if a.shape[0] > 1 and all(np.array_equal(a[0], r) for r in a) and all(np.array_equal(b[0], r) for r in b):
        # Every seed gave the same scores on both sides (a deterministic probe, one pretraining
        # run): there is no training noise to resample, so the interval covers the test cases
        # only and says so, instead of claiming seeds it never saw vary.
        a, b = a[:1], b[:1]
    full = np.ones((1, n))
    all_rows = np.arange(n)[None]
    ma = _per_seed_boot(y, a, full, all_rows, metric)[:, 0]
    mb = _per_seed_boot(y, b, full, all_rows, metric)[:, 0]
    estimate = float(np.mean(ma - mb))
    rng = np.random.default_rng(seed)
    idx, counts = _resamples(rng, n, n_boot)
    diff = _per_seed_boot(y, a, counts, idx, metric) - _per_seed_boot(y, b, counts, idx, metric)  # (S, B)
    n_seeds = a.shape[0]
    if n_seeds > 1:
        pick = rng.integers(0, n_seeds, size=(n_boot, n_seeds))
        boot = np.take_along_axis(diff.T, pick, axis=1).mean(axis=1)
    else:
        boot = diff[0]
    low, high = _interval(boot, level, n_boot)
    sources = "seeds and cases" if n_seeds > 1 else "cases"
    return Difference(estimate, low, high, float(level), int(n_seeds), int(n), int(n_boot), sources)


def versus_published(
    y_true: ArrayLike,
    scores: ArrayLike,
    published: float,
    *,
    metric: Metric | None = None,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> Difference:
    """Seed-averaged ``metric`` minus a published value, with the test-set interval.

    A published number is one run on the same public test split; it has no seeds to pair
    with. The uncertainty that matters is the finite test split, so the interval resamples
    the test cases only (the same cases for every seed) and recomputes the mean over seeds.

    Args:
        y_true: ``(N,)`` labels.
        scores: ``(S, N)`` (or ``(N,)``) scores of our seeds on the test split.
        published: the published value of the same metric on the same split.
        metric, n_boot, level, seed: as in :func:`paired_difference`.

    Returns:
        :class:`Difference` with ``sources="cases"``.
    """
    _setup(n_boot, level)
    if not np.isfinite(published):
        raise ValueError(f"published must be a finite number, got {published!r}.")
    y = as_1d(y_true, "y_true")
    n = y.shape[0]
    a = _as_runs(scores, n, "scores")
    full = np.ones((1, n))
    ma = _per_seed_boot(y, a, full, np.arange(n)[None], metric)[:, 0]
    estimate = float(ma.mean() - published)
    rng = np.random.default_rng(seed)
    idx, counts = _resamples(rng, n, n_boot)
    boot = _per_seed_boot(y, a, counts, idx, metric).mean(axis=0) - published
    low, high = _interval(boot, level, n_boot)
    return Difference(estimate, low, high, float(level), int(a.shape[0]), int(n), int(n_boot), "cases")

