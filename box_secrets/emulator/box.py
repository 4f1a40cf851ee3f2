"""A local stand-in for Box's token endpoint, ``/2.0/users/me`` and the Developer Console.

It follows Box's public documentation: the JWT guide
(https://developer.box.com/guides/authentication/jwt/jwt-setup/ and
.../jwt/without-sdk/), the token and revoke endpoints
(https://developer.box.com/reference/post-oauth2-token/,
https://developer.box.com/reference/post-oauth2-revoke/), token downscoping
(https://developer.box.com/guides/authentication/tokens/downscope/), and the
behaviour of Box's official SDKs (github.com/box/box-python-sdk-gen,
``box_sdk_gen/box/jwt_auth.py``): status codes, ``error`` codes and wording, a
``Date`` header on every response, and every rule of the JWT bearer grant.
Where Box's behaviour is not documented the emulator picks the stricter
reading and says so in a comment.

The console API (``/_console/...``) is unauthenticated: it stands in for a
person clicking in Box's Developer Console. Bind to loopback (the default).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl

from ..config import BoxAppConfig
from ..errors import ConfigError, InputError
from ..signing import ALGORITHMS, BOX_AUDIENCE
from ._httpd import EmulatorServer, Request, Response, ServedEmulator

__all__ = ["BoxEmulator", "BoxEmulatorState"]

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
        from ..keys import fingerprint_of

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


class _Fault:
    __slots__ = ("drop", "error", "remaining", "retry_after", "route", "status", "when")

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
        self.status = status
        self.error = error
        self.remaining = count
        self.retry_after = retry_after
        self.route = route
        self.drop = drop
        self.when = when


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


def _console_error(status: int, message: str) -> Response:
    return Response.json(status, {"error": message})


class BoxEmulatorState:
    """Everything the emulator knows; every method holds the lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.apps: dict[str, _App] = {}
        self.users: dict[str, tuple[str, str]] = {}  # user id -> (client id, name)
        self.tokens: dict[str, _Token] = {}
        self.jtis: dict[str, float] = {}
        self.faults: list[_Fault] = []
        self.offset = 0.0
        self.stats: Counter[str] = Counter()

    def clock(self) -> float:
        return time.time() + self.offset

    # -- console -----------------------------------------------------------------

    def create_app(
        self,
        *,
        enterprise_id: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        auth_method: str = "jwt",
        authorized: bool = True,
        token_ttl: int | None = None,
        name: str | None = None,
    ) -> _App:
        with self.lock:
            cid = client_id or _rand(_ALNUM, 32)
            if cid in self.apps:
                raise ValueError(f"an app with client ID {cid} exists already")
            app = _App(
                cid,
                client_secret or _rand(string.ascii_letters + string.digits, 32),
                enterprise_id or _digits(9),
                auth_method=auth_method,
                authorized=authorized,
                token_ttl=token_ttl,
                name=name or f"App {cid[:6]}",
            )
            self.apps[cid] = app
            return app

    def add_key(self, client_id: str, public_key: Any, key_id: str | None = None) -> _Key:
        with self.lock:
            app = self.apps[client_id]
            if len(app.keys) >= MAX_KEYS_PER_APP:
                raise OverflowError
            kid = key_id or _rand(_ALNUM, 8)
            key = _Key(kid, public_key, self.clock())
            if any(k.fingerprint == key.fingerprint for k in app.keys.values()):
                raise FileExistsError
            app.keys[kid] = key
            return key

    def add_user(self, client_id: str, name: str, user_id: str | None = None) -> str:
        with self.lock:
            uid = user_id or _digits(11)
            self.users[uid] = (client_id, name)
            self.apps[client_id].users.add(uid)
            return uid

    def add_app_from_config(self, config: BoxAppConfig) -> _App:
        """Preload an app from a Developer Console config (``--app-config``)."""
        with self.lock:
            if config.client_id in self.apps:
                raise InputError(
                    f"app {config.client_id} is preloaded twice; give each app's config once"
                )
            app = self.create_app(
                client_id=config.client_id,
                client_secret=config.client_secret,
                enterprise_id=config.enterprise_id or _digits(9),
                auth_method="jwt" if config.uses_jwt else "ccg",
            )
            if config.uses_jwt:
                if not config.public_key_id:
                    raise ConfigError(
                        "boxAppSettings.appAuth.publicKeyID is empty; the emulator needs "
                        "the key ID to register the key under",
                        field="boxAppSettings.appAuth.publicKeyID",
                    )
                self.add_key(app.client_id, config.private_key.public_key(), config.public_key_id)
            if config.user_id:
                self.add_user(app.client_id, "Preloaded user", config.user_id)
            return app

    # -- request routing ------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        route = self._route_name(req)
        with self.lock:
            self.stats[route] += 1
        if req.path.startswith("/_console/"):
            return self._console(req)
        fault = self._take_fault(req.path)
        if fault is not None and fault.when == "before":
            self._burn_jti_of(req)
            return self._fault_response(fault)
        response = self._api(req)
        if fault is not None:  # "after": Box did the work, the client never hears of it
            return self._fault_response(fault)
        return response

    @staticmethod
    def _route_name(req: Request) -> str:
        path = re.sub(r"/apps/[^/]+", "/apps/{client_id}", req.path)
        path = re.sub(r"/keys/[^/]+$", "/keys/{id}", path)
        return f"{req.method} {path}"

    def _take_fault(self, path: str) -> _Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.remaining > 0 and path.startswith(fault.route):
                    fault.remaining -= 1
                    return fault
            self.faults = [f for f in self.faults if f.remaining > 0]
            return None

    @staticmethod
    def _fault_response(fault: _Fault) -> Response:
        if fault.drop:
            return Response(0, drop=True)
        if fault.error is not None:
            return _oauth_error(fault.error, fault.status)
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = (
                str(int(fault.retry_after))
                if float(fault.retry_after).is_integer()
                else str(fault.retry_after)
            )
        if fault.status == 429:
            return _api_error(
                429,
                "rate_limit_exceeded",
                "Request rate limit exceeded, please try again later",
                headers,
            )
        return _api_error(fault.status, "internal_server_error", "Internal Server Error", headers)

    def _burn_jti_of(self, req: Request) -> None:
        # Box keeps a replay cache; SDKs that resend the same assertion after a
        # 429/5xx get the jti error, so the stricter reading is that Box records
        # the jti even when it then answers with an error.
        if req.path != "/oauth2/token":
            return
        form = dict(parse_qsl(req.body.decode("utf-8", "replace")))
        assertion = form.get("assertion")
        if not assertion:
            return
        import jwt

        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return
        jti = claims.get("jti")
        if isinstance(jti, str) and 16 <= len(jti) <= 128:
            with self.lock:
                self.jtis[jti] = float(claims.get("exp", self.clock()) or 0) + 120

    def _api(self, req: Request) -> Response:
        if req.path == "/oauth2/token":
            if req.method != "POST":
                return _api_error(405, "method_not_allowed", "Method Not Allowed")
            return self._token(self._form(req))
        if req.path == "/oauth2/revoke":
            if req.method != "POST":
                return _api_error(405, "method_not_allowed", "Method Not Allowed")
            return self._revoke(self._form(req))
        if req.path == "/2.0/users/me":
            if req.method != "GET":
                return _api_error(405, "method_not_allowed", "Method Not Allowed")
            return self._users_me(req)
        return _api_error(404, "not_found", "Not Found")

    @staticmethod
    def _form(req: Request) -> dict[str, str] | None:
        ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return None
        try:
            return dict(parse_qsl(req.body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return None

    # -- /oauth2/token ------------------------------------------------------------------

    def _client(self, form: dict[str, str], method: str) -> _App | Response:
        app = self.apps.get(form.get("client_id", ""))
        secret = form.get("client_secret", "")
        if app is None or not secrets.compare_digest(app.client_secret.encode(), secret.encode()):
            return _oauth_error(E_CLIENT)
        if not app.authorized:
            return _oauth_error(E_UNAUTHORIZED)
        if app.auth_method != method:
            return _oauth_error(E_GRANT_UNAUTHORIZED)
        return app

    def _token(self, form: dict[str, str] | None) -> Response:
        if form is None:
            return _oauth_error(E_GRANT_TYPE)
        grant = form.get("grant_type")
        with self.lock:
            self._prune()
            if grant == JWT_GRANT:
                return self._jwt_grant(form)
            if grant == CCG_GRANT:
                return self._ccg_grant(form)
            if grant == EXCHANGE_GRANT:
                return self._exchange(form)
            return _oauth_error(E_GRANT_TYPE)

    def _jwt_grant(self, form: dict[str, str]) -> Response:
        import jwt

        app = self._client(form, "jwt")
        if isinstance(app, Response):
            return app
        assertion = form.get("assertion")
        if not assertion:
            return _oauth_error(E_ASSERTION_MISSING)
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            return _oauth_error(E_ASSERTION)
        if header.get("alg") not in ALGORITHMS:
            return _oauth_error(E_ALG)
        key = app.keys.get(str(header.get("kid", "")))
        if key is None:
            return _oauth_error(E_KID)
        try:
            claims = jwt.PyJWT().decode(
                assertion,
                key.public_key,
                algorithms=[header["alg"]],
                options={
                    "verify_signature": True,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                    "verify_sub": False,
                    "verify_jti": False,
                },
            )
        except jwt.InvalidSignatureError:
            return _oauth_error(E_SIG)
        except jwt.PyJWTError:
            return _oauth_error(E_ASSERTION)
        jti = claims.get("jti")
        jti_ok = isinstance(jti, str) and 16 <= len(jti) <= 128
        try:
            return self._check_claims(app, claims, jti if jti_ok else None)
        finally:
            if jti_ok:
                # A verified assertion's jti is spent whatever the outcome (stricter).
                exp = claims.get("exp")
                keep = float(exp) if isinstance(exp, int | float) else self.clock()
                self.jtis[str(jti)] = max(keep, self.clock()) + 120

    def _check_claims(self, app: _App, claims: dict[str, Any], jti: str | None) -> Response:
        now = self.clock()
        if claims.get("iss") != app.client_id:
            return _oauth_error(E_ISS)
        if claims.get("aud") != BOX_AUDIENCE:
            return _oauth_error(E_AUD)
        sub_type, sub = claims.get("box_sub_type"), claims.get("sub")
        if not isinstance(sub, str):
            return _oauth_error(E_SUB)
        if sub_type == "enterprise":
            if sub != app.enterprise_id:
                return _oauth_error(E_SUB)
            user_id = app.service_account
        elif sub_type == "user":
            if sub not in app.users:
                return _oauth_error(E_SUB)
            user_id = sub
        else:
            return _oauth_error(E_SUB)
        exp = claims.get("exp")
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            return _oauth_error(E_EXP_MISSING)
        if exp <= now:
            return _oauth_error(E_EXPIRED)
        if exp > now + MAX_EXP_AHEAD:
            return _oauth_error(E_EXP_MAX)
        iat = claims.get("iat")
        if isinstance(iat, int | float) and exp - iat > MAX_EXP_AHEAD:
            return _oauth_error(E_EXP_MAX)  # "beyond the issue time": stricter reading
        nbf = claims.get("nbf")
        if isinstance(nbf, int | float) and nbf > now:
            return _oauth_error(E_NBF)
        if jti is None or jti in self.jtis:
            return _oauth_error(E_JTI)
        return self._issue(app, user_id)

    def _ccg_grant(self, form: dict[str, str]) -> Response:
        app = self._client(form, "ccg")
        if isinstance(app, Response):
            return app
        sub_type, sub = form.get("box_subject_type"), form.get("box_subject_id", "")
        if sub_type == "enterprise" and sub == app.enterprise_id:
            return self._issue(app, app.service_account)
        if sub_type == "user" and sub in app.users:
            return self._issue(app, sub)
        return _oauth_error(E_CCG)

    def _issue(
        self,
        app: _App,
        user_id: str,
        *,
        scopes: tuple[str, ...] = APP_SCOPES,
        restricted_to: list[dict[str, Any]] | None = None,
        ttl: int | None = None,
    ) -> Response:
        if ttl is None:
            # Box's lifetimes vary between about 3600 and 4200 seconds.
            ttl = app.token_ttl or 3600 + secrets.randbelow(601)
        value = "1!" + secrets.token_urlsafe(48)
        self.tokens[value] = _Token(
            app.client_id, user_id, self.clock() + ttl, scopes, restricted_to
        )
        body: dict[str, Any] = {
            "access_token": value,
            "expires_in": ttl,
            "token_type": "bearer",
            "restricted_to": restricted_to or [],
        }
        if restricted_to is not None:
            body["issued_token_type"] = ACCESS_TOKEN_TYPE
        return Response.json(200, body, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _live(self, value: str) -> _Token | None:
        tok = self.tokens.get(value)
        if tok is None or tok.revoked or tok.expires_at <= self.clock():
            return None
        return tok

    def _exchange(self, form: dict[str, str]) -> Response:
        subject = self._live(form.get("subject_token", ""))
        if form.get("subject_token_type") != ACCESS_TOKEN_TYPE or subject is None:
            return _oauth_error(E_SUBJECT_TOKEN)
        scopes = tuple(form.get("scope", "").split())
        if not scopes:
            return _oauth_error(E_SCOPE_MISSING)
        if not set(scopes) <= set(subject.scopes):
            # The reference says 401 for a scope the subject token lacks.
            return _oauth_error(E_SCOPE, 401)
        resource, link = form.get("resource"), form.get("box_shared_link")
        if resource and link:
            return _oauth_error(E_RESOURCE_BOTH)
        obj: dict[str, Any] | None = None
        if resource:
            match = _RESOURCE.match(resource)
            if match is None:
                return _oauth_error(E_RESOURCE)
            obj = {
                "type": match.group(1)[:-1],
                "id": match.group(2),
                "etag": "0",
                "sequence_id": "0",
            }
        elif link:
            if not link.startswith("https://"):
                return _oauth_error(E_RESOURCE)
            fake_id = str(int(hashlib.sha256(link.encode()).hexdigest()[:12], 16))
            obj = {"type": "file", "id": fake_id, "etag": "0", "sequence_id": "0"}
        restricted = [{"scope": s, "object": obj} for s in scopes] if obj else []
        app = self.apps[subject.client_id]
        ttl = max(1, int(subject.expires_at - self.clock()))
        return self._issue(app, subject.user_id, scopes=scopes, restricted_to=restricted, ttl=ttl)

    def _prune(self) -> None:
        now = self.clock()
        if len(self.jtis) > 10_000:
            self.jtis = {k: v for k, v in self.jtis.items() if v > now}
        if len(self.tokens) > 10_000:
            self.tokens = {k: t for k, t in self.tokens.items() if t.expires_at > now}

    # -- /oauth2/revoke and /2.0/users/me ----------------------------------------------

    def _revoke(self, form: dict[str, str] | None) -> Response:
        if form is None:
            return _oauth_error(E_GRANT_TYPE)
        with self.lock:
            app = self.apps.get(form.get("client_id", ""))
            if app is None or not secrets.compare_digest(
                app.client_secret.encode(), form.get("client_secret", "").encode()
            ):
                return _oauth_error(E_CLIENT)
            tok = self.tokens.get(form.get("token", ""))
            if tok is not None and tok.client_id == app.client_id:
                tok.revoked = True
        return Response(200)  # RFC 7009: unknown tokens are not an error

    def _users_me(self, req: Request) -> Response:
        auth = req.headers.get("authorization", "")
        value = auth[7:] if auth.lower().startswith("bearer ") else ""
        with self.lock:
            tok = self._live(value)
            if tok is None:
                return Response(
                    401,
                    b"",
                    {
                        "WWW-Authenticate": 'Bearer realm="Service", error="invalid_token", '
                        'error_description="The access token provided is invalid."'
                    },
                )
            if tok.restricted_to is not None and not {"root_readonly", "root_readwrite"} & set(
                tok.scopes
            ):
                # Not documented for /users/me; a downscoped token lacking the base
                # scopes is refused (stricter).
                return Response(
                    403,
                    b"",
                    {
                        "WWW-Authenticate": 'Bearer realm="Service", error="insufficient_scope", '
                        'error_description="The request requires higher privileges than provided '
                        'by the access token."'
                    },
                )
            app = self.apps[tok.client_id]
            if tok.user_id == app.service_account:
                name = app.name
                login = (
                    f"AutomationUser_{app.service_account[-6:]}_{app.client_id[:10]}"
                    "@boxdevedition.com"
                )
            else:
                name = self.users.get(tok.user_id, (app.client_id, "App User"))[1]
                login = f"AppUser_{tok.user_id[-6:]}_{app.client_id[:10]}@boxdevedition.com"
        created = time.strftime("%Y-%m-%dT%H:%M:%S-00:00", time.gmtime(self.clock()))
        return Response.json(
            200,
            {
                "type": "user",
                "id": tok.user_id,
                "name": name,
                "login": login,
                "created_at": created,
                "modified_at": created,
                "language": "en",
                "timezone": "UTC",
                "space_amount": 10737418240,
                "space_used": 0,
                "max_upload_size": 2147483648,
                "status": "active",
                "job_title": "",
                "phone": "",
                "address": "",
                "avatar_url": "",
                "enterprise": {
                    "type": "enterprise",
                    "id": app.enterprise_id,
                    "name": "Emulated Enterprise",
                },
            },
        )

    # -- /_console ------------------------------------------------------------------------

    def _console(self, req: Request) -> Response:
        try:
            body = req.json()
        except ValueError:
            return _console_error(400, "the request body is not JSON")
        if not isinstance(body, dict):
            return _console_error(400, "the request body must be a JSON object")
        parts = [p for p in req.path.split("/") if p][1:]
        m = req.method
        if parts == ["apps"] and m == "POST":
            return self._console_create_app(body)
        if len(parts) == 3 and parts[0] == "apps" and parts[2] == "keys":
            app = self.apps.get(parts[1])
            if app is None:
                return _console_error(404, f"no app with client ID {parts[1]}")
            if m == "POST":
                return self._console_add_key(app, body)
            if m == "GET":
                with self.lock:
                    entries = [
                        {
                            "id": k.id,
                            "fingerprint_sha256": k.fingerprint,
                            "created_at": time.strftime(
                                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(k.created_at)
                            ),
                        }
                        for k in app.keys.values()
                    ]
                return Response.json(200, {"entries": entries})
        if len(parts) == 4 and parts[0] == "apps" and parts[2] == "keys" and m == "DELETE":
            with self.lock:
                app = self.apps.get(parts[1])
                if app is None or parts[3] not in app.keys:
                    return _console_error(404, "no such app or key")
                del app.keys[parts[3]]
            return Response(204)
        if parts == ["users"] and m == "POST":
            cid, name = body.get("client_id"), body.get("name", "App User")
            if cid not in self.apps or not isinstance(name, str):
                return _console_error(
                    400, "client_id must name an existing app, name must be a string"
                )
            return Response.json(
                201, {"id": self.add_user(cid, name), "type": "user", "name": name}
            )
        if parts == ["faults"] and m == "POST":
            return self._console_fault(body)
        if parts == ["faults"] and m == "DELETE":
            with self.lock:
                self.faults.clear()
            return Response(204)
        if parts == ["clock"] and m == "POST":
            offset = body.get("offset_seconds")
            if (
                isinstance(offset, bool)
                or not isinstance(offset, int | float)
                or not abs(offset) <= MAX_CLOCK_OFFSET  # also refuses nan
            ):
                return _console_error(
                    400, f"offset_seconds must be a number of seconds within ±{MAX_CLOCK_OFFSET}"
                )
            with self.lock:
                self.offset = float(offset)
            return Response.json(200, {"offset_seconds": self.offset, "now": int(self.clock())})
        if parts == ["stats"] and m == "GET":
            with self.lock:
                return Response.json(200, dict(self.stats))
        return _console_error(404, f"no console route {m} {req.path}")

    def _console_create_app(self, body: dict[str, Any]) -> Response:
        eid = body.get("enterprise_id")
        method = body.get("auth_method", "jwt")
        ttl = body.get("token_ttl")
        if eid is not None and not (isinstance(eid, str | int) and str(eid).isdigit()):
            return _console_error(400, "enterprise_id must be a string of digits")
        if method not in ("jwt", "ccg"):
            return _console_error(400, "auth_method must be 'jwt' or 'ccg'")
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 1):
            return _console_error(400, "token_ttl must be a positive integer")
        app = self.create_app(
            enterprise_id=str(eid) if eid is not None else None,
            auth_method=method,
            authorized=bool(body.get("authorized", True)),
            token_ttl=ttl,
            name=body.get("name") if isinstance(body.get("name"), str) else None,
        )
        return Response.json(
            201,
            {
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "enterprise_id": app.enterprise_id,
                "auth_method": app.auth_method,
            },
        )

    def _console_add_key(self, app: _App, body: dict[str, Any]) -> Response:
        pem = body.get("public_key")
        if not isinstance(pem, str):
            return _console_error(400, "public_key must be a PEM string")
        from ..keys import load_public_key

        try:
            public_key = load_public_key(pem)
        except ConfigError as exc:
            return _console_error(400, str(exc))
        try:
            key = self.add_key(app.client_id, public_key)
        except OverflowError:
            return _console_error(
                409, f"the app already has {MAX_KEYS_PER_APP} public keys; remove one first"
            )
        except FileExistsError:
            return _console_error(409, "this public key is already registered for the app")
        return Response.json(201, {"id": key.id, "fingerprint_sha256": key.fingerprint})

    def _console_fault(self, body: dict[str, Any]) -> Response:
        drop = bool(body.get("drop", False))
        status = body.get("status", 0 if drop else None)
        count = body.get("count", 1)
        retry_after = body.get("retry_after")
        when = body.get("when", "before")
        route = body.get("route", "/oauth2/")
        error = body.get("error")
        if error is not None:
            # A canned OAuth error, e.g. to see how a client handles a jti refusal.
            desc = body.get("error_description", "")
            status = body.get("status", 400)
            if (
                not isinstance(error, str)
                or not isinstance(desc, str)
                or status not in (400, 401, 403)
            ):
                return _console_error(
                    400, "error and error_description must be strings, status 400/401/403"
                )
            oauth: tuple[str, str] | None = (error, desc)
        else:
            oauth = None
            if not drop and status not in (429, 500, 502, 503, 504):
                return _console_error(
                    400, "status must be 429, 500, 502, 503 or 504 (or use drop: true)"
                )
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            return _console_error(400, "count must be a positive integer")
        if retry_after is not None and (
            isinstance(retry_after, bool) or not isinstance(retry_after, int | float)
        ):
            return _console_error(400, "retry_after must be a number of seconds")
        if when not in ("before", "after") or not isinstance(route, str):
            return _console_error(400, "when must be 'before' or 'after'; route a path prefix")
        with self.lock:
            self.faults.append(
                _Fault(
                    int(status or 0),
                    count,
                    retry_after=retry_after,
                    route=route,
                    drop=drop,
                    when=when,
                    error=oauth,
                )
            )
        return Response.json(201, {"queued": count})


class BoxEmulator(ServedEmulator):
    """The emulator as a server: a context manager, or ``start()`` / ``stop()``.

    >>> with BoxEmulator() as box:          # doctest: +SKIP
    ...     provider = TokenProvider(config, base_url=box.base_url)
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        app_configs: tuple[BoxAppConfig, ...] | list[BoxAppConfig] = (),
    ) -> None:
        self.state = BoxEmulatorState()
        for config in app_configs:
            self.state.add_app_from_config(config)
        super().__init__(
            EmulatorServer(
                (host, port),
                self.state.handle,
                self.state.clock,
                control_prefixes=("/_console/",),
                error_body=_console_error,
            )
        )
