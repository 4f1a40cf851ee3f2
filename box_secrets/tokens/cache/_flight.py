"""One token per (app, subject, scopes, resource) for a whole fleet.

:class:`SharedTokens` puts a :class:`~box_secrets.tokens.cache.TokenCache`
between a provider and Box:

- a fresh entry (more than the refresh margin left) is used as it is;
- on a miss, the process that takes the entry's lease asks Box and writes the
  token; the others poll the entry until it appears. A holder that dies frees
  the lease when it expires (``lease_ttl``); a waiter never waits more than
  half of what is left of the provider's deadline, then mints for itself and
  says so in a warning;
- refresh ahead of expiry happens once per fleet: a process whose entry is
  inside the margin but still valid tries the lease; if another process holds
  it, the old token is served a little longer instead of waiting;
- a failing cache (down, slow, full, read-only) or an entry that does not
  open is never fatal: the token is minted directly, one warning per process
  says so, and :func:`error_count` counts every failure. After a failure the
  cache is left alone for ``_BREAK`` seconds, so a dead server costs at most
  one timeout per process per pause.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from box_secrets._support import retry as _retry
from box_secrets.tokens.cache._seal import Codec, PlainCodec, Sealer, Unreadable

if TYPE_CHECKING:
    from box_secrets.stores._config import BoxAppConfig
    from box_secrets.tokens._token import AccessToken
    from box_secrets.tokens.cache import TokenCache

__all__ = ["SharedTokens", "error_count"]

log = logging.getLogger("box_secrets.tokens")

_BREAK = 5.0  # seconds a failed cache is skipped
_STALE_FLOOR = 10.0  # a token with less left than this is not served while another refreshes
_FIRST_POLL, _MAX_POLL = 0.01, 0.2

_errors = 0
_warned = False
_errors_lock = threading.Lock()


def error_count() -> int:
    """Shared-cache failures and unreadable entries seen by this process."""
    return _errors


def _count(cache: TokenCache, what: str, exc: BaseException) -> None:
    global _errors, _warned
    with _errors_lock:
        _errors += 1
        first, _warned = not _warned, True
    if first:
        from box_secrets._urls import clean_text

        # The exception's type and text only: backends never put secrets in either.
        log.warning(
            "the token cache %s failed %s (%s: %s); minting tokens directly while it "
            "fails (this warning is printed once per process; see cache_errors())",
            cache.name,
            what,
            type(exc).__name__,
            clean_text(str(exc), limit=160),
        )
    else:
        log.debug("token cache %s failed %s (%s)", cache.name, what, type(exc).__name__)


Fetch = Callable[[float], "AccessToken"]
Margin = Callable[[float], float]


class SharedTokens:
    """A provider's view of one shared cache."""

    def __init__(self, cache: TokenCache, *, lease_ttl: float) -> None:
        self.cache = cache
        self.lease_ttl = lease_ttl
        self._codecs: dict[tuple[str, str], Codec] = {}
        self._skip_until = 0.0
        # Tokens this process was told are refused: an entry still holding one (its
        # compare-and-delete failed while the cache was down) is a miss, not a token.
        self._refused: dict[str, None] = {}

    def codec(self, config: BoxAppConfig) -> Codec:
        """The codec for ``config``'s app (sealed on the network, plain in a directory)."""
        ident = (config.client_id, config.client_secret)
        codec = self._codecs.get(ident)
        if codec is None:
            if self.cache.sealed:
                codec = Sealer(config.client_id, config.client_secret)
            else:
                codec = PlainCodec(config.client_id)
            if len(self._codecs) > 8:
                self._codecs.clear()
            self._codecs[ident] = codec
        return codec

    # -- the flight ------------------------------------------------------------------

    def get(
        self, name: str, codec: Codec, fetch: Fetch, deadline_at: float, margin: Margin
    ) -> tuple[AccessToken, bool]:
        """A token for ``name`` and whether it is stale (another process is refreshing it)."""
        if self._skipping():
            return fetch(deadline_at), False
        entry = self._read(name, codec)
        if entry is not None and _fresh(entry, margin):
            return entry, False
        stale = entry if entry is not None and _left(entry) > _STALE_FLOOR else None
        now = _retry._monotonic()
        give_up = now + max(0.0, deadline_at - now) / 2
        poll = _FIRST_POLL
        while True:
            try:
                lease = self.cache.lease(name, self.lease_ttl)
            except Exception as exc:  # any cache failure means: mint directly
                self._failed("taking the lease", exc)
                return fetch(deadline_at), False
            if lease is not None:
                return self._as_holder(name, codec, fetch, deadline_at, margin, lease=lease), False
            if stale is not None:
                return stale, True
            if _retry._monotonic() >= give_up:
                log.warning(
                    "waited %.1f s (half the deadline) for another process to mint the "
                    "token it holds the lease for; minting here",
                    give_up - now,
                )
                tok = fetch(deadline_at)
                self.put(name, codec, tok)
                return tok, False
            _retry._sleep(min(poll, max(0.0, give_up - _retry._monotonic())))
            poll = min(poll * 1.6, _MAX_POLL)
            entry = self._read(name, codec)
            if entry is not None and _fresh(entry, margin):
                return entry, False
            if self._skipping():
                return fetch(deadline_at), False

    def _as_holder(
        self,
        name: str,
        codec: Codec,
        fetch: Fetch,
        deadline_at: float,
        margin: Margin,
        *,
        lease: object,
    ) -> AccessToken:
        try:
            entry = self._read(name, codec)  # written while we took the lease?
            if entry is not None and _fresh(entry, margin):
                return entry
            tok = fetch(deadline_at)
            self.put(name, codec, tok)
            return tok
        finally:
            try:
                self.cache.release(lease)
            except Exception as exc:
                self._failed("releasing the lease", exc)

    # -- entries -----------------------------------------------------------------------

    def _read(self, name: str, codec: Codec) -> AccessToken | None:
        try:
            got = self.cache.get(name)
        except Exception as exc:
            self._failed("reading", exc)
            return None
        if got is None:
            return None
        data, left = got
        try:
            tok = codec.open(name, data)
        except Unreadable as exc:
            # Garbage, tampered, or moved from another name: a miss, and worth counting.
            _count(self.cache, "to give a readable entry", exc)
            return None
        if tok.access_token in self._refused:
            return None
        if left is not None:
            # The server's clock says how long is left; ours may be off by minutes.
            tok.expires_at = time.time() + left
        return tok

    def refuse(self, value: str) -> None:
        """Never serve ``value`` from the cache again (the last 32 refused are kept)."""
        self._refused[value] = None
        while len(self._refused) > 32:
            del self._refused[next(iter(self._refused))]

    def put(self, name: str, codec: Codec, tok: AccessToken) -> None:
        left = tok.expires_at - time.time()
        if left <= 0 or self._skipping():
            return
        try:
            self.cache.put(name, codec.seal(name, tok), left)
        except Exception as exc:
            self._failed("writing", exc)

    def forget(self, value: str, codec: Codec, names: list[str]) -> None:
        """Never serve the token ``value`` again, and drop it from the cache.

        A cache that can be searched (a directory) drops every copy; a network cache,
        whose names are HMACs, drops it from ``names`` only, and only where an entry
        still holds it (a newer token stays).
        """
        self.refuse(value)
        drop_token = getattr(self.cache, "drop_token", None)
        if drop_token is not None:
            drop_token(value)
            return
        for name in dict.fromkeys(names):
            self._drop(name, codec, value)

    def _drop(self, name: str, codec: Codec, value: str) -> None:
        import secrets

        try:
            got = self.cache.get(name)
            if got is None:
                return
            try:
                held = codec.open(name, got[0]).access_token
            except Unreadable:
                return
            if secrets.compare_digest(held.encode(), value.encode()):
                self.cache.delete(name, got[0])
        except Exception as exc:
            self._failed("dropping a refused token", exc)

    # -- failures ----------------------------------------------------------------------

    def _failed(self, what: str, exc: BaseException) -> None:
        self._skip_until = _retry._monotonic() + _BREAK
        _count(self.cache, what, exc)

    def _skipping(self) -> bool:
        return self._skip_until > _retry._monotonic()


def _left(tok: AccessToken) -> float:
    return tok.expires_at - time.time()


def _fresh(tok: AccessToken, margin: Margin) -> bool:
    return _left(tok) > margin(tok.expires_in)
