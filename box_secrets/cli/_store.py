"""``box-secrets store``: put a config into a store, and look at one."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from box_secrets.cli._common import echo_keys, store_option
from box_secrets.cli._group import cli

if TYPE_CHECKING:
    from box_secrets.stores import Store


@cli.group("store")
def store_group() -> None:
    """Import a Box config into a store, or show a store's non-secret view."""


@store_group.command("import")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="A Box config JSON downloaded from the Developer Console.",
)
@store_option()
@click.option("--force", is_flag=True, help="Replace a different key the store already holds.")
@click.option(
    "--verify/--no-verify",
    default=True,
    show_default=True,
    help="Check with Box that the config works (one token is minted) before anything is "
    "written; --no-verify imports offline.",
)
@click.pass_obj
def store_import(
    obj: dict[str, str], config_path: str, store: str, force: bool, verify: bool
) -> None:
    """Put a Developer Console config into any store, as it is.

    Use `init --config` to start rotating a downloaded config; `store import` copies a
    config into a store (another store, a restore) and checks it with Box first.

    \b
    Examples:
      box-secrets store import --config box_config.json --store file:box.json
      box-secrets store import --config backup.json --store aws-sm://prod/box-app --force
    """
    from box_secrets.errors import BoxAuthError
    from box_secrets.rotation import import_config
    from box_secrets.stores import open_store
    from box_secrets.stores._config import BoxAppConfig

    config = BoxAppConfig.from_file(config_path)  # from outside: always fully validated
    target = open_store(store)
    if verify:
        from box_secrets.tokens import TokenProvider

        try:
            # No shared cache: only a token minted with this key proves Box accepts it.
            TokenProvider(config, base_url=obj["base_url"], token_cache=None).refresh()
        except BoxAuthError as exc:
            raise type(exc)(
                f"{exc}; nothing was imported (Box must accept a config before it is stored; "
                "--no-verify imports without asking Box)",
                status=exc.status,
                error=exc.error,
                error_description=exc.error_description,
            ) from None
    outcome = import_config(target, config, force=force)
    key = f"key {config.public_key_id}" if config.uses_jwt else "client credentials"
    if outcome == "unchanged":
        click.echo(f"{target.uri} already holds this config ({key}); nothing to do")
        return
    click.echo(f"{outcome} app {config.client_id} ({key}) into {target.uri}")
    if outcome == "replaced":
        for line in _fates(target):
            click.echo(f"  {line}")


def _fates(store: Store) -> list[str]:
    """What became of each key an import replaced, as the history recorded it."""
    history = store.load().record.history
    since = max((i for i, e in enumerate(history) if e.action == "imported"), default=-1)
    fates = []
    for entry in history[since + 1 :]:
        if entry.action in ("destroyed", "unlabelled", "disabled", "kept"):
            which = f"key {entry.key_id}" if entry.key_id else "a key never registered"
            fates.append(f"{which}: {entry.action} ({entry.detail or 'no detail'})")
    return fates


@store_group.command("show")
@store_option()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def store_show(store: str, as_json: bool) -> None:
    """Show what a store holds, without any secret.

    \b
    Examples:
      box-secrets store show --store file:box.json
      box-secrets store show --store aws-sm://prod/box-app --json
    """
    from box_secrets.rotation import show
    from box_secrets.stores import open_store

    view = show(open_store(store))
    if as_json:
        click.echo(json.dumps(view, indent=2))
        return
    click.echo(f"store:       {view['store']}")
    click.echo(f"app:         {view['client_id']} (enterprise {view['enterprise_id'] or '-'})")
    click.echo(f"state:       {view['state']}")
    echo_keys(view)
    backend = view["backend"]
    if backend.get("versions"):
        click.echo("versions:")
        for version, labels in backend["versions"].items():
            click.echo(f"  {version}: {labels if isinstance(labels, str) else ', '.join(labels)}")
    elif backend.get("kept_versions") is not None:
        click.echo(f"kept:        {len(backend['kept_versions'])} earlier version(s) for recovery")
