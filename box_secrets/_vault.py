"""Vault at one edge: one client factory and one error table.

The KV store and the Transit signer build and log in their hvac clients here,
and hvac's exceptions (one per HTTP status, as hvac's ``utils.raise_for_error``
maps them) translate through one table. hvac is imported only when a client
is built.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Literal, Protocol

from box_secrets._support.optional import require
from box_secrets.errors import (
    ConflictError,
    InputError,
    StoreAccessDeniedError,
    StoreError,
    StoreNotFoundError,
    StoreUnavailableError,
)

#: What an error means, whatever Vault's status said it with.
Kind = Literal["denied", "credentials", "invalid", "conflict", "not-found", "busy", "sealed"]

__all__ = [
    "KINDS",
    "Kind",
    "Target",
    "ca_bundle",
    "client",
    "connect",
    "error_class",
    "kind_of",
    "vault_auth",
]

K8S_JWT = "/var/run/secrets/kubernetes.io/serviceaccount/token"
#: Where auth=kubernetes (and auth=jwt) read their token, if not at K8S_JWT or in JWT_ENV.
JWT_PATH_ENV = "BOX_SECRETS_VAULT_JWT_PATH"
#: auth=jwt: the JWT itself (a CI runner's OIDC ID token, e.g. GitLab's id_tokens).
JWT_ENV = "BOX_SECRETS_VAULT_JWT"
#: The auth methods a store or signer URI may name.
AUTH_METHODS = ("token", "approle", "aws", "kubernetes", "jwt")
#: A JWT is a few KB; a token file larger than this is not one (and /dev/zero never ends).
_MAX_JWT_BYTES = 64 * 1024

#: What an hvac exception (one per HTTP status, hvac's ``utils.raise_for_error``) means:
#: the one Vault table, for the KV store and the Transit signer alike; each turns a kind
#: into its own error class and words.
KINDS: dict[str, Kind] = {
    "Forbidden": "denied",  # 403
    "Unauthorized": "credentials",  # 401
    "InvalidRequest": "invalid",  # 400 (a CAS mismatch is a conflict: kind_of)
    "InvalidPath": "not-found",  # 404
    "RateLimitExceeded": "busy",  # 429
    "InternalServerError": "busy",  # 500
    "BadGateway": "busy",  # 502
    "VaultDown": "sealed",  # 503: sealed or down
}

#: A kind as a store's error class.
STORE_ERRORS: dict[Kind, type[StoreError]] = {
    "denied": StoreAccessDeniedError,
    "credentials": StoreAccessDeniedError,
    "invalid": StoreAccessDeniedError,
    "conflict": ConflictError,
    "not-found": StoreNotFoundError,
    "busy": StoreUnavailableError,
    "sealed": StoreUnavailableError,
}


def kind_of(exc: Exception) -> Kind | None:
    """What an hvac exception means (None: a status this table does not know)."""
    name = type(exc).__name__
    if name == "InvalidRequest" and "check-and-set" in str(exc):
        return "conflict"  # Vault's CAS mismatch is a 400
    return KINDS.get(name)


_MOUNT_SEGMENT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"


def is_plain_mount(path: str) -> bool:
    """True when ``path`` is a mount path that stays where it says once Vault reads it.

    Mount paths (``auth_mount``, a Transit mount) go into request paths under
    ``/v1/``: a ``..`` segment (or an encoded one) would post credentials elsewhere.
    """
    segments = path.split("/")
    return bool(path) and all(
        seg not in ("", ".", "..") and all(c in _MOUNT_SEGMENT for c in seg) for seg in segments
    )


def vault_auth(params: dict[str, str], *, stored: bool = False) -> tuple[str, str | None]:
    """The Vault auth method and role: the URI's, else the environment's.

    For a URI read from a store (``stored``: a signer URI that the rotation job
    wrote), the other way round: the process's own ``BOX_SECRETS_VAULT_AUTH`` and
    ``BOX_SECRETS_VAULT_ROLE`` win, so a reader logs in as itself, not as the job
    that wrote the store. Inside AWS Lambda with no ``VAULT_TOKEN``, the default
    is ``aws`` (IAM): the function's role is its identity, and no token has to
    be deployed.
    """
    env_auth = os.environ.get("BOX_SECRETS_VAULT_AUTH")
    env_role = os.environ.get("BOX_SECRETS_VAULT_ROLE")
    if stored:
        auth, role = env_auth or params.get("auth"), env_role or params.get("role")
    else:
        auth, role = params.get("auth") or env_auth, params.get("role") or env_role
    if not auth:
        in_lambda = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
        auth = "aws" if in_lambda and not os.environ.get("VAULT_TOKEN") else "token"
    return auth, role or None


def ca_bundle(path: str | None) -> str | None:
    """The PEM bundle that verifies Vault's TLS certificate, checked to be a file (None: the
    system's trust store).

    Raises:
        InputError: the path is not a readable file.
    """
    if path is not None and not os.path.isfile(path):
        raise InputError(
            f"the Vault CA certificate {path[:200]!r} is not a readable file; give the "
            "path of a PEM bundle (ca_cert= or VAULT_CACERT)"
        )
    return path


def error_class(exc: Exception) -> type[StoreError]:
    """The store error class an hvac exception means (an unknown status: Vault failing)."""
    return STORE_ERRORS[kind_of(exc) or "busy"]


def client(addr: str, *, namespace: str | None, ca_cert: str | None, timeout: float = 10) -> Any:
    """An hvac client for ``addr`` (already checked to be https or loopback)."""
    from box_secrets._support.redact import install_record_redaction

    install_record_redaction()
    hvac = require("hvac")
    # token="": hvac would otherwise read VAULT_TOKEN or ~/.vault-token itself, unbounded
    # (a link to /dev/zero hangs it); the token login sets the token, read bounded.
    return hvac.Client(
        url=addr, namespace=namespace, timeout=timeout, verify=ca_cert or True, token=""
    )


class Target(Protocol):
    """Where and how to log in: what the KV store and the Transit signer both know."""

    addr: str
    namespace: str | None
    ca_cert: str | None
    auth: str
    role: str | None
    params: dict[str, str]


def connect(target: Target) -> Any:
    """A logged-in hvac client (``target.auth``: token, approle, kubernetes, jwt or aws).

    Raises:
        StoreAccessDeniedError: the credentials the method needs are absent.
        hvac.exceptions.VaultError, requests.RequestException: for the caller to word.
    """
    login = _LOGINS.get(target.auth)
    if login is None:  # parsers refuse other names; never fall back to a login nobody chose
        raise StoreAccessDeniedError(
            f"Vault auth {target.auth[:20]!r} is not supported; use token, approle, aws, "
            "kubernetes or jwt"
        )
    client_ = client(target.addr, namespace=target.namespace, ca_cert=target.ca_cert)
    login(client_, target.role, target.params.get("auth_mount") or target.auth, target.params)
    return client_


def _token_login(client_: Any, role: str | None, mount: str, params: dict[str, str]) -> None:
    token = os.environ.get("VAULT_TOKEN") or _token_file()
    if not token:
        raise StoreAccessDeniedError(
            "no Vault token: set VAULT_TOKEN, or choose another auth= in the URI"
        )
    if not token.isascii() or not token.isprintable() or any(c.isspace() for c in token):
        # It goes in a header: requests would refuse it as "invalid header" later.
        raise InputError(
            "VAULT_TOKEN (or ~/.vault-token) holds spaces, line breaks or control "
            "characters; set it to the token alone"
        )
    client_.token = token


def _approle_login(client_: Any, role: str | None, mount: str, params: dict[str, str]) -> None:
    role_id, secret_id = os.environ.get("VAULT_ROLE_ID"), os.environ.get("VAULT_SECRET_ID")
    if not role_id or not secret_id:
        raise StoreAccessDeniedError("auth=approle needs VAULT_ROLE_ID and VAULT_SECRET_ID")
    client_.auth.approle.login(role_id=role_id, secret_id=secret_id, mount_point=mount)


def _kubernetes_login(client_: Any, role: str | None, mount: str, params: dict[str, str]) -> None:
    # From the environment only: a URI parameter could send any local file to addr.
    path = os.environ.get(JWT_PATH_ENV) or K8S_JWT
    jwt = _read_jwt(path, what="auth=kubernetes cannot read the service account token")
    client_.auth.kubernetes.login(role=role, jwt=jwt, mount_point=mount)


def _jwt_login(client_: Any, role: str | None, mount: str, params: dict[str, str]) -> None:
    # A CI runner's or platform's OIDC token: from the environment, never the URI.
    jwt = os.environ.get(JWT_ENV, "").strip()
    if not jwt:
        token_path = os.environ.get(JWT_PATH_ENV)
        if not token_path:
            raise StoreAccessDeniedError(
                f"auth=jwt needs the token: set {JWT_ENV} to it, or {JWT_PATH_ENV} to the "
                "file that holds it"
            )
        jwt = _read_jwt(token_path, what="auth=jwt cannot read the token")
    if not role:
        raise StoreAccessDeniedError(
            "auth=jwt needs role=NAME in the URI (or BOX_SECRETS_VAULT_ROLE)"
        )
    client_.auth.jwt.jwt_login(role=role, jwt=jwt, path=mount)


def _aws_login(client_: Any, role: str | None, mount: str, params: dict[str, str]) -> None:
    boto3 = require("boto3")
    creds = boto3.Session().get_credentials()
    if creds is None:
        raise StoreAccessDeniedError("auth=aws found no AWS credentials in this environment")
    frozen = creds.get_frozen_credentials()
    client_.auth.aws.iam_login(
        frozen.access_key,
        frozen.secret_key,
        frozen.token,
        role=role,
        header_value=params.get("aws_header"),
        mount_point=mount,
    )


#: One login per auth method (``AUTH_METHODS``): (client, role, auth mount, URI parameters).
_LOGINS: dict[str, Callable[[Any, str | None, str, dict[str, str]], None]] = {
    "token": _token_login,
    "approle": _approle_login,
    "kubernetes": _kubernetes_login,
    "jwt": _jwt_login,
    "aws": _aws_login,
}


def _read_jwt(path: str, *, what: str) -> str:
    """A token file's text: a regular file of at most 64 KiB (the one bounded read)."""
    from box_secrets._support.files import FileRefused, read_limited

    try:
        data, _ = read_limited(path, _MAX_JWT_BYTES, what=what)
    except FileRefused as exc:
        why = (
            "it is not a regular file"
            if exc.reason == "not-regular"
            else ("it is larger than a token can be")
        )
        raise StoreAccessDeniedError(f"{what} at {path}: {why}") from None
    except OSError:
        raise StoreAccessDeniedError(f"{what} at {path}") from None
    try:
        return data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise StoreAccessDeniedError(f"{what} at {path}: it is not a token") from None


def _token_file() -> str | None:
    """``~/.vault-token`` as Vault's CLI writes it; None when absent or not a token file."""
    from box_secrets._support.files import FileRefused, read_limited

    try:
        data, _ = read_limited(os.path.expanduser("~/.vault-token"), _MAX_JWT_BYTES, what="")
        return data.decode("ascii").strip() or None
    except (OSError, FileRefused, UnicodeDecodeError):
        return None  # bounded: a link to /dev/zero is no token, and cannot hang the login
