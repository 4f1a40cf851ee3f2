"""Opt-in token sharing between processes through a cache directory.

For short-lived processes (CLI calls, Terraform runs) that would otherwise mint
a token each. The trade-off: access tokens then rest on disk, in 0600 files of
a 0700 directory, for their lifetime. Off unless a cache directory is given.

The directory is opened once, without following symbolic links, and checked
(owner, mode) through that open descriptor; every entry is then opened
relative to it with ``O_NOFOLLOW``. Swapping the path for a link afterwards,
or planting a link inside, cannot redirect a read or a write.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import stat
from collections.abc import Iterator

from box_secrets.errors import InputError
from box_secrets.tokens._token import AccessToken

__all__ = ["TokenCacheDir"]

_ENTRY_CAP = 64 * 1024  # a cached token is a few hundred bytes
_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


def _make_private_dirs(path: str) -> None:
    """Create ``path`` and any missing parents with mode 0700."""
    missing: list[str] = []
    head = path
    while head and not os.path.lexists(head):
        missing.append(head)
        parent = os.path.dirname(head)
        if parent == head:
            break
        head = parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(directory, 0o700)


class TokenCacheDir:
    """A checked, open cache directory; entries are named by a hash of what they cache."""

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        try:
            _make_private_dirs(self.path)
            if os.path.islink(self.path):
                raise InputError(
                    f"token cache directory {self.path!r} is a symbolic link; name the real "
                    "directory instead"
                )
            self._fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW)
        except InputError:
            raise
        except OSError as exc:
            raise InputError(
                f"token cache directory {self.path!r} cannot be used ({exc.strerror}); "
                "choose a directory you own"
            ) from None
        st = os.fstat(self._fd)
        if st.st_uid != os.getuid():
            self.close()
            raise InputError(
                f"token cache directory {self.path!r} belongs to another user; choose another"
            )
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            self.close()
            raise InputError(
                f"token cache directory {self.path!r} is open to other users; run chmod 700 on "
                "it or choose another directory"
            )

    def close(self) -> None:
        fd, self._fd = getattr(self, "_fd", -1), -1
        if fd >= 0:
            os.close(fd)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    # -- entries -------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, key: str) -> Iterator[None]:
        """Hold ``key``'s lock: one process mints while the others wait, then read its token."""
        fd = os.open(f"{key}.lock", os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600, dir_fd=self._fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def read(self, key: str) -> AccessToken | None:
        """The cached token, or None when missing, damaged, not ours, or not a plain file."""
        try:
            fd = os.open(f"{key}.json", os.O_RDONLY | _NOFOLLOW, dir_fd=self._fd)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if (
                not stat.S_ISREG(st.st_mode)
                or st.st_uid != os.getuid()
                or st.st_mode & 0o077
                or st.st_size > _ENTRY_CAP
            ):
                return None
            raw = os.read(fd, _ENTRY_CAP + 1)
        except OSError:
            return None
        finally:
            os.close(fd)
        try:
            return AccessToken.from_cache(json.loads(raw))
        except (ValueError, RecursionError):
            return None  # damaged: mint a new one

    def write(self, key: str, tok: AccessToken) -> None:
        data = json.dumps(tok.to_cache(), allow_nan=False).encode()
        tmp = f".{key}.tmp-{secrets.token_hex(6)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600, dir_fd=self._fd)
        try:
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, f"{key}.json", src_dir_fd=self._fd, dst_dir_fd=self._fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=self._fd)
            raise

    def drop(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{key}.json", dir_fd=self._fd)

    def drop_token(self, value: str) -> int:
        """Remove every cached entry holding the token ``value``; returns how many."""
        removed = 0
        for name in os.listdir(self._fd):
            if not name.endswith(".json"):
                continue
            tok = self.read(name[: -len(".json")])
            if tok is not None and secrets.compare_digest(tok.access_token, value):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name, dir_fd=self._fd)
                    removed += 1
        return removed

    def __repr__(self) -> str:
        return f"TokenCacheDir({self.path!r})"
