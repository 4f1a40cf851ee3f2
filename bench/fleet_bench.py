"""A fleet starting cold at once: requests to Box, time to tokens, warm cost, per token cache.

    .venv/bin/python bench/fleet_bench.py [--hosts 4] [--procs 4] [--threads 8] [--box-latency 0.1]

H simulated hosts (each its own process tree: a host process that starts P
worker processes, with its own directory cache) x P processes x T threads all
ask for a token at the same moment, against the Box emulator (which answers
each token request after ``--box-latency`` seconds, like a real round trip).
Each row is one cache: none, ``dir:`` (per host), a real redis-server, and
DynamoDB on the moto server; and, in the same run, box-sdk-gen's
``BoxJWTAuth`` with its default in-memory token storage. Measured: token
requests Box received, the time from the burst until every process holds a
token, and the warm ``get_token`` cost (measured alone in this process, with
its token cached, so the fleet's load does not blur it).
Prints a Markdown table (docs/benchmarks.md records one run and this command).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, Emulator, fmt, make_app, per_call

sys.path.insert(0, str(ROOT))

from tests.services import MotoServer, RedisServer, redis_binary

#: One host: start P workers (its own process tree) and wait for them.
HOST = """
import os, subprocess, sys
procs = [subprocess.Popen([sys.executable, "-c", os.environ["FLEET_WORKER"]])
         for _ in range(int(os.environ["FLEET_PROCS"]))]
sys.exit(max(p.wait() for p in procs))
"""

#: One process: T threads wait for the burst, each gets a token.
WORKER = """
import json, os, sys, threading, time
kind, threads = os.environ["FLEET_KIND"], int(os.environ["FLEET_THREADS"])
start_at = float(os.environ["FLEET_START_AT"])
if kind == "box-sdk-gen":
    from box_sdk_gen import BaseUrls, BoxJWTAuth, JWTConfig, NetworkSession
    session = NetworkSession(base_urls=BaseUrls(base_url=os.environ["BOX_API_BASE_URL"]))
    auth = BoxJWTAuth(config=JWTConfig.from_config_file(os.environ["FLEET_CONFIG"]))
    get = lambda: auth.retrieve_token(network_session=session).access_token
else:
    from box_secrets.tokens import TokenProvider
    cache = os.environ.get("FLEET_CACHE") or None
    provider = TokenProvider(os.environ["FLEET_CONFIG"], token_cache=cache)
    get = lambda: provider.get_token().access_token
done = []
def run():
    time.sleep(max(0.0, start_at - time.time()))
    done.append((get(), time.time()))
workers = [threading.Thread(target=run) for _ in range(threads)]
for w in workers: w.start()
for w in workers: w.join()
n = 20000
t = time.perf_counter()
for _ in range(n): get()
warm = (time.perf_counter() - t) / n
with open(os.environ["FLEET_OUT"], "a") as out:
    out.write(json.dumps({"tokens": sorted({v for v, _ in done}),
                          "ready": max(t for _, t in done), "warm": warm}) + "\\n")
"""


def warm_cost(kind: str, cache: str | None, config: str, base_url: str, tmp: Path) -> float:
    """One quiet process's cost of get_token with its token cached (measured here, alone)."""
    if kind == "box-sdk-gen":
        from box_sdk_gen import BaseUrls, BoxJWTAuth, JWTConfig, NetworkSession

        session = NetworkSession(base_urls=BaseUrls(base_url=base_url))
        auth = BoxJWTAuth(config=JWTConfig.from_config_file(config))
        auth.retrieve_token(network_session=session)
        return per_call(lambda: auth.retrieve_token(network_session=session), 20_000)
    from box_secrets.tokens import TokenProvider

    uri = f"dir:{tmp / 'warm'}" if cache == "dir" else cache
    provider = TokenProvider(config, base_url=base_url, token_cache=uri)
    provider.get_token()
    return per_call(provider.get_token, 20_000)


def burst(
    kind: str, cache: str | None, args: argparse.Namespace, emu: Emulator, config: str, tmp: Path
) -> tuple[int, float]:
    """Run one cold fleet; (requests Box got, seconds until every process holds a token)."""
    out = tmp / f"{kind}.jsonl"
    before = emu.token_requests()
    # Everyone is started first; the burst is set far enough ahead that all have imported.
    start_at = time.time() + 2.0 + 0.15 * args.hosts * args.procs
    hosts = []
    for host in range(args.hosts):
        env = {
            **os.environ,
            "FLEET_WORKER": WORKER,
            "FLEET_PROCS": str(args.procs),
            "FLEET_THREADS": str(args.threads),
            "FLEET_KIND": kind,
            "FLEET_CONFIG": config,
            "FLEET_START_AT": str(start_at),
            "FLEET_OUT": str(out),
            "BOX_API_BASE_URL": emu.base_url,
        }
        if cache == "dir":
            env["FLEET_CACHE"] = f"dir:{tmp / f'{kind}-host{host}'}"
        elif cache:
            env["FLEET_CACHE"] = cache
        hosts.append(subprocess.Popen([sys.executable, "-c", HOST], env=env))
    for proc in hosts:
        if proc.wait(timeout=600) != 0:
            raise SystemExit(f"a {kind} host failed")
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == args.hosts * args.procs
    ready = max(line["ready"] for line in lines) - start_at
    return emu.token_requests() - before, ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--procs", type=int, default=4, help="processes per host")
    parser.add_argument("--threads", type=int, default=8, help="threads per process")
    parser.add_argument("--box-latency", type=float, default=0.1, help="seconds per token request")
    args = parser.parse_args()
    import boto3

    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1"
    )
    emu, moto = Emulator(), MotoServer()
    binary = redis_binary()
    redis = RedisServer(binary) if binary else None
    tmp = Path(tempfile.mkdtemp())
    try:
        emu.console.set_latency(args.box_latency)
        config = str(tmp / "box.json")
        make_app(emu).save(config)
        table = "fleet-bench-tokens"
        boto3.client("dynamodb", endpoint_url=moto.url, region_name="us-east-1").create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        runs: list[tuple[str, str, str | None]] = [
            ("box-secrets, no shared cache", "none", None),
            ("box-secrets, dir: per host", "dir", "dir"),
        ]
        if redis is not None:
            runs.append(("box-secrets, redis://", "redis", redis.url))
        runs.append(
            (
                "box-secrets, dynamodb://",
                "dynamodb",
                f"dynamodb://{table}?region=us-east-1&endpoint_url={moto.url}",
            )
        )
        runs.append(("box-sdk-gen, default storage", "box-sdk-gen", None))
        total = args.hosts * args.procs
        rtt = f"{args.box_latency * 1000:.0f} ms"
        print(
            f"### A fleet starting cold: {args.hosts} hosts x {args.procs} processes x "
            f"{args.threads} threads ({total} processes), Box round trip {rtt}\n"
        )
        print(
            "| cache | token requests to Box | until every process has a token | warm get_token |"
        )
        print("|---|---|---|---|")
        for label, kind, cache in runs:
            requests, ready = burst(kind, cache, args, emu, config, tmp)
            warm = warm_cost(kind, cache, config, emu.base_url, tmp)
            print(f"| {label} | {requests} | {fmt(ready)} | {fmt(warm)} |")
        if redis is None:
            print("\nredis-server is not installed: the redis row did not run.")
    finally:
        if redis is not None:
            redis.stop()
        moto.stop()
        emu.stop()


if __name__ == "__main__":
    main()
