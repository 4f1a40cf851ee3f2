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

import re
import secrets
import string
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl

from .._config import BoxAppConfig
from ..errors import ConfigError, InputError
from . import _box_oauth
from ._box_console import handle_console
from ._box_model import (
    _ALNUM,
    E_CLIENT,
    E_GRANT_TYPE,
    MAX_KEYS_PER_APP,
    _api_error,
    _App,
    _digits,
    _Fault,
    _Key,
    _oauth_error,
    _rand,
    _Token,
    console_error,
)
from ._httpd import EmulatorServer, FaultQueue, Request, Response, ServedEmulator

__all__ = ["BoxEmulator", "BoxEmulatorState"]


class BoxEmulatorState:
    """Everything the emulator knows; every method holds the lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.apps: dict[str, _App] = {}
        self.users: dict[str, tuple[str, str]] = {}  # user id -> (client id, name)
        self.tokens: dict[str, _Token] = {}
        self.jtis: dict[str, float] = {}
        self.faults: FaultQueue[_Fault] = FaultQueue()
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
            return handle_console(self, req)
        fault = self.faults.take(req.path)
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
            return _box_oauth.token(self, self._form(req))
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
            tok = _box_oauth.live(self, value)
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
            acting = req.headers.get("as-user", "").strip()
            if acting:
                # https://developer.box.com/guides/authentication/jwt/as-user/: the app must
                # have "Make API calls using the as-user header" enabled, the caller must be
                # the service account (an admin), and the user must be of its enterprise.
                allowed = app.act_as_users and tok.user_id == app.service_account
                if not allowed or acting not in app.users:
                    return Response.json(
                        403,
                        {
                            "type": "error",
                            "status": 403,
                            "code": "access_denied_insufficient_permissions",
                            "message": "Access denied - insufficient permission",
                        },
                    )
                user_id = acting
            else:
                user_id = tok.user_id
            if user_id == app.service_account:
                name = app.name
                login = (
                    f"AutomationUser_{app.service_account[-6:]}_{app.client_id[:10]}"
                    "@boxdevedition.com"
                )
            else:
                name = self.users.get(user_id, (app.client_id, "App User"))[1]
                login = f"AppUser_{user_id[-6:]}_{app.client_id[:10]}@boxdevedition.com"
        created = time.strftime("%Y-%m-%dT%H:%M:%S-00:00", time.gmtime(self.clock()))
        return Response.json(
            200,
            {
                "type": "user",
                "id": user_id,
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
                error_body=console_error,
            )
        )
