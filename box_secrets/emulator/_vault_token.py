"""The Vault emulator's tokens: their policies, what ``lookup-self`` says of them, and how
Vault's policy globs match a path (https://developer.hashicorp.com/vault/docs/concepts/policies).
"""

from __future__ import annotations

import fnmatch
import secrets
import time
from typing import Any

__all__ = ["CAPABILITIES", "Token", "path_matches"]

# The capabilities that can allow each HTTP method (Vault policy syntax).
CAPABILITIES = {
    "GET": ("read",),
    "LIST": ("list",),
    "POST": ("create", "update"),
    "PUT": ("create", "update"),
    "DELETE": ("delete",),
    "PATCH": ("patch",),
}


def _now_text(ts: float | None = None) -> str:
    ts = time.time() if ts is None else ts
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts))
    return f"{whole}.{int((ts % 1) * 1e9):09d}Z"


#: A service token's default TTL: Vault's system default, 32 days (vault/mount.go).
_TOKEN_TTL = 32 * 24 * 3600


class Token:
    """One token: root, or the (path glob, capabilities) rules of its policies."""

    __slots__ = ("accessor", "created", "policies", "root")

    def __init__(self, root: bool, policies: list[tuple[str, set[str]]]) -> None:
        self.root = root
        self.policies = policies
        self.created = time.time()
        self.accessor = secrets.token_urlsafe(18)

    def lookup(self, token_id: str) -> dict[str, Any]:
        """``auth/token/lookup-self``'s data (vault/token_store.go handleLookup)."""
        ttl = 0 if self.root else _TOKEN_TTL
        return {
            "accessor": self.accessor,
            "creation_time": int(self.created),
            "creation_ttl": ttl,
            "display_name": "root" if self.root else "token",
            "entity_id": "",
            "expire_time": None if self.root else _now_text(self.created + ttl),
            "explicit_max_ttl": 0,
            "id": token_id,
            "issue_time": _now_text(self.created),
            "meta": None,
            "num_uses": 0,
            "orphan": self.root,
            "path": "auth/token/root" if self.root else "auth/token/create",
            "policies": ["root"] if self.root else ["default"],
            "renewable": not self.root,
            "ttl": ttl,
            "type": "service",
        }

    def allows(self, path: str, capability: str) -> bool:
        if self.root:
            return True
        for pattern, caps in self.policies:
            if capability in caps and path_matches(pattern, path):
                return True
        return False


def path_matches(pattern: str, path: str) -> bool:
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
