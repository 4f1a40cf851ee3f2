"""One provider per source per process: what :func:`access_token` and cloud functions use."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable

from box_secrets._support.caches import cache_reset
from box_secrets.errors import InputError
from box_secrets.tokens._provider import TokenProvider

__all__ = ["access_token", "clear_providers", "get_provider"]

_providers: dict[tuple[str, str | None], TokenProvider] = {}
_providers_lock = threading.Lock()


def get_provider(
    source: str | os.PathLike[str] | None = None, *, base_url: str | None = None
) -> TokenProvider:
    """The process-wide provider for ``source`` (a store URI or config path).

    Without ``source``, ``BOX_SECRETS_STORE`` or ``BOX_SECRETS_CONFIG`` names it.
    Its shared token cache is ``BOX_SECRETS_TOKEN_CACHE``, when set.

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
