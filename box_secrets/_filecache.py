"""Opt-in token sharing between processes through a cache directory.

For short-lived processes (CLI calls, Terraform runs) that would otherwise mint
a token each. The trade-off: access tokens then rest on disk, in 0600 files of
a 0700 directory, for their lifetime. Off unless a cache directory is given.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._files import atomic_write, file_lock
from .errors import InputError

if TYPE_CHECKING:
    from .tokens import AccessToken

__all__ = ["drop_cached", "locked_entry", "prepare_cache_dir", "write_cached"]


def prepare_cache_dir(path: str) -> None:
    """Create the directory 0700, or refuse one that others can read."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path)
    except OSError as exc:
        raise InputError(
            f"token cache directory {path!r} cannot be created ({exc.strerror})"
        ) from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(
            f"token cache directory {path!r} is readable by other users; run chmod 700 on it "
            "or choose another directory"
        )
    if st.st_uid != os.getuid():
        raise InputError(f"token cache directory {path!r} belongs to another user; choose another")


class _Entry:
    def __init__(self, path: str) -> None:
        self.path = path

    def read(self) -> AccessToken | None:
        from .tokens import AccessToken

        try:
            with open(self.path, "rb") as fh:
                data = json.load(fh)
            return AccessToken(
                data["access_token"],
                expires_at=float(data["expires_at"]),
                expires_in=int(data["expires_in"]),
                token_type=data.get("token_type", "bearer"),
                restricted_to=data.get("restricted_to") or [],
                issued_token_type=data.get("issued_token_type"),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or damaged: mint a new one

    def write(self, tok: AccessToken) -> None:
        data = {
            "access_token": tok.access_token,
            "expires_at": tok.expires_at,
            "expires_in": tok.expires_in,
            "token_type": tok.token_type,
            "restricted_to": tok.restricted_to,
            "issued_token_type": tok.issued_token_type,
        }
        atomic_write(self.path, json.dumps(data).encode(), mode=0o600)


@contextlib.contextmanager
def locked_entry(directory: str, key: str) -> Iterator[_Entry]:
    """The entry for ``key``, held under an exclusive lock (cross-process single-flight)."""
    with file_lock(os.path.join(directory, f"{key}.lock")):
        yield _Entry(os.path.join(directory, f"{key}.json"))


def write_cached(directory: str, key: str, tok: AccessToken) -> None:
    with locked_entry(directory, key) as entry:
        entry.write(tok)


def drop_cached(directory: str, key: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(directory, f"{key}.json"))
