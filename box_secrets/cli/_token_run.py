"""What ``box-secrets token`` does once its arguments are judged, without click.

Both the click command (``_token``) and the before-click path (``_fast_token``)
build a :class:`TokenCall` and call :func:`run`, so the two cannot drift: the
same source, the same provider, the same entry for the next call, the same
output.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

__all__ = ["TokenCall", "provider", "run", "source_for"]


def source_for(config: str | None, store: str | None) -> Any:
    """The key source a command names: a config file, else a store read afresh (ttl=0).

    Only builds it: nothing is read yet. The caller has checked that one is given.
    """
    if config:
        from box_secrets.tokens._sources import ConfigFileSource

        return ConfigFileSource(config)
    from box_secrets.stores._reader import StoreSource

    return StoreSource(store or "", ttl=0)


def provider(base_url: str, source: Any, cache_dir: str | None, token_cache: str | None) -> Any:
    """A provider whose shared cache is --token-cache, else --cache-dir (the same as dir:)."""
    from box_secrets.tokens import TokenProvider

    if token_cache:
        return TokenProvider(source, base_url=base_url, token_cache=token_cache)
    return TokenProvider(source, base_url=base_url, cache_dir=cache_dir, token_cache=None)


class TokenCall(NamedTuple):
    """A token command line, judged (``store`` is None when ``config`` is given)."""

    base_url: str
    config: str | None
    store: str | None
    as_user: str | None
    scopes: list[str]
    resource: str | None
    shared_link: str | None
    as_json: bool
    cache_dir: str | None
    token_cache: str | None

    def directory(self) -> str | None:
        """Where the command keeps its own entries (raises for a bad cache URI)."""
        from box_secrets.cli._token_alias import cache_dir_for

        return cache_dir_for(self.cache_dir, self.token_cache)

    def alias(self) -> str:
        """The name of the command's own entry for this call."""
        from box_secrets.cli._token_alias import alias_name

        return alias_name(
            self.base_url,
            self.config,
            self.store,
            as_user=self.as_user,
            scopes=self.scopes,
            resource=self.resource,
            shared_link=self.shared_link,
        )


def run(call: TokenCall, source: Any) -> str:
    """The text to print: the token, or its JSON. Raises as ``TokenProvider.get_token``."""
    tok = provider(call.base_url, source, call.cache_dir, call.token_cache).get_token(
        as_user=call.as_user,
        scopes=call.scopes or None,
        resource=call.resource,
        shared_link=call.shared_link,
    )
    directory = call.directory()
    if directory is not None:  # the fast path's entry, for the next call
        from box_secrets.cli._token_alias import remember
        from box_secrets.tokens.cache._dir import TokenCacheDir

        remember(TokenCacheDir(directory), call.alias(), tok.to_cache(), call.config, call.store)
    value: str = json.dumps(tok.to_dict(), indent=2) if call.as_json else tok.access_token
    return value
