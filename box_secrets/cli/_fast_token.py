"""``box-secrets token`` before click is imported: a cache hit, and a plain mint.

The command is what scripts call per use. This module reads the arguments it
understands and:

- on a hit in the command's own entry in the cache directory
  (``--cache-dir``, ``BOX_SECRETS_CACHE_DIR``, or a ``dir:`` token cache),
  prints it: the cost of reading one file, no HTTP client, no cryptography;
- otherwise gets the token through :func:`box_secrets.cli._token_run.run`,
  the click command's own body, so a mint costs only what minting needs.

Anything it does not understand (an unknown option, ``--help``, options given
twice, a bad URL or URI found before any request) returns None and the click
command runs and says what is wrong in its own words. Once a request may have
been sent, errors are printed here, the CLI's way, never retried through click.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from box_secrets.cli._token_run import TokenCall

__all__ = ["serve"]

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


def _given(opts: dict[str, Any], key: str, env_name: str | None = None) -> str | None:
    """The option's value as click would see it: given on the line (even empty), else the
    environment variable when it is set and not empty, else None."""
    if key in opts:
        value: str = opts[key]
        return value
    return (os.environ.get(env_name) or None) if env_name else None


def _judge(opts: dict[str, Any]) -> TokenCall | None:
    """The call, or None for anything click should judge and word (raises likewise)."""
    env = os.environ
    config = _given(opts, "config")
    store = _given(opts, "store", "BOX_SECRETS_STORE")
    scopes: list[str] = opts["scope"]
    resource, shared_link = opts.get("resource"), opts.get("shared_link")
    if not (store or config) or (store and config):
        return None
    if config and os.path.isdir(config):
        return None  # click's own path check words it
    if ((resource or shared_link) and not scopes) or (resource and shared_link):
        return None
    from box_secrets._urls import check_url

    base_url = check_url(
        env.get("BOX_API_BASE_URL") or "https://api.box.com", what="--box-base-url"
    ).rstrip("/")
    from box_secrets.cli._token_run import TokenCall
    from box_secrets.tokens.cache import TOKEN_CACHE_ENV

    call = TokenCall(
        base_url,
        config,
        store,
        opts.get("as_user"),
        scopes,
        resource,
        shared_link,
        bool(opts["json"]),
        _given(opts, "cache_dir", "BOX_SECRETS_CACHE_DIR") or None,
        _given(opts, "token_cache", TOKEN_CACHE_ENV) or None,
    )
    call.directory()  # judges the cache URI before anything is read
    return call


def serve(args: list[str]) -> int | None:
    """Print the token and return the exit code, or None for the click command."""
    try:
        opts = _parse(args)
        call = _judge(opts) if opts is not None else None
        if call is None:
            return None
        text = _lookup(call)
        mint = _prepare(call) if text is None else None
    except Exception:  # nothing was sent: the click command reports it in its words
        return None
    if mint is not None:
        code, text = _mint(mint)
        if text is None:
            return code
    assert text is not None
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `| head -c0`: quietly, as the click command does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return 0


def _lookup(call: TokenCall) -> str | None:
    """The token from the command's own entry, if the directory holds a sound, fresh one."""
    directory = call.directory()
    if directory is None or not os.path.isdir(directory):
        return None
    from box_secrets.cli._token_alias import recall
    from box_secrets.tokens.cache._dir import TokenCacheDir

    held = TokenCacheDir(directory).get(call.alias())
    token = recall(held[0], call.config, call.store) if held else None
    if token is None:
        return None
    if call.as_json:
        import json

        from box_secrets.tokens._token import AccessToken

        tok = AccessToken.from_cache(token)
        return json.dumps(tok.to_dict(), indent=2) if tok is not None else None
    value: str = token["access_token"]
    return value


def _prepare(call: TokenCall) -> Callable[[], str]:
    """The click command's own body, ready to run; its source is built (nothing read yet)."""
    from functools import partial

    from box_secrets.cli._token_run import run, source_for

    return partial(run, call, source_for(call.config, call.store))


def _mint(mint: Callable[[], str]) -> tuple[int, str | None]:
    """Run it as the CLI runs a command: (0, text), or (exit code, None) with one error line."""
    from box_secrets._support import faults
    from box_secrets._support.redact import configure_cli_logging
    from box_secrets.cli._errors import error_line
    from box_secrets.errors import BoxSecretsError

    configure_cli_logging(0)
    try:
        faults.arm_from_env()
        return 0, mint()
    except BoxSecretsError as exc:
        sys.stderr.write(error_line(str(exc)) + "\n")
        return exc.exit_code, None
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130, None
    except Exception as exc:
        if os.environ.get("BOX_SECRETS_DEBUG"):
            raise
        # The message of an unexpected exception might echo input; print its type only.
        message = (
            f"internal error ({type(exc).__name__}); please report it, and rerun with "
            "BOX_SECRETS_DEBUG=1 to see the traceback"
        )
        sys.stderr.write(error_line(message) + "\n")
        return 1, None
