"""``box-secrets token`` as a whole process: a cache hit and a mint, beside box-sdk-gen.

    .venv/bin/python bench/cli_token_bench.py

Scripts and cron jobs run the command once per use, so what counts is the
whole process. Aims: a hit in the cache directory within 30 ms of
``python -c pass``; a mint within 80 ms of it plus Box's round trip. Beside
it, in the same run, the script a box-sdk-gen user would run instead (the
SDK has no command line): build ``BoxJWTAuth`` from the same config file and
print a token. The emulator answers on loopback, so the round trip is about
a millisecond. Wall-clock medians of fresh processes.
Prints a Markdown table (docs/benchmarks.md records one run and this command).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, Emulator, fmt, make_app, wall_seconds

sys.path.insert(0, str(ROOT))

from tests.services import RedisServer, redis_binary

SDK_SCRIPT = """
import os
from box_sdk_gen import BaseUrls, BoxJWTAuth, JWTConfig, NetworkSession
session = NetworkSession(base_urls=BaseUrls(base_url=os.environ["BOX_API_BASE_URL"]))
auth = BoxJWTAuth(config=JWTConfig.from_config_file(os.environ["BENCH_CONFIG"]))
print(auth.retrieve_token(network_session=session).access_token)
"""


def main() -> None:
    from box_secrets.rotation import import_config
    from box_secrets.stores import open_store

    emu = Emulator()
    try:
        tmp = Path(tempfile.mkdtemp())
        config = make_app(emu)
        config_path = str(tmp / "box_config.json")
        config.save(config_path)
        store = f"file:{tmp / 'store.json'}"
        import_config(open_store(store), config)
        env = {**os.environ, "BOX_API_BASE_URL": emu.base_url, "BENCH_CONFIG": config_path}
        program = str(Path(sys.executable).parent / "box-secrets")
        cache = ["--cache-dir", str(tmp / "cache")]
        hit = [program, "token", "--store", store, *cache]
        subprocess.run(hit, env=env, check=True, capture_output=True)  # the entry to hit
        python = wall_seconds([sys.executable, "-c", "pass"], runs=21, env=env)
        rows = [
            ("`python -c pass`", python),
            (
                "`box-secrets token --store file:... --cache-dir D`: a hit",
                wall_seconds(hit, runs=21, env=env),
            ),
            (
                "`box-secrets token --store file:...`: a mint",
                wall_seconds([program, "token", "--store", store], runs=21, env=env),
            ),
            (
                "`box-secrets token --config box_config.json`: a mint (the key is validated)",
                wall_seconds([program, "token", "--config", config_path], runs=21, env=env),
            ),
            (
                "box-sdk-gen: a script minting from box_config.json",
                wall_seconds([sys.executable, "-c", SDK_SCRIPT], runs=9, env=env),
            ),
        ]
        binary = redis_binary()
        if binary is not None:  # a hit in Redis alone: redis-py's import and AES-GCM's
            redis = RedisServer(binary)
            try:
                shared = [program, "token", "--store", store, "--token-cache", redis.url]
                subprocess.run(shared, env=env, check=True, capture_output=True)
                rows.append(
                    (
                        "`box-secrets token --store file:... --token-cache redis://...`: a hit",
                        wall_seconds(shared, runs=21, env=env),
                    )
                )
            finally:
                redis.stop()
        print("| whole process | wall (median) | over `python -c pass` |")
        print("|---|---|---|")
        for label, seconds in rows:
            over = "-" if seconds is python else fmt(seconds - python)
            print(f"| {label} | {fmt(seconds)} | {over} |")
        print(f"\ntoken requests Box received: {emu.token_requests()}")
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
