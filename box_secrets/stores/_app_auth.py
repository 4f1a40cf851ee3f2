"""A Box config's ``appAuth``: the key pair part (a PEM and its passphrase, or a signer
URI naming a key held elsewhere) and its key ID, each field checked by name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from box_secrets.errors import ConfigError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

__all__ = ["read_app_auth"]

_SETTINGS = "boxAppSettings"
_AUTH = "appAuth"


def _text(value: object, field: str, *, required: bool = True) -> str | None:
    if value is None or value == "":
        if required:
            raise ConfigError(
                f"{field} is missing; copy it from the app's Configuration page in the "
                "Box Developer Console",
                field=field,
            )
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f"{field} must be a string", field=field)
    text = str(value)
    if text != text.strip() or any(c in text for c in "\r\n\t"):
        raise ConfigError(
            f"{field} has surrounding spaces or line breaks; remove them", field=field
        )
    return text


def read_app_auth(
    auth: Any, *, validate_key: bool, require_key_id: bool
) -> tuple[str | None, str, str | None, str | None, RSAPrivateKey | None, str | None, bool]:
    """``appAuth`` checked: (pem, passphrase, key ID, signer URI, key, fingerprint, is JWT).

    With ``validate_key=False`` (a key box-secrets wrote itself) the key is not
    parsed here: key and fingerprint are None, and the config parses it on first use.

    Raises:
        ConfigError: a field is malformed (named), or the key cannot be decrypted.
    """
    key: RSAPrivateKey | None = None
    jwt = False
    fingerprint = None
    pem = None
    passphrase = ""
    kid = None
    signer = None
    if auth is not None:
        base = f"{_SETTINGS}.{_AUTH}"
        if not isinstance(auth, dict):
            raise ConfigError(f"{base} must be an object", field=base)
        pem = auth.get("privateKey") or None
        if pem is not None and not isinstance(pem, str):
            raise ConfigError(f"{base}.privateKey must be a PEM string", field=f"{base}.privateKey")
        # No privateKey is valid: the key may sign elsewhere (a KMS or Transit key
        # named by ``signer``, or a Signer given to TokenProvider); minting then
        # fails clearly if nothing can sign.
        if pem is None and auth.get("signer") is not None:
            from box_secrets.signers._uri import parse_signer_uri

            signer = str(parse_signer_uri(auth.get("signer"), field=f"{base}.signer"))
            kid = _text(auth.get("publicKeyID"), f"{base}.publicKeyID", required=require_key_id)
        jwt = pem is not None or signer is not None or bool(auth.get("publicKeyID"))
        if pem is None and signer is None and auth.get("publicKeyID"):
            kid = _text(auth.get("publicKeyID"), f"{base}.publicKeyID", required=False)
        if pem is not None:
            raw_pass = auth.get("passphrase")
            if raw_pass is None:
                raw_pass = ""
            if not isinstance(raw_pass, str):
                raise ConfigError(f"{base}.passphrase must be a string", field=f"{base}.passphrase")
            passphrase = raw_pass
            kid = _text(auth.get("publicKeyID"), f"{base}.publicKeyID", required=require_key_id)
            if validate_key:  # else parsed on first use (BoxAppConfig.private_key)
                from box_secrets.signers._keys import fingerprint_of, load_private_key

                key = load_private_key(pem, passphrase, validate=True, field=f"{base}.privateKey")
                fingerprint = fingerprint_of(key.public_key())
    return pem, passphrase, kid, signer, key, fingerprint, jwt
