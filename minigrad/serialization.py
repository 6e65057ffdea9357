"""Saving and loading tensors, state dicts and optimizer state as .npz files.

The file holds each array under a number and one JSON description of how they nest
(dicts, lists, tuples, numbers, strings). Loading never unpickles, and saving writes a
temporary file that replaces the target only once complete, so a crash never leaves a
half-written file behind.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from minigrad.atomic import write_atomically
from minigrad.tensor import Tensor

_TREE = "__minigrad_tree__"


def save(obj: Any, path: str | os.PathLike) -> None:
    """Writes ``obj`` — a Tensor, array, number, string, or dicts/lists/tuples of them — to ``path``."""
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, arrays, "obj")
    arrays[_TREE] = np.frombuffer(json.dumps(tree).encode(), dtype=np.uint8)
    write_atomically(os.fspath(path), lambda tmp: _write_npz(tmp, arrays), "save")


def _write_npz(path: str, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as f:  # a file object: np.savez would add .npz to a name that lacks it
        np.savez(f, **arrays)  # type: ignore[arg-type]  # mypy fears a key 'allow_pickle'; keys are numbers and _TREE


def load(path: str | os.PathLike) -> Any:
    """Reads what ``save`` wrote: tensors come back as Tensors, arrays as arrays. Never unpickles."""
    path = os.fspath(path)
    try:
        data = np.load(path, allow_pickle=False)
    except ValueError as err:  # neither .npy nor .npz, or a pickle
        raise ValueError(f"load: {path!r} was not written by minigrad.save: {err}") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"load: {path!r} holds a single .npy array, not a file written by minigrad.save")
    with data:
        if _TREE not in data.files:
            raise ValueError(f"load: {path!r} was not written by minigrad.save (no {_TREE} entry)")
        tree = json.loads(data[_TREE].tobytes().decode())
        try:
            arrays = {k: data[k] for k in data.files if k != _TREE}
        except ValueError as err:  # an object array, which only unpickling could read
            raise ValueError(f"load: {path!r} holds pickled data, which minigrad never loads: {err}") from None
        return _decode(tree, arrays)


def _encode(obj: Any, arrays: dict[str, np.ndarray], where: str) -> Any:
    if isinstance(obj, Tensor | np.ndarray):
        key = str(len(arrays))
        arrays[key] = obj.data if isinstance(obj, Tensor) else obj
        if arrays[key].dtype.kind not in "biuf":
            raise TypeError(f"save: {where} has dtype {arrays[key].dtype}, which cannot be saved without pickling")
        return {"tensor" if isinstance(obj, Tensor) else "array": key}
    if isinstance(obj, dict):
        if not all(isinstance(k, str | int) for k in obj):
            raise TypeError(f"save: {where} has keys that are not strings or ints: {list(obj)}")
        return {"dict": [[k, _encode(v, arrays, f"{where}[{k!r}]")] for k, v in obj.items()]}
    if isinstance(obj, list | tuple):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, bool | int | float | str):
        return {"value": obj}
    raise TypeError(f"save: {where} is a {type(obj).__name__}; minigrad saves tensors, arrays, numbers, strings, "
                    "and dicts, lists and tuples of them")


def _decode(node: dict, arrays: dict[str, np.ndarray]) -> Any:
    (kind, body), = node.items()
    if kind == "tensor":
        return Tensor.wrap(arrays[body])
    if kind == "array":
        return arrays[body]
    if kind == "dict":
        return {k: _decode(v, arrays) for k, v in body}
    if kind in ("list", "tuple"):
        items = [_decode(v, arrays) for v in body]
        return items if kind == "list" else tuple(items)
    return body
