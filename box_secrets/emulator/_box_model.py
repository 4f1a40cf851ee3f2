"""The Box emulator's model: Box's constants and errors, apps, keys, tokens, faults.

The emulator keeps its own copy of Box's constants (the audience, the grant
types, the error wording) instead of importing the client's: if the client
were wrong, both would agree and no test would notice.
"""

from __future__ import annotations

import re
import secrets
import string
from typing import Any

from box_secrets.emulator._httpd import Fault, Response

#: The audience Box requires in every assertion, whatever host the request goes to
#: (https://developer.box.com/guides/authentication/jwt/without-sdk/).
BOX_AUDIENCE = "https://api.box.com/oauth2/token"
#: The signing algorithms Box accepts in the assertion's header.
ALGORITHMS = ("RS256", "RS384", "RS512")
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CCG_GRANT = "client_credentials"
EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105
MAX_KEYS_PER_APP = 2  # widely assumed, not confirmed by Box: the stricter reading
MAX_EXP_AHEAD = 60

#: Scopes a new app's tokens carry (what a typical JWT app enables).
APP_SCOPES = (
    "root_readonly",
    "root_readwrite",
    "manage_app_users",
    "manage_managed_users",
    "manage_groups",
    "manage_enterprise_properties",
    "manage_webhook",
    "item_preview",
    "item_download",
    "item_upload",
    "item_share",
    "item_delete",
    "item_rename",
    "item_comment",
    "base_explorer",
    "base_picker",
    "base_preview",
    "base_upload",
    "base_sidebar",
    "annotation_edit",
    "annotation_view_all",
    "annotation_view_self",
)

# Box's descriptions, as its JWT guide's troubleshooting section and real responses
# word them (https://developer.box.com/guides/authentication/jwt/without-sdk/).
# Box's wording varies between its docs and responses: clients should match on the
# error code and substrings, never on the whole sentence.
E_CLIENT = ("invalid_client", "The client credentials are invalid")
E_UNAUTHORIZED = ("unauthorized_client", "This app is not authorized by the enterprise admin")
E_GRANT_TYPE = ("invalid_request", "Invalid grant_type parameter or parameter missing")
E_GRANT_UNAUTHORIZED = ("invalid_request", "The grant type is unauthorized for this client_id")
E_SUB = ("invalid_grant", "Please check the 'sub' claim. The 'sub' specified is invalid.")
E_JTI = ("invalid_grant", "Please check the 'jti' claim. A unique 'jti' value is required.")
E_ISS = ("invalid_grant", "Please check the 'iss' claim.")
E_SIG = (
    "invalid_grant",
    "Signature verification error. The public key identified by 'kid' must correspond to "
    "the private key used for signing.",
)
E_KID = ("invalid_grant", "'kid' invalid, unable to lookup correct key")
E_EXPIRED = (
    "invalid_grant",
    "Current date/time MUST be before the expiration date/time listed in the 'exp' claim",
)
E_EXP_MAX = (
    "invalid_grant",
    "Please check the 'exp' claim. The 'exp' value exceeds the maximum value of 60 seconds "
    "beyond the issue time",
)
E_CCG = ("invalid_grant", "Grant credentials are invalid")
# Not documented by Box; wording chosen here.
E_AUD = ("invalid_grant", "Please check the 'aud' claim.")
E_EXP_MISSING = ("invalid_grant", "Please check the 'exp' claim. It must be a number.")
E_NBF = ("invalid_grant", "Please check the 'nbf' claim.")
E_ALG = ("invalid_grant", "Please check the 'alg' header. Use RS256, RS384 or RS512.")
E_ASSERTION = ("invalid_grant", "Please check the assertion. It is not a well-formed signed JWT.")
E_ASSERTION_MISSING = ("invalid_request", "The 'assertion' parameter is missing")
E_SUBJECT_TOKEN = ("invalid_grant", "The subject token is invalid or expired")
E_SCOPE = ("invalid_scope", "The requested scope is not held by the subject token")
E_SCOPE_MISSING = ("invalid_request", "The 'scope' parameter is missing")
E_RESOURCE = ("invalid_resource", "The target resource is invalid.")
E_RESOURCE_BOTH = ("invalid_request", "Use either 'resource' or 'box_shared_link', not both")

_RESOURCE = re.compile(r"^https://api\.box\.com/2\.0/(files|folders)/(\d+)$")
_ALNUM = string.ascii_lowercase + string.digits


def _rand(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _digits(n: int) -> str:
    return str(secrets.randbelow(9) + 1) + _rand(string.digits, n - 1)


class _Key:
    __slots__ = ("created_at", "fingerprint", "id", "public_key")

    def __init__(self, key_id: str, public_key: Any, created_at: float) -> None:
        from box_secrets.signers._keys import fingerprint_of

        self.id = key_id
        self.public_key = public_key
        self.fingerprint = fingerprint_of(public_key)
        self.created_at = created_at


class _App:
    def __init__(
        self,
        client_id: str,
        client_secret: str,
        enterprise_id: str,
        *,
        auth_method: str,
        authorized: bool,
        token_ttl: int | None,
        name: str,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.enterprise_id = enterprise_id
        self.auth_method = auth_method
        self.authorized = authorized
        self.token_ttl = token_ttl
        self.name = name
        self.keys: dict[str, _Key] = {}
        self.users: set[str] = set()
        self.service_account = _digits(11)
        #: The app's "Make API calls using the as-user header" advanced feature.
        self.act_as_users = True


class _Token:
    __slots__ = ("client_id", "expires_at", "restricted_to", "revoked", "scopes", "user_id")

    def __init__(
        self,
        client_id: str,
        user_id: str,
        expires_at: float,
        scopes: tuple[str, ...],
        restricted_to: list[dict[str, Any]] | None = None,
    ) -> None:
        self.client_id = client_id
        self.user_id = user_id
        self.expires_at = expires_at
        self.scopes = scopes
        self.restricted_to = restricted_to
        self.revoked = False


class _Fault(Fault):
    """A Box fault: a status (with Retry-After), a dropped connection, or an OAuth error."""

    __slots__ = ("drop", "error", "retry_after")

    def __init__(
        self,
        status: int,
        count: int,
        *,
        retry_after: float | None,
        route: str,
        drop: bool,
        when: str,
        error: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(status, count, route, when)
        self.error = error
        self.retry_after = retry_after
        self.drop = drop


def _oauth_error(err: tuple[str, str], status: int = 400) -> Response:
    return Response.json(status, {"error": err[0], "error_description": err[1]})


def _api_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    return Response.json(
        status, {"type": "error", "status": status, "code": code, "message": message}, headers
    )


#: Ten years either way: enough to test expiry and skew, small enough for every date format.
MAX_CLOCK_OFFSET = 10 * 365 * 86400


def console_error(status: int, message: str) -> Response:
    return Response.json(status, {"error": message})
