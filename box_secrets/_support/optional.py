"""One way to import an optional dependency: the module, or one sentence naming the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

from box_secrets.errors import MissingExtraError

__all__ = ["require"]

#: Which extra installs which top-level package.
EXTRAS = {"boto3": "aws", "botocore": "aws", "hvac": "vault", "requests": "vault", "redis": "redis"}


def require(module: str, extra: str | None = None) -> ModuleType:
    """Import ``module``; if its package is missing, raise :class:`MissingExtraError`."""
    top = module.split(".", maxsplit=1)[0]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(extra or EXTRAS.get(top, top), top) from exc
