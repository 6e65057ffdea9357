"""Writing a file so that it appears complete or not at all (used by ``mg.save`` and ``viz.render``).

The data goes to a temporary file beside the target, is flushed to the disk (fsync), and
only then renamed over the target; the folder is synced too, so that the rename survives a
power cut. A writer that is killed half-way leaves its temporary file behind: it is named
after the target and the writer's process id, and the next write of the same target removes
it once that process is gone.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable

_TEMPORARY = ".{name}.minigrad-tmp-{pid}-{token}"


def write_atomically(path: str, write: Callable[[str], None], op: str) -> None:
    """Calls ``write(tmp)`` for a temporary file beside ``path``, then renames it to ``path``.

    A failure at any point removes the temporary file and leaves an existing ``path`` untouched.
    """
    if os.path.isdir(path):
        raise IsADirectoryError(f"{op}: {path!r} is a folder; give the path of a file inside it")
    folder, name = os.path.split(os.path.abspath(path))
    _remove_stale_temporaries(folder, name)
    tmp = os.path.join(folder, _TEMPORARY.format(name=name, pid=os.getpid(), token=secrets.token_hex(4)))
    try:  # 0o666 less the umask: the permissions of any new file
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    except OSError as err:
        raise OSError(f"{op}: cannot write to {path!r}: {err.strerror or err}") from None
    try:
        write(tmp)
        _sync(tmp)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    _sync(folder)


def _sync(path: str) -> None:
    """Flushes a file (or a folder's entries) to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot sync a folder; the file itself was synced
        if not os.path.isdir(path):
            raise
    finally:
        os.close(fd)


def _remove_stale_temporaries(folder: str, name: str) -> None:
    """Removes the temporary files of earlier writes of ``name`` whose process no longer runs."""
    prefix = _TEMPORARY.format(name=name, pid="", token="")[:-1]
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            pid = entry.name[len(prefix):].split("-")[0] if entry.name.startswith(prefix) else ""
            if pid.isdigit() and not _running(int(pid)):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it runs, as another user
        return True
    return True
