"""Helpers shared by the test modules."""

import math

import numpy as np

import minigrad as mg


def rng(seed=0):
    return np.random.default_rng(seed)


def leaf(array):
    """A float64 leaf that requires grad (gradchecks want float64)."""
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def distinct(shape, seed=0):
    """Values at least 0.1 apart (no ties): max and max pooling are differentiable everywhere."""
    n = math.prod(shape)
    return rng(seed).permutation(n).reshape(shape) * 0.1 - 0.05 * n


def graph_of(root):
    """Every tensor that ``root`` was computed from, root included."""
    seen, stack = {}, [root]
    while stack:
        t = stack.pop()
        if id(t) not in seen:
            seen[id(t)] = t
            stack.extend(t.inputs)
    return list(seen.values())
