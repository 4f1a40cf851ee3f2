"""``box-secrets token``: print a Box access token."""

from __future__ import annotations

import click

from box_secrets.cli._common import resolve_source, source_options
from box_secrets.cli._group import cli
from box_secrets.tokens.cache import TOKEN_CACHE_ENV

cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    envvar="BOX_SECRETS_CACHE_DIR",
    help="Share tokens between processes through this 0700 directory (tokens rest on disk). "
    "Env: BOX_SECRETS_CACHE_DIR.",
)


token_cache_option = click.option(
    "--token-cache",
    metavar="URI",
    envvar=TOKEN_CACHE_ENV,
    help="Share tokens through this cache: dir:/path, redis://HOST:PORT/DB, rediss://..., "
    "dynamodb://TABLE?region=R (help topic: fleet). Env: BOX_SECRETS_TOKEN_CACHE.",
)


#: Longer than any access token Box issues (they are tens of characters).
_MAX_TOKEN = 8192


@cli.command("token")
@source_options
@click.option(
    "--as-user", metavar="ID", help="Mint for this user (user subject) instead of the enterprise."
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    metavar="SCOPE",
    help="Downscope to this scope (repeatable).",
)
@click.option(
    "--resource", metavar="URL", help="Restrict the downscoped token to one item (full API URL)."
)
@click.option(
    "--shared-link", metavar="URL", help="Restrict the downscoped token to a shared link."
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON: access_token, expires_at (RFC 3339, UTC), expires_in (seconds), "
    "token_type, restricted_to, and issued_token_type for a downscoped token.",
)
@cache_dir_option
@token_cache_option
@click.pass_obj
def token_cmd(
    obj: dict[str, str],
    config: str | None,
    store: str | None,
    as_user: str | None,
    scopes: tuple[str, ...],
    resource: str | None,
    shared_link: str | None,
    as_json: bool,
    cache_dir: str | None,
    token_cache: str | None,
) -> None:
    """Print a Box access token (this command's job is to print a secret).

    \b
    Examples:
      box-secrets token --store file:box.json
      box-secrets token --config box_config.json --as-user 12345 --json
      box-secrets token --store file:box.json --scope item_preview \\
          --resource https://api.box.com/2.0/files/42 --json
      box-secrets token --store aws-sm://box-app --cache-dir ~/.cache/box-secrets \\
          --token-cache rediss://cache.internal:6379/0

    With a cache directory, a token this command printed before is printed
    again from it, without reading the store or starting an HTTP client.
    """
    from box_secrets.cli._token_run import TokenCall, run

    if (resource or shared_link) and not scopes:
        raise click.UsageError("--resource and --shared-link need at least one --scope")
    if resource and shared_link:
        raise click.UsageError("use --resource or --shared-link, not both")
    source = resolve_source(config, store)
    call = TokenCall(
        obj["base_url"],
        config,
        None if config else store,
        as_user,
        list(scopes),
        resource,
        shared_link,
        as_json,
        cache_dir,
        token_cache,
    )
    click.echo(run(call, source))


@cli.command("revoke")
@source_options
@click.option(
    "--token-env",
    metavar="VAR",
    help="Read the token to revoke from this environment variable (default: standard input).",
)
@cache_dir_option
@token_cache_option
@click.pass_obj
def revoke_cmd(
    obj: dict[str, str],
    config: str | None,
    store: str | None,
    token_env: str | None,
    cache_dir: str | None,
    token_cache: str | None,
) -> None:
    """Send an access token to Box for revocation and drop every cached copy of it.

    The token is read from stdin or --token-env, never from the command line.
    Box answers the same whether or not the token existed (RFC 7009), so the
    command reports that Box was told, not that a live token was revoked.

    \b
    Examples:
      box-secrets token --store file:box.json | box-secrets revoke --store file:box.json
      box-secrets revoke --store file:box.json --token-env LEAKED_TOKEN
    """
    import os
    import sys

    # Bounded: a Box token is tens of characters, and stdin may be /dev/zero.
    value = os.environ.get(token_env, "") if token_env else sys.stdin.read(_MAX_TOKEN + 1)
    if len(value) > _MAX_TOKEN:
        raise click.UsageError(f"the token given is over {_MAX_TOKEN} characters; no Box token is")
    value = value.strip()
    if not value:
        raise click.UsageError("no token given: pipe it on standard input or name --token-env VAR")
    from box_secrets.cli._token_run import provider as make_provider

    provider = make_provider(obj["base_url"], resolve_source(config, store), cache_dir, token_cache)
    provider.revoke(value)
    if cache_dir and token_cache:  # the token command's own entries live in the directory
        from box_secrets.tokens.cache._dir import TokenCacheDir

        TokenCacheDir(cache_dir).drop_token(value)
    shared = provider.token_cache
    where = f" and removed from the token cache {shared.name}" if shared is not None else ""
    click.echo(f"sent the token to Box for revocation{where}")
