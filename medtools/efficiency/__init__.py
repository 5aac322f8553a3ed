"""What a model costs and how to cut it: latency, int8 LiteRT, distillation, scaling, data-parallel training.

Introduced in the chapter *Efficiency and scalability* (``chapters/efficiency``). Parameters and
FLOPs are counted by :mod:`medtools.models.counting`; this subpackage adds what needs a clock, a
converter or a second process, one module per concern:

* :mod:`~medtools.efficiency.latency` — :func:`measure_latency` times a callable after warm-up
  calls (:class:`Latency`: median, quartiles, throughput); :func:`keras_runner` wraps a Keras
  model as one traced inference graph;
* :mod:`~medtools.efficiency.litert` — :func:`to_litert` converts a Keras model to a float32 or
  a full-integer (int8) LiteRT flat buffer (:func:`logit_model` first drops the final sigmoid);
  :func:`litert_runner`, :func:`litert_predict` and :func:`litert_tensors` run and inspect it with
  the ``ai-edge-litert`` interpreter; :func:`keras_weights_size` gives the size of a Keras
  weights file;
* :mod:`~medtools.efficiency.distill` — knowledge distillation for one sigmoid output:
  :func:`distillation_loss`, :func:`distillation_targets`, :func:`prob_to_logit`;
* :mod:`~medtools.efficiency.scaling` — the scaling study: :func:`scaling_model` (widths
  :data:`SCALING_WIDTHS`), :func:`scaling_run`, :func:`scaling_study`;
* :mod:`~medtools.efficiency.distributed` — data-parallel training: :func:`fit_data_parallel`,
  :func:`run_mirrored` and :func:`run_multiworker` (a builder of :mod:`medtools.models` by name,
  rebuilt in the worker processes at :data:`WORKER_INPUT_SHAPE`, and its starting weights);
* :mod:`~medtools.efficiency.workers` — worker processes on 127.0.0.1: :func:`free_ports`,
  :func:`tf_config`, :func:`launch_workers` (:class:`WorkerResult`);
* :mod:`~medtools.efficiency.cli` — ``python -m medtools.efficiency worker|mirrored|scaling …``
  (:func:`main`): the worker processes and the scaling study's record.

Importing this package imports neither TensorFlow nor Keras; its functions do.
"""

from __future__ import annotations

from medtools.efficiency.cli import main
from medtools.efficiency.distill import distillation_loss, distillation_targets, prob_to_logit
from medtools.efficiency.distributed import (
    WORKER_INPUT_SHAPE,
    fit_data_parallel,
    run_mirrored,
    run_multiworker,
)
from medtools.efficiency.latency import Latency, keras_runner, measure_latency
from medtools.efficiency.litert import (
    keras_weights_size,
    litert_predict,
    litert_runner,
    litert_tensors,
    logit_model,
    to_litert,
)
from medtools.efficiency.scaling import SCALING_WIDTHS, scaling_model, scaling_run, scaling_study
from medtools.efficiency.workers import WorkerResult, free_ports, launch_workers, tf_config

__all__ = [
    "Latency",
    "SCALING_WIDTHS",
    "WORKER_INPUT_SHAPE",
    "WorkerResult",
    "distillation_loss",
    "distillation_targets",
    "fit_data_parallel",
    "free_ports",
    "keras_runner",
    "keras_weights_size",
    "launch_workers",
    "litert_predict",
    "litert_runner",
    "litert_tensors",
    "logit_model",
    "main",
    "measure_latency",
    "prob_to_logit",
    "run_mirrored",
    "run_multiworker",
    "scaling_model",
    "scaling_run",
    "scaling_study",
    "tf_config",
    "to_litert",
]
