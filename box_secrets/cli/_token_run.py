"""What ``box-secrets token`` does once its arguments are judged, without click.

Both the click command (``_token``) and the before-click path (``_fast_token``)
call :func:`run`, so the two cannot drift: the same provider, the same
entry for the next call, the same output.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["provider", "run"]


def provider(base_url: str, source: Any, cache_dir: str | None, token_cache: str | None) -> Any:
    """A provider whose shared cache is --token-cache, else --cache-dir (the same as dir:)."""
    from box_secrets.tokens import TokenProvider

    if token_cache:
        return TokenProvider(source, base_url=base_url, token_cache=token_cache)
    return TokenProvider(source, base_url=base_url, cache_dir=cache_dir, token_cache=None)


def run(
    base_url: str,
    source: Any,
    *,
    config: str | None,
    store: str | None,
    as_user: str | None,
    scopes: list[str],
    resource: str | None,
    shared_link: str | None,
    as_json: bool,
    cache_dir: str | None,
    token_cache: str | None,
) -> str:
    """The text to print: the token, or its JSON. Raises as ``TokenProvider.get_token``."""
    from box_secrets.cli._token_alias import alias_name, cache_dir_for, remember

    tok = provider(base_url, source, cache_dir, token_cache).get_token(
        as_user=as_user,
        scopes=scopes or None,
        resource=resource,
        shared_link=shared_link,
    )
    directory = cache_dir_for(cache_dir, token_cache)
    if directory is not None:  # the fast path's entry, for the next call
        from box_secrets.tokens.cache._dir import TokenCacheDir

        name = alias_name(
            base_url,
            config,
            store,
            as_user=as_user,
            scopes=scopes,
            resource=resource,
            shared_link=shared_link,
        )
        remember(TokenCacheDir(directory), name, tok.to_cache(), config, store)
    value: str = json.dumps(tok.to_dict(), indent=2) if as_json else tok.access_token
    return value
