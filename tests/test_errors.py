"""Bad input raises ValueError / TypeError / RuntimeError at the user's call, and the message
names the operation and the shapes or values at fault (issue 2, "Bad input")."""

import re

import numpy as np
import pytest

import minigrad as mg

A = mg.tensor(np.ones((2, 3)), requires_grad=True)


def raises(kind, *fragments):
    """pytest.raises(kind) whose message contains every fragment, in order."""
    return pytest.raises(kind, match=".*".join(re.escape(f) for f in fragments))


# ---- shapes that do not broadcast or align

@pytest.mark.parametrize(("call", "op", "shapes"), [
    (lambda: A + mg.ones(4, 5), "add", "(2, 3) and (4, 5)"),
    (lambda: A - mg.ones(2), "sub", "(2, 3) and (2,)"),
    (lambda: A * np.ones((3, 2)), "mul", "(2, 3) and (3, 2)"),
    (lambda: A / mg.ones(4, 1, 2), "div", "(2, 3) and (4, 1, 2)"),
    (lambda: A ** mg.ones(3, 3), "pow", "(2, 3) and (3, 3)"),
    (lambda: A - [[1.0, 2.0]], "sub", "(2, 3) and (1, 2)"),
    (lambda: np.ones((1, 2)) + A, "add", "(1, 2) and (2, 3)"),
    (lambda: mg.maximum(A, mg.ones(4)), "maximum", "(2, 3) and (4,)"),
    (lambda: mg.minimum(mg.ones(4), A), "minimum", "(4,) and (2, 3)"),
])
def test_shapes_that_do_not_broadcast(call, op, shapes):
    with raises(ValueError, f"{op}: shapes {shapes} do not broadcast"):
        call()


def test_where_condition_that_does_not_broadcast():
    with raises(ValueError, "where", "(4,)", "(2, 3)", "do not broadcast"):
        mg.where(mg.tensor([True, False, True, False]), A, 0.0)


def test_matmul_misalignment_message_is_exactly_designs():
    with pytest.raises(ValueError) as info:
        mg.ones(2, 3) @ mg.ones(4, 5)
    assert str(info.value) == "matmul: shapes (2, 3) and (4, 5) do not align on 3 vs 4"


@pytest.mark.parametrize(("a", "b", "message"), [
    ((3,), (4,), "matmul: shapes (3,) and (4,) do not align on 3 vs 4"),
    ((2, 3), (2,), "matmul: shapes (2, 3) and (2,) do not align on 3 vs 2"),
    ((5, 2, 3), (4, 2), "matmul: shapes (5, 2, 3) and (4, 2) do not align on 3 vs 4"),
    ((2, 2, 3), (3, 3, 2), "matmul: batch axes of shapes (2, 2, 3) and (3, 3, 2) do not broadcast"),
    ((), (3,), "matmul: operands must have at least one dimension, got shapes () and (3,)"),
])
def test_matmul_other_misalignments(a, b, message):
    with raises(ValueError, message):
        mg.matmul(mg.ones(*a), mg.ones(*b))


def test_concatenate_and_stack_shape_mismatches():
    with raises(ValueError, "concatenate: shapes [(2, 3), (4, 5)] differ outside axis 1"):
        mg.concatenate([A, mg.ones(4, 5)], axis=1)
    with raises(ValueError, "stack: all tensors must have the same shape, got [(2, 3), (3, 2)]"):
        mg.stack([A, mg.ones(3, 2)])
    with raises(ValueError, "concatenate: needs at least one tensor"):
        mg.concatenate([])


def test_reshape_and_pad_that_do_not_fit():
    with raises(ValueError, "reshape: cannot reshape a tensor of shape (2, 3) (6 elements) into (4, 2)"):
        A.reshape(4, 2)
    with raises(ValueError, "pad: pad_width ((1, 1), (1, 1), (1, 1)) does not fit a tensor of shape (2, 3)"):
        mg.pad(A, ((1, 1),) * 3)
    with raises(ValueError, "pad: pad_width -1 must hold non-negative integers"):
        mg.pad(A, -1)


# ---- axes out of range

@pytest.mark.parametrize(("call", "op", "axis"), [
    (lambda: A.sum(axis=2), "sum", "2"),
    (lambda: A.mean(axis=-3), "mean", "-3"),
    (lambda: A.max(axis=5), "max", "5"),
    (lambda: A.min(axis=(0, 2)), "min", "2"),
    (lambda: A.var(axis=3), "var", "3"),
    (lambda: A.argmax(axis=2), "argmax", "2"),
    (lambda: A.softmax(axis=2), "softmax", "2"),
    (lambda: A.log_softmax(axis=-3), "log_softmax", "-3"),
    (lambda: A.transpose(0, 2), "transpose", "2"),
    (lambda: A.flatten(5), "flatten", "5"),
    (lambda: mg.concatenate([A, A], axis=2), "concatenate", "2"),
    (lambda: mg.stack([A, A], axis=4), "stack", "4"),
])
def test_axis_out_of_range(call, op, axis):
    with raises(ValueError, f"{op}: axis {axis} is out of range for a tensor of"):
        call()


def test_repeated_axes():
    with raises(ValueError, "var: repeated axis in (0, 0)"):
        A.var(axis=(0, 0))
    with raises(ValueError, "transpose: repeated axis in (1, 1)"):
        A.transpose(1, 1)


def test_index_out_of_range():
    with raises(IndexError, "getitem", "(2, 3)", "index 5 is out of bounds"):
        A[5]
    with raises(IndexError, "getitem", "(2, 3)", "index 7 is out of bounds"):
        A[:, [0, 7]]
    with raises(IndexError, "getitem: index arrays must be integers or booleans, got float64"):
        A[np.array([0.5])]


# ---- requires_grad on integers, backward misuse

@pytest.mark.parametrize("call", [
    lambda: mg.tensor([1, 2], requires_grad=True),
    lambda: mg.tensor([1, 2]).requires_grad_(),
    lambda: mg.zeros(3, dtype="int64", requires_grad=True),
    lambda: mg.tensor([True], requires_grad=True),
])
def test_integer_tensor_cannot_require_grad(call):
    with raises(TypeError, "requires_grad: only floating-point tensors can require grad, got"):
        call()


def test_backward_on_a_non_scalar_without_gradient():
    with raises(RuntimeError, "backward: the output has shape (2, 3)", "gradient="):
        (A * 2).backward()
    with raises(ValueError, "backward: gradient of shape (3,) does not match the output's shape (2, 3)"):
        (A * 2).backward(gradient=np.ones(3))


def test_backward_on_a_tensor_without_graph():
    with raises(RuntimeError, "backward: the tensor of shape (2,) does not require grad"):
        mg.ones(2).backward(gradient=np.ones(2))


def test_second_backward_through_a_freed_graph():
    y = (A.exp() * 2).sum()
    y.backward()
    with raises(RuntimeError, "backward", "second time", "'sum' node of shape ()", "retain_graph=True"):
        y.backward()
    A.grad = None


def test_grad_misuse():
    with raises(RuntimeError, "grad: input 0 (shape (2,)) does not require grad"):
        mg.grad((A * 2).sum(), mg.ones(2))


# ---- dtypes and data mg.tensor cannot hold

@pytest.mark.parametrize(("call", "op", "dtype"), [
    (lambda: mg.tensor([1 + 2j]), "tensor", "complex128"),
    (lambda: mg.tensor([1.0], dtype=complex), "tensor", "complex128"),
    (lambda: mg.tensor(["a", "b"]), "tensor", "<U1"),
    (lambda: mg.tensor(np.array([object()])), "tensor", "object"),
    (lambda: mg.tensor(None), "tensor", "object"),
    (lambda: mg.tensor({"a": 1}), "tensor", "object"),
    (lambda: mg.zeros(2, dtype="complex64"), "zeros", "complex64"),
    (lambda: mg.randn(2, dtype="complex64"), "randn", "complex64"),
    (lambda: A.astype("complex128"), "astype", "complex128"),
    (lambda: A + "x", "add", "<U1"),
    (lambda: A * None, "mul", "object"),
])
def test_unsupported_dtypes(call, op, dtype):
    with raises(TypeError, f"{op}: unsupported dtype {dtype}"):
        call()


@pytest.mark.parametrize("data", [[[1.0, 2.0], [3.0]], [1.0, [2.0, 3.0]], [[1, 2], [3, 4, 5]]])
def test_ragged_input_to_tensor(data):
    with raises(ValueError, "tensor: cannot make a tensor from list data", "inhomogeneous"):
        mg.tensor(data)


def test_non_numeric_input_to_tensor():
    with raises(TypeError, "tensor: unsupported dtype"):
        mg.tensor([1.0, "two"])
    with raises(ValueError, "backward: cannot make a tensor from str data"):
        mg.tensor([[1.0]], requires_grad=True).sum().backward(gradient="abc")


def test_bad_creation_arguments():
    with raises(ValueError, "ones: a shape is non-negative integers, got (-1,)"):
        mg.ones(-1)
    with raises(ValueError, "item: only a tensor with one element", "(2, 3)"):
        A.item()


# ---- correlate

X = mg.ones(2, 3, 5, 5)


@pytest.mark.parametrize(("w_shape", "kwargs", "fragments"), [
    ((4, 2, 3, 3), {}, ("correlate: input (2, 3, 5, 5) has 3 channels, but weight (4, 2, 3, 3) expects 2",)),
    ((6, 3, 3, 3), {"groups": 3}, ("correlate: input (2, 3, 5, 5) has 3 channels, but weight (6, 3, 3, 3) expects 9",)),
    ((4, 1, 3, 3), {"groups": 2}, ("correlate: groups=2 must be a positive integer dividing the 3 input channels",
                                   "the 4 output channels")),
    ((3, 1, 3, 3), {"groups": 0}, ("correlate: groups=0 must be a positive integer dividing",)),
    ((4, 3, 7, 7), {}, ("correlate: kernel (7, 7) (dilation (1, 1)) is larger than the padded input (5, 5)",)),
    ((4, 3, 7, 7), {"padding": (1, 0)},
     ("correlate: kernel (7, 7) (dilation (1, 1)) is larger than the padded input (7, 5)",)),
    ((4, 3, 3, 3), {"dilation": 3}, ("correlate: kernel (3, 3) (dilation (3, 3)) is larger than the padded input",)),
    ((4, 3, 3), {}, ("correlate: input (2, 3, 5, 5) and weight (4, 3, 3)", "same number of spatial axes")),
    ((4, 3, 3, 3), {"stride": 0}, ("correlate: stride must be an integer ≥ 1 or 2 of them, got 0",)),
    ((4, 3, 3, 3), {"padding": (1, 1, 1)}, ("correlate: padding must be an integer ≥ 0 or 2 of them",)),
])
def test_correlate_bad_input(w_shape, kwargs, fragments):
    with raises(ValueError, *fragments):
        mg.correlate(X, mg.ones(*w_shape), **kwargs)


def test_windows_kernel_larger_than_input():
    with raises(ValueError, "windows: kernel (4,) (dilation (1,)) is larger than the input's trailing axes (3,)"):
        mg.windows(mg.ones(2, 3), 4)


# ---- gradcheck misuse

def test_gradcheck_needs_an_input_that_requires_grad():
    with raises(ValueError, "gradcheck: no input requires grad"):
        mg.gradcheck(lambda t: t * 2, [mg.ones(2, dtype="float64")])
