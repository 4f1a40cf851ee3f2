"""``box-secrets emulator`` and ``box-secrets vault-emulator``."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ._group import cli

if TYPE_CHECKING:
    from ..emulator._httpd import ServedEmulator

F = TypeVar("F", bound=Callable[..., Any])


def listen_options(f: F) -> F:
    f = click.option(
        "--port",
        default=0,
        show_default=True,
        type=click.IntRange(0, 65535),
        help="Port (0 picks a free one).",
    )(f)
    return click.option(
        "--host", default="127.0.0.1", show_default=True, help="Address to listen on."
    )(f)


def _serve(
    make: Callable[[], ServedEmulator],
    host: str,
    port: int,
    announce: Callable[[Any], dict[str, str]],
) -> None:
    """Listen, print exactly one JSON line on stdout (scripts read it), serve until interrupted."""
    try:
        emulator = make()
    except OSError as exc:
        raise click.UsageError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            f"warning: listening on {host}: the control API has no authentication; "
            "anyone who can reach it can add keys and mint tokens",
            err=True,
        )
    sys.stdout.write(json.dumps(announce(emulator)) + "\n")
    sys.stdout.flush()
    # SIGTERM stops it as Ctrl-C does: a script that started it with `&` (where the
    # shell makes it ignore SIGINT) or a CI service container stops it with SIGTERM.
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        emulator.serve_forever()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@cli.command("emulator")
@listen_options
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
    from .._config import BoxAppConfig
    from ..emulator._box import BoxEmulator

    configs = [BoxAppConfig.from_file(path) for path in app_configs]
    _serve(
        lambda: BoxEmulator(host, port, app_configs=configs),
        host,
        port,
        lambda emu: {"base_url": emu.base_url},
    )


@cli.command("vault-emulator")
@listen_options
@click.option(
    "--root-token",
    envvar="VAULT_EMULATOR_ROOT_TOKEN",
    metavar="TOKEN",
    help="Root token to accept (default: a random one, printed).",
)
@click.option(
    "--transit",
    "transit_mounts",
    multiple=True,
    metavar="MOUNT",
    help="Also enable a Transit engine at MOUNT (repeatable), as `vault secrets enable`.",
)
def vault_emulator_cmd(
    host: str, port: int, root_token: str | None, transit_mounts: tuple[str, ...]
) -> None:
    """Run a local Vault (KV v2, Transit) emulator; print {"addr", "root_token"} once listening."""
    from ..emulator._vault import VaultEmulator

    def make() -> VaultEmulator:
        emu = VaultEmulator(host, port, root_token=root_token)
        for mount in transit_mounts:
            emu.mount_transit(mount.strip("/"))
        return emu

    # The root token of a throwaway emulator is printed on purpose: tests need it.
    _serve(
        make,
        host,
        port,
        lambda emu: {"addr": emu.addr, "root_token": emu.root_token},
    )
