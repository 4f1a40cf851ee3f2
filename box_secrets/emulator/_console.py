"""A client for the Box emulator's console API.

Each call is a click a person would make in Box's Developer Console.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

__all__ = ["Console", "ConsoleError"]


class ConsoleError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"console answered HTTP {status}: {message}")
        self.status = status


class Console:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(  # noqa: S310 - the URL is the emulator's, http(s) only
            f"{self.base_url}/_console{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", "")
            except ValueError:
                message = ""
            raise ConsoleError(exc.code, message) from None
        return json.loads(raw) if raw else None

    def create_app(self, **body: Any) -> dict[str, Any]:
        """Create an app; options: enterprise_id, auth_method, authorized, token_ttl, name."""
        result: dict[str, Any] = self._call("POST", "/apps", body)
        return result

    def add_key(self, client_id: str, public_key_pem: str) -> str:
        """Register a public key, as "Add a Public Key" does; returns Box's key ID."""
        return str(
            self._call("POST", f"/apps/{client_id}/keys", {"public_key": public_key_pem})["id"]
        )

    def new_keypair(self, client_id: str) -> dict[str, Any]:
        """ "Generate a Public/Private Keypair": the config JSON Box's console downloads."""
        return dict(self._call("POST", f"/apps/{client_id}/keypair", {}))

    def list_keys(self, client_id: str) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self._call("GET", f"/apps/{client_id}/keys")["entries"]
        return entries

    def delete_key(self, client_id: str, key_id: str) -> None:
        self._call("DELETE", f"/apps/{client_id}/keys/{key_id}")

    def create_user(self, client_id: str, name: str = "App User") -> str:
        return str(self._call("POST", "/users", {"client_id": client_id, "name": name})["id"])

    def fault(
        self,
        status: int | None = None,
        count: int = 1,
        *,
        retry_after: float | None = None,
        drop: bool = False,
        when: str = "before",
        route: str = "/oauth2/",
    ) -> None:
        body: dict[str, Any] = {"count": count, "when": when, "route": route}
        if drop:
            body["drop"] = True
        else:
            body["status"] = status
        if retry_after is not None:
            body["retry_after"] = retry_after
        self._call("POST", "/faults", body)

    def oauth_error(
        self, error: str, description: str, count: int = 1, *, status: int = 400
    ) -> None:
        """Make the next ``count`` token requests fail with this OAuth error."""
        self._call(
            "POST",
            "/faults",
            {
                "error": error,
                "error_description": description,
                "status": status,
                "count": count,
                "route": "/oauth2/token",
            },
        )

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def set_clock(self, offset_seconds: float) -> None:
        self._call("POST", "/clock", {"offset_seconds": offset_seconds})

    def set_latency(self, seconds: float) -> None:
        """Make every ``/oauth2/`` request take ``seconds`` (0 to 30) before Box answers."""
        self._call("POST", "/latency", {"seconds": seconds})

    def stats(self) -> dict[str, int]:
        result: dict[str, int] = self._call("GET", "/stats")
        return result
