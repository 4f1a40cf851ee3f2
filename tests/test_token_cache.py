"""The shared token caches in one process: dir, a real redis-server, DynamoDB on moto.

Each "process" of a fleet is a separate TokenProvider here (its own in-process
cache); tests/test_token_fleet.py runs real processes. What the cache holds is
read straight from the server, never through box-secrets.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from box_secrets._support import retry as _retry
from box_secrets.errors import InputError
from box_secrets.tokens import TokenProvider
from box_secrets.tokens.cache import cache_errors, open_token_cache
from box_secrets.tokens.cache._uri import parse_cache_uri

KINDS = ["dir", "redis", "dynamodb"]


def token_requests(console) -> int:  # type: ignore[no-untyped-def]
    return int(console.stats().get("POST /oauth2/token", 0))


def _uri(kind: str, request, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    if kind == "dir":
        return f"dir:{tmp_path / 'tokens'}"
    if kind == "redis":
        server = request.getfixturevalue("redis_server")
        server.command("FLUSHALL")  # one server per test worker: start each test empty
        return str(server.url)
    return str(request.getfixturevalue("dynamodb_table"))  # a new table per test


@pytest.fixture(params=KINDS)
def cache_uri(request, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    return _uri(request.param, request, tmp_path)


@pytest.fixture(params=["redis", "dynamodb"])
def network_cache(request, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    return _uri(request.param, request, tmp_path)


def provider(app, uri: str | None, **kw: Any) -> TokenProvider:  # type: ignore[no-untyped-def]
    kw.setdefault("backoff_base", 0.02)
    return TokenProvider(app.config, base_url=app.base_url, token_cache=uri, **kw)


def raw_entries(uri: str, redis_server=None) -> list[bytes]:  # type: ignore[no-untyped-def]
    """Every name and value the cache holds, read directly from its server or directory."""
    parsed = parse_cache_uri(uri)
    if parsed.kind == "dir":
        root = Path(parsed.target)
        return [p.name.encode() + b"=" + p.read_bytes() for p in root.iterdir()]
    if parsed.kind == "redis":
        import redis

        client = redis.Redis.from_url(parsed.target)
        return [k + b"=" + (client.get(k) or b"") for k in client.keys("*")]
    import boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=parsed.params["endpoint_url"],
        region_name=parsed.params["region"],
    )
    out = []
    for item in client.scan(TableName=parsed.target)["Items"]:
        out.append(repr(item).encode())
    return out


# -- sharing -----------------------------------------------------------------------------


def test_two_processes_share_one_token(app, console, cache_uri: str) -> None:
    first = provider(app, cache_uri).get_token()
    second = provider(app, cache_uri).get_token()
    assert second.access_token == first.access_token
    assert token_requests(console) == 1


def test_threads_of_many_providers_miss_at_once_and_box_sees_one_request(
    app, console, cache_uri: str
) -> None:
    console.set_latency(0.3)  # everyone misses while the first request is in flight
    providers = [provider(app, cache_uri) for _ in range(6)]
    tokens: list[str] = []
    lock = threading.Lock()

    def run(p: TokenProvider) -> None:
        value = p.access_token()
        with lock:
            tokens.append(value)

    threads = [threading.Thread(target=run, args=(p,)) for p in providers for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(tokens) == 24 and len(set(tokens)) == 1
    assert token_requests(console) == 1


def test_subjects_and_scopes_are_separate_entries(app, console, cache_uri: str) -> None:
    user = console.create_user(app.client_id, "cache user")
    a = provider(app, cache_uri)
    b = provider(app, cache_uri)
    assert a.get_token(as_user=user).access_token == b.get_token(as_user=user).access_token
    assert a.get_token().access_token != a.get_token(as_user=user).access_token
    scoped = a.get_token(scopes=["item_preview"])
    assert b.get_token(scopes=["item_preview"]).access_token == scoped.access_token
    # enterprise, user, and the scoped exchange: three requests for two processes
    assert token_requests(console) == 3


# -- what someone reading the cache sees ----------------------------------------------------


def test_a_network_cache_holds_no_token_app_user_or_scope(app, console, network_cache: str) -> None:
    user = console.create_user(app.client_id, "someone")
    p = provider(app, network_cache)
    tokens = [
        p.get_token().access_token,
        p.get_token(as_user=user).access_token,
        p.get_token(
            scopes=["item_preview"], resource="https://api.box.com/2.0/files/42"
        ).access_token,
    ]
    entries = raw_entries(network_cache)
    assert entries, "nothing was read from the cache: the check below would prove nothing"
    blob = b"\n".join(entries)
    for secret in (*tokens, app.client_id, app.client_secret, app.enterprise_id, user):
        assert secret.encode() not in blob
    for word in (b"item_preview", b"files/42", b"enterprise", b"access_token", b"bearer"):
        assert word not in blob


def test_entries_tampered_with_are_refused_and_replaced(app, console, network_cache: str) -> None:
    p = provider(app, network_cache)
    p.get_token()
    cache = open_token_cache(network_cache)
    name = _only_entry_name(cache, network_cache)
    data, _ = cache.get(name) or (b"", None)
    flipped = data[:-1] + bytes([data[-1] ^ 1])
    for bad in (flipped, b"garbage", b"\x01" + b"\x00" * 40, b""):
        cache.put(name, bad, 600)
        before = cache_errors()
        fresh = provider(app, network_cache).get_token()
        assert cache_errors() > before
        assert fresh.access_token.startswith("1!")
        held = cache.get(name)
        assert held is not None and held[0] != bad  # the good token was written back


def test_an_entry_moved_to_another_name_does_not_open(app, console, network_cache: str) -> None:
    user = console.create_user(app.client_id, "swap")
    p = provider(app, network_cache)
    enterprise_token = p.get_token().access_token
    cache = open_token_cache(network_cache)
    name = _only_entry_name(cache, network_cache)
    p.get_token(as_user=user)
    other = next(n for n in _entry_names(network_cache) if n != name)
    data, _ = cache.get(name) or (b"", None)
    cache.put(other, data, 600)  # the enterprise's token under the user's name
    as_user = provider(app, network_cache).get_token(as_user=user)
    assert as_user.access_token != enterprise_token


def test_one_apps_entries_are_never_another_apps(make_app, console, network_cache: str) -> None:
    a, b = make_app(), make_app()
    token_a = provider(a, network_cache).get_token().access_token
    cache = open_token_cache(network_cache)
    (name_a,) = _entry_names(network_cache)
    provider(b, network_cache).get_token()
    name_b = next(n for n in _entry_names(network_cache) if n != name_a)
    # Plant A's entry under B's name: B must refuse it, not serve A's token.
    cache.put(name_b, (cache.get(name_a) or (b"", None))[0], 600)
    for p in (provider(b, network_cache),):
        assert p.get_token().access_token != token_a


def _entry_names(uri: str) -> list[str]:
    parsed = parse_cache_uri(uri)
    if parsed.kind == "redis":
        import redis

        client = redis.Redis.from_url(parsed.target)
        return sorted(k.decode() for k in client.keys("box-secrets:*") if b":lease" not in k)
    import boto3

    client = boto3.client(
        "dynamodb", endpoint_url=parsed.params["endpoint_url"], region_name="us-east-1"
    )
    items = client.scan(TableName=parsed.target)["Items"]
    return sorted(i["pk"]["S"] for i in items if not i["pk"]["S"].endswith(":lease"))


def _only_entry_name(cache: Any, uri: str) -> str:
    names = _entry_names(uri)
    assert len(names) == 1, names
    return names[0]


# -- invalidation -------------------------------------------------------------------------


def test_a_refused_token_is_replaced_once_for_the_fleet(app, console, cache_uri: str) -> None:
    a, b = provider(app, cache_uri), provider(app, cache_uri)
    old = a.get_token().access_token
    assert b.get_token().access_token == old
    new = a.refresh()  # Box said 401 to a: it drops the old token and mints
    assert new.access_token != old
    # b gets its 401 too: it drops only its own old token and takes a's new one
    assert b.refresh().access_token == new.access_token
    assert token_requests(console) == 2


def test_revoke_drops_the_shared_entry(app, console, cache_uri: str) -> None:
    a = provider(app, cache_uri)
    old = a.get_token().access_token
    a.revoke(old)
    fresh = provider(app, cache_uri).get_token().access_token
    assert fresh != old
    assert token_requests(console) == 2


def test_invalidate_leaves_a_newer_token_alone(app, console, cache_uri: str) -> None:
    a, b = provider(app, cache_uri), provider(app, cache_uri)
    old = a.get_token()
    new = a.refresh()
    b.invalidate(old)  # late news of the old token must not drop the new one
    assert provider(app, cache_uri).get_token().access_token == new.access_token
    assert token_requests(console) == 2


# -- refresh ahead, leases, waiting ------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    """Move every clock (wall and monotonic) of this process, the in-process emulator's too."""
    offset = [0.0]
    real_time, real_mono = time.time, _retry._monotonic
    monkeypatch.setattr(time, "time", lambda: real_time() + offset[0])
    monkeypatch.setattr(_retry, "_monotonic", lambda: real_mono() + offset[0])
    return offset


def age(uri: str, clock: list[float], tok: Any, left: float) -> None:
    """Let time pass until ``tok`` has ``left`` seconds: every clock here, and Redis's TTLs."""
    clock[0] = tok.expires_at - time.time() + clock[0] - left
    parsed = parse_cache_uri(uri)
    if parsed.kind == "redis":  # Redis counts an entry's life by its own clock
        import redis

        client = redis.Redis.from_url(parsed.target)
        for key in client.keys("box-secrets:*"):
            client.pexpire(key, int(left * 1000))


def test_refresh_ahead_happens_once_for_the_fleet(app, console, cache_uri, clock) -> None:
    a, b = provider(app, cache_uri), provider(app, cache_uri)
    tok = a.get_token()
    first = tok.access_token
    assert b.get_token().access_token == first
    age(cache_uri, clock, tok, 250)  # inside the 300 s margin, still valid
    second = a.get_token().access_token
    assert second != first
    assert b.get_token().access_token == second  # b takes a's refresh, no request of its own
    assert token_requests(console) == 2


def test_while_another_refreshes_ahead_the_old_token_is_served(
    app, console, cache_uri, clock
) -> None:
    a = provider(app, cache_uri)
    tok = a.get_token()
    first = tok.access_token
    age(cache_uri, clock, tok, 250)
    b = provider(app, cache_uri)
    cache = b.token_cache
    assert cache is not None
    name = _name_of(b)
    lease = cache.lease(name, 30)  # "another process" is refreshing
    assert lease is not None
    try:
        started = time.monotonic()
        assert b.get_token().access_token == first
        assert time.monotonic() - started < 1  # served at once, no waiting
    finally:
        cache.release(lease)
    assert token_requests(console) == 1


def _name_of(p: TokenProvider) -> str:
    shared = p._shared
    assert shared is not None
    codec = shared.codec(p.source.load())
    return p._shared_name(codec, (*p._default_subject(), None, None, None))


def test_a_dead_lease_holder_holds_nobody_up_for_long(app, console, network_cache: str) -> None:
    p = provider(app, network_cache, deadline=4)  # lease life: 1 s
    cache = p.token_cache
    assert cache is not None
    held = cache.lease(_name_of(p), 1)  # taken, then its holder "dies"
    assert held is not None
    started = time.monotonic()
    assert p.get_token().access_token
    assert time.monotonic() - started < 3.5
    assert token_requests(console) == 1


def test_a_waiter_mints_itself_after_half_the_deadline(
    app, console, network_cache: str, caplog
) -> None:
    p = provider(app, network_cache, deadline=2)
    cache = p.token_cache
    assert cache is not None
    held = cache.lease(_name_of(p), 60)  # a holder alive but stuck, far past the deadline
    assert held is not None
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, "box_secrets"):
        assert p.get_token().access_token
    assert 0.9 < time.monotonic() - started < 2
    assert any("minting here" in r.getMessage() for r in caplog.records)
    cache.release(held)


# -- the cache failing ----------------------------------------------------------------------


def test_a_cache_that_is_down_costs_one_warning_and_no_failure(app, console, caplog) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here
    from box_secrets.tokens.cache import _flight

    _flight._warned = False
    before = cache_errors()
    with caplog.at_level(logging.DEBUG, "box_secrets"):
        p = provider(app, f"redis://127.0.0.1:{port}/0")
        assert p.get_token().access_token
        assert p.get_token(as_user=console.create_user(app.client_id, "u")).access_token
        assert provider(app, f"redis://127.0.0.1:{port}/0").get_token().access_token
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "minting tokens directly" in warnings[0].getMessage()
    assert cache_errors() > before


@pytest.mark.parametrize(
    "options",
    [
        ("--maxmemory", "1", "--maxmemory-policy", "noeviction"),  # full
        ("--replicaof", "127.0.0.1", "9"),  # a read-only replica of a master that is not there
    ],
    ids=["full", "read-only"],
)
def test_a_full_or_read_only_redis_still_gives_tokens(app, console, options) -> None:
    from .services import RedisServer, redis_binary

    binary = redis_binary()
    if binary is None:
        pytest.skip("redis-server is not installed: the full and read-only cases did not run")
    server = RedisServer(binary, *options)
    try:
        before = cache_errors()
        assert provider(app, server.url).get_token().access_token
        assert provider(app, server.url).get_token().access_token
        assert cache_errors() > before
    finally:
        server.stop()


def test_a_slow_cache_never_outlives_the_deadline(app, console) -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # accepts, never answers
    try:
        port = listener.getsockname()[1]
        started = time.monotonic()
        p = provider(app, f"redis://127.0.0.1:{port}/0?timeout=0.2")
        assert p.get_token().access_token
        assert time.monotonic() - started < 2
    finally:
        listener.close()


# -- URIs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("", "empty"),
        ("memcached://host", "not one box-secrets knows"),
        ("redis://user:pw@127.0.0.1/0", "user name or password"),
        ("redis://cache.example.com:6379/0", "plain http"),
        ("redis://127.0.0.1/99", "database number"),
        ("redis://127.0.0.1/0?timeout=nan", "0.05 to 10"),
        ("redis://127.0.0.1/0?password=x", "unknown parameter"),
        ("rediss://cache\\evil.com/0", "backslash"),
        ("dynamodb://", "table name"),
        ("dynamodb://t../x", "table name"),
        ("dynamodb://tokens?region=mars", "AWS region"),
        ("dynamodb://tokens?endpoint_url=http://10.0.0.1", "plain http"),
        ("dir:", "directory path"),
    ],
)
def test_bad_cache_uris_get_one_sentence(uri: str, words: str) -> None:
    with pytest.raises(InputError) as err:
        parse_cache_uri(uri)
    assert words in str(err.value)
    assert "pw" not in str(err.value)


def test_the_environment_names_the_cache_for_every_provider(
    app, console, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("BOX_SECRETS_TOKEN_CACHE", f"dir:{tmp_path / 'env-cache'}")
    TokenProvider(app.config, base_url=app.base_url).get_token()
    TokenProvider(app.config, base_url=app.base_url).get_token()
    assert token_requests(console) == 1
    assert TokenProvider(app.config, base_url=app.base_url, token_cache=None).token_cache is None
    with pytest.raises(InputError, match="not both"):
        TokenProvider(app.config, base_url=app.base_url, cache_dir=tmp_path, token_cache="dir:/x")


def test_the_dynamodb_cache_never_imports_boto3(app, tmp_path: Path, dynamodb_table) -> None:
    """A Lambda cold start pays for neither boto3 nor botocore (credentials from the env)."""
    import subprocess
    import sys

    config = app.write_config(tmp_path / "box.json")
    code = (
        "import sys\n"
        "from box_secrets.tokens import TokenProvider\n"
        f"p = TokenProvider({str(config)!r}, base_url={app.base_url!r}, "
        f"token_cache={dynamodb_table!r})\n"
        "print(p.access_token()[:2], p.token_cache.name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    first, modules = proc.stdout.splitlines()
    assert first.startswith("1! dynamodb://")
    assert modules == "[]"
    assert provider(app, dynamodb_table).get_token()  # and the entry it wrote is readable
    assert token_requests(app.console) == 1


def test_the_redis_acl_in_the_fleet_guide_is_enough(app, console, redis_server) -> None:
    """docs/fleet.md's ACL line, loaded into a real Redis: the cache works under it alone."""
    import re
    import shlex

    docs = (Path(__file__).parent.parent / "docs" / "fleet.md").read_text()
    (line,) = re.findall(r"^ACL SETUSER box-tokens .*$", docs, re.MULTILINE)
    args = shlex.split(line.replace("LONG-RANDOM-PASSWORD", "acl-test-password"))
    redis_server.command("FLUSHALL")
    assert b"OK" in redis_server.command(*args)
    try:
        env = {
            "BOX_SECRETS_REDIS_USERNAME": "box-tokens",
            "BOX_SECRETS_REDIS_PASSWORD": "acl-test-password",
        }
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            before = cache_errors()
            a, b = provider(app, redis_server.url), provider(app, redis_server.url)
            token = a.get_token()
            assert b.get_token().access_token == token.access_token
            b.refresh()  # compare-and-delete (EVALSHA, SCRIPT LOAD) under the ACL too
            a.revoke(a.get_token())
            assert cache_errors() == before
        assert token_requests(console) == 2
        # And the user can touch nothing outside its prefix, nor run anything else.
        import redis

        limited = redis.Redis(
            port=redis_server.port, username="box-tokens", password="acl-test-password"
        )
        for call in (lambda: limited.set("other:key", "x"), lambda: limited.keys("*")):
            with pytest.raises(redis.exceptions.NoPermissionError):
                call()
    finally:
        redis_server.command("ACL", "DELUSER", "box-tokens")


def test_a_giant_planted_entry_is_read_only_to_its_cap(app, console, redis_server) -> None:
    """Someone who can write the cache cannot make readers load megabytes."""
    redis_server.command("FLUSHALL")
    p = provider(app, redis_server.url)
    first = p.get_token().access_token
    (name,) = _entry_names(redis_server.url)
    import redis

    redis.Redis(port=redis_server.port).set(name, b"\x01" + b"x" * (8 * 1024 * 1024), px=600_000)
    cache = open_token_cache(redis_server.url)
    data, _ = cache.get(name) or (b"", None)
    assert len(data) == 64 * 1024 + 1
    before = cache_errors()
    again = provider(app, redis_server.url).get_token().access_token
    assert again != first and cache_errors() > before  # refused, minted, written back


def test_a_refused_token_is_not_taken_back_from_a_cache_that_kept_it(
    app, console, redis_server
) -> None:
    """The cache was down when the 401 came, so it still holds the refused token: it is a
    miss for the process that was refused, not the same token again."""
    import signal

    redis_server.command("FLUSHALL")
    p = provider(app, redis_server.url)
    old = p.get_token().access_token
    redis_server.proc.send_signal(signal.SIGSTOP)  # frozen: the call times out, data kept
    try:
        p.invalidate(old)  # the compare-and-delete cannot reach the cache
    finally:
        redis_server.proc.send_signal(signal.SIGCONT)
    p._shared._skip_until = 0.0  # type: ignore[union-attr]  # the 5 s pause, over
    assert provider(app, redis_server.url).get_token().access_token == old  # still cached
    assert p.get_token().access_token != old


def test_rediss_verifies_the_servers_certificate(app, console, tmp_path: Path) -> None:
    """A real redis-server over TLS: shared when its certificate is trusted (``ca_cert=``),
    never spoken to when not (the fleet then mints directly, counted)."""
    from .services import RedisServer, make_tls_files, redis_binary

    binary = redis_binary()
    if binary is None:
        pytest.skip("redis-server is not installed: the rediss:// test did not run")
    ca, cert, key = make_tls_files(tmp_path, "localhost")
    other_ca, _, _ = make_tls_files(tmp_path, "elsewhere.test")
    server = RedisServer(binary, tls=(ca, cert, key))
    try:
        good = f"rediss://localhost:{server.tls_port}/0?ca_cert={ca}"
        before = cache_errors()
        first = provider(app, good).get_token().access_token
        assert provider(app, good).get_token().access_token == first
        assert cache_errors() == before and token_requests(console) == 1
        assert b"box-secrets:" in server.command("KEYS", "*")  # it really went over TLS
        for untrusted in (
            f"rediss://localhost:{server.tls_port}/0?ca_cert={other_ca}",
            f"rediss://localhost:{server.tls_port}/0",
        ):  # the system's CAs
            errors_before = cache_errors()
            assert provider(app, untrusted).get_token().access_token != first
            assert cache_errors() > errors_before
    finally:
        server.stop()


def test_a_dynamodb_table_that_is_not_there_still_gives_tokens(app, console, moto) -> None:
    before = cache_errors()
    uri = f"dynamodb://no-such-table?region=us-east-1&endpoint_url={moto.url}"
    assert provider(app, uri).get_token().access_token
    assert provider(app, uri).get_token().access_token
    assert cache_errors() > before
    assert token_requests(console) == 2


def test_any_object_with_the_interface_is_a_token_cache(app, console) -> None:
    """The interface is small enough to implement for another store (here: a dict)."""
    import secrets as _secrets

    class MemoryCache:
        kind, sealed, name = "memory", True, "memory:"

        def __init__(self) -> None:
            self.items: dict[str, bytes] = {}

        def get(self, name: str) -> tuple[bytes, float | None] | None:
            return (self.items[name], None) if name in self.items else None

        def put(self, name: str, data: bytes, ttl: float) -> None:
            self.items[name] = data

        def delete(self, name: str, data: bytes) -> None:
            if self.items.get(name) == data:
                del self.items[name]

        def lease(self, name: str, ttl: float) -> object | None:
            key = name + ":lease"
            if key in self.items:
                return None
            self.items[key] = fence = _secrets.token_bytes(8)
            return (key, fence)

        def release(self, lease: object) -> None:
            key, fence = lease  # type: ignore[misc]
            if self.items.get(key) == fence:
                del self.items[key]

    shared = MemoryCache()
    first = provider(app, shared).get_token()  # type: ignore[arg-type]
    assert provider(app, shared).get_token().access_token == first.access_token  # type: ignore[arg-type]
    assert token_requests(console) == 1
    assert all(first.access_token.encode() not in v for v in shared.items.values())  # sealed
    with pytest.raises(InputError, match="cache URI or a TokenCache"):
        provider(app, object())  # type: ignore[arg-type]
