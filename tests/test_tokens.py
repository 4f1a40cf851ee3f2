"""The token provider against the Box emulator, over real HTTP."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from pathlib import Path

import pytest

from box_secrets import errors
from box_secrets.stores._config import BoxAppConfig
from box_secrets.tokens import TokenProvider

from .helpers import assert_no_secrets


def provider(app, **kw) -> TokenProvider:  # type: ignore[no-untyped-def]
    kw.setdefault("backoff_base", 0.02)
    return TokenProvider(app.config, base_url=app.base_url, **kw)


def token_requests(console) -> int:  # type: ignore[no-untyped-def]
    return int(console.stats().get("POST /oauth2/token", 0))


def decode_part(assertion: str, index: int) -> dict[str, object]:
    part = assertion.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_assertion_claims_are_exactly_boxs(app) -> None:
    from box_secrets.signers import RSASigner
    from box_secrets.tokens._assertion import build_assertion, new_jti

    before = int(time.time())
    jti = new_jti()
    assertion = build_assertion(
        RSASigner(app.config.private_key, app.kid),
        client_id=app.client_id,
        subject_type="enterprise",
        subject_id=app.enterprise_id,
        exp=before + 30,
        jti=jti,
    )
    header, claims = decode_part(assertion, 0), decode_part(assertion, 1)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": app.kid}
    assert claims == {
        "iss": app.client_id,
        "sub": app.enterprise_id,
        "box_sub_type": "enterprise",
        "aud": "https://api.box.com/oauth2/token",
        "jti": jti,
        "exp": before + 30,
    }
    assert len(jti) >= 32


def test_token_is_cached_and_reused(app, console) -> None:
    p = provider(app)
    before = token_requests(console)
    first = p.get_token()
    assert p.get_token() is first
    assert p.access_token() == first.access_token
    assert token_requests(console) == before + 1


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    """The provider's monotonic clock, moved by the test instead of waited for."""
    from box_secrets._support import retry as _retry

    class Clock:
        now = time.monotonic()

        def advance(self, seconds: float) -> None:
            self.now += seconds

    moved = Clock()
    monkeypatch.setattr(_retry, "_monotonic", lambda: moved.now)
    return moved


def test_refresh_before_expiry_margin(make_app, console, clock) -> None:
    app = make_app(token_ttl=4)
    p = provider(app, refresh_margin=300)  # short tokens refresh at half-life
    first = p.get_token()
    clock.advance(1.9)
    assert p.get_token() is first
    clock.advance(0.3)
    second = p.get_token()
    assert second.access_token != first.access_token


def test_refresh_margin_is_configurable(make_app, clock) -> None:
    app = make_app(token_ttl=100)
    p = provider(app, refresh_margin=99.5)
    first = p.get_token()
    clock.advance(0.4)
    assert p.get_token() is first
    clock.advance(0.3)
    assert p.get_token().access_token != first.access_token


def test_single_flight_64_threads_one_request(app, console) -> None:
    p = provider(app)
    before = token_requests(console)
    barrier = threading.Barrier(64)
    results: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        tok = p.get_token().access_token
        with lock:
            results.append(tok)

    threads = [threading.Thread(target=worker) for _ in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 64 and len(set(results)) == 1
    assert token_requests(console) == before + 1


def test_user_subject_and_separate_cache(app, console) -> None:
    uid = console.create_user(app.client_id, "Linus")
    p = provider(app)
    ent = p.get_token()
    usr = p.get_token(as_user=uid)
    assert usr.access_token != ent.access_token
    assert p.get_token(as_user=uid) is usr


@pytest.mark.parametrize("alg", ["RS384", "RS512"])
def test_other_algorithms(app, alg: str) -> None:
    from box_secrets._support.http import HttpClient

    class Recording(HttpClient):
        """The real client, keeping what was sent: the round trip to the emulator is real."""

        sent: list[dict[str, str]] = []

        def request(self, method, url, *, fields=None, body=None, headers=None):  # type: ignore[no-untyped-def]
            self.sent.append(dict(fields or {}))
            return super().request(method, url, fields=fields, body=body, headers=headers)

    http = Recording()
    assert provider(app, algorithm=alg, http=http).get_token().token_type == "bearer"
    assert decode_part(http.sent[-1]["assertion"], 0)["alg"] == alg


def test_unknown_algorithm_is_input_error(app) -> None:
    with pytest.raises(errors.InputError):
        provider(app, algorithm="HS256")


def test_retry_after_429_is_honoured(app, console, clock, monkeypatch) -> None:
    from box_secrets._support import retry as _retry

    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the clock moves instead of the test waiting
        waits.append(seconds)
        clock.advance(seconds)

    monkeypatch.setattr(_retry, "_sleep", sleep)
    console.fault(429, 1, retry_after=7)
    assert provider(app).get_token().access_token
    assert len(waits) == 1 and 6.9 <= waits[0] <= 7.0


def test_5xx_backoff_then_success(app, console) -> None:
    console.fault(500, 2)
    console.fault(503, 1)
    before = token_requests(console)
    provider(app).get_token()
    assert token_requests(console) == before + 4


def test_dropped_connections_are_retried(app, console) -> None:
    console.fault(drop=True, count=2)
    before = token_requests(console)
    assert provider(app).get_token().access_token
    assert token_requests(console) == before + 3  # two dropped, the third answered


def test_retries_are_bounded(app, console) -> None:
    console.fault(503, 50)
    before = token_requests(console)
    with pytest.raises(errors.BoxUnavailableError, match="after 3 attempts"):
        provider(app, max_attempts=3).get_token()
    assert token_requests(console) == before + 3
    console.clear_faults()


def test_deadline_stops_long_waits(app, console) -> None:
    console.fault(429, 5, retry_after=30)
    start = time.monotonic()
    with pytest.raises(errors.BoxUnavailableError, match="deadline"):
        provider(app, deadline=2).get_token()
    assert time.monotonic() - start < 2
    console.clear_faults()


def test_every_retry_signs_a_new_assertion(app, console) -> None:
    # The emulator spends a jti even on a 5xx; resending would fail with the jti error.
    console.fault(500, 3)
    assert provider(app).get_token().token_type == "bearer"


def test_box_processed_but_reply_lost(app, console) -> None:
    console.fault(drop=True, count=1, when="after")
    before = token_requests(console)
    tok = provider(app).get_token()
    assert tok.access_token and tok.token_type == "bearer"
    assert token_requests(console) == before + 2  # the lost reply, then a new assertion


@pytest.mark.parametrize("offset", [-120, 120, -3600, 900])
def test_clock_skew_recovered_from_date_header(app, console, offset: int) -> None:
    console.set_clock(offset)
    before = token_requests(console)
    p = provider(app)
    p.get_token()
    assert token_requests(console) == before + 2  # one refusal, one success
    p.refresh()
    assert token_requests(console) == before + 3  # the learned skew sticks


def test_jti_refusal_retried_once(app, console) -> None:
    console.oauth_error(
        "invalid_grant", "Please check the 'jti' claim. A unique 'jti' value is required."
    )
    before = token_requests(console)
    provider(app).get_token()
    assert token_requests(console) == before + 2


def test_jti_refusal_twice_fails(app, console) -> None:
    console.oauth_error("invalid_grant", "Please check the 'jti' claim.", count=2)
    with pytest.raises(errors.BoxAuthError) as exc:
        provider(app).get_token()
    assert exc.value.error == "invalid_grant" and "jti" in exc.value.error_description


def test_other_4xx_fail_at_once_with_boxs_error(app, console) -> None:
    bad = app.config_for(app.key, app.kid)
    bad = BoxAppConfig.from_dict({**bad.to_dict(), "enterpriseID": "1"})
    before = token_requests(console)
    with pytest.raises(errors.BoxAuthError) as exc:
        TokenProvider(bad, base_url=app.base_url).get_token()
    assert token_requests(console) == before + 1
    assert exc.value.status == 400 and exc.value.error == "invalid_grant"
    assert "'sub'" in exc.value.error_description
    assert "sub" in str(exc.value)


def test_invalid_client_error(app) -> None:
    data = app.config.to_dict()
    data["boxAppSettings"]["clientSecret"] = "definitely-wrong"
    with pytest.raises(errors.BoxAuthError) as exc:
        TokenProvider(BoxAppConfig.from_dict(data), base_url=app.base_url).get_token()
    assert exc.value.error == "invalid_client"
    assert "definitely-wrong" not in str(exc.value)


class StaleThenFresh:
    """A key source whose cache is stale until forced, like a store reader with a TTL."""

    def __init__(self, stale: BoxAppConfig, fresh: BoxAppConfig) -> None:
        self.stale, self.fresh, self.forced = stale, fresh, 0

    @property
    def name(self) -> str:
        return "test source"

    def load(self, *, force_refresh: bool = False) -> BoxAppConfig:
        if force_refresh:
            self.forced += 1
            return self.fresh
        return self.stale


def test_refresh_on_reject_picks_up_rotated_key(app, keys) -> None:
    new_key = keys.other
    new_kid = app.console.add_key(app.client_id, new_key.public_key_pem)
    app.console.delete_key(app.client_id, app.kid)  # the old key is gone at Box
    source = StaleThenFresh(app.config, app.config_for(new_key, new_kid))
    tok = TokenProvider(source, base_url=app.base_url).get_token()
    assert tok.token_type == "bearer" and source.forced == 1


def test_refresh_on_reject_gives_up_when_the_key_is_the_same(app) -> None:
    app.console.delete_key(app.client_id, app.kid)
    source = StaleThenFresh(app.config, app.config)
    with pytest.raises(errors.KeyRejectedError) as exc:
        TokenProvider(source, base_url=app.base_url).get_token()
    assert source.forced == 1 and app.kid in str(exc.value)


def test_config_file_swapped_between_calls(app, keys, tmp_path: Path) -> None:
    path = app.write_config(tmp_path / "box.json")
    p = TokenProvider(str(path), base_url=app.base_url)
    p.get_token()
    new_key = keys.other
    new_kid = app.console.add_key(app.client_id, new_key.public_key_pem)
    app.console.delete_key(app.client_id, app.kid)
    app.write_config(path, new_key, new_kid)
    assert p.refresh().token_type == "bearer"


def test_signature_mismatch_is_key_rejected(app, keys) -> None:
    wrong = app.config_for(keys.stranger, app.kid)
    with pytest.raises(errors.KeyRejectedError):
        TokenProvider(wrong, base_url=app.base_url).get_token()


def test_downscope_and_cache(app, console) -> None:
    p = provider(app)
    before = token_requests(console)
    scoped = p.get_token(scopes=["item_preview"], resource="https://api.box.com/2.0/files/7")
    assert scoped.restricted_to[0]["scope"] == "item_preview"
    assert scoped.issued_token_type == "urn:ietf:params:oauth:token-type:access_token"
    assert (
        p.get_token(scopes=["item_preview"], resource="https://api.box.com/2.0/files/7") is scoped
    )
    assert token_requests(console) == before + 2  # base token + one exchange
    explicit = p.downscope(p.get_token(), ["item_download"], shared_link="https://app.box.com/s/x")
    assert explicit.restricted_to[0]["object"]["type"] == "file"


def test_downscope_refused_scope(app) -> None:
    p = provider(app)
    narrow = p.downscope(p.get_token(), ["item_preview"])
    with pytest.raises(errors.BoxAuthError) as exc:
        p.downscope(narrow, ["root_readwrite"])
    assert exc.value.status == 401


def test_downscope_input_errors(app) -> None:
    p = provider(app)
    with pytest.raises(errors.InputError):
        p.get_token(scopes=[])
    with pytest.raises(errors.InputError):
        p.get_token(resource="https://api.box.com/2.0/files/1")
    with pytest.raises(errors.InputError):
        p.get_token(
            scopes=["item_preview"],
            resource="https://api.box.com/2.0/files/1",
            shared_link="https://app.box.com/s/x",
        )


def test_revoke_forgets_the_token(app, console) -> None:
    p = provider(app)
    tok = p.get_token()
    p.revoke(tok)
    assert p.get_token().access_token != tok.access_token
    from .test_emulator_box import get_me

    assert get_me(app.base_url, tok.access_token)[0] == 401


def test_client_credentials_grant(make_app, console) -> None:
    app = make_app(auth_method="ccg")
    ccg = BoxAppConfig(
        client_id=app.client_id, client_secret=app.client_secret, enterprise_id=app.enterprise_id
    )
    assert not ccg.uses_jwt
    p = TokenProvider(ccg, base_url=app.base_url)
    assert p.get_token().token_type == "bearer"
    uid = console.create_user(app.client_id)
    assert p.get_token(as_user=uid).token_type == "bearer"


def test_stale_token_served_while_box_is_down(make_app, console, clock) -> None:
    app = make_app(token_ttl=40)
    p = provider(app, refresh_margin=39.5, max_attempts=1)  # refresh due after 0.5 s
    first = p.get_token()
    clock.advance(0.6)
    console.fault(503, 5)
    assert p.get_token() is first  # Box is down but the token works for 39 s more
    console.clear_faults()
    assert p.get_token() is first  # and the next try waits a little, not every call


def test_cross_process_cache(app, console, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    before = token_requests(console)
    a = provider(app, cache_dir=cache).get_token()
    b = provider(app, cache_dir=cache).get_token()
    assert a.access_token == b.access_token
    assert token_requests(console) == before + 1
    files = list(cache.iterdir())
    assert files and all((f.stat().st_mode & 0o777) == 0o600 for f in files)
    assert (cache.stat().st_mode & 0o777) == 0o700


def test_cross_process_cache_refuses_open_directory(app, tmp_path: Path) -> None:
    cache = tmp_path / "open"
    cache.mkdir(mode=0o755)
    cache.chmod(0o755)
    with pytest.raises(errors.InputError, match="chmod 700"):
        provider(app, cache_dir=cache)


def test_module_level_provider_is_kept_per_process(app, tmp_path: Path) -> None:
    import box_secrets

    path = str(app.write_config(tmp_path / "box.json"))
    first = box_secrets.access_token(path, base_url=app.base_url)
    assert box_secrets.access_token(path, base_url=app.base_url) == first
    assert box_secrets.get_provider(path, base_url=app.base_url) is box_secrets.get_provider(
        path, base_url=app.base_url
    )


def test_no_secret_in_logs_or_reprs(app, console, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="box_secrets")
    console.fault(503, 1)
    console.set_clock(-200)
    p = provider(app)
    tok = p.get_token()
    scoped = p.downscope(tok, ["item_preview"])
    text = caplog.text + repr(p) + repr(tok) + str(tok) + repr(scoped) + repr(app.config)
    assert_no_secrets(text, [*app.secrets(), tok.access_token, scoped.access_token])
    assert caplog.records  # the retries and skew were logged


def test_errors_never_hold_the_token_or_secret(app) -> None:
    p = provider(app)
    tok = p.get_token()
    p.revoke(tok)
    with pytest.raises(errors.BoxAuthError) as exc:
        p.downscope(tok, ["item_preview"])
    assert_no_secrets(str(exc.value), [tok.access_token, *app.secrets()])
