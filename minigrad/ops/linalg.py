"""Matrix multiplication: numpy's matmul for operands with at least two dimensions
(leading axes broadcast as batch axes). ``mg.matmul`` handles 1-D operands around it."""

import numpy as np

from minigrad.ops.primitive import Primitive, Tensor
from minigrad.ops.shape import transpose, unbroadcast


def _mT(x: Tensor) -> Tensor:  # noqa: N802 (numpy's name for the matrix transpose)
    """Swaps the last two axes."""
    return transpose(x, axes=(*range(x.ndim - 2), x.ndim - 1, x.ndim - 2))


matmul: Primitive = Primitive("matmul", np.matmul,
                   lambda g, out, a, b: unbroadcast(matmul(g, _mT(b)), a.shape),  # dL/dA = G Bᵀ
                   lambda g, out, a, b: unbroadcast(matmul(_mT(a), g), b.shape))  # dL/dB = Aᵀ G
