"""The command line of :mod:`medtools.benchmark`: ``python -m medtools.benchmark --help``.

Part of :mod:`medtools.benchmark` (chapter *The article's Keras classifier*). Parses the
arguments, runs :func:`medtools.benchmark.run.run_many` and prints one JSON document to stdout
(progress and cache messages go to stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Sequence

__all__ = ["main"]


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _parser() -> argparse.ArgumentParser:
    from medtools.benchmark.config import DATASETS, MODELS, TASKS

    p = argparse.ArgumentParser(
        prog="python -m medtools.benchmark",
        description=(
            "Train and evaluate the book's binary classifiers on MedMNIST (28x28) and print one "
            "JSON document to stdout: per-run metrics on the official test split (MedMNIST-style "
            "AUC and ACC@0.5 with bootstrap 95% CIs, sensitivity/specificity at a threshold "
            "chosen on validation data, ECE), parameter counts, training time and throughput, "
            "mean +- sd over seeds per (model, dataset), and the ensemble of the seeds' models. "
            f"Two more tasks, by dataset: {', '.join(TASKS)} (grading and vessel segmentation; "
            "their models are the chapters' own, all of them unless --model names some)."
        ),
    )
    p.add_argument("--model", default=None,
                   help=f"comma-separated; binary classifiers: {', '.join(MODELS)} (default: all of the datasets' models)")
    p.add_argument(
        "--dataset", default="pneumoniamnist,breastmnist",
        help=f"comma-separated, from: {', '.join([*DATASETS, *TASKS])}",
    )
    p.add_argument("--seeds", default="0,1,2", help="comma-separated non-negative ints (default 0,1,2)")
    p.add_argument("--epochs", type=int, default=None, help="override every configuration's epochs (short runs)")
    p.add_argument("--subset", type=int, default=None, help="train on the first N training images only")
    p.add_argument("--balanced", action="store_true", help="weigh both classes equally in the training loss")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument("--no-cache", action="store_true", help="retrain even if a cached run exists")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--indent", type=int, default=1, help="JSON indentation (default 1)")
    return p


def _parse(argv: Sequence[str] | None) -> tuple[argparse.Namespace, list[tuple[str, str]], list[int]]:
    """The arguments, the (model, dataset) pairs to run, and the seeds; errors name what exists."""
    from medtools.benchmark.config import DATASETS, MODELS, TASKS, task_module

    parser = _parser()
    args = parser.parse_args(argv)
    try:
        seeds = [int(s) for s in _csv(args.seeds)]
    except ValueError:
        parser.error(f"--seeds must be comma-separated ints, got {args.seeds!r}")
    if any(s < 0 for s in seeds):
        parser.error(f"--seeds must be non-negative, got {args.seeds!r}")
    datasets = _csv(args.dataset)
    for d in datasets:
        if d not in DATASETS and d not in TASKS:
            parser.error(f"unknown dataset {d!r}; choose from {', '.join([*DATASETS, *TASKS])}")
    models_of = {d: list(MODELS) if d in DATASETS else list(task_module(d).MODELS) for d in datasets}
    asked = _csv(args.model) if args.model else None
    if asked is not None:
        known = {m for ms in models_of.values() for m in ms}
        for m in asked:
            if m not in known:
                parser.error(f"unknown model {m!r} for the datasets {', '.join(datasets)}; "
                             f"choose from {', '.join(sorted(known))}")
    pairs = []
    for d in datasets:
        chosen = [m for m in (asked or models_of[d]) if m in models_of[d]]
        if not chosen:
            parser.error(f"no model of {d!r} in --model; its models are {', '.join(models_of[d])}")
        pairs += [(m, d) for m in chosen]
    return args, pairs, seeds


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: parse ``argv``, run, print the JSON document; returns 0."""
    args, pairs, seeds = _parse(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    import tensorflow as tf

    import medtools
    from medtools.benchmark.config import DATASETS, MODELS, task_module
    from medtools.benchmark.run import ensemble, run_many, summarise
    from medtools.benchmark.throughput import matmul_gflops

    start = time.perf_counter()
    binary = [(m, d) for m, d in pairs if d in DATASETS]
    models = list(dict.fromkeys(m for m, _ in binary))
    datasets = list(dict.fromkeys(d for _, d in binary))
    results = run_many(
        models,
        datasets,
        seeds,
        epochs=args.epochs,
        subset=args.subset,
        balanced=args.balanced,
        n_boot=args.n_boot,
        cache=not args.no_cache,
        progress=not args.no_progress,
    ) if binary else []
    task_rows: list[dict] = []
    task_summaries: list[dict] = []
    descriptions = {m: MODELS[m].description for m in models}
    for d in dict.fromkeys(d for _, d in pairs if d not in DATASETS):
        module = task_module(d)
        rows_d = [module.train_and_score(m, s, cache=not args.no_cache) for m, dd in pairs if dd == d for s in seeds]
        task_rows += rows_d
        task_summaries += module.summarise(rows_d)
        descriptions |= {m: module.MODELS[m] for m, dd in pairs if dd == d}
    rows = [r.row for r in results] + task_rows
    doc = {
        "command": "python -m medtools.benchmark " + " ".join(sys.argv[1:] if argv is None else argv),
        "versions": {
            "medtools": medtools.__version__,
            "keras": keras.__version__,
            "tensorflow": tf.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "load_average_after": os.getloadavg()[0],
                    # the ceiling the runs' train_gflop_per_second is read against (medtools.benchmark.throughput)
                    "matmul_gflop_per_second": matmul_gflops()},
        "models": descriptions,
        "wall_seconds": time.perf_counter() - start,
        "summary": summarise([r.row for r in results]) + task_summaries,
        "ensembles": ensemble(results, n_boot=args.n_boot) if len(seeds) > 1 else [],
        "runs": rows,
    }
    json.dump(doc, sys.stdout, indent=args.indent)
    sys.stdout.write("\n")
    return 0
