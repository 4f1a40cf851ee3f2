"""Key material as a store keeps it: a tagged kind.

- :class:`KeyMaterial` (``kind="pem"``): an RSA private key in PEM (encrypted
  PKCS#8 for generated keys) and its passphrase.
- :class:`RemoteKey` (``"aws-kms"``, ``"vault-transit"``): a signer URI naming
  one key that never leaves its home; nothing in it is secret.

:func:`~box_secrets.signers.signer_for` turns either into a signer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from box_secrets.signers._uri import SignerURI

__all__ = [
    "KeyMaterial",
    "Material",
    "NewKey",
    "RemoteKey",
    "material_from_auth",
    "pem_fingerprint",
]


class KeyMaterial:
    """An RSA private key in PEM and its passphrase (``kind="pem"``)."""

    __slots__ = ("_key", "passphrase", "pem")

    kind = "pem"

    def __init__(self, pem: str, passphrase: str, *, key: RSAPrivateKey | None = None) -> None:
        self.pem = pem
        self.passphrase = passphrase
        self._key = key

    def key(self, *, validate: bool = False) -> RSAPrivateKey:
        """The parsed private key (parsed once).

        Raises:
            ConfigError: the PEM is not an RSA key or the passphrase is wrong.
        """
        if self._key is None:
            from box_secrets.signers._keys import load_private_key

            self._key = load_private_key(self.pem, self.passphrase, validate=validate)
        return self._key

    def fingerprint(self) -> str:
        from box_secrets.signers._keys import fingerprint_of

        return fingerprint_of(self.key().public_key())

    def auth_fields(self) -> dict[str, str]:
        """The ``appAuth`` fields that hold this key in a Box config."""
        return {"privateKey": self.pem, "passphrase": self.passphrase}

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, KeyMaterial)
            and self.kind == other.kind
            and self.pem == other.pem
            and self.passphrase == other.passphrase
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"KeyMaterial(kind={self.kind!r}, <hidden>)"


class RemoteKey:
    """A key held by AWS KMS or Vault Transit, named by a signer URI.

    Nothing here is secret: the URI names one KMS key, or one Transit key
    version, plus how to reach it. The private key never leaves its home.
    """

    __slots__ = ("kind", "parsed", "uri")

    def __init__(self, uri: str | SignerURI) -> None:
        from box_secrets.signers._uri import as_signer_uri

        #: Parsed once, here; signers and homes take it as it is.
        self.parsed = as_signer_uri(uri, field="boxAppSettings.appAuth.signer")
        self.kind = self.parsed.kind
        self.uri = str(self.parsed)

    def auth_fields(self) -> dict[str, str]:
        """The ``appAuth`` field that names this key in a Box config."""
        return {"signer": self.uri}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RemoteKey) and self.uri == other.uri

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RemoteKey({self.uri!r})"


#: Either kind of stored key material.
Material = KeyMaterial | RemoteKey


class NewKey:
    """A key pair a rotation stages: its public facts and how the store keeps it."""

    __slots__ = ("bits", "fingerprint", "material", "public_key_pem")

    def __init__(self, material: Material, public_key_pem: str, *, bits: int) -> None:
        from box_secrets.signers._keys import fingerprint_of, load_public_key

        self.material = material
        self.public_key_pem = public_key_pem
        self.fingerprint = fingerprint_of(load_public_key(public_key_pem))
        self.bits = bits

    def __repr__(self) -> str:
        return f"NewKey({self.material!r}, fingerprint={self.fingerprint!r})"


def material_from_auth(auth: object) -> Material | None:
    """The key material in a config's ``appAuth`` object, or None if it holds none.

    Raises:
        ConfigError: ``signer`` is not a valid signer URI.
    """
    if not isinstance(auth, dict):
        return None
    if isinstance(auth.get("privateKey"), str) and auth["privateKey"]:
        return KeyMaterial(auth["privateKey"], str(auth.get("passphrase") or ""))
    if isinstance(auth.get("signer"), str):
        return RemoteKey(auth["signer"])
    return None


def pem_fingerprint(public_key_pem: str) -> str:
    """The fingerprint of a PKIX PEM public key (what the record compares homes against)."""
    from box_secrets.signers._keys import fingerprint_of, load_public_key

    return fingerprint_of(load_public_key(public_key_pem))
