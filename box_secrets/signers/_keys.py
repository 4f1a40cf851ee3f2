"""RSA key helpers: generate, load, fingerprint.

`cryptography` is imported inside the functions so that ``import box_secrets``
stays cheap; loading a key is the costly part and callers cache the result.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from box_secrets.errors import ConfigError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

__all__ = [
    "ALLOWED_KEY_SIZES",
    "MIN_KEY_BITS",
    "GeneratedKey",
    "fingerprint_of",
    "generate_key",
    "load_private_key",
    "load_public_key",
    "public_pem_of",
]

MIN_KEY_BITS = 2048
ALLOWED_KEY_SIZES = (2048, 3072, 4096)


class GeneratedKey:
    """A new key pair in Box's own format: encrypted PKCS#8 plus its passphrase."""

    __slots__ = ("_key", "fingerprint", "passphrase", "private_key_pem", "public_key_pem")

    def __init__(self, key: RSAPrivateKey, private_key_pem: str, passphrase: str) -> None:
        self._key = key
        self.private_key_pem = private_key_pem
        self.passphrase = passphrase
        self.public_key_pem = public_pem_of(key)
        self.fingerprint = fingerprint_of(key.public_key())

    @property
    def key(self) -> RSAPrivateKey:
        return self._key

    @property
    def bits(self) -> int:
        return self._key.key_size

    def __repr__(self) -> str:
        return f"GeneratedKey(fingerprint={self.fingerprint!r})"


def generate_key(bits: int = 2048) -> GeneratedKey:
    """Generate an RSA key pair encrypted like the keys Box's console issues."""
    if bits not in ALLOWED_KEY_SIZES:
        raise ConfigError(
            f"key size {bits} is not supported; choose one of 2048, 3072 or 4096",
            field="key_size",
        )
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    # A random passphrase keeps the stored value in Box's exact format (encrypted
    # PKCS#8 + passphrase), which every Box SDK loads; the store is what protects it.
    passphrase = secrets.token_urlsafe(32)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    ).decode("ascii")
    return GeneratedKey(key, pem, passphrase)


def load_private_key(
    pem: str, passphrase: str | None, *, validate: bool = True, field: str = "privateKey"
) -> RSAPrivateKey:
    """Load an RSA private key from PEM (encrypted PKCS#8, or plain PKCS#1/PKCS#8).

    ``validate=False`` skips cryptography's RSA consistency check (about 100x the
    cost of a signature); only use it for keys that were validated when written.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    data = pem.encode("utf-8", "surrogateescape")
    encrypted = b"ENCRYPTED" in data
    password = None
    if encrypted:
        if not passphrase:
            raise ConfigError(
                f"{field} is encrypted but the passphrase is empty; "
                "put the passphrase from the Developer Console config beside it",
                field=field,
            )
        password = passphrase.encode("utf-8", "surrogateescape")
    try:
        key = serialization.load_pem_private_key(
            data, password=password, unsafe_skip_rsa_key_validation=not validate
        )
    except ValueError as exc:
        # A wrong passphrase usually fails the padding check ("decrypt"), but about one
        # time in 256 the garbage pads correctly and fails as DER instead: for an
        # encrypted key, either way the passphrase is the first thing to check.
        if encrypted:
            raise ConfigError(
                f"{field} could not be decrypted with the given passphrase; "
                "check that the passphrase belongs to this key (and that the key is whole)",
                field=field,
            ) from exc
        raise ConfigError(
            f"{field} is not a valid PEM private key; paste the whole key including "
            "the BEGIN and END lines, with \\n line breaks",
            field=field,
        ) from exc
    except Exception as exc:  # TypeError, UnsupportedAlgorithm: same advice
        raise ConfigError(
            f"{field} could not be loaded; check the key and its passphrase",
            field=field,
        ) from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(
            f"{field} is not an RSA key; Box JWT apps need RSA keys of 2048 bits or more",
            field=field,
        )
    if key.key_size < MIN_KEY_BITS:
        raise ConfigError(
            f"{field} is a {key.key_size}-bit RSA key; Box needs at least 2048 bits, "
            "so generate a new key pair",
            field=field,
        )
    return key


def load_public_key(pem: str, *, field: str = "public_key") -> RSAPublicKey:
    """Load an RSA public key (PKIX ``BEGIN PUBLIC KEY`` or PKCS#1 ``BEGIN RSA PUBLIC KEY``)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_public_key(pem.encode("utf-8", "surrogateescape"))
    except Exception as exc:
        raise ConfigError(
            f"{field} is not a valid PEM public key; paste the whole key including "
            "the BEGIN and END lines",
            field=field,
        ) from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigError(f"{field} is not an RSA public key", field=field)
    if key.key_size < MIN_KEY_BITS:
        raise ConfigError(
            f"{field} is a {key.key_size}-bit RSA key; at least 2048 bits are required",
            field=field,
        )
    return key


def public_pem_of(key: RSAPrivateKey | RSAPublicKey) -> str:
    """The PKIX PEM of a key's public half: what a person pastes into Box's console."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pub = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def fingerprint_of(key: RSAPublicKey) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo, as lowercase hex (64 characters)."""
    from cryptography.hazmat.primitives import serialization

    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()
