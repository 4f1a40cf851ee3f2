"""A fleet of real processes sharing one token cache, with the faults a fleet meets.

Every worker is its own Python process (its own in-process cache, its own
connections); "hosts" with their own clocks are processes whose ``time.time``
is moved by a sitecustomize shim. Box is the emulator, Redis a real
redis-server, DynamoDB the moto server; requests to Box are counted by the
emulator.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

WORKER = """
import json, logging, sys, time
logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
from box_secrets.tokens import TokenProvider
config, base_url, cache, deadline = sys.argv[1:5]
started = time.monotonic()
provider = TokenProvider(config, base_url=base_url, token_cache=cache, deadline=float(deadline))
token = provider.get_token()
print(json.dumps({"token": token.access_token, "expires_at": token.expires_at,
                  "took": time.monotonic() - started}))
"""

#: Moves this process's wall clock: the "host" runs N seconds ahead (or behind).
CLOCK_SHIM = """
import os, time
_offset = float(os.environ.get("FLEET_TEST_CLOCK_OFFSET", "0") or 0)
if _offset:
    _real = time.time
    time.time = lambda: _real() + _offset
"""


def token_requests(console) -> int:  # type: ignore[no-untyped-def]
    return int(console.stats().get("POST /oauth2/token", 0))


@pytest.fixture(params=["dir", "redis", "dynamodb"])
def fleet_cache(request, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "dir":
        return f"dir:{tmp_path / 'tokens'}"
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        server.command("FLUSHALL")
        return str(server.url)
    return str(request.getfixturevalue("dynamodb_table"))


@pytest.fixture
def config_file(app, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    return app.write_config(tmp_path / "box.json")


def start(
    config: Path,
    base_url: str,
    cache: str,
    *,
    deadline: float = 20,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(config), base_url, cache, str(deadline)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[dict[str, Any], str]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-2000:]
    return json.loads(out), err


def test_sixteen_cold_processes_make_one_request(app, console, config_file, fleet_cache) -> None:
    console.set_latency(0.2)  # the first request is in flight while the others miss
    procs = [start(config_file, app.base_url, fleet_cache) for _ in range(16)]
    results = [finish(p)[0] for p in procs]
    assert len({r["token"] for r in results}) == 1
    assert token_requests(console) == 1


def test_killing_the_lease_holder_mid_request_holds_nobody_up(
    app, console, config_file, fleet_cache
) -> None:
    console.set_latency(2.0)
    holder = start(config_file, app.base_url, fleet_cache, deadline=8)  # lease life 2 s
    deadline = time.monotonic() + 30
    while token_requests(console) < 1:  # it holds the lease and waits on Box
        assert time.monotonic() < deadline, "the holder never asked Box"
        time.sleep(0.02)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    console.set_latency(0)  # Box answers the next request at once (the dead one's still waits)
    started = time.monotonic()
    waiters = [start(config_file, app.base_url, fleet_cache, deadline=8) for _ in range(3)]
    results = [finish(p)[0] for p in waiters]
    assert time.monotonic() - started < 8  # within the deadline
    assert len({r["token"] for r in results}) == 1  # one of them minted, for all
    assert token_requests(console) == 2  # the dead holder's request, and one more


def test_redis_stopped_and_restarted_while_sixteen_processes_mint(
    app, console, config_file, redis_server
) -> None:
    redis_server.command("FLUSHALL")
    console.set_latency(0.5)
    procs = [start(config_file, app.base_url, redis_server.url, deadline=15) for _ in range(16)]
    deadline = time.monotonic() + 30
    while token_requests(console) < 1:
        assert time.monotonic() < deadline, "nobody asked Box"
        time.sleep(0.02)
    redis_server.stop()
    time.sleep(0.3)
    redis_server.start()
    results = [finish(p) for p in procs]
    assert all(r[0]["token"].startswith("1!") for r in results)
    assert all(r[0]["took"] < 15 for r in results)
    for _, err in results:  # at most one warning per process, however many failures
        assert err.count("minting tokens directly") <= 1, err
    assert token_requests(console) <= 16


@pytest.mark.parametrize("kind", ["redis", "dynamodb"])
def test_hosts_with_clocks_a_minute_apart_share_one_token(
    app, console, config_file, tmp_path: Path, request, kind: str
) -> None:
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(CLOCK_SHIM)
    if kind == "redis":
        server = request.getfixturevalue("redis_server")
        server.command("FLUSHALL")
        cache = str(server.url)
    else:
        cache = str(request.getfixturevalue("dynamodb_table"))

    def host(offset: int) -> dict[str, Any]:
        env = {
            "PYTHONPATH": f"{shim}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            "FLEET_TEST_CLOCK_OFFSET": str(offset),
        }
        return finish(start(config_file, app.base_url, cache, env=env))[0]

    ahead, behind = host(+30), host(-30)
    assert ahead["token"] == behind["token"]
    assert token_requests(console) == 1
    # The expiry each host holds, on the true clock. Redis tells every reader the time
    # left by its own clock, so both agree; DynamoDB has no clock, so the host behind
    # believes the writer's clock, 60 s off: well inside the 300 s refresh margin.
    ahead_true, behind_true = ahead["expires_at"] - 30, behind["expires_at"] + 30
    assert abs(ahead_true - behind_true) < (5 if kind == "redis" else 65)
