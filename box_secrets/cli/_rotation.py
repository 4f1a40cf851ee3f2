"""Rotation commands: init, status, rotate (+ import, abandon), register, retire.

All are idempotent. Exit codes: 0 done or nothing due, 3 waiting for a person
(so cron and CI can tell it from a failure), 1 failure, 2 bad input.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from box_secrets.cli._common import STORE_MISSING, echo_keys, store_option
from box_secrets.cli._group import EXIT_WAITING, cli

if TYPE_CHECKING:
    from box_secrets.rotation import Outcome, RotationEngine
    from box_secrets.stores._policy import Policy

F = TypeVar("F", bound=Callable[..., Any])


def notify_option(f: F) -> F:
    return click.option(
        "--notify",
        metavar="URI",
        envvar="BOX_SECRETS_NOTIFY",
        help="Where to tell a person what to do: log: (default, stdout), an https:// webhook "
        "(Slack-compatible JSON), or sns://TOPIC-ARN. Env: BOX_SECRETS_NOTIFY.",
    )(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")(f)


def _engine(
    obj: dict[str, str], store: str, notify: str | None = None, *, as_json: bool = False
) -> RotationEngine:
    from box_secrets.rotation import RotationEngine, open_notifier

    if not store:
        raise click.UsageError(STORE_MISSING)
    # With --json, stdout carries the JSON only: the log notifier's banner goes to stderr.
    notifier = open_notifier(notify, log_stream=sys.stderr if as_json else None)
    return RotationEngine(store, base_url=obj["base_url"], notifier=notifier)


def _finish(outcome: Outcome, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(outcome.to_json(), indent=2))
    else:
        click.echo(outcome.message)
    if outcome.waiting:
        sys.exit(EXIT_WAITING)


@cli.command("init")
@store_option()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Adopt a config downloaded from the Developer Console (verified with Box first).",
)
@click.option(
    "--client-id", metavar="ID", help="The app's client ID (to generate a first key pair)."
)
@click.option(
    "--client-secret-env",
    metavar="VAR",
    help="Name of the environment variable holding the client secret (never on the command line).",
)
@click.option("--enterprise-id", metavar="ID", help="The enterprise the app is authorized in.")
@click.option("--user-id", metavar="ID", help="Or: the user the app acts as.")
@click.option(
    "--signer",
    metavar="URI",
    help="Keep the keys in AWS KMS (aws-kms://alias/NAME?region=...) or Vault Transit "
    "(vault-transit://MOUNT/KEY, Vault at VAULT_ADDR): used if it exists, else created; never "
    "exported.",
)
@click.option(
    "--key-size", type=click.Choice(["2048", "3072", "4096"]), help="RSA key size (default 2048)."
)
@click.option(
    "--max-age-days", type=float, help="Rotate keys older than this: 1 to 3650 (default 90)."
)
@click.option(
    "--grace-days", type=float, help="Overlap before a forced retire: 0 to 365 (default 7)."
)
@click.option(
    "--renotify-hours",
    type=float,
    help="Remind a person this often: 0.01 to 8760 (default 24).",
)
@notify_option
@json_option
@click.pass_obj
def init_cmd(
    obj: dict[str, str],
    store: str,
    config_path: str | None,
    client_id: str | None,
    client_secret_env: str | None,
    enterprise_id: str | None,
    user_id: str | None,
    signer: str | None,
    key_size: str | None,
    max_age_days: float | None,
    grace_days: float | None,
    renotify_hours: float | None,
    notify: str | None,
    as_json: bool,
) -> None:
    """Initialise a store: adopt a downloaded config, or stage a first key pair.

    The config is checked with Box first; afterwards delete the downloaded file
    (the store holds the key now, and the download would outlive its rotation).

    \b
    Examples:
      box-secrets init --config box_config.json --store file:box.json
      box-secrets init --client-id ID --client-secret-env BOX_CLIENT_SECRET \\
          --enterprise-id 123 --store file:box.json --signer vault-transit://transit/box-app
    """
    from box_secrets.stores._config import BoxAppConfig

    policy = _policy(key_size, max_age_days, grace_days, renotify_hours)
    engine = _engine(obj, store, notify, as_json=as_json)
    if config_path:
        if client_id or client_secret_env or enterprise_id or user_id or signer:
            raise click.UsageError(
                "give --config, or the --client-id options (and --signer), not both"
            )
        outcome = engine.init(config=BoxAppConfig.from_file(config_path), policy=policy)
        _finish(outcome, as_json)
        return
    secret = None
    if client_secret_env:
        secret = os.environ.get(client_secret_env)
        if not secret:
            raise click.UsageError(f"environment variable {client_secret_env} is not set or empty")
    outcome = engine.init(
        client_id=client_id,
        client_secret=secret,
        enterprise_id=enterprise_id,
        user_id=user_id,
        policy=policy,
        signer=signer,
    )
    _finish(outcome, as_json)


def _policy(
    key_size: str | None,
    max_age_days: float | None,
    grace_days: float | None,
    renotify_hours: float | None,
) -> Policy | None:
    """The policy the options ask for (None: the default); each value is judged by Policy."""
    from box_secrets.stores._record import Policy

    if all(v is None for v in (key_size, max_age_days, grace_days, renotify_hours)):
        return None
    defaults = Policy()
    # Policy refuses nan, inf and out-of-range values with one sentence (exit 2).
    return Policy(
        key_size=int(key_size) if key_size else defaults.key_size,
        max_age_days=max_age_days if max_age_days is not None else defaults.max_age_days,
        grace_days=grace_days if grace_days is not None else defaults.grace_days,
        renotify_hours=renotify_hours if renotify_hours is not None else defaults.renotify_hours,
    )


@cli.command("status")
@store_option()
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON: state, active, pending, previous, next_action.",
)
@click.option(
    "--check", is_flag=True, help="Also check the rotation invariants (exit 1 if one fails)."
)
@click.pass_obj
def status_cmd(obj: dict[str, str], store: str, as_json: bool, check: bool) -> None:
    """Show where the key lifecycle stands and what to do next.

    \b
    Examples:
      box-secrets status --store file:box.json
      box-secrets status --store file:box.json --json --check
    """
    from box_secrets.errors import InvalidTransitionError, StoreNotFoundError

    engine = _engine(obj, store)
    try:
        status = engine.status()
    except StoreNotFoundError:
        raise InvalidTransitionError(
            f"{engine.store.uri} is not initialised; run `box-secrets init`"
        ) from None
    problems: list[str] = []
    if check:
        from box_secrets.rotation._invariants import InvariantChecker

        problems = InvariantChecker(engine.store).check()
    if as_json:
        click.echo(json.dumps(status, indent=2))
    else:
        click.echo(f"store:       {engine.store.uri}")
        click.echo(f"state:       {status['state']}")
        echo_keys(status)
        click.echo(f"next:        {status['next_action']}")
        if status["pending"] and not status["pending"]["key_id"]:
            click.echo(
                "\npublic key to register at Box:\n" + status["pending"]["public_key_pem"].rstrip()
            )
    if problems:
        for problem in problems:
            click.echo(f"invariant violated: {problem}", err=True)
        sys.exit(1)


@cli.group("rotate", invoke_without_command=True)
@store_option(required=False)
@click.option("--force", is_flag=True, help="Start a rotation now (never replaces a staged key).")
@notify_option
@json_option
@click.pass_context
def rotate_group(
    ctx: click.Context, store: str | None, force: bool, notify: str | None, as_json: bool
) -> None:
    """Do the next safe step of the key lifecycle (run it from cron).

    Exit 3 means a person must act in the Box Developer Console (the output says how).

    \b
    Examples:
      box-secrets rotate --store file:box.json
      box-secrets rotate --store file:box.json --force --notify https://hooks.example.com/box
    """
    if ctx.invoked_subcommand is not None:
        return
    _finish(_engine(ctx.obj, store or "", notify, as_json=as_json).advance(force=force), as_json)


@rotate_group.command("import")
@store_option()
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="The config Box downloaded when you generated a key pair in the console.",
)
@json_option
@click.pass_obj
def rotate_import(obj: dict[str, str], store: str, config_path: str, as_json: bool) -> None:
    """Bring in a key pair Box generated; it enters as registered.

    \b
    Example:
      box-secrets rotate import --store file:box.json --config 123_abc_config.json
    """
    from box_secrets.stores._config import BoxAppConfig

    _finish(
        _engine(obj, store, as_json=as_json).import_pending(BoxAppConfig.from_file(config_path)),
        as_json,
    )


@rotate_group.command("abandon")
@store_option()
@json_option
@click.pass_obj
def rotate_abandon(obj: dict[str, str], store: str, as_json: bool) -> None:
    """Give up the pending key (it never becomes active); the output says what became of it.

    \b
    Example:
      box-secrets rotate abandon --store file:box.json
    """
    _finish(_engine(obj, store, as_json=as_json).abandon(), as_json)


@cli.command("register")
@store_option()
@click.option(
    "--public-key-id", required=True, metavar="ID", help="The key ID Box showed for the new key."
)
@click.option("--verify", is_flag=True, help="Verify with Box and promote now.")
@notify_option
@json_option
@click.pass_obj
def register_cmd(
    obj: dict[str, str],
    store: str,
    public_key_id: str,
    verify: bool,
    notify: str | None,
    as_json: bool,
) -> None:
    """Record the key ID Box assigned to the pending key.

    \b
    Examples:
      box-secrets register --store file:box.json --public-key-id ab12cd34
      box-secrets register --store file:box.json --public-key-id ab12cd34 --verify
    """
    _finish(
        _engine(obj, store, notify, as_json=as_json).register(public_key_id, verify=verify),
        as_json,
    )


@cli.command("retire")
@store_option()
@click.option(
    "--force", is_flag=True, help="Retire after the grace period even if Box still accepts it."
)
@json_option
@click.pass_obj
def retire_cmd(obj: dict[str, str], store: str, force: bool, as_json: bool) -> None:
    """Retire the previous key: its private key goes as far as its store or signer allows.

    Destroyed in a file or Vault store, unlabelled in Secrets Manager, disabled and
    scheduled for deletion in KMS, trimmed in Transit; the output says which.

    \b
    Examples:
      box-secrets retire --store file:box.json            # once the old key is removed at Box
      box-secrets retire --store file:box.json --force    # after the grace period, even so
    """
    _finish(_engine(obj, store, as_json=as_json).retire(force=force), as_json)
