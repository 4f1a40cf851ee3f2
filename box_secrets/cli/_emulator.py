"""``box-secrets emulator`` and ``box-secrets vault-emulator``."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from box_secrets.cli._group import cli

if TYPE_CHECKING:
    from box_secrets.emulator._httpd import ServedEmulator

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
@click.option(
    "--new-app",
    "new_app",
    type=click.Path(dir_okay=False, writable=True),
    metavar="PATH",
    help="Create an app, write its config to PATH (mode 0600) as Box's console downloads it, "
    "then serve. PATH must not exist yet.",
)
def emulator_cmd(host: str, port: int, app_configs: tuple[str, ...], new_app: str | None) -> None:
    """Run a local Box emulator; print {"base_url": ...} once listening.

    \b
    Examples:
      box-secrets emulator --new-app box_config.json &    # an app and its config to start from
      box-secrets emulator --port 8900 --app-config box_config.json
    """
    import os

    from box_secrets.emulator._box import BoxEmulator
    from box_secrets.stores._config import BoxAppConfig

    configs = [BoxAppConfig.from_file(path) for path in app_configs]
    fd = None
    if new_app is not None:
        # Opened first (exclusively: never through a link, never over a file; 0600 from
        # birth), so a bad path is one sentence before anything listens.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(new_app, flags, 0o600)
        except FileExistsError:
            raise click.UsageError(
                f"{new_app} exists already; name a new file for the app's config"
            ) from None
        except OSError as exc:
            raise click.UsageError(f"cannot create {new_app} ({exc.strerror})") from None

    def make() -> BoxEmulator:
        emulator = BoxEmulator(host, port, app_configs=configs)
        if fd is not None:
            _write_new_app(emulator, fd)
        return emulator

    def announce(emu: BoxEmulator) -> dict[str, str]:
        out = {"base_url": emu.base_url}
        if new_app is not None:
            out["config"] = os.path.abspath(new_app)
        return out

    _serve(make, host, port, announce)


def _write_new_app(emulator: Any, fd: int) -> None:
    """Create an app with a key pair, as a person would in Box's console, and save its config."""
    import os

    from box_secrets.emulator._box_console import issue_keypair

    # Not served yet: the same state the console routes change, without HTTP.
    app = emulator.state.create_app(name="box-secrets demo")
    config = issue_keypair(emulator.state, app.client_id)
    with os.fdopen(fd, "wb") as fh:
        fh.write((json.dumps(config, indent=2) + "\n").encode())


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
    """Run a local Vault (KV v2, Transit) emulator; print {"addr", "root_token"} once listening.

    \b
    Examples:
      box-secrets vault-emulator --port 8200 --root-token dev
      box-secrets vault-emulator --transit transit &
    """
    from box_secrets.emulator._vault import VaultEmulator

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
