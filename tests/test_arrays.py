"""Tests of medtools.arrays: the input checks shared by medtools.reference and medtools.metrics.

One behaviour everywhere: per-sample vectors are ``(N,)`` or a column ``(N, 1)`` (flattened);
any other shape is refused with a message that names the argument, the shape received and
what to pass instead.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from medtools import arrays


def test_as_float_keeps_floats_and_promotes_ints_and_bools():
    for dtype in ("float16", "float32", "float64"):
        assert arrays.as_float(np.zeros(2, dtype), "x").dtype == np.dtype(dtype)
    assert arrays.as_float([1, 2], "x").dtype == np.float64
    assert arrays.as_float(np.array([True]), "x").dtype == np.float64
    with pytest.raises(TypeError, match="w must be a numeric array, got dtype <U1"):
        arrays.as_float(["a"], "w")
    with pytest.raises(TypeError, match="w must be real, got complex dtype complex128"):
        arrays.as_float([1j], "w")
    with pytest.raises(TypeError, match="numeric"):
        arrays.as_float(np.array([None]), "w")


def test_work_dtypes_computes_float16_in_float32():
    assert arrays.work_dtypes(np.float16) == (np.float16, np.float32)
    assert arrays.work_dtypes(np.float32, np.float64) == (np.float64, np.float64)


def test_as_images():
    x = np.zeros((2, 4, 4, 1), np.float32)
    assert arrays.as_images(x) is x
    with pytest.raises(ValueError, match=r"x must have shape \(N, H, W, C\).*got shape \(4, 4\).*x\[None\]"):
        arrays.as_images(np.zeros((4, 4)))
    with pytest.raises(TypeError, match="medtools.data.to_float"):
        arrays.as_images(np.zeros((1, 4, 4, 1), np.uint8))


def test_as_pair():
    assert arrays.as_pair(3, "stride") == (3, 3)
    assert arrays.as_pair((1, np.int64(2)), "stride") == (1, 2)
    for bad in (1.5, True, (1, 2, 3), "2"):
        with pytest.raises(TypeError, match="stride must be a positive int or a pair"):
            arrays.as_pair(bad, "stride")
    with pytest.raises(ValueError, match="pool must be >= 1, got"):
        arrays.as_pair((2, 0), "pool")


@pytest.mark.parametrize("shape", [(5,), (5, 1)])
def test_vectors_and_columns_are_accepted(shape):
    y = np.array([0, 1, 1, 0, 1]).reshape(shape)
    s = np.linspace(0, 1, 5).reshape(shape)
    assert arrays.as_1d(y, "y").shape == (5,)
    np.testing.assert_array_equal(arrays.as_labels(y), [0, 1, 1, 0, 1])
    assert arrays.as_labels(y).dtype == np.int64
    np.testing.assert_array_equal(arrays.as_scores(s, prob=True), np.linspace(0, 1, 5))


@pytest.mark.parametrize("shape", [(), (5, 2), (1, 5), (5, 1, 1)])
def test_other_shapes_are_refused_with_a_clear_message(shape):
    with pytest.raises(ValueError, match=rf"y_score must be 1-D with shape \(N,\).*got shape {re.escape(str(shape))}"):
        arrays.as_scores(np.zeros(shape), "y_score")
    with pytest.raises(ValueError, match="y_true must be 1-D"):
        arrays.as_labels(np.zeros(shape, int), "y_true")


def test_labels_and_scores_errors():
    with pytest.raises(ValueError, match="y_true is empty"):
        arrays.as_labels([], "y_true")
    with pytest.raises(ValueError, match=r"only the binary labels 0 and 1; found \[2\]"):
        arrays.as_labels([0, 2])
    with pytest.raises(ValueError, match="numeric 0/1 labels"):
        arrays.as_labels(["a", "b"])
    assert arrays.as_labels([True, False]).tolist() == [1, 0]
    with pytest.raises(ValueError, match="NaN or infinite"):
        arrays.as_scores([0.1, np.inf])
    with pytest.raises(ValueError, match=r"p_test must be probabilities in \[0, 1\]"):
        arrays.as_scores([0.1, 1.5], "p_test", prob=True)
    with pytest.raises(ValueError, match="real numeric scores"):
        arrays.as_scores([1j, 2j])


def test_same_shape():
    arrays.same_shape(np.zeros(3), np.ones(3), "a", "b")
    with pytest.raises(ValueError, match=r"theta and grad must have the same shape, got \(3,\) and \(2,\)"):
        arrays.same_shape(np.zeros(3), np.zeros(2), "theta", "grad")
