"""The whole lifecycle through the CLI, as real processes, on every backend; and the notifiers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from box_secrets.rotation._invariants import InvariantChecker
from box_secrets.stores import open_store

from .helpers import assert_clean_error, pem_chunks, run_cli
from .rotation_support import new_rig


def cli(
    base_url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "BOX_API_BASE_URL": base_url, **(env or {})}
    full.pop("BOX_SECRETS_STORE", None)
    return subprocess.run(
        [sys.executable, "-m", "box_secrets", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=180,
    )


def sdk_works(uri: str, base_url: str) -> None:
    from box_sdk_gen import BaseUrls, BoxClient, BoxJWTAuth, JWTConfig, NetworkSession

    text = json.dumps(open_store(uri).read_current_data())
    client = BoxClient(
        auth=BoxJWTAuth(config=JWTConfig.from_config_json_string(text)),
        network_session=NetworkSession(base_urls=BaseUrls(base_url=base_url)),
    )
    assert client.users.get_user_me().type == "user"


def _stepper(app: Any, store_uri: str) -> Any:
    """Run one CLI command as a process; check its exit code, its silence about secrets, the invariants."""
    base, checker = app.base_url, InvariantChecker(open_store(store_uri))
    env = {"APP_SECRET": app.client_secret}

    def step(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        proc = cli(base, *args, "--store", store_uri, env=env)
        assert proc.returncode == code, (args, proc.returncode, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        for secret in (app.client_secret, *_stored_secrets(store_uri)):
            assert secret not in proc.stdout + proc.stderr, f"{args} printed a secret"
        checker.assert_ok()
        return proc

    return step


def test_first_key_through_the_cli(store_uri: str, make_app) -> None:
    """A new app: init stages a key, the person registers it, rotate makes it active."""
    app = make_app()
    app.console.delete_key(app.client_id, app.kid)  # a new app: no key registered yet
    step = _stepper(app, store_uri)
    init_args = (
        "init",
        "--client-id",
        app.client_id,
        "--client-secret-env",
        "APP_SECRET",
        "--enterprise-id",
        app.enterprise_id,
    )
    init = step(*init_args, code=3)
    assert "BEGIN PUBLIC KEY" in init.stdout  # the notification went to stdout
    step(*init_args, code=3)  # idempotent
    status = json.loads(step("status", "--json").stdout)
    assert status["state"] == "awaiting-first-registration" and status["active"] is None
    kid1 = app.console.add_key(app.client_id, status["pending"]["public_key_pem"])
    step("register", "--public-key-id", kid1)
    step("rotate")
    sdk_works(store_uri, app.base_url)
    token = step("token").stdout.strip()
    assert token.startswith("1!")


# Secrets Manager through the CLI: the first key and the retirement tests cover it.
@pytest.mark.parametrize("store_uri", ["file", "vault"], indirect=True)
def test_rotation_through_the_cli(store_uri: str, make_app) -> None:
    """An active key (set up in-process): rotate, register, promote, retire, all as processes."""
    app = make_app()
    new_rig(store_uri, lambda: app)  # active, with the app's registered key
    kid1, base = app.kid, app.base_url
    step = _stepper(app, store_uri)
    notice = step("rotate", "--force", code=3).stdout
    assert "Add a Public Key" in notice and "BEGIN PUBLIC KEY" in notice
    step("rotate", "--force", code=3)  # already under way: never a second pending key
    pending = json.loads(step("status", "--json").stdout)["pending"]
    kid2 = app.console.add_key(app.client_id, pending["public_key_pem"])
    refused = step("register", "--public-key-id", kid1, code=2)  # the active key's ID
    assert "belongs to the active key" in refused.stderr
    step("register", "--public-key-id", kid2)
    promoted = step("rotate").stdout
    assert f"remove the old public key {kid1}" in promoted.lower() or kid1 in promoted
    assert open_store(store_uri).read_current().public_key_id == kid2
    sdk_works(store_uri, base)


def test_retirement_through_the_cli(store_uri: str, make_app) -> None:
    """A promoted key (set up in-process): retire waits for the person, then finishes."""
    app = make_app()
    rig = new_rig(store_uri, lambda: app)
    kid1, base = app.kid, app.base_url
    rig.engine.advance(force=True)  # stages a new key
    kid2 = rig.person_registers_pending()
    rig.engine.register(kid2)
    rig.engine.advance()  # verifies and promotes
    assert open_store(store_uri).read_current().public_key_id == kid2
    step = _stepper(app, store_uri)
    step("rotate", code=3)  # waiting for the person to remove the old key
    step("retire", code=3)  # Box still accepts it
    assert "grace period" in step("retire", "--force", code=2).stderr
    app.console.delete_key(app.client_id, kid1)
    step("rotate")
    final = json.loads(step("status", "--json").stdout)
    assert (
        final["state"] == "active"
        and final["active"]["key_id"] == kid2
        and final["previous"] is None
    )
    step("status", "--check")
    sdk_works(store_uri, base)


def _stored_secrets(uri: str) -> list[str]:
    """Every secret the store holds (none only while it does not exist yet; any other
    failure to read it fails the test rather than scanning for nothing)."""
    from box_secrets.errors import StoreNotFoundError

    try:
        snap = open_store(uri).load()
    except StoreNotFoundError:
        return []
    out = [snap.client_secret]
    for material in snap.materials.values():
        out += [material.passphrase, *pem_chunks(material.pem)]
    return out


# The messages are the CLI's, whatever the store; Secrets Manager's own refusals are
# tested in test_stores_errors.py and test_hardening_aws.py (a boto3 import per process
# made this the slowest CLI test).
@pytest.mark.parametrize("store_uri", ["file", "vault"], indirect=True)
def test_cli_errors_and_exit_codes(store_uri: str, make_app) -> None:
    app = make_app()
    status = cli(app.base_url, "status", "--store", store_uri)
    assert "not initialised" in assert_clean_error(status, 2)
    missing_env = cli(
        app.base_url,
        "init",
        "--store",
        store_uri,
        "--client-id",
        app.client_id,
        "--client-secret-env",
        "NOPE_NOT_SET",
        "--enterprise-id",
        app.enterprise_id,
    )
    assert "NOPE_NOT_SET" in assert_clean_error(missing_env, 2)
    cfg = Path(os.environ.get("TMPDIR", "/tmp")) / f"cfg-{app.client_id}.json"
    app.write_config(cfg)
    assert cli(app.base_url, "init", "--store", store_uri, "--config", str(cfg)).returncode == 0
    assert cli(app.base_url, "rotate", "--store", store_uri).returncode == 0  # nothing due
    register = cli(app.base_url, "register", "--store", store_uri, "--public-key-id", "abcd1234")
    assert "no key is waiting" in assert_clean_error(register, 2)
    app.console.fault(503, 10)
    down = cli(app.base_url, "rotate", "--force", "--store", store_uri)
    assert down.returncode == 3  # staging needs no Box call; the person is asked
    outage = cli(
        app.base_url, "register", "--store", store_uri, "--public-key-id", "abcd1234", "--verify"
    )
    assert "503" in assert_clean_error(outage, 1)
    app.console.clear_faults()
    cfg.unlink()


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(
            {"path": self.path, "type": self.headers["Content-Type"], "body": json.loads(body)}
        )
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_webhook_notifier(tmp_path: Path, make_app) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        app = make_app()
        uri = f"file:{tmp_path / 'box.json'}"
        cfg = app.write_config(tmp_path / "cfg.json")
        hook = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/secretpath"
        assert cli(app.base_url, "init", "--store", uri, "--config", str(cfg)).returncode == 0
        proc = cli(app.base_url, "rotate", "--force", "--store", uri, "--notify", hook)
        assert proc.returncode == 3
        assert "secretpath" not in proc.stdout + proc.stderr
        message = _Hook.received[-1]
        assert message["type"] == "application/json"
        assert "Add a Public Key" in message["body"]["text"]  # Slack reads "text"
        data = message["body"]["box_secrets"]
        assert data["kind"] == "register" and "BEGIN PUBLIC KEY" in data["public_key_pem"]
        assert app.client_secret not in json.dumps(message)
        server.shutdown()
        server.server_close()
        assert cli(app.base_url, "rotate", "abandon", "--store", uri).returncode == 0
        failed = cli(app.base_url, "rotate", "--force", "--store", uri, "--notify", hook)
        # the webhook is gone: delivery fails loudly (without the URL's secret path) ...
        err = assert_clean_error(failed, 1)
        assert "webhook" in err and "secretpath" not in err
        # ... and the next run sends it again (at least once), here to stdout
        retry = cli(app.base_url, "rotate", "--store", uri)
        assert retry.returncode == 3 and "BEGIN PUBLIC KEY" in retry.stdout
    finally:
        server.server_close()


def test_sns_notifier_delivers_through_a_real_topic(moto, tmp_path: Path, make_app) -> None:
    sns = boto3.client("sns", endpoint_url=moto.url, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=moto.url, region_name="us-east-1")
    topic = sns.create_topic(Name="box-rotation")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    app = make_app()
    uri = f"file:{tmp_path / 'box.json'}"
    cfg = app.write_config(tmp_path / "cfg.json")
    assert cli(app.base_url, "init", "--store", uri, "--config", str(cfg)).returncode == 0
    notify = f"sns://{topic}?region=us-east-1&endpoint_url={moto.url}"
    assert (
        cli(app.base_url, "rotate", "--force", "--store", uri, "--notify", notify).returncode == 3
    )
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    envelope = json.loads(messages[0]["Body"])
    assert "BEGIN PUBLIC KEY" in envelope["Message"] and "register" in envelope["Subject"].lower()
    assert app.client_secret not in envelope["Message"]


@pytest.mark.parametrize("notify", ["ftp://x", "sns://not-an-arn"])
def test_bad_notifier_is_input_error(notify: str, tmp_path: Path) -> None:
    proc = cli(
        "http://127.0.0.1:9", "rotate", "--store", f"file:{tmp_path}/x.json", "--notify", notify
    )
    assert_clean_error(proc, 2)


def test_store_import_checks_the_config_with_box_first(make_app, tmp_path) -> None:
    """A config whose key was removed at Box is refused before anything is written."""
    app = make_app()
    cfg = app.write_config(tmp_path / "c.json")
    uri = f"file://{tmp_path / 's.json'}"
    env = {"BOX_API_BASE_URL": app.base_url}
    app.console.delete_key(app.client_id, app.kid)
    proc = run_cli("store", "import", "--config", str(cfg), "--store", uri, env=env)
    assert "nothing was imported" in assert_clean_error(proc, 1)
    assert not (tmp_path / "s.json").exists()
    offline = run_cli(
        "store", "import", "--no-verify", "--config", str(cfg), "--store", uri, env=env
    )
    assert offline.returncode == 0, offline.stderr
