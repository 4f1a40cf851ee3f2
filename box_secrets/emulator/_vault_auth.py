"""The Vault emulator's login methods: AppRole, Kubernetes and AWS IAM.

Each checks what Vault checks that can be checked offline: AppRole's role
and secret IDs, the Kubernetes service-account JWT, and the shape of the
signed STS ``GetCallerIdentity`` request (STS itself cannot be called here,
so the signature is not verified: a documented gap). See
https://developer.hashicorp.com/vault/api-docs/auth/approle,
.../auth/kubernetes and .../auth/aws.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Callable
from typing import Any, Protocol

from box_secrets.emulator._httpd import Request, Response, json_object
from box_secrets.emulator._vault_http import envelope as _envelope
from box_secrets.emulator._vault_http import errors as _errors
from box_secrets.emulator._vault_http import json_response as _json

__all__ = ["LoginState", "login"]


class LoginState(Protocol):
    """What a login needs of the Vault emulator's state (its roles, its tokens)."""

    lock: threading.RLock
    auth_roles: dict[tuple[str, str], dict[str, Any]]
    tokens: dict[str, Any]

    def new_token(self, policies: list[dict[str, Any]] | None = None) -> str: ...


def login(state: LoginState, mount: str, req: Request) -> Response:
    """``POST auth/<mount>/login`` for AppRole, Kubernetes and AWS IAM roles."""
    body = json_object(req)
    if body is None:
        return _errors(400, "failed to parse JSON input")
    with state.lock:
        kind = next((spec["kind"] for (m, _), spec in state.auth_roles.items() if m == mount), None)
        if kind is None:
            return _errors(403, "permission denied")
        found = _CHECKS[kind](state, mount, body)
        if isinstance(found, Response):
            return found
        token = state.new_token(found.get("policies"))
        accessor = state.tokens[token].accessor
    # The login answer's auth block (sdk/logical/auth.go Auth, as http/logical.go
    # respondLogical writes it); metadata carries the role name for AppRole.
    auth = {
        "client_token": token,
        "accessor": accessor,
        "policies": ["default"],
        "token_policies": ["default"],
        "metadata": {"role_name": str(found.get("role") or "")},
        "lease_duration": 3600,
        "renewable": True,
        "entity_id": "",
        "token_type": "service",
        "orphan": True,
        "mfa_requirement": None,
        "num_uses": 0,
    }
    return _json(200, _envelope(None, mount_type=None, auth=auth))


_Spec = dict[str, Any]


def _approle(state: LoginState, mount: str, body: dict[str, Any]) -> _Spec | Response:
    spec = next(
        (
            s
            for (m, _), s in state.auth_roles.items()
            if m == mount and s["role_id"] == body.get("role_id")
        ),
        None,
    )
    # builtin/credential/approle/path_login.go: one answer for either wrong ID,
    # so a caller cannot learn which half was right.
    if spec is None or not secrets.compare_digest(
        str(spec["secret_id"]), str(body.get("secret_id", ""))
    ):
        return _errors(400, "invalid role or secret ID")
    return spec


def _kubernetes(state: LoginState, mount: str, body: dict[str, Any]) -> _Spec | Response:
    spec = state.auth_roles.get((mount, str(body.get("role", ""))))
    if spec is None:
        return _errors(400, f'invalid role name "{body.get("role", "")}"')
    if not secrets.compare_digest(str(spec["jwt"]), str(body.get("jwt", ""))):
        return _errors(403, "permission denied")
    return spec


def _aws(state: LoginState, mount: str, body: dict[str, Any]) -> _Spec | Response:
    spec = state.auth_roles.get((mount, str(body.get("role", ""))))
    if spec is None:
        return _errors(400, f"entry for role {body.get('role', '')} not found")
    # STS cannot be reached here: check the signed request's shape instead.
    try:
        signed = base64.b64decode(str(body.get("iam_request_body", ""))).decode()
        headers = base64.b64decode(str(body.get("iam_request_headers", ""))).decode()
    except ValueError:
        return _errors(400, "error parsing iam_request_body")
    if body.get("iam_http_request_method") != "POST" or "GetCallerIdentity" not in signed:
        return _errors(400, "iam_http_request_method must be POST to GetCallerIdentity")
    if "AWS4-HMAC-SHA256" not in headers:
        return _errors(400, "the request is not signed with SigV4")
    if spec.get("server_id") and spec["server_id"] not in headers:
        return _errors(400, "missing or invalid X-Vault-AWS-IAM-Server-ID header")
    return spec


#: Each login method's own check of the credentials it was sent: the role's spec, or the answer.
_CHECKS: dict[str, Callable[[LoginState, str, dict[str, Any]], _Spec | Response]] = {
    "approle": _approle,
    "kubernetes": _kubernetes,
    "aws": _aws,
}
