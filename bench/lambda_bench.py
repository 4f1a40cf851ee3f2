"""A function that mints Box tokens inside Lambda: cold start and warm cost.

    .venv/bin/python bench/lambda_bench.py

box-secrets (through AWS's Parameters and Secrets extension, and through
boto3) against what a Lambda user would pick instead: Powertools'
``parameters.get_secret`` plus box-sdk-gen's ``BoxJWTAuth``. Same moto server,
same Box emulator, same run; the extension is the test suite's stand-in.
Cold start is measured inside a fresh process, from before the first import
to the first token (interpreter start-up, common to both, is not counted).
With a DynamoDB token cache (``BOX_SECRETS_TOKEN_CACHE``) two cold starts are
timed: a hit (another instance of the fleet minted the token) and a miss (this
instance mints and writes it for the others).
Prints a Markdown table (docs/benchmarks.md records one run and this command).
"""

from __future__ import annotations

import json
import os
import sys

from _common import ROOT, Emulator, child_seconds, fmt, make_app, per_call, ratio, table

sys.path.insert(0, str(ROOT))

from tests.services import MotoServer, SecretsExtension

SESSION = "bench-session-token"

OURS = """
import time
t = time.perf_counter()
import box_secrets
box_secrets.access_token({uri!r})
print(time.perf_counter() - t)
"""

THEIRS = """
import time
t = time.perf_counter()
from aws_lambda_powertools.utilities import parameters
from box_sdk_gen import BaseUrls, BoxJWTAuth, JWTConfig, NetworkSession
text = parameters.get_secret({name!r})
auth = BoxJWTAuth(config=JWTConfig.from_config_json_string(text))
auth.retrieve_token(network_session=NetworkSession(base_urls=BaseUrls(base_url={base!r})))
print(time.perf_counter() - t)
"""


def main() -> None:
    import boto3

    from box_secrets.rotation import import_config
    from box_secrets.stores import open_store

    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    emu = Emulator()
    moto = MotoServer()
    ext = SecretsExtension(moto.url, SESSION)
    try:
        config = make_app(emu)
        name = "bench/box-app"
        store = open_store(f"aws-sm://{name}?region=us-east-1&endpoint_url={moto.url}")
        import_config(store, config)
        env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": moto.url,
            "AWS_LAMBDA_FUNCTION_NAME": "consumer",
            "AWS_SESSION_TOKEN": SESSION,
            "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(ext.port),
            "BOX_API_BASE_URL": emu.base_url,
        }
        uri = f"aws-sm://{name}"
        rows: list[tuple[str, str, str, str]] = []
        theirs_cold = child_seconds(THEIRS.format(name=name, base=emu.base_url), env=env)
        ours_ext = child_seconds(OURS.format(uri=uri), env=env)
        ours_boto = child_seconds(
            OURS.format(uri=uri), env={**env, "BOX_SECRETS_SECRETS_EXTENSION": "0"}
        )
        rows.append(
            (
                "cold start: import + first token (secrets extension)",
                fmt(ours_ext),
                fmt(theirs_cold),
                ratio(ours_ext, theirs_cold),
            )
        )
        for label, seconds in _cached_cold_starts(moto.url, uri, env):
            rows.append((label, fmt(seconds), fmt(theirs_cold), ratio(seconds, theirs_cold)))
        rows.append(
            (
                "cold start: import + first token (boto3, no extension)",
                fmt(ours_boto),
                fmt(theirs_cold),
                ratio(ours_boto, theirs_cold),
            )
        )

        # Warm invocations: the same process, the token already cached.
        os.environ.update(env)
        from aws_lambda_powertools.utilities import parameters
        from box_sdk_gen import BaseUrls, BoxJWTAuth, JWTConfig, NetworkSession

        import box_secrets

        box_secrets.access_token(uri)
        ns = NetworkSession(base_urls=BaseUrls(base_url=emu.base_url))
        auth = BoxJWTAuth(config=JWTConfig.from_config_json_string(parameters.get_secret(name)))
        auth.retrieve_token(network_session=ns)

        def theirs_warm() -> None:
            parameters.get_secret(name)  # Powertools' 5-minute cache
            auth.retrieve_token(network_session=ns)

        ours_warm = per_call(lambda: box_secrets.access_token(uri), 20_000)
        theirs_warm_s = per_call(theirs_warm, 20_000)
        rows.append(
            (
                "warm invocation: a cached token",
                fmt(ours_warm),
                fmt(theirs_warm_s),
                ratio(ours_warm, theirs_warm_s),
            )
        )
        print(
            table(
                "A Lambda function minting tokens " + _versions(), rows, "Powertools + box-sdk-gen"
            )
        )
        print(f"secrets extension requests: {ext.hits}; boto3 {boto3.__version__}")
    finally:
        ext.stop()
        moto.stop()
        emu.stop()


def _cached_cold_starts(moto_url: str, uri: str, env: dict[str, str]) -> list[tuple[str, float]]:
    """Cold starts through the secrets extension with a DynamoDB token cache: hit and miss."""
    import statistics
    import subprocess

    import boto3

    table = "bench-box-tokens"
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1")
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    cached = {**env, "BOX_SECRETS_TOKEN_CACHE": f"dynamodb://{table}?region=us-east-1"}

    def clear() -> None:
        for item in dynamodb.scan(TableName=table)["Items"]:
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"]})

    def one() -> float:
        out = subprocess.run(
            [sys.executable, "-c", OURS.format(uri=uri)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **cached},
            cwd=ROOT,
        ).stdout
        return float(out.strip().splitlines()[-1])

    misses = []
    for _ in range(7):
        clear()
        misses.append(one())
    hit = child_seconds(OURS.format(uri=uri), env=cached)  # the last miss wrote the entry
    return [
        ("cold start, DynamoDB token cache hit (secrets extension)", hit),
        ("cold start, DynamoDB token cache miss: mint and write", statistics.median(misses)),
    ]


def _versions() -> str:
    from importlib.metadata import version

    return json.dumps(
        {p: version(p) for p in ("box-sdk-gen", "aws-lambda-powertools", "boto3")}
    ).replace('"', "")


if __name__ == "__main__":
    main()
