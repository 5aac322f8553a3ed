"""Train and evaluate the book's named classifier configurations; ``python -m medtools.benchmark``.

Introduced in the chapter *The article's Keras classifier* (``chapters/keras_classifier``)
and used again in *Beyond the article* (``chapters/beyond_article``): the chapters call
:func:`run_config`, the command line runs the same function for every requested
(model, dataset, seed) and prints one JSON document to stdout.

Three layers, one module each:

* :mod:`medtools.benchmark.config` — what is trained: :class:`DatasetConfig`,
  :class:`ModelConfig` (with the builder function of its model) and the tables
  :data:`DATASETS` and :data:`MODELS`;
* :mod:`medtools.benchmark.run` — one run: train through :func:`medtools.train.fit_cached`,
  evaluate with :func:`medtools.metrics.evaluate_binary`, return a typed :class:`RunResult`;
  :func:`run_many` and :func:`summarise` for several;
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

from medtools.benchmark import search
from medtools.benchmark.cli import main
from medtools.benchmark.config import DATASETS, IMAGE_SIZE, MODELS, DatasetConfig, ModelConfig, build_model
from medtools.benchmark.run import SPEC_VERSION, RunResult, make_augmentation, run_config, run_many, summarise
from medtools.data import article_augmentation

__all__ = [
    "DATASETS",
    "IMAGE_SIZE",
    "MODELS",
    "DatasetConfig",
    "ModelConfig",
    "RunResult",
    "SPEC_VERSION",
    "article_augmentation",
    "build_model",
    "main",
    "make_augmentation",
    "run_config",
    "run_many",
    "search",
    "summarise",
]
