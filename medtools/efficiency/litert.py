"""LiteRT (formerly TensorFlow Lite): float32 and full-integer int8 conversion, inference, inspection.

Introduced in the chapter *Efficiency and scalability* (``chapters/efficiency``):
:func:`to_litert` converts a Keras model to a float32 or a full-integer (int8) flat buffer,
calibrated on a representative set, per channel or per tensor (:func:`logit_model` first drops
the final sigmoid, whose int8 output would tie the scores); :func:`litert_runner` and
:func:`litert_predict` run it, and :func:`litert_tensors` lists its stored tensors and scales,
with the ``ai-edge-litert`` interpreter (TensorFlow's own ``tf.lite.Interpreter`` when that
package is absent); :func:`keras_weights_size` gives the size of a Keras weights file, the
baseline the LiteRT files are compared with. Imports neither TensorFlow nor Keras until called.

**Which converter, and why.** TensorFlow is retiring ``tf.lite`` in favour of LiteRT (TensorFlow
2.20's release notes; ``tf.lite.Interpreter`` is already deprecated, hence the ``ai-edge-litert``
interpreter here). :func:`to_litert` converts with Keras's ``model.export(format="litert")``, the
supported entry point, present in Keras 3.13 (Colab's) and 3.15 (``requirements.txt``). It passes
its keyword arguments to the converter as attributes, so full-integer quantisation with a
representative set goes through it. Underneath, it is still TensorFlow's converter
(``keras/src/export/litert.py``, ``LiteRTExporter._convert_to_tflite``): Keras 3.13 calls
``tf.lite.TFLiteConverter.from_keras_model(model)``, Keras 3.15 writes a SavedModel
(``ExportArchive``) and calls ``tf.lite.TFLiteConverter.from_saved_model``; the settings passed
(``tf.lite.Optimize.DEFAULT``, ``tf.lite.OpsSet.TFLITE_BUILTINS_INT8``) are that converter's. So
when ``tf.lite`` leaves TensorFlow, the export is where the change lands. With TensorFlow 2.21, on
Keras 3.13.2 and 3.15.1 alike, the export gives the int8 model of a direct
``TFLiteConverter.from_keras_model`` call: the same ops, the same tensors (shapes, dtypes, scales,
zero points, integer weights) and identical outputs. No converter without ``tf.lite`` can do this
here today: ``ai-edge-litert`` 2.3 ships the interpreter but no converter API, and
``litert-converter`` 0.5 converts MLIR modules (no Keras model, no representative set) and,
through ``xdsl==0.28.0``, needs ``typing-extensions<4.13``, which cannot be installed beside the
book's pins (``selenium`` 4.51 needs ``>=4.15``) or Colab's 4.16.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "keras_weights_size",
    "litert_predict",
    "litert_runner",
    "litert_tensors",
    "logit_model",
    "to_litert",
]


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
    """Convert a Keras model to a LiteRT (TensorFlow Lite) flat buffer with ``model.export(format="litert")``.

    Keras's own export is the converter's supported entry point (see the module docstring: it
    still runs TensorFlow's converter underneath, and the settings below are that converter's).
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
            weight tensor), which may change without notice in a later TensorFlow. Keras passes
            any attribute of the converter through.

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
    options: dict[str, Any] = {}  # the converter's settings, which Keras's export passes on to it
    if int8:
        assert reps is not None  # checked above
        options = {
            "optimizations": [tf.lite.Optimize.DEFAULT],
            "representative_dataset": lambda: ([reps[i : i + 1]] for i in range(len(reps))),
            "target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]},
        }
        if not per_channel:
            options["_experimental_disable_per_channel"] = True  # private flag, see the docstring
    # Keras's export prints the traced function's signature and the file it saved; keep the notebook
    # readable. The converter's C++ code also writes its settings ("fully_quantize: 0, inference_type:
    # 6, ...") straight to the process's standard error, which in a notebook kernel bypasses the cell
    # and lands in the terminal of `make book`; it is passed to Python's stderr instead (the cell's
    # stderr, which the book build removes), so nothing is lost and the terminal stays readable.
    # Keras 3.15 writes a SavedModel first, and TensorFlow's logger reports "Assets written to <temporary
    # folder>" at INFO level (shown in a notebook kernel): only warnings and errors are let through.
    tf_logger = logging.getLogger("tensorflow")
    level = tf_logger.level
    tf_logger.setLevel(max(level, logging.WARNING))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.tflite"
            with contextlib.redirect_stdout(io.StringIO()), _native_stderr_to_python():
                model.export(str(path), format="litert", verbose=False, **options)
            return path.read_bytes()
    finally:
        tf_logger.setLevel(level)


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
