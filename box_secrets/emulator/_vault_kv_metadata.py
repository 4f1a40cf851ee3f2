"""KV v2 metadata (``<mount>/metadata/<path>``), as vault-plugin-secrets-kv's
``path_metadata.go`` serves it: LIST one level below a prefix, read, write or
PATCH the settings and custom metadata, delete every version."""

from __future__ import annotations

import json
from typing import Any

from box_secrets.emulator._httpd import Response
from box_secrets.emulator._vault_http import deny as _deny
from box_secrets.emulator._vault_http import envelope
from box_secrets.emulator._vault_http import errors as _errors
from box_secrets.emulator._vault_http import json_response as _json
from box_secrets.emulator._vault_kv_call import _Call
from box_secrets.emulator._vault_kv_state import (
    MAX_CUSTOM_KEY_LEN,
    MAX_CUSTOM_KEYS,
    MAX_CUSTOM_VALUE_LEN,
    Secret,
    merge_patch,
    parse_duration,
    uint,
)

__all__ = ["metadata"]

#: The settings a metadata write may carry.
_SETTINGS = ("max_versions", "cas_required", "delete_version_after", "custom_metadata")


def metadata(call: _Call) -> Response:
    """Route one metadata request by its method."""
    if call.method == "LIST":
        return _list(call)
    if call.method == "GET":
        if not call.allows(call.full, "read"):
            return _deny()
        if call.secret is None:
            return _errors(404)
        return _json(200, envelope(call.secret.metadata()))
    if call.method in ("POST", "PUT", "PATCH"):
        return _write(call)
    if call.method == "DELETE":
        if not call.allows(call.full, "delete"):
            return _deny()
        call.store.pop(call.key, None)
        return Response(204)
    return _errors(405, "unsupported operation")


def _list(call: _Call) -> Response:
    if not call.allows(call.full, "list"):
        return _deny()
    # path_metadata.go pathMetadataList: one level below the prefix; the mount root too.
    key = call.key
    prefix = key.rstrip("/") + "/" if key.strip("/") else ""
    names = sorted(
        {
            k[len(prefix) :].split("/")[0] + ("/" if "/" in k[len(prefix) :] else "")
            for k in call.store
            if k.startswith(prefix)
        }
    )
    if not names:
        return _errors(404)  # http/logical.go: an empty list is a 404
    return _json(200, envelope({"keys": names}))


def _write(call: _Call) -> Response:
    method, body, secret = call.method, call.body, call.secret
    if not call.allows(
        call.full, "patch" if method == "PATCH" else "update" if secret else "create"
    ):
        return _deny()
    if method == "PATCH" and secret is None:
        return _errors(404)  # path_metadata.go pathMetadataPatch
    problem = _check_metadata(body)
    if problem is not None:
        return _errors(400, problem)
    if secret is None and not any(f in body for f in _SETTINGS):
        # path_metadata.go pathMetadataWrite: nothing to set on a new key creates nothing.
        return Response(204)
    if secret is None:
        secret = call.store[call.key] = Secret(call.now)
    _apply(secret, body, patch=method == "PATCH")
    secret.updated = call.now
    if body.get("cas_required") is False and call.mount.cas_required:
        # path_metadata.go pathMetadataWrite: kept, ignored, and said so.
        warning = (
            '"cas_required" set to false, but is mandated by backend config. This value '
            "will be ignored."
        )
        return _json(200, envelope(None, warnings=[warning]))
    return Response(204)


def _apply(secret: Secret, body: dict[str, Any], *, patch: bool) -> None:
    # Lowering max_versions prunes nothing now: Vault prunes on the next write
    # (path_metadata.go pathMetadataWrite only stores the setting).
    if "max_versions" in body:
        secret.max_versions = uint(body["max_versions"]) or 0
    if "cas_required" in body:
        secret.cas_required = bool(body["cas_required"])
    if "delete_version_after" in body:
        secret.delete_version_after = parse_duration(body["delete_version_after"]) or 0
    if "custom_metadata" in body:
        custom = body["custom_metadata"] or {}
        if patch:  # merge patch: null removes a key
            merged = merge_patch(secret.custom_metadata or {}, custom)
            secret.custom_metadata = {k: str(v) for k, v in merged.items()}
        else:  # a write replaces the whole map
            secret.custom_metadata = {k: str(v) for k, v in custom.items()}


def _check_metadata(body: dict[str, Any]) -> str | None:
    """One error sentence for a metadata write Vault would refuse (path_metadata.go)."""
    if "max_versions" in body and uint(body["max_versions"]) is None:
        return "max_versions must be a non-negative number"
    if "delete_version_after" in body:
        seconds = parse_duration(body["delete_version_after"])
        if seconds is None or seconds < 0:
            return "delete_version_after must be a non-negative duration"
    custom = body.get("custom_metadata")
    if custom is None:
        return None
    if not isinstance(custom, dict):
        return "custom_metadata validation failed: must be a map of strings"
    if len(custom) > MAX_CUSTOM_KEYS:
        return (
            f"custom_metadata validation failed: payload must contain at most {MAX_CUSTOM_KEYS} "
            f"keys, provided {len(custom)}"
        )
    for name, value in custom.items():
        if value is None:
            continue  # a PATCH removes it
        text = json.dumps(value) if isinstance(value, dict | list) else str(value)
        if not 0 < len(name) <= MAX_CUSTOM_KEY_LEN:
            return (
                f"custom_metadata validation failed: length of key {name!r} is {len(name)} "
                f"but must be 0 < len(key) <= {MAX_CUSTOM_KEY_LEN}"
            )
        if not 0 < len(text) <= MAX_CUSTOM_VALUE_LEN:
            return (
                f"custom_metadata validation failed: length of value for key {name!r} is "
                f"{len(text)} but must be 0 < len(value) <= {MAX_CUSTOM_VALUE_LEN}"
            )
        if not (name.isprintable() and text.isprintable()):
            return (
                f"custom_metadata validation failed: key {name!r} contains unprintable characters"
            )
    return None
