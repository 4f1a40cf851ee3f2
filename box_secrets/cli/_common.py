"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from box_secrets.tokens._sources import KeySource

F = TypeVar("F", bound=Callable[..., Any])


def source_options(f: F) -> F:
    """``--config FILE`` or ``--store URI`` (env BOX_SECRETS_STORE)."""
    f = click.option(
        "--store",
        metavar="URI",
        envvar="BOX_SECRETS_STORE",
        help="Read the key from this store (file:, aws-sm://, vault://). Env: BOX_SECRETS_STORE.",
    )(f)
    f = click.option(
        "--config",
        type=click.Path(dir_okay=False),
        metavar="FILE",
        help="A Box config JSON downloaded from the Developer Console.",
    )(f)
    return f


def resolve_source(config: str | None, store: str | None) -> KeySource:
    if config and store:
        raise click.UsageError("use --config or --store, not both")
    if config or store:
        from box_secrets.cli._token_run import source_for

        source: KeySource = source_for(config, store)
        return source
    raise click.UsageError(
        "say where the key is: --config FILE or --store URI (or set BOX_SECRETS_STORE)"
    )


#: The one sentence for a missing store, whichever command (click's own "Missing option"
#: would not mention the environment variable).
STORE_MISSING = "say which store: --store URI (or set BOX_SECRETS_STORE)"


def _needs_store(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if not value or not value.strip():
        raise click.UsageError(STORE_MISSING, ctx=ctx)
    return value


def store_option(required: bool = True) -> Callable[[F], F]:
    """``--store URI`` (env BOX_SECRETS_STORE); when ``required``, its absence is one sentence."""
    return click.option(
        "--store",
        metavar="URI",
        envvar="BOX_SECRETS_STORE",
        callback=_needs_store if required else None,
        help="The secret store (file:PATH, aws-sm://NAME, vault://MOUNT/PATH). "
        + ("Required: this or " if required else "Env: ")
        + "BOX_SECRETS_STORE.",
    )


def echo_keys(view: Mapping[str, Any]) -> None:
    """The active, pending and previous key lines shared by ``status`` and ``store show``."""
    for role in ("active", "pending", "previous"):
        key = view[role]
        if key:
            # The active key's age counts from its activation (as next_action does);
            # the others' from when they were staged.
            when = (key.get("activated_at") if role == "active" else None) or key.get("created_at")
            since = f"  since {when}" if when else ""
            kind = key.get("signer") or "pem"
            held = "" if kind == "pem" else f"  held in {kind}"
            click.echo(
                f"{role + ':':12} key {key.get('key_id') or '(not registered yet)'}  "
                f"sha256 {key['fingerprint_sha256']}{since}{held}"
            )
