"""Secret stores behind one interface, named by URI.

- ``file:PATH``: a JSON file (the embedded default); a config downloaded from
  Box works as is.
- ``aws-sm://NAME-OR-ARN``: AWS Secrets Manager (``box-secrets[aws]``).
- ``vault://MOUNT/PATH``: HashiCorp Vault KV v2 (``box-secrets[vault]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from box_secrets.stores._base import Store
    from box_secrets.stores._open import open_store

__all__ = ["Store", "open_store"]


def __getattr__(name: str) -> object:
    # Loaded on first use: a token reader imports ``stores._config`` (and with it this
    # package) and must not pay for the store classes it never opens.
    if name == "Store":
        from box_secrets.stores._base import Store

        return Store
    if name == "open_store":
        from box_secrets.stores._open import open_store

        return open_store
    raise AttributeError(f"module 'box_secrets.stores' has no attribute {name!r}")
