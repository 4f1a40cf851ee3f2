"""Box's token endpoint, as the emulator serves it: the JWT bearer grant, Client
Credentials, token exchange (downscoping), each rule as Box documents it
(https://developer.box.com/reference/post-oauth2-token/ and the JWT guide).
Functions over :class:`~box_secrets.emulator._box.BoxState`.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING, Any

from box_secrets.emulator._box_model import (
    _RESOURCE,
    ACCESS_TOKEN_TYPE,
    ALGORITHMS,
    APP_SCOPES,
    BOX_AUDIENCE,
    CCG_GRANT,
    E_ALG,
    E_ASSERTION,
    E_ASSERTION_MISSING,
    E_AUD,
    E_CCG,
    E_CLIENT,
    E_EXP_MAX,
    E_EXP_MISSING,
    E_EXPIRED,
    E_GRANT_TYPE,
    E_GRANT_UNAUTHORIZED,
    E_ISS,
    E_JTI,
    E_KID,
    E_NBF,
    E_RESOURCE,
    E_RESOURCE_BOTH,
    E_SCOPE,
    E_SCOPE_MISSING,
    E_SIG,
    E_SUB,
    E_SUBJECT_TOKEN,
    E_UNAUTHORIZED,
    EXCHANGE_GRANT,
    JWT_GRANT,
    MAX_EXP_AHEAD,
    _App,
    _oauth_error,
    _Token,
)
from box_secrets.emulator._httpd import Response

if TYPE_CHECKING:
    from box_secrets.emulator._box_state import BoxState


def client(state: BoxState, form: dict[str, str], method: str) -> _App | Response:
    app = state.apps.get(form.get("client_id", ""))
    secret = form.get("client_secret", "")
    if app is None or not secrets.compare_digest(app.client_secret.encode(), secret.encode()):
        return _oauth_error(E_CLIENT)
    if not app.authorized:
        return _oauth_error(E_UNAUTHORIZED)
    if app.auth_method != method:
        return _oauth_error(E_GRANT_UNAUTHORIZED)
    return app


def token(state: BoxState, form: dict[str, str] | None) -> Response:
    if form is None:
        return _oauth_error(E_GRANT_TYPE)
    grant = form.get("grant_type")
    with state.lock:
        prune(state)
        if grant == JWT_GRANT:
            return jwt_grant(state, form)
        if grant == CCG_GRANT:
            return ccg_grant(state, form)
        if grant == EXCHANGE_GRANT:
            return exchange(state, form)
        return _oauth_error(E_GRANT_TYPE)


def jwt_grant(state: BoxState, form: dict[str, str]) -> Response:
    import jwt

    app = client(state, form, "jwt")
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
        return check_claims(state, app, claims, jti if jti_ok else None)
    finally:
        if jti_ok:
            # A verified assertion's jti is spent whatever the outcome (stricter).
            exp = claims.get("exp")
            keep = float(exp) if isinstance(exp, int | float) else state.clock()
            state.jtis[str(jti)] = max(keep, state.clock()) + 120


def check_claims(state: BoxState, app: _App, claims: dict[str, Any], jti: str | None) -> Response:
    now = state.clock()
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
    if jti is None or jti in state.jtis:
        return _oauth_error(E_JTI)
    return issue(state, app, user_id)


def ccg_grant(state: BoxState, form: dict[str, str]) -> Response:
    app = client(state, form, "ccg")
    if isinstance(app, Response):
        return app
    sub_type, sub = form.get("box_subject_type"), form.get("box_subject_id", "")
    if sub_type == "enterprise" and sub == app.enterprise_id:
        return issue(state, app, app.service_account)
    if sub_type == "user" and sub in app.users:
        return issue(state, app, sub)
    return _oauth_error(E_CCG)


def issue(
    state: BoxState,
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
    state.tokens[value] = _Token(app.client_id, user_id, state.clock() + ttl, scopes, restricted_to)
    body: dict[str, Any] = {
        "access_token": value,
        "expires_in": ttl,
        "token_type": "bearer",
        "restricted_to": restricted_to or [],
    }
    if restricted_to is not None:
        body["issued_token_type"] = ACCESS_TOKEN_TYPE
    return Response.json(200, body, {"Cache-Control": "no-store", "Pragma": "no-cache"})


def live(state: BoxState, value: str) -> _Token | None:
    tok = state.tokens.get(value)
    if tok is None or tok.revoked or tok.expires_at <= state.clock():
        return None
    return tok


def exchange(state: BoxState, form: dict[str, str]) -> Response:
    subject = live(state, form.get("subject_token", ""))
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
    app = state.apps[subject.client_id]
    ttl = max(1, int(subject.expires_at - state.clock()))
    return issue(state, app, subject.user_id, scopes=scopes, restricted_to=restricted, ttl=ttl)


def prune(state: BoxState) -> None:
    now = state.clock()
    if len(state.jtis) > 10_000:
        state.jtis = {k: v for k, v in state.jtis.items() if v > now}
    if len(state.tokens) > 10_000:
        state.tokens = {k: t for k, t in state.tokens.items() if t.expires_at > now}
