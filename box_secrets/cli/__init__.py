"""The ``box-secrets`` command line.

Exit codes: 0 success (or nothing due), 1 failure (Box refused, store or
network trouble), 2 bad input, 3 waiting for a person (rotation commands).
Errors are one sentence on stderr; no traceback, no secret. The group lives
in ``_group``; each command module registers its commands on it.
"""

from __future__ import annotations

from ..errors import BoxSecretsError
from . import (
    _emulator,  # noqa: F401 - registers commands
    _rotation,  # noqa: F401
    _store,  # noqa: F401
    _token,  # noqa: F401
)
from ._group import EXIT_FAILURE, EXIT_INPUT, EXIT_WAITING, cli, fail

__all__ = ["EXIT_FAILURE", "EXIT_INPUT", "EXIT_WAITING", "cli", "main"]


def main() -> None:
    from .. import _faults

    try:
        _faults.arm_from_env()
    except BoxSecretsError as exc:
        fail(str(exc), exc.exit_code)
    cli.main(prog_name="box-secrets")
