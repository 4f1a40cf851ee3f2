"""The ``token`` command's own entries in a per-host cache directory, named by its arguments.

Shell scripts and cron jobs call ``box-secrets token`` once per use. Naming a
token by what the provider names it by (the app's client ID, its enterprise)
would mean reading the store first; these entries are named instead by the
command line's meaning (Box's base URL, the store URI or config path, the
subject, scopes and resource), so a hit reads one 0600 file and prints: no
store read, no HTTP client, no cryptography, no click (``_fast_token``).

When the key comes from a local file (``--config``, ``--store file:``), the
entry records the file's identity (inode, size, mtime): a file edited or
replaced since, by a rotation or by hand, is a miss, so a changed app is
never served an old app's token. A remote store's secret may change app only
by hand; its entry then lasts at most until the token's refresh margin.
Written by the full path after it has a token (:func:`remember`).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

__all__ = ["ALIAS_MARGIN", "alias_name", "cache_dir_for", "recall", "remember", "source_file"]

#: The provider's default refresh margin: an entry is served until then, as a provider would.
ALIAS_MARGIN = 300.0


def cache_dir_for(cache_dir: str | None, token_cache: str | None) -> str | None:
    """The directory the token command keeps its own entries in, if any.

    Raises:
        InputError: ``token_cache`` is not a cache URI (judged even when unused here).
    """
    parsed = None
    if token_cache:
        from box_secrets.tokens.cache._uri import parse_cache_uri

        parsed = parse_cache_uri(token_cache)
    if cache_dir:
        return cache_dir
    return parsed.target if parsed is not None and parsed.kind == "dir" else None


def source_file(config: str | None, store: str | None) -> str | None:
    """The local file the key is read from, if it is one."""
    if config:
        return os.path.abspath(config)
    if store and store.startswith("file:"):
        path = store[len("file:") :]
        if path.startswith("//"):
            path = path[2:]
        return os.path.abspath(path) if path else None
    return None


def alias_name(
    base_url: str,
    config: str | None,
    store: str | None,
    *,
    as_user: str | None,
    scopes: list[str],
    resource: str | None,
    shared_link: str | None,
) -> str:
    where = source_file(config, store)
    material = [
        "box-secrets token command v1",
        base_url,
        "file" if where else "store",
        where or store or "",
        as_user,
        sorted(set(scopes)),
        resource,
        shared_link,
    ]
    return "cmd-" + hashlib.sha256(json.dumps(material).encode()).hexdigest()


def _stamp(path: str | None) -> list[int] | None:
    if path is None:
        return None
    st = os.stat(path)
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def recall(data: bytes, config: str | None, store: str | None) -> dict[str, Any] | None:
    """The cached token's fields if the entry is sound, fresh, and its key file unchanged."""
    try:
        entry = json.loads(data)
        token = entry["token"]
        expires_at, expires_in = float(token["expires_at"]), int(token["expires_in"])
        if not isinstance(token["access_token"], str):
            return None
        if entry.get("stamp") != _stamp(source_file(config, store)):
            return None
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError):
        return None
    margin = ALIAS_MARGIN if expires_in > ALIAS_MARGIN else expires_in / 2
    if not expires_at - time.time() > margin:  # also false for nan
        return None
    result: dict[str, Any] = token
    return result


def remember(
    cache: Any, name: str, token: dict[str, Any], config: str | None, store: str | None
) -> None:
    """Write the entry (``token`` is ``AccessToken.to_cache()``); a failure only costs a miss."""
    try:
        data = json.dumps({"token": token, "stamp": _stamp(source_file(config, store))})
        cache.put(name, data.encode(), max(0.0, float(token["expires_at"]) - time.time()))
    except (OSError, ValueError):
        pass
