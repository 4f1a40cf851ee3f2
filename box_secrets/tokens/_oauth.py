"""Box's OAuth 2.0 rules: the token endpoint's grants, answers and errors.

Box's documented errors map to one exception class and one hint each (one
table, as hvac maps status codes), so callers catch a kind of failure, not a
sentence. Box's wording varies between its docs and its answers, so a refusal
is recognised by its ``error`` code and by words in its description
(``exp``, ``jti``, ``kid``, ``signature``), never by the whole sentence
(https://developer.box.com/guides/authentication/jwt/without-sdk/).
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any

from box_secrets._support.http import http_date
from box_secrets.errors import BoxAuthError, BoxResponseError, KeyRejectedError
from box_secrets.tokens._token import AccessToken

if TYPE_CHECKING:
    from box_secrets._support.http import HttpResponse

__all__ = [
    "ACCESS_TOKEN_TYPE",
    "ASSERTION_TTL",
    "DEFAULT_BASE_URL",
    "EXCHANGE_GRANT",
    "JWT_GRANT",
    "auth_error",
    "error_body",
    "parse_token",
    "refusal",
    "server_time",
]

DEFAULT_BASE_URL = "https://api.box.com"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105
#: Seconds a JWT assertion lives; Box allows at most 60.
ASSERTION_TTL = 30

_EXP = re.compile(r"\bexp\b", re.IGNORECASE)
_JTI = re.compile(r"\bjti\b", re.IGNORECASE)
_KID = re.compile(r"\bkid\b", re.IGNORECASE)

#: Box's ``error`` code -> (exception class, what to do). Key rejections are
#: recognised separately (an ``invalid_grant`` naming the kid or the signature).
ERRORS: dict[str, tuple[type[BoxAuthError], str]] = {
    "invalid_client": (
        BoxAuthError,
        "check clientID and clientSecret against the Developer Console",
    ),
    "unauthorized_client": (
        BoxAuthError,
        "an enterprise admin must authorize the app in the Admin Console",
    ),
    "invalid_request": (
        BoxAuthError,
        "check the app's authentication method in the Developer Console",
    ),
}


def refusal(error: str, desc: str) -> str | None:
    """Which recoverable refusal this is: ``"exp"``, ``"jti"``, ``"key"`` or None."""
    if error != "invalid_grant":
        return None
    if _KID.search(desc) or "signature" in desc.lower():
        return "key"
    if _EXP.search(desc):
        return "exp"
    if _JTI.search(desc):
        return "jti"
    return None


def error_body(resp: HttpResponse) -> dict[str, str]:
    """Box's ``error`` and ``error_description``, flattened and clipped for printing."""
    from box_secrets._urls import clean_text

    try:
        data = json.loads(resp.body)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    # A hostile or broken server must not flood a log or forge lines on a terminal.
    return {k: clean_text(str(v)) for k, v in data.items() if k in ("error", "error_description")}


def auth_error(resp: HttpResponse, doing: str, key_id: str | None = None) -> BoxAuthError:
    """The exception for a refused request: class and hint from :data:`ERRORS`."""
    body = error_body(resp)
    error = str(body.get("error") or f"http_{resp.status}")
    desc = str(body.get("error_description") or "")
    cls, hint = ERRORS.get(error, (BoxAuthError, ""))
    if refusal(error, desc) == "key":
        cls = KeyRejectedError
        hint = (
            f"Box does not accept key {key_id!r}: register its public key in the Developer "
            "Console or fix publicKeyID"
        )
    message = f"Box refused {doing}: {error}"
    if desc:
        message += f" ({desc.rstrip('.')})"
    if hint:
        message += f"; {hint}"
    return cls(message, status=resp.status, error=error, error_description=desc)


def parse_token(resp: HttpResponse) -> AccessToken:
    """The token in a 200 answer from ``/oauth2/token``."""
    try:
        data: Any = resp.json()
    except ValueError:
        raise BoxResponseError(
            f"Box answered HTTP {resp.status} with a body that is not JSON; check that the "
            "base URL points at Box's API"
        ) from None
    if not isinstance(data, dict):
        raise BoxResponseError("Box's token response is not a JSON object")
    value = data.get("access_token")
    expires_in = data.get("expires_in")
    if (
        not isinstance(value, str)
        or not value
        or isinstance(expires_in, bool)
        or not isinstance(expires_in, int | float)
        or not 0 < expires_in < 10**7
    ):
        raise BoxResponseError("Box's token response lacks access_token or expires_in")
    restricted = data.get("restricted_to")
    return AccessToken(
        value,
        expires_at=time.time() + float(expires_in),
        expires_in=int(expires_in),
        token_type=str(data.get("token_type", "bearer")),
        restricted_to=restricted if isinstance(restricted, list) else [],
        issued_token_type=data.get("issued_token_type"),
    )


def server_time(resp: HttpResponse) -> float | None:
    """Box's clock, from the ``Date`` header (to correct the assertion's ``exp``)."""
    date = resp.headers.get("date")
    return http_date(date) if date else None
