"""The recorded recipe search behind ``MODELS["compact"]``: ``python -m medtools.benchmark.search``.

Part of :mod:`medtools.benchmark`, introduced in the chapter *Beyond the article*
(``chapters/beyond_article``). Each candidate is :data:`SEARCH_BASE` with one thing changed
(fewer epochs, another batch size, no augmentation, …), or the chapter's first, hand-set
recipe, trained through
:func:`medtools.benchmark.run.train_run` — the same code path as the benchmark and the
chapter — and scored on the **validation split only**: the search never computes a
prediction on the test split. The command prints one JSON document (the record the chapter
shows), with the machine, its load and the library versions.

What the search does not make validation-only: :data:`SEARCH_BASE` itself was set by hand
*after* the first recipe's test-split results had been seen, so a search confined to its
one-change neighbours is a validation-scored search around a test-informed starting point
(the chapter labels the resulting numbers *test-informed*).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["CANDIDATES", "SEARCH_BASE", "SELECTION_MARGIN", "choose", "main", "recipe_search", "search_record", "settings"]

#: Where the search starts: every setting of a run, written out in full (independent of
#: ``MODELS["compact"]``, which holds the search's winner). Origin: set by hand, after the
#: test-split results of ``"first recipe"`` had been seen; no record of how it was found exists
#: (every record the command prints says so, in its ``base_origin`` field).
SEARCH_BASE: dict[str, Any] = {
    "epochs": {"pneumoniamnist": 20, "breastmnist": 60},
    "batch_size": 128,
    "augment": "policy",
    "hparams": {"widths": [16, 32, 64], "convs_per_stage": [2, 2, 2], "dropout": 0.3, "learning_rate": 3e-3,
                "optimizer": "adamw", "weight_decay": 1e-4},
}

# How SEARCH_BASE was fixed, written into every record the command prints.
_BASE_ORIGIN = ("set by hand after the test-split results of the first recipe had been seen (test-informed); "
               "no validation record of how it was found exists")

#: The candidates, as changes to :data:`SEARCH_BASE` (``epochs``, ``batch_size``, ``augment``,
#: ``hparams``); ``"first recipe"`` is the chapter's first, hand-set configuration.
CANDIDATES: dict[str, dict[str, Any]] = {
    "base": {},
    "first recipe": {
        "epochs": {"pneumoniamnist": 5, "breastmnist": 20},
        "batch_size": 64,
        "hparams": {"widths": [24, 48, 96], "convs_per_stage": [1, 1, 1], "dropout": 0.2,
                    "learning_rate": 2e-3, "optimizer": "adam"},
    },
    "half the epochs": {"epochs": 0.5},
    "batch 64": {"batch_size": 64},
    "one conv per stage": {"hparams": {"convs_per_stage": [1, 1, 1]}},
    "Adam, no weight decay": {"hparams": {"optimizer": "adam"}},
    "no augmentation": {"augment": "none"},
}

#: The selection rule, fixed before the search's results were read: the cheapest candidate —
#: the fewest training FLOPs, ``epochs × FLOPs of one forward pass`` on the same images —
#: whose mean validation AUC is within this margin of the best candidate's.
SELECTION_MARGIN = 0.002


def choose(record: Sequence[Mapping[str, Any]], margin: float = SELECTION_MARGIN) -> str:
    """Apply the selection rule to :func:`search_record`'s rows; returns the candidate's name.

    Each row needs ``candidate``, ``val_auc`` and ``epochs``; with ``flops`` (forward FLOPs of
    one image) the cost is ``epochs × flops``, otherwise ``epochs``. Ties: the higher AUC.
    """
    if not record:
        raise ValueError("choose needs at least one candidate row.")
    best = max(r["val_auc"] for r in record)
    near = [r for r in record if r["val_auc"] >= best - margin]
    return min(near, key=lambda r: (r["epochs"] * r.get("flops", 1), -r["val_auc"]))["candidate"]


def settings(name: str, dataset: str) -> dict[str, Any]:
    """The full settings of candidate ``name`` for ``dataset``: ``epochs``, ``batch_size``,
    ``augment``, ``hparams`` (an epochs change below 1 is a fraction of the base's; a dict
    gives epochs per dataset)."""
    if name not in CANDIDATES:
        raise ValueError(f"unknown candidate {name!r}; choose from {list(CANDIDATES)}.")
    change = CANDIDATES[name]
    epochs = SEARCH_BASE["epochs"][dataset]
    if "epochs" in change:
        e = change["epochs"]
        e = e[dataset] if isinstance(e, dict) else e
        epochs = int(round(epochs * e)) if e < 1 else int(e)
    return {
        "epochs": epochs,
        "batch_size": int(change.get("batch_size", SEARCH_BASE["batch_size"])),
        "augment": str(change.get("augment", SEARCH_BASE["augment"])),
        "hparams": dict(SEARCH_BASE["hparams"], **change.get("hparams", {})),
    }


def recipe_search(
    dataset: str = "pneumoniamnist",
    seeds: Sequence[int] = (0, 1),
    candidates: Sequence[str] | None = None,
    *,
    base: str = "compact",
    cache: bool = True,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Train every candidate for every seed and score it on the validation split.

    Args:
        dataset: a key of :data:`~medtools.benchmark.config.DATASETS`.
        seeds: training seeds (the same for every candidate).
        candidates: names of :data:`CANDIDATES` (default: all).
        base: the configuration whose builder, learning-rate schedule and epoch selection every candidate uses.
        cache: reuse cached runs (the weight cache of :func:`medtools.train.fit_cached`).
        progress: a tqdm bar on stderr.

    Returns:
        One row per (candidate, seed): ``candidate``, ``seed``, ``epochs``, ``batch_size``,
        ``augment``, ``hparams`` (the full builder arguments), ``params``, ``flops`` (one
        forward pass of one image, :func:`medtools.models.count_flops`), ``best_epoch``,
        ``val_auc`` (of the kept weights, MedMNIST way), ``val_acc`` (at 0.5),
        ``train_seconds``, ``cached``, ``val_scores`` (the kept weights' probabilities of label 1
        on every validation image, in the split's order, rounded to 6 decimals: what a paired
        bootstrap of two candidates over validation cases needs).

    Raises:
        ValueError: an unknown dataset, base or candidate, or an empty seed list.
    """
    from tqdm.auto import tqdm

    from medtools import metrics
    from medtools.benchmark.config import dataset_config, model_config
    from medtools.benchmark.run import RunPlan, load_splits, train_run
    from medtools.models import count_flops
    from medtools.train import predict_proba

    dataset_config(dataset)
    model_config(base)
    if not seeds:
        raise ValueError("recipe_search needs at least one seed.")
    splits = load_splits(dataset)
    names = list(CANDIDATES if candidates is None else candidates)
    jobs = [(n, s) for n in names for s in seeds]
    for n in names:
        settings(n, dataset)
    rows = []
    bar = tqdm(jobs, desc=f"recipe search ({dataset})", unit="run", disable=not progress, file=sys.stderr)
    for name, seed in bar:
        bar.set_postfix_str(f"{name} / seed {seed}")
        st = settings(name, dataset)
        epochs, batch, augment, hparams = st["epochs"], st["batch_size"], st["augment"], st["hparams"]
        plan = RunPlan.resolve(base, dataset, epochs=epochs, augment=augment, batch_size=batch, hparams=hparams)
        model, record = train_run(plan, int(seed), splits, cache=cache)
        p_val = predict_proba(model, splits.val.x)
        hist = record["history"]
        rows.append(
            {
                "candidate": name,
                "seed": int(seed),
                "epochs": epochs,
                "batch_size": batch,
                "augment": augment,
                "hparams": hparams,
                "params": int(model.count_params()),
                "flops": int(count_flops(model)),
                "best_epoch": int(hist["best_epoch"][0]) if "best_epoch" in hist else epochs,
                "val_auc": float(metrics.medmnist_auc(splits.val.y, p_val)),
                "val_acc": float(metrics.medmnist_acc(splits.val.y, p_val)),
                "train_seconds": float(record["train_seconds"]),
                "cached": bool(record.get("cached", False)),
                "val_scores": [round(float(v), 6) for v in p_val],
            }
        )
    return rows


def search_record(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Mean over seeds per candidate, best validation AUC first.

    Returns:
        One dict per candidate: ``candidate``, ``n_seeds``, ``val_auc`` and ``val_acc``
        (means), ``val_auc_sd`` (sample sd; None for one seed), ``train_seconds`` (mean),
        ``epochs``, ``batch_size``, ``params``, ``flops`` (when the rows have it).
    """
    import numpy as np

    from medtools.stats import MeanSD

    out = []
    for name in dict.fromkeys(r["candidate"] for r in rows):
        rs = [r for r in rows if r["candidate"] == name]
        auc = MeanSD.of([r["val_auc"] for r in rs])
        out.append(
            {
                "candidate": name,
                "n_seeds": len(rs),
                "val_auc": auc.mean,
                "val_auc_sd": auc.as_dict()["sd"],
                "val_acc": float(np.mean([r["val_acc"] for r in rs])),
                "train_seconds": float(np.mean([r["train_seconds"] for r in rs])),
                "epochs": rs[0]["epochs"],
                "batch_size": rs[0]["batch_size"],
                "params": rs[0]["params"],
                **({"flops": rs[0]["flops"]} if "flops" in rs[0] else {}),
            }
        )
    return sorted(out, key=lambda r: -r["val_auc"])


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run :func:`recipe_search` and print the JSON record to stdout; returns 0."""
    from medtools.benchmark.config import DATASETS

    p = argparse.ArgumentParser(
        prog="python -m medtools.benchmark.search",
        description="Train the candidate recipes of the compact CNN and score them on the validation split "
        "only; print one JSON record (per run and per candidate) to stdout.",
    )
    p.add_argument("--dataset", default="pneumoniamnist", help=f"one of: {', '.join(DATASETS)}")
    p.add_argument("--seeds", default="0,1", help="comma-separated non-negative ints (default 0,1)")
    p.add_argument("--only", default=None, help="comma-separated candidate names (default: all)")
    p.add_argument("--no-cache", action="store_true", help="retrain even if a cached run exists")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    args = p.parse_args(argv)
    if args.dataset not in DATASETS:
        p.error(f"unknown dataset {args.dataset!r}; choose from {', '.join(DATASETS)}")
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        p.error(f"--seeds must be comma-separated ints, got {args.seeds!r}")
    if not seeds or any(s < 0 for s in seeds):
        p.error(f"--seeds must be non-negative ints, got {args.seeds!r}")
    cands = list(CANDIDATES)
    if args.only:
        cands = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in cands if n not in CANDIDATES]
        if unknown:
            p.error(f"unknown candidates {unknown}; choose from {list(CANDIDATES)}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    import tensorflow as tf

    import medtools

    load_before = os.getloadavg()
    start = time.perf_counter()
    rows = recipe_search(args.dataset, seeds, cands, cache=not args.no_cache, progress=not args.no_progress)
    doc = {
        "command": "python -m medtools.benchmark.search " + " ".join(sys.argv[1:] if argv is None else argv),
        "dataset": args.dataset,
        "split_scored": "validation",
        "base_origin": _BASE_ORIGIN,
        "versions": {"medtools": medtools.__version__, "keras": keras.__version__, "tensorflow": tf.__version__,
                     "numpy": np.__version__, "python": platform.python_version()},
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                    "load_average_before": load_before[0], "load_average_after": os.getloadavg()[0]},
        "numeric_env": {k: os.environ.get(k) for k in ("TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS")},
        "wall_seconds": time.perf_counter() - start,
        "selection_rule": f"the cheapest candidate (fewest training FLOPs: epochs x forward FLOPs per image) "
        f"within {SELECTION_MARGIN} of the best mean validation AUC",
        "chosen": choose(search_record(rows)),
        "candidates": search_record(rows),
        "runs": rows,
    }
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
