"""The runtime read path: the current key from a store, cached per process.

The cache lives at module level, so a warm Lambda (or any long-lived process)
reads the store once per TTL, not once per token. ``force_refresh`` skips it;
the token module does that once when Box rejects a key, which is how readers
follow a rotation within seconds instead of at the TTL.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from box_secrets._support.caches import cache_reset
from box_secrets.stores._base import Store, config_from_store_data
from box_secrets.stores._config import BoxAppConfig
from box_secrets.stores._uri import StoreURI, parse_store_uri

__all__ = ["DEFAULT_TTL", "TTL_ENV", "StoreSource", "clear_cache"]

DEFAULT_TTL = 300.0
#: Seconds a process keeps a store's current key (default 300).
TTL_ENV = "BOX_SECRETS_STORE_TTL"


class _Entry:
    __slots__ = ("config", "data", "fetched")

    def __init__(self, data: dict[str, Any], config: BoxAppConfig, fetched: float) -> None:
        self.data = data
        self.config = config
        self.fetched = fetched


_cache: dict[str, _Entry] = {}
_stores: dict[str, Store] = {}
_lock = threading.Lock()


@cache_reset
def clear_cache() -> None:
    """Forget every cached config and opened store (tests, or after changing a store by hand)."""
    from box_secrets.stores._sm_extension import forget

    with _lock:
        _cache.clear()
        _stores.clear()
    forget()


def _ttl_from_env() -> float:
    import math
    import os

    from box_secrets.errors import InputError

    raw = os.environ.get(TTL_ENV)
    if not raw:
        return DEFAULT_TTL
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 <= value <= 86400):
        raise InputError(f"{TTL_ENV} must be a number of seconds from 0 to 86400")
    return value


def _store(parsed: StoreURI) -> Store:
    uri = str(parsed)
    store = _stores.get(uri)
    if store is None:
        from box_secrets.stores._open import open_store

        store = open_store(parsed)
        with _lock:
            store = _stores.setdefault(uri, store)
    return store


class StoreSource:
    """A :class:`~box_secrets.tokens._sources.KeySource` reading the active key from a store.

    Inside Lambda, a Secrets Manager store is read through AWS's Parameters and
    Secrets extension when one answers (``_sm_extension``): the store, and
    boto3, are then opened only for a forced refresh.
    """

    def __init__(self, uri: str | StoreURI, *, ttl: float | None = None) -> None:
        from box_secrets.stores._sm_extension import extension_reader

        self.parsed = uri if isinstance(uri, StoreURI) else parse_store_uri(uri)
        self.uri = str(self.parsed)
        self._extension = extension_reader(self.parsed)
        self._store: Store | None = None if self._extension else _store(self.parsed)
        self.ttl = _ttl_from_env() if ttl is None else ttl
        self._fetch_lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.uri

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = _store(self.parsed)
        return self._store

    def _read(self, force_refresh: bool) -> dict[str, Any]:
        if self._extension is not None and not force_refresh:
            data = self._extension.read()
            if data is not None:
                return data
        return self.store.read_current_data()

    def load(self, *, force_refresh: bool = False) -> BoxAppConfig:
        """The current config, from the process cache unless older than ``ttl``.

        Raises:
            StoreError: the store cannot be read (a subclass says why: not found,
                access denied, unavailable, corrupt).
            ConfigError: the stored document is not a usable Box config.
        """
        entry = _cache.get(self.uri)
        if entry is not None and not force_refresh and time.monotonic() - entry.fetched < self.ttl:
            return entry.config
        with self._fetch_lock:
            entry = _cache.get(self.uri)
            started = time.monotonic()
            if entry is not None and not force_refresh and started - entry.fetched < self.ttl:
                return entry.config
            data = self._read(force_refresh)
            if entry is not None and data == entry.data:
                config = entry.config  # unchanged: keep the parsed key
            else:
                config = config_from_store_data(data, self.uri)
            with _lock:
                _cache[self.uri] = _Entry(data, config, started)
            return config

    def __repr__(self) -> str:
        return f"StoreSource({self.uri!r}, ttl={self.ttl})"
