"""box-secrets: keep Box server-side JWT credentials safe and fresh.

The whole exception tree (see :mod:`box_secrets.errors`) is importable from
here: ``except box_secrets.KeyRejectedError``.

The public API, re-exported here and loaded on first use so that
``import box_secrets`` costs almost nothing (no cryptography, no HTTP client,
never boto3 or hvac)::

    import box_secrets
    token = box_secrets.access_token("file:box_config.json")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from box_secrets._support.lazy import lazy_names

if TYPE_CHECKING:
    from box_secrets.errors import (
        BoxAuthError,
        BoxError,
        BoxResponseError,
        BoxSecretsError,
        BoxUnavailableError,
        ConfigError,
        ConflictError,
        InputError,
        InvalidTransitionError,
        KeyRejectedError,
        MissingExtraError,
        NoActiveKeyError,
        NotifyError,
        PersonNeededError,
        SignerError,
        SignerUnavailableError,
        StoreAccessDeniedError,
        StoreCorruptError,
        StoreError,
        StoreNotFoundError,
        StoreUnavailableError,
        StoreURIError,
    )
    from box_secrets.rotation import RotationEngine
    from box_secrets.signers import RSASigner, Signer, signer_for
    from box_secrets.signers._material import KeyMaterial
    from box_secrets.stores import Store, open_store
    from box_secrets.stores._config import BoxAppConfig
    from box_secrets.stores._reader import StoreSource
    from box_secrets.tokens import (
        AccessToken,
        RetryPolicy,
        TokenProvider,
        access_token,
        get_provider,
    )
    from box_secrets.tokens._sources import ConfigFileSource, KeySource, StaticSource

__version__ = "0.1.0"

__all__ = [
    "AccessToken",
    "BoxAppConfig",
    "BoxAuthError",
    "BoxError",
    "BoxResponseError",
    "BoxSecretsError",
    "BoxUnavailableError",
    "ConfigError",
    "ConfigFileSource",
    "ConflictError",
    "InputError",
    "InvalidTransitionError",
    "KeyMaterial",
    "KeyRejectedError",
    "KeySource",
    "MissingExtraError",
    "NoActiveKeyError",
    "NotifyError",
    "PersonNeededError",
    "RSASigner",
    "RetryPolicy",
    "RotationEngine",
    "Signer",
    "SignerError",
    "SignerUnavailableError",
    "StaticSource",
    "Store",
    "StoreAccessDeniedError",
    "StoreCorruptError",
    "StoreError",
    "StoreNotFoundError",
    "StoreSource",
    "StoreURIError",
    "StoreUnavailableError",
    "TokenProvider",
    "__version__",
    "access_token",
    "clear_caches",
    "get_provider",
    "open_store",
    "signer_for",
]

_WHERE = {
    "AccessToken": "tokens",
    "TokenProvider": "tokens",
    "access_token": "tokens",
    "get_provider": "tokens",
    "BoxAppConfig": "stores._config",
    "KeySource": "tokens._sources",
    "StaticSource": "tokens._sources",
    "ConfigFileSource": "tokens._sources",
    "Signer": "signers",
    "RSASigner": "signers",
    "Store": "stores",
    "open_store": "stores",
    "StoreSource": "stores._reader",
    "RotationEngine": "rotation",
    "BoxAuthError": "errors",
    "BoxError": "errors",
    "BoxResponseError": "errors",
    "BoxSecretsError": "errors",
    "BoxUnavailableError": "errors",
    "ConfigError": "errors",
    "ConflictError": "errors",
    "InputError": "errors",
    "InvalidTransitionError": "errors",
    "KeyRejectedError": "errors",
    "MissingExtraError": "errors",
    "NoActiveKeyError": "errors",
    "NotifyError": "errors",
    "PersonNeededError": "errors",
    "SignerError": "errors",
    "SignerUnavailableError": "errors",
    "StoreAccessDeniedError": "errors",
    "StoreCorruptError": "errors",
    "StoreError": "errors",
    "StoreNotFoundError": "errors",
    "StoreURIError": "errors",
    "StoreUnavailableError": "errors",
    "KeyMaterial": "signers",
    "signer_for": "signers",
    "RetryPolicy": "tokens",
}


def clear_caches() -> None:
    """Reset every module-level cache: providers and their tokens, store reads, the HTTP pool.

    For tests, and after changing a store by hand in a long-lived process. Every
    cache joins one registry where it is defined (``_caches.cache_reset``); only
    modules already imported have joined, so calling it imports nothing heavy.
    """
    from box_secrets._support.caches import clear_all

    clear_all()


__getattr__, __dir__ = lazy_names(__name__, {k: f".{v}" for k, v in _WHERE.items()}, __all__)
