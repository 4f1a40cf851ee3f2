"""The ``box-secrets`` click group: global options, error handling, exit codes.

Exit codes: 0 success (or nothing due), 1 failure (Box refused, store or
network trouble), 2 bad input, 3 waiting for a person (rotation commands).
Errors are one sentence on stderr; no traceback, no secret.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from box_secrets.errors import BoxSecretsError

__all__ = ["EXIT_FAILURE", "EXIT_INPUT", "EXIT_WAITING", "cli", "fail"]

EXIT_FAILURE = 1
EXIT_INPUT = 2
EXIT_WAITING = 3


def fail(message: str, code: int = EXIT_FAILURE) -> None:
    from box_secrets.cli._errors import error_line

    click.echo(error_line(message), err=True)
    sys.exit(code)


class _Group(click.Group):
    """Turns box-secrets errors into one line and an exit code."""

    #: Subgroups (store, rotate) are of this class too: the same errors, the same list.
    group_class = type

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command's whole first sentence (click cuts them at about 45 characters)."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=300)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BoxSecretsError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # The reader went away (`box-secrets help | head`): stop quietly, as a shell tool
            # killed by SIGPIPE would; stdout goes nowhere so the final flush cannot fail again.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(141)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("BOX_SECRETS_DEBUG"):
                raise
            # The message of an unexpected exception might echo input; print its type only.
            fail(
                f"internal error ({type(exc).__name__}); please report it, and rerun with "
                "BOX_SECRETS_DEBUG=1 to see the traceback"
            )


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--box-base-url",
    envvar="BOX_API_BASE_URL",
    default="https://api.box.com",
    show_default=True,
    metavar="URL",
    help="Box API base URL (point it at `box-secrets emulator` to test). Env: BOX_API_BASE_URL.",
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Log box-secrets' own steps to stderr (-v info, -vv debug); secrets are never logged. "
    "Third-party libraries stay quiet unless BOX_SECRETS_UNSAFE_THIRD_PARTY_DEBUG=1.",
)
@click.version_option(package_name="box-secrets")
@click.pass_context
def cli(ctx: click.Context, box_base_url: str, verbose: int) -> None:
    """Keep Box server-side JWT credentials safe and fresh."""
    from box_secrets._support.redact import configure_cli_logging
    from box_secrets._urls import check_url

    configure_cli_logging(verbose)
    ctx.obj = {"base_url": check_url(box_base_url, what="--box-base-url").rstrip("/")}
