"""The ``box-secrets`` command line.

Exit codes: 0 success (or nothing due), 1 failure (Box refused, store or
network trouble), 2 bad input, 3 waiting for a person (rotation commands).
Errors are one sentence on stderr; no traceback, no secret. The group lives
in ``_group``; each command module registers its commands on it (``_app``
loads them all). ``box-secrets terraform`` runs before click is imported: it
runs at every Terraform plan, so its start-up is kept to the minimum; so does
``box-secrets token`` when its per-host cache holds the token (``_fast_token``).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["EXIT_FAILURE", "EXIT_INPUT", "EXIT_WAITING", "cli", "main"]


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["terraform"]:
        operations = [a for a in args[1:] if not a.startswith("-")]
        if not {"-h", "--help"} & set(args):
            from box_secrets._terraform import main as terraform

            sys.exit(terraform(args[1:]))
        if operations:  # `terraform status --help`: that operation's own help
            from box_secrets._terraform import operation_help

            text = operation_help(operations[0])
            if text is not None:
                sys.stdout.write(text + "\n")
                sys.exit(0)
    if args[:1] == ["token"]:
        from box_secrets.cli._fast_token import serve

        served = serve(args[1:])
        if served is not None:
            sys.exit(served)
    from box_secrets._support import faults as _faults
    from box_secrets.cli._app import cli, fail
    from box_secrets.errors import BoxSecretsError

    try:
        _faults.arm_from_env()
    except BoxSecretsError as exc:
        fail(str(exc), exc.exit_code)
    cli.main(prog_name="box-secrets")


def __getattr__(name: str) -> Any:
    if name in ("EXIT_FAILURE", "EXIT_INPUT", "EXIT_WAITING", "cli"):
        from box_secrets.cli import _app

        return getattr(_app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
