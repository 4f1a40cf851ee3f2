"""The file store: one JSON file, the embedded default.

The file is always a Box config (the active key's) that Box's SDKs load as
is; box-secrets' record rides under ``boxSecrets``. A config downloaded from
the Developer Console is a valid store before box-secrets ever writes it.

Writes hold an ``flock`` on ``PATH.lock`` (threads and processes alike), write
a temporary file, fsync it and rename it over the old one, so readers see the
old or the new file and never a mix. The previous few versions are kept in
``.NAME.history/`` (0700) for recovery; a retired key is purged from there.

A store path that is a symbolic link is resolved once, when the store is
opened: the file, its lock and its history all live beside the real file, so
a write never replaces the link with a copy and leaves the old key behind in
the target. The lock and history are never followed through a link, a history
directory owned by someone else or open to group or others is refused, a
store readable by group or others is reported (refused with ``?strict=true``),
and a store file with a second name (a hard link) is never written: the other
name would keep the old inode, and the keys a rotation destroys with it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
from typing import TYPE_CHECKING, Any

from box_secrets._support.caches import cache_reset
from box_secrets._support.files import (
    MAX_STORE_BYTES,
    TMP_MARK,
    atomic_write,
    file_lock,
    fsync_dir,
    lock_timeout,
    read_limited,
)
from box_secrets._support.times import now
from box_secrets.errors import (
    ConflictError,
    InputError,
    StoreAccessDeniedError,
    StoreCorruptError,
    StoreError,
    StoreNotFoundError,
    StoreURIError,
)
from box_secrets.stores._base import Store, fingerprints_in
from box_secrets.stores._uri import StoreURI

if TYPE_CHECKING:
    from box_secrets.stores._document import Snapshot

__all__ = ["FileStore"]


def _log() -> Any:
    import logging  # only when there is something to say

    return logging.getLogger("box_secrets.stores._file")


_KEPT = re.compile(r"^\d{8}\.json$")
_warned: set[str] = set()


@cache_reset
def forget_warnings() -> None:
    """Warn again about readable stores (``box_secrets.clear_caches``)."""
    _warned.clear()


def _revision(raw: bytes) -> str:
    """The content's SHA-256: what a writer's check-and-set compares."""
    try:  # CPython's built-in SHA-256: no OpenSSL to load on the read path
        from _sha2 import sha256  # type: ignore[import-not-found]  # 3.12+
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found]  # 3.10, 3.11
        except ImportError:
            from hashlib import sha256
    return str(sha256(raw).hexdigest())


class FileStore(Store):
    scheme = "file"

    def __init__(self, uri: StoreURI) -> None:
        super().__init__(str(uri))
        # Resolved once: the lock and the history then sit beside the real file.
        self.path = os.path.realpath(uri.location)
        strict = uri.params.get("strict", "false").lower()
        if strict not in ("true", "false", "1", "0"):
            raise StoreURIError("file store parameter strict must be true or false")
        self.strict = strict in ("true", "1")
        try:
            self.keep = int(uri.params.get("keep", "5"))
        except ValueError:
            raise StoreURIError("file store parameter keep must be a number of versions") from None
        if not 0 <= self.keep <= 100:
            raise StoreURIError("file store parameter keep must be between 0 and 100")
        directory, name = os.path.split(self.path)
        self.history_dir = os.path.join(directory, f".{name}.history")
        self.lock_path = self.path + ".lock"
        self.lock_timeout = lock_timeout()  # checked now, so a bad value fails before any work

    # -- reading -------------------------------------------------------------------

    def _read_raw(self) -> bytes:
        try:
            raw, st = read_limited(self.path, MAX_STORE_BYTES, what="store file")
        except FileNotFoundError:
            raise StoreNotFoundError(
                f"{self.path} does not exist; import a config with `box-secrets store import` "
                "or `box-secrets init`"
            ) from None
        except PermissionError:
            raise StoreAccessDeniedError(f"{self.path} cannot be read: permission denied") from None
        except IsADirectoryError:
            raise StoreURIError(
                f"{self.path} is a directory; a file store names a JSON file"
            ) from None
        except OSError as exc:
            raise StoreError(f"{self.path} cannot be read ({exc.strerror})") from None
        self._check_mode(st)
        return raw

    def _check_one_name(self, st: os.stat_result) -> None:
        """Refuse to write a file that has a second name (a hard link).

        A write renames a new file over this name; another name keeps the old
        inode, and with it every key box-secrets later reports destroyed.
        """
        if st.st_nlink > 1:
            raise InputError(
                f"{self.path} has {st.st_nlink - 1} other name(s) (hard links): a retired key "
                "would stay readable there after box-secrets destroys it; remove the other "
                f"names (find / -samefile {self.path}) or copy the file, then run again"
            )

    def _check_mode(self, st: os.stat_result) -> None:
        if not st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            return
        if self.strict:
            raise InputError(
                f"{self.path} is readable by other users (mode {oct(st.st_mode & 0o777)}); "
                "run chmod 600 on it, or drop strict=true from the store URI"
            )
        if self.path not in _warned:  # once per process: readers poll
            _warned.add(self.path)
            _log().warning(
                "%s is readable by other users (mode %s); run chmod 600 on it",
                self.path,
                oct(st.st_mode & 0o777),
            )

    def _parse(self, raw: bytes, where: str) -> dict[str, Any]:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            raise StoreCorruptError(
                f"{where} is not valid JSON; restore it from {self.history_dir} or download "
                "the config again"
            ) from None
        if not isinstance(data, dict):
            raise StoreCorruptError(f"{where} does not hold a Box config (not a JSON object)")
        return data

    def current_revision(self) -> str | None:
        try:
            return _revision(self._read_raw())
        except StoreNotFoundError:
            return None

    def read_current_data(self) -> dict[str, Any]:
        return self._parse(self._read_raw(), self.path)

    def load(self) -> Snapshot:
        from box_secrets.stores._document import Snapshot

        raw = self._read_raw()
        data = self._parse(raw, self.path)
        # A plain config adopted in place is as old as the file, but never younger
        # than now: a future mtime must not postpone rotation.
        adopted_at = min(os.stat(self.path).st_mtime, now())
        return Snapshot.from_document(
            data, revision=_revision(raw), adopted_at=adopted_at, where=self.path
        )

    # -- writing -------------------------------------------------------------------

    def _commit(self, snapshot: Snapshot, expected: str | None) -> str:
        new = (
            json.dumps(snapshot.to_document(embed=True), indent=2, allow_nan=False) + "\n"
        ).encode()
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            raise InputError(
                f"directory {directory} does not exist; create it first or choose another path"
            )
        kept: str | None = None
        try:
            with file_lock(self.lock_path, timeout=self.lock_timeout):
                self._remove_leftovers()
                try:
                    current: bytes | None
                    current, st = read_limited(self.path, MAX_STORE_BYTES, what="store file")
                except FileNotFoundError:
                    current = None
                else:
                    self._check_one_name(st)
                current_rev = _revision(current) if current is not None else None
                if current_rev != expected:
                    raise ConflictError(
                        f"{self.path} changed since it was read; nothing was written, read it again"
                    )
                if current is not None and self.keep:
                    kept = self._keep_version(current)
                try:
                    atomic_write(self.path, new)
                except BaseException:
                    if kept is not None:  # a failed commit adds no history copy
                        with contextlib.suppress(OSError):
                            os.unlink(kept)
                    raise
                self._prune_history()
        except PermissionError:
            raise StoreAccessDeniedError(
                f"{self.path} cannot be written: permission denied"
            ) from None
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise StoreError(
                    f"{self.path} cannot be written: {exc.strerror}; nothing was changed, free "
                    "some space and run again"
                ) from None
            raise StoreError(
                f"{self.path} cannot be written ({exc.strerror}); nothing was changed"
            ) from None
        return _revision(new)

    def _leftovers(self) -> list[str]:
        """Temporary files a crashed writer left, here and in the history directory."""
        base = f".{os.path.basename(self.path)}{TMP_MARK}"
        found = [
            os.path.join(os.path.dirname(self.path), n)
            for n in os.listdir(os.path.dirname(self.path))
            if n.startswith(base)
        ]
        if self._history_dir_ok(create=False):
            found += [
                os.path.join(self.history_dir, n)
                for n in os.listdir(self.history_dir)
                if TMP_MARK in n
            ]
        return found

    def _remove_leftovers(self) -> None:
        # Only writers create temporary files, and we hold the writers' lock.
        for path in self._leftovers():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def _history_dir_ok(self, *, create: bool) -> bool:
        """True when the history directory exists and is safe to use; refuse it otherwise."""
        try:
            st = os.lstat(self.history_dir)
        except FileNotFoundError:
            if not create:
                return False
            os.mkdir(self.history_dir, 0o700)
            st = os.lstat(self.history_dir)
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
            raise StoreAccessDeniedError(
                f"{self.history_dir} is not a plain directory (a symbolic link?); remove it, "
                "box-secrets recreates it"
            )
        if st.st_uid != os.getuid():
            raise StoreAccessDeniedError(
                f"{self.history_dir} belongs to another user; remove it, box-secrets recreates "
                "it with mode 0700"
            )
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            # Copies of earlier versions (earlier keys) live here: for the owner alone.
            raise StoreAccessDeniedError(
                f"{self.history_dir} is open to other users (mode {st.st_mode & 0o777:o}); run "
                "chmod 700 on it, or remove it and box-secrets recreates it with mode 0700"
            )
        return True

    def _history(self) -> list[str]:
        if not self._history_dir_ok(create=False):
            return []
        names = sorted(n for n in os.listdir(self.history_dir) if _KEPT.match(n))
        return [os.path.join(self.history_dir, n) for n in names]

    def _keep_version(self, raw: bytes) -> str:
        self._history_dir_ok(create=True)
        existing = self._history()
        number = int(os.path.basename(existing[-1]).split(".")[0]) + 1 if existing else 1
        path = os.path.join(self.history_dir, f"{number:08d}.json")
        atomic_write(path, raw)
        return path

    def _prune_history(self) -> None:
        kept = self._history()
        for path in kept[: max(0, len(kept) - self.keep)]:
            os.unlink(path)
        if kept:
            fsync_dir(self.history_dir)

    def _purge(self, fingerprint: str) -> None:
        with file_lock(self.lock_path, timeout=self.lock_timeout):
            self._remove_leftovers()
            removed = False
            for path in self._history():
                if fingerprint in self._fingerprints_of(path):
                    os.unlink(path)
                    removed = True
            if removed:
                fsync_dir(self.history_dir)

    @staticmethod
    def _fingerprints_of(path: str) -> set[str]:
        try:
            raw = read_limited(path, MAX_STORE_BYTES, what="kept version")[0]
            return fingerprints_in(json.loads(raw))
        except (OSError, ValueError, RecursionError, InputError):
            return set()

    # -- diagnostics -----------------------------------------------------------------

    def stored_fingerprints(self) -> set[str]:
        # Every file that can hold key material: the store, kept versions, leftovers.
        found: set[str] = set()
        with contextlib.suppress(StoreNotFoundError):
            found |= fingerprints_in(self.read_current_data())
        for path in self._history() + self._leftovers():
            found |= self._fingerprints_of(path)
        return found

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"backend": "file", "path": self.path}
        try:
            st = os.stat(self.path)
            info["mode"] = oct(st.st_mode & 0o777)
        except FileNotFoundError:
            info["exists"] = False
            return info
        info["kept_versions"] = [os.path.basename(p) for p in self._history()]
        return info
