"""The per-host token cache: a private directory (``dir:/path``, ``--cache-dir``).

For short-lived processes on one host (CLI calls, Terraform runs, cron jobs)
that would otherwise mint a token each. The trade-off: access tokens rest on
disk, in 0600 files of a 0700 directory, for their lifetime; the entries are
not encrypted (the host's file permissions protect them, as they protect a
store file), which keeps a hit free of cryptography.

The directory is opened once, without following symbolic links, and checked
(owner, mode) through that open descriptor; every entry is then opened
relative to it with ``O_NOFOLLOW``. Swapping the path for a link afterwards,
or planting a link inside, cannot redirect a read or a write. The lease is an
``flock`` on a lock file: the kernel frees it the moment its holder dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import stat

from box_secrets.errors import InputError

__all__ = ["DirLease", "TokenCacheDir"]

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


class DirLease:
    """A held ``flock``; closing its descriptor releases it."""

    __slots__ = ("fd",)

    def __init__(self, fd: int) -> None:
        self.fd = fd


class TokenCacheDir:
    """A checked, open cache directory; entries are named by a hash of what they cache."""

    kind = "dir"
    sealed = False  # host-local: file permissions guard it, and a hit needs no cryptography

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

    @property
    def name(self) -> str:
        return f"dir:{self.path}"

    def close(self) -> None:
        fd, self._fd = getattr(self, "_fd", -1), -1
        if fd >= 0:
            os.close(fd)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    # -- the TokenCache interface ----------------------------------------------------

    def lease(self, name: str, ttl: float) -> DirLease | None:
        """Take ``name``'s lock without waiting; None while another process holds it."""
        fd = os.open(f"{name}.lock", os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600, dir_fd=self._fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        return DirLease(fd)

    def release(self, lease: object) -> None:
        if isinstance(lease, DirLease):
            os.close(lease.fd)

    def get(self, name: str) -> tuple[bytes, float | None] | None:
        """The entry, or None when missing, not ours, or not a plain file (no server clock)."""
        try:
            fd = os.open(f"{name}.json", os.O_RDONLY | _NOFOLLOW, dir_fd=self._fd)
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
            return os.read(fd, _ENTRY_CAP + 1), None
        except OSError:
            return None
        finally:
            os.close(fd)

    def put(self, name: str, data: bytes, ttl: float) -> None:
        tmp = f".{name}.tmp-{secrets.token_hex(6)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600, dir_fd=self._fd)
        try:
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, f"{name}.json", src_dir_fd=self._fd, dst_dir_fd=self._fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=self._fd)
            raise

    def delete(self, name: str, data: bytes) -> None:
        """Remove ``name`` if it still holds ``data`` (a newer token stays)."""
        held = self.get(name)
        if held is not None and secrets.compare_digest(held[0], data):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{name}.json", dir_fd=self._fd)

    # -- beyond the interface ---------------------------------------------------------

    def drop_token(self, value: str) -> int:
        """Remove every entry holding the token ``value`` (aliases included); returns how many."""
        removed = 0
        for name in os.listdir(self._fd):
            if not name.endswith(".json"):
                continue
            held = self.get(name[: -len(".json")])
            try:
                entry = json.loads(held[0]) if held else {}
                # The provider's entries are a token; the token command's wrap one.
                token = entry.get("access_token") or entry.get("token", {}).get("access_token")
            except (ValueError, AttributeError, RecursionError):
                continue
            if isinstance(token, str) and secrets.compare_digest(token.encode(), value.encode()):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name, dir_fd=self._fd)
                    removed += 1
        return removed

    def __repr__(self) -> str:
        return f"TokenCacheDir({self.path!r})"
