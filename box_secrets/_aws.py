"""AWS at one edge: one client factory and one error table, for every AWS service used.

The Secrets Manager store, the KMS signer and home, and the SNS notifier
build their clients here, so endpoints, regions, timeouts, retries, profiles and
the translation of AWS's error codes are decided once. boto3 is imported only
when a client is built.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from box_secrets._support.caches import cache_reset
from box_secrets._support.optional import require
from box_secrets.errors import (
    ConflictError,
    InputError,
    StoreAccessDeniedError,
    StoreError,
    StoreNotFoundError,
    StoreUnavailableError,
)

#: What an error means, whatever the service said it with.
Kind = Literal["not-found", "denied", "credentials", "busy", "exists", "disabled"]

__all__ = [
    "KINDS",
    "STORE_ERRORS",
    "Kind",
    "arn_region",
    "client",
    "endpoint_for",
    "env_region",
    "error_class",
    "error_code",
    "invalid_parameter",
    "kind_of",
    "max_attempts_from_env",
    "region_for",
    "reset_clients",
]

#: Built clients, reused: creating one loads botocore's service model and
#: endpoint rules (about 100-200 ms), and clients are thread-safe. Keyed by
#: the target and the AWS_* environment, so another identity gets a new one.
_clients: dict[tuple[str | None, ...], Any] = {}


@cache_reset
def reset_clients() -> None:
    """Forget every built client (``box_secrets.clear_caches``)."""
    _clients.clear()


#: What an AWS error code means, for every AWS service box-secrets calls (Secrets Manager,
#: KMS, SNS, STS): the one table. Each caller turns a kind into its own error class and
#: words (a store's, a signer's, a notifier's).
KINDS: dict[str, Kind] = {
    "ResourceNotFoundException": "not-found",
    "NotFoundException": "not-found",
    "AccessDeniedException": "denied",
    "AccessDenied": "denied",
    "AuthorizationError": "denied",
    "DecryptionFailure": "denied",
    "KMSAccessDeniedException": "denied",
    "UnrecognizedClientException": "credentials",
    "InvalidSignatureException": "credentials",
    "ExpiredTokenException": "credentials",
    "ThrottlingException": "busy",
    "Throttling": "busy",
    "TooManyRequestsException": "busy",
    "RequestLimitExceeded": "busy",
    "LimitExceededException": "busy",
    "InternalServiceError": "busy",
    "InternalFailure": "busy",
    "ServiceUnavailable": "busy",
    "KMSInternalException": "busy",
    "DependencyTimeoutException": "busy",
    "ResourceExistsException": "exists",
    "AlreadyExistsException": "exists",
    "DisabledException": "disabled",
    "KMSInvalidStateException": "disabled",
}

#: A kind as a store's error class.
STORE_ERRORS: dict[Kind, type[StoreError]] = {
    "not-found": StoreNotFoundError,
    "denied": StoreAccessDeniedError,
    "credentials": StoreAccessDeniedError,
    "busy": StoreUnavailableError,
    "exists": ConflictError,
}


def kind_of(code: str) -> Kind | None:
    """What AWS's error ``code`` means (None: nothing this table knows)."""
    return KINDS.get(code)


def error_code(exc: Any) -> str:
    """The AWS error code of a botocore ``ClientError`` (IAM's XML 403 counts as AccessDenied)."""
    code = str(exc.response.get("Error", {}).get("Code", ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if status == 403 and not code.endswith("Exception"):
        return "AccessDenied"  # IAM's denial can arrive as an XML body (moto does this)
    return code


def error_class(code: str) -> type[StoreError]:
    """The store error class AWS's error ``code`` means."""
    kind = kind_of(code)
    return STORE_ERRORS.get(kind, StoreError) if kind else StoreError


#: botocore's per-service endpoint variable: AWS_ENDPOINT_URL_ + the service ID in
#: upper case with spaces as underscores (botocore ``configprovider``, "Service-specific
#: endpoints", https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
_SERVICE_IDS = {
    "secretsmanager": "SECRETS_MANAGER",
    "kms": "KMS",
    "sns": "SNS",
    "sts": "STS",
    "dynamodb": "DYNAMODB",
}


def endpoint_for(service: str, endpoint_url: str | None) -> str | None:
    """The canonical endpoint a client for ``service`` connects to, judged like any URL.

    An explicit ``endpoint_url`` wins; else ``AWS_ENDPOINT_URL_<SERVICE>``, else
    ``AWS_ENDPOINT_URL``; else None (AWS's own https endpoint). botocore would read
    those variables itself, unjudged: so they are judged here and passed explicitly.
    """
    from box_secrets._urls import check_url, configured_url

    if endpoint_url is not None:
        return check_url(endpoint_url, what=f"the {service} endpoint_url")
    specific = f"AWS_ENDPOINT_URL_{_SERVICE_IDS.get(service, service.upper())}"
    return configured_url((specific, "AWS_ENDPOINT_URL"))


def invalid_parameter(exc: Exception, service: str, doing: str) -> InputError:
    """botocore's client-side ``ParamValidationError`` as bad input, naming only the fields.

    Its message quotes lengths and types, and could quote a value: only the
    parameter names are kept (a RotationToken is a credential).
    """
    import re

    names = sorted(set(re.findall(r"parameter (?:input\.)?([A-Za-z][A-Za-z0-9.]*)", str(exc))))
    which = ", ".join(names[:5]) or "a parameter"
    return InputError(
        f"{service} would refuse {which} as malformed while {doing}; nothing was sent"
    )


def arn_region(resource: str) -> str | None:
    """The region an ARN names (``arn:PARTITION:SERVICE:REGION:ACCOUNT:...``), else None."""
    parts = resource.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[3]:
        return parts[3]
    return None


def region_for(resource: str, given: str | None) -> str | None:
    """The region to call for ``resource``: ``region=``, else its ARN's, else the environment's.

    The environment as the AWS SDKs and CLI v2 read it: ``AWS_REGION``, then
    ``AWS_DEFAULT_REGION`` (botocore alone reads only the second). None leaves
    it to the profile's configuration.

    Raises:
        InputError: ``region=`` contradicts the region the ARN names.
    """
    from_arn = arn_region(resource)
    if given and from_arn and given != from_arn:
        raise InputError(
            f"region={given} contradicts the ARN, which names {from_arn}; drop region= or "
            "correct it"
        )
    return given or from_arn or env_region()


def env_region() -> str | None:
    """The environment's region as the AWS SDKs and CLI v2 read it (``AWS_REGION`` first)."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None


def max_attempts_from_env() -> int:
    """``AWS_MAX_ATTEMPTS`` (default 5), as botocore reads it, but judged: 1 to 20."""
    raw = os.environ.get("AWS_MAX_ATTEMPTS", "").strip() or "5"
    if not raw.isdigit() or not 1 <= int(raw) <= 20:
        raise InputError(f"AWS_MAX_ATTEMPTS must be a whole number from 1 to 20, not {raw[:20]!r}")
    return int(raw)


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
        InputError: the named profile is not configured, an endpoint is not safe to
            send credentials to, or ``AWS_MAX_ATTEMPTS`` is not a number from 1 to 20.
        MissingExtraError: boto3 is not installed.
    """
    import hashlib

    endpoint_url = endpoint_for(service, endpoint_url)
    attempts = max_attempts or max_attempts_from_env()
    region = region or env_region()

    # Credentials, region and endpoints may come from AWS_* variables: any change
    # to them (tests switching identities, a refreshed session token) is a new client.
    aws_env = sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_"))
    fingerprint = hashlib.sha256(repr(aws_env).encode()).hexdigest()
    key = (service, region, endpoint_url, profile, str(max_attempts), fingerprint)
    built = _clients.get(key)
    if built is not None:
        return built
    from box_secrets._support.redact import install_record_redaction

    install_record_redaction()  # botocore logs whole bodies at DEBUG
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
                "total_max_attempts": attempts,
            },
            connect_timeout=5,
            read_timeout=5 if max_attempts == 1 else 15,
        ),
    )
    return built
