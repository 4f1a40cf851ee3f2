"""The signing step, behind a small interface.

A :class:`Signer` turns the JWS signing input into a signature. Today the only
one is :class:`RSASigner` (a private key in this process); a signer whose key
never leaves AWS KMS or Vault Transit implements the same three members. The
JWS itself is built here, by hand, because PyJWT insists on holding a real key
object and a remote signer has none.

Stored key material is a tagged kind (``_material.py``): a private key in the
store, or a signer URI naming a key that never leaves AWS KMS or Vault Transit.
:func:`signer_for` is the one place that turns material into a signer: one
narrow abstraction plus a registry, as PyJWT does for algorithms.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from box_secrets.signers._material import KeyMaterial, Material, RemoteKey

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

__all__ = [
    "ALGORITHMS",
    "KeyMaterial",
    "RSASigner",
    "Signer",
    "signer_for",
]

ALGORITHMS = ("RS256", "RS384", "RS512")


@runtime_checkable
class Signer(Protocol):
    """Signs JWS input for one registered Box key."""

    @property
    def key_id(self) -> str:
        """Box's ``publicKeyID`` for this key (the JWT ``kid``)."""

    def sign(self, message: bytes, algorithm: str) -> bytes:
        """Return the raw RSASSA-PKCS1-v1_5 signature of ``message``."""

    def public_key_pem(self) -> str:
        """The PKIX PEM a person registers in Box's Developer Console."""


class RSASigner:
    """Signs with an RSA private key held in this process."""

    __slots__ = ("_hashes", "_key", "_kid", "_padding")

    def __init__(self, key: RSAPrivateKey, key_id: str) -> None:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        self._key = key
        self._kid = key_id
        self._padding = padding.PKCS1v15()
        self._hashes = {
            "RS256": hashes.SHA256(),
            "RS384": hashes.SHA384(),
            "RS512": hashes.SHA512(),
        }

    @property
    def key_id(self) -> str:
        return self._kid

    def sign(self, message: bytes, algorithm: str) -> bytes:
        return self._key.sign(message, self._padding, self._hashes[algorithm])

    def public_key_pem(self) -> str:
        from box_secrets.signers._keys import public_pem_of

        return public_pem_of(self._key)

    def __repr__(self) -> str:
        return f"RSASigner(key_id={self._kid!r})"


def _kms(material: Material, key_id: str) -> Signer:
    from box_secrets.signers._kms import KmsSigner

    assert isinstance(material, RemoteKey)
    return KmsSigner(material.parsed, key_id)


def _transit(material: Material, key_id: str) -> Signer:
    from box_secrets.signers._transit import TransitSigner

    assert isinstance(material, RemoteKey)
    return TransitSigner(material.parsed, key_id)


def _pem(material: Material, key_id: str) -> Signer:
    assert isinstance(material, KeyMaterial)
    return RSASigner(material.key(), key_id)


# The cloud SDK behind each kind is imported only when its signer is built.
_SIGNERS: dict[str, Callable[[Material, str], Signer]] = {
    "pem": _pem,
    "aws-kms": _kms,
    "vault-transit": _transit,
}


def signer_for(material: Material | str, key_id: str) -> Signer:
    """The signer for key material or a signer URI (the one place a kind becomes a signer).

    ``signer_for("aws-kms://alias/box-app?region=eu-west-1", kid)`` signs with
    KMS; give the result to ``TokenProvider(signer=...)``.

    Raises:
        ConfigError: the URI is malformed, no signer handles this kind of
            material, or the private key cannot be decrypted with its passphrase.
        MissingExtraError: the signer's SDK (boto3 or hvac) is not installed.
    """
    from box_secrets.errors import ConfigError

    if isinstance(material, str):
        material = RemoteKey(material)
    if not isinstance(getattr(material, "kind", None), str):
        raise ConfigError(
            f"signer_for takes key material or a signer URI string, not {type(material).__name__}"
        )
    if not isinstance(key_id, str):
        raise ConfigError(f"the key ID must be a string, not {type(key_id).__name__}")
    try:
        make = _SIGNERS[material.kind]
    except KeyError:
        raise ConfigError(
            f"no signer for key material of kind {material.kind!r}; upgrade box-secrets"
        ) from None
    return make(material, key_id)
