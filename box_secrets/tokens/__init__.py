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
grants, answers and error table), ``cache`` (the shared token caches: a
directory, Redis, DynamoDB), ``_provider``, and ``_process`` (one provider per
source per process). Names load on first use, so the ``token`` command's cache
hit reads ``cache`` without the provider's imports. Retries follow
:class:`box_secrets.RetryPolicy`, shared with the Vault store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from box_secrets._support.lazy import lazy_names

if TYPE_CHECKING:
    from box_secrets._support.retry import RetryPolicy
    from box_secrets.tokens._oauth import DEFAULT_BASE_URL
    from box_secrets.tokens._process import access_token, clear_providers, get_provider
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

_HOMES = {
    "DEFAULT_BASE_URL": "box_secrets.tokens._oauth",
    "AccessToken": "box_secrets.tokens._token",
    "RetryPolicy": "box_secrets._support.retry",
    "TokenProvider": "box_secrets.tokens._provider",
    "access_token": "box_secrets.tokens._process",
    "clear_providers": "box_secrets.tokens._process",
    "get_provider": "box_secrets.tokens._process",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES, __all__)
