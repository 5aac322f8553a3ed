"""What a model costs and how to cut it: latency, int8 LiteRT, distillation, data-parallel training.

Introduced in the chapter *Efficiency and scalability* (``chapters/efficiency``). Parameters and
FLOPs are counted by :mod:`medtools.models.counting`; this module adds what needs a clock, a
converter or a second process:

* **latency** — :func:`measure_latency` times a callable after warm-up calls and returns every
  repeat (:class:`Latency`: median, quartiles, throughput); :func:`keras_runner` wraps a Keras
  model as one traced inference graph, so Python overhead does not dominate small batches;
* **LiteRT (TensorFlow Lite)** — :func:`to_litert` converts a Keras model to a float32 or a
  full-integer (int8) flat buffer, calibrated on a representative set, per channel or per
  tensor (:func:`logit_model` first drops the final sigmoid, whose int8 output would tie the
  scores); :func:`litert_runner` and :func:`litert_predict` run it, and :func:`litert_tensors`
  lists its stored tensors and scales, with the ``ai-edge-litert``
  interpreter (TensorFlow's own ``tf.lite.Interpreter`` when that package is absent);
  :func:`keras_weights_size` gives the size of a Keras weights file;
* **knowledge distillation** — :func:`distillation_loss` (Hinton et al. 2015, for one sigmoid
  output), :func:`distillation_targets`, :func:`prob_to_logit`;
* **scaling study** — :func:`scaling_model` (the compact CNN at one width of
  :data:`SCALING_WIDTHS`), :func:`scaling_run` (one size and seed trained until its validation
  AUC stops improving, within a fixed epoch cap; the best epoch kept; test scores returned for
  paired comparisons) and :func:`scaling_study` (every width and seed, with paired differences
  over seeds and test cases), run as ``python -m medtools.efficiency scaling …``, whose record
  the chapter keeps in ``chapters/records/``;
* **data-parallel training** — :func:`fit_data_parallel` (the one training function that runs
  unchanged under any ``tf.distribute`` strategy), :func:`run_mirrored` (``MirroredStrategy``
  over logical CPU devices, or the GPUs, in a fresh process) and :func:`run_multiworker`
  (``MultiWorkerMirroredStrategy`` with one process per worker on 127.0.0.1, a ``TF_CONFIG``
  each, free ports, a time limit, and every process stopped at the end); helpers
  :func:`free_ports`, :func:`tf_config` and :func:`launch_workers`.

The worker processes run ``python -m medtools.efficiency worker|mirrored …`` (:func:`main`), the
scaling study ``python -m medtools.efficiency scaling …``.
Importing this module imports neither TensorFlow nor Keras; its functions do.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "Latency",
    "SCALING_WIDTHS",
    "WorkerResult",
    "distillation_loss",
    "distillation_targets",
    "fit_data_parallel",
    "free_ports",
    "keras_weights_size",
    "keras_runner",
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


# --------------------------------------------------------------------------- latency


@dataclass(frozen=True)
class Latency:
    """Wall-clock times of repeated calls of one function on one batch.

    Attributes:
        times_s: ``(repeats,)`` float64, seconds per call, in the order measured (warm-up calls
            excluded).
        batch_size: images per call.
    """

    times_s: np.ndarray
    batch_size: int

    @property
    def median_s(self) -> float:
        """Median seconds per call."""
        return float(np.median(self.times_s))

    @property
    def quartiles_s(self) -> tuple[float, float]:
        """First and third quartile of the seconds per call (the spread reported with the median)."""
        q1, q3 = np.percentile(self.times_s, [25, 75])
        return float(q1), float(q3)

    @property
    def ms_per_image(self) -> float:
        """Median milliseconds per image (median call time / batch size)."""
        return 1000.0 * self.median_s / self.batch_size

    @property
    def images_per_s(self) -> float:
        """Throughput at the median call time: batch size / median seconds."""
        return self.batch_size / self.median_s

    def as_dict(self) -> dict[str, float | int]:
        """Median, quartiles (ms per call), ms per image, images/s, batch size and repeats."""
        q1, q3 = self.quartiles_s
        return {
            "batch_size": self.batch_size,
            "repeats": len(self.times_s),
            "median_ms": 1000 * self.median_s,
            "q1_ms": 1000 * q1,
            "q3_ms": 1000 * q3,
            "ms_per_image": self.ms_per_image,
            "images_per_s": self.images_per_s,
        }


def measure_latency(fn: Callable[[np.ndarray], Any], x: ArrayLike, *, warmup: int = 3, repeats: int = 20) -> Latency:
    """Time ``fn(x)``: ``warmup`` calls that are not timed, then ``repeats`` timed calls.

    Warm-up calls absorb one-off costs (tracing a graph, allocating buffers, filling caches); the
    median of the repeats is robust to the occasional slow call of a shared machine, and the
    quartiles show the spread. Each call's result is converted with ``np.asarray`` inside the
    timed region, so asynchronous work is finished before the clock stops.

    Args:
        fn: the function to time, called as ``fn(x)``.
        x: one batch, ``(B, …)``; ``B`` is the batch size reported.
        warmup: untimed calls first (>= 0).
        repeats: timed calls (>= 1).

    Returns:
        A :class:`Latency` with every timed call.

    Raises:
        ValueError: ``repeats < 1``, ``warmup < 0``, ``fn`` not callable, or ``x`` without a batch axis.
    """
    if not callable(fn):
        raise ValueError(f"fn must be callable (e.g. keras_runner(model)), got {type(fn).__name__}.")
    if int(repeats) < 1 or int(warmup) < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}.")
    x = np.asarray(x)
    if x.ndim < 1 or len(x) == 0:
        raise ValueError(f"x must be a non-empty batch (B, ...), got shape {x.shape}.")
    for _ in range(int(warmup)):
        np.asarray(fn(x))
    times = np.empty(int(repeats))
    for i in range(int(repeats)):
        start = time.perf_counter()
        np.asarray(fn(x))
        times[i] = time.perf_counter() - start
    return Latency(times, int(len(x)))


def keras_runner(model: keras.Model) -> Callable[[np.ndarray], np.ndarray]:
    """``model`` in inference mode as one traced TensorFlow graph: ``run(x) -> (B, …)`` NumPy.

    ``model(x)`` called eagerly runs each layer from Python, which for small models and batch 1
    costs more than the arithmetic; a ``tf.function`` runs the whole forward pass as one graph
    (traced once per input shape). This is the fair Keras baseline for latency.
    """
    import tensorflow as tf

    if not callable(model) or not hasattr(model, "inputs"):
        raise ValueError(f"model must be a built Keras model, got {type(model).__name__}.")
    graph = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def run(x: np.ndarray) -> np.ndarray:
        return graph(tf.constant(x, dtype=tf.float32)).numpy()

    return run


def keras_weights_size(model: keras.Model) -> int:
    """Bytes of an HDF5 file holding ``model.weights``, one dataset each, in their own dtypes.

    Only the model's variables are written: no optimizer state (Keras's ``.keras`` and
    ``.weights.h5`` files of a trained model also hold Adam's two moments per weight, three times
    the weights) and no architecture, so a trained and a freshly loaded model have the same size.
    A model quantised with ``model.quantize("int8")`` counts its int8 kernels and float32 scales
    as such. Written to a temporary folder that is deleted afterwards.
    """
    import h5py

    if not hasattr(model, "weights") or not hasattr(model, "save_weights"):
        raise ValueError(f"model must be a Keras model, got {type(model).__name__}.")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "weights.h5"
        with h5py.File(path, "w") as f:
            for i, w in enumerate(model.weights):
                f.create_dataset(f"{i}:{w.path}".replace("/", "|"), data=np.asarray(w.numpy()))
        return path.stat().st_size


# --------------------------------------------------------------------------- LiteRT


def _check_images_for(model: keras.Model, x: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(x)
    want = tuple(model.inputs[0].shape[1:])
    if a.ndim != 4 or tuple(a.shape[1:]) != want:
        raise ValueError(
            f"{name} must be float32 images of shape (N, {', '.join(map(str, want))}) like the model's input, "
            f"got shape {a.shape}; scale uint8 images with medtools.data.to_float."
        )
    if not np.issubdtype(a.dtype, np.floating):
        raise ValueError(f"{name} must be floating point in [0, 1], got dtype {a.dtype}; use medtools.data.to_float.")
    if len(a) == 0:
        raise ValueError(f"{name} is empty; pass at least one image.")
    return a.astype(np.float32)


def to_litert(
    model: keras.Model,
    *,
    int8: bool = False,
    representative: ArrayLike | None = None,
    per_channel: bool = True,
) -> bytes:
    """Convert a Keras model to a LiteRT (TensorFlow Lite) flat buffer.

    With ``int8=False`` the weights stay float32 (batch normalisation is folded into the
    convolutions). With ``int8=True`` this is full-integer post-training quantisation: weights
    int8 (symmetric, one scale per output channel, or one per tensor), activations int8 with a
    scale and zero point per tensor chosen from the ranges seen on ``representative``; the
    model's input and output stay float32 (a quantise and a dequantise op at the ends).

    Args:
        model: a Keras model with a fixed input shape ``(H, W, C)``.
        int8: quantise weights and activations to int8.
        representative: calibration images ``(N, H, W, C)`` float32 in [0, 1] (training images,
            never test images); required when ``int8`` is True. Each is fed with batch size 1.
        per_channel: one weight scale per output channel (the converter's default). False sets
            the converter's *private* flag ``_experimental_disable_per_channel`` (one scale per
            weight tensor), which may change without notice in a later TensorFlow.

    Returns:
        The ``.tflite`` file's bytes (``len()`` is its size).

    Raises:
        ValueError: ``int8`` without ``representative``, a representative set of the wrong shape,
            or ``representative``/``per_channel=False`` given for a float32 conversion.
    """
    import tensorflow as tf

    if not int8 and (representative is not None or not per_channel):
        raise ValueError("representative and per_channel=False only apply to int8=True conversions.")
    reps = None
    if int8:
        if representative is None:
            raise ValueError(
                "int8=True needs representative images (N, H, W, C) float32 to calibrate the activation "
                "ranges, e.g. 500 training images: to_litert(model, int8=True, representative=x_train[:500])."
            )
        reps = _check_images_for(model, representative, "representative")
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        assert reps is not None  # checked above
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([reps[i : i + 1]] for i in range(len(reps)))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if not per_channel:
            converter._experimental_disable_per_channel = True  # private flag, see the docstring
    # Keras 3's export prints the traced function's signature; keep the notebook readable. The
    # converter's C++ code also writes its settings ("fully_quantize: 0, inference_type: 6, ...")
    # straight to the process's standard error, which in a notebook kernel bypasses the cell and
    # lands in the terminal of `make book`; it is passed to Python's stderr instead (the cell's
    # stderr, which the book build removes), so nothing is lost and the terminal stays readable.
    with contextlib.redirect_stdout(io.StringIO()), _native_stderr_to_python():
        return bytes(converter.convert())


@contextlib.contextmanager
def _native_stderr_to_python():
    """Capture what native code writes to file descriptor 2 and re-emit it on ``sys.stderr``."""
    try:
        fd = sys.__stderr__.fileno() if sys.__stderr__ is not None else 2
        saved = os.dup(fd)
    except (OSError, ValueError, AttributeError):  # no real descriptor (an embedded interpreter)
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), fd)
        try:
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", errors="replace")
            if text:
                sys.stderr.write(text)


def logit_model(model: keras.Model) -> keras.Model:
    """The same network without its final sigmoid: ``(B, H, W, C)`` → logits ``(B, 1)`` float32.

    The last layer must be a one-unit ``Dense`` with a sigmoid activation (as in
    :func:`medtools.models.compact_cnn` and :func:`medtools.models.article_cnn`); it is replaced
    by a linear ``Dense`` with the same (shared) weights. Quantising this model instead of the
    original keeps the ranking of the images: an int8 *sigmoid* output has at most 256 levels
    (scale 1/256), and the confident predictions crowd into the few levels near 0 and 1, which
    creates ties and lowers the AUC. Apply the sigmoid in float after the model if
    probabilities are needed.

    Raises:
        ValueError: the last layer is not a one-unit sigmoid ``Dense``.
    """
    import keras

    last = model.layers[-1] if getattr(model, "layers", None) else None
    if not (
        isinstance(last, keras.layers.Dense)
        and int(last.units) == 1
        and last.activation is keras.activations.sigmoid
    ):
        raise ValueError(
            "logit_model needs a model whose last layer is Dense(1, activation='sigmoid'), "
            f"got {type(last).__name__ if last is not None else None}."
        )
    linear = keras.layers.Dense(1, name=f"{last.name}_logit")
    out = linear(last.input)
    linear.set_weights(last.get_weights())
    return keras.Model(model.input, out, name=f"{model.name}_logit")


def _interpreter(model_bytes: bytes) -> Any:
    if not isinstance(model_bytes, (bytes, bytearray)) or len(model_bytes) < 8:
        raise ValueError("model_bytes must be the bytes of a .tflite model, e.g. from to_litert(model).")
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # pragma: no cover - the requirements install ai-edge-litert
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter  # noqa: N806
    return Interpreter(model_content=bytes(model_bytes))


def litert_runner(model_bytes: bytes, batch_size: int = 1) -> Callable[[np.ndarray], np.ndarray]:
    """A LiteRT interpreter for one batch size: ``run(x (B, H, W, C) float32) -> (B, …) float32``.

    The interpreter (``ai_edge_litert.interpreter.Interpreter``, which uses the XNNPACK CPU
    delegate by default) is created and its tensors allocated once, for ``batch_size`` images;
    each call copies ``x`` in, invokes, and copies the output out.

    Raises:
        ValueError: bad ``model_bytes`` or ``batch_size < 1``; at call time, ``x`` of the wrong shape.
    """
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    it = _interpreter(model_bytes)
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    shape = [int(batch_size), *map(int, inp["shape"][1:])]
    if list(inp["shape"]) != shape:
        it.resize_tensor_input(inp["index"], shape)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]

    def run(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if list(x.shape) != shape:
            raise ValueError(f"this runner takes a batch of shape {tuple(shape)}, got {x.shape}.")
        it.set_tensor(inp["index"], x)
        it.invoke()
        return it.get_tensor(out["index"]).copy()

    return run


def litert_tensors(model_bytes: bytes) -> list[dict[str, Any]]:
    """The tensors of a LiteRT model with their quantisation parameters, and the values of the constants.

    Returns:
        One dict per tensor: ``name`` (str), ``shape`` (tuple), ``dtype`` (NumPy type),
        ``scales`` ``(K,)`` float32 and ``zero_points`` ``(K,)`` int (``K = 0`` for a float
        tensor, 1 per tensor, or one per channel along ``axis``), ``axis`` (int), and ``value``
        (the stored array of a weight or bias; for activations the interpreter's buffer or
        ``None``, not meaningful before a call). LiteRT stores a convolution kernel as
        ``(C_out, kh, kw, C_in)``.
    """
    it = _interpreter(model_bytes)
    it.allocate_tensors()
    out = []
    for d in it.get_tensor_details():
        q = d["quantization_parameters"]
        try:
            value = it.get_tensor(d["index"]).copy() if d["shape"].size else None
        except ValueError:  # activations and other tensors without data
            value = None
        out.append(
            {
                "name": d["name"],
                "shape": tuple(int(s) for s in d["shape"]),
                "dtype": d["dtype"],
                "scales": np.asarray(q["scales"], np.float32),
                "zero_points": np.asarray(q["zero_points"]),
                "axis": int(q["quantized_dimension"]),
                "value": value,
            }
        )
    return out


def litert_predict(model_bytes: bytes, x: ArrayLike, batch_size: int = 256) -> np.ndarray:
    """The single output of a LiteRT model per image: ``x (N, H, W, C)`` → ``(N,)`` float32.

    Probabilities of label 1 for a model ending in a sigmoid, logits for a :func:`logit_model`.

    Runs batches of ``batch_size`` (the last one padded with zeros and cut), so any ``N`` works.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 4 or len(x) == 0:
        raise ValueError(f"x must be float32 images (N, H, W, C) with N >= 1, got shape {x.shape}.")
    run = litert_runner(model_bytes, batch_size)
    out = []
    for i in range(0, len(x), batch_size):
        chunk = x[i : i + batch_size]
        n = len(chunk)
        if n < batch_size:
            chunk = np.concatenate([chunk, np.zeros((batch_size - n, *x.shape[1:]), np.float32)])
        out.append(run(chunk).reshape(batch_size, -1)[:n, 0])
    return np.concatenate(out).astype(np.float32)


# --------------------------------------------------------------------------- distillation


def prob_to_logit(p: Any, eps: float = 1e-7) -> Any:
    """The logit ``log(p / (1 - p))`` of probabilities clipped to ``[eps, 1 - eps]`` (Keras ops).

    Works on NumPy arrays and tensors; the shape and float dtype are kept. The clip bounds the
    logit at about ±16, which a sigmoid in float32 cannot exceed anyway.
    """
    from keras import ops

    p = ops.clip(p, eps, 1.0 - eps)
    return ops.log(p) - ops.log1p(-p)


def distillation_targets(y: ArrayLike, teacher_logits: ArrayLike) -> np.ndarray:
    """Pack labels and teacher logits as the ``y`` of :func:`distillation_loss`: ``(N, 2)`` float32.

    Args:
        y: binary labels ``(N,)`` or ``(N, 1)``.
        teacher_logits: the teacher's logits ``(N,)`` or ``(N, 1)`` (see :func:`prob_to_logit`).
    """
    y = np.asarray(y, dtype=np.float32).reshape(-1)
    z = np.asarray(teacher_logits, dtype=np.float32).reshape(-1)
    if len(y) != len(z):
        raise ValueError(f"y has {len(y)} labels but teacher_logits has {len(z)} values; give one logit per image.")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y must hold binary labels 0/1.")
    if not np.isfinite(z).all():
        raise ValueError("teacher_logits must be finite; convert probabilities with prob_to_logit.")
    return np.stack([y, z], axis=1)


def distillation_loss(alpha: float = 0.5, temperature: float = 4.0) -> Callable[[Any, Any], Any]:
    """The distillation loss of one sigmoid output, as a Keras loss ``loss(y_true, y_pred)``.

    ``y_true`` is ``(B, 2)``: the label and the teacher's logit (:func:`distillation_targets`);
    ``y_pred`` is the student's probability ``(B, 1)``. With student logit ``z_s`` (from
    :func:`prob_to_logit`), teacher logit ``z_t``, temperature ``T`` and sigmoid ``σ``::

        L = α · BCE(y, σ(z_s)) + (1 − α) · T² · BCE(σ(z_t / T), σ(z_s / T))

    averaged over the batch (Hinton, Vinyals & Dean 2015; the ``T²`` keeps the soft term's
    gradient, ``T·(σ(z_s/T) − σ(z_t/T))``, on the scale of the hard term's as ``T`` grows).

    Raises:
        ValueError: ``alpha`` outside [0, 1] or ``temperature <= 0``.
    """
    from keras import ops

    alpha, temperature = float(alpha), float(temperature)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1] (the weight of the hard-label term), got {alpha}.")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}.")

    def bce_logits(target: Any, z: Any) -> Any:  # BCE(target, σ(z)), stable in z
        return ops.maximum(z, 0.0) - z * target + ops.log1p(ops.exp(-ops.abs(z)))

    def loss(y_true: Any, y_pred: Any) -> Any:
        y_true = ops.cast(y_true, "float32")
        z_s = prob_to_logit(ops.reshape(ops.cast(y_pred, "float32"), (-1,)))
        y, z_t = y_true[:, 0], y_true[:, 1]
        hard = bce_logits(y, z_s)
        soft = bce_logits(ops.sigmoid(z_t / temperature), z_s / temperature)
        return ops.mean(alpha * hard + (1.0 - alpha) * temperature**2 * soft)

    loss.__name__ = "distillation_loss"
    return loss


# --------------------------------------------------------------------------- scaling study

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


# --------------------------------------------------------------------------- data-parallel training


def fit_data_parallel(model: keras.Model, x: np.ndarray, y: np.ndarray, *, batch_size: int, epochs: int = 1) -> dict:
    """Train ``model`` in order (no shuffling) with global batches of ``batch_size``; ``{"loss": [...]}``.

    One training loop that runs unchanged on one device and under any ``tf.distribute``
    strategy (build and compile the model inside ``strategy.scope()``). Each replica computes
    the loss of its share of the global batch summed and divided by the *global* batch size
    (``tf.nn.compute_average_loss``); the Keras optimizer all-reduces (sums) the replicas'
    gradients before the update, so the update is the one-device update on the whole global
    batch. The dataset is sharded by *data* (every worker reads all the images and keeps its
    share of each batch), which suits arrays in memory; a real cluster reads files and shards
    by file. ``model.fit`` is not used because Keras 3.15's ``fit`` fails under
    ``MultiWorkerMirroredStrategy`` (it tries to turn a ``PerReplica`` batch into a tensor;
    keras-team/keras issue 20585); on one device and under ``MirroredStrategy`` this loop and
    ``fit`` compute the same update.

    Args:
        model: a compiled Keras model with a per-example loss (e.g. ``"binary_crossentropy"``).
        x: float32 images ``(N, H, W, C)``; ``y``: binary labels ``(N,)``.
        batch_size: the global batch (over all replicas and workers); a last incomplete batch
            is dropped, so every step has the same size.
        epochs: passes over the data.

    Returns:
        ``{"loss": [mean training loss of each epoch]}`` (over the whole global batch).
    """
    import keras
    import tensorflow as tf

    x, y = np.asarray(x, np.float32), np.asarray(y, np.float32).reshape(-1, 1)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must be non-empty and of equal length, got {len(x)} and {len(y)}.")
    if not 1 <= int(batch_size) <= len(x):
        raise ValueError(f"batch_size must be in 1..{len(x)} (the number of images), got {batch_size}.")
    if getattr(model, "optimizer", None) is None:
        raise ValueError("model must be compiled (an optimizer and a loss) before fit_data_parallel.")
    strategy = model.distribute_strategy  # the strategy whose scope built the model, or the default
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(int(batch_size), drop_remainder=True)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dist = strategy.experimental_distribute_dataset(ds.with_options(options))
    loss_fn = keras.losses.get(model.loss)
    weights = model.trainable_variables
    with strategy.scope():
        model.optimizer.build(weights)

    def replica_step(xb: Any, yb: Any) -> Any:
        with tf.GradientTape() as tape:
            per_example = tf.reshape(loss_fn(yb, model(xb, training=True)), [-1])
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=int(batch_size))
        model.optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights, strict=True))
        return loss

    @tf.function
    def step(xb: Any, yb: Any) -> Any:
        return strategy.reduce("SUM", strategy.run(replica_step, args=(xb, yb)), axis=None)

    history: dict[str, list[float]] = {"loss": []}
    for _ in range(int(epochs)):
        losses = [float(step(xb, yb)) for xb, yb in dist]
        history["loss"].append(float(np.mean(losses)))
    return history


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """``n`` distinct TCP ports that are free on ``host`` right now (the OS picks them)."""
    if int(n) < 1:
        raise ValueError(f"n must be >= 1, got {n}.")
    socks, ports = [], []
    try:
        for _ in range(int(n)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def tf_config(ports: Sequence[int], index: int, host: str = "127.0.0.1") -> dict[str, Any]:
    """The ``TF_CONFIG`` of worker ``index`` in a cluster of one worker per port on ``host``.

    ``{"cluster": {"worker": ["127.0.0.1:p0", …]}, "task": {"type": "worker", "index": index}}``;
    worker 0 is the chief (it writes the results).
    """
    ports = [int(p) for p in ports]
    if not ports or not all(0 < p < 65536 for p in ports):
        raise ValueError(f"ports must be a non-empty list of TCP ports, got {ports}.")
    if not 0 <= int(index) < len(ports):
        raise ValueError(f"index must be in 0..{len(ports) - 1}, got {index}.")
    return {
        "cluster": {"worker": [f"{host}:{p}" for p in ports]},
        "task": {"type": "worker", "index": int(index)},
    }


@dataclass
class WorkerResult:
    """One finished worker process: its index, exit code, wall seconds, stdout and stderr."""

    index: int
    returncode: int
    seconds: float
    stdout: str = field(repr=False)
    stderr: str = field(repr=False)


def _stop(procs: Sequence[subprocess.Popen]) -> None:
    """Kill each still-running process's group (our own children only) and reap it."""
    for p in procs:
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)
    for p in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(timeout=10)


def launch_workers(
    args: Sequence[str],
    n_workers: int = 2,
    *,
    timeout_s: float = 180.0,
    env: dict[str, str] | None = None,
) -> list[WorkerResult]:
    """Run ``python -m medtools.efficiency *args`` once per worker, on 127.0.0.1, and wait.

    Each process gets its own ``TF_CONFIG`` (:func:`tf_config`, free ports from
    :func:`free_ports`) and its own process group. When every worker has exited, or at
    ``timeout_s``, or on any error, every process still running is killed: nothing is left
    behind.

    Args:
        args: the command line after ``-m medtools.efficiency``, e.g. ``["worker", "--out", …]``.
        n_workers: processes to start (>= 1).
        timeout_s: wall-clock limit for all of them together.
        env: extra environment variables for the workers (the parent's are inherited).

    Returns:
        One :class:`WorkerResult` per worker, in index order.

    Raises:
        ValueError: ``n_workers < 1`` or ``timeout_s <= 0``.
        TimeoutError: the workers did not finish in ``timeout_s`` (the message holds the end of
            each worker's stderr).
        RuntimeError: a worker exited with a non-zero code (the message holds its stderr).
    """
    if int(n_workers) < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers}.")
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s}.")
    ports = free_ports(int(n_workers))
    procs: list[subprocess.Popen] = []
    files = []
    start = time.perf_counter()
    try:
        for i in range(int(n_workers)):
            wenv = {**os.environ, **(env or {}), "TF_CONFIG": json.dumps(tf_config(ports, i))}
            wenv.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            out, err = tempfile.TemporaryFile(mode="w+"), tempfile.TemporaryFile(mode="w+")
            files.append((out, err))
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "medtools.efficiency", *args],
                    stdout=out,
                    stderr=err,
                    env=wenv,
                    start_new_session=True,  # own process group: killed as a whole
                )
            )
        seconds = [0.0] * len(procs)
        while any(p.poll() is None for p in procs):
            if time.perf_counter() - start > timeout_s:
                break
            time.sleep(0.05)
            for i, p in enumerate(procs):
                if p.returncode is not None and not seconds[i]:
                    seconds[i] = time.perf_counter() - start
        timed_out = any(p.poll() is None for p in procs)
    finally:
        _stop(procs)
    results = []
    for i, (p, (out, err)) in enumerate(zip(procs, files, strict=True)):
        out.seek(0)
        err.seek(0)
        results.append(WorkerResult(i, int(p.returncode), seconds[i] or time.perf_counter() - start, out.read(), err.read()))
        out.close()
        err.close()
    if timed_out:
        tails = "\n".join(f"worker {r.index}: ...{r.stderr[-800:]}" for r in results)
        raise TimeoutError(f"the {n_workers} workers did not finish within {timeout_s:.0f} s and were killed.\n{tails}")
    failed = [r for r in results if r.returncode != 0]
    if failed:
        r = failed[0]
        raise RuntimeError(f"worker {r.index} exited with code {r.returncode}:\n...{r.stderr[-2000:]}")
    return results


def _save_init(model: keras.Model, folder: Path) -> Path:
    path = folder / "init.weights.h5"
    model.save_weights(path)
    return path


def run_multiworker(
    model: keras.Model,
    n_images: int,
    batch_size: int,
    *,
    n_workers: int = 2,
    epochs: int = 1,
    timeout_s: float = 180.0,
) -> dict[str, Any]:
    """Train a copy of the article's CNN at 28×28 with ``MultiWorkerMirroredStrategy``, one process per worker.

    The workers start from ``model``'s weights (an ``article_cnn((28, 28, 1))``, saved to a
    temporary file), train with :func:`fit_data_parallel` on the first ``n_images``
    PneumoniaMNIST training images in global batches of ``batch_size`` (each worker computes
    ``batch_size / n_workers`` of every batch), and the chief returns the final weights. CPU
    only, on 127.0.0.1; see :func:`launch_workers` for the time limit and the cleanup.

    Returns:
        ``{"weights": [np.ndarray, …] (model.get_weights() order), "replicas": int,
        "seconds": float (wall, all workers), "history": dict}``.

    Raises:
        ValueError: ``model`` is not the article's CNN at 28×28×1, or ``batch_size`` is not a
            multiple of ``n_workers`` (each worker must get an equal share).
    """
    _check_article28(model)
    if int(batch_size) % int(n_workers):
        raise ValueError(f"batch_size {batch_size} must be a multiple of n_workers {n_workers} (equal shares).")
    with tempfile.TemporaryDirectory() as tmp:
        init = _save_init(model, Path(tmp))
        out = Path(tmp) / "out.npz"
        start = time.perf_counter()
        results = launch_workers(
            ["worker", "--init", str(init), "--out", str(out), "--images", str(n_images),
             "--batch", str(batch_size), "--epochs", str(epochs)],
            n_workers,
            timeout_s=timeout_s,
            env={"CUDA_VISIBLE_DEVICES": "-1"},
        )
        seconds = time.perf_counter() - start
        return _read_out(out, seconds, results[0].stdout)


def run_mirrored(
    model: keras.Model,
    n_images: int,
    batch_size: int,
    *,
    n_devices: int = 2,
    epochs: int = 1,
    timeout_s: float = 180.0,
) -> dict[str, Any]:
    """Train a copy of the article's CNN at 28×28 with ``MirroredStrategy`` in a fresh process.

    The process splits the host CPU into ``n_devices`` logical devices
    (``tf.config.set_logical_device_configuration``, which must run before TensorFlow first
    uses its devices — hence a new process), or uses the GPUs if it finds any, and then runs
    the same :func:`fit_data_parallel` as :func:`run_multiworker`.

    Returns:
        As :func:`run_multiworker`, plus ``"devices"`` (the strategy's device names).
    """
    _check_article28(model)
    if int(n_devices) < 1 or int(batch_size) % int(n_devices):
        raise ValueError(f"n_devices must be >= 1 and divide batch_size, got {n_devices} and {batch_size}.")
    with tempfile.TemporaryDirectory() as tmp:
        init = _save_init(model, Path(tmp))
        out = Path(tmp) / "out.npz"
        start = time.perf_counter()
        results = launch_workers(
            ["mirrored", "--devices", str(n_devices), "--init", str(init), "--out", str(out),
             "--images", str(n_images), "--batch", str(batch_size), "--epochs", str(epochs)],
            1,
            timeout_s=timeout_s,
        )
        return _read_out(out, time.perf_counter() - start, results[0].stdout)


def _check_article28(model: Any) -> None:
    from medtools.models import article_cnn

    ref = article_cnn((28, 28, 1))
    shapes = [tuple(w.shape) for w in getattr(model, "weights", [])]
    if shapes != [tuple(w.shape) for w in ref.weights]:
        raise ValueError(
            "model must be models.article_cnn((28, 28, 1)) (the worker processes rebuild that architecture; "
            "it has no batch normalisation or dropout, so a data-parallel step equals a one-device step)."
        )


def _read_out(out: Path, seconds: float, stdout: str) -> dict[str, Any]:
    with np.load(out) as f:
        weights = [f[f"w{i}"] for i in range(len(f.files))]
    info = json.loads(stdout.strip().splitlines()[-1])
    return {"weights": weights, "seconds": seconds, **info}


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
    from medtools import data
    from medtools.models import article_cnn

    train = data.load("pneumoniamnist").train
    x, y = data.to_float(train.x[: ns.images]), train.y[: ns.images]
    with strategy.scope():
        model = article_cnn((28, 28, 1))
        model.load_weights(ns.init)
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
    Both load ``--init`` weights into ``article_cnn((28, 28, 1))``, train on the first
    ``--images`` PneumoniaMNIST training images with global batch ``--batch`` for ``--epochs``,
    save the weights to ``--out`` (the chief only) and print one JSON line.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["scaling"]:
        return _scaling_main(args[1:])
    parser = argparse.ArgumentParser(prog="python -m medtools.efficiency")
    parser.add_argument("mode", choices=["worker", "mirrored"])
    parser.add_argument("--init", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--devices", type=int, default=2)
    ns = parser.parse_args(args)
    _worker(ns, mirrored=ns.mode == "mirrored")
    return 0


if __name__ == "__main__":  # pragma: no cover - run by launch_workers
    sys.exit(main())
