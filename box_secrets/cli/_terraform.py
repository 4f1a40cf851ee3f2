"""``box-secrets terraform``: listed in ``--help``; the work is in ``box_secrets._terraform``.

``box-secrets terraform OP`` normally never reaches click (see ``cli.main``);
this command serves the same program when global options come first.
"""

from __future__ import annotations

import sys

import click

from box_secrets.cli._group import cli


@cli.command(
    "terraform",
    context_settings={"ignore_unknown_options": True},
    short_help="A program for Terraform's external data source (status, public-key, token).",
)
@click.argument("operation", nargs=-1)
def terraform(operation: tuple[str, ...]) -> None:
    """Read a JSON query on stdin, write one JSON object of strings on stdout.

    OPERATION is status, public-key or token; see `box-secrets help terraform`. Nothing
    but the result is ever written to stdout; errors are one sentence on
    stderr with a non-zero exit code.

    \b
    Examples:
      echo '{"store": "file:box.json"}' | box-secrets terraform status
      echo '{"store": "file:box.json", "role": "pending"}' | box-secrets terraform public-key
    """
    from box_secrets._terraform import main

    sys.exit(main(list(operation)))
