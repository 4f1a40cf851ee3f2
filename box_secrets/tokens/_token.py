"""The access token value type, and the form it takes in a token cache entry."""

from __future__ import annotations

import math
import time
from typing import Any

__all__ = ["AccessToken"]


class AccessToken:
    """A Box access token. ``repr()`` and ``str()`` never show the token itself."""

    __slots__ = (
        "_value",
        "expires_at",
        "expires_in",
        "issued_token_type",
        "restricted_to",
        "token_type",
    )

    def __init__(
        self,
        access_token: str,
        *,
        expires_at: float,
        expires_in: int,
        token_type: str = "bearer",  # noqa: S107
        restricted_to: list[Any] | None = None,
        issued_token_type: str | None = None,
    ) -> None:
        self._value = access_token
        self.expires_at = expires_at
        self.expires_in = expires_in
        self.token_type = token_type
        self.restricted_to = restricted_to or []
        self.issued_token_type = issued_token_type

    @property
    def access_token(self) -> str:
        return self._value

    @property
    def expires_at_rfc3339(self) -> str:
        from box_secrets._support.times import rfc3339

        return rfc3339(self.expires_at)

    def to_dict(self) -> dict[str, Any]:
        """The token as JSON-ready data (holds the secret: print only on purpose)."""
        out: dict[str, Any] = {
            "access_token": self._value,
            "expires_at": self.expires_at_rfc3339,
            "expires_in": max(0, int(self.expires_at - time.time())),
            "token_type": self.token_type,
            "restricted_to": self.restricted_to,
        }
        if self.issued_token_type:
            out["issued_token_type"] = self.issued_token_type
        return out

    def __repr__(self) -> str:
        return (
            f"AccessToken(token_type={self.token_type!r}, expires_at={self.expires_at_rfc3339!r}, "
            f"restricted_to={self.restricted_to!r})"
        )

    __str__ = __repr__

    def to_cache(self) -> dict[str, Any]:
        """The JSON form a token cache entry holds (the secret included: sealed on the network)."""
        return {
            "access_token": self._value,
            "expires_at": self.expires_at,
            "expires_in": self.expires_in,
            "token_type": self.token_type,
            "restricted_to": self.restricted_to,
            "issued_token_type": self.issued_token_type,
        }

    @classmethod
    def from_cache(cls, data: Any) -> AccessToken | None:
        """The token in a cache entry, or None when it is damaged."""
        try:
            expires_at = float(data["expires_at"])
            if not math.isfinite(expires_at):
                return None
            return cls(
                str(data["access_token"]),
                expires_at=expires_at,
                expires_in=int(data["expires_in"]),
                token_type=str(data.get("token_type", "bearer")),
                restricted_to=data.get("restricted_to") or [],
                issued_token_type=data.get("issued_token_type"),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
