"""Box's JWT bearer assertion: the header and claims Box requires, signed by any signer.

The JWS is built by hand (header, claims, base64url, the signer's bytes), so a
signer whose key never leaves AWS KMS or Vault Transit plugs in like a local key.
"""

from __future__ import annotations

import base64
import json

from box_secrets.signers import ALGORITHMS, Signer

__all__ = ["BOX_AUDIENCE", "build_assertion", "new_jti"]

#: The audience Box requires, whatever host the request goes to.
BOX_AUDIENCE = "https://api.box.com/oauth2/token"


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def new_jti() -> str:
    """A fresh, cryptographically random JWT ID: 43 URL-safe characters."""
    import secrets

    return secrets.token_urlsafe(32)


def build_assertion(
    signer: Signer,
    *,
    client_id: str,
    subject_type: str,
    subject_id: str,
    exp: int,
    jti: str,
    algorithm: str = "RS256",
) -> str:
    """Build and sign the JWT bearer assertion Box's token endpoint expects."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}")
    header = {"alg": algorithm, "typ": "JWT", "kid": signer.key_id}
    claims = {
        "iss": client_id,
        "sub": subject_id,
        "box_sub_type": subject_type,
        "aud": BOX_AUDIENCE,
        "jti": jti,
        "exp": exp,
    }
    signing_input = (
        _b64(json.dumps(header, separators=(",", ":")).encode())
        + b"."
        + _b64(json.dumps(claims, separators=(",", ":")).encode())
    )
    signature = signer.sign(signing_input, algorithm)
    return (signing_input + b"." + _b64(signature)).decode("ascii")
