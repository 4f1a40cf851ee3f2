"""The file store: one JSON file, the embedded default.

The file is always a Box config (the active key's) that Box's SDKs load as
is; box-secrets' record rides under ``boxSecrets``. A config downloaded from
the Developer Console is a valid store before box-secrets ever writes it.

Writes hold an ``flock`` on ``PATH.lock`` (threads and processes alike), write
a temporary file, fsync it and rename it over the old one, so readers see the
old or the new file and never a mix. The previous few versions are kept in
``.NAME.history/`` (0700) for recovery; a retired key is purged from there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from typing import TYPE_CHECKING, Any

from .._files import TMP_MARK, atomic_write, file_lock, fsync_dir
from ..errors import (
    ConflictError,
    StoreAccessDeniedError,
    StoreCorruptError,
    StoreError,
    StoreNotFoundError,
    StoreURIError,
)
from ._uri import StoreURI
from .base import Store, fingerprints_in

if TYPE_CHECKING:
    from ..record import Snapshot

__all__ = ["FileStore"]


def _revision(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


class FileStore(Store):
    scheme = "file"

    def __init__(self, uri: StoreURI) -> None:
        super().__init__(str(uri))
        self.path = os.path.abspath(uri.location)
        try:
            self.keep = int(uri.params.get("keep", "5"))
        except ValueError:
            raise StoreURIError("file store parameter keep must be a number of versions") from None
        if not 0 <= self.keep <= 100:
            raise StoreURIError("file store parameter keep must be between 0 and 100")
        directory, name = os.path.split(self.path)
        self.history_dir = os.path.join(directory, f".{name}.history")
        self.lock_path = self.path + ".lock"

    # -- reading -------------------------------------------------------------------

    def _read_raw(self) -> bytes:
        try:
            with open(self.path, "rb") as fh:
                return fh.read()
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

    def _parse(self, raw: bytes, where: str) -> dict[str, Any]:
        try:
            data = json.loads(raw)
        except ValueError:
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
        from ..record import Snapshot

        raw = self._read_raw()
        data = self._parse(raw, self.path)
        adopted_at = os.stat(self.path).st_mtime
        return Snapshot.from_document(
            data, revision=_revision(raw), adopted_at=adopted_at, where=self.path
        )

    # -- writing -------------------------------------------------------------------

    def _commit(self, snapshot: Snapshot, expected: str | None) -> str:
        new = (json.dumps(snapshot.to_document(embed=True), indent=2) + "\n").encode()
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            raise StoreNotFoundError(f"directory {directory} does not exist; create it first")
        try:
            with file_lock(self.lock_path):
                self._remove_leftovers(directory)
                try:
                    with open(self.path, "rb") as fh:
                        current: bytes | None = fh.read()
                except FileNotFoundError:
                    current = None
                current_rev = _revision(current) if current is not None else None
                if current_rev != expected:
                    raise ConflictError(
                        f"{self.path} changed since it was read; nothing was written, read it again"
                    )
                if current is not None and self.keep:
                    self._keep_version(current)
                atomic_write(self.path, new)
                self._prune_history()
        except PermissionError:
            raise StoreAccessDeniedError(
                f"{self.path} cannot be written: permission denied"
            ) from None
        return _revision(new)

    def _remove_leftovers(self, directory: str) -> None:
        # Only writers create temporary files, and we hold the writers' lock.
        base = f".{os.path.basename(self.path)}{TMP_MARK}"
        for name in os.listdir(directory):
            if name.startswith(base):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(directory, name))

    def _history(self) -> list[str]:
        try:
            names = sorted(n for n in os.listdir(self.history_dir) if n.endswith(".json"))
        except FileNotFoundError:
            return []
        return [os.path.join(self.history_dir, n) for n in names]

    def _keep_version(self, raw: bytes) -> None:
        os.makedirs(self.history_dir, mode=0o700, exist_ok=True)
        existing = self._history()
        number = int(os.path.basename(existing[-1]).split(".")[0]) + 1 if existing else 1
        atomic_write(os.path.join(self.history_dir, f"{number:08d}.json"), raw)

    def _prune_history(self) -> None:
        kept = self._history()
        for path in kept[: max(0, len(kept) - self.keep)]:
            os.unlink(path)
        if kept:
            fsync_dir(self.history_dir)

    def _purge(self, fingerprint: str) -> None:
        with file_lock(self.lock_path):
            removed = False
            for path in self._history():
                try:
                    with open(path, "rb") as fh:
                        data = json.loads(fh.read())
                except (OSError, ValueError):
                    continue
                if fingerprint in fingerprints_in(data):
                    os.unlink(path)
                    removed = True
            if removed:
                fsync_dir(self.history_dir)

    # -- diagnostics -----------------------------------------------------------------

    def stored_fingerprints(self) -> set[str]:
        found: set[str] = set()
        with contextlib.suppress(StoreNotFoundError):
            found |= fingerprints_in(self.read_current_data())
        for path in self._history():
            with contextlib.suppress(OSError, ValueError), open(path, "rb") as fh:
                found |= fingerprints_in(json.loads(fh.read()))
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
