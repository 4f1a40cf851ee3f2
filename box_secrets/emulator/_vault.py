"""A local stand-in for HashiCorp Vault's KV v2 and Transit engines and the auth methods
box-secrets uses.

It reproduces the HTTP shapes of Vault's API documentation
(https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2) and source
(github.com/hashicorp/vault, github.com/hashicorp/vault-plugin-secrets-kv;
the KV rules, each citing its file, are in ``_vault_kv.py``), so hvac behaves
as it would against a real Vault: the success envelope, 204s,
``Content-Type: application/json`` with no charset, 404 bodies that differ for
a missing versus a deleted version, CAS messages, ``cas_required``,
``max_versions``, metadata, token checks answering 403, ``X-Vault-Namespace``,
a sealed mode answering 503, and fault injection. Transit mounts (``_vault_transit.py``)
serve the signing calls a Transit signer makes.

Control routes under ``/_emulator/`` (unauthenticated, loopback only) create
tokens, auth roles and mounts, seal and unseal, and inject faults.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections import Counter
from typing import Any

from box_secrets.emulator._httpd import (
    EmulatorServer,
    Fault,
    FaultQueue,
    Request,
    Response,
    ServedEmulator,
    json_object,
)
from box_secrets.emulator._vault_auth import login
from box_secrets.emulator._vault_http import envelope as _envelope
from box_secrets.emulator._vault_http import errors as _errors
from box_secrets.emulator._vault_http import json_response as _json
from box_secrets.emulator._vault_kv import KVMount, handle_kv
from box_secrets.emulator._vault_token import CAPABILITIES, Token
from box_secrets.emulator._vault_transit import TransitMount, handle_transit

__all__ = ["VaultEmulator", "VaultEmulatorState"]


class VaultEmulatorState:
    def __init__(self, root_token: str | None = None) -> None:
        self.lock = threading.RLock()
        self.root_token = root_token or "root-" + secrets.token_hex(8)
        self.tokens: dict[str, Token] = {self.root_token: Token(True, [])}
        self.mounts: dict[str, KVMount] = {"secret": KVMount()}
        self.transit: dict[str, TransitMount] = {}
        self.auth_roles: dict[tuple[str, str], dict[str, Any]] = {}  # (mount, role) -> spec
        self.sealed = False
        self.faults: FaultQueue[Fault] = FaultQueue()
        self.stats: Counter[str] = Counter()

    # -- helpers for control routes and tests ------------------------------------

    def new_token(self, policies: list[dict[str, Any]] | None = None, *, root: bool = False) -> str:
        rules = [(str(p["path"]), set(p.get("capabilities", []))) for p in (policies or [])]
        value = "hvs." + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[value] = Token(root, rules)
        return value

    def handle(self, req: Request) -> Response:
        with self.lock:
            self.stats[f"{req.method} {req.path}"] += 1
        if req.path.startswith("/_emulator/"):
            return self._control(req)
        if not req.path.startswith("/v1/"):
            return _errors(404, "not found")
        path = req.path[4:]
        fault = self.faults.take(path)
        if fault is not None and fault.when == "before":
            return _errors(fault.status, _FAULT_TEXT.get(fault.status, "injected fault"))
        response = self._v1(req, path)
        if fault is not None:
            return _errors(fault.status, _FAULT_TEXT.get(fault.status, "injected fault"))
        return response

    # -- /v1 -----------------------------------------------------------------------------

    def _v1(self, req: Request, path: str) -> Response:
        """``/v1/<path>``: status routes, logins, then token routes, then the mounts."""
        method = req.method
        if req.query and "list=true" in req.query and method == "GET":
            method = "LIST"
        answer = self._status(path)
        if answer is not None:
            return answer
        if self.sealed:
            return _errors(503, "Vault is sealed")
        if path.startswith("auth/") and path.endswith("/login") and method in ("POST", "PUT"):
            return login(self, path[5:-6], req)
        token_id = _token_of(req)
        token = self.tokens.get(token_id)
        if token is None:
            return _errors(403, "permission denied")
        if path == "auth/token/revoke-self" and method in ("POST", "PUT"):
            # https://developer.hashicorp.com/vault/api-docs/auth/token#revoke-a-token-self
            with self.lock:
                self.tokens.pop(token_id, None)
            return Response(204)
        if path == "auth/token/lookup-self":
            return _json(200, _envelope(token.lookup(token_id), mount_type="token"))
        if method in ("POST", "PUT", "PATCH") and path.endswith("/"):
            # vault/request_handling.go handleCancelableRequest: a write to a directory.
            return _errors(400, "cannot write to a path ending in '/'")
        # vault/request_handling.go: the ACL is checked before the request is routed,
        # so a token without access gets 403 even for a path nothing is mounted at.
        if not token.root and not any(
            token.allows(path, cap) for cap in CAPABILITIES.get(method, ())
        ):
            return _errors(403, "1 error occurred:\n\t* permission denied\n\n")
        return self._mounted(req, path, method, token)

    def _status(self, path: str) -> Response | None:
        """``sys/health`` and ``sys/seal-status``: answered without a token, sealed or not."""
        if path == "sys/health":
            return _json(
                503 if self.sealed else 200,
                {
                    "initialized": True,
                    "sealed": self.sealed,
                    "standby": False,
                    "version": "1.17.0-emulator",
                    "server_time_utc": int(time.time()),
                },
            )
        if path == "sys/seal-status":
            return _json(
                200,
                {
                    "type": "shamir",
                    "initialized": True,
                    "sealed": self.sealed,
                    "t": 1,
                    "n": 1,
                    "progress": 0,
                    "version": "1.17.0-emulator",
                },
            )
        return None

    def _mounted(self, req: Request, path: str, method: str, token: Token) -> Response:
        """What a token may reach: sys mount reads, then the Transit and KV mounts."""
        if path.startswith("sys/internal/ui/mounts/"):
            return self._ui_mount(path[len("sys/internal/ui/mounts/") :])
        if path.startswith("sys/mounts/") and method == "GET":
            return self._mount_read(path[len("sys/mounts/") :])
        mount_name, _, rest = path.partition("/")
        namespace = req.headers.get("x-vault-namespace", "").strip("/")
        transit = self.transit.get(mount_name)
        if transit is not None:
            # Outside the state lock: RSA key generation and signing take milliseconds.
            return handle_transit(req, mount=transit, namespace=namespace, rest=rest)
        mount = self.mounts.get(mount_name)
        if mount is None:
            return _errors(404, f'no handler for route "{path}". route entry not found.')
        with self.lock:
            return handle_kv(
                token.allows,
                req,
                mount_name=mount_name,
                mount=mount,
                namespace=namespace,
                rest=rest,
            )

    def _mount_info(self, mount_name: str) -> dict[str, Any]:
        """A KV mount as vault/logical_system.go mountInfo describes it."""
        return {
            "type": "kv",
            "description": "key/value secret storage",
            "accessor": f"kv_{abs(hash(mount_name)) % 16**8:08x}",
            "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"kv/{mount_name}")),
            "options": {"version": "2"},
            "config": {"default_lease_ttl": 0, "max_lease_ttl": 0, "force_no_cache": False},
            "local": False,
            "seal_wrap": False,
            "external_entropy_access": False,
            "plugin_version": "",
            "running_plugin_version": "v0.25.0+builtin",
            "running_sha256": "",
            "deprecation_status": "supported",
        }

    def _ui_mount(self, target: str) -> Response:
        """What the Vault CLI asks to learn a path's KV version (``vault kv get`` preflight).

        vault/logical_system.go pathInternalUIMountRead: the mount's info; for a
        path no mount serves, a 403 with the "preflight capability check" text.
        """
        mount_name = target.strip("/").split("/")[0]
        if mount_name not in self.mounts:
            path = target.strip("/") + "/"
            return _errors(
                403,
                "preflight capability check returned 403, please ensure client's policies "
                f'grant access to path "{path}"',
            )
        info = {**self._mount_info(mount_name), "path": f"{mount_name}/"}
        return _json(200, _envelope(info, mount_type="system"))

    def _mount_read(self, target: str) -> Response:
        """``GET sys/mounts/<path>`` (vault/logical_system.go handleReadMount).

        Vault's sys routes put the data at the top level of the answer as well
        (http/sys_mount.go kept that legacy shape for these routes).
        """
        mount_name = target.strip("/")
        if mount_name not in self.mounts:
            return _errors(400, f"No secret engine mount at {mount_name}/")
        info = self._mount_info(mount_name)
        return _json(200, {**info, **_envelope(info, mount_type="system")})

    # -- /_emulator control routes ----------------------------------------------------------

    def _control(self, req: Request) -> Response:
        body = json_object(req)
        if body is None:
            return _errors(400, "body must be a JSON object")
        route = req.path[len("/_emulator/") :]
        with self.lock:
            if route == "tokens" and req.method == "POST":
                return _json(
                    201,
                    {"token": self.new_token(body.get("policies"), root=bool(body.get("root")))},
                )
            if route == "seal" and req.method == "POST":
                self.sealed = True
                return Response(204)
            if route == "unseal" and req.method == "POST":
                self.sealed = False
                return Response(204)
            if route == "mounts" and req.method == "POST":
                name = str(body.get("path", "")).strip("/")
                if not name or "/" in name:
                    return _errors(400, "path must be one segment")
                kind = body.get("type", "kv")
                if kind not in ("kv", "transit"):
                    return _errors(400, "type must be kv or transit")
                if name in self.mounts or name in self.transit:
                    return _errors(400, f"path is already in use at {name}/")
                if kind == "transit":
                    self.transit[name] = TransitMount()
                    return Response(204)
                self.mounts[name] = KVMount(
                    int(body.get("max_versions", 0)), bool(body.get("cas_required", False))
                )
                return Response(204)
            if route in ("approle", "kubernetes", "aws") and req.method == "POST":
                mount = str(body.get("mount", route))
                role = str(body.get("role") or body.get("role_id") or "")
                if not role:
                    return _errors(400, "role (or role_id) is required")
                self.auth_roles[(mount, role)] = {**body, "kind": route}
                return Response(204)
            if route == "faults" and req.method == "POST":
                status, count = body.get("status"), body.get("count", 1)
                if status not in (403, 429, 500, 502, 503):
                    return _errors(400, "status must be 403, 429, 500, 502 or 503")
                if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                    return _errors(400, "count must be a positive integer")
                when = body.get("when", "before")
                if when not in ("before", "after"):
                    return _errors(400, "when must be 'before' or 'after'")
                self.faults.add(Fault(int(status), count, str(body.get("path", "")), when))
                return Response(204)
            if route == "stats" and req.method == "GET":
                return _json(200, dict(self.stats))
        return _errors(404, f"no control route {req.method} {req.path}")


def _token_of(req: Request) -> str:
    """The request's token: ``X-Vault-Token``, else ``Authorization: Bearer`` (http/handler.go)."""
    token = req.headers.get("x-vault-token", "")
    if token:
        return token
    scheme, _, value = req.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


_FAULT_TEXT = {
    403: "permission denied",
    429: 'request path "": rate limit quota exceeded',
    500: "internal error",
    502: "bad gateway",
    503: "Vault is sealed",
}


class VaultEmulator(ServedEmulator):
    """The Vault emulator as a server; ``root_token`` authenticates everything."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, root_token: str | None = None
    ) -> None:
        self.state = VaultEmulatorState(root_token)
        super().__init__(
            EmulatorServer(
                (host, port),
                self.state.handle,
                time.time,
                control_prefixes=("/_emulator/",),
                error_body=_errors,
            )
        )

    @property
    def addr(self) -> str:
        return self.base_url

    def mount_transit(self, path: str = "transit") -> None:
        """Enable a Transit engine at ``path`` (like ``vault secrets enable transit``)."""
        with self.state.lock:
            self.state.transit.setdefault(path, TransitMount())

    @property
    def root_token(self) -> str:
        return self.state.root_token
