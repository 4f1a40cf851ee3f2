"""AWS KMS: a signer whose private key never leaves KMS, and the keys' lifecycle there.

RS256 is ``Sign(SigningAlgorithm=RSASSA_PKCS1_V1_5_SHA_256, MessageType=RAW)``
over the JWS signing input (KMS hashes it; sending a digest would need
``MessageType=DIGEST``). KMS never rotates asymmetric keys itself, so a
rotation creates a new key, points an alias at it on promotion, and retires
the old key by disabling it and scheduling its deletion
(https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html).

boto3 is imported only when a client is built, through ``_aws``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, TypeVar

from box_secrets.errors import ConfigError, SignerError, SignerUnavailableError
from box_secrets.signers._uri import SignerURI, as_signer_uri

__all__ = ["KmsSigner"]

T = TypeVar("T")

ALGORITHMS = {
    "RS256": "RSASSA_PKCS1_V1_5_SHA_256",
    "RS384": "RSASSA_PKCS1_V1_5_SHA_384",
    "RS512": "RSASSA_PKCS1_V1_5_SHA_512",
}
SPECS = {2048: "RSA_2048", 3072: "RSA_3072", 4096: "RSA_4096"}
BITS = {v: k for k, v in SPECS.items()}
TAG_APP = "box-secrets:app"
TAG_STATE = "box-secrets:state"
DEFAULT_DELETION_DAYS = 30


def _client(uri: SignerURI, *, signing: bool) -> Any:
    from box_secrets._aws import client, region_for
    from box_secrets._urls import trusted_endpoint, trusted_setting

    # Only an endpoint this process is configured for (or a loopback one, for moto):
    # a store's writer must not be able to send our signed requests elsewhere.
    endpoint = trusted_endpoint(
        uri.params.get("endpoint_url"),
        env=("AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL"),
        what="the aws-kms endpoint_url",
    )
    return client(
        "kms",
        region=region_for(uri.key, uri.params.get("region")),
        endpoint_url=endpoint,
        # The profile chooses the identity requests are signed as: not the store's choice.
        profile=trusted_setting(
            uri.params.get("profile"), env="AWS_PROFILE", what="the aws-kms profile"
        ),
        # A signature is retried by the token module within its deadline; botocore
        # retrying underneath would multiply the attempts and outlast it.
        max_attempts=1 if signing else None,
    )


def _call(
    uri: SignerURI,
    doing: str,
    fn: Callable[[Any], T],
    *,
    signing: bool = False,
    key: str | None = None,
) -> T:
    """One KMS call with AWS's errors turned into one sentence each (naming ``key``)."""
    from box_secrets._support.optional import require

    botocore_exc = require("botocore.exceptions")
    key = key or uri.key
    try:
        return fn(_client(uri, signing=signing))
    except botocore_exc.ClientError as exc:
        raise _client_error(exc, doing, key) from exc
    except botocore_exc.NoCredentialsError as exc:
        raise SignerError(
            f"no AWS credentials found while {doing}; configure credentials for KMS"
        ) from exc
    except botocore_exc.ParamValidationError as exc:
        from box_secrets._aws import invalid_parameter

        raise invalid_parameter(exc, "AWS KMS", doing) from None
    except botocore_exc.BotoCoreError as exc:
        raise SignerUnavailableError(
            f"cannot reach AWS KMS while {doing} ({type(exc).__name__}); check the network, "
            "region= and endpoint_url="
        ) from exc


def _client_error(exc: Exception, doing: str, key: str) -> SignerError:
    """AWS's refusal of one KMS call, in the signer's words (the kind from ``_aws.KINDS``)."""
    from box_secrets._aws import error_code, kind_of

    code = error_code(exc)
    kind = kind_of(code)  # the one AWS table; the words here are the signer's
    if kind == "busy":
        return SignerUnavailableError(
            f"AWS KMS is throttling or failing ({code}) while {doing}; box-secrets retries "
            "within its deadline; if this persists, cache tokens longer or ask AWS for a "
            "higher quota"
        )
    if kind == "denied":
        return SignerError(
            f"AWS KMS denied {doing} on key {key}; the caller's role needs the kms:* "
            "actions listed in `box-secrets help signers` on this key"
        )
    if kind == "not-found":
        return _NotFound(
            f"AWS KMS has no key {key} in this account and region while {doing}; check "
            "the key ID, region= and the account"
        )
    if kind == "exists":
        return _Exists(f"{doing}: it already exists (another run made it meanwhile)")
    if kind == "disabled":
        return SignerError(
            f"AWS KMS key {key} is disabled or pending deletion ({doing}); a retired key "
            "cannot sign: read the active key again, or cancel the deletion in KMS"
        )
    if kind == "credentials":
        return SignerError(f"AWS refused the credentials while {doing} ({code}); refresh them")
    return SignerError(f"AWS KMS failed while {doing} ({code or 'unknown error'})")


class _NotFound(SignerError):
    """No such key or alias (a home asks before it creates)."""


class _Exists(SignerError):
    """The alias exists: a concurrent run created it first."""


def _pem_of_der(der: bytes) -> str:
    body = base64.encodebytes(der).decode("ascii").replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


class KmsSigner:
    """Signs with an asymmetric KMS key (``aws-kms://KEY-ID-OR-ALIAS?region=...``)."""

    __slots__ = ("_kid", "_uri")

    def __init__(self, uri: str | SignerURI, key_id: str) -> None:
        self._uri = as_signer_uri(uri)
        if self._uri.kind != "aws-kms":
            raise ConfigError("KmsSigner needs an aws-kms:// signer URI")
        self._kid = key_id

    @property
    def key_id(self) -> str:
        return self._kid

    def sign(self, message: bytes, algorithm: str) -> bytes:
        """The RSASSA-PKCS1-v1_5 signature of ``message`` (KMS hashes it).

        Raises:
            SignerUnavailableError: throttled, failing or unreachable (retry).
            SignerError: denied, no such key, or the key is disabled.
        """
        response = _call(
            self._uri,
            "signing a Box assertion",
            lambda c: c.sign(
                KeyId=self._uri.key,
                Message=message,
                MessageType="RAW",
                SigningAlgorithm=ALGORITHMS[algorithm],
            ),
            signing=True,
        )
        return bytes(response["Signature"])

    def public_key_pem(self) -> str:
        response = _call(
            self._uri,
            "reading the public key",
            lambda c: c.get_public_key(KeyId=self._uri.key),
        )
        return _pem_of_der(bytes(response["PublicKey"]))

    def __repr__(self) -> str:
        return f"KmsSigner({str(self._uri)!r}, key_id={self._kid!r})"
