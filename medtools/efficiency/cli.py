"""The command line ``python -m medtools.efficiency worker|mirrored|scaling …`` (:func:`main`).

Introduced in the chapter *Efficiency and scalability* (``chapters/efficiency``): ``worker`` and
``mirrored`` are the processes that :func:`medtools.efficiency.distributed.run_multiworker` and
:func:`medtools.efficiency.distributed.run_mirrored` start; ``scaling`` runs
:func:`medtools.efficiency.scaling.scaling_study` and writes its JSON record (the chapter keeps
``chapters/records/scaling_breastmnist.json``, made by the command written inside it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from medtools.efficiency.distributed import WORKER_INPUT_SHAPE, fit_data_parallel
from medtools.efficiency.scaling import SCALING_WIDTHS, scaling_study

__all__ = [
    "main",
]


def _scaling_main(argv: Sequence[str]) -> int:
    import platform

    parser = argparse.ArgumentParser(prog="python -m medtools.efficiency scaling",
                                     description="The scaling study of the chapter Efficiency: one JSON record.")
    parser.add_argument("--dataset", default="breastmnist")
    parser.add_argument("--widths", default=",".join(map(str, SCALING_WIDTHS)))
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--patience", type=int, default=8)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--out", required=True, help="where to write the JSON record")
    ns = parser.parse_args(argv)
    import keras
    import tensorflow as tf

    import medtools

    load_before, start = os.getloadavg()[0], time.perf_counter()
    doc = scaling_study(ns.dataset, [int(w) for w in ns.widths.split(",")], [int(s) for s in ns.seeds.split(",")],
                        max_epochs=ns.max_epochs, patience=ns.patience, batch_size=ns.batch, learning_rate=ns.lr)
    doc = {
        "command": "python -m medtools.efficiency scaling " + " ".join(argv),
        "versions": {"medtools": medtools.__version__, "keras": keras.__version__, "tensorflow": tf.__version__,
                     "numpy": np.__version__, "python": platform.python_version()},
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "load_average_before": load_before,
                    "load_average_after": os.getloadavg()[0],
                    "numeric_path": {k: os.environ.get(k) for k in ("TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS",
                                                                     "TF_NUM_INTEROP_THREADS")}},
        "wall_seconds": time.perf_counter() - start,
        **doc,
    }
    Path(ns.out).write_text(json.dumps(doc, indent=1) + "\n")
    for s in doc["sizes"]:
        print(f"width {s['width']:>4d}: {s['params']:>9,d} parameters, test AUC {s['test_auc']['mean']:.3f} ± "
              f"{s['test_auc']['sd']:.3f}, best epoch {s['best_epoch']['mean']:.1f}", file=sys.stderr)
    return 0



def _worker(ns: argparse.Namespace, mirrored: bool) -> None:
    import tensorflow as tf

    if mirrored:
        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            strategy = tf.distribute.MirroredStrategy()
        else:
            cpu = tf.config.list_physical_devices("CPU")[0]
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * ns.devices)
            names = [d.name for d in tf.config.list_logical_devices("CPU")]
            strategy = tf.distribute.MirroredStrategy(names)
    else:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    from medtools import data, models

    train = data.load("pneumoniamnist").train
    x, y = data.to_float(train.x[: ns.images]), train.y[: ns.images]
    with strategy.scope(), np.load(ns.init) as init:
        model = getattr(models, ns.builder)(WORKER_INPUT_SHAPE)
        model.set_weights([init[f"arr_{i}"] for i in range(len(init.files))])
    history = fit_data_parallel(model, x, y, batch_size=ns.batch, epochs=ns.epochs)
    is_chief = mirrored or strategy.cluster_resolver.task_id == 0
    if is_chief:
        np.savez(ns.out, **{f"w{i}": w for i, w in enumerate(model.get_weights())})
    info = {
        "replicas": int(strategy.num_replicas_in_sync),
        "devices": list(getattr(strategy.extended, "worker_devices", [])),
        "history": {k: [float(v) for v in vs] for k, vs in history.items()},
    }
    print(json.dumps(info), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``python -m medtools.efficiency worker|mirrored|scaling …``.

    ``scaling`` runs :func:`scaling_study` and writes its JSON record to ``--out`` (with the
    command, the versions, the machine and its load); ``--help`` lists its options.

    ``worker`` reads ``TF_CONFIG`` and joins a ``MultiWorkerMirroredStrategy`` cluster;
    ``mirrored --devices N`` runs ``MirroredStrategy`` over N logical CPU devices (or the GPUs).
    Both build ``medtools.models.<--builder>((28, 28, 1))`` (default ``article_cnn``), load the
    ``--init`` weights (an ``.npz`` of ``arr_0``, ``arr_1``, … in ``get_weights()`` order), train on the first
    ``--images`` PneumoniaMNIST training images with global batch ``--batch`` for ``--epochs``,
    save the weights to ``--out`` (the chief only) and print one JSON line.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["scaling"]:
        return _scaling_main(args[1:])
    parser = argparse.ArgumentParser(prog="python -m medtools.efficiency")
    parser.add_argument("mode", choices=["worker", "mirrored"])
    parser.add_argument("--builder", default="article_cnn")
    parser.add_argument("--init", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--devices", type=int, default=2)
    ns = parser.parse_args(args)
    _worker(ns, mirrored=ns.mode == "mirrored")
    return 0
