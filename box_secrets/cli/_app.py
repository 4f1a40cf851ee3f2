"""The whole click application: the group and every command module registered on it."""

from __future__ import annotations

from box_secrets.cli import (
    _emulator,  # noqa: F401 - registers commands
    _help,  # noqa: F401
    _rotation,  # noqa: F401
    _store,  # noqa: F401
    _terraform,  # noqa: F401
    _token,  # noqa: F401
)
from box_secrets.cli._group import EXIT_FAILURE, EXIT_INPUT, EXIT_WAITING, cli, fail

__all__ = ["EXIT_FAILURE", "EXIT_INPUT", "EXIT_WAITING", "cli", "fail"]
