"""The whole click application: the group and every command module registered on it."""

from __future__ import annotations

import box_secrets.cli._emulator
import box_secrets.cli._help
import box_secrets.cli._rotation
import box_secrets.cli._store
import box_secrets.cli._terraform
import box_secrets.cli._token  # noqa: F401 - registers commands
from box_secrets.cli._group import EXIT_FAILURE, EXIT_INPUT, EXIT_WAITING, cli, fail

__all__ = ["EXIT_FAILURE", "EXIT_INPUT", "EXIT_WAITING", "cli", "fail"]
