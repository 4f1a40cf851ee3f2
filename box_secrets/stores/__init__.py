"""Secret stores behind one interface, named by URI.

- ``file:PATH``: a JSON file (the embedded default); a config downloaded from
  Box works as is.
- ``aws-sm://NAME-OR-ARN``: AWS Secrets Manager (``box-secrets[aws]``).
- ``vault://MOUNT/PATH``: HashiCorp Vault KV v2 (``box-secrets[vault]``).
"""

from __future__ import annotations

from box_secrets.stores._base import Store
from box_secrets.stores._open import open_store

__all__ = ["Store", "open_store"]
