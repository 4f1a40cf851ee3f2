"""The first hour as a new user: a config to start from, the SDK wired up, the docs' commands.

Everything a new user would otherwise write a script for, run as they would.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from box_secrets import TokenProvider, errors
from box_secrets.stores._config import BoxAppConfig

from .helpers import assert_clean_error, run_cli


def test_the_console_generates_a_keypair_as_box_downloads_it(box_console, box_emulator) -> None:
    app = box_console.create_app()
    config = box_console.new_keypair(app["client_id"])
    settings = config["boxAppSettings"]
    assert set(settings) == {"clientID", "clientSecret", "appAuth"}
    assert set(settings["appAuth"]) == {"publicKeyID", "privateKey", "passphrase"}
    # Encrypted under the passphrase beside it, as Box's download is: no key without it.
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    pem = settings["appAuth"]["privateKey"].encode()
    with pytest.raises(TypeError):  # "Password was not given but private key is encrypted"
        load_pem_private_key(pem, password=None)
    load_pem_private_key(pem, password=settings["appAuth"]["passphrase"].encode())
    assert config["enterpriseID"] == app["enterprise_id"]
    ids = [k["id"] for k in box_console.list_keys(app["client_id"])]
    assert settings["appAuth"]["publicKeyID"] in ids  # registered to the app
    parsed = BoxAppConfig.from_json(json.dumps(config))
    token = TokenProvider(parsed, base_url=box_emulator.base_url).get_token()
    assert token.access_token
    # box-sdk-gen loads the same file and gets a token from the emulator.
    from box_sdk_gen import BaseUrls, BoxClient, BoxJWTAuth, JWTConfig, NetworkSession

    auth = BoxJWTAuth(config=JWTConfig.from_config_json_string(json.dumps(config)))
    session = NetworkSession(base_urls=BaseUrls(base_url=box_emulator.base_url))
    assert BoxClient(auth=auth, network_session=session).users.get_user_me().type == "user"


def test_a_ccg_app_has_no_keypair_to_generate(box_console) -> None:
    from box_secrets.emulator._console import ConsoleError

    app = box_console.create_app(auth_method="ccg")
    with pytest.raises(ConsoleError) as refused:
        box_console.new_keypair(app["client_id"])
    assert refused.value.status == 400


def _start_emulator(*args: str, cwd: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "box_secrets", "emulator", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()  # type: ignore[union-attr]
    assert line, proc.stderr.read()  # type: ignore[union-attr]
    return proc, json.loads(line)


def test_emulator_new_app_writes_a_config_to_start_from(tmp_path: Path) -> None:
    proc, announced = _start_emulator("--new-app", "box_config.json", cwd=tmp_path)
    try:
        path = tmp_path / "box_config.json"
        assert announced["config"] == str(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        env = {"BOX_API_BASE_URL": announced["base_url"]}
        store = f"file:{tmp_path / 'box.json'}"
        init = run_cli("init", "--config", str(path), "--store", store, env=env)
        assert init.returncode == 0, init.stderr
        token = run_cli("token", "--store", store, env=env)
        assert token.returncode == 0 and token.stdout.strip(), token.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize("kind", ["exists", "symlink", "no-directory"])
def test_emulator_new_app_never_overwrites(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "box_config.json"
    if kind == "exists":
        target.write_text("mine")
    elif kind == "symlink":
        target.symlink_to(tmp_path / "elsewhere.json")
    else:
        target = tmp_path / "missing" / "box_config.json"
    started = time.monotonic()
    proc = run_cli("emulator", "--new-app", str(target), timeout=30)
    assert_clean_error(proc, 2)
    assert time.monotonic() - started < 30
    if kind == "exists":
        assert target.read_text() == "mine"
    if kind == "symlink":
        assert not (tmp_path / "elsewhere.json").exists()


def test_the_emulator_honours_as_user_on_users_me(box_console, box_emulator) -> None:
    import urllib.error
    import urllib.request

    app = box_console.create_app()
    config = box_console.new_keypair(app["client_id"])
    user = box_console.create_user(app["client_id"], "Ada")
    token = TokenProvider(
        BoxAppConfig.from_json(json.dumps(config)), base_url=box_emulator.base_url
    ).access_token()

    def me(as_user: str | None) -> tuple[int, dict[str, object]]:
        headers = {"Authorization": f"Bearer {token}"}
        if as_user is not None:
            headers["As-User"] = as_user
        req = urllib.request.Request(f"{box_emulator.base_url}/2.0/users/me", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    status, body = me(None)
    assert status == 200 and body["id"] != user
    status, body = me(user)
    assert status == 200 and body["id"] == user and body["name"] == "Ada"
    status, body = me("999999999")  # not a user of the enterprise
    assert status in (403, 404), body


def test_sdk_client_talks_to_the_providers_box(box_console, box_emulator) -> None:
    from box_secrets.sdk import client

    app = box_console.create_app()
    config = BoxAppConfig.from_json(json.dumps(box_console.new_keypair(app["client_id"])))
    provider = TokenProvider(config, base_url=box_emulator.base_url)
    before = box_console.stats()
    me = client(provider).users.get_user_me()
    assert me.type == "user"
    after = box_console.stats()
    assert sum(after.values()) > sum(before.values())  # it reached the emulator, not api.box.com


def test_sdk_client_names_the_extra_when_missing(monkeypatch, box_emulator) -> None:
    import builtins

    real = builtins.__import__

    def no_sdk(name: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name.startswith("box_sdk_gen"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    from box_secrets.sdk import client

    monkeypatch.setattr(builtins, "__import__", no_sdk)
    with pytest.raises(errors.MissingExtraError, match="sdk"):
        client(TokenProvider("/nonexistent.json", base_url=box_emulator.base_url))
    assert os.environ.get("PATH")


@pytest.fixture(scope="module")
def wheel_tree(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """The project's wheel, built as pip builds it, unpacked: what a user without a clone has."""
    import zipfile

    from .helpers import ROOT

    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("box_secrets-*.whl")
    tree = out / "tree"
    zipfile.ZipFile(built).extractall(tree)
    return tree


def test_the_wheel_carries_the_docs_and_the_terraform_modules(wheel_tree: Path, tmp_path) -> None:
    assert (wheel_tree / "box_secrets" / "_docs" / "runbook.md").is_file()
    modules = wheel_tree / "box_secrets" / "_terraform_modules" / "modules"
    assert (modules / "aws-secrets-manager-rotation" / "main.tf").is_file()
    assert (modules / "scheduled-rotation" / "main.tf").is_file()
    env = {**os.environ, "PYTHONPATH": str(wheel_tree)}
    proc = subprocess.run(
        [sys.executable, "-m", "box_secrets", "help", "runbook"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,  # not the clone: only the wheel's files
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# ") and "Developer Console" in proc.stdout
    probe = subprocess.run(
        [sys.executable, "-c", "import box_secrets; print(box_secrets.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert probe.stdout.startswith(str(wheel_tree)), probe.stdout


def test_every_page_an_error_names_is_a_help_topic() -> None:
    import re

    from box_secrets.cli._help import topics

    from .helpers import ROOT

    named = set()
    for path in (ROOT / "box_secrets").rglob("*.py"):
        named |= set(re.findall(r"box-secrets help ([a-z-]+)", path.read_text()))
    assert named and named <= set(topics()), named - set(topics())


@pytest.mark.parametrize("named_by", ["name", "arn"])
def test_init_fills_a_secret_made_empty_beforehand(
    named_by: str, moto, make_app, monkeypatch
) -> None:
    """The Terraform module makes the secret empty; `init --store <its store_uri>` fills it."""
    import uuid

    import boto3

    from box_secrets.rotation import RotationEngine

    sm = boto3.client("secretsmanager", endpoint_url=moto.url, region_name="us-east-1")
    name = f"made-empty/{uuid.uuid4().hex[:10]}"
    arn = sm.create_secret(Name=name)["ARN"]
    before = len(sm.list_secrets()["SecretList"])
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "us-east-1")  # AWS_REGION alone, as Lambda and CLI v2 use
    uri = f"aws-sm://{arn if named_by == 'arn' else name}"
    app = make_app()
    outcome = RotationEngine(uri, base_url=app.base_url).init(config=app.config)
    assert outcome.action == "initialised"
    assert len(sm.list_secrets()["SecretList"]) == before  # filled, no second secret made
    labels = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
    assert any("AWSCURRENT" in s for s in labels.values())
    assert TokenProvider(uri, base_url=app.base_url).get_token().access_token


def test_a_region_contradicting_the_arn_is_refused() -> None:
    from box_secrets.stores._uri import parse_store_uri

    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/box-app-GNIYdB"
    assert parse_store_uri(f"aws-sm://{arn}").location == arn
    with pytest.raises(errors.StoreURIError, match="contradicts"):
        parse_store_uri(f"aws-sm://{arn}?region=us-east-1")
    from box_secrets._aws import region_for

    assert region_for(arn, None) == "eu-west-1"
