"""The Box emulator's console API (``/_console/...``): a person's clicks, as a route table.

Unauthenticated by design (it stands in for the Developer Console); the server
answers it only for a loopback ``Host`` and, for writes, a JSON content type.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from box_secrets.emulator._box_model import (
    MAX_CLOCK_OFFSET,
    MAX_KEYS_PER_APP,
    _Fault,
    console_error,
)
from box_secrets.emulator._httpd import Request, Response, json_object
from box_secrets.errors import ConfigError

if TYPE_CHECKING:
    from box_secrets.emulator._box_state import BoxState

__all__ = ["handle_console", "issue_keypair"]

Handler = Callable[["BoxState", list[str], dict[str, Any]], Response]


def _create_app(state: BoxState, parts: list[str], body: dict[str, Any]) -> Response:
    eid = body.get("enterprise_id")
    method = body.get("auth_method", "jwt")
    ttl = body.get("token_ttl")
    if eid is not None and not (isinstance(eid, str | int) and str(eid).isdigit()):
        return console_error(400, "enterprise_id must be a string of digits")
    if method not in ("jwt", "ccg"):
        return console_error(400, "auth_method must be 'jwt' or 'ccg'")
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 1):
        return console_error(400, "token_ttl must be a positive integer")
    app = state.create_app(
        enterprise_id=str(eid) if eid is not None else None,
        auth_method=method,
        authorized=bool(body.get("authorized", True)),
        token_ttl=ttl,
        name=body.get("name") if isinstance(body.get("name"), str) else None,
    )
    act_as_users = body.get("act_as_users", True)
    if not isinstance(act_as_users, bool):
        return console_error(400, "act_as_users must be true or false")
    app.act_as_users = act_as_users
    return Response.json(
        201,
        {
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "enterprise_id": app.enterprise_id,
            "auth_method": app.auth_method,
        },
    )


def _add_key(state: BoxState, parts: list[str], body: dict[str, Any]) -> Response:
    app = state.apps.get(parts[1])
    if app is None:
        return console_error(404, f"no app with client ID {parts[1]}")
    pem = body.get("public_key")
    if not isinstance(pem, str):
        return console_error(400, "public_key must be a PEM string")
    from box_secrets.signers._keys import load_public_key

    try:
        public_key = load_public_key(pem)
    except ConfigError as exc:
        return console_error(400, str(exc))
    try:
        key = state.add_key(app.client_id, public_key)
    except OverflowError:
        return console_error(
            409, f"the app already has {MAX_KEYS_PER_APP} public keys; remove one first"
        )
    except FileExistsError:
        return console_error(409, "this public key is already registered for the app")
    return Response.json(201, {"id": key.id, "fingerprint_sha256": key.fingerprint})


def issue_keypair(state: BoxState, client_id: str) -> dict[str, Any]:
    """The console's "Generate a Public/Private Keypair": a new key registered to the app,
    returned as the JSON file Box's console downloads (the private key encrypted under a
    generated passphrase), which box-secrets and Box's SDKs load as it is.

    Raises:
        LookupError: no such app. ValueError: a client-credentials app.
        OverflowError: the app has its maximum of public keys.
    """
    app = state.apps.get(client_id)
    if app is None:
        raise LookupError(f"no app with client ID {client_id}")
    if app.auth_method != "jwt":
        raise ValueError("the app uses client credentials; it has no key pair")
    from box_secrets.signers._keys import generate_key
    from box_secrets.stores._config import BoxAppConfig

    generated = generate_key(2048)
    key = state.add_key(app.client_id, generated.key.public_key())
    config = BoxAppConfig(
        client_id=app.client_id,
        client_secret=app.client_secret,
        enterprise_id=app.enterprise_id,
        public_key_id=key.id,
        private_key_pem=generated.private_key_pem,
        passphrase=generated.passphrase,
    )
    return config.to_dict()


def _keypair(state: BoxState, parts: list[str], body: dict[str, Any]) -> Response:
    try:
        return Response.json(201, issue_keypair(state, parts[1]))
    except LookupError as exc:
        return console_error(404, str(exc))
    except ValueError as exc:
        return console_error(400, str(exc))
    except OverflowError:
        return console_error(
            409, f"the app already has {MAX_KEYS_PER_APP} public keys; remove one first"
        )


def _list_keys(state: BoxState, parts: list[str], body: dict[str, Any]) -> Response:
    with state.lock:
        app = state.apps.get(parts[1])
        if app is None:
            return console_error(404, f"no app with client ID {parts[1]}")
        entries = [
            {
                "id": k.id,
                "fingerprint_sha256": k.fingerprint,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(k.created_at)),
            }
            for k in app.keys.values()
        ]
    return Response.json(200, {"entries": entries})


def _delete_key(state: BoxState, parts: list[str], body: dict[str, Any]) -> Response:
    with state.lock:
        app = state.apps.get(parts[1])
        if app is None or parts[3] not in app.keys:
            return console_error(404, "no such app or key")
        del app.keys[parts[3]]
    return Response(204)


def _create_user(state: BoxState, parts: list[str], body: dict[str, Any]) -> Response:
    cid, name = body.get("client_id"), body.get("name", "App User")
    if cid not in state.apps or not isinstance(name, str):
        return console_error(400, "client_id must name an existing app, name must be a string")
    return Response.json(201, {"id": state.add_user(cid, name), "type": "user", "name": name})


def _add_fault(state: BoxState, parts: list[str], body: dict[str, Any]) -> Response:
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
        if not isinstance(error, str) or not isinstance(desc, str) or status not in (400, 401, 403):
            return console_error(
                400, "error and error_description must be strings, status 400/401/403"
            )
        oauth: tuple[str, str] | None = (error, desc)
    else:
        oauth = None
        if not drop and status not in (429, 500, 502, 503, 504):
            return console_error(
                400, "status must be 429, 500, 502, 503 or 504 (or use drop: true)"
            )
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        return console_error(400, "count must be a positive integer")
    if retry_after is not None and (
        isinstance(retry_after, bool) or not isinstance(retry_after, int | float)
    ):
        return console_error(400, "retry_after must be a number of seconds")
    if when not in ("before", "after") or not isinstance(route, str):
        return console_error(400, "when must be 'before' or 'after'; route a path prefix")
    state.faults.add(
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


def _clear_faults(state: BoxState, parts: list[str], body: dict[str, Any]) -> Response:
    state.faults.clear()
    return Response(204)


def _set_clock(state: BoxState, parts: list[str], body: dict[str, Any]) -> Response:
    offset = body.get("offset_seconds")
    if (
        isinstance(offset, bool)
        or not isinstance(offset, int | float)
        or not abs(offset) <= MAX_CLOCK_OFFSET  # also refuses nan
    ):
        return console_error(
            400, f"offset_seconds must be a number of seconds within ±{MAX_CLOCK_OFFSET}"
        )
    with state.lock:
        state.offset = float(offset)
    return Response.json(200, {"offset_seconds": state.offset, "now": int(state.clock())})


def _set_latency(state: BoxState, parts: list[str], body: dict[str, Any]) -> Response:
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= 30:
        return console_error(400, "seconds must be a number from 0 to 30")
    with state.lock:
        state.latency = float(seconds)
    return Response.json(200, {"seconds": state.latency})


def _stats(state: BoxState, parts: list[str], body: dict[str, Any]) -> Response:
    with state.lock:
        return Response.json(200, dict(state.stats))


#: (method, path segments after /_console with "*" for one segment, handler)
ROUTES: tuple[tuple[str, tuple[str, ...], Handler], ...] = (
    ("POST", ("apps",), _create_app),
    ("POST", ("apps", "*", "keys"), _add_key),
    ("POST", ("apps", "*", "keypair"), _keypair),
    ("GET", ("apps", "*", "keys"), _list_keys),
    ("DELETE", ("apps", "*", "keys", "*"), _delete_key),
    ("POST", ("users",), _create_user),
    ("POST", ("faults",), _add_fault),
    ("DELETE", ("faults",), _clear_faults),
    ("POST", ("clock",), _set_clock),
    ("POST", ("latency",), _set_latency),
    ("GET", ("stats",), _stats),
)


def _matches(pattern: tuple[str, ...], parts: list[str]) -> bool:
    return len(pattern) == len(parts) and all(
        p in ("*", got) for p, got in zip(pattern, parts, strict=True)
    )


def handle_console(state: BoxState, req: Request) -> Response:
    body = json_object(req)
    if body is None:
        return console_error(400, "the request body must be a JSON object")
    parts = [p for p in req.path.split("/") if p][1:]
    for method, pattern, handler in ROUTES:
        if method == req.method and _matches(pattern, parts):
            return handler(state, parts, body)
    return console_error(404, f"no console route {req.method} {req.path}")
