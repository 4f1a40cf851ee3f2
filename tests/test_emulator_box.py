"""The Box emulator follows Box's token-endpoint rules, checked with assertions built by PyJWT.

These tests do not use box-secrets' own signer, so a bug there cannot hide a
bug in the emulator.
"""

from __future__ import annotations

import json
import secrets
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from email.utils import parsedate_to_datetime
from typing import Any

import jwt
import pytest

from box_secrets.emulator import BoxEmulator, Console
from box_secrets.emulator._console import ConsoleError

AUD = "https://api.box.com/oauth2/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def post(
    base_url: str,
    path: str,
    form: dict[str, str] | None = None,
    *,
    body: bytes | None = None,
    ctype: str = "application/x-www-form-urlencoded",
) -> tuple[int, dict[str, str], Any]:
    data = body if body is not None else urllib.parse.urlencode(form or {}).encode()
    req = urllib.request.Request(
        base_url + path, data=data, method="POST", headers={"Content-Type": ctype}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw, status, headers = resp.read(), resp.status, dict(resp.headers)
    except urllib.error.HTTPError as exc:
        raw, status, headers = exc.read(), exc.code, dict(exc.headers)
    return status, headers, (json.loads(raw) if raw else None)


def claims_for(app, **over: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    claims = {
        "iss": app.client_id,
        "sub": app.enterprise_id,
        "box_sub_type": "enterprise",
        "aud": AUD,
        "jti": secrets.token_urlsafe(24),
        "exp": int(time.time()) + 30,
    }
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def mint(
    app,
    claims: dict[str, Any] | None = None,
    *,
    alg: str = "RS256",
    kid: str | None = None,  # type: ignore[no-untyped-def]
    key: Any = None,
    secret: str | None = None,
    client_id: str | None = None,
) -> tuple[int, dict[str, str], Any]:
    token = jwt.encode(
        claims if claims is not None else claims_for(app),
        key or app.key.key,
        algorithm=alg,
        headers={"kid": kid if kid is not None else app.kid},
    )
    return post(
        app.base_url,
        "/oauth2/token",
        {
            "grant_type": JWT_GRANT,
            "assertion": token,
            "client_id": client_id or app.client_id,
            "client_secret": secret if secret is not None else app.client_secret,
        },
    )


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_valid_assertion_gets_a_token(app, alg: str) -> None:
    status, headers, body = mint(app, alg=alg)
    assert status == 200, body
    assert body["token_type"] == "bearer"
    assert body["restricted_to"] == []
    assert 3600 <= body["expires_in"] <= 4200
    assert body["access_token"].startswith("1!")
    assert headers["Content-Type"] == "application/json"
    assert "Date" in headers


def expect(result: tuple[int, dict[str, str], Any], status: int, error: str, fragment: str) -> None:
    got_status, headers, body = result
    assert got_status == status, body
    assert body["error"] == error
    assert fragment in body["error_description"], body["error_description"]
    assert "Date" in headers


def test_wrong_client_secret(app) -> None:
    expect(mint(app, secret="nope"), 400, "invalid_client", "client credentials are invalid")


def test_unknown_client(app) -> None:
    expect(mint(app, client_id="x" * 32), 400, "invalid_client", "client credentials are invalid")


def test_unauthorized_app(make_app) -> None:
    app = make_app(authorized=False)
    expect(mint(app), 400, "unauthorized_client", "not authorized by the enterprise admin")


def test_ccg_app_refuses_jwt_grant(make_app) -> None:
    app = make_app(auth_method="ccg")
    expect(mint(app), 400, "invalid_request", "grant type is unauthorized for this client_id")


def test_unknown_kid(app) -> None:
    expect(mint(app, kid="zzzzzzzz"), 400, "invalid_grant", "'kid' invalid")


def test_missing_kid(app) -> None:
    expect(mint(app, kid=""), 400, "invalid_grant", "'kid' invalid")


def test_signature_from_another_key(app, keys) -> None:
    other = keys.stranger
    expect(mint(app, key=other.key), 400, "invalid_grant", "Signature verification error")


def test_hs256_is_refused(app) -> None:
    token = jwt.encode(
        claims_for(app),
        "a-shared-secret-of-enough-length!",
        algorithm="HS256",
        headers={"kid": app.kid},
    )
    expect(
        post(
            app.base_url,
            "/oauth2/token",
            {
                "grant_type": JWT_GRANT,
                "assertion": token,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
            },
        ),
        400,
        "invalid_grant",
        "'alg'",
    )


def test_wrong_iss(app) -> None:
    expect(mint(app, claims_for(app, iss="someone-else")), 400, "invalid_grant", "'iss'")


def test_aud_must_be_boxs_even_on_another_host(app) -> None:
    expect(
        mint(app, claims_for(app, aud=app.base_url + "/oauth2/token")),
        400,
        "invalid_grant",
        "'aud'",
    )


@pytest.mark.parametrize(
    "over",
    [
        {"sub": "1"},
        {"box_sub_type": "group"},
        {"box_sub_type": None},
        {"sub": None},
        {"box_sub_type": "user"},  # the enterprise ID is not a user
    ],
)
def test_bad_subject(app, over: dict[str, Any]) -> None:
    expect(mint(app, claims_for(app, **over)), 400, "invalid_grant", "'sub'")


def test_user_subject(app, console: Console) -> None:
    uid = console.create_user(app.client_id, "Ada")
    status, _, body = mint(app, claims_for(app, sub=uid, box_sub_type="user"))
    assert status == 200, body


def test_user_of_another_app_is_refused(make_app, console: Console) -> None:
    a, b = make_app(), make_app()
    uid = console.create_user(b.client_id)
    expect(mint(a, claims_for(a, sub=uid, box_sub_type="user")), 400, "invalid_grant", "'sub'")


def test_expired_exp(app) -> None:
    expect(mint(app, claims_for(app, exp=int(time.time()) - 1)), 400, "invalid_grant", "'exp'")


def test_exp_more_than_60s_ahead(app) -> None:
    expect(
        mint(app, claims_for(app, exp=int(time.time()) + 75)),
        400,
        "invalid_grant",
        "exceeds the maximum value of 60 seconds",
    )


def test_exp_exactly_within_60s(app) -> None:
    assert mint(app, claims_for(app, exp=int(time.time()) + 58))[0] == 200


def test_exp_missing_or_not_a_number(app) -> None:
    expect(mint(app, claims_for(app, exp=None)), 400, "invalid_grant", "'exp'")
    expect(mint(app, claims_for(app, exp="soon")), 400, "invalid_grant", "'exp'")


def test_exp_follows_the_emulator_clock(app, console: Console) -> None:
    console.set_clock(-120)  # Box's clock is two minutes behind ours
    expect(mint(app), 400, "invalid_grant", "exceeds the maximum")
    status, headers, _ = mint(app, claims_for(app, exp=int(time.time()) - 100))
    assert status == 200
    date = parsedate_to_datetime(headers["Date"]).timestamp()
    assert abs(date - (time.time() - 120)) < 3


@pytest.mark.parametrize("jti", [None, "short", "x" * 15, "y" * 129, 12345678901234567])
def test_malformed_jti(app, jti: Any) -> None:
    expect(mint(app, claims_for(app, jti=jti)), 400, "invalid_grant", "'jti'")


@pytest.mark.parametrize("length", [16, 128])
def test_jti_length_bounds_accepted(app, length: int) -> None:
    assert mint(app, claims_for(app, jti="j" * (length - 1) + secrets.choice("abc")))[0] == 200


def test_jti_replay_is_refused(app) -> None:
    claims = claims_for(app)
    assert mint(app, claims)[0] == 200
    expect(mint(app, claims), 400, "invalid_grant", "'jti'")


def test_jti_is_spent_even_when_box_answers_429(app, console: Console) -> None:
    # Resending the same assertion after a 429 fails at Box: the stricter reading.
    claims = claims_for(app)
    console.fault(429, 1, retry_after=1)
    assert mint(app, claims)[0] == 429
    expect(mint(app, claims), 400, "invalid_grant", "'jti'")


def test_grant_type_missing_or_wrong(app) -> None:
    expect(
        post(app.base_url, "/oauth2/token", {"client_id": app.client_id}),
        400,
        "invalid_request",
        "grant_type",
    )
    expect(
        post(app.base_url, "/oauth2/token", {"grant_type": "password"}),
        400,
        "invalid_request",
        "grant_type",
    )


def test_json_body_is_not_a_form(app) -> None:
    expect(
        post(
            app.base_url,
            "/oauth2/token",
            body=b'{"grant_type": "client_credentials"}',
            ctype="application/json",
        ),
        400,
        "invalid_request",
        "grant_type",
    )


def test_assertion_missing(app) -> None:
    expect(
        post(
            app.base_url,
            "/oauth2/token",
            {
                "grant_type": JWT_GRANT,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
            },
        ),
        400,
        "invalid_request",
        "assertion",
    )


def test_assertion_garbage(app) -> None:
    expect(
        post(
            app.base_url,
            "/oauth2/token",
            {
                "grant_type": JWT_GRANT,
                "assertion": "not.a.jwt",
                "client_id": app.client_id,
                "client_secret": app.client_secret,
            },
        ),
        400,
        "invalid_grant",
        "",
    )


def ccg(app, subject_type: str, subject_id: str, secret: str | None = None):  # type: ignore[no-untyped-def]
    return post(
        app.base_url,
        "/oauth2/token",
        {
            "grant_type": "client_credentials",
            "client_id": app.client_id,
            "client_secret": secret or app.client_secret,
            "box_subject_type": subject_type,
            "box_subject_id": subject_id,
        },
    )


def test_client_credentials_grant(make_app, console: Console) -> None:
    app = make_app(auth_method="ccg")
    status, _, body = ccg(app, "enterprise", app.enterprise_id)
    assert status == 200 and body["token_type"] == "bearer"
    uid = console.create_user(app.client_id)
    assert ccg(app, "user", uid)[0] == 200
    expect(ccg(app, "enterprise", "1"), 400, "invalid_grant", "Grant credentials are invalid")
    expect(ccg(app, "enterprise", app.enterprise_id, secret="bad"), 400, "invalid_client", "")


def test_jwt_app_refuses_ccg(app) -> None:
    expect(
        ccg(app, "enterprise", app.enterprise_id),
        400,
        "invalid_request",
        "unauthorized for this client_id",
    )


def get_me(base_url: str, token: str) -> tuple[int, dict[str, str], Any]:
    req = urllib.request.Request(
        base_url + "/2.0/users/me", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_users_me_and_revoke(app, console: Console) -> None:
    token = mint(app)[2]["access_token"]
    status, _, me = get_me(app.base_url, token)
    assert status == 200 and me["type"] == "user" and me["enterprise"]["id"] == app.enterprise_id
    bad = post(
        app.base_url,
        "/oauth2/revoke",
        {"client_id": app.client_id, "client_secret": "x", "token": token},
    )
    assert bad[0] == 400 and bad[2]["error"] == "invalid_client"
    status, _, body = post(
        app.base_url,
        "/oauth2/revoke",
        {"client_id": app.client_id, "client_secret": app.client_secret, "token": token},
    )
    assert status == 200 and body is None
    status, headers, _ = get_me(app.base_url, token)
    assert status == 401 and 'error="invalid_token"' in headers["WWW-Authenticate"]


def test_users_me_for_user_subject(app, console: Console) -> None:
    uid = console.create_user(app.client_id, "Grace")
    token = mint(app, claims_for(app, sub=uid, box_sub_type="user"))[2]["access_token"]
    status, _, me = get_me(app.base_url, token)
    assert status == 200 and me["id"] == uid and me["name"] == "Grace"


def test_token_expires_on_the_emulator_clock(make_app, console: Console) -> None:
    app = make_app(token_ttl=100)
    token = mint(app)[2]["access_token"]
    assert get_me(app.base_url, token)[0] == 200
    console.set_clock(101)
    assert get_me(app.base_url, token)[0] == 401


def exchange(app, token: str, scope: str, **extra: str):  # type: ignore[no-untyped-def]
    return post(
        app.base_url,
        "/oauth2/token",
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "scope": scope,
            **extra,
        },
    )


def test_downscope(app) -> None:
    token = mint(app)[2]["access_token"]
    status, _, body = exchange(
        app, token, "item_preview item_download", resource="https://api.box.com/2.0/folders/42"
    )
    assert status == 200, body
    assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert [r["scope"] for r in body["restricted_to"]] == ["item_preview", "item_download"]
    assert body["restricted_to"][0]["object"]["type"] == "folder"
    # a downscoped token cannot widen itself again
    expect(exchange(app, body["access_token"], "root_readwrite"), 401, "invalid_scope", "")
    # and it cannot read /users/me without a base scope
    assert get_me(app.base_url, body["access_token"])[0] == 403


def test_downscope_errors(app) -> None:
    token = mint(app)[2]["access_token"]
    expect(exchange(app, "1!nope", "item_preview"), 400, "invalid_grant", "subject token")
    expect(exchange(app, token, ""), 400, "invalid_request", "scope")
    expect(
        exchange(app, token, "item_preview", resource="https://example.com/x"),
        400,
        "invalid_resource",
        "",
    )
    expect(
        exchange(
            app,
            token,
            "item_preview",
            resource="https://api.box.com/2.0/files/1",
            box_shared_link="https://app.box.com/s/abc",
        ),
        400,
        "invalid_request",
        "not both",
    )
    status, _, body = exchange(
        app, token, "item_preview", box_shared_link="https://app.box.com/s/abc"
    )
    assert status == 200 and body["restricted_to"][0]["object"]["type"] == "file"


# -- console API -------------------------------------------------------------------


def test_console_keys_lifecycle(app, keys) -> None:
    entries = app.console.list_keys(app.client_id)
    assert [e["id"] for e in entries] == [app.kid]
    assert len(entries[0]["fingerprint_sha256"]) == 64 and entries[0]["created_at"].endswith("Z")
    second = app.console.add_key(app.client_id, keys.other.public_key_pem)
    with pytest.raises(ConsoleError) as full:
        app.console.add_key(app.client_id, keys.stranger.public_key_pem)
    assert full.value.status == 409
    app.console.delete_key(app.client_id, app.kid)
    assert [e["id"] for e in app.console.list_keys(app.client_id)] == [second]
    expect(mint(app), 400, "invalid_grant", "'kid' invalid")
    with pytest.raises(ConsoleError) as gone:
        app.console.delete_key(app.client_id, app.kid)
    assert gone.value.status == 404


def test_console_refuses_short_and_bad_keys(app) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    app.console.delete_key(app.client_id, app.kid)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    pem = small.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    for bad in (pem, "not a key"):
        with pytest.raises(ConsoleError) as err:
            app.console.add_key(app.client_id, bad)
        assert err.value.status == 400


def test_console_create_app_shape(console: Console) -> None:
    info = console.create_app(enterprise_id="4242")
    assert set(info) >= {"client_id", "client_secret", "enterprise_id"}
    assert info["enterprise_id"] == "4242"
    with pytest.raises(ConsoleError):
        console.create_app(enterprise_id="not-digits")


def test_faults_and_stats(app, console: Console) -> None:
    before = console.stats().get("POST /oauth2/token", 0)
    console.fault(503, 1, retry_after=2)
    status, headers, _ = mint(app)
    assert status == 503 and headers["Retry-After"] == "2" and "Date" in headers
    console.fault(429, 1, retry_after=1)
    assert mint(app)[0] == 429
    assert mint(app)[0] == 200
    assert console.stats()["POST /oauth2/token"] == before + 3


def test_dropped_connection_fault(app, console: Console) -> None:
    console.fault(drop=True, count=1)
    with pytest.raises((urllib.error.URLError, ConnectionError, socket.error)):
        mint(app)
    assert mint(app)[0] == 200


def test_every_response_has_a_date(box_emulator) -> None:
    for path in ("/nope", "/oauth2/token", "/2.0/users/me"):
        req = urllib.request.Request(box_emulator.base_url + path)
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                headers = resp.headers
        except urllib.error.HTTPError as exc:
            headers = exc.headers
        assert headers["Date"]


def test_preloaded_app_from_config(app, tmp_path) -> None:
    path = app.write_config(tmp_path / "cfg.json")
    from box_secrets.stores._config import BoxAppConfig

    with BoxEmulator(app_configs=[BoxAppConfig.from_file(path)]) as other:
        app.base_url = other.base_url
        status, _, body = mint(app)
        assert status == 200, body
