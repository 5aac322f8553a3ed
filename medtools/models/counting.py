"""Counting parameters and FLOPs of Keras models, layer by layer.

Introduced in the chapter *Core concepts* (``chapters/concepts``), where the
convolution FLOP formula is derived; reused by the chapter *Efficiency*.
Re-exported by :mod:`medtools.models`.

Convention (stated once, used everywhere in the book):

* **FLOPs = 2 × multiply-accumulates (MACs)** for one input example (batch size 1):
  a multiply and an add are two floating-point operations. Bias additions and
  activation functions are *not* counted (they are O(outputs), negligible next to
  the O(outputs × fan-in) multiply-adds). Divide by 2 to compare with papers that
  quote "multiply-adds" (e.g. He et al. 2016, Table 1).
* Convolution (``Conv1D/2D/3D``, grouped or not)::

      MACs = prod(output spatial size) · C_out · prod(kernel size) · C_in / groups

* ``DepthwiseConv1D/2D``: ``prod(out spatial) · C_in · depth_multiplier · prod(kernel)``.
* ``SeparableConv1D/2D``: depthwise part plus pointwise part,
  ``prod(out spatial) · C_in · depth_multiplier · (prod(kernel) + C_out)``.
* ``Conv2DTranspose``/``Conv3DTranspose``: ``prod(input spatial) · C_in · prod(kernel) · C_out``.
* ``Dense`` (acting on the last axis): ``prod(input shape without batch and last axis) · d_in · units``.
* ``BatchNormalization`` at inference folds to ``y = a·x + b``: 1 MAC per element.
* Pooling (max, average, global): **0** by convention — only comparisons or
  additions, no multiply-adds. These rows are marked as counted (the 0 is the
  convention, not an omission).
* Layers that move or copy data only (``InputLayer``, ``Flatten``, ``Reshape``,
  ``ZeroPadding``, ``Cropping``, ``Dropout`` at inference, ``Concatenate``, …): exactly 0.
* Everything else (element-wise ``Activation``/``ReLU``/``Add``/``Multiply``,
  ``Rescaling``, ``Normalization``, attention, recurrent layers, raw ``keras.ops``, …)
  counts **0 and is marked "not counted"** in :func:`layer_table`, so a reader
  sees what the total leaves out.

Nested models (a ``keras.applications`` backbone inside a ``Sequential``, say) are
expanded recursively; their rows are named ``outer/inner``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = ["count_flops", "layer_table"]

#: Layers that only move, copy or drop data: exactly 0 FLOPs.
_ZERO_COST = {
    "InputLayer",
    "Flatten",
    "Reshape",
    "Permute",
    "RepeatVector",
    "Identity",
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianDropout",
    "GaussianNoise",
    "AlphaDropout",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "Concatenate",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
}


def _prod(values: Any) -> int:
    return int(math.prod(int(v) for v in values))


def _check_shape(shape: tuple, layer: Any, what: str) -> tuple[int, ...]:
    dims = tuple(shape)[1:]
    if any(d is None for d in dims):
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) has an unknown {what} shape {tuple(shape)}; "
            "FLOPs depend on the image size. Build the model with a fixed input shape, "
            "e.g. keras.Input((150, 150, 3))."
        )
    return tuple(int(d) for d in dims)


def _layer_macs(layer: Any, in_shape: tuple, out_shape: tuple) -> tuple[int | None, str]:
    """MACs of one call of a leaf layer, or ``(None, note)`` if not modelled.

    ``in_shape``/``out_shape`` include the batch axis (``None``).
    """
    from keras import layers as L
    from keras.src.layers.convolutional.base_conv import BaseConv
    from keras.src.layers.convolutional.base_conv_transpose import BaseConvTranspose
    from keras.src.layers.convolutional.base_depthwise_conv import BaseDepthwiseConv
    from keras.src.layers.convolutional.base_separable_conv import BaseSeparableConv
    from keras.src.layers.pooling.base_global_pooling import BaseGlobalPooling
    from keras.src.layers.pooling.base_pooling import BasePooling

    kind = type(layer).__name__
    if isinstance(layer, (BaseSeparableConv, BaseDepthwiseConv, BaseConv, BaseConvTranspose)):
        if layer.data_format != "channels_last":
            raise ValueError(
                f"Layer {layer.name!r} uses data_format={layer.data_format!r}; "
                "count_flops supports channels_last only (the Keras default)."
            )
    if isinstance(layer, BaseSeparableConv):
        out = _check_shape(out_shape, layer, "output")
        c_in = _check_shape(in_shape, layer, "input")[-1]
        dm = int(layer.depth_multiplier)
        return _prod(out[:-1]) * c_in * dm * (_prod(layer.kernel_size) + out[-1]), "separable conv"
    if isinstance(layer, BaseDepthwiseConv):
        out = _check_shape(out_shape, layer, "output")
        c_in = _check_shape(in_shape, layer, "input")[-1]
        return _prod(out[:-1]) * c_in * int(layer.depth_multiplier) * _prod(layer.kernel_size), "depthwise conv"
    if isinstance(layer, BaseConv):
        out = _check_shape(out_shape, layer, "output")
        c_in = _check_shape(in_shape, layer, "input")[-1]
        groups = int(getattr(layer, "groups", 1) or 1)
        return _prod(out[:-1]) * out[-1] * _prod(layer.kernel_size) * (c_in // groups), "conv"
    if isinstance(layer, BaseConvTranspose):
        inp = _check_shape(in_shape, layer, "input")
        c_out = _check_shape(out_shape, layer, "output")[-1]
        return _prod(inp[:-1]) * inp[-1] * _prod(layer.kernel_size) * c_out, "transposed conv"
    if isinstance(layer, L.Dense):
        inp = _check_shape(in_shape, layer, "input")
        return _prod(inp[:-1]) * inp[-1] * int(layer.units), "dense"
    if isinstance(layer, L.BatchNormalization):
        return _prod(_check_shape(out_shape, layer, "output")), "batch norm (inference: a*x+b)"
    if isinstance(layer, (BasePooling, BaseGlobalPooling)):
        return 0, "pooling: 0 by convention (comparisons/additions only)"
    if kind in _ZERO_COST:
        return 0, "data movement only"
    return None, "not counted"


def _graph_calls(model: Any) -> list[tuple[Any, list[tuple[tuple, tuple]]]]:
    """``[(operation, [(input_shape, output_shape) per call in this graph]), …]`` in graph order."""
    import keras

    fn = model
    if isinstance(model, keras.Sequential):
        fn = getattr(model, "_functional", None)
        if fn is None:
            raise ValueError(
                f"Sequential model {model.name!r} has no input shape yet, so its layer shapes are "
                "unknown. Start it with keras.Input(shape), or call model.build((None, *shape))."
            )
    elif not hasattr(fn, "_nodes_by_depth"):
        raise TypeError(
            f"Model {model.name!r} ({type(model).__name__}) is a subclassed model without a static "
            "graph; count_flops/layer_table need a Functional or Sequential model "
            "(built with keras.Input)."
        )
    calls: dict[int, list[tuple[tuple, tuple]]] = {}
    for depth in sorted(fn._nodes_by_depth, reverse=True):  # inputs first
        for n in fn._nodes_by_depth[depth]:
            ins = [tuple(t.shape) for t in n.input_tensors]
            outs = [tuple(t.shape) for t in n.output_tensors]
            calls.setdefault(id(n.operation), []).append((ins[0] if ins else (), outs[0] if outs else ()))
    return [(op, calls.get(id(op), [])) for op in fn.operations]


def _rows(model: Any, prefix: str, seen: set[int], repeat: int) -> list[dict[str, Any]]:
    import keras

    rows: list[dict[str, Any]] = []
    for op, calls in _graph_calls(model):
        name = f"{prefix}{op.name}"
        kind = type(op).__name__
        if isinstance(op, keras.Model) and (
            isinstance(op, keras.Sequential) or hasattr(op, "_nodes_by_depth")
        ):
            rows += _rows(op, f"{name}/", seen, repeat * max(len(calls), 1))
            continue
        if kind == "InputLayer":
            continue
        params = 0
        for w in getattr(op, "weights", []):
            if id(w) not in seen:  # a shared weight is counted once, as model.count_params() does
                seen.add(id(w))
                params += _prod(w.shape)
        flops, counted, note = 0, True, ""
        for in_shape, out_shape in calls:
            if not isinstance(op, keras.layers.Layer):
                macs, note = None, "not counted (keras.ops operation)"
            else:
                macs, note = _layer_macs(op, in_shape, out_shape)
            if macs is None:
                counted = False
            else:
                flops += 2 * macs * repeat
        rows.append(
            {
                "name": name,
                "type": kind,
                "output_shape": calls[0][1] if calls else None,
                "params": params,
                "flops": flops,
                "counted": counted,
                "note": note,
            }
        )
    return rows


def layer_table(model: keras.Model) -> list[dict[str, Any]]:
    """Parameters and FLOPs of every layer of a built Functional or Sequential model.

    Args:
        model: a Keras 3 model with a fixed input shape (e.g. built with
            ``keras.Input((150, 150, 3))``). Nested models are expanded.

    Returns:
        One dict per leaf layer, in graph order (the ``InputLayer`` is omitted):
        ``name`` (str, ``outer/inner`` for nested models), ``type`` (class name),
        ``output_shape`` (tuple with ``None`` for the batch axis, of the first call),
        ``params`` (int; a weight shared by several layers counts once, so the column
        sums to ``model.count_params()``), ``flops`` (int, for one example, summed
        over every call of the layer; see the module docstring for the convention),
        ``counted`` (False when the layer has arithmetic this module does not
        model and its FLOPs are reported as 0) and ``note`` (what was counted).

    Raises:
        ValueError: the model has no input shape yet, or an unknown (``None``) image size.
        TypeError: a subclassed model without a static graph.
    """
    return _rows(model, "", set(), 1)


def count_flops(model: keras.Model) -> int:
    """Total FLOPs (2 × multiply-accumulates) of one forward pass of one example.

    The sum of the ``flops`` column of :func:`layer_table`; layers marked
    ``counted=False`` there contribute 0. Example: the article's CNN
    (:func:`medtools.models.article_cnn`) at 150×150×3.
    """
    return int(sum(r["flops"] for r in layer_table(model)))
