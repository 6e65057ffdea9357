"""Saving and loading tensors, state dicts and optimizer state as .npz files.

The file is a zip archive (numpy's .npz) holding each array under a number and one JSON
description of how they nest (dicts, lists, tuples, numbers, strings). Saving writes a
temporary file that replaces the target only once complete and synced to the disk. Loading
never unpickles, and checks everything it reads: a damaged, truncated or foreign file —
or one whose arrays are larger than ``MAX_ARRAY_BYTES`` — raises ``CheckpointError``
naming the path and what is wrong, never a bare zip or JSON error and never a wrong value.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from typing import Any

import numpy as np

from minigrad.atomic import write_atomically
from minigrad.tensor import Tensor

_TREE = "__minigrad_tree__"
MAX_ARRAY_BYTES = 4 << 30  # no array in a checkpoint may hold more (it is refused before it is read)
MAX_TREE_BYTES = 16 << 20  # the JSON description of the nesting
MAX_DEPTH = 100            # containers nested deeper are refused
_PLAIN_FLAGS = 0x08 | 0x800  # the zip flags of plain members: sizes after the data, UTF-8 names (save sets no other)


class CheckpointError(ValueError):
    """A file that ``mg.load`` cannot trust: damaged, truncated, oversized or not written by ``mg.save``."""


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
    """Reads what ``save`` wrote: tensors come back as Tensors, arrays as arrays. Never unpickles.

    Raises CheckpointError for any file that is not a complete, undamaged file from ``save``.
    """
    path = os.fspath(path)
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                names = _check_members(archive)
                tree = json.loads(_read_array(archive, _TREE).tobytes().decode())
                arrays = {name: _read_array(archive, name) for name in names}
            except OSError as err:  # a member's recorded place or size lies outside the file
                raise CheckpointError(f"damaged ({err})") from None
        return _decode(tree, arrays, 0)
    except CheckpointError as err:
        raise CheckpointError(f"load: {path!r}: {err}") from None
    except (zipfile.BadZipFile, NotImplementedError) as err:  # zipfile's word for a version or method it lacks
        raise CheckpointError(f"load: {path!r} is not a file written by minigrad.save, or it is damaged or "
                              f"truncated (not a complete zip archive: {err})") from None
    except (EOFError, zlib.error, ValueError, UnicodeDecodeError, RecursionError) as err:
        raise CheckpointError(f"load: {path!r} is damaged or was not written by minigrad.save: {err}") from None


def _check_members(archive: zipfile.ZipFile) -> list[str]:
    """The array names in the archive (the tree aside), after checking that every member is one
    ``save`` writes, of a size it allows."""
    names = []
    for info in archive.infolist():
        name = info.filename.removesuffix(".npy")
        if (name != _TREE and not name.isdigit()) or not info.filename.endswith(".npy"):
            raise CheckpointError(f"not written by minigrad.save (it holds a member {info.filename!r})")
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & ~_PLAIN_FLAGS:
            raise CheckpointError(f"not written by minigrad.save, or damaged (member {info.filename!r} is "
                                  "compressed, encrypted or patched)")
        cap = MAX_TREE_BYTES if name == _TREE else MAX_ARRAY_BYTES
        if info.file_size > cap:
            raise CheckpointError(f"member {info.filename!r} holds {info.file_size:,} bytes, more than the "
                                  f"{cap:,} that minigrad.load accepts")
        if name != _TREE:
            names.append(name)
    if _TREE + ".npy" not in archive.namelist():
        raise CheckpointError(f"not written by minigrad.save (no {_TREE} entry)")
    return names


def _read_array(archive: zipfile.ZipFile, name: str) -> np.ndarray:
    """One member as an array. Reading it whole makes zipfile check its CRC (a flipped bit raises)."""
    raw = archive.read(name + ".npy")
    try:
        return np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)
    except ValueError as err:
        if "pickle" in str(err).lower() or "object" in str(err).lower():
            raise CheckpointError(f"member {name!r} holds pickled data, which minigrad never loads") from None
        raise CheckpointError(f"member {name!r} is not a valid array: {err}") from None


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


def _decode(node: Any, arrays: dict[str, np.ndarray], depth: int) -> Any:
    """The object a tree node describes, checking that the node is one ``_encode`` writes."""
    if depth > MAX_DEPTH:
        raise CheckpointError(f"containers nested more than {MAX_DEPTH} deep")
    if not (isinstance(node, dict) and len(node) == 1):
        raise CheckpointError(f"malformed description: {_short(node)} is not an entry of one kind")
    (kind, body), = node.items()
    if kind in ("tensor", "array"):
        if not isinstance(body, str) or body not in arrays:
            raise CheckpointError(f"malformed description: {kind} {_short(body)} names no array in the file")
        return Tensor.wrap(arrays[body]) if kind == "tensor" else arrays[body]
    if kind == "dict" and isinstance(body, list) and all(
            isinstance(item, list) and len(item) == 2 and isinstance(item[0], str | int) for item in body):
        return {k: _decode(v, arrays, depth + 1) for k, v in body}
    if kind in ("list", "tuple") and isinstance(body, list):
        items = [_decode(v, arrays, depth + 1) for v in body]
        return items if kind == "list" else tuple(items)
    if kind == "value" and (body is None or isinstance(body, bool | int | float | str)):
        return body
    raise CheckpointError(f"malformed description: an entry {_short(node)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
