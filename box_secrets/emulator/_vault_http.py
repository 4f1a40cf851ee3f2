"""The Vault emulator's HTTP shapes, shared by its routes (Vault's API docs: "Responses")."""

from __future__ import annotations

import uuid
from typing import Any

from box_secrets.emulator._httpd import Response

__all__ = ["deny", "envelope", "errors", "json_response"]


def json_response(status: int, data: Any) -> Response:
    # hvac parses error bodies only when the header is exactly application/json.
    return Response.json(status, data)


def errors(status: int, *messages: str) -> Response:
    """Vault's error body: ``{"errors": [...]}``."""
    return json_response(status, {"errors": list(messages)})


def deny() -> Response:
    return errors(403, "1 error occurred:\n\t* permission denied\n\n")


def envelope(
    data: Any,
    *,
    auth: Any = None,
    warnings: list[str] | None = None,
    mount_type: str | None = "kv",
) -> dict[str, Any]:
    """Vault's success envelope around ``data`` (``mount_type`` omitted when None)."""
    out: dict[str, Any] = {
        "request_id": str(uuid.uuid4()),
        "lease_id": "",
        "renewable": False,
        "lease_duration": 0,
        "data": data,
        "wrap_info": None,
        "warnings": warnings,
        "auth": auth,
    }
    if mount_type is not None:
        out["mount_type"] = mount_type
    return out
