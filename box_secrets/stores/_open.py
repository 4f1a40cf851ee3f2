"""One URI, one store: the scheme decides the backend, whose library loads only now."""

from __future__ import annotations

from typing import TYPE_CHECKING

from box_secrets.stores._base import Store

if TYPE_CHECKING:
    from box_secrets.stores._uri import StoreURI

__all__ = ["open_store"]


def open_store(uri: str | StoreURI, *, rotation_token: str | None = None) -> Store:
    """Open the store a URI names (parsed once: a :class:`StoreURI` is used as it is);
    the backend's library is imported only now.

    ``rotation_token``: a Secrets Manager rotation's ``RotationToken``, which the
    store passes on to ``PutSecretValue`` (cross-account rotation).

    Raises:
        StoreURIError: the URI cannot be parsed or names an unknown backend.
        InputError: a parameter is unsafe or wrong (an http:// address, a bad region).
        MissingExtraError: the backend's optional dependency is not installed.
    """
    from box_secrets.stores._uri import StoreURI, parse_store_uri

    parsed = uri if isinstance(uri, StoreURI) else parse_store_uri(uri)
    if parsed.scheme == "file":
        from box_secrets.stores._file import FileStore

        return FileStore(parsed)
    if parsed.scheme == "aws-sm":
        from box_secrets.stores._aws_sm import SecretsManagerStore

        return SecretsManagerStore(parsed, rotation_token=rotation_token)
    from box_secrets.stores._vault_kv import VaultStore

    return VaultStore(parsed)
