"""Writing a file so that it appears complete or not at all (used by ``mg.save`` and ``viz.render``)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable


def write_atomically(path: str, write: Callable[[str], None], op: str) -> None:
    """Calls ``write(tmp)`` for a temporary file beside ``path``, then renames it to ``path``.

    A failure at any point removes the temporary file and leaves an existing ``path`` untouched.
    """
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.splitext(path)[1])
    except OSError as err:
        raise OSError(f"{op}: cannot write to {path!r}: {err.strerror or err}") from None
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp made it private; give it the usual permissions of a new file
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
