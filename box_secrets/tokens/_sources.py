"""Key sources: where the token module reads the current Box app config from.

A source returns the current config, cheaply and usually from memory; with
``force_refresh=True`` it must go back to where the config lives. The token
module calls that once when Box rejects the key, which is how a long-running
reader picks up a rotated key without a restart.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol, runtime_checkable

from box_secrets.errors import ConfigError
from box_secrets.stores._config import BoxAppConfig, config_from_document, config_json

__all__ = ["ConfigFileSource", "KeySource", "StaticSource", "as_source"]


@runtime_checkable
class KeySource(Protocol):
    """Something that yields the current :class:`BoxAppConfig`."""

    @property
    def name(self) -> str:
        """A non-secret name (a path or store URI) used in messages and cache keys."""

    def load(self, *, force_refresh: bool = False) -> BoxAppConfig:
        """The current config; ``force_refresh`` bypasses every cache."""


class StaticSource:
    """A config held in memory; refreshing returns the same config."""

    def __init__(self, config: BoxAppConfig, name: str = "in-memory config") -> None:
        self._config = config
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def load(self, *, force_refresh: bool = False) -> BoxAppConfig:
        return self._config

    def replace(self, config: BoxAppConfig) -> None:
        """Swap the held config (what a rotation does to an in-memory source)."""
        self._config = config

    def __repr__(self) -> str:
        return f"StaticSource({self._config!r})"


class ConfigFileSource:
    """A Developer Console config file, re-read when it changes on disk.

    A file named by a person is always fully validated, even one that carries
    a ``boxSecrets`` record: anyone can write that key into a file. (Stores,
    which box-secrets itself writes, skip the costly RSA check instead.)
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = os.fspath(path)
        self._lock = threading.Lock()
        self._config: BoxAppConfig | None = None
        self._stamp: tuple[int, int, int] | None = None

    @property
    def name(self) -> str:
        return self._path

    def _read(self) -> tuple[BoxAppConfig, tuple[int, int, int]]:

        from box_secrets._support.files import MAX_STORE_BYTES, read_limited

        try:
            # The store cap, not the config cap: a store file may be named here too.
            text, st = read_limited(self._path, MAX_STORE_BYTES, what="config file")
        except FileNotFoundError:
            raise ConfigError(
                f"config file {self._path!r} does not exist; pass the path of the JSON "
                "file the Developer Console downloaded"
            ) from None
        except OSError as exc:
            raise ConfigError(
                f"config file {self._path!r} cannot be read ({exc.strerror}); check its "
                "path and permissions"
            ) from None
        data = config_json(text, where=self._path)
        config = config_from_document(data, trusted=False, where=self._path)
        return config, (st.st_ino, st.st_size, st.st_mtime_ns)

    def load(self, *, force_refresh: bool = False) -> BoxAppConfig:
        """The config, re-read when the file changed (or ``force_refresh``).

        Raises:
            ConfigError: the file is missing, unreadable or not a valid Box config.
        """
        with self._lock:
            if self._config is not None and not force_refresh:
                try:
                    st = os.stat(self._path)
                    if (st.st_ino, st.st_size, st.st_mtime_ns) == self._stamp:
                        return self._config
                except OSError:
                    return self._config  # keep serving the key we have; minting will tell
            config, stamp = self._read()
            if self._config is not None and config == self._config:
                config = self._config  # same content: keep the parsed key object
            self._config, self._stamp = config, stamp
            return config

    def __repr__(self) -> str:
        return f"ConfigFileSource({self._path!r})"


def as_source(source: KeySource | BoxAppConfig | str | os.PathLike[str]) -> KeySource:
    """Any of: a KeySource, a BoxAppConfig, a config file path, or a store URI."""
    if isinstance(source, BoxAppConfig):
        return StaticSource(source)
    if isinstance(source, str | os.PathLike):
        text = os.fspath(source)
        from box_secrets.stores._uri import is_store_uri

        if is_store_uri(text):
            from box_secrets.stores._reader import StoreSource

            return StoreSource(text)
        return ConfigFileSource(text)
    if isinstance(source, KeySource):
        return source
    raise TypeError("source must be a KeySource, a BoxAppConfig, a config path or a store URI")
