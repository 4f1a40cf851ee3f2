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
import time
from typing import Any
from urllib.parse import parse_qsl

from box_secrets.emulator._box_console import handle_console
from box_secrets.emulator._box_model import (
    E_CLIENT,
    E_GRANT_TYPE,
    _api_error,
    _App,
    _Fault,
    _oauth_error,
    _Token,
    console_error,
)
from box_secrets.emulator._box_oauth import live as live_token
from box_secrets.emulator._box_oauth import token as token_route
from box_secrets.emulator._box_state import BoxState
from box_secrets.emulator._httpd import EmulatorServer, Request, Response, ServedEmulator
from box_secrets.stores._config import BoxAppConfig

__all__ = ["BoxEmulator", "BoxEmulatorState"]


class BoxEmulatorState(BoxState):
    """The state, and the HTTP routes that read and change it (the console's are its own)."""

    # -- request routing ------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        route = self._route_name(req)
        with self.lock:
            self.stats[route] += 1
        if req.path.startswith("/_console/"):
            return handle_console(self, req)
        if self.latency and req.path.startswith("/oauth2/"):
            time.sleep(self.latency)  # each request is its own thread: others go on
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
            return token_route(self, self._form(req))
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
            tok = live_token(self, value)
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
            user_id = self._acting_user(app, tok, req.headers.get("as-user", "").strip())
            if user_id is None:
                return Response.json(
                    403,
                    {
                        "type": "error",
                        "status": 403,
                        "code": "access_denied_insufficient_permissions",
                        "message": "Access denied - insufficient permission",
                    },
                )
            return Response.json(200, self._user(app, user_id))

    @staticmethod
    def _acting_user(app: _App, tok: _Token, acting: str) -> str | None:
        """The user a call acts as: the token's, or ``As-User``'s if allowed (None: refused).

        https://developer.box.com/guides/authentication/jwt/as-user/: the app must have
        "Make API calls using the as-user header" enabled, the caller must be the
        service account (an admin), and the user must be of its enterprise.
        """
        if not acting:
            return tok.user_id
        allowed = app.act_as_users and tok.user_id == app.service_account
        return acting if allowed and acting in app.users else None

    def _user(self, app: _App, user_id: str) -> dict[str, Any]:
        """``/2.0/users/me``'s user object, as Box's reference documents its fields."""
        if user_id == app.service_account:
            name = app.name
            login = (
                f"AutomationUser_{app.service_account[-6:]}_{app.client_id[:10]}@boxdevedition.com"
            )
        else:
            name = self.users.get(user_id, (app.client_id, "App User"))[1]
            login = f"AppUser_{user_id[-6:]}_{app.client_id[:10]}@boxdevedition.com"
        created = time.strftime("%Y-%m-%dT%H:%M:%S-00:00", time.gmtime(self.clock()))
        return {
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
        }

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
