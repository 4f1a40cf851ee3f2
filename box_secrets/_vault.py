"""Vault at one edge: one client factory and one error table.

The KV store builds its hvac client here (and the Transit signer will), and
hvac's exceptions (one per HTTP status, as hvac's ``utils.raise_for_error``
maps them) translate through one table. hvac is imported only when a client
is built.
"""

from __future__ import annotations

from typing import Any

from ._optional import require
from .errors import (
    ConflictError,
    StoreAccessDeniedError,
    StoreError,
    StoreNotFoundError,
    StoreUnavailableError,
)

__all__ = ["ERRORS", "client", "error_class"]

#: hvac exception name -> what it means (the message is the caller's).
ERRORS: dict[str, type[StoreError]] = {
    "Forbidden": StoreAccessDeniedError,  # 403
    "Unauthorized": StoreAccessDeniedError,  # 401
    "InvalidRequest": StoreAccessDeniedError,  # 400 (a CAS mismatch is a conflict, below)
    "InvalidPath": StoreNotFoundError,  # 404
    "RateLimitExceeded": StoreUnavailableError,  # 429
    "VaultDown": StoreUnavailableError,  # 503: sealed or down
    "InternalServerError": StoreUnavailableError,  # 500
    "BadGateway": StoreUnavailableError,  # 502
}


def error_class(exc: Exception) -> type[StoreError]:
    """The box-secrets error an hvac exception means."""
    name = type(exc).__name__
    if name == "InvalidRequest" and "check-and-set" in str(exc):
        return ConflictError  # Vault's CAS mismatch is a 400
    return ERRORS.get(name, StoreUnavailableError)


def client(addr: str, *, namespace: str | None, ca_cert: str | None, timeout: float = 10) -> Any:
    """An hvac client for ``addr`` (already checked to be https or loopback)."""
    hvac = require("hvac")
    return hvac.Client(url=addr, namespace=namespace, timeout=timeout, verify=ca_cert or True)
