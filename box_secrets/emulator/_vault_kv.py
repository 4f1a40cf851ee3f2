"""Vault's KV version 2 secrets engine, as the Vault emulator serves it.

Each rule cites the file of Vault's source it follows:
github.com/hashicorp/vault-plugin-secrets-kv (``path_data.go``,
``path_metadata.go``, ``path_config.go``, ``path_delete.go``,
``path_destroy.go``, ``backend.go``) and github.com/hashicorp/vault
(``vault/request_handling.go``, ``http/logical.go``). Where the source leaves a
detail open, the comment says so and the stricter behaviour is chosen.
"""

from __future__ import annotations

import re
from typing import Any

from box_secrets.emulator._httpd import Request, Response, json_object
from box_secrets.emulator._vault_http import deny as _deny
from box_secrets.emulator._vault_http import envelope
from box_secrets.emulator._vault_http import errors as _errors
from box_secrets.emulator._vault_http import json_response as _json
from box_secrets.emulator._vault_kv_call import _Call
from box_secrets.emulator._vault_kv_metadata import metadata
from box_secrets.emulator._vault_kv_state import (
    CAS_MISMATCH,
    CAS_REQUIRED,
    CAS_UNPARSABLE,
    MERGE_PATCH,
    Allows,
    KVMount,
    Secret,
    Version,
    go_duration,
    merge_patch,
    parse_duration,
    uint,
)

__all__ = ["KVMount", "handle_kv"]

# -- routing ------------------------------------------------------------------------------


def handle_kv(
    allows: Allows, req: Request, *, mount_name: str, mount: KVMount, namespace: str, rest: str
) -> Response:
    """Serve one request below ``/v1/<mount_name>/`` (``rest`` is what follows)."""
    method = req.method
    if method == "GET" and "list=true" in req.query.split("&"):
        method = "LIST"
    op, _, key = rest.partition("/")
    call = _Call(
        allows,
        req,
        mount=mount,
        namespace=namespace,
        full=f"{mount_name}/{rest}",
        key=key,
        method=method,
    )
    if method == "PATCH":
        # http/logical.go: PATCH needs the JSON merge patch media type.
        ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != MERGE_PATCH:
            return _errors(415, f"PATCH requires Content-Type {MERGE_PATCH}")
    body = json_object(req)
    if body is None:
        return _errors(400, "failed to parse JSON input")
    call.body = body
    if rest == "config":
        return _config(call)
    if op == "metadata" and (key or method == "LIST"):
        return metadata(call)
    if op == "data" and key and not key.endswith("/"):
        return _data(call)
    if op in ("delete", "undelete", "destroy") and key:
        if method not in ("POST", "PUT"):
            # path_delete.go, path_destroy.go: only UpdateOperation is routed.
            return _errors(405, "1 error occurred:\n\t* unsupported operation\n\n")
        return _versions(call, op)
    return _invalid_path(method)


def _invalid_path(method: str) -> Response:
    # backend.go pathInvalid: any other path, v1 style included, is a 404 with a warning.
    sub = {"POST": "put", "PUT": "put", "GET": "get", "LIST": "list", "DELETE": "delete"}.get(
        method
    )
    if sub is None:
        return _errors(405, "unsupported operation")
    warning = (
        "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate "
        f"API endpoints to use. If using the Vault CLI, use 'vault kv {sub}' for this operation."
    )
    data = envelope(None, warnings=[warning])
    data.pop("mount_type")
    return _json(404, data)


def _config(call: _Call) -> Response:
    # path_config.go
    allows, full, mount, method, body = call.allows, call.full, call.mount, call.method, call.body
    if method == "GET":
        if not allows(full, "read"):
            return _deny()
        return _json(
            200,
            envelope(
                {
                    "max_versions": mount.max_versions,
                    "cas_required": mount.cas_required,
                    "delete_version_after": go_duration(mount.delete_version_after),
                }
            ),
        )
    if method in ("POST", "PUT"):
        if not allows(full, "update"):
            return _deny()
        if "max_versions" in body:
            value = uint(body["max_versions"])
            if value is None:
                return _errors(400, "max_versions must be a non-negative number")
            mount.max_versions = value
        if "cas_required" in body:
            mount.cas_required = bool(body["cas_required"])
        if "delete_version_after" in body:
            seconds = parse_duration(body["delete_version_after"])
            if seconds is None or seconds < 0:
                return _errors(400, "delete_version_after must be a non-negative duration")
            mount.delete_version_after = seconds
        return Response(204)
    return _errors(405, "unsupported operation")


def _cas(options: Any) -> tuple[bool, int | None, str | None]:
    """(given, value, error) for ``options.cas``, decoded weakly as mapstructure does."""
    if not isinstance(options, dict) or "cas" not in options:
        return False, None, None
    raw = options["cas"]
    if isinstance(raw, bool):
        return True, int(raw), None
    if isinstance(raw, int):
        return True, raw, None
    if isinstance(raw, float) and raw.is_integer():
        return True, int(raw), None
    if isinstance(raw, str) and re.fullmatch(r"-?\d+", raw.strip() or "x"):
        return True, int(raw), None
    return True, None, CAS_UNPARSABLE  # path_data.go validateCheckAndSetOption


def _check_cas(mount: KVMount, secret: Secret | None, body: dict[str, Any]) -> Response | None:
    given, value, error = _cas(body.get("options"))
    if error is not None:
        return _errors(400, error)
    current = secret.current if secret is not None else 0
    if given:
        if value != current:
            return _errors(400, CAS_MISMATCH)
    elif mount.cas_required or (secret is not None and secret.cas_required):
        return _errors(400, CAS_REQUIRED)
    return None


def _version_response(secret: Secret, version: Version) -> Response:
    return _json(
        200,
        envelope(
            {
                **version.meta(),
                "custom_metadata": secret.custom_metadata,
                "version": secret.current,
            }
        ),
    )


def _data(call: _Call) -> Response:
    allows, full, mount, method, body, now = (
        call.allows, call.full, call.mount, call.method, call.body, call.now
    )  # fmt: skip
    secret = call.secret
    if method == "GET":
        if not allows(full, "read"):
            return _deny()
        return _read(secret, call.req, now)
    if method in ("POST", "PUT"):
        # The existence check makes a write to an existing key an update, else a create.
        if not allows(full, "update" if secret is not None else "create"):
            return _deny()
        data = body.get("data")
        if not isinstance(data, dict):
            return _errors(400, "no data provided")
        refusal = _check_cas(mount, secret, body)
        if refusal is not None:
            return refusal
        if secret is None:
            secret = call.store[call.key] = Secret(now)
        return _version_response(secret, secret.add_version(data, mount, now))
    if method == "PATCH":
        if not allows(full, "patch"):
            return _deny()
        patch = body.get("data")
        if not isinstance(patch, dict):
            return _errors(400, "no data provided")
        if secret is None or secret.current not in secret.versions:
            return _errors(404)
        refusal = _check_cas(mount, secret, body)
        if refusal is not None:
            return refusal
        latest = secret.versions[secret.current]
        if latest.destroyed or latest.deleted(now) or latest.data is None:
            # path_data.go pathDataPatch: 404 carrying the version's metadata.
            meta = {**latest.meta(), "custom_metadata": secret.custom_metadata}
            return _json(404, envelope({**meta, "version": secret.current}))
        merged = merge_patch(latest.data, patch)
        return _version_response(secret, secret.add_version(merged, mount, now))
    if method == "DELETE":
        if not allows(full, "delete"):
            return _deny()
        # path_data.go pathDataDelete: soft-delete the latest version, if live.
        if secret is not None and secret.current in secret.versions:
            latest = secret.versions[secret.current]
            if not latest.destroyed and not latest.deleted(now):
                latest.deletion = now
        return Response(204)
    return _errors(405, "unsupported operation")


def _read(secret: Secret | None, req: Request, now: float) -> Response:
    # path_data.go pathDataRead
    if secret is None:
        return _errors(404)
    query = dict(p.partition("=")[::2] for p in req.query.split("&") if p)
    try:
        wanted = int(query.get("version", "0") or "0")
    except ValueError:
        return _errors(400, 'error converting input for field "version"')
    number = wanted if wanted > 0 else secret.current
    version = secret.versions.get(number)
    if version is None:
        return _errors(404)
    meta = {**version.meta(), "custom_metadata": secret.custom_metadata, "version": number}
    if version.destroyed or version.deleted(now):
        # A deleted or destroyed version: 404 whose body is the whole envelope.
        return _json(404, envelope({"data": None, "metadata": meta}))
    return _json(200, envelope({"data": version.data, "metadata": meta}))


def _version_numbers(body: dict[str, Any]) -> list[int] | None:
    # TypeCommaIntSlice: a list of numbers, or "1,2" as one string.
    raw = body.get("versions")
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        return None
    numbers: list[int] = []
    for item in items:
        if isinstance(item, bool):
            return None
        try:
            numbers.append(int(str(item).strip()))
        except ValueError:
            return None
    return numbers


def _versions(call: _Call, op: str) -> Response:
    # path_delete.go (delete, undelete) and path_destroy.go
    if not call.allows(call.full, "update"):
        return _deny()
    secret, now = call.secret, call.now
    numbers = _version_numbers(call.body)
    if numbers is None:
        # path_delete.go words it with a capital, path_destroy.go without.
        text = "no version number provided" if op == "destroy" else "No version number provided"
        return _errors(400, text)
    if secret is not None:
        for n in numbers:
            found = secret.versions.get(n)
            if found is None:
                continue
            if op == "delete" and not found.destroyed and not found.deleted(now):
                found.deletion = now
            elif op == "undelete" and not found.destroyed:
                found.deletion = None
            elif op == "destroy":
                found.destroyed = True
                found.data = None
    return Response(204)
