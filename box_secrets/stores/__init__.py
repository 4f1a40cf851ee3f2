"""Secret stores behind one interface, named by URI.

- ``file:PATH``: a JSON file (the embedded default); a config downloaded from
  Box works as is.
- ``aws-sm://NAME-OR-ARN``: AWS Secrets Manager (``box-secrets[aws]``).
- ``vault://MOUNT/PATH``: HashiCorp Vault KV v2 (``box-secrets[vault]``).
"""

from __future__ import annotations

from box_secrets.stores._base import Store

__all__ = ["Store", "open_store"]


def open_store(uri: str) -> Store:
    """Open the store a URI names; the backend's library is imported only now.

    Raises:
        StoreURIError: the URI cannot be parsed or names an unknown backend.
        InputError: a parameter is unsafe or wrong (an http:// address, a bad region).
        MissingExtraError: the backend's optional dependency is not installed.
    """
    from box_secrets.stores._uri import parse_store_uri

    parsed = parse_store_uri(uri)
    if parsed.scheme == "file":
        from box_secrets.stores._file import FileStore

        return FileStore(parsed)
    if parsed.scheme == "aws-sm":
        from box_secrets.stores._aws_sm import SecretsManagerStore

        return SecretsManagerStore(parsed)
    from box_secrets.stores._vault_kv import VaultStore

    return VaultStore(parsed)
