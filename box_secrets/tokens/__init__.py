"""Minting, caching and refreshing Box access tokens.

:class:`TokenProvider` is for services: one per app, shared by all threads.
:func:`access_token` is for cloud functions: it keeps one provider per source
per process, so a warm Lambda reuses its cached token.

What it does that Box's SDKs do not: a token is refreshed a safety margin
before it expires (not after a 401); concurrent callers wait for one request
(single-flight); every retry signs a new assertion with a new ``jti``; clock
skew is corrected from Box's ``Date`` header; a key Box rejects is re-read
from its source once (surviving a rotation); the private key is parsed once;
any :class:`~box_secrets.Signer` can sign instead of a private key.

The package: ``_token`` (the value type and its cache form), ``_oauth`` (Box's
grants, answers and error table), ``_cache`` (the cross-process cache) and
``_provider``. Retries follow :class:`box_secrets.RetryPolicy`
(``box_secrets/_retry.py``), shared with the Vault store.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable

from box_secrets._support.caches import cache_reset
from box_secrets._support.retry import RetryPolicy
from box_secrets.errors import InputError
from box_secrets.tokens._oauth import DEFAULT_BASE_URL
from box_secrets.tokens._provider import TokenProvider
from box_secrets.tokens._token import AccessToken

__all__ = [
    "DEFAULT_BASE_URL",
    "AccessToken",
    "RetryPolicy",
    "TokenProvider",
    "access_token",
    "clear_providers",
    "get_provider",
]

_providers: dict[tuple[str, str | None], TokenProvider] = {}
_providers_lock = threading.Lock()


def get_provider(
    source: str | os.PathLike[str] | None = None, *, base_url: str | None = None
) -> TokenProvider:
    """The process-wide provider for ``source`` (a store URI or config path).

    Without ``source``, ``BOX_SECRETS_STORE`` or ``BOX_SECRETS_CONFIG`` names it.

    Raises:
        InputError: no source given or named, or a bad URI, URL or setting.
    """
    if source is None:
        source = os.environ.get("BOX_SECRETS_STORE") or os.environ.get("BOX_SECRETS_CONFIG")
        if not source:
            raise InputError(
                "no Box credentials given; pass a store URI or config path, or set "
                "BOX_SECRETS_STORE"
            )
    key = (os.fspath(source), base_url)
    provider = _providers.get(key)
    if provider is None:
        with _providers_lock:
            provider = _providers.get(key)
            if provider is None:
                provider = _providers[key] = TokenProvider(key[0], base_url=base_url)
    return provider


@cache_reset
def clear_providers() -> None:
    """Forget every process-wide provider and the tokens they cached."""
    with _providers_lock:
        _providers.clear()


def access_token(
    source: str | os.PathLike[str] | None = None,
    *,
    as_user: str | None = None,
    scopes: Iterable[str] | None = None,
    resource: str | None = None,
    base_url: str | None = None,
) -> str:
    """A valid Box access token, from a provider kept for the life of the process.

    Raises:
        InputError: bad arguments or configuration (exit code 2 in the CLI).
        BoxAuthError: Box refused (``KeyRejectedError`` when it does not know the key).
        BoxUnavailableError: Box or the network kept failing until the retries ran out.
        StoreError: the store could not be read.
    """
    return (
        get_provider(source, base_url=base_url)
        .get_token(as_user=as_user, scopes=scopes, resource=resource)
        .access_token
    )
