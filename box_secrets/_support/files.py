"""Crash-safe file writes, bounded reads and inter-process locks (POSIX)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterator

import box_secrets._support.faults as _faults
from box_secrets.errors import InputError, StoreUnavailableError

__all__ = [
    "LOCK_TIMEOUT_ENV",
    "MAX_CONFIG_BYTES",
    "MAX_STORE_BYTES",
    "TMP_MARK",
    "atomic_write",
    "file_lock",
    "lock_timeout",
    "read_limited",
]

#: A Developer Console config is about 2 KB; anything far larger is not one.
MAX_CONFIG_BYTES = 64 * 1024
#: A store file also carries the record and its history.
MAX_STORE_BYTES = 1024 * 1024
#: Seconds a writer waits for a file store's lock before giving up (default 30).
LOCK_TIMEOUT_ENV = "BOX_SECRETS_LOCK_TIMEOUT"


class FileRefused(InputError):
    """A file that is not a regular file, or larger than its cap (``reason`` says which)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        #: "not-regular" or "too-large": for callers that word the refusal their own way.
        self.reason = reason


def read_limited(path: str, cap: int, *, what: str) -> tuple[bytes, os.stat_result]:
    """Read a regular file of at most ``cap`` bytes; refuse devices, pipes and giants.

    Opened non-blocking, so a FIFO cannot hang the process, and checked through
    the open descriptor, so a swap between check and read cannot fool it.
    Returns the bytes and that ``stat``. ``OSError`` (missing, permission)
    propagates for the caller to word.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused(
                f"{what} {path!r} is not a regular file; give the path of a JSON file",
                reason="not-regular",
            )
        if st.st_size > cap:
            raise FileRefused(
                f"{what} {path!r} is {st.st_size} bytes, over the {cap // 1024} KiB limit; "
                "it is not a Box config",
                reason="too-large",
            )
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            total += len(chunk)
            if total > cap:
                raise FileRefused(
                    f"{what} {path!r} is over the {cap // 1024} KiB limit", reason="too-large"
                )
            chunks.append(chunk)
        return b"".join(chunks), st
    finally:
        os.close(fd)


#: Temporary files carry this marker so a later writer can remove leftovers.
TMP_MARK = ".tmp-box-secrets-"


def atomic_write(path: str, data: bytes, *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data``: readers see the old or the new file, never a mix.

    Write a temporary file in the same directory, fsync it, rename it over the
    target, then fsync the directory so the rename survives a power cut.
    """
    directory = os.path.dirname(os.path.abspath(path)) or "."
    import secrets

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


def lock_timeout() -> float:
    """``BOX_SECRETS_LOCK_TIMEOUT`` in seconds (default 30), or one sentence on a bad value."""
    raw = os.environ.get(LOCK_TIMEOUT_ENV, "30")
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 86400:  # also false for nan
        raise InputError(f"{LOCK_TIMEOUT_ENV} must be a number of seconds from 0 to 86400")
    return value


@contextlib.contextmanager
def file_lock(path: str, *, timeout: float | None = None) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created 0600 if missing).

    ``flock`` locks belong to the open file description, so threads of one
    process exclude each other too, as long as each opens the file itself.
    The lock file is opened without following a symbolic link (a planted link
    cannot make us create or lock another file), and the wait is bounded:
    after ``timeout`` seconds (``BOX_SECRETS_LOCK_TIMEOUT``, default 30) it
    raises :class:`StoreUnavailableError` naming the lock file.
    """
    limit = lock_timeout() if timeout is None else timeout
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StoreUnavailableError(
                f"lock file {path} is a symbolic link; remove it (box-secrets creates its own)"
            ) from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise StoreUnavailableError(f"lock file {path} is not a regular file; remove it")
        deadline = time.monotonic() + limit
        pause = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreUnavailableError(
                        f"another process has held the lock {path} for over {limit:g} s; "
                        "wait for it to finish (or stop it) and run again"
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.1)
        yield
    finally:
        os.close(fd)  # closing releases the lock
