"""Train and evaluate the book's named classifier configurations; ``python -m medtools.benchmark``.

Introduced in the chapter *The article's Keras classifier* (``chapters/keras_classifier``)
and used again in *Beyond the article* (``chapters/beyond_article``): the chapters call
:func:`run_config`, the command line runs the same function for every requested
(model, dataset, seed) and prints one JSON document to stdout.

Three layers, one module each:

* :mod:`medtools.benchmark.config` — what is trained: :class:`DatasetConfig`,
  :class:`ModelConfig` (with the builder function of its model) and the tables
  :data:`DATASETS` and :data:`MODELS`;
* :mod:`medtools.benchmark.run` — one run: a :class:`RunPlan` (the names looked up and the
  overrides applied once), trained through :func:`medtools.train.fit_cached` (keyed on the
  training arrays), evaluated with :func:`medtools.metrics.evaluate_binary`, returned as a typed
  :class:`RunResult`; :func:`run_many` (data loaded once per dataset) and :func:`summarise` for several;
* :mod:`medtools.benchmark.throughput` — training GFLOP/s beside a measured matrix-product ceiling;
* :mod:`medtools.benchmark.cli` — the command line (:func:`main`);
* :mod:`medtools.benchmark.search` — the recorded recipe search behind ``MODELS["compact"]``
  (``python -m medtools.benchmark.search``), scored on the validation split only.

Example (the full benchmark of the book; progress bars go to stderr)::

    python -m medtools.benchmark --model article,compact \\
        --dataset pneumoniamnist,breastmnist --seeds 0,1,2 > benchmark.json

Import graph: ``benchmark`` → ``train``, ``callbacks``, ``models``, ``data``, ``metrics``;
nothing imports ``benchmark``.
"""

from __future__ import annotations

from medtools.benchmark import search, throughput
from medtools.benchmark.cli import main
from medtools.benchmark.config import DATASETS, IMAGE_SIZE, MODELS, DatasetConfig, ModelConfig, build_model
from medtools.benchmark.run import (
    SPEC_VERSION,
    RunPlan,
    RunResult,
    load_splits,
    run_config,
    run_many,
    run_plan,
    summarise,
)

__all__ = [
    "DATASETS",
    "IMAGE_SIZE",
    "MODELS",
    "DatasetConfig",
    "ModelConfig",
    "RunPlan",
    "RunResult",
    "SPEC_VERSION",
    "build_model",
    "load_splits",
    "main",
    "run_config",
    "run_many",
    "run_plan",
    "search",
    "summarise",
    "throughput",
]
