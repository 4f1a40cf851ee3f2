"""AWS at one edge: one client factory and one error table, for every AWS service used.

The Secrets Manager store and the SNS notifier build their clients here (and
KMS signers and the Lambda handler will), so timeouts, retries, profiles and
the translation of AWS's error codes are decided once. boto3 is imported only
when a client is built.
"""

from __future__ import annotations

import os
from typing import Any

from ._optional import require
from .errors import (
    ConflictError,
    InputError,
    StoreAccessDeniedError,
    StoreError,
    StoreNotFoundError,
    StoreUnavailableError,
)

__all__ = ["ERRORS", "client", "error_class", "error_code", "reset_clients"]

#: Built clients, reused: creating one loads botocore's service model and
#: endpoint rules (about 100-200 ms), and clients are thread-safe. Keyed by
#: the target and the AWS_* environment, so another identity gets a new one.
_clients: dict[tuple[str | None, ...], Any] = {}


def reset_clients() -> None:
    """Forget every built client (``box_secrets.clear_caches``)."""
    _clients.clear()


#: AWS error code -> the box-secrets error it means (the message is the caller's).
ERRORS: dict[str, type[StoreError]] = {
    "ResourceNotFoundException": StoreNotFoundError,
    "NotFoundException": StoreNotFoundError,
    "AccessDeniedException": StoreAccessDeniedError,
    "AccessDenied": StoreAccessDeniedError,
    "AuthorizationError": StoreAccessDeniedError,
    "UnrecognizedClientException": StoreAccessDeniedError,
    "InvalidSignatureException": StoreAccessDeniedError,
    "ExpiredTokenException": StoreAccessDeniedError,
    "DecryptionFailure": StoreAccessDeniedError,
    "KMSAccessDeniedException": StoreAccessDeniedError,
    "ThrottlingException": StoreUnavailableError,
    "Throttling": StoreUnavailableError,
    "TooManyRequestsException": StoreUnavailableError,
    "RequestLimitExceeded": StoreUnavailableError,
    "InternalServiceError": StoreUnavailableError,
    "InternalFailure": StoreUnavailableError,
    "ServiceUnavailable": StoreUnavailableError,
    "ResourceExistsException": ConflictError,
}


def error_code(exc: Any) -> str:
    """The AWS error code of a botocore ``ClientError`` (IAM's XML 403 counts as AccessDenied)."""
    code = str(exc.response.get("Error", {}).get("Code", ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if status == 403 and not code.endswith("Exception"):
        return "AccessDenied"  # IAM's denial can arrive as an XML body (moto does this)
    return code


def error_class(code: str) -> type[StoreError]:
    return ERRORS.get(code, StoreError)


def client(
    service: str,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    max_attempts: int | None = None,
) -> Any:
    """A boto3 client with box-secrets' timeouts and retries (``AWS_MAX_ATTEMPTS``, default 5).

    ``max_attempts=1`` turns botocore's own retries off, for callers that retry
    under their own deadline (the KMS signer, inside the token module's).

    Raises:
        InputError: the named profile is not configured.
        MissingExtraError: boto3 is not installed.
    """
    import hashlib

    # Credentials, region and endpoints may come from AWS_* variables: any change
    # to them (tests switching identities, a refreshed session token) is a new client.
    aws_env = sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_"))
    fingerprint = hashlib.sha256(repr(aws_env).encode()).hexdigest()
    key = (service, region, endpoint_url, profile, str(max_attempts), fingerprint)
    built = _clients.get(key)
    if built is not None:
        return built
    boto3 = require("boto3")
    botocore_config = require("botocore.config")
    botocore_exceptions = require("botocore.exceptions")
    try:
        session = boto3.Session(profile_name=profile)
    except botocore_exceptions.ProfileNotFound:
        raise InputError(
            f"the AWS profile {(profile or '')[:60]!r} is not configured; check ~/.aws/config "
            "or drop profile= from the URI"
        ) from None
    built = _clients[key] = session.client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        config=botocore_config.Config(
            # botocore retries throttling and 5xx itself.
            retries={
                "mode": "standard",
                "total_max_attempts": max_attempts or int(os.environ.get("AWS_MAX_ATTEMPTS", "5")),
            },
            connect_timeout=5,
            read_timeout=5 if max_attempts == 1 else 15,
        ),
    )
    return built
