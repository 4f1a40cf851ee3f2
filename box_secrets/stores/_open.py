"""One URI, one store: the scheme decides the backend, whose library loads only now."""

from __future__ import annotations

from box_secrets.stores._base import Store

__all__ = ["open_store"]


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
