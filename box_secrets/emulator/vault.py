"""A local stand-in for HashiCorp Vault's KV v2 engine and the auth methods box-secrets uses.

It reproduces the HTTP shapes of ``shared/reference/vault.md`` exactly, so
hvac behaves as it would against a real Vault: the success envelope, 204s,
``Content-Type: application/json`` with no charset, 404 bodies that differ for
a missing versus a deleted version, CAS messages, ``cas_required``,
``max_versions``, metadata, token checks answering 403, ``X-Vault-Namespace``,
a sealed mode answering 503, and fault injection.

Control routes under ``/_emulator/`` (unauthenticated, loopback only) create
tokens, auth roles and mounts, seal and unseal, and inject faults.
"""

from __future__ import annotations

import base64
import fnmatch
import secrets
import threading
import time
import uuid
from collections import Counter
from typing import Any
from urllib.parse import parse_qs

from ._httpd import EmulatorServer, Request, Response, ServedEmulator

__all__ = ["VaultEmulator", "VaultEmulatorState"]

CAS_MISMATCH = "check-and-set parameter did not match the current version"
CAS_REQUIRED = "check-and-set parameter required for this call"
DEFAULT_MAX_VERSIONS = 10


def _now_text(ts: float | None = None) -> str:
    ts = time.time() if ts is None else ts
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts))
    return f"{whole}.{int((ts % 1) * 1e9):09d}Z"


def _json(status: int, data: Any) -> Response:
    # hvac parses error bodies only when the header is exactly this string.
    return Response.json(status, data)


def _errors(status: int, *messages: str) -> Response:
    return _json(status, {"errors": list(messages)})


def _envelope(data: Any, *, auth: Any = None, mount_type: str | None = "kv") -> dict[str, Any]:
    out: dict[str, Any] = {
        "request_id": str(uuid.uuid4()),
        "lease_id": "",
        "renewable": False,
        "lease_duration": 0,
        "data": data,
        "wrap_info": None,
        "warnings": None,
        "auth": auth,
    }
    if mount_type is not None:
        out["mount_type"] = mount_type
    return out


class _Version:
    __slots__ = ("created", "data", "deleted", "destroyed")

    def __init__(self, data: dict[str, Any]) -> None:
        self.data: dict[str, Any] | None = data
        self.created = time.time()
        self.deleted: float | None = None
        self.destroyed = False

    def meta(self) -> dict[str, Any]:
        return {
            "created_time": _now_text(self.created),
            "deletion_time": _now_text(self.deleted) if self.deleted else "",
            "destroyed": self.destroyed,
        }


class _Secret:
    def __init__(self) -> None:
        self.versions: dict[int, _Version] = {}
        self.current = 0
        self.oldest = 0
        self.max_versions = 0  # 0: the mount's setting
        self.cas_required = False
        self.custom_metadata: dict[str, str] | None = None
        self.delete_version_after = "0s"
        self.created = time.time()
        self.updated = self.created

    def metadata(self, mount_max: int) -> dict[str, Any]:
        return {
            "cas_required": self.cas_required,
            "created_time": _now_text(self.created),
            "current_version": self.current,
            "custom_metadata": self.custom_metadata,
            "delete_version_after": self.delete_version_after,
            "max_versions": self.max_versions,
            "oldest_version": self.oldest,
            "updated_time": _now_text(self.updated),
            "versions": {str(n): v.meta() for n, v in sorted(self.versions.items())},
        }


class _Mount:
    def __init__(
        self, max_versions: int = DEFAULT_MAX_VERSIONS, cas_required: bool = False
    ) -> None:
        self.max_versions = max_versions
        self.cas_required = cas_required
        self.delete_version_after = "0s"
        # secrets per namespace: {namespace: {path: secret}}
        self.secrets: dict[str, dict[str, _Secret]] = {}


class _Token:
    __slots__ = ("policies", "root")

    def __init__(self, root: bool, policies: list[tuple[str, set[str]]]) -> None:
        self.root = root
        self.policies = policies

    def allows(self, path: str, capability: str) -> bool:
        if self.root:
            return True
        for pattern, caps in self.policies:
            if capability in caps and _path_matches(pattern, path):
                return True
        return False


def _path_matches(pattern: str, path: str) -> bool:
    # Vault globs: a trailing '*' is a prefix match, '+' one path segment.
    if "+" in pattern:
        regex_parts = pattern.split("/")
        path_parts = path.split("/")
        if not pattern.endswith("*") and len(regex_parts) != len(path_parts):
            return False
        for want, got in zip(regex_parts, path_parts, strict=False):
            if want == "+":
                continue
            if want.endswith("*"):
                return got.startswith(want[:-1])
            if want != got:
                return False
        return True
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return fnmatch.fnmatchcase(path, pattern) if "?" in pattern else path == pattern


class _Fault:
    __slots__ = ("path", "remaining", "status", "when")

    def __init__(self, status: int, count: int, path: str, when: str) -> None:
        self.status = status
        self.remaining = count
        self.path = path
        self.when = when


class VaultEmulatorState:
    def __init__(self, root_token: str | None = None) -> None:
        self.lock = threading.RLock()
        self.root_token = root_token or "root-" + secrets.token_hex(8)
        self.tokens: dict[str, _Token] = {self.root_token: _Token(True, [])}
        self.mounts: dict[str, _Mount] = {"secret": _Mount()}
        self.auth_roles: dict[tuple[str, str], dict[str, Any]] = {}  # (mount, role) -> spec
        self.sealed = False
        self.faults: list[_Fault] = []
        self.stats: Counter[str] = Counter()

    # -- helpers for control routes and tests ------------------------------------

    def new_token(self, policies: list[dict[str, Any]] | None = None, *, root: bool = False) -> str:
        rules = [(str(p["path"]), set(p.get("capabilities", []))) for p in (policies or [])]
        value = "hvs." + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[value] = _Token(root, rules)
        return value

    def handle(self, req: Request) -> Response:
        with self.lock:
            self.stats[f"{req.method} {req.path}"] += 1
        if req.path.startswith("/_emulator/"):
            return self._control(req)
        if not req.path.startswith("/v1/"):
            return _errors(404, "not found")
        path = req.path[4:]
        fault = self._take_fault(path)
        if fault is not None and fault.when == "before":
            return _errors(fault.status, _FAULT_TEXT.get(fault.status, "injected fault"))
        response = self._v1(req, path)
        if fault is not None:
            return _errors(fault.status, _FAULT_TEXT.get(fault.status, "injected fault"))
        return response

    def _take_fault(self, path: str) -> _Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.remaining > 0 and path.startswith(fault.path):
                    fault.remaining -= 1
                    return fault
            self.faults = [f for f in self.faults if f.remaining > 0]
        return None

    # -- /v1 -----------------------------------------------------------------------------

    def _v1(self, req: Request, path: str) -> Response:
        method = req.method
        if req.query and "list=true" in req.query and method == "GET":
            method = "LIST"
        if path == "sys/health":
            status = 503 if self.sealed else 200
            return _json(
                status,
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
        if self.sealed:
            return _errors(503, "Vault is sealed")
        if path.startswith("auth/") and path.endswith("/login") and method in ("POST", "PUT"):
            return self._login(path[5:-6], req)
        token = self.tokens.get(req.headers.get("x-vault-token", ""))
        if token is None:
            return _errors(403, "permission denied")
        if path == "auth/token/lookup-self":
            return _json(
                200,
                _envelope(
                    {
                        "policies": ["root"] if token.root else ["default"],
                        "ttl": 0,
                        "renewable": False,
                    },
                    mount_type="token",
                ),
            )
        mount_name, _, rest = path.partition("/")
        mount = self.mounts.get(mount_name)
        if mount is None:
            return _errors(404, f'no handler for route "{path}". route entry not found.')
        namespace = req.headers.get("x-vault-namespace", "").strip("/")
        store = mount.secrets.setdefault(namespace, {})
        op, _, key = rest.partition("/")
        try:
            body = req.json() if req.body else {}
        except ValueError:
            return _errors(400, "failed to parse JSON input")
        if not isinstance(body, dict):
            return _errors(400, "failed to parse JSON input")
        with self.lock:
            return self._kv(
                token,
                mount_name=mount_name,
                mount=mount,
                store=store,
                op=op,
                key=key,
                method=method,
                req=req,
                body=body,
            )

    def _kv(
        self,
        token: _Token,
        *,
        mount_name: str,
        mount: _Mount,
        store: dict[str, _Secret],
        op: str,
        key: str,
        method: str,
        req: Request,
        body: dict[str, Any],
    ) -> Response:
        full = f"{mount_name}/{op}/{key}" if key else f"{mount_name}/{op}"

        def deny() -> Response:
            return _errors(403, "1 error occurred:\n\t* permission denied\n\n")

        if op == "config":
            if method == "GET":
                if not token.allows(full, "read"):
                    return deny()
                return _json(
                    200,
                    _envelope(
                        {
                            "max_versions": mount.max_versions,
                            "cas_required": mount.cas_required,
                            "delete_version_after": mount.delete_version_after,
                        }
                    ),
                )
            if method in ("POST", "PUT"):
                if not token.allows(full, "update"):
                    return deny()
                if "max_versions" in body:
                    mount.max_versions = int(body["max_versions"])
                if "cas_required" in body:
                    mount.cas_required = bool(body["cas_required"])
                return Response(204)
        if not key:
            return _errors(404, f'no handler for route "{full}". route entry not found.')
        secret = store.get(key)
        if op == "data":
            if method == "GET":
                if not token.allows(full, "read"):
                    return deny()
                return self._read(mount, secret, req)
            if method in ("POST", "PUT"):
                if not token.allows(full, "update" if secret and secret.current else "create"):
                    return deny()
                return self._write(mount, store, key, secret, body)
            if method == "DELETE":
                if not token.allows(full, "delete"):
                    return deny()
                if secret is not None and secret.current in secret.versions:
                    v = secret.versions[secret.current]
                    if not v.destroyed and v.deleted is None:
                        v.deleted = time.time()
                return Response(204)
        if op in ("delete", "undelete", "destroy") and method in ("POST", "PUT"):
            if not token.allows(full, "update"):
                return deny()
            versions = body.get("versions")
            if not isinstance(versions, list) or not versions:
                return _errors(400, "no version number provided")
            if secret is not None:
                for n in versions:
                    found = secret.versions.get(int(n))
                    if found is None:
                        continue
                    if op == "delete" and not found.destroyed and found.deleted is None:
                        found.deleted = time.time()
                    elif op == "undelete" and not found.destroyed:
                        found.deleted = None
                    elif op == "destroy":
                        found.destroyed = True
                        found.data = None
                secret.updated = time.time()
            return Response(204)
        if op == "metadata":
            if method == "GET":
                if not token.allows(full, "read"):
                    return deny()
                if secret is None:
                    return _errors(404)
                return _json(200, _envelope(secret.metadata(mount.max_versions)))
            if method == "LIST":
                if not token.allows(full, "list"):
                    return deny()
                prefix = key.rstrip("/") + "/"
                names = sorted(
                    {
                        k[len(prefix) :].split("/")[0] + ("/" if "/" in k[len(prefix) :] else "")
                        for k in store
                        if k.startswith(prefix)
                    }
                )
                if not names:
                    return _errors(404)
                return _json(200, _envelope({"keys": names}))
            if method in ("POST", "PUT"):
                if not token.allows(full, "update" if secret else "create"):
                    return deny()
                if secret is None:
                    secret = store[key] = _Secret()
                if "max_versions" in body:
                    secret.max_versions = int(body["max_versions"])
                    self._prune(mount, secret)
                if "cas_required" in body:
                    secret.cas_required = bool(body["cas_required"])
                if "custom_metadata" in body:
                    secret.custom_metadata = body["custom_metadata"]
                if "delete_version_after" in body:
                    secret.delete_version_after = str(body["delete_version_after"])
                secret.updated = time.time()
                return Response(204)
            if method == "DELETE":
                if not token.allows(full, "delete"):
                    return deny()
                store.pop(key, None)
                return Response(204)
        return _errors(405, "unsupported operation")

    def _read(self, mount: _Mount, secret: _Secret | None, req: Request) -> Response:
        if secret is None or not secret.versions:
            return _errors(404)
        query = parse_qs(req.query)
        try:
            wanted = int(query.get("version", ["0"])[0])
        except ValueError:
            return _errors(400, "invalid version")
        number = wanted or secret.current
        version = secret.versions.get(number)
        if version is None:
            return _errors(404)
        meta = {**version.meta(), "custom_metadata": secret.custom_metadata, "version": number}
        if version.destroyed or version.deleted is not None:
            # A deleted or destroyed version: 404 whose body is the whole envelope.
            return _json(404, _envelope({"data": None, "metadata": meta}))
        return _json(200, _envelope({"data": version.data, "metadata": meta}))

    def _write(
        self,
        mount: _Mount,
        store: dict[str, _Secret],
        key: str,
        secret: _Secret | None,
        body: dict[str, Any],
    ) -> Response:
        data = body.get("data")
        if not isinstance(data, dict):
            return _errors(400, "no data provided")
        options = body.get("options") or {}
        cas = options.get("cas") if isinstance(options, dict) else None
        required = mount.cas_required or (secret is not None and secret.cas_required)
        if cas is None and required:
            return _errors(400, CAS_REQUIRED)
        if cas is not None:
            current = secret.current if secret is not None else 0
            if int(cas) != current:
                return _errors(400, CAS_MISMATCH)
        if secret is None:
            secret = store[key] = _Secret()
        secret.current += 1
        secret.versions[secret.current] = _Version(data)
        if secret.oldest == 0:
            secret.oldest = secret.current
        secret.updated = time.time()
        self._prune(mount, secret)
        v = secret.versions[secret.current]
        return _json(
            200,
            _envelope(
                {**v.meta(), "custom_metadata": secret.custom_metadata, "version": secret.current}
            ),
        )

    @staticmethod
    def _prune(mount: _Mount, secret: _Secret) -> None:
        limit = secret.max_versions or mount.max_versions or DEFAULT_MAX_VERSIONS
        while len(secret.versions) > limit:
            oldest = min(secret.versions)
            del secret.versions[oldest]
        if secret.versions:
            secret.oldest = min(secret.versions)

    def _login(self, mount: str, req: Request) -> Response:
        try:
            body = req.json()
        except ValueError:
            return _errors(400, "failed to parse JSON input")
        if not isinstance(body, dict):
            return _errors(400, "failed to parse JSON input")
        with self.lock:
            kind = next(
                (spec["kind"] for (m, _), spec in self.auth_roles.items() if m == mount), None
            )
            if kind is None:
                return _errors(403, "permission denied")
            spec: dict[str, Any] | None = None
            if kind == "approle":
                spec = next(
                    (
                        s
                        for (m, _), s in self.auth_roles.items()
                        if m == mount and s["role_id"] == body.get("role_id")
                    ),
                    None,
                )
                if spec is None:
                    return _errors(400, "invalid role ID")
                if not secrets.compare_digest(
                    str(spec["secret_id"]), str(body.get("secret_id", ""))
                ):
                    return _errors(400, "invalid secret id")
            elif kind == "kubernetes":
                spec = self.auth_roles.get((mount, str(body.get("role", ""))))
                if spec is None:
                    return _errors(400, f'invalid role name "{body.get("role", "")}"')
                if not secrets.compare_digest(str(spec["jwt"]), str(body.get("jwt", ""))):
                    return _errors(403, "permission denied")
            elif kind == "aws":
                spec = self.auth_roles.get((mount, str(body.get("role", ""))))
                if spec is None:
                    return _errors(400, f"entry for role {body.get('role', '')} not found")
                # STS cannot be reached here: check the signed request's shape instead.
                try:
                    signed = base64.b64decode(str(body.get("iam_request_body", ""))).decode()
                    headers = base64.b64decode(str(body.get("iam_request_headers", ""))).decode()
                except ValueError:
                    return _errors(400, "error parsing iam_request_body")
                if (
                    body.get("iam_http_request_method") != "POST"
                    or "GetCallerIdentity" not in signed
                ):
                    return _errors(400, "iam_http_request_method must be POST to GetCallerIdentity")
                if "AWS4-HMAC-SHA256" not in headers:
                    return _errors(400, "the request is not signed with SigV4")
                if spec.get("server_id") and spec["server_id"] not in headers:
                    return _errors(400, "missing or invalid X-Vault-AWS-IAM-Server-ID header")
            assert spec is not None
            token = self.new_token(spec.get("policies"))
        return _json(
            200,
            _envelope(
                None,
                mount_type=None,
                auth={
                    "client_token": token,
                    "accessor": secrets.token_hex(12),
                    "policies": ["default"],
                    "token_policies": ["default"],
                    "lease_duration": 3600,
                    "renewable": True,
                },
            ),
        )

    # -- /_emulator control routes ----------------------------------------------------------

    def _control(self, req: Request) -> Response:
        try:
            body = req.json()
        except ValueError:
            return _errors(400, "body is not JSON")
        if not isinstance(body, dict):
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
                self.mounts[name] = _Mount(
                    int(body.get("max_versions", DEFAULT_MAX_VERSIONS)),
                    bool(body.get("cas_required", False)),
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
                status = body.get("status")
                if status not in (403, 429, 500, 502, 503):
                    return _errors(400, "status must be 403, 429, 500, 502 or 503")
                self.faults.append(
                    _Fault(
                        int(status),
                        int(body.get("count", 1)),
                        str(body.get("path", "")),
                        str(body.get("when", "before")),
                    )
                )
                return Response(204)
            if route == "stats" and req.method == "GET":
                return _json(200, dict(self.stats))
        return _errors(404, f"no control route {req.method} {req.path}")


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
        super().__init__(EmulatorServer((host, port), self.state.handle, time.time))

    @property
    def addr(self) -> str:
        return self.base_url

    @property
    def root_token(self) -> str:
        return self.state.root_token
