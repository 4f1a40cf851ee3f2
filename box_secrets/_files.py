"""Crash-safe file writes and inter-process locks (POSIX)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from collections.abc import Iterator

from . import _faults

__all__ = ["TMP_MARK", "atomic_write", "file_lock"]

#: Temporary files carry this marker so a later writer can remove leftovers.
TMP_MARK = ".tmp-box-secrets-"


def atomic_write(path: str, data: bytes, *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data``: readers see the old or the new file, never a mix.

    Write a temporary file in the same directory, fsync it, rename it over the
    target, then fsync the directory so the rename survives a power cut.
    """
    directory = os.path.dirname(os.path.abspath(path)) or "."
    tmp = os.path.join(directory, f".{os.path.basename(path)}{TMP_MARK}{secrets.token_hex(6)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            os.fchmod(fd, mode)  # the umask may have narrowed it; never widen beyond mode
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        _faults.crashpoint("file.rename", "before")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(directory)


def fsync_dir(directory: str) -> None:
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


@contextlib.contextmanager
def file_lock(path: str, *, shared: bool = False) -> Iterator[None]:
    """Hold an exclusive (or shared) ``flock`` on ``path`` (created 0600 if missing).

    ``flock`` locks belong to the open file description, so threads of one
    process exclude each other too, as long as each opens the file itself.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
