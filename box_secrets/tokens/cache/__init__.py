"""Token caches shared beyond one process: a host's directory, Redis, DynamoDB.

The in-process cache of :class:`~box_secrets.TokenProvider` always comes
first; a shared cache is asked only on a miss there. Choose one by URI
(:func:`open_token_cache`), with ``TokenProvider(token_cache=...)``,
``--token-cache`` or ``BOX_SECRETS_TOKEN_CACHE``:

==========================================  ==================================================
``dir:/path``                               one host's processes (a 0700 directory)
``redis://HOST:PORT/DB``, ``rediss://...``  a fleet on Redis, Valkey, ElastiCache or MemoryDB
``dynamodb://TABLE?region=&endpoint_url=``  a Lambda fleet (no VPC needed)
==========================================  ==================================================

Each backend implements :class:`TokenCache`: opaque names and bytes, a
non-blocking lease, and a compare-and-delete. What the entries hold and how
they are named is the codec's (``_seal``); the fleet-wide single flight,
refresh-ahead and failure handling are ``_flight``'s, the same for every
backend. A cache is an optimisation: when it fails, tokens are minted directly
and :func:`cache_errors` counts it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from box_secrets.errors import InputError

if TYPE_CHECKING:
    from box_secrets.tokens.cache._flight import SharedTokens
    from box_secrets.tokens.cache._uri import CacheURI

__all__ = [
    "FROM_ENV",
    "TOKEN_CACHE_ENV",
    "FromEnv",
    "TokenCache",
    "cache_errors",
    "from_env",
    "open_token_cache",
    "shared_for",
]

TOKEN_CACHE_ENV = "BOX_SECRETS_TOKEN_CACHE"  # noqa: S105 - a variable name


@runtime_checkable
class TokenCache(Protocol):
    """A shared store of token entries, as the fleet single flight uses it.

    Names and values are opaque to the backend. Every method may raise any
    exception on a network or server failure: the caller counts it and mints.
    """

    kind: str  # "dir", "redis", "dynamodb"
    sealed: bool  # entries leave the host: the caller encrypts them

    @property
    def name(self) -> str:
        """A non-secret description for messages (the canonical URI)."""

    def get(self, name: str) -> tuple[bytes, float | None] | None:
        """The entry and, if the server knows it, its seconds left by the server's clock."""

    def put(self, name: str, data: bytes, ttl: float) -> None:
        """Store ``data`` under ``name`` for ``ttl`` seconds (the token's life)."""

    def delete(self, name: str, data: bytes) -> None:
        """Remove ``name`` only if it still holds ``data``."""

    def lease(self, name: str, ttl: float) -> object | None:
        """Take ``name``'s lease for at most ``ttl`` seconds without waiting; None if held."""

    def release(self, lease: object) -> None:
        """Give back a lease this process holds (never another's)."""


def open_token_cache(uri: str | CacheURI) -> TokenCache:
    """The cache a URI names (see the module docstring for the forms).

    Raises:
        InputError: the URI is not a usable cache URI (one sentence, no secret).
        MissingExtraError: ``redis`` (``box-secrets[redis]``) or boto3
            (``box-secrets[aws]``) is not installed.
    """
    from box_secrets.tokens.cache._uri import CacheURI, parse_cache_uri

    parsed = uri if isinstance(uri, CacheURI) else parse_cache_uri(uri)
    if parsed.kind == "dir":
        from box_secrets.tokens.cache._dir import TokenCacheDir

        return TokenCacheDir(parsed.target)
    if parsed.kind == "redis":
        from box_secrets.tokens.cache._redis import RedisTokenCache

        return RedisTokenCache(
            parsed.target, timeout=parsed.timeout, ca_cert=parsed.params.get("ca_cert")
        )
    from box_secrets.tokens.cache._dynamodb import DynamoTokenCache

    return DynamoTokenCache(
        parsed.target,
        region=parsed.params.get("region"),
        endpoint_url=parsed.params.get("endpoint_url"),
        timeout=parsed.timeout,
    )


def from_env() -> str | None:
    """``BOX_SECRETS_TOKEN_CACHE``, or None when unset or empty."""
    value = os.environ.get(TOKEN_CACHE_ENV, "").strip()
    return value or None


class FromEnv:
    """``TokenProvider(token_cache=...)``'s default: whatever ``BOX_SECRETS_TOKEN_CACHE`` names."""

    def __repr__(self) -> str:
        return "FROM_ENV"


FROM_ENV = FromEnv()


def shared_for(
    cache_dir: str | os.PathLike[str] | None,
    token_cache: str | TokenCache | FromEnv | None,
    *,
    deadline: float,
) -> SharedTokens | None:
    """What a provider shares tokens through, from its two arguments (None: nothing).

    Raises:
        InputError: both given, or a bad URI (one sentence).
    """
    if cache_dir is not None and token_cache not in (None, FROM_ENV):
        raise InputError("give cache_dir or token_cache, not both (dir:PATH is cache_dir)")
    if cache_dir is not None:
        token_cache = f"dir:{os.fspath(cache_dir)}"
    elif isinstance(token_cache, FromEnv):
        token_cache = from_env()
    if token_cache is None:
        return None
    if not isinstance(token_cache, str | TokenCache):
        raise InputError("token_cache must be a cache URI or a TokenCache")
    from box_secrets.tokens.cache._flight import SharedTokens

    cache = open_token_cache(token_cache) if isinstance(token_cache, str) else token_cache
    # The lease: long enough for one normal request to Box, short enough that a holder
    # that died mid-request holds nobody up for long; always well inside the deadline.
    return SharedTokens(cache, lease_ttl=min(15.0, max(1.0, deadline / 4)))


def cache_errors() -> int:
    """How many times this process found a shared cache failing or holding garbage."""
    from box_secrets.tokens.cache import _flight

    return _flight.error_count()
