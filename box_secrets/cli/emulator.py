"""``box-secrets emulator`` and ``box-secrets vault-emulator``."""

from __future__ import annotations

import contextlib
import json
import sys

import click

from . import cli


def _announce(data: dict[str, str]) -> None:
    # Exactly one JSON line on stdout, so scripts can read the address.
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def _warn_if_exposed(host: str) -> None:
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            f"warning: listening on {host}: the console API has no authentication; "
            "anyone who can reach it can add keys and mint tokens",
            err=True,
        )


@cli.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0 picks a free one).",
)
@click.option(
    "--app-config",
    "app_configs",
    multiple=True,
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Preload an app from a Box config JSON (repeatable).",
)
def emulator_cmd(host: str, port: int, app_configs: tuple[str, ...]) -> None:
    """Run a local Box emulator; print {"base_url": ...} once listening."""
    from ..config import BoxAppConfig
    from ..emulator.box import BoxEmulator

    configs = [BoxAppConfig.from_file(path) for path in app_configs]
    try:
        emulator = BoxEmulator(host, port, app_configs=configs)
    except OSError as exc:
        raise click.UsageError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    _warn_if_exposed(host)
    _announce({"base_url": emulator.base_url})
    with contextlib.suppress(KeyboardInterrupt):
        emulator.serve_forever()


@cli.command("vault-emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0 picks a free one).",
)
@click.option(
    "--root-token",
    envvar="VAULT_EMULATOR_ROOT_TOKEN",
    metavar="TOKEN",
    help="Root token to accept (default: a random one, printed).",
)
def vault_emulator_cmd(host: str, port: int, root_token: str | None) -> None:
    """Run a local Vault (KV v2) emulator; print {"addr", "root_token"} once listening."""
    from ..emulator.vault import VaultEmulator

    try:
        emulator = VaultEmulator(host, port, root_token=root_token)
    except OSError as exc:
        raise click.UsageError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    _warn_if_exposed(host)
    # The root token of a throwaway emulator is printed on purpose: tests need it.
    _announce({"addr": emulator.addr, "root_token": emulator.root_token})
    with contextlib.suppress(KeyboardInterrupt):
        emulator.serve_forever()
