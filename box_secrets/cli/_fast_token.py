"""``box-secrets token`` served from the per-host cache before click is imported.

The command is what scripts call per use, so a cache hit costs what reading
one file costs: this module reads the arguments it understands, looks the
command's entry up in the cache directory (``--cache-dir``,
``BOX_SECRETS_CACHE_DIR``, or a ``dir:`` token cache), and prints. Anything
else (an option it does not know, ``--help``, a miss, an entry that is stale
or whose key file changed, any error) returns None and the full command runs,
which says what is wrong in its own words and writes the entry for next time.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["cache_dir_for", "serve"]

_VALUED = {
    "--store": "store",
    "--config": "config",
    "--as-user": "as_user",
    "--scope": "scope",
    "--resource": "resource",
    "--shared-link": "shared_link",
    "--cache-dir": "cache_dir",
    "--token-cache": "token_cache",
}


def _parse(args: list[str]) -> dict[str, Any] | None:
    opts: dict[str, Any] = {"scope": [], "json": False}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--json":
            opts["json"] = True
            i += 1
            continue
        name, eq, value = arg.partition("=")
        key = _VALUED.get(name)
        if key is None:
            return None  # --help, a typo, anything new: the full command decides
        if not eq:
            if i + 1 >= len(args):
                return None
            value = args[i + 1]
            i += 1
        i += 1
        if key == "scope":
            opts["scope"].append(value)
        elif key in opts:
            return None  # given twice: let click say so
        else:
            opts[key] = value
    return opts


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


def serve(args: list[str]) -> int | None:
    """Print the token from the cache and return 0, or None for the full command."""
    try:
        text = _lookup(args)
    except Exception:  # the full path reports any problem properly
        return None
    if text is None:
        return None
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `| head -c0`: quietly, as the full command does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return 0


def _lookup(args: list[str]) -> str | None:
    opts = _parse(args)
    if opts is None:
        return None
    env = os.environ
    store = opts.get("store") or (None if opts.get("config") else env.get("BOX_SECRETS_STORE"))
    config = opts.get("config")
    token_cache = opts.get("token_cache") or env.get("BOX_SECRETS_TOKEN_CACHE")
    directory = cache_dir_for(
        opts.get("cache_dir") or env.get("BOX_SECRETS_CACHE_DIR"), token_cache
    )
    if not directory or not (store or config) or (store and config):
        return None
    if (opts.get("resource") or opts.get("shared_link")) and not opts["scope"]:
        return None
    from box_secrets._urls import check_url
    from box_secrets.cli._token_alias import alias_name, recall
    from box_secrets.tokens.cache._dir import TokenCacheDir

    base_url = check_url(
        env.get("BOX_API_BASE_URL") or "https://api.box.com", what="--box-base-url"
    ).rstrip("/")
    name = alias_name(
        base_url,
        config,
        store,
        as_user=opts.get("as_user"),
        scopes=opts["scope"],
        resource=opts.get("resource"),
        shared_link=opts.get("shared_link"),
    )
    if not os.path.isdir(directory):
        return None
    held = TokenCacheDir(directory).get(name)
    token = recall(held[0], config, store) if held else None
    if token is None:
        return None
    if opts["json"]:
        import json

        from box_secrets.tokens._token import AccessToken

        tok = AccessToken.from_cache(token)
        if tok is None:
            return None
        return json.dumps(tok.to_dict(), indent=2)
    value: str = token["access_token"]
    return value
